"""The assignment email: what it says; sent exactly once by ``agents.outbox``."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from agents.outbox import OutboxKind, email_message, email_time, outbox_send

from .locks import lock_assignment_email
from .models import AssignmentEmail, Contact

# Contacts listed one by one in a bulk assignment's email; the rest are counted.
LISTED = 50


def contact_row(contact: Contact, path: str) -> dict:
    """A contact as an assignment email lists it (``templates/emails/_contacts_table.html``),
    linked to ``path`` on the site."""
    return {
        "name": contact.name or "(no name)",
        "phone": contact.display_phone or "—",
        "email": contact.email,
        "url": settings.SITE_URL + path,
    }


# A contact first owned at this version and created this close to the assignment was created
# by the same change (the contact form saves both in one request).
CREATED_WITH_ASSIGNMENT = timedelta(seconds=10)


def _created_by_this_assignment(email: AssignmentEmail, contact: Contact) -> bool:
    versions = dict(email.contacts)
    return (
        versions.get(contact.pk) == 1
        and abs(email.assigned_at - contact.created_at) <= CREATED_WITH_ASSIGNMENT
    )


def build_message(
    email: AssignmentEmail, contacts: list[Contact], total: int
) -> EmailMultiAlternatives:
    when = email_time(email.assigned_at, email.company.time_zone)
    context = {
        "agent": email.agent,
        "actor": email.actor or email.actor_label or None,
        "company": email.company,
        "assigned_at": when,
        "count": total,
        "contacts": [contact_row(c, c.get_absolute_url()) for c in contacts[:LISTED]],
        "more": max(0, total - LISTED),
        "inbox_url": settings.SITE_URL + reverse("contacts:lead_center") + "?tab=contacts",
    }
    if total == 1:
        name = " ".join(context["contacts"][0]["name"].split())
        new = "New contact" if _created_by_this_assignment(email, contacts[0]) else "Contact"
        subject = f"{new} assigned to you: {name}"
    else:
        subject = f"{total} contacts assigned to you"
    return email_message(
        subject=subject, template="emails/assignment", context=context, to=email.agent.email
    )


def still_assigned(email: AssignmentEmail) -> list[int]:
    """Ids of the email's contacts whose primary agent is still the one it was sent for."""
    wanted = {contact_id: version for contact_id, version in email.contacts}
    ids = list(wanted)
    current = []
    for start in range(0, len(ids), 5000):
        rows = Contact.objects.filter(
            pk__in=ids[start : start + 5000], primary_agent_id=email.agent_id
        ).values_list("pk", "ownership_version")
        current += [pk for pk, version in rows if wanted.get(pk) == version]
    return sorted(current)


def compose(email: AssignmentEmail) -> EmailMultiAlternatives | None:
    """The message for the contacts still assigned as the email says (reassigned or
    unassigned since: left out); None when none remain or the agent left."""
    current = still_assigned(email)
    if not current or not email.agent.is_active:
        return None
    listed = list(Contact.objects.filter(pk__in=current[:LISTED]).order_by("name", "pk"))
    return build_message(email, listed, len(current))


ASSIGNMENT_EMAIL = OutboxKind(model=AssignmentEmail, lock=lock_assignment_email, compose=compose)


def assignment_email_send(*, email_id: int) -> str:
    """Send one assignment email if it is still due (``agents.outbox.outbox_send``)."""
    return outbox_send(ASSIGNMENT_EMAIL, email_id=email_id)
