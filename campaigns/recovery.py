"""Imports whose run stopped (a worker or a command killed, a broker that lost the message),
found by the sweep and queued again or failed with a reason; an admin's *Retry* and
*Discard*; upload files no import refers to, removed.

A run is alive while its heartbeat (``ListImport.heartbeat_at``, written from its progress
reporting; on SQLite the progress file's time) is recent; on PostgreSQL also while its list
is locked (a load holds its list's lock until it ends, and a dead worker's connection takes
its locks with it): the sweep leaves a locked list's imports alone, so a load waiting for
another one's lock, or linking after it read the file, is never taken for dead.

What the sweep does with an import whose run stopped (``list_imports_sweep``, every minute):
- *queued*, not picked up within ``LIST_IMPORT_STALE_SECONDS`` (a message lost with a Redis
  restart): queued again (a run finds a finished import finished, so a duplicate message
  loads nothing twice);
- *running* in a worker, heartbeat older than ``LIST_IMPORT_STALE_SECONDS``: queued again,
  up to ``LIST_IMPORT_MAX_ATTEMPTS`` runs in all (a load is one transaction: the dead run's
  rows rolled back with its connection, so the next run starts from nothing); after that, or
  for the command's import (no worker to give it to), failed with a reason. A failed import
  keeps its file: the admin retries it (in a worker) or discards it.
"""

import contextlib
import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from agents.models import Agent

from .contact_lists import contact_list_delete
from .locks import lock_contact_list, lock_contact_list_unless_loading
from .models import ContactList, ListImport
from .progress import progress_dir, progress_file
from .tasks import run_list_import
from .uploads import remove_stored, upload_dir

logger = logging.getLogger(__name__)
S = ListImport.Status
ORPHAN_AFTER = timedelta(hours=1)
RUN_GRACE = timedelta(seconds=15)


def _stale_after() -> timedelta:
    return timedelta(seconds=settings.LIST_IMPORT_STALE_SECONDS)


def last_seen(list_import: ListImport) -> datetime:
    """The last sign of life of an import's run: its heartbeat, its start, its creation, or
    (SQLite) its progress file's time."""
    seen = max(
        t
        for t in (list_import.heartbeat_at, list_import.started_at, list_import.created_at)
        if t is not None
    )
    try:
        written = progress_file(list_import.pk).stat().st_mtime
    except OSError:
        return seen
    return max(seen, datetime.fromtimestamp(written, tz=UTC))


def run_gone(list_import: ListImport, *, now: datetime, older_than: timedelta) -> bool:
    """Whether the run of a queued or running import is gone; asked holding its list's lock
    (``lock_contact_list_unless_loading``: no load runs on the list). On PostgreSQL a
    running import whose list is free is gone once ``RUN_GRACE`` passed since its last sign
    (a run sets its heartbeat, then waits for its list at once); elsewhere, and for an
    import waiting in the queue, once ``older_than`` passed."""
    if list_import.status not in (S.QUEUED, S.RUNNING):
        return True
    quiet = now - last_seen(list_import)
    if list_import.status == S.RUNNING and connection.vendor == "postgresql":
        return quiet > min(older_than, RUN_GRACE)
    return quiet > older_than


def _percent(list_import: ListImport) -> int:
    done = list_import.bytes_read
    with contextlib.suppress(OSError, ValueError):
        done = max(done, int(progress_file(list_import.pk).read_text() or 0))
    return min(99, int(100 * done / list_import.file_size)) if list_import.file_size else 0


def list_imports_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Queue again or fail the imports whose run stopped; remove orphan uploads. Returns the
    counts of what it did (``requeued``, ``failed``, ``orphans``)."""
    now = now or timezone.now()
    done: Counter[str] = Counter()
    waiting = ListImport.objects.filter(status__in=[S.QUEUED, S.RUNNING]).order_by("pk")
    for pk in waiting.values_list("pk", flat=True):
        outcome = _sweep_one(pk, now=now, older_than=_stale_after())
        if outcome:
            done[outcome] += 1
    done["orphans"] = remove_orphan_uploads(now=now)
    return dict(done)


@transaction.atomic
def _sweep_one(pk: int, *, now: datetime, older_than: timedelta) -> str:
    list_id = ListImport.objects.filter(pk=pk).values_list("contact_list_id", flat=True).first()
    if list_id is None or lock_contact_list_unless_loading(list_id) is None:
        return ""  # a load is running on the list (or the list is gone)
    found = ListImport.objects.filter(pk=pk).first()
    if found is None or found.status not in (S.QUEUED, S.RUNNING):
        return ""
    if not run_gone(found, now=now, older_than=older_than):
        return ""
    percent = _percent(found)
    who = "worker" if found.in_worker else "command"
    if found.status == S.QUEUED and found.in_worker:
        _requeue(found, now=now, message="")
        logger.warning("List import %s was never picked up: queued again", pk)
        return "requeued"
    if found.in_worker and found.attempts < settings.LIST_IMPORT_MAX_ATTEMPTS:
        _requeue(
            found,
            now=now,
            message=(
                f"The worker loading this file stopped at {percent} %; nothing of that run "
                f"was kept and the file was queued again (run {found.attempts + 1} of "
                f"{settings.LIST_IMPORT_MAX_ATTEMPTS})."
            ),
        )
        logger.warning("List import %s stopped at %s %%: queued again", pk, percent)
        return "requeued"
    tries = f" ({found.attempts} runs)" if found.in_worker and found.attempts > 1 else ""
    ListImport.objects.filter(pk=pk).update(
        status=S.FAILED,
        message=(
            f"The {who} loading this file stopped at {percent} %{tries}; nothing was loaded. "
            "Retry it or discard it."
        ),
        finished_at=now,
    )
    progress_file(pk).unlink(missing_ok=True)
    logger.warning("List import %s stopped at %s %%: failed", pk, percent)
    return "failed"


def _requeue(list_import: ListImport, *, now: datetime, message: str) -> None:
    ListImport.objects.filter(pk=list_import.pk).update(
        status=S.QUEUED, message=message, bytes_read=0, heartbeat_at=now
    )
    progress_file(list_import.pk).unlink(missing_ok=True)
    run_list_import.delay_on_commit(list_import.pk)


@transaction.atomic
def list_import_retry(*, list_import: ListImport, actor: Agent | None = None) -> ListImport:
    """Queue a failed import again, in a worker (the command's too), its runs counted anew."""
    lock_contact_list(list_import.contact_list_id)
    locked = ListImport.objects.get(pk=list_import.pk)
    if locked.status != S.FAILED:
        raise ValidationError(
            f"Only a failed import can be retried; this one is “{locked.get_status_display()}”."
        )
    if not Path(locked.file_path).exists():
        raise ValidationError("The uploaded file is gone: discard this import and upload again.")
    ListImport.objects.filter(pk=locked.pk).update(
        status=S.QUEUED,
        message="",
        attempts=0,
        in_worker=True,
        bytes_read=0,
        heartbeat_at=timezone.now(),
        started_at=None,
        finished_at=None,
    )
    run_list_import.delay_on_commit(locked.pk)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def list_import_discard(
    *, list_import: ListImport, actor: Agent | None = None, now: datetime | None = None
) -> ContactList | None:
    """Drop an import that did not load (refused, failed, or stopped: its run is gone) and
    its file; the list with it when nothing else was loaded into it (the first upload).
    Returns the list when it stays, None when it went. A loaded import, or one still
    loading, is refused."""
    now = now or timezone.now()
    contact_list = lock_contact_list_unless_loading(list_import.contact_list_id)
    locked = ListImport.objects.filter(pk=list_import.pk).first()
    if locked is None:
        raise ValidationError("This import is gone already.")
    if locked.status == S.LOADED:
        raise ValidationError("A loaded import cannot be discarded: delete the list instead.")
    if contact_list is None or not run_gone(locked, now=now, older_than=_stale_after()):
        minutes = max(1, settings.LIST_IMPORT_STALE_SECONDS // 60)
        raise ValidationError(
            "This import is still loading or waiting for a worker: wait for it to finish "
            f"(one whose run stopped is taken for stopped within {minutes} minutes), then "
            "discard it."
        )
    path = Path(locked.file_path)
    transaction.on_commit(lambda: remove_stored(path))
    progress_file(locked.pk).unlink(missing_ok=True)
    others = contact_list.imports.exclude(pk=locked.pk).exclude(status__in=[S.REFUSED, S.FAILED])
    if not contact_list.columns and not others.exists():
        for other in contact_list.imports.exclude(pk=locked.pk):
            stored = Path(other.file_path)
            transaction.on_commit(lambda stored=stored: remove_stored(stored))
        contact_list_delete(contact_list=contact_list)
        return None
    locked.delete()
    return contact_list


def remove_orphan_uploads(*, now: datetime | None = None) -> int:
    """Remove upload files no import refers to, older than an hour (a request or command
    stopped while it stored the file, before its import was made), and progress files
    left by runs that ended. Returns the uploads removed."""
    folder = upload_dir()
    if not folder.exists():
        return 0
    cutoff = (now or timezone.now()).timestamp() - ORPHAN_AFTER.total_seconds()
    old = {}
    for path in folder.glob("list-*"):
        try:
            if path.stat().st_mtime < cutoff:
                old[str(path)] = path
        except OSError:
            continue
    if not old:
        return 0
    known = set(
        ListImport.objects.filter(file_path__in=list(old)).values_list("file_path", flat=True)
    )
    removed = 0
    for name, path in old.items():
        if name not in known:
            path.unlink(missing_ok=True)
            removed += 1
    live = set(
        ListImport.objects.filter(status__in=[S.QUEUED, S.RUNNING]).values_list("pk", flat=True)
    )
    for path in progress_dir().glob("import-*.progress") if progress_dir().exists() else []:
        pk = path.stem.removeprefix("import-")
        if pk.isdigit() and int(pk) not in live and path.stat().st_mtime < time.time() - 3600:
            path.unlink(missing_ok=True)
    return removed
