"""Contact lists, their imports (one per file loaded), rejected rows and records (a list's
rows, cells as text columns), and records' links to the company's contacts."""

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

# Limits of a contact list (the anchor product's): each is refused with a message.
MAX_ROWS = 1_000_000
MAX_COLUMNS = 50
MAX_HEADER_CHARS = 128
MAX_CELL_CHARS = 512
MAX_PHONE_COLUMNS = 10


class ContactList(models.Model):
    company = models.ForeignKey(
        "agents.Company", on_delete=models.PROTECT, related_name="contact_lists"
    )
    name = models.CharField(max_length=120)
    # Filled by the first import: the header's names, in file order, and which are phones.
    columns = models.JSONField(default=list, blank=True, editable=False)
    phone_columns = models.JSONField(default=list, blank=True, editable=False)
    rows = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "name"], name="contact_list_name_per_company"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_loaded(self) -> bool:
        return bool(self.columns)


ENCODING_LABELS = {"utf-8-sig": "UTF-8", "cp1252": "Windows-1252"}


class ListImport(models.Model):
    """One file loaded into a list: the first upload, or rows appended later."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Upload"
        APPEND = "append", "Append"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Loading"
        LOADED = "loaded", "Loaded"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"

    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE, related_name="imports")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.INITIAL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    file_path = models.CharField(max_length=500, editable=False)
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.BigIntegerField(default=0)
    # Progress: bytes of the file read so far (written from outside the load's transaction).
    bytes_read = models.BigIntegerField(default=0)
    rows_loaded = models.PositiveIntegerField(default=0)
    # Every record of the import has an id in this range (set when it loads): a load takes
    # its ids from the sequence in order, so the records of a list or an import are found
    # through the primary key's index, which a load keeps anyway. The range may hold other
    # lists' records (a concurrent load's): always filter on the import too.
    first_record_id = models.BigIntegerField(null=True, blank=True, editable=False)
    last_record_id = models.BigIntegerField(null=True, blank=True, editable=False)
    rows_rejected = models.PositiveIntegerField(default=0)
    rejected_by_reason = models.JSONField(default=dict, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=10, blank=True)
    message = models.TextField(blank=True, help_text="Why the file was refused, if it was.")
    # Said in the report of a loaded file (e.g. it was read as Windows-1252, not UTF-8).
    warning = models.TextField(blank=True)
    # The last sign of life of the run loading it (at most every few seconds, from its
    # progress reporting), or when it was last queued: a running import whose heartbeat
    # stopped is found by ``recovery.list_imports_sweep``.
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Runs started (a worker that died mid-load makes the sweep queue it again, up to
    # LIST_IMPORT_MAX_ATTEMPTS); False: loaded by the command, not by a worker.
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    in_worker = models.BooleanField(default=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.file_name or 'a file'}"

    def get_absolute_url(self) -> str:
        return reverse("admin:campaigns_contactlist_import", args=[self.contact_list_id, self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.LOADED, self.Status.REFUSED, self.Status.FAILED)

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return min(99, int(100 * self.bytes_read / self.file_size)) if self.file_size else 0


class RejectedRow(models.Model):
    list_import = models.ForeignKey(ListImport, on_delete=models.CASCADE, related_name="rejected")
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["line", "pk"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def record_ranges(contact_list_id: int, list_import_id: int | None = None) -> list[tuple]:
    """(import, first id, last id) of a list's loaded imports, or of one of them."""
    imports = ListImport.objects.filter(
        contact_list_id=contact_list_id, first_record_id__isnull=False
    )
    if list_import_id is not None:
        imports = imports.filter(pk=list_import_id)
    return list(imports.order_by("pk").values_list("pk", "first_record_id", "last_record_id"))


class RecordQuerySet(models.QuerySet):
    def of_list(self, contact_list_id: int, *, list_import_id: int | None = None):
        """The records of a list, or of one of its imports: by the imports' id ranges."""
        ranges = Q()
        for pk, first, last in record_ranges(contact_list_id, list_import_id):
            ranges |= Q(list_import_id=pk, pk__range=(first, last))
        return self.filter(ranges) if ranges else self.none()


def records_of_list_sql(
    contact_list_id: int, list_import_id: int | None = None, alias: str = "r"
) -> tuple[str, list]:
    """A WHERE condition (and its parameters) for the records of a list or of one of its
    imports, with the ranges written out: the planner then knows from the ids' statistics
    how many records it takes (through a join it would guess a few and loop over them)."""
    ranges = record_ranges(contact_list_id, list_import_id)
    if not ranges:
        return "1 = 0", []
    params = [value for pk, first, last in ranges for value in (first, last, pk)]
    return "(" + " OR ".join([import_records_sql(alias)] * len(ranges)) + ")", params


def import_records_sql(alias: str = "r") -> str:
    """A WHERE condition for one import's records; its parameters: the first and last id of
    the import's range, then the import's id (a concurrent load's ids may lie in the range)."""
    return f"({alias}.id BETWEEN %s AND %s AND {alias}.list_import_id = %s)"


class Record(models.Model):
    """One row of a list: its cells (phones in E.164), and its first phone, by which it is
    linked to the company's contact (``RecordContact``).

    The cells are text columns ``c0`` … ``c49`` (the list's columns in order; those past the
    list's width are NULL), so that a load is a plain ``COPY`` of the file's own lines and a
    campaign sorts on a column, not inside a document: stored as one ``jsonb`` array they
    made a load several times slower than a raw COPY of the same file (the figures of these
    choices: docs/performance.md)."""

    # No database constraint and no index on the list or the import: a per-row
    # foreign-key check costs about as much as storing the row (at commit), and an index by
    # list a good part of that again. A list's records are found by its imports' id ranges
    # instead (``ListImport.first_record_id``; ``Record.objects.of_list``,
    # ``records_of_list_sql``).
    # Only the import writes records, holding its list's lock, and a list is deleted under
    # that lock with its records (``contact_lists.contact_list_delete``; on_delete is DO_NOTHING
    # so that Django's collector does not look for them without an index). The contact
    # with the record's phone is linked in a table of its own (``RecordContact``).
    contact_list = models.ForeignKey(
        ContactList,
        on_delete=models.DO_NOTHING,
        related_name="records",
        db_index=False,
        db_constraint=False,
    )
    list_import = models.ForeignKey(
        ListImport,
        on_delete=models.DO_NOTHING,
        related_name="records",
        db_index=False,
        db_constraint=False,
    )
    line = models.PositiveIntegerField()
    phone = models.CharField(max_length=20, blank=True)
    # c0 … c49 are added below the class (one per column a list can have).

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["list_import", "line"]

    def __str__(self) -> str:
        return f"{self.contact_list} line {self.line}"

    @property
    def contact(self):
        """The company's contact with the record's phone, as linked (None: no link, or a
        link to a contact deleted since, or one of another company: never shown)."""
        try:
            contact = self.contact_link.contact
        except ObjectDoesNotExist:
            return None
        if contact is None or contact.company_id != self.contact_list.company_id:
            return None
        return contact

    @property
    def cells(self) -> list[str]:
        """The row's cells in the list's column order."""
        found = []
        for name in CELL_FIELDS:
            value = getattr(self, name)
            if value is None:
                break
            found.append(value)
        return found


def cell_field(index: int) -> str:
    """The record's field (and column) holding the list's column number ``index``."""
    if not 0 <= index < MAX_COLUMNS:
        raise ValueError(f"A list has at most {MAX_COLUMNS} columns.")
    return f"c{index}"


CELL_FIELDS = [cell_field(i) for i in range(MAX_COLUMNS)]
for _name in CELL_FIELDS:
    Record.add_to_class(_name, models.TextField(null=True, blank=True, editable=False))


class RecordContact(models.Model):
    """A record's link to the company's contact with its (first) phone, made in one statement
    after the load and by an agent's first handling of a record without one.

    A narrow row of its own: linking a list of known customers writes one small row a
    record, where a column of the record rewrote every linked record (a new version of a
    row of 20 cells, and its index entries): inserts take about half the time of that
    UPDATE (docs/performance.md). No database constraint (a per-row check at commit, as for
    the record's list) and no index on the contact (a large part of the inserts' cost): a
    link to a contact that was deleted
    is read as no link, and replaced by the next handling (contact ids are never reused)."""

    record = models.OneToOneField(
        Record,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="contact_link",
        db_constraint=False,
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    def __str__(self) -> str:
        return f"{self.record_id} → {self.contact_id}"
