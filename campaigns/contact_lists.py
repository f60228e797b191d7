"""Writes of contact lists: an import started for an upload, a list named, a list deleted
with its records. A campaign's life is in ``services.py``."""

from collections.abc import Iterable
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from agents.models import Agent, Company
from agents.unique import refuse_taken, taken_as

from .csv_reader import HEAD_BYTES, check_start
from .importing import list_import_create
from .locks import lock_contact_list
from .models import (
    ContactList,
    ListImport,
    Record,
    RecordContact,
    records_of_list_sql,
)
from .tasks import run_list_import
from .uploads import remove_stored, store_upload

NAME_TAKEN = "Another contact list already has this name."


def list_import_start(
    *,
    contact_list: ContactList,
    chunks: Iterable[bytes],
    file_name: str,
    kind: str = ListImport.Kind.INITIAL,
    actor: Agent | None = None,
    enqueue: bool = True,
) -> ListImport:
    """Store an upload (``chunks``) and create its import; the load is queued after commit
    (``enqueue=False``: the caller runs it with ``importing.list_import_run``, as the command
    does for its progress bar and the demo to go on with the list). Raises ``Refused`` for a
    file past the size limit, storing nothing, and one whose start the load would refuse
    (``csv_reader.check_start``: the header, a header and no rows), creating nothing.

    The import is created in a transaction of its own (a savepoint inside the caller's); if
    it rolls back, the stored file is removed at once: a stored file always has its import.
    Call it last in an enclosing transaction: a rollback after it returns is not seen."""
    path, size = store_upload(chunks, name=file_name)
    try:
        check_stored_start(path, size)
        with transaction.atomic():
            list_import = list_import_create(
                contact_list=contact_list,
                path=path,
                file_name=file_name,
                kind=kind,
                actor=actor,
                in_worker=enqueue,
            )
            if enqueue:
                run_list_import.delay_on_commit(list_import.pk)
    except BaseException:
        remove_stored(path)
        raise
    return list_import


def check_stored_start(path: Path, size: int) -> None:
    """``csv_reader.check_start`` on a stored upload's first megabyte."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    check_start(head, whole=len(head) >= size)


def contact_list_clean(*, company: Company, name: str) -> str:
    """The list's name, stripped; refused when empty or when another list of the company
    has it (the company is no field of the admin's form, so its own check never runs)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the list a name."]})
    refuse_taken(
        ContactList.objects.filter(company=company), field="name", value=name, message=NAME_TAKEN
    )
    return name


def contact_list_create(*, company: Company, name: str, actor: Agent | None = None) -> ContactList:
    """A new, empty list (its rows come with its first import)."""
    name = contact_list_clean(company=company, name=name)
    with taken_as(field="name", message=NAME_TAKEN):
        return ContactList.objects.create(company=company, name=name, created_by=actor)


@transaction.atomic
def contact_list_delete(*, contact_list: ContactList) -> None:
    """Delete a list with its imports and records, under the list's lock. A load holds that
    lock until it commits, so the records it writes are seen (and deleted) here: records
    have no database constraint on their list or import to refuse an orphan, and Django's
    collector leaves them alone (on_delete DO_NOTHING: it would look for them without an
    index). A list that a campaign uses is refused (``ProtectedError``), as before; no
    campaign uses it then, so no entry or owner change points at its records."""
    locked = lock_contact_list(contact_list.pk)
    where, params = records_of_list_sql(locked.pk)  # read before the imports go with the list
    locked.delete()
    table, pk = Record._meta.db_table, Record._meta.pk.column
    links = RecordContact._meta.db_table
    link = RecordContact._meta.get_field("record").column
    with connection.cursor() as cursor:
        records = f"SELECT r.{pk} FROM {table} AS r WHERE {where}"  # noqa: S608
        cursor.execute(f"DELETE FROM {links} WHERE {link} IN ({records})", params)  # noqa: S608
        cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({records})", params)  # noqa: S608
