"""The outbound webhooks' thin tasks: each takes ids and calls ``events.delivery`` (or the
endpoint email's outbox) when it runs. Idempotent: run twice, nothing is done twice
(``acks_late``)."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="events.dispatch_events", ignore_result=True, acks_late=True)
def dispatch_events(company_id: int) -> int:
    """Copy the company's new events into the deliveries of the endpoints that hear them."""
    from .delivery import dispatch_company

    return dispatch_company(company_id=company_id)


@shared_task(name="events.send_deliveries", ignore_result=True, acks_late=True)
def send_deliveries(endpoint_id: int) -> int:
    """One sender run for an endpoint (none when another holds its lease); returns how many
    deliveries were delivered."""
    from .delivery import send_endpoint

    return send_endpoint(endpoint_id=endpoint_id).delivered


@shared_task(name="events.sweep_outbound", ignore_result=True)
def sweep_outbound() -> None:
    """Periodic: dispatch what an after-commit message missed; start the sender runs that
    are due (retries after their backoff, runs a killed worker left)."""
    from .delivery import sweep

    sweep()


@shared_task(bind=True, name="events.send_endpoint_disabled_email", max_retries=8, acks_late=True)
def send_endpoint_disabled_email(self, email_id: int) -> str:
    """Tell a company admin that an endpoint failing for a day was disabled."""
    from agents.outbox import outbox_deliver

    from .emails import ENDPOINT_DISABLED_EMAIL

    return outbox_deliver(self, ENDPOINT_DISABLED_EMAIL, email_id=email_id)


@shared_task(name="events.resend_stuck_endpoint_emails", ignore_result=True)
def resend_stuck_endpoint_emails() -> int:
    """Periodic sweep: re-queue pending endpoint emails whose message was lost."""
    from agents.outbox import outbox_resend_stuck

    from .emails import ENDPOINT_DISABLED_EMAIL

    return outbox_resend_stuck(ENDPOINT_DISABLED_EMAIL, send_endpoint_disabled_email)


@shared_task(name="events.prune_outbox", ignore_result=True)
def prune_outbox() -> tuple[int, int]:
    """Periodic: forget deliveries and events older than WEBHOOK_KEEP_DAYS (events.retention)."""
    from .retention import outbox_prune

    deliveries, events = outbox_prune()
    if deliveries or events:
        logger.info("Forgot %s old deliveries and %s old events.", deliveries, events)
    return deliveries, events
