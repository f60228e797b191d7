import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from agents import zones

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
    """Tell an agent about an offer, exactly once: the offer row is locked and marked sent in
    the transaction that sends, so a redelivered message finds it sent."""
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
