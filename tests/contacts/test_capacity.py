"""Capacity at take and handled: a full agent is refused, a handled item frees room; the
counters' batch admission and recount; the workload page's reads; ``everyone_full``."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.availability.capacity import load_admit_many
from agents.availability.models import Absence, ItemLoad
from agents.availability.rules import Capacity
from agents.models import Presence
from contacts.interactions import interaction_mark_handled, interaction_take
from contacts.models import Interaction
from contacts.ownership import contacts_assign_primary_agent_bulk
from contacts.queue import capacity_rows, load_recount_interactions, queue_stats
from contacts.room import everyone_full
from contacts.services import contact_create
from routing.inbound import inbound_receive
from routing.rounds import contacts_delete
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db


def _item(company, *, channel="text", pool="active", routed_to=None, **fields):
    return Interaction.objects.create(
        company=company,
        contact=ContactFactory(company=company),
        channel=channel,
        pool=pool,
        routed_to=routed_to,
        route_reason="test",
        **fields,
    )


def _counter(company, agent) -> ItemLoad | None:
    return ItemLoad.objects.filter(company=company, agent=agent).first()


@pytest.fixture
def ben(company):
    return online(AgentFactory(companies=[company], full_name="Ben Okafor", capacity=2))


def test_taking_from_active_counts_against_capacity_and_handling_frees_it(company, ben):
    # given
    first, second = _item(company), _item(company, channel="form")

    # when
    interaction_take(company=company, interaction_id=first.pk, agent=ben)
    interaction_take(company=company, interaction_id=second.pk, agent=ben)

    # then
    counter = _counter(company, ben)
    assert (counter.total, counter.text, counter.form) == (2, 1, 1)
    interaction_mark_handled(company=company, interaction_id=first.pk, agent=ben)
    counter.refresh_from_db()
    assert (counter.total, counter.text, counter.form) == (1, 0, 1)


def test_a_full_agent_is_refused_and_the_item_stays_in_active(company, ben):
    # given: Ben holds 2 of 2
    for _ in range(2):
        interaction_take(company=company, interaction_id=_item(company).pk, agent=ben)
    third = _item(company)

    # when
    with pytest.raises(ValidationError) as refused:
        interaction_take(company=company, interaction_id=third.pk, agent=ben)

    # then
    assert refused.value.messages == [
        "You have 2 open items, your capacity: hand one in before taking another."
    ]
    third.refresh_from_db()
    assert third.routed_to is None and third.taken_by is None and third.pool == "active"
    assert _counter(company, ben).total == 2


def test_a_channel_limit_refuses_that_channel_only(company):
    # given: at most one text at once, no limit overall
    ava = online(AgentFactory(companies=[company], text_capacity=1))
    interaction_take(company=company, interaction_id=_item(company).pk, agent=ava)

    # when
    with pytest.raises(ValidationError) as refused:
        interaction_take(company=company, interaction_id=_item(company).pk, agent=ava)
    form = interaction_take(
        company=company, interaction_id=_item(company, channel="form").pk, agent=ava
    )

    # then
    assert refused.value.messages == [
        "You have 1 open texts, your capacity for texts: hand one in before taking another."
    ]
    assert form.routed_to == ava


def test_an_agent_without_capacity_takes_without_any_counter(company, agent):
    # given
    online(agent)
    items = [_item(company) for _ in range(3)]

    # when
    for item in items:
        interaction_take(company=company, interaction_id=item.pk, agent=agent)

    # then
    assert _counter(company, agent) is None
    assert Interaction.objects.filter(routed_to=agent).count() == 3


def test_out_of_office_agents_cannot_take_from_active(company, ben):
    # given
    now = timezone.now()
    Absence.objects.create(
        company=company,
        agent=ben,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
    )
    item = _item(company)

    # when
    with pytest.raises(ValidationError) as refused:
        interaction_take(company=company, interaction_id=item.pk, agent=ben)

    # then
    assert refused.value.messages[0].startswith("You are out of office until ")
    assert "End your absence first" in refused.value.messages[0]
    item.refresh_from_db()
    assert item.routed_to is None


def test_off_hours_agents_cannot_take_from_active(company, ben):
    # given: hours on one weekday only, and today is not it (whatever day the test runs)
    today = timezone.now().astimezone(timezone.get_current_timezone()).strftime("%a")
    other = "Mon" if today != "Mon" else "Tue"
    company.working_hours = f"{other} 09:00-10:00"
    company.save()
    item = _item(company)

    # when
    with pytest.raises(ValidationError) as refused:
        interaction_take(company=company, interaction_id=item.pk, agent=ben)

    # then
    assert refused.value.messages[0].startswith("You are off hours until ")
    assert refused.value.code == "off_hours"


def test_away_agents_are_still_told_to_set_themselves_available(company, ben):
    # given
    online(ben, presence=Presence.AWAY)

    # when / then
    with pytest.raises(ValidationError, match="Set yourself Available"):
        interaction_take(company=company, interaction_id=_item(company).pk, agent=ben)


def test_a_batch_admission_is_all_or_nothing(company, ben):
    # given: 1 of 3 texts, 1 of 4 overall
    capacity = Capacity(total=4, per_channel=(("text", 3),))
    assert load_admit_many(
        company_id=company.pk, agent_id=ben.pk, counts={"text": 1}, capacity=capacity
    )

    # when
    too_many_texts = load_admit_many(
        company_id=company.pk, agent_id=ben.pk, counts={"text": 3}, capacity=capacity
    )
    fits = load_admit_many(
        company_id=company.pk, agent_id=ben.pk, counts={"text": 2, "form": 1}, capacity=capacity
    )
    over_total = load_admit_many(
        company_id=company.pk, agent_id=ben.pk, counts={"form": 1}, capacity=capacity
    )

    # then
    assert (too_many_texts, fits, over_total) == (False, True, False)
    counter = _counter(company, ben)
    assert (counter.total, counter.text, counter.form) == (4, 3, 1)


def test_gaining_a_capacity_rebuilds_the_counter_from_the_open_items(company, agent):
    # given: three open items, one handled, before any capacity
    for channel in ("text", "text", "form"):
        _item(company, channel=channel, routed_to=agent, pool="")
    _item(company, routed_to=agent, pool="", status="handled")
    agent.capacity = 5
    agent.save()

    # when
    load_recount_interactions(company=company, agent=agent, offers=lambda: 1)

    # then
    counter = _counter(company, agent)
    assert (counter.total, counter.text, counter.form, counter.offers) == (4, 2, 1, 1)


def test_losing_the_capacity_drops_the_counter(company, ben):
    # given
    interaction_take(company=company, interaction_id=_item(company).pk, agent=ben)
    ben.capacity = None
    ben.save()

    # when
    load_recount_interactions(company=company, agent=ben)

    # then
    assert _counter(company, ben) is None


def test_capacity_rows_show_load_against_capacity_in_two_statements(
    company, ben, agent, django_assert_num_queries
):
    # given: Ben full (2/2), Andy without capacity with one open item
    for _ in range(2):
        interaction_take(company=company, interaction_id=_item(company).pk, agent=ben)
    _item(company, channel="form", routed_to=agent, pool="")

    # when: the counters, the uncounted agents' open items
    with django_assert_num_queries(2):
        rows = capacity_rows(company=company, agents=[ben, agent])

    # then
    assert (rows[ben.pk].open, rows[ben.pk].capacity, rows[ben.pk].full) == (2, 2, True)
    assert rows[ben.pk].by_channel == {"text": 2} and rows[ben.pk].percent == 100
    assert (rows[agent.pk].open, rows[agent.pk].capacity, rows[agent.pk].full) == (1, None, False)
    assert rows[agent.pk].by_channel == {"form": 1}


def test_queue_stats_give_length_and_oldest_wait(company, django_assert_num_queries):
    # given
    now = timezone.now()
    _item(company, pool="queue", queued_at=now - timedelta(minutes=7))
    _item(company, pool="queue", queued_at=now - timedelta(minutes=2))

    # when
    with django_assert_num_queries(1):
        stats = queue_stats(company=company)

    # then
    assert stats.length == 2
    assert timedelta(minutes=7) <= stats.oldest_wait < timedelta(minutes=8)
    assert queue_stats(company=ContactFactory().company).oldest_wait is None


def test_everyone_full_costs_one_statement_for_a_company_without_capacities(
    company, agent, django_assert_num_queries
):
    # given
    online(agent)

    # when / then
    with django_assert_num_queries(1):
        assert everyone_full(company=company, channel="text") is False


def test_everyone_full_when_every_available_agent_is_at_capacity(
    company, ben, django_assert_num_queries
):
    # given: Ben (2/2) and Cleo (text limit 1, one text) are full; Dan is away
    cleo = online(AgentFactory(companies=[company], text_capacity=1))
    online(AgentFactory(companies=[company], capacity=3), presence=Presence.AWAY)
    for _ in range(2):
        interaction_take(company=company, interaction_id=_item(company).pk, agent=ben)
    interaction_take(company=company, interaction_id=_item(company).pk, agent=cleo)

    # when: the EXISTS, then the agents with their absences and counters
    with django_assert_num_queries(2):
        full_for_texts = everyone_full(company=company, channel="text")
    full_for_forms = everyone_full(company=company, channel="form")

    # then: Cleo still has room for a form
    assert (full_for_texts, full_for_forms) == (True, False)


def test_nobody_at_work_is_not_everyone_full(company, ben):
    # given: Ben has room but is away: the item goes to Active as without capacity
    online(ben, presence=Presence.AWAY)

    # when / then
    assert everyone_full(company=company, channel="text") is False


def test_deleting_a_contact_releases_what_its_open_items_counted(company):
    # given an owner with a capacity of 2 holding one open text of a contact
    owner = AgentFactory(
        companies=[company], presence="available", last_seen_at=timezone.now(), capacity=2
    )
    contact = contact_create(company=company, actor=None, name="Jo", phone="+12025550190")
    contacts_assign_primary_agent_bulk(
        company=company, contact_ids=[contact.pk], agent=owner, actor=None, reason="test"
    )
    interaction, _ = inbound_receive(company=company, channel="text", phone=contact.phone)
    assert interaction.routed_to_id == owner.pk
    assert ItemLoad.objects.get(agent=owner).total == 1
    # when the contact is deleted (its items with it)
    contacts_delete(company=company, contact_ids=[contact.pk], actor=None)
    # then nothing is left counted against the owner
    row = ItemLoad.objects.get(agent=owner)
    assert (row.total, row.text) == (0, 0)
