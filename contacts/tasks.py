from celery import shared_task

from agents.outbox import outbox_deliver, outbox_resend_stuck

from .emails import ASSIGNMENT_EMAIL


@shared_task(bind=True, name="contacts.send_assignment_email", max_retries=8, acks_late=True)
def send_assignment_email(self, email_id: int) -> str:
    """Send an assignment email; retried with backoff when the mail server fails."""
    return outbox_deliver(self, ASSIGNMENT_EMAIL, email_id=email_id)


@shared_task(name="contacts.resend_stuck_assignment_emails")
def resend_stuck_assignment_emails() -> int:
    """Periodic sweep: re-queue pending emails whose message was lost."""
    return outbox_resend_stuck(ASSIGNMENT_EMAIL, send_assignment_email)
