from smtplib import SMTPException

from celery import shared_task

from .emails import assignment_email_failed, assignment_email_send, stuck_assignment_emails


@shared_task(
    bind=True,
    name="contacts.send_assignment_email",
    max_retries=8,
    acks_late=True,
)
def send_assignment_email(self, email_id: int) -> str:
    """Send an assignment email; retried with backoff when the mail server fails."""
    try:
        return assignment_email_send(email_id=email_id)
    except (SMTPException, OSError) as error:
        assignment_email_failed(email_id=email_id, error=error)
        # 30 s, 1 min, 2 min, ... up to 30 min between tries.
        raise self.retry(exc=error, countdown=min(30 * 2**self.request.retries, 1800)) from error
    except Exception as error:
        # Counted too, so the sweep's attempt cap stops a message that can never be sent.
        assignment_email_failed(email_id=email_id, error=error)
        raise


@shared_task(name="contacts.resend_stuck_assignment_emails")
def resend_stuck_assignment_emails() -> int:
    """Periodic sweep: re-queue pending emails whose message was lost."""
    ids = stuck_assignment_emails()
    for email_id in ids:
        send_assignment_email.delay(email_id)
    return len(ids)
