"""``interaction.routed`` for items that change hands after they arrived: the capacity queue
handing a waiting item to an agent with room (method ``queue``), a missed response deadline
moving it to Active (method ``deadline``), a leaving agent's open items moved to Active
(method ``handover``); nothing, and no query, when no endpoint hears it."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from contacts.models import Interaction
from contacts.queue import interactions_release, queue_drain
from events.models import Event, EventType
from routing import tasks
from routing.deadlines import deadlines_sweep
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db

SWITCHBOARD = {"type": "switchboard"}


@pytest.fixture(autouse=True)
def _no_delivery(monkeypatch):
    monkeypatch.setattr("events.emit._dispatch_after_commit", lambda company_id: None)


@pytest.fixture
def listening(company):
    company.outbound_event_types = [EventType.INTERACTION_ROUTED.value]
    company.text_deadline_minutes = 15
    company.save()
    return company


@pytest.fixture
def ben(company):
    return online(AgentFactory(companies=[company], full_name="Ben Okafor", capacity=2))


def _queued(company, *, minutes_ago: float):
    return Interaction.objects.create(
        company=company,
        contact=ContactFactory(company=company, name="Jane Doe"),
        channel="text",
        pool="queue",
        queued_at=timezone.now() - timedelta(minutes=minutes_ago),
        route_reason="Everyone is at capacity: waiting in the queue.",
    )


def _routed(company, agent, *, due):
    return Interaction.objects.create(
        company=company,
        contact=ContactFactory(company=company, name="Jane Doe", primary_agent=agent),
        channel="text",
        routed_to=agent,
        route_reason="Sent to the primary agent.",
        response_due_at=due,
    )


def _routed_events():
    return list(Event.objects.filter(type=EventType.INTERACTION_ROUTED).order_by("pk"))


def test_a_queued_item_handed_out_is_routed_to_its_new_agent_by_the_queue(listening, ben):
    # given two texts waiting; Ben has room for both
    older = _queued(listening, minutes_ago=3)
    newer = _queued(listening, minutes_ago=1)
    # when the queue drains
    assert queue_drain(company=listening) == 2
    # then each says where it went, how and why, in the order they were handed out
    first, second = _routed_events()
    assert [first.data["interaction"]["id"], second.data["interaction"]["id"]] == [
        older.pk,
        newer.pk,
    ]
    assert first.contact_id == older.contact_id
    assert first.data["to"] == {
        "type": "owner",
        "agent": {"id": ben.pk, "email": ben.email, "name": "Ben Okafor"},
    }
    assert first.data["method"] == "queue"
    assert first.data["reason"] == "From the capacity queue after 3 min: Ben Okafor had room."
    assert first.data["contact"] == {
        "id": older.contact_id,
        "name": "Jane Doe",
        "phone": older.contact.phone,
    }
    assert first.data["new_contact"] is False
    assert first.data["actor"] == SWITCHBOARD


def test_a_missed_deadline_is_routed_to_active_by_the_deadline(listening, ben):
    # given Jane's text in Ben's inbox, due a minute ago, and one not yet due
    now = timezone.now()
    due = _routed(listening, ben, due=now - timedelta(minutes=1))
    _routed(listening, ben, due=now + timedelta(hours=1))
    # when the sweep runs
    with mock.patch.object(tasks.send_deadline_email, "delay"):
        assert deadlines_sweep(now=now) == 1
    # then one event says it moved to Active, with the sweep's reason
    (event,) = _routed_events()
    assert event.data["interaction"] == {"id": due.pk, "channel": "text"}
    assert event.data["to"] == {"type": "pool", "pool": "active"}
    assert event.data["method"] == "deadline"
    due.refresh_from_db()
    assert event.data["reason"] == due.route_reason
    assert event.data["reason"].startswith("Text not answered by Ben Okafor")
    assert event.data["actor"] == SWITCHBOARD
    assert event.version == due.contact.ownership_version


def test_a_leavers_open_items_are_routed_to_active_by_the_handover(listening, ben, company_admin):
    # given two open texts in Ben's inbox and one he handled
    now = timezone.now()
    first = _routed(listening, ben, due=now + timedelta(minutes=5))
    second = _routed(listening, ben, due=now + timedelta(minutes=9))
    handled = _routed(listening, ben, due=now + timedelta(minutes=9))
    Interaction.objects.filter(pk=handled.pk).update(status=Interaction.Status.HANDLED)
    # when he is deactivated and his items are released
    assert (
        interactions_release(
            company=listening, agent=ben, reason="Ben Okafor was deactivated", actor=company_admin
        )
        == 2
    )
    # then each open one says it went to Active, how, why and by whom
    events = _routed_events()
    assert [e.data["interaction"]["id"] for e in events] == [first.pk, second.pk]
    for event, item in zip(events, (first, second), strict=True):
        assert event.data["to"] == {"type": "pool", "pool": "active"}
        assert event.data["method"] == "handover"
        assert event.data["reason"] == "Ben Okafor was deactivated"
        assert event.data["actor"]["type"] == "agent"
        assert event.data["actor"]["id"] == company_admin.pk
        assert event.contact_id == item.contact_id


def test_nothing_is_written_when_nobody_hears_it(company, ben, django_assert_num_queries):
    # given a company with no endpoint, a text waiting in the queue
    _queued(company, minutes_ago=2)
    # when it is handed out, then no event, and no query was spent asking for the contacts
    assert queue_drain(company=company) == 1
    assert _routed_events() == []
    from contacts import interactions

    with django_assert_num_queries(0):
        assert (
            interactions.interactions_routed_emit(
                company=company,
                items=[interactions.Rerouted(1, 1, "text", {"type": "pool"}, "")],
                method="queue",
            )
            == 0
        )


def test_a_sweep_over_two_companies_tells_only_the_one_that_listens_of_its_own(
    listening, other_company, ben
):
    # given three missed texts of the listening company and two of another, whose endpoint
    # hears nothing
    now = timezone.now()
    other_company.text_deadline_minutes = 15
    other_company.save()
    zoe = online(AgentFactory(companies=[other_company], full_name="Zoe Quinn"))
    ours = [_routed(listening, ben, due=now - timedelta(minutes=n + 1)) for n in range(3)]
    theirs = [_routed(other_company, zoe, due=now - timedelta(minutes=1)) for _ in range(2)]
    # when one sweep moves all five
    with mock.patch.object(tasks.send_deadline_email, "delay"):
        assert deadlines_sweep(now=now) == 5
    # then the listening company has one event per item of its own, and none names the other's
    events = _routed_events()
    assert {e.company_id for e in events} == {listening.pk}
    assert sorted(e.data["interaction"]["id"] for e in events) == sorted(i.pk for i in ours)
    assert {e.contact_id for e in events} == {i.contact_id for i in ours}
    assert not {e.data["contact"]["id"] for e in events} & {i.contact_id for i in theirs}


def test_an_item_handled_before_the_sweep_gets_no_event(listening, ben):
    from contacts.interactions import interaction_mark_handled

    now = timezone.now()
    handled = _routed(listening, ben, due=now - timedelta(minutes=1))
    interaction_mark_handled(company=listening, interaction_id=handled.pk, agent=ben)
    with mock.patch.object(tasks.send_deadline_email, "delay"):
        assert deadlines_sweep(now=now) == 0
    assert _routed_events() == []
