"""Preview campaigns with agent-owned records: what each agent value resolves to
(``AgentKey``), the per-agent queues (one ``Entry`` per record and campaign) and the owner
changes waiting for the next recycle."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .lists import ContactList, Record

# Limits of a campaign (the anchor product's): each is refused with a message.
MAX_AGENTS = 200
MAX_SORT_COLUMNS = 4


class Campaign(models.Model):
    class DialingMode(models.TextChoices):
        PREVIEW = "preview", "Preview"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETE = "complete", "Complete"

    company = models.ForeignKey("agents.Company", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    dialing_mode = models.CharField(
        max_length=10, choices=DialingMode.choices, default=DialingMode.PREVIEW
    )
    agent_owned = models.BooleanField(default=True)
    queue = models.ForeignKey(
        "agents.ContactCenter",
        on_delete=models.PROTECT,
        related_name="campaigns",
        help_text="A contact center with preferred agent routing on.",
    )
    contact_list = models.ForeignKey(
        ContactList, on_delete=models.PROTECT, related_name="campaigns"
    )
    agent_column = models.CharField(
        "agent-owned column",
        max_length=128,
        help_text="The list's column holding each record's agent (email or user ID).",
    )
    # [[column, "asc" | "desc"], ...]: at most four, never the agent column.
    sort = models.JSONField("contact sorting", default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    cover_works_absent_owner = models.BooleanField(
        "let a cover work an absent owner's records",
        default=False,
        db_default=False,
        help_text="Off: an out-of-office agent's records wait for them. On: their cover "
        "previews them meanwhile (callbacks due during the absence are listed for the cover "
        "either way).",
    )
    recycle_count = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    recycled_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="campaign_name_per_company")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:dashboard", args=[self.pk])

    @property
    def agent_column_index(self) -> int:
        return self.contact_list.columns.index(self.agent_column)


class AgentKey(models.Model):
    """What one distinct value of the agent column resolves to, for one campaign: an agent,
    or the reason its records are not delivered."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        USER_ID = "user_id", "User ID"
        OTHER = "other", "Neither"

    class Error(models.TextChoices):
        NONE = "", "—"
        EMPTY = "empty", "No agent in the agent column"
        INVALID_EMAIL = "invalid_email", "Invalid email address"
        UNKNOWN_EMAIL = "unknown_email", "No agent of the company has this email"
        UNKNOWN_ID = "unknown_id", "No agent of the company has this user ID"
        NOT_IN_QUEUE = "not_in_queue", "The agent is not a member of the campaign's queue"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="keys")
    value = models.CharField(max_length=512)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    error = models.CharField(max_length=16, choices=Error.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "value"], name="one_key_per_value")
        ]

    def __str__(self) -> str:
        return self.value


# The error codes a deactivated owner's records carry (what their value resolves to now).
OWNER_LEFT_ERRORS = (AgentKey.Error.UNKNOWN_EMAIL, AgentKey.Error.UNKNOWN_ID)
OWNER_LEFT_REASON = "Owner deactivated"


class Entry(models.Model):
    """A record in a campaign: in its agent's queue at ``position``, or not delivered."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RESERVED = "reserved", "Being previewed"
        CALLED = "called", "Called, waiting for a disposition"
        HANDLED = "handled", "Handled"
        SKIPPED = "skipped", "Skipped"
        ERROR = "error", "Not delivered"
        FIXED = "fixed", "Fixed by an append"

    # Entries are a projection of the list's records, rebuilt by one INSERT … SELECT that
    # joins existing records, keys and agents: per-row foreign-key triggers cost about as
    # much again as the insert itself, so no foreign key of an entry is a database
    # constraint. Campaign, record and agent are checked by that join; disposition (checked
    # by entry_disposition) and fixed_by (set from existing entries) queued one trigger event
    # each per inserted row even when empty. Django's on_delete (CASCADE / PROTECT /
    # SET_NULL) runs in the ORM. The campaign's index is the first column of
    # entry_agent_queue. There is no index on the record: only deleting a list's records
    # looks entries up by record (a campaign protects its list, so they are gone by then),
    # and keeping one would slow every start. The figures: docs/performance.md.
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="entries",
        db_index=False,
        db_constraint=False,
    )
    record = models.ForeignKey(
        Record,
        on_delete=models.CASCADE,
        related_name="entries",
        db_index=False,
        db_constraint=False,
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaign_entries",
        db_index=False,
        db_constraint=False,
    )
    agent_value = models.CharField(max_length=512, blank=True)
    position = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    error = models.CharField(max_length=16, choices=AgentKey.Error.choices, blank=True)
    reserved_until = models.DateTimeField(null=True, blank=True)
    callback_at = models.DateTimeField(null=True, blank=True)
    called_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    # Empty on most rows while a campaign starts: partial indexes below instead.
    disposition = models.ForeignKey(
        "agents.Disposition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    fixed_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        ordering = ["campaign", "position"]
        indexes = [
            # An agent's queue in order; the dashboard counts per agent and state from it.
            models.Index(
                fields=["campaign", "agent", "state", "position"], name="entry_agent_queue"
            ),
            models.Index(
                fields=["campaign", "agent", "callback_at"],
                condition=Q(callback_at__isnull=False),
                name="entry_callbacks",
            ),
            models.Index(
                fields=["campaign", "state"],
                condition=Q(state__in=["error", "fixed"]),
                name="entry_errors",
            ),
            models.Index(
                fields=["disposition"],
                condition=Q(disposition__isnull=False),
                name="entry_disposition",
            ),
            models.Index(
                fields=["fixed_by"], condition=Q(fixed_by__isnull=False), name="entry_fixed_by"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} #{self.position}"

    @property
    def was_handled(self) -> bool:
        return self.handled_at is not None

    @property
    def owner_left(self) -> bool:
        """Not delivered because its owner was deactivated (``campaign_records_owner_left``:
        the value's error, with the agent kept; a resolution never keeps an unknown one)."""
        return (
            self.state == self.State.ERROR
            and self.agent_id is not None
            and self.error in OWNER_LEFT_ERRORS
        )

    @property
    def error_reason(self) -> str:
        """The reason the error page gives (``agent`` loaded for a deactivated owner's)."""
        if self.owner_left:
            return f"{OWNER_LEFT_REASON} ({self.agent})"
        return self.get_error_display()


class OwnerChange(models.Model):
    """A new owner asked for while the campaign runs: honoured at the next recycle."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="owner_changes")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    new_value = models.CharField(max_length=512)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["campaign", "applied_at"], name="owner_change_pending")]

    def __str__(self) -> str:
        return f"{self.record} → {self.new_value}"

    @property
    def pending(self) -> bool:
        return self.applied_at is None
