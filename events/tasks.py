"""The outbound webhooks' thin tasks (filled in by the delivery work)."""

from celery import shared_task


@shared_task(name="events.dispatch_events", ignore_result=True)
def dispatch_events(company_id: int) -> None:
    """Copy the company's new events into the deliveries of the endpoints that hear them."""
    from .delivery import dispatch_company

    dispatch_company(company_id=company_id)
