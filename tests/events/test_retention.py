"""The outbox forgets: finished deliveries and the events nothing pending needs, after
WEBHOOK_KEEP_DAYS; a pending delivery keeps its events however old."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Delivery, Event, EventType
from events.retention import outbox_prune
from events.services import endpoint_create
from events.tasks import prune_outbox

pytestmark = pytest.mark.django_db


def _event(company, days_old: int) -> Event:
    return Event.objects.create(
        company=company,
        type=EventType.CONTACT_CREATED,
        dispatched=True,
        occurred_at=timezone.now() - timedelta(days=days_old),
    )


def test_old_finished_deliveries_and_their_events_go_pending_ones_stay(company, receiver, settings):
    # given an endpoint with an old delivered delivery, an old given-up one, an old pending
    # one (its endpoint was down) and a recent delivered one, each with its event
    settings.WEBHOOK_KEEP_DAYS = 7
    endpoint, _ = endpoint_create(
        company=company, url=receiver().url, event_types=[EventType.CONTACT_CREATED]
    )
    old = timezone.now() - timedelta(days=8)
    made = {}
    for name, status, age in (
        ("delivered", Delivery.Status.DELIVERED, 9),
        ("failed", Delivery.Status.FAILED, 9),
        ("pending", Delivery.Status.PENDING, 8),
        ("recent", Delivery.Status.DELIVERED, 1),
    ):
        event = _event(company, age)
        delivery = Delivery.objects.create(
            endpoint=endpoint,
            msg_id=f"msg_{name}",
            events=[event.pk],
            status=status,
            created_at=old if age > 7 else timezone.now(),
        )
        made[name] = (delivery, event)

    # when the outbox is pruned
    deliveries, events = outbox_prune()

    # then the two old finished deliveries and their events are gone
    assert (deliveries, events) == (2, 2)
    assert set(Delivery.objects.values_list("msg_id", flat=True)) == {"msg_pending", "msg_recent"}
    kept = set(Event.objects.values_list("pk", flat=True))
    assert kept == {made["pending"][1].pk, made["recent"][1].pk}
    # and a second run (the beat task) finds nothing more
    assert prune_outbox() == (0, 0)


def test_an_undispatched_event_is_never_pruned(company, settings):
    settings.WEBHOOK_KEEP_DAYS = 1
    event = _event(company, 30)
    Event.objects.filter(pk=event.pk).update(dispatched=False)
    assert outbox_prune() == (0, 0)
    assert Event.objects.filter(pk=event.pk).exists()
