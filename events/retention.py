"""Forgetting what was delivered: the outbox would otherwise keep every event forever (one
handover writes 100,000). Deliveries delivered or given up more than ``WEBHOOK_KEEP_DAYS``
ago are deleted, and so are dispatched events of that age that no pending delivery can still
carry (a disabled endpoint's deliveries wait, with their events, until it is enabled again)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import Delivery, Event

BATCH = 10_000


def _first_pending_event() -> int | None:
    """The smallest event id a pending delivery carries: each endpoint's deliveries are made
    in event id order, so it is in the first pending delivery of some endpoint."""
    firsts = []
    endpoints = Delivery.objects.filter(status=Delivery.Status.PENDING).values("endpoint_id")
    for endpoint_id in set(endpoints.values_list("endpoint_id", flat=True)):
        events = (
            Delivery.objects.filter(endpoint_id=endpoint_id, status=Delivery.Status.PENDING)
            .order_by("pk")
            .values_list("events", flat=True)
            .first()
        )
        if events:
            firsts.append(min(events))
    return min(firsts) if firsts else None


def _delete_in_batches(queryset) -> int:
    total = 0
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return total
        total += queryset.model.objects.filter(pk__in=ids).delete()[0]


def outbox_prune(*, now=None) -> tuple[int, int]:
    """Delete old finished deliveries and the old events nothing pending needs; returns
    (deliveries, events) deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_KEEP_DAYS)
    deliveries = _delete_in_batches(
        Delivery.objects.filter(
            status__in=[Delivery.Status.DELIVERED, Delivery.Status.FAILED], created_at__lt=cutoff
        )
    )
    events = Event.objects.filter(dispatched=True, occurred_at__lt=cutoff)
    first_pending = _first_pending_event()
    if first_pending is not None:
        events = events.filter(Q(pk__lt=first_pending))
    return deliveries, _delete_in_batches(events)
