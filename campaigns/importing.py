"""A list import's life: created for a stored upload (``uploads``), run once (a task
delivered twice finds it finished), loaded in one transaction, all or nothing.

The file is read by ``csv_reader`` (as UTF-8, then again as Windows-1252 if a byte says
otherwise); its rows are written by ``record_writers`` (``COPY`` on PostgreSQL, batched
``INSERT``s on SQLite: the same rows, the same rejections), its records linked to the
company's contacts by ``linking``, appended rows delivered to the list's running campaigns.
A refused file (``csv_reader.Refused``) or any failure rolls the whole load back. Progress is
written from outside that transaction (``progress``).
"""

import logging
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from agents.models import Agent

from . import csv_reader, record_writers
from .distribution import deliver_appended
from .linking import link_contacts
from .locks import lock_campaigns_of_list, lock_contact_list
from .models import Campaign, ContactList, ListImport
from .progress import ImportProgress
from .uploads import too_big_message

logger = logging.getLogger(__name__)


def list_import_create(
    *,
    contact_list: ContactList,
    path: Path,
    file_name: str,
    kind: str = ListImport.Kind.INITIAL,
    actor: Agent | None = None,
    in_worker: bool = True,
) -> ListImport:
    return ListImport.objects.create(
        contact_list=contact_list,
        kind=kind,
        file_path=str(path),
        file_name=file_name[:255],
        file_size=path.stat().st_size,
        created_by=actor,
        in_worker=in_worker,
    )


def list_import_run(
    *, list_import_id: int, on_progress: Callable[[int], None] | None = None
) -> ListImport:
    """Load the file of a queued import (idempotent: a finished import is left alone).

    Ends LOADED (with its rejected rows), REFUSED (with the reason) or FAILED; only LOADED
    leaves rows behind."""
    list_import = ListImport.objects.select_related("contact_list__company").get(pk=list_import_id)
    # Only an import not finished yet starts (a task delivered twice, or run again after a
    # worker died, finds it finished and leaves it alone) ...
    now = timezone.now()
    started = ListImport.objects.filter(
        pk=list_import.pk, status__in=[ListImport.Status.QUEUED, ListImport.Status.RUNNING]
    ).update(
        status=ListImport.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
    )
    if not started:
        list_import.refresh_from_db()
        return list_import
    progress = ImportProgress(list_import, on_progress)
    try:
        with transaction.atomic():
            outcome = _load(list_import, progress)
    except _FinishedMeanwhile:
        list_import.refresh_from_db()
        return list_import
    except csv_reader.Refused as refusal:
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


def _load(list_import: ListImport, progress: ImportProgress) -> dict:
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
        raise csv_reader.Refused("The uploaded file is gone; upload it again.")
    size = path.stat().st_size
    if size > settings.CONTACT_LIST_MAX_UPLOAD_BYTES:
        raise csv_reader.Refused(too_big_message(size, settings.CONTACT_LIST_MAX_UPLOAD_BYTES))
    # Read as UTF-8 until a byte says otherwise, then from the start as Windows-1252 (the
    # savepoint takes back what was loaded): one pass over a UTF-8 file, not a check first.
    # A file with UTF-8 beyond ASCII anywhere is UTF-8 with a stray byte: refused with the
    # byte's line, not read as Windows-1252 ("José" would be stored as "JosÃ©").
    warning = ""
    for encoding in csv_reader.ENCODINGS:
        try:
            with transaction.atomic():
                layout, rows = csv_reader.read(
                    path, region=company.default_region, encoding=encoding, progress=progress
                )
                try:
                    return _load_rows(
                        list_import, contact_list, layout, rows, progress, size, warning
                    )
                finally:
                    rows.close()
        except UnicodeDecodeError:
            logger.info("List import %s is not %s", list_import.pk, encoding)
            if encoding == csv_reader.ENCODINGS[0]:
                odd = csv_reader.odd_byte(path)
                if odd is not None and odd.utf8_elsewhere:
                    raise csv_reader.Refused(odd.refusal) from None
                warning = odd.warning if odd is not None else ""
            progress.beat()
            continue
    raise csv_reader.Refused(csv_reader.NOT_TEXT)


def _load_rows(list_import, contact_list, layout, rows, progress, size, warning) -> dict:
    company = list_import.contact_list.company
    appending = list_import.kind == ListImport.Kind.APPEND
    order = None
    if appending:
        if not contact_list.columns:
            raise csv_reader.Refused("The list has no rows yet: upload it before appending.")
        order = _append_order(contact_list.columns, layout.columns)
    elif contact_list.columns:
        raise csv_reader.Refused("The list is loaded already: append rows to it instead.")
    reasons: Counter[str] = Counter()
    rejected = tempfile.SpooledTemporaryFile(max_size=8 * 1_048_576, mode="w+b")  # noqa: SIM115
    with rejected:
        before = record_writers.record_ids_mark()
        if connection.vendor == "postgresql":
            write = record_writers.copy_rows
        else:
            write = record_writers.insert_rows
        loaded = write(list_import, layout, rows, order, rejected, reasons)
        if not loaded and not reasons:
            raise csv_reader.Refused(csv_reader.NO_ROWS)
        first, last = record_writers.record_ids(before)
        if contact_list.rows + loaded > csv_reader.MAX_ROWS:
            raise csv_reader.Refused(
                f"With these rows the list would have {contact_list.rows + loaded:,} rows; a "
                f"list has at most {csv_reader.MAX_ROWS:,}."
            )
        record_writers.store_rejected(list_import.pk, rejected)
    progress.beat()
    if connection.vendor == "postgresql":
        record_writers.analyze_records()
    progress.beat()
    link_contacts(list_import_id=list_import.pk, company_id=company.pk, first=first, last=last)
    progress(size, force=True)
    if not appending:
        contact_list.columns = layout.columns
        contact_list.phone_columns = layout.phone_indexes
    contact_list.rows += loaded
    contact_list.save(update_fields=["columns", "phone_columns", "rows"])
    ListImport.objects.filter(pk=list_import.pk).update(
        status=ListImport.Status.LOADED,
        message="",
        warning=warning,
        encoding=layout.encoding,
        delimiter=csv_reader.DELIMITERS[layout.delimiter],
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
        raise csv_reader.Refused(
            "The appended file must have the list's columns"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; not in the list: {', '.join(extra)}" if extra else "")
            + "."
        )
    return [lowered.index(c.lower()) for c in columns]
