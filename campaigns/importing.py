"""Loading a CSV file into a contact list: streamed, validated row by row, all or nothing.

On PostgreSQL the rows go in with ``COPY`` (psycopg 3) inside one transaction, as text
blocks written ahead by a queue thread (``csvfile.copy_blocks``: PostgreSQL stores a block
while Python checks the next); on SQLite (the embedded default) with batched ``INSERT``s in
one transaction: the same rows, the same rejections. A refused file (``csvfile.Refused``) or
any failure rolls the whole load back.

Progress is written from outside that transaction (it is invisible until commit): on
PostgreSQL through a second connection, on SQLite (one writer at a time) into a small file
under ``var/imports/``. ``selectors.import_progress`` reads either.
"""

import logging
import os
import queue
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone
from psycopg.copy import LibpqWriter

from agents.models import Agent

from . import csvfile
from .distribution import deliver_appended
from .locks import lock_campaigns_of_list, lock_contact_list
from .models import CELL_FIELDS, Campaign, ContactList, ListImport, import_records_sql

logger = logging.getLogger(__name__)

UPLOAD_DIR = Path(settings.VAR_DIR) / "uploads" / "contact_lists"
PROGRESS_DIR = Path(settings.VAR_DIR) / "imports"
SQLITE_BATCH = 2000
PROGRESS_EVERY_SECONDS = 0.5


def store_upload(chunks, *, name: str) -> tuple[Path, int]:
    """Write an uploaded file to disk in chunks; refuse it past the size limit."""
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    limit = settings.CONTACT_LIST_MAX_UPLOAD_BYTES
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
        dir=UPLOAD_DIR, prefix="list-", suffix=".csv", delete=False
    )
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise csvfile.Refused(too_big_message(size, limit))
            handle.write(chunk)
    except BaseException:
        handle.close()
        os.unlink(handle.name)
        raise
    handle.close()
    return Path(handle.name), size


def too_big_message(size: int, limit: int) -> str:
    return (
        f"The file is larger than the limit of {limit / 1_048_576:.0f} MB "
        f"({'over ' if size > limit else ''}{size / 1_048_576:.1f} MB): split it and append "
        "the rest."
    )


def list_import_create(
    *,
    contact_list: ContactList,
    path: Path,
    file_name: str,
    kind: str = ListImport.Kind.INITIAL,
    actor: Agent | None = None,
) -> ListImport:
    return ListImport.objects.create(
        contact_list=contact_list,
        kind=kind,
        file_path=str(path),
        file_name=file_name[:255],
        file_size=path.stat().st_size,
        created_by=actor,
    )


class _Progress:
    """Writes ``bytes_read`` where another session can see it while the load runs."""

    def __init__(self, list_import: ListImport, on_progress: Callable[[int], None] | None):
        self.pk = list_import.pk
        self.on_progress = on_progress
        self.last = 0.0
        self.side = None
        if connection.vendor == "postgresql":
            self.side = connections.create_connection("default")

    def __call__(self, bytes_read: int, *, force: bool = False) -> None:
        if self.on_progress is not None:
            self.on_progress(bytes_read)
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        if self.side is not None:
            with self.side.cursor() as cursor:
                cursor.execute(
                    "UPDATE campaigns_listimport SET bytes_read = %s WHERE id = %s",
                    [bytes_read, self.pk],
                )
        else:
            write_progress_file(self.pk, bytes_read)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
        progress_file(self.pk).unlink(missing_ok=True)


def progress_file(pk: int) -> Path:
    return PROGRESS_DIR / f"import-{pk}.progress"


def write_progress_file(pk: int, bytes_read: int) -> None:
    PROGRESS_DIR.mkdir(parents=True, exist_ok=True)
    target = progress_file(pk)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(str(bytes_read))
    os.replace(temporary, target)


def list_import_run(
    *, list_import_id: int, on_progress: Callable[[int], None] | None = None
) -> ListImport:
    """Load the file of a queued import (idempotent: a finished import is left alone).

    Ends LOADED (with its rejected rows), REFUSED (with the reason) or FAILED; only LOADED
    leaves rows behind."""
    list_import = ListImport.objects.select_related("contact_list__company").get(pk=list_import_id)
    # Only an import not finished yet starts (a task delivered twice, or run again after a
    # worker died, finds it finished and leaves it alone) ...
    started = ListImport.objects.filter(
        pk=list_import.pk, status__in=[ListImport.Status.QUEUED, ListImport.Status.RUNNING]
    ).update(status=ListImport.Status.RUNNING, started_at=timezone.now())
    if not started:
        list_import.refresh_from_db()
        return list_import
    progress = _Progress(list_import, on_progress)
    try:
        with transaction.atomic():
            outcome = _load(list_import, progress)
    except _FinishedMeanwhile:
        list_import.refresh_from_db()
        return list_import
    except csvfile.Refused as refusal:
        outcome = {"status": ListImport.Status.REFUSED, "message": refusal.message}
    except Exception:
        logger.exception("List import %s failed", list_import.pk)
        outcome = {
            "status": ListImport.Status.FAILED,
            "message": "The import failed and nothing was loaded; the error is in the log.",
        }
    finally:
        progress.close()
    if outcome["status"] != ListImport.Status.LOADED:
        ListImport.objects.filter(pk=list_import.pk).update(
            status=outcome["status"],
            message=outcome["message"],
            rows_loaded=0,
            rows_rejected=0,
            rejected_by_reason={},
            finished_at=timezone.now(),
        )
    list_import.refresh_from_db()
    return list_import


class _FinishedMeanwhile(Exception):
    """Another run of the same import finished it while this one waited for the list."""


def _load(list_import: ListImport, progress: _Progress) -> dict:
    contact_list = lock_contact_list(list_import.contact_list_id)
    # ... and a second run that started while the first loaded finds it finished once it
    # has the list's lock (else both load the file, and the first run's records are lost
    # to its import's id range).
    status = ListImport.objects.values_list("status", flat=True).get(pk=list_import.pk)
    if status != ListImport.Status.RUNNING:
        raise _FinishedMeanwhile
    company = list_import.contact_list.company
    path = Path(list_import.file_path)
    if not path.exists():
        raise csvfile.Refused("The uploaded file is gone; upload it again.")
    size = path.stat().st_size
    if size > settings.CONTACT_LIST_MAX_UPLOAD_BYTES:
        raise csvfile.Refused(too_big_message(size, settings.CONTACT_LIST_MAX_UPLOAD_BYTES))
    # Read as UTF-8 until a byte says otherwise, then from the start as Windows-1252 (the
    # savepoint takes back what was loaded): one pass over a UTF-8 file, not a check first.
    for encoding in csvfile.ENCODINGS:
        try:
            with transaction.atomic():
                layout, rows = csvfile.read(
                    path, region=company.default_region, encoding=encoding, progress=progress
                )
                try:
                    return _load_rows(list_import, contact_list, layout, rows, progress, size)
                finally:
                    rows.close()
        except UnicodeDecodeError:
            logger.info("List import %s is not %s: reading it again", list_import.pk, encoding)
            continue
    raise csvfile.Refused(csvfile.NOT_TEXT)


def _load_rows(list_import, contact_list, layout, rows, progress, size) -> dict:
    company = list_import.contact_list.company
    appending = list_import.kind == ListImport.Kind.APPEND
    order = None
    if appending:
        if not contact_list.columns:
            raise csvfile.Refused("The list has no rows yet: upload it before appending.")
        order = _append_order(contact_list.columns, layout.columns)
    elif contact_list.columns:
        raise csvfile.Refused("The list is loaded already: append rows to it instead.")
    reasons: Counter[str] = Counter()
    rejected = tempfile.SpooledTemporaryFile(max_size=8 * 1_048_576, mode="w+b")  # noqa: SIM115
    with rejected:
        before = _record_ids_mark()
        if connection.vendor == "postgresql":
            loaded = _copy_rows(list_import, layout, rows, order, rejected, reasons)
        else:
            loaded = _insert_rows(list_import, layout, rows, order, rejected, reasons)
        first, last = _record_ids(before)
        if contact_list.rows + loaded > csvfile.MAX_ROWS:
            raise csvfile.Refused(
                f"With these rows the list would have {contact_list.rows + loaded:,} rows; a "
                f"list has at most {csvfile.MAX_ROWS:,}."
            )
        _store_rejected(list_import, rejected)
    if connection.vendor == "postgresql":
        # Fresh statistics for the rows just loaded, or the planner takes a list of a million
        # records for a few and joins them row by row (linking below, distribution at start).
        # Not of the cells: no query filters on them, and sampling them is half the cost.
        with connection.cursor() as cursor:
            # A sample of 3,000 rows (not 30,000) tells the planner what it asks: how many
            # records there are and how their phones and lists spread (0.02 s, not 0.18 s).
            cursor.execute("SET LOCAL default_statistics_target = 10")
            cursor.execute(
                "ANALYZE campaigns_record (id, contact_list_id, list_import_id, line, phone)"
            )
            cursor.execute("RESET default_statistics_target")
    _link_contacts(list_import, company.pk, first, last)
    progress(size, force=True)
    if not appending:
        contact_list.columns = layout.columns
        contact_list.phone_columns = layout.phone_indexes
    contact_list.rows += loaded
    contact_list.save(update_fields=["columns", "phone_columns", "rows"])
    ListImport.objects.filter(pk=list_import.pk).update(
        status=ListImport.Status.LOADED,
        message="",
        encoding=layout.encoding,
        delimiter=csvfile.DELIMITERS[layout.delimiter],
        rows_loaded=loaded,
        first_record_id=first,
        last_record_id=last,
        rows_rejected=sum(reasons.values()),
        rejected_by_reason=dict(reasons.most_common(50)),
        bytes_read=size,
        finished_at=timezone.now(),
    )
    list_import.first_record_id, list_import.last_record_id = first, last
    if appending:
        for campaign in lock_campaigns_of_list(
            contact_list.pk, [Campaign.Status.RUNNING, Campaign.Status.PAUSED]
        ):
            deliver_appended(campaign=campaign, list_import=list_import)
    return {"status": ListImport.Status.LOADED}


def _append_order(columns: list[str], found: list[str]) -> list[int] | None:
    """Where each of the list's columns is in the appended file (None: same order)."""
    lowered = [c.lower() for c in found]
    if lowered == [c.lower() for c in columns]:
        return None
    missing = [c for c in columns if c.lower() not in lowered]
    extra = [c for c in found if c.lower() not in [x.lower() for x in columns]]
    if missing or extra:
        raise csvfile.Refused(
            "The appended file must have the list's columns"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; not in the list: {', '.join(extra)}" if extra else "")
            + "."
        )
    return [lowered.index(c.lower()) for c in columns]


def _reject(row: csvfile.Row, rejected, reasons: Counter) -> None:
    reasons[_reason_group(row.reason)] += 1
    # Unit and record separators delimit the spooled rows: a cell cannot bring its own.
    raw = row.raw.translate(_SEPARATORS)
    rejected.write(f"{row.line}\x1f{row.reason.translate(_SEPARATORS)}\x1f{raw}\x1e".encode())


# ... and PostgreSQL text cannot hold NUL.
_SEPARATORS = {0x1E: " ", 0x1F: " ", 0x00: None}


def _reason_group(reason: str) -> str:
    """The reason without its particulars, for the report's per-reason counts."""
    if reason.startswith("“") and "”: " in reason:
        column, detail = reason[1:].split("”: ", 1)
        return f"Invalid phone in “{column}”" if "phone" in detail else reason
    if reason.endswith("characters (at most 512)"):
        return "A cell longer than 512 characters"
    if reason.endswith("cells; the header has " + reason.rsplit(" ", 1)[-1]):
        return "Wrong number of cells"
    return reason


class _AheadWriter(LibpqWriter):
    """Sends COPY data from a thread while the caller prepares the next block, at most
    ``blocks`` blocks ahead (psycopg's ``QueuedLibpqWriter`` queues up to 1,024: a whole
    file in memory when PostgreSQL is the slower side)."""

    def __init__(self, cursor, *, blocks: int = 3):
        super().__init__(cursor)
        self.queue: queue.Queue[str | bytes | None] = queue.Queue(maxsize=blocks)
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def _send(self) -> None:
        try:
            while (data := self.queue.get()) is not None:
                LibpqWriter.write(self, data)
        except BaseException as error:  # noqa: BLE001 - raised again in the caller's thread
            self.error = error
            while self.queue.get() is not None:  # unblock the caller until finish()
                pass

    def write(self, data) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._send, name="copy-writer", daemon=True)
            self.thread.start()
        if self.error is not None:
            raise self.error
        self.queue.put(data)

    def finish(self, exc: BaseException | None = None) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
        if self.error is not None:
            raise self.error
        super().finish(exc)


def _cell_columns(layout: csvfile.Layout) -> str:
    """The record columns of the file's cells (in the list's order)."""
    return ", ".join(CELL_FIELDS[: len(layout.columns)])


def _copy_rows(list_import, layout, rows, order, rejected, reasons) -> int:
    """The valid rows as COPY text written in blocks (a thread sends each block while the
    next is read: PostgreSQL stores one while Python checks the next)."""
    cells = _cell_columns(layout)
    loaded = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            f"COPY campaigns_record (contact_list_id, list_import_id, line, phone, {cells}) "  # noqa: S608 - our column names
            f"FROM STDIN WITH ({csvfile.copy_format(layout.delimiter)})",
            writer=_AheadWriter(raw),
        ) as copy:
            for text, count, bad in csvfile.copy_blocks(
                rows, list_id=list_import.contact_list_id, import_id=list_import.pk, order=order
            ):
                if text:
                    copy.write(text)
                loaded += count
                for row in bad:
                    _reject(row, rejected, reasons)
    return loaded


def _insert_rows(list_import, layout, rows, order, rejected, reasons) -> int:
    """SQLite: the same rows through batched INSERTs."""
    list_id, import_id = list_import.contact_list_id, list_import.pk
    width = len(layout.columns)
    sql = (
        f"INSERT INTO campaigns_record (contact_list_id, list_import_id, line, phone, "  # noqa: S608
        f"{_cell_columns(layout)}) VALUES ({', '.join(['%s'] * (4 + width))})"
    )
    batch: list[tuple] = []
    loaded = 0
    with connection.cursor() as cursor:
        for row in rows:
            if row.cells is None:
                _reject(row, rejected, reasons)
                continue
            cells = row.cells if order is None else [row.cells[i] for i in order]
            batch.append((list_id, import_id, row.line, row.phone, *cells))
            loaded += 1
            if len(batch) >= SQLITE_BATCH:
                cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
    return loaded


def _rejected_rows(rejected):
    rejected.seek(0)
    buffer = b""
    while chunk := rejected.read(1_048_576):
        buffer += chunk
        *records, buffer = buffer.split(b"\x1e")
        for record in records:
            line, reason, raw = record.decode().split("\x1f", 2)
            yield int(line), reason[:300], raw


def _store_rejected(list_import: ListImport, rejected) -> None:
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.copy(
                "COPY campaigns_rejectedrow (list_import_id, line, reason, raw) FROM STDIN"
            ) as copy,
        ):
            for line, reason, raw in _rejected_rows(rejected):
                copy.write_row((list_import.pk, line, reason, raw))
        return
    sql = (
        "INSERT INTO campaigns_rejectedrow (list_import_id, line, reason, raw) "
        "VALUES (%s, %s, %s, %s)"
    )
    with connection.cursor() as cursor:
        batch = []
        for line, reason, raw in _rejected_rows(rejected):
            batch.append((list_import.pk, line, reason, raw))
            if len(batch) >= SQLITE_BATCH:
                cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)


def _record_ids_mark() -> int:
    """Before a load: on PostgreSQL a number from the records' sequence (the load's ids
    follow it: one session takes its ids in order), on SQLite the highest id so far (the
    load holds the only write lock)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence('campaigns_record', 'id'))")
        else:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM campaigns_record")
        return cursor.fetchone()[0]


def _record_ids(before: int) -> tuple[int | None, int | None]:
    """After a load: the range of ids its records have (``ListImport.first_record_id``).
    None for none loaded."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Every id the load took lies between the two numbers (a concurrent load's too).
            cursor.execute("SELECT nextval(pg_get_serial_sequence('campaigns_record', 'id'))")
            first, last = before + 1, cursor.fetchone()[0] - 1
        else:
            cursor.execute("SELECT MIN(id), MAX(id) FROM campaigns_record WHERE id > %s", [before])
            first, last = cursor.fetchone()
    return (first, last) if first is not None and first <= last else (None, None)


def _link_contacts(list_import: ListImport, company_id: int, first, last) -> None:
    """Each new record to the company's contact with its (first) phone, set-based.

    On PostgreSQL the join runs first on its own: an INSERT … SELECT is planned without
    parallel workers, a CREATE TABLE … AS SELECT with them (the scan of the new records is
    most of the time), then the links are inserted from that small table."""
    if first is None:
        return
    matches = f"""
        SELECT r.id AS record_id, c.id AS contact_id
        FROM campaigns_record AS r
        JOIN contacts_contact AS c ON c.company_id = %s AND c.phone = r.phone
        WHERE {import_records_sql()} AND r.phone <> ''
    """  # noqa: S608 - our own condition
    params = [company_id, first, last, list_import.pk]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(
                f"INSERT INTO campaigns_recordcontact (record_id, contact_id) {matches}",  # noqa: S608
                params,
            )
            return
        cursor.execute(f"CREATE TEMPORARY TABLE import_links ON COMMIT DROP AS {matches}", params)  # noqa: S608
        cursor.execute(
            "INSERT INTO campaigns_recordcontact (record_id, contact_id) "
            "SELECT record_id, contact_id FROM import_links"
        )
        cursor.execute("DROP TABLE import_links")


def remove_upload(list_import: ListImport) -> None:
    """Drop the stored file once the import is finished (the rows are in the database)."""
    path = Path(list_import.file_path)
    if path.is_relative_to(UPLOAD_DIR) and path.exists():
        path.unlink()
