from smtplib import SMTPException

from celery import shared_task

from .emails import lead_email_failed, lead_email_send, stuck_lead_emails


@shared_task(bind=True, name="leads.send_lead_email", max_retries=8, acks_late=True)
def send_lead_email(self, email_id: int) -> str:
    """Send a lead assignment email; retried with backoff when the mail server fails."""
    try:
        return lead_email_send(email_id=email_id)
    except (SMTPException, OSError) as error:
        lead_email_failed(email_id=email_id, error=error)
        raise self.retry(exc=error, countdown=min(30 * 2**self.request.retries, 1800)) from error
    except Exception as error:
        lead_email_failed(email_id=email_id, error=error)
        raise


@shared_task(name="leads.resend_stuck_lead_emails")
def resend_stuck_lead_emails() -> int:
    """Periodic sweep: re-queue pending lead emails whose message was lost."""
    ids = stuck_lead_emails()
    for email_id in ids:
        send_lead_email.delay(email_id)
    return len(ids)
