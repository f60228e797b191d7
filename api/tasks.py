"""The API's periodic sweep: Idempotency-Key answers older than API_IDEMPOTENCY_HOURS."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="api.sweep_idempotency_keys", ignore_result=True)
def sweep_idempotency_keys() -> int:
    from .idempotency import idempotency_sweep

    deleted = idempotency_sweep()
    if deleted:
        logger.info("Forgot %s expired Idempotency-Key answers.", deleted)
    return deleted
