"""The lead assignment email: what it says and how it is sent exactly once."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from agents import zones
from agents.outbox import outbox_failed, outbox_mark_cancelled, outbox_mark_sent, outbox_stuck

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


def lead_email_send(*, email_id: int) -> str:
    """Send one lead email if still due; returns what happened. The row is locked while
    sending and marked sent in the same transaction: a second run finds it sent."""
    with transaction.atomic():
        email = lock_lead_email(email_id)
        if email is None:
            return "busy-or-missing"
        if email.status != LeadEmail.Status.PENDING:
            return "already-" + email.status
        still_open = Lead.objects.filter(
            pk__in=email.leads, agent_id=email.agent_id, status=Lead.Status.OPEN
        )
        total = still_open.count()
        if not total or not email.agent.is_active:
            outbox_mark_cancelled(email)
            return "cancelled"
        listed = list(still_open.select_related("contact").order_by("contact__name", "pk")[:LISTED])
        build_message(email, listed, total).send()
        outbox_mark_sent(email)
        return "sent"


def lead_email_failed(*, email_id: int, error: Exception) -> None:
    outbox_failed(LeadEmail, email_id=email_id, error=error)


def stuck_lead_emails(*, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Pending lead emails whose task message may have been lost."""
    return outbox_stuck(LeadEmail, older_than=older_than)
