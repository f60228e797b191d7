"""The response deadline emails: the warning before an owner's deadline, the move to Active
when it was missed, being set Away after a miss. What they say; sent exactly once by
``agents.outbox`` (``DEADLINE_EMAIL``), queued after the sweep's commit (routing/deadlines.py)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone

from agents import zones
from agents.choices import Presence
from agents.outbox import OutboxKind, email_message, email_time, outbox_send
from contacts.models import Interaction

from .locks import lock_deadline_email
from .models import DeadlineEmail

Kind = DeadlineEmail.Kind


def due_text(moment, time_zone: str, *, seen_from=None) -> str:
    """A deadline as the emails say it, in the company's zone: "09:10 EST" on the day of
    ``seen_from`` (the warning's or the miss's moment: default now), else "Fri 09:10 EST"."""
    local = zones.local(moment, time_zone)
    today = zones.local(seen_from or timezone.now(), time_zone).date()
    return local.strftime("%H:%M %Z" if local.date() == today else "%a %H:%M %Z")


def _item_word(interaction: Interaction) -> str:
    return interaction.get_channel_display().lower()


def _message(email: DeadlineEmail, interaction: Interaction) -> EmailMultiAlternatives:
    company = email.company
    contact = interaction.contact
    name = " ".join(str(contact).split())
    due_at = interaction.response_due_at
    seen_from = interaction.response_missed_at or interaction.response_warned_at
    due = due_text(due_at, company.time_zone, seen_from=seen_from) if due_at else ""
    context = {
        "agent": email.agent,
        "company": company,
        "contact_name": name,
        "item": _item_word(interaction),
        "due": due,
        "due_full": email_time(due_at, company.time_zone) if due_at else "",
        "missed_at": (
            email_time(interaction.response_missed_at, company.time_zone)
            if interaction.response_missed_at
            else ""
        ),
        "contact_url": settings.SITE_URL + contact.get_absolute_url(),
        "lead_center_url": settings.SITE_URL + reverse("contacts:lead_center"),
    }
    if email.kind == Kind.WARNING:
        subject = f"Reply to {name} by {due} or it moves to Active"
    elif email.kind == Kind.MISSED:
        subject = f"{name}'s {context['item']} moved to Active"
    else:
        subject = "You were set Away after missing a response deadline"
    return email_message(
        subject=subject,
        template=f"emails/deadline_{email.kind}",
        context=context,
        to=email.agent.email,
    )


def compose(email: DeadlineEmail) -> EmailMultiAlternatives | None:
    """The message, or None when nothing is left to tell: the agent left; a warning whose
    item was handled, moved or taken away meanwhile; an Away notice to someone who already
    set themselves back."""
    if not email.agent.is_active:
        return None
    interaction = (
        Interaction.objects.select_related("contact").filter(pk=email.interaction_id).first()
    )
    if interaction is None:
        return None
    if email.kind == Kind.WARNING and (
        interaction.status != Interaction.Status.OPEN
        or interaction.routed_to_id != email.agent_id
        or interaction.response_missed_at is not None
    ):
        return None
    if email.kind == Kind.AWAY and email.agent.presence != Presence.AWAY:
        return None
    return _message(email, interaction)


DEADLINE_EMAIL = OutboxKind(model=DeadlineEmail, lock=lock_deadline_email, compose=compose)


def deadline_email_send(*, email_id: int) -> str:
    """Send one deadline email if it is still due (``agents.outbox.outbox_send``)."""
    return outbox_send(DEADLINE_EMAIL, email_id=email_id)
