"""The capacity queue's drain: oldest first, to available agents with room, never above a
capacity; after an item is handled and from the beat; a leaver's items back to Active."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.availability.models import Absence, ItemLoad
from agents.models import Presence
from contacts.interactions import interaction_mark_handled, interaction_take
from contacts.models import Interaction
from contacts.queue import interactions_release, queue_drain
from contacts.tasks import drain_capacity_queues
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db


def _queued(company, *, minutes_ago: float, channel="text"):
    return Interaction.objects.create(
        company=company,
        contact=ContactFactory(company=company),
        channel=channel,
        pool="queue",
        queued_at=timezone.now() - timedelta(minutes=minutes_ago),
        route_reason="Everyone is at capacity: waiting in the queue.",
    )


def _active(company):
    return Interaction.objects.create(
        company=company,
        contact=ContactFactory(company=company),
        channel="text",
        pool="active",
        route_reason="test",
    )


def _open_of(agent) -> int:
    return Interaction.objects.filter(routed_to=agent, status="open").count()


def _total(company, agent) -> int:
    counter = ItemLoad.objects.filter(company=company, agent=agent).first()
    return counter.total if counter else 0


@pytest.fixture
def ben(company):
    return online(AgentFactory(companies=[company], full_name="Ben Okafor", capacity=2))


def test_the_oldest_queued_items_go_out_first_up_to_capacity(company, ben):
    # given: three waiting, Ben has room for two
    newest = _queued(company, minutes_ago=1)
    oldest = _queued(company, minutes_ago=3)
    middle = _queued(company, minutes_ago=2)

    # when
    handed = queue_drain(company=company)

    # then
    assert handed == 2
    for item in (oldest, middle, newest):
        item.refresh_from_db()
    assert oldest.routed_to == middle.routed_to == ben
    assert (oldest.pool, oldest.queued_at) == ("", None)
    assert oldest.route_reason == "From the capacity queue after 3 min: Ben Okafor had room."
    assert newest.pool == "queue" and newest.routed_to is None
    assert _total(company, ben) == 2


def test_the_agent_with_fewest_open_items_gets_the_next_one(company, ben):
    # given: Ben holds one item, Cleo none
    cleo = online(AgentFactory(companies=[company], full_name="Cleo Diaz", capacity=2))
    interaction_take(company=company, interaction_id=_active(company).pk, agent=ben)
    first = _queued(company, minutes_ago=2)
    second = _queued(company, minutes_ago=1)

    # when
    queue_drain(company=company, limit=1)

    # then
    first.refresh_from_db()
    assert first.routed_to == cleo
    queue_drain(company=company)
    second.refresh_from_db()
    # Both now hold one: Cleo just got hers, so Ben (longer since his newest) gets it.
    assert second.routed_to == ben


def test_nobody_unavailable_receives_from_the_queue(company, ben):
    # given: Ben away, Cleo out of office, Dan off hours today
    online(ben, presence=Presence.AWAY)
    cleo = online(AgentFactory(companies=[company], capacity=5))
    now = timezone.now()
    Absence.objects.create(
        company=company,
        agent=cleo,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=5),
    )
    today = now.astimezone(timezone.get_current_timezone()).strftime("%a")
    online(
        AgentFactory(
            companies=[company],
            capacity=5,
            working_hours=f"{'Mon' if today != 'Mon' else 'Tue'} 09:00-10:00",
        )
    )
    item = _queued(company, minutes_ago=1)

    # when
    handed = queue_drain(company=company)

    # then
    assert handed == 0
    item.refresh_from_db()
    assert item.pool == "queue"


def test_the_beat_hands_out_to_an_agent_who_came_back(company, ben):
    # given: Ben away while an item waits
    online(ben, presence=Presence.AWAY)
    item = _queued(company, minutes_ago=4)
    assert drain_capacity_queues() == 0

    # when: Ben is back
    online(ben)
    handed = drain_capacity_queues()

    # then
    assert handed == 1
    item.refresh_from_db()
    assert item.routed_to == ben


def test_a_handled_item_gives_the_next_queued_one_to_that_agent(
    company, ben, django_capture_on_commit_callbacks
):
    # given: Ben full (2/2), two waiting; Cleo has room too but is away
    online(AgentFactory(companies=[company], capacity=2), presence=Presence.AWAY)
    held = [_active(company) for _ in range(2)]
    for item in held:
        interaction_take(company=company, interaction_id=item.pk, agent=ben)
    first = _queued(company, minutes_ago=5)
    second = _queued(company, minutes_ago=1)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        interaction_mark_handled(company=company, interaction_id=held[0].pk, agent=ben)

    # then: one in, one out, never above 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.routed_to == ben
    assert second.pool == "queue"
    assert _open_of(ben) == 2 == _total(company, ben)


def test_a_named_agent_drain_gives_to_that_agent_only(company, ben):
    # given
    cleo = online(AgentFactory(companies=[company], capacity=5))
    items = [_queued(company, minutes_ago=3 - n) for n in range(3)]

    # when
    handed = queue_drain(company=company, agent=cleo)

    # then
    assert handed == 3
    assert {i.routed_to_id for i in Interaction.objects.filter(pk__in=[i.pk for i in items])} == {
        cleo.pk
    }


def test_a_channel_nobody_has_room_for_keeps_its_place_without_holding_up_others(company):
    # given: Ava may hold one text and is holding it; a text waits before a form
    ava = online(AgentFactory(companies=[company], text_capacity=1, capacity=5))
    interaction_take(company=company, interaction_id=_active(company).pk, agent=ava)
    text = _queued(company, minutes_ago=5)
    form = _queued(company, minutes_ago=1, channel="form")

    # when
    handed = queue_drain(company=company)

    # then
    text.refresh_from_db()
    form.refresh_from_db()
    assert handed == 1
    assert form.routed_to == ava and text.pool == "queue"


def test_an_agent_without_capacity_who_is_available_takes_the_queue(company, agent):
    # given
    online(agent)
    items = [_queued(company, minutes_ago=n) for n in range(3)]

    # when
    handed = queue_drain(company=company)

    # then
    assert handed == 3
    assert ItemLoad.objects.filter(agent=agent).exists() is False
    assert all(
        i.routed_to_id == agent.pk for i in Interaction.objects.filter(pk__in=[i.pk for i in items])
    )


def test_a_leavers_open_items_go_back_to_active_and_free_their_counter(company, ben):
    # given
    for _ in range(2):
        interaction_take(company=company, interaction_id=_active(company).pk, agent=ben)

    # when
    moved = interactions_release(
        company=company, agent=ben, reason="Ben Okafor left: back to Active."
    )

    # then
    assert moved == 2
    assert _open_of(ben) == 0 and _total(company, ben) == 0
    back = Interaction.objects.filter(company=company, pool="active", routed_to__isnull=True)
    assert back.count() == 2
    assert {i.route_reason for i in back} == {"Ben Okafor left: back to Active."}
