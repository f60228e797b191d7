"""The "endpoint disabled" email: what it says; sent once to each company admin by
``agents.outbox``."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from agents.outbox import OutboxKind, email_message, email_time

from .locks import lock_endpoint_email
from .models import Delivery, EndpointDisabledEmail


def compose(email: EndpointDisabledEmail) -> EmailMultiAlternatives | None:
    """The message, or None when there is nothing left to tell: the endpoint was enabled
    again (or removed) meanwhile, or the admin left."""
    endpoint = email.endpoint
    if endpoint.enabled or not email.agent.is_active:
        return None
    last = (
        Delivery.objects.filter(endpoint=endpoint, last_attempt_at__isnull=False)
        .order_by("-last_attempt_at")
        .only("last_error", "last_status_code", "last_attempt_at")
        .first()
    )
    context = {
        "agent": email.agent,
        "company": email.company,
        "endpoint": endpoint,
        "failing_since": email_time(endpoint.failing_since, email.company.time_zone)
        if endpoint.failing_since
        else "",
        "last_error": last.last_error if last else "",
        "waiting": Delivery.objects.filter(
            endpoint=endpoint, status=Delivery.Status.PENDING
        ).count(),
        "url": settings.SITE_URL + reverse("admin:events_endpoint_change", args=[endpoint.pk]),
    }
    return email_message(
        subject=f"Webhook endpoint disabled: {endpoint.url}"[:200],
        template="events/emails/endpoint_disabled",
        context=context,
        to=email.agent.email,
    )


def _lock(pk: int) -> EndpointDisabledEmail | None:
    email = lock_endpoint_email(pk)
    if email is not None:
        # The endpoint is read fresh, unlocked: enabling it again cancels the email.
        email.endpoint = type(email.endpoint).objects.get(pk=email.endpoint_id)
    return email


ENDPOINT_DISABLED_EMAIL = OutboxKind(model=EndpointDisabledEmail, lock=_lock, compose=compose)
