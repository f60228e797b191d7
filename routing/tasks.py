from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from .models import Offer
from .services import round_expire, rounds_due


@shared_task(name="routing.expire_round", acks_late=True)
def expire_round(round_id: int) -> str:
    """Close a round when its claim window ends (re-checks the deadline in the database)."""
    return round_expire(round_id=round_id)


@shared_task(name="routing.sweep_rounds")
def sweep_rounds() -> int:
    """Periodic: finish every round past its deadline, whatever happened to its task."""
    due = rounds_due()
    for round_id in due:
        round_expire(round_id=round_id)
    return len(due)


@shared_task(name="routing.send_offer_email", acks_late=True)
def send_offer_email(offer_id: int) -> str:
    offer = (
        Offer.objects.select_related("round__contact", "round__group", "round__rule", "agent")
        .filter(pk=offer_id, status=Offer.Status.OPEN)
        .first()
    )
    if offer is None:
        return "closed"
    contact = offer.round.contact
    url = settings.SITE_URL + reverse("contacts:lead_center") + "?tab=offers"
    send_mail(
        subject=f"Claim {contact} before {offer.expires_at:%H:%M} UTC",
        message=(
            f"Hi {offer.agent.get_short_name()},\n\n"
            f"{contact} ({contact.display_phone or contact.email}) is offered to you through "
            f"{offer.round.source_name}. The first to claim gets the contact.\n\n"
            f"Claim it here: {url}\n\n— Switchboard\n"
        ),
        from_email=None,
        recipient_list=[offer.agent.email],
    )
    return "sent"
