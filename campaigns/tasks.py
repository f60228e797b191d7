"""Thin Celery tasks: take ids, re-fetch, call a service (idempotent)."""

from celery import shared_task

from .importing import list_import_run
from .models import ListImport
from .uploads import remove_upload


@shared_task(name="campaigns.run_list_import")
def run_list_import(list_import_id: int) -> str:
    """Load a queued import; a finished one is left alone (a redelivered message is harmless).
    The file goes once the import is loaded or refused; a failed one keeps it for *Retry*."""
    if not ListImport.objects.filter(pk=list_import_id).exists():
        return "gone"
    list_import = list_import_run(list_import_id=list_import_id)
    if list_import.status in (ListImport.Status.LOADED, ListImport.Status.REFUSED):
        remove_upload(list_import)
    return list_import.status


@shared_task(name="campaigns.sweep_list_imports")
def sweep_list_imports() -> dict[str, int]:
    """Queue again or fail the imports whose run stopped; remove orphan uploads."""
    from .recovery import list_imports_sweep

    return list_imports_sweep()
