"""Availability on every distribution path: out of office, off hours and full members are
skipped by rules' and groups' methods with the why log's reason, keep their turn, and offers
count against capacity from the moment they are made until they close (issue 21, §1 and §3)."""

import zoneinfo
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.availability.hours import DAY_LABELS
from agents.availability.models import Absence, ItemLoad
from agents.centers.selectors import center_available_count, center_ring_facts
from agents.centers.services import center_add_member
from contacts.models import Contact
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing import selectors, why
from routing.dry_run import Outcome, group_dry_run
from routing.engine import ring_list
from routing.handover import agent_book_handover
from routing.models import Decision, GroupMember, Offer, Round, RoutingRule, RuleMember
from routing.rounds import contacts_delete, offer_claim, reassignment_start, round_expire
from routing.rules import contact_route_new
from routing.selectors import group_now, group_simulate, member_facts, source_facts
from tests.agents.factories_centers import ContactCenterFactory, DeviceFactory
from tests.factories import AgentFactory, ContactFactory, online
from tests.routing.helpers import book_of, group_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(company):
    people = [
        AgentFactory(
            companies=[company], full_name=name, email=f"{name.split()[0].lower()}@acme.test"
        )
        for name in ("Ava Patel", "Ben Okafor", "Chloe Martin")
    ]
    online(*people)
    return people


@pytest.fixture
def boss(company):
    return online(AgentFactory(companies=[company], full_name="Dana Default"))


@pytest.fixture
def travel(monkeypatch):
    real_now = timezone.now

    def _travel(minutes: float):
        later = real_now() + timedelta(minutes=minutes)
        monkeypatch.setattr(timezone, "now", lambda: later)

    return _travel


def out_of_office(agent, *, company, cover=None, days=2):
    now = timezone.now()
    return Absence.objects.create(
        company=company,
        agent=agent,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=days),
        cover=cover,
    )


def stamp(company, moment) -> str:
    return f"{moment.astimezone(zoneinfo.ZoneInfo(company.time_zone)):%Y-%m-%d %H:%M}"


def not_today(company) -> str:
    """Working hours that are closed all of today in the company's zone."""
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(company.time_zone)).weekday()
    return f"{DAY_LABELS[(today + 3) % 7]} 09:00-17:00"


def at_capacity(agent, *, company, capacity=1):
    agent.capacity = capacity
    agent.save(update_fields=["capacity"])
    ItemLoad.objects.create(company=company, agent=agent, total=capacity, text=capacity)


def contact(company, owner=None, phone="+12025550142"):
    c = contact_create(company=company, actor=None, name="Olivia Nguyen", phone=phone)
    if owner is not None:
        contact_assign_primary_agent(contact=c, agent=owner, actor=None)
    return Contact.objects.get(pk=c.pk)


def passed_over(round_) -> dict[str, str]:
    decision = Decision.objects.filter(round=round_).latest("pk")
    shown = why.shown(decision, why.agent_names([decision]))
    return {v["name"]: v["why"] for v in shown.passed_over.values()}


# --- Round robin, least loaded ----------------------------------------------------------------
def test_round_robin_skips_an_out_of_office_member_saying_until_when_and_who_covers(company, team):
    # given Ava is out of office with Ben covering
    absence = out_of_office(team[0], company=company, cover=team[1])
    group = group_of(company, team, "round_robin")
    # when a contact goes through the group
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    # then Ben gets it, and the why log says why Ava did not
    assert round_.assigned_to == team[1]
    why = f"skipped: out of office until {stamp(company, absence.ends_at)} (cover: Ben Okafor)"
    assert passed_over(round_)["Ava Patel"] == why
    entry = Contact.objects.get(pk=round_.contact_id).timeline.filter(kind="primary_assigned")
    assert f"passed over: Ava Patel ({why})" in entry.get().message


def test_an_out_of_office_member_keeps_their_turn_and_gets_it_when_back(company, team, travel):
    # given Ava is out for the first two contacts of the round
    absence = out_of_office(team[0], company=company, days=1)
    group = group_of(company, team, "round_robin")
    owners = []
    for k in range(2):
        c = contact(company, phone=f"+120255501{k:02d}")
        owners.append(reassignment_start(contact=c, group=group, actor=None).assigned_to)
    assert owners == [team[1], team[2]]
    # when she is back (nobody clicks anything: the absence just ends)
    travel(24 * 60 + 1)
    online(*team)
    assert timezone.now() > absence.ends_at
    c = contact(company, phone="+12025550199")
    back = reassignment_start(contact=c, group=group, actor=None).assigned_to
    # then she is owed her turn: first in the next round, before anyone gets a second
    assert back == team[0]


def test_off_hours_members_are_skipped_by_least_loaded_whatever_their_presence(company, team):
    # given Ava has the fewest contacts but her own hours are closed all of today
    book_of(company, team[1], 2)
    team[0].working_hours = not_today(company)
    team[0].save(update_fields=["working_hours"])
    online(team[0])  # presence says Available
    group = group_of(company, team, "least_loaded")
    # when
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    # then
    assert round_.assigned_to == team[2]
    assert passed_over(round_)["Ava Patel"].startswith("skipped: off hours until ")


def test_a_full_member_is_skipped_even_when_the_group_ignores_presence(company, team):
    # given Ava is at capacity in a group that does not skip away/offline members
    at_capacity(team[0], company=company, capacity=2)
    online(team[1], presence="away")
    group = group_of(company, team, "round_robin", skip_unavailable=False)
    # when
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    # then Ben (away, but presence is not skipped here) gets it; full Ava never does
    assert round_.assigned_to == team[1]
    assert passed_over(round_)["Ava Patel"] == "skipped: at capacity (2 of 2 open items)"


def test_a_rule_skips_an_out_of_office_member(company, team):
    # given a round-robin rule whose first member is out of office
    rule = RoutingRule.objects.create(company=company, name="Web", method="round_robin")
    for member in team[:2]:
        RuleMember.objects.create(rule=rule, agent=member)
    out_of_office(team[0], company=company)
    # when a new contact arrives
    c = contact(company)
    contact_route_new(contact=c, channel="")
    # then
    assert Contact.objects.get(pk=c.pk).primary_agent == team[1]


def test_everyone_out_of_office_falls_to_the_default_assignee_even_if_out_too(company, team, boss):
    # given every member and the default assignee are out of office
    for person in (*team, boss):
        out_of_office(person, company=company)
    group = group_of(company, team, "round_robin", default_assignee=boss)
    # when
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    # then ownership is not availability: the default assignee owns it (their texts go to
    # their cover or Active while they are away)
    assert round_.status == Round.Status.FALLBACK
    assert round_.assigned_to == boss


# --- Offers -----------------------------------------------------------------------------------
def test_first_to_claim_offers_no_one_out_of_office_and_counts_the_offers_held(company, team):
    # given Ava is out of office and Ben has a capacity of 3
    out_of_office(team[0], company=company)
    team[1].capacity = 3
    team[1].save(update_fields=["capacity"])
    group = group_of(company, team, "first_to_claim")
    # when
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    # then Ben and Chloe are offered it; Ben's offer counts against his capacity
    assert set(round_.offers.values_list("agent_id", flat=True)) == {team[1].pk, team[2].pk}
    assert passed_over(round_)["Ava Patel"].startswith("skipped: out of office until ")
    load = ItemLoad.objects.get(agent=team[1])
    assert (load.total, load.offers) == (1, 1)
    assert not ItemLoad.objects.filter(agent=team[2]).exists()  # no capacity: nothing counted


def offer_of(round_, agent):
    return round_.offers.get(agent=agent)


def loads(*agents):
    return [
        tuple(ItemLoad.objects.filter(agent=a).values_list("total", "offers").first() or (0, 0))
        for a in agents
    ]


@pytest.fixture
def limited(team):
    for person in team:
        person.capacity = 5
        person.save(update_fields=["capacity"])
    return team


def test_a_claim_releases_the_winners_offer_and_the_lost_ones(company, limited):
    group = group_of(company, limited, "first_to_claim")
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    assert loads(*limited) == [(1, 1)] * 3
    # when Ben claims
    offer_claim(offer_id=offer_of(round_, limited[1]).pk, agent=limited[1])
    # then every offer closed, and every counter released exactly once
    assert loads(*limited) == [(0, 0)] * 3
    with pytest.raises(ValidationError, match="claimed it first"):
        offer_claim(offer_id=offer_of(round_, limited[2]).pk, agent=limited[2])
    assert loads(*limited) == [(0, 0)] * 3


def test_expired_offers_are_released_and_next_up_counts_the_next_one(company, limited, travel):
    group = group_of(company, limited[:2], "next_up", claim_window_minutes=3)
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    assert loads(*limited[:2]) == [(1, 1), (0, 0)]
    # when Ava's window ends: Ben is offered it
    travel(4)
    assert round_expire(round_id=round_.pk) == "next"
    assert loads(*limited[:2]) == [(0, 0), (1, 1)]
    # and when Ben's ends: nobody left, nothing held
    travel(8)
    round_expire(round_id=round_.pk)
    assert round_expire(round_id=round_.pk) == "closed"
    assert loads(*limited[:2]) == [(0, 0), (0, 0)]


def test_withdrawn_and_deleted_offers_are_released(company, limited):
    group = group_of(company, limited, "first_to_claim")
    c = contact(company)
    round_ = reassignment_start(contact=c, group=group, actor=None)
    # when Ava leaves the group: her offer is withdrawn and released
    GroupMember.objects.get(group=group, agent=limited[0]).delete()
    assert offer_of(round_, limited[0]).status == Offer.Status.WITHDRAWN
    assert loads(*limited) == [(0, 0), (1, 1), (1, 1)]
    # when the contact is deleted: the others' offers go with it, released
    contacts_delete(company=company, contact_ids=[c.pk])
    assert loads(*limited) == [(0, 0)] * 3


def test_a_member_who_filled_up_meanwhile_is_not_offered(company, limited, monkeypatch):
    # given Ava's facts were read as available, but her counter is full by the time of the offer
    at_capacity(limited[0], company=company, capacity=5)
    real = selectors.availability_of

    def stale(**kwargs):
        found = real(**kwargs)
        return {pk: real(**{**kwargs, "with_capacity": False})[pk] for pk in found}

    monkeypatch.setattr(selectors, "availability_of", stale)
    group = group_of(company, limited, "first_to_claim")
    # when
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    # then she is passed over at capacity, the others are offered, her counter is untouched
    assert set(round_.offers.values_list("agent_id", flat=True)) == {
        limited[1].pk,
        limited[2].pk,
    }
    assert passed_over(round_)["Ava Patel"] == "skipped: at capacity"
    assert ItemLoad.objects.get(agent=limited[0]).total == 5


def test_next_up_moves_past_a_member_who_filled_up_meanwhile(company, limited, monkeypatch):
    at_capacity(limited[0], company=company, capacity=5)
    real = selectors.availability_of
    monkeypatch.setattr(
        selectors, "availability_of", lambda **kw: real(**{**kw, "with_capacity": False})
    )
    group = group_of(company, limited, "next_up")
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    assert list(round_.offers.values_list("agent_id", flat=True)) == [limited[1].pk]
    assert round_.queue == [limited[2].pk]
    assert loads(*limited[1:]) == [(1, 1), (0, 0)]


def test_everyone_filled_up_meanwhile_falls_to_the_default_assignee(
    company, limited, boss, monkeypatch
):
    for person in limited:
        at_capacity(person, company=company, capacity=5)
    real = selectors.availability_of
    monkeypatch.setattr(
        selectors, "availability_of", lambda **kw: real(**{**kw, "with_capacity": False})
    )
    group = group_of(company, limited, "first_to_claim", default_assignee=boss)
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    assert round_.status == Round.Status.FALLBACK
    assert round_.assigned_to == boss
    assert not Offer.objects.filter(round=round_).exists()
    assert [ItemLoad.objects.get(agent=p).total for p in limited] == [5, 5, 5]


def test_a_claim_while_out_of_office_is_refused_and_the_offer_stays(company, team):
    group = group_of(company, team, "first_to_claim")
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    # given Ava went out of office after the offer was made
    out_of_office(team[0], company=company, days=3)
    # when she claims
    with pytest.raises(ValidationError, match="You are out of office until .*: this offer can't"):
        offer_claim(offer_id=offer_of(round_, team[0]).pk, agent=team[0])
    # then her offer stays open for its window; another member can still claim
    assert offer_of(round_, team[0]).status == Offer.Status.OPEN
    offer_claim(offer_id=offer_of(round_, team[1]).pk, agent=team[1])
    assert Contact.objects.get(pk=round_.contact_id).primary_agent == team[1]


def test_a_claim_outside_working_hours_is_refused(company, team):
    group = group_of(company, team, "first_to_claim")
    round_ = reassignment_start(contact=contact(company), group=group, actor=None)
    team[0].working_hours = not_today(company)
    team[0].save(update_fields=["working_hours"])
    with pytest.raises(ValidationError, match="outside your working hours until"):
        offer_claim(offer_id=offer_of(round_, team[0]).pk, agent=team[0])


# --- The same facts everywhere ----------------------------------------------------------------
def test_handover_plan_dry_run_and_simulation_skip_out_of_office_with_the_same_reason(
    company, team, agent
):
    absence = out_of_office(team[0], company=company, cover=team[1])
    why = f"out of office until {stamp(company, absence.ends_at)} (cover: Ben Okafor)"
    group = group_of(company, team, "round_robin")
    c = contact(company, owner=agent)
    # the dry run
    dry = group_dry_run(contact=c, group=group)
    assert dry.outcome == Outcome.ASSIGNED and dry.agent == team[1]
    assert dry.decision.excluded["passed_over"][str(team[0].pk)] == f"skipped: {why}"
    # the simulation page's facts
    assert group_now(group=group).skipped == [(team[0], why)]
    assert group_simulate(group=group, count=4) == [team[1], team[2], team[1], team[2]]
    assert group_simulate(group=group, count=3, everyone_available=True) == team
    # the handover of a whole book
    book_of(company, agent, 3)
    agent_book_handover(company=company, agent=agent, group=group, actor=None)
    owners = Contact.objects.filter(company=company).values_list("primary_agent", flat=True)
    assert team[0].pk not in set(owners)
    decision = Decision.objects.filter(group=group).latest("pk")
    assert decision.excluded["passed_over"][str(team[0].pk)] == f"skipped: {why}"


def test_member_facts_cost_the_same_statements_for_any_number_of_members(
    company, django_assert_num_queries
):
    crowd = [AgentFactory(companies=[company], capacity=3) for _ in range(12)]
    online(*crowd)
    for person in crowd[:4]:
        out_of_office(person, company=company)
    # absences 1 + open-item counters 1 (someone has a capacity) + primary contacts 1
    with django_assert_num_queries(3):
        members = member_facts(company, crowd)
    assert [m.presence for m in members].count("out of office") == 4
    # without capacities: absences 1 + primary contacts 1
    few = [AgentFactory(companies=[company]) for _ in range(2)]
    with django_assert_num_queries(2):
        member_facts(company, few)


def test_source_facts_leave_out_deactivated_members(company, team):
    group = group_of(company, team, "round_robin")
    team[0].is_active = False
    team[0].save(update_fields=["is_active"])
    members, _ = source_facts(group)
    assert [m.id for m in members] == [team[1].pk, team[2].pk]


def test_a_contact_owned_by_an_out_of_office_agent_is_moved_away_from_them(company, team):
    # (the owner is skipped as the owner and as out of office alike)
    owner = team[0]
    out_of_office(owner, company=company)
    c = ContactFactory(company=company, primary_agent=owner)
    group = group_of(company, team, "round_robin")
    round_ = reassignment_start(contact=c, group=group, actor=None)
    assert round_.assigned_to in (team[1], team[2])


# --- Contact-center ring lists ----------------------------------------------------------------
def test_a_ring_list_rings_nobody_out_of_office_off_hours_or_full_and_says_why(
    company, team, django_assert_num_queries
):
    # given a simultaneous center of four: Ava out of office, Ben off hours, Chloe full for
    # chats, Dana available
    dana = online(AgentFactory(companies=[company], full_name="Dana Here"))
    center = ContactCenterFactory(company=company, routing_type="simultaneous")
    for person in (*team, dana):
        center_add_member(center=center, agent=person, actor=None)
        DeviceFactory(agent=person)
    absence = out_of_office(team[0], company=company, cover=team[1])
    team[1].working_hours = not_today(company)
    team[1].save(update_fields=["working_hours"])
    team[2].chat_capacity = 1
    team[2].save(update_fields=["chat_capacity"])
    ItemLoad.objects.create(company=company, agent=team[2], total=1, chat=1)
    center.company = company
    # when a chat rings the center: one statement for members, absences, hours and loads
    with django_assert_num_queries(1):
        facts = center_ring_facts(center=center, channel="chat")
    ring = ring_list(facts)
    # then only Dana rings; the others are left out saying why
    assert ring.agent_ids == [dana.pk]
    assert ring.excluded[team[0].pk] == (
        f"out of office until {stamp(company, absence.ends_at)} (cover: Ben Okafor)"
    )
    assert ring.excluded[team[1].pk].startswith("off hours until ")
    assert ring.excluded[team[2].pk] == "at capacity for chats (1 of 1 open)"
    # a call counts against the total only: Chloe (1 open chat, no total capacity) rings
    assert set(ring_list(center_ring_facts(center=center, channel="call")).agent_ids) == {
        team[2].pk,
        dana.pk,
    }
    # the dashboard's count says the same as the ring list of a call with no channel
    assert center_available_count(center=center) == 2
