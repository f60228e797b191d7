"""Writing an import's rows: its records through ``COPY`` on PostgreSQL (text blocks from
``copy_text.copy_blocks``, sent by a thread while the next block is read) or batched
``INSERT``s on SQLite, the same rows either way; its rejected rows, spooled while the file
is read and stored after; the range of ids its records took. All inside the load's
transaction (``importing``)."""

import queue
import threading
from collections import Counter

from django.db import connection
from psycopg.copy import LibpqWriter

from . import copy_text
from .csv_reader import Layout, Row
from .models import CELL_FIELDS, Record, RejectedRow

SQLITE_BATCH = 2000

RECORDS = Record._meta.db_table
REJECTED = RejectedRow._meta.db_table


def _columns(model, names) -> str:
    return ", ".join(model._meta.get_field(name).column for name in names)


# The columns every record is written with, before its cells (``copy_blocks``' order).
RECORD_HEAD = _columns(Record, ("contact_list", "list_import", "line", "phone"))
REJECTED_COLUMNS = _columns(RejectedRow, ("list_import", "line", "reason", "raw"))


# --- Rejected rows -------------------------------------------------------------------------
def reject(row: Row, rejected, reasons: Counter) -> None:
    """Spool a rejected row (``rejected``: a binary file) and count its reason."""
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


def _rejected_rows(rejected):
    rejected.seek(0)
    buffer = b""
    while chunk := rejected.read(1_048_576):
        buffer += chunk
        *records, buffer = buffer.split(b"\x1e")
        for record in records:
            line, reason, raw = record.decode().split("\x1f", 2)
            yield int(line), reason[:300], raw


def store_rejected(list_import_id: int, rejected) -> None:
    """Store the spooled rejected rows of an import."""
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {REJECTED} ({REJECTED_COLUMNS}) FROM STDIN") as copy,
        ):
            for line, reason, raw in _rejected_rows(rejected):
                copy.write_row((list_import_id, line, reason, raw))
        return
    sql = f"INSERT INTO {REJECTED} ({REJECTED_COLUMNS}) VALUES (%s, %s, %s, %s)"  # noqa: S608 - our names
    with connection.cursor() as cursor:
        batch = []
        for line, reason, raw in _rejected_rows(rejected):
            batch.append((list_import_id, line, reason, raw))
            if len(batch) >= SQLITE_BATCH:
                cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)


# --- Records -------------------------------------------------------------------------------
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


def _record_columns(layout: Layout) -> str:
    """The record columns written: the ids, line and phone, then the file's cells (in the
    list's order)."""
    cells = _columns(Record, CELL_FIELDS[: len(layout.columns)])
    return f"{RECORD_HEAD}, {cells}"


def copy_rows(list_import, layout, rows, order, rejected, reasons) -> int:
    """PostgreSQL: the valid rows as COPY text written in blocks (a thread sends each block
    while the next is read: PostgreSQL stores one while Python checks the next); the others
    spooled into ``rejected``. Returns the rows loaded."""
    loaded = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            f"COPY {RECORDS} ({_record_columns(layout)}) "
            f"FROM STDIN WITH ({copy_text.copy_format(layout.delimiter)})",
            writer=_AheadWriter(raw),
        ) as copy:
            for text, count, bad in copy_text.copy_blocks(
                rows, list_id=list_import.contact_list_id, import_id=list_import.pk, order=order
            ):
                if text:
                    copy.write(text)
                loaded += count
                for row in bad:
                    reject(row, rejected, reasons)
    return loaded


def insert_rows(list_import, layout, rows, order, rejected, reasons) -> int:
    """SQLite: the same rows through batched INSERTs."""
    list_id, import_id = list_import.contact_list_id, list_import.pk
    width = len(layout.columns)
    sql = (
        f"INSERT INTO {RECORDS} ({_record_columns(layout)}) "  # noqa: S608 - our names
        f"VALUES ({', '.join(['%s'] * (4 + width))})"
    )
    batch: list[tuple] = []
    loaded = 0
    with connection.cursor() as cursor:
        for row in rows:
            if row.cells is None:
                reject(row, rejected, reasons)
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


def analyze_records() -> None:
    """PostgreSQL: fresh statistics for the rows just loaded, or the planner takes a list of
    a million records for a few and joins them row by row (linking, distribution at start).
    Not of the cells: no query filters on them, and sampling them is half the cost. A
    sample of 3,000 rows (not 30,000) tells the planner what it asks: how many records
    there are and how their phones and lists spread."""
    columns = _columns(Record, ("id", "contact_list", "list_import", "line", "phone"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL default_statistics_target = 10")
        cursor.execute(f"ANALYZE {RECORDS} ({columns})")
        cursor.execute("RESET default_statistics_target")


# --- The records' id range -----------------------------------------------------------------
def _next_id_sql() -> str:
    return f"SELECT nextval(pg_get_serial_sequence('{RECORDS}', '{Record._meta.pk.column}'))"


def record_ids_mark() -> int:
    """Before a load: on PostgreSQL a number from the records' sequence (the load's ids
    follow it: one session takes its ids in order), on SQLite the highest id so far (the
    load holds the only write lock)."""
    pk = Record._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_next_id_sql())
        else:
            cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {RECORDS}")  # noqa: S608 - our names
        return cursor.fetchone()[0]


def record_ids(before: int) -> tuple[int | None, int | None]:
    """After a load: the range of ids its records have (``ListImport.first_record_id``).
    None for none loaded."""
    pk = Record._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Every id the load took lies between the two numbers (a concurrent load's too).
            cursor.execute(_next_id_sql())
            first, last = before + 1, cursor.fetchone()[0] - 1
        else:
            cursor.execute(
                f"SELECT MIN({pk}), MAX({pk}) FROM {RECORDS} WHERE {pk} > %s",  # noqa: S608 - our names
                [before],
            )
            first, last = cursor.fetchone()
    return (first, last) if first is not None and first <= last else (None, None)
