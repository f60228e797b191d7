"""An import's progress, written from outside its load's transaction (invisible until
commit): on PostgreSQL through a second connection, on SQLite (one writer at a time) into a
small file under ``VAR_DIR/imports/``. ``selectors.import_progress`` reads either.

Each write is also the run's heartbeat (``ListImport.heartbeat_at``; on SQLite the file's
modification time): ``recovery`` tells a run whose worker died by a heartbeat that stopped.
It is written at most every half second, from the reading of the file's blocks (not per
row) and between the load's steps (``beat``)."""

import os
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from .models import ListImport

PROGRESS_EVERY_SECONDS = 0.5


class ImportProgress:
    """Writes ``bytes_read`` where another session can see it while the load runs."""

    def __init__(self, list_import: ListImport, on_progress: Callable[[int], None] | None):
        self.pk = list_import.pk
        self.on_progress = on_progress
        self.last = 0.0
        self.done = 0
        self.side = None
        if connection.vendor == "postgresql":
            self.side = connections.create_connection("default")
            meta = ListImport._meta
            self.sql = (
                f"UPDATE {meta.db_table} SET {meta.get_field('bytes_read').column} = %s, "  # noqa: S608 - our names
                f"{meta.get_field('heartbeat_at').column} = %s WHERE {meta.pk.column} = %s"
            )

    def __call__(self, bytes_read: int, *, force: bool = False) -> None:
        self.done = bytes_read
        if self.on_progress is not None:
            self.on_progress(bytes_read)
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        if self.side is not None:
            with self.side.cursor() as cursor:
                cursor.execute(self.sql, [bytes_read, timezone.now(), self.pk])
        else:
            write_progress_file(self.pk, bytes_read)

    def beat(self) -> None:
        """A heartbeat between the load's steps (no new bytes read)."""
        self(self.done, force=True)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
        progress_file(self.pk).unlink(missing_ok=True)


def progress_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def progress_file(pk: int) -> Path:
    return progress_dir() / f"import-{pk}.progress"


def write_progress_file(pk: int, bytes_read: int) -> None:
    progress_dir().mkdir(parents=True, exist_ok=True)
    target = progress_file(pk)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(str(bytes_read))
    os.replace(temporary, target)
