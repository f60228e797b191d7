"""The lead assignment email: what it says; sent exactly once by ``agents.outbox``."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from agents.outbox import OutboxKind, email_message, email_time, outbox_send
from contacts.emails import contact_row

from .locks import lock_lead_email
from .models import Lead, LeadEmail

# Customers listed one by one; the rest are counted.
LISTED = 50


def build_message(email: LeadEmail, leads: list[Lead], total: int) -> EmailMultiAlternatives:
    context = {
        "agent": email.agent,
        "actor": email.actor,
        "company": email.company,
        "assigned_at": email_time(email.assigned_at, email.company.time_zone),
        "count": total,
        "customers": [
            contact_row(lead.contact, reverse("leads:customer", args=[lead.contact_id]))
            for lead in leads[:LISTED]
        ],
        "more": max(0, total - LISTED),
        "report_url": settings.SITE_URL + reverse("leads:report"),
    }
    if total == 1:
        subject = "Lead assigned to you: " + " ".join(context["customers"][0]["name"].split())
    else:
        subject = f"{total} leads assigned to you"
    return email_message(
        subject=subject, template="emails/lead_assignment", context=context, to=email.agent.email
    )


def compose(email: LeadEmail) -> EmailMultiAlternatives | None:
    """The message for the email's leads still open with its agent; None when none are
    left (closed or unassigned since) or the agent left."""
    still_open = Lead.objects.filter(
        pk__in=email.leads, agent_id=email.agent_id, status=Lead.Status.OPEN
    )
    total = still_open.count()
    if not total or not email.agent.is_active:
        return None
    listed = list(still_open.select_related("contact").order_by("contact__name", "pk")[:LISTED])
    return build_message(email, listed, total)


LEAD_EMAIL = OutboxKind(model=LeadEmail, lock=lock_lead_email, compose=compose)


def lead_email_send(*, email_id: int) -> str:
    """Send one lead email if it is still due (``agents.outbox.outbox_send``)."""
    return outbox_send(LEAD_EMAIL, email_id=email_id)
