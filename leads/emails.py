"""The lead assignment email: what it says and how it is sent exactly once."""

import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .locks import lock_lead_email
from .models import Lead, LeadEmail

# Customers listed one by one; the rest are counted.
LISTED = 50


def _local(moment, time_zone: str) -> str:
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return timezone.localtime(moment, zone).strftime("%a %-d %b %Y, %H:%M %Z")


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
            email.status = LeadEmail.Status.CANCELLED
            email.save(update_fields=["status"])
            return "cancelled"
        listed = list(still_open.select_related("contact").order_by("contact__name", "pk")[:LISTED])
        build_message(email, listed, total).send()
        email.status = LeadEmail.Status.SENT
        email.sent_at = timezone.now()
        email.attempts = F("attempts") + 1
        email.last_attempt_at = email.sent_at
        email.save(update_fields=["status", "sent_at", "attempts", "last_attempt_at"])
        return "sent"


def lead_email_failed(*, email_id: int, error: Exception) -> None:
    LeadEmail.objects.filter(pk=email_id).update(
        attempts=F("attempts") + 1, last_error=str(error)[:300], last_attempt_at=timezone.now()
    )


def stuck_lead_emails(*, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    now = timezone.now()
    return list(
        LeadEmail.objects.filter(
            status=LeadEmail.Status.PENDING, assigned_at__lt=now - older_than, attempts__lt=10
        )
        .exclude(last_attempt_at__gte=now - timedelta(minutes=30))
        .values_list("pk", flat=True)[:500]
    )
