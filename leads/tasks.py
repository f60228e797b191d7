from celery import shared_task

from agents.outbox import outbox_deliver, outbox_resend_stuck

from .emails import LEAD_EMAIL


@shared_task(bind=True, name="leads.send_lead_email", max_retries=8, acks_late=True)
def send_lead_email(self, email_id: int) -> str:
    """Send a lead assignment email; retried with backoff when the mail server fails."""
    return outbox_deliver(self, LEAD_EMAIL, email_id=email_id)


@shared_task(name="leads.resend_stuck_lead_emails")
def resend_stuck_lead_emails() -> int:
    """Periodic sweep: re-queue pending lead emails whose message was lost."""
    return outbox_resend_stuck(LEAD_EMAIL, send_lead_email)
