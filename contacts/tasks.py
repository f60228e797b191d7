from celery import shared_task

from agents.models import Agent, Company
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


@shared_task(name="contacts.drain_capacity_queue", acks_late=True)
def drain_capacity_queue(company_id: int, agent_id: int | None = None) -> int:
    """Hand the capacity queue's oldest items to an agent who has room again (an item of
    theirs was handled), or to anyone available; what was handed out stays handed out, so a
    second run hands out only what still waits."""
    from .queue import queue_drain

    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return 0
    agent = None
    if agent_id is not None:
        agent = Agent.objects.filter(pk=agent_id).first()
        if agent is None:
            return 0
    return queue_drain(company=company, agent=agent)


@shared_task(name="contacts.drain_capacity_queues")
def drain_capacity_queues() -> int:
    """Periodic (every 5 s): every company's queue to whoever has room now — agents whose
    hours began, whose absence ended, who set themselves Available — and a safety net for a
    lost ``drain_capacity_queue`` message."""
    from .queue import companies_with_a_queue, queue_drain

    return sum(
        queue_drain(company=company)
        for company in Company.objects.filter(pk__in=companies_with_a_queue())
    )
