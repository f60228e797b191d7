"""Writes of the outbound webhooks: endpoints (create, update, enable, disable, delete,
rotate the secret) and deliveries (resend).

Every endpoint change runs under the company's events lock (``events.locks``) and keeps
``Company.outbound_event_types`` equal to the union of the event types of the company's
enabled endpoints, in the same transaction: a change whose type nobody hears writes no
event (``events.emit``), and one an endpoint hears is written from the commit on.
"""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agents.models import AccessLevel, Agent, Company

from . import net
from .locks import lock_company_events
from .models import Delivery, Endpoint, EndpointDisabledEmail, EventType
from .tasks import send_deliveries, send_endpoint_disabled_email

DISABLED_FAILING = "Disabled automatically: every delivery failed for a day."


def endpoint_clean(*, url: str, event_types: Iterable[str]) -> tuple[str, list[str]]:
    """The URL and event types checked (``ValidationError`` keyed by field, in words); the
    types in the order of ``EventType``."""
    errors: dict[str, str] = {}
    url = (url or "").strip()
    why = net.url_refusal(url) if url else "Enter the URL to send events to."
    if why:
        errors["url"] = why
    chosen = set(event_types or ())
    unknown = chosen - set(EventType.values)
    if unknown:
        errors["event_types"] = f"Unknown event types: {', '.join(sorted(unknown))}."
    elif not chosen:
        errors["event_types"] = "Pick at least one event type."
    if errors:
        raise ValidationError(errors)
    return url, [value for value in EventType.values if value in chosen]


def _sync_event_types(company: Company) -> None:
    """Under the company's events lock: the union of the enabled endpoints' types."""
    heard: set[str] = set()
    for types in Endpoint.objects.filter(company_id=company.pk, enabled=True).values_list(
        "event_types", flat=True
    ):
        heard.update(types)
    types = [value for value in EventType.values if value in heard]
    if list(company.outbound_event_types or []) != types:
        company.outbound_event_types = types
        company.save(update_fields=["outbound_event_types"])


def _locked(endpoint: Endpoint) -> tuple[Company, Endpoint]:
    company = lock_company_events(endpoint.company_id)
    return company, Endpoint.objects.get(pk=endpoint.pk)


@transaction.atomic
def endpoint_create(
    *,
    company: Company,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    enabled: bool = True,
) -> tuple[Endpoint, str]:
    """A new endpoint and its signing secret (shown to the admin once)."""
    url, types = endpoint_clean(url=url, event_types=event_types)
    locked = lock_company_events(company.pk)
    secret = Endpoint.new_secret()
    endpoint = Endpoint.objects.create(
        company=company,
        url=url,
        description=(description or "").strip()[:200],
        event_types=types,
        enabled=enabled,
        secret=secret,
    )
    _sync_event_types(locked)
    company.outbound_event_types = locked.outbound_event_types
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *,
    endpoint: Endpoint,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    enabled: bool | None = None,
) -> Endpoint:
    """Change an endpoint; ``enabled`` (when given) enables or disables it as the services
    below do."""
    url, types = endpoint_clean(url=url, event_types=event_types)
    company, current = _locked(endpoint)
    current.url = url
    current.event_types = types
    current.description = (description or "").strip()[:200]
    current.save(update_fields=["url", "event_types", "description"])
    if enabled is not None and enabled != current.enabled:
        _set_enabled(current, enabled=enabled, reason="")
    _sync_event_types(company)
    return current


def _set_enabled(endpoint: Endpoint, *, enabled: bool, reason: str) -> None:
    endpoint.enabled = enabled
    if enabled:
        endpoint.failing_since = None
        endpoint.disabled_reason = ""
        endpoint.save(update_fields=["enabled", "failing_since", "disabled_reason"])
        # Its waiting deliveries start a fresh day of retries, at once, in order.
        now = timezone.now()
        Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PENDING).update(
            retry_from=now, next_attempt_at=now
        )
        EndpointDisabledEmail.objects.filter(
            endpoint=endpoint, status=EndpointDisabledEmail.Status.PENDING
        ).update(status=EndpointDisabledEmail.Status.CANCELLED)
        send_deliveries.delay_on_commit(endpoint.pk)
    else:
        endpoint.disabled_reason = reason[:300]
        endpoint.save(update_fields=["enabled", "disabled_reason"])


@transaction.atomic
def endpoint_enable(*, endpoint: Endpoint) -> Endpoint:
    """Enable an endpoint: its waiting deliveries are sent again (a fresh day of retries)."""
    company, current = _locked(endpoint)
    if not current.enabled:
        _set_enabled(current, enabled=True, reason="")
        _sync_event_types(company)
    return current


@transaction.atomic
def endpoint_disable(*, endpoint: Endpoint, reason: str = "Disabled by an admin.") -> Endpoint:
    """Disable an endpoint: nothing new is queued for it, its pending deliveries wait."""
    company, current = _locked(endpoint)
    if current.enabled:
        _set_enabled(current, enabled=False, reason=reason)
        _sync_event_types(company)
    return current


@transaction.atomic
def endpoint_disable_failing(*, endpoint_id: int) -> bool:
    """The sender's: disable an endpoint that has failed for a day and email the company's
    admins, once (only the call that disables it writes the emails). Returns whether it did."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return False
    company, current = _locked(endpoint)
    if not current.enabled or current.failing_since is None:
        return False
    _set_enabled(current, enabled=False, reason=DISABLED_FAILING)
    _sync_event_types(company)
    admins = Agent.objects.filter(
        companies=current.company_id, access_level=AccessLevel.ADMIN, is_active=True
    ).order_by("pk")
    emails = EndpointDisabledEmail.objects.bulk_create(
        EndpointDisabledEmail(company_id=current.company_id, agent=admin, endpoint=current)
        for admin in admins
    )
    for email in emails:
        send_endpoint_disabled_email.delay_on_commit(email.pk)
    return True


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint) -> None:
    """Delete an endpoint and its deliveries."""
    company, current = _locked(endpoint)
    current.delete()
    _sync_event_types(company)


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: Endpoint) -> str:
    """A new signing secret, used from the next request on (retries included); returns it
    (shown to the admin once). The secret it replaces signs too, beside it, for
    ``WEBHOOK_SECRET_GRACE_SECONDS`` (Standard Webhooks allow several signatures), so a
    receiver still verifying with it goes on accepting until it switches."""
    _, current = _locked(endpoint)
    secret = Endpoint.new_secret()
    grace = settings.WEBHOOK_SECRET_GRACE_SECONDS
    current.previous_secret = current.secret if grace > 0 else ""
    current.previous_secret_until = timezone.now() + timedelta(seconds=grace) if grace > 0 else None
    current.secret = secret
    current.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    endpoint.secret = secret
    endpoint.previous_secret = current.previous_secret
    endpoint.previous_secret_until = current.previous_secret_until
    return secret


@transaction.atomic
def delivery_resend(*, delivery: Delivery) -> Delivery:
    """Send a delivery again, with the same ``webhook-id`` (receivers that already have it
    can tell): pending again, due now, a fresh day of retries. Deliveries leave in order,
    so it goes before the endpoint's later pending ones; an endpoint that is disabled sends
    it once enabled again."""
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=now, retry_from=now
    )
    delivery.refresh_from_db()
    send_deliveries.delay_on_commit(delivery.endpoint_id)
    return delivery
