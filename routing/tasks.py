import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from agents import zones
from agents.outbox import outbox_deliver, outbox_resend_stuck

from .emails import DEADLINE_EMAIL
from .locks import lock_offer
from .models import Offer
from .selectors import rounds_due

logger = logging.getLogger(__name__)


@shared_task(name="routing.expire_round", acks_late=True)
def expire_round(round_id: int, force: bool = False) -> str:
    """Close a round when its claim window ends (re-checks the deadline in the database);
    ``force``: at once (its last offer was withdrawn)."""
    # The service imports the tasks at its top; the task imports the service when it runs.
    from .rounds import round_expire

    return round_expire(round_id=round_id, force=force)


@shared_task(name="routing.sweep_rounds")
def sweep_rounds() -> int:
    """Periodic: finish every round past its deadline, whatever happened to its task. A
    round that fails is logged and left for the next sweep; the others still finish."""
    from .rounds import round_expire

    finished = 0
    for round_id in rounds_due():
        try:
            round_expire(round_id=round_id)
        except Exception:
            logger.exception(
                "Round %s could not be finished; the next sweep tries again.", round_id
            )
        else:
            finished += 1
    # Every 5 s: silent when there was nothing to finish (config/logfilters.py drops Celery's
    # own lines for it), one line when it did something.
    if finished:
        logger.info("Sweep finished %d round(s) past their deadline.", finished)
    return finished


@shared_task(name="routing.send_offer_email", acks_late=True)
def send_offer_email(offer_id: int) -> str:
    """Tell an agent about an offer, once: the offer row is locked and marked sent in the
    transaction that sends, so a redelivered message (or the sweep) finds it sent. At most
    one duplicate, only on a crash between the send and the commit."""
    with transaction.atomic():
        offer = lock_offer(offer_id)
        if offer is None or offer.status != Offer.Status.OPEN:
            return "closed"
        if offer.email_sent_at is not None:
            return "already-sent"
        contact = offer.round.contact
        until = zones.local(offer.expires_at, offer.round.company.time_zone).strftime("%H:%M %Z")
        url = settings.SITE_URL + reverse("contacts:lead_center") + "?tab=offers"
        send_mail(
            subject=f"Claim {contact} before {until}",
            message=(
                f"Hi {offer.agent.get_short_name()},\n\n"
                f"{contact} ({contact.display_phone or contact.email}) is offered to you "
                f"through {offer.round.source_name} until {until}. The first to claim gets "
                f"the contact.\n\nClaim it here: {url}\n\n— Switchboard\n"
            ),
            from_email=None,
            recipient_list=[offer.agent.email],
        )
        Offer.objects.filter(pk=offer.pk).update(email_sent_at=timezone.now())
    return "sent"


# An offer's email is queued on commit; one older than this and still unsent lost its message.
OFFER_EMAIL_GRACE = timedelta(minutes=1)
OFFER_EMAIL_SWEEP_BATCH = 500


@shared_task(name="routing.send_unsent_offer_emails")
def send_unsent_offer_emails() -> int:
    """Periodic: send the email of every open offer whose message never reached the broker
    (no sent time a minute after it was made), through ``send_offer_email``'s exactly-once
    path; an offer whose window has ended is left alone. One that fails is logged and left
    for the next sweep."""
    now = timezone.now()
    offer_ids = list(
        Offer.objects.filter(
            status=Offer.Status.OPEN,
            email_sent_at__isnull=True,
            created_at__lt=now - OFFER_EMAIL_GRACE,
            expires_at__gt=now,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:OFFER_EMAIL_SWEEP_BATCH]
    )
    sent = 0
    for offer_id in offer_ids:
        try:
            outcome = send_offer_email(offer_id)
        except Exception:
            logger.exception(
                "The email of offer %s could not be sent; the next sweep tries again.", offer_id
            )
        else:
            sent += outcome == "sent"
    if sent:
        logger.info("Sweep sent %d offer email(s) that were never queued.", sent)
    return sent


# --- Response deadlines (routing/deadlines.py) ---------------------------------------------
@shared_task(name="routing.sweep_response_deadlines", acks_late=True)
def sweep_response_deadlines() -> int:
    """Periodic (every 5 s): move every item past its owner's response deadline to Active
    and email the warnings that are due. The deadlines are rows in the database, so a sweep
    that was lost (a killed worker, a restarted Redis) is made good by the next one; running
    it twice moves nothing twice (each move is a compare-and-set)."""
    from .deadlines import deadlines_run

    return deadlines_run()


@shared_task(bind=True, name="routing.send_deadline_email", max_retries=8, acks_late=True)
def send_deadline_email(self, email_id: int) -> str:
    """Send one response deadline email; retried with backoff when the mail server fails."""
    return outbox_deliver(self, DEADLINE_EMAIL, email_id=email_id)


@shared_task(name="routing.resend_stuck_deadline_emails")
def resend_stuck_deadline_emails() -> int:
    """Periodic: re-queue pending deadline emails whose message was lost."""
    return outbox_resend_stuck(DEADLINE_EMAIL, send_deadline_email)
