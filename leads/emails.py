"""The lead assignment email: what it says; sent exactly once by ``agents.outbox``."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from agents import zones
from agents.outbox import OutboxKind, outbox_send

from .locks import lock_lead_email
from .models import Lead, LeadEmail

# Customers listed one by one; the rest are counted.
LISTED = 50


def _local(moment, time_zone: str) -> str:
    return zones.local(moment, time_zone).strftime("%a %-d %b %Y, %H:%M %Z")


def build_message(email: LeadEmail, leads: list[Lead], total: int) -> EmailMultiAlternatives:
    context = {
        "agent": email.agent,
        "actor": email.actor,
        "company": email.company,
        "assigned_at": _local(email.assigned_at, email.company.time_zone),
        "count": total,
        "customers": [
            {
                "name": lead.contact.name or "(no name)",
                "phone": lead.contact.display_phone or "—",
                "email": lead.contact.email,
                "url": settings.SITE_URL + reverse("leads:customer", args=[lead.contact_id]),
            }
            for lead in leads[:LISTED]
        ],
        "more": max(0, total - LISTED),
        "report_url": settings.SITE_URL + reverse("leads:report"),
    }
    if total == 1:
        subject = "Lead assigned to you: " + " ".join(context["customers"][0]["name"].split())
    else:
        subject = f"{total} leads assigned to you"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/lead_assignment.txt", context),
        to=[email.agent.email],
    )
    message.attach_alternative(
        render_to_string("emails/lead_assignment.html", context), "text/html"
    )
    return message


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
