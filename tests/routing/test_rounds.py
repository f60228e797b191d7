"""Reassignment groups and routing rules, end to end through the services."""

from datetime import timedelta
from html import unescape

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.models import Presence
from contacts.models import Contact, TimelineEntry
from contacts.ownership import contact_assign_primary_agent, contacts_assign_primary_agent_bulk
from contacts.services import contact_create
from routing import why
from routing.handover import agent_book_handover
from routing.inbound import inbound_receive
from routing.models import (
    Decision,
    GroupMember,
    Offer,
    ReassignmentGroup,
    Round,
    RoutingRule,
    RuleMember,
)
from routing.rounds import offer_claim, reassignment_start, round_expire
from routing.selectors import fairness, group_simulate, rounds_due
from routing.tasks import sweep_rounds
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db


@pytest.fixture
def travel(monkeypatch):
    """Move the clock forward (no sleeping)."""
    real_now = timezone.now

    def _travel(minutes: float):
        later = real_now() + timedelta(minutes=minutes)
        monkeypatch.setattr(timezone, "now", lambda: later)

    return _travel


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
    boss = AgentFactory(companies=[company], full_name="Dana Default", email="dana@acme.test")
    online(boss)
    return boss


def make_group(company, members, method, boss=None, **kwargs):
    group = ReassignmentGroup.objects.create(
        company=company, name=f"{method} group", method=method, default_assignee=boss, **kwargs
    )
    for agent in members:
        GroupMember.objects.create(group=group, agent=agent)
    return group


@pytest.fixture
def olivia(company, agent):
    contact = contact_create(
        company=company, actor=None, name="Olivia Nguyen", phone="+12025550142"
    )
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    return contact


def test_round_robin_reassigns_at_once_with_timeline_and_why(
    company, team, olivia, company_admin, agent
):
    group = make_group(company, team, "round_robin")
    round_ = reassignment_start(contact=olivia, group=group, actor=company_admin)
    olivia.refresh_from_db()
    assert olivia.primary_agent == team[0]
    assert round_.status == Round.Status.ASSIGNED
    started, changed = olivia.timeline.filter(
        kind__in=["reassign_started", "primary_changed"]
    ).order_by("pk")
    assert started.message == (
        "Re-assign through group “round_robin group” (round robin) started by Ada Admin."
    )
    assert changed.message.startswith(
        "Primary agent changed from Andy Agent to Ava Patel by Switchboard — group “round_robin "
        "group” (round robin): next in rotation (round 1)"
    )
    decision = Decision.objects.get(round=round_)
    assert decision.chosen == team[0]
    assert decision.candidates == [a.pk for a in team]  # stored by id, named when shown
    shown = why.shown(decision, why.agent_names([decision]))
    assert [c["name"] for c in shown.candidates] == ["Ava Patel", "Ben Okafor", "Chloe Martin"]


def test_round_robin_skips_away_members_and_says_why(company, team, olivia):
    online(team[0], presence=Presence.AWAY)
    group = make_group(company, team, "round_robin")
    reassignment_start(contact=olivia, group=group, actor=None)
    olivia.refresh_from_db()
    assert olivia.primary_agent == team[1]
    assert (
        "passed over: Ava Patel (away)"
        in olivia.timeline.filter(kind="primary_changed").first().message
    )


def test_the_why_log_names_its_agents_when_shown(client, company, company_admin, team, olivia):
    # given a decision that passed Ava over (the log keeps her id, not her name)
    online(team[0], presence=Presence.AWAY)
    reassignment_start(contact=olivia, group=make_group(company, team, "round_robin"), actor=None)
    decision = Decision.objects.get(contact=olivia)
    assert decision.excluded["passed_over"] == {str(team[0].pk): "away"}
    # when Ava's name changes, the admin's page of the entry shows the name she has now
    team[0].full_name = "Ava Patel-Okafor"
    team[0].save()
    client.force_login(company_admin)
    page = client.get(f"/admin/routing/decision/{decision.pk}/change/")
    assert page.status_code == 200
    text = unescape(page.content.decode())
    assert "Ava Patel-Okafor (away)" in text
    assert "Ben Okafor, Chloe Martin" in text
    # and an agent no longer there is named by id
    names = why.agent_names([decision])
    del names[team[1].pk]
    shown = why.shown(decision, names)
    assert {"id": team[1].pk, "name": f"agent #{team[1].pk}"} in shown.candidates


def test_why_log_entries_written_with_names_are_shown_with_them(company, team, olivia):
    decision = Decision.objects.create(
        company=company,
        contact=olivia,
        method="round_robin",
        candidates=[{"id": team[1].pk, "name": "Ben (then)"}],
        excluded={"passed_over": {str(team[0].pk): {"name": "Ava (then)", "why": "away"}}},
        reason="an entry from before ids",
    )
    shown = why.shown(decision, why.agent_names([decision]))
    assert shown.candidates == [{"id": team[1].pk, "name": "Ben (then)"}]
    assert shown.passed_over == {str(team[0].pk): {"name": "Ava (then)", "why": "away"}}
    assert shown.had_their_turn == 0


def test_rotation_is_stored_and_membership_changes_do_not_reset_it(company, team):
    group = make_group(company, team[:2], "round_robin")
    contacts = ContactFactory.create_batch(3, company=company)
    reassignment_start(contact=contacts[0], group=group, actor=None)  # Ava
    GroupMember.objects.create(group=group, agent=team[2])  # Chloe joins mid-round
    reassignment_start(contact=contacts[1], group=group, actor=None)  # Ben: round 1 completes
    reassignment_start(contact=contacts[2], group=group, actor=None)  # round 2: Ava
    owners = [Contact.objects.get(pk=c.pk).primary_agent for c in contacts]
    assert owners == [team[0], team[1], team[0]]
    group.refresh_from_db()
    assert group.rotation["round"] == 2
    assert team[2].pk in group.rotation["round_members"]


def test_first_to_claim_offers_everyone_and_the_first_claim_wins(company, team, olivia, boss):
    group = make_group(company, team, "first_to_claim", boss=boss, claim_window_minutes=10)
    round_ = reassignment_start(contact=olivia, group=group, actor=None)
    assert round_.status == Round.Status.OPEN
    offers = {o.agent_id: o for o in round_.offers.all()}
    assert set(offers) == {a.pk for a in team}
    # in progress: nobody can change the primary agent meanwhile
    with pytest.raises(ValidationError) as error:
        contact_assign_primary_agent(contact=olivia, agent=boss, actor=None)
    assert "Re-Assign in progress" in str(error.value)
    # Ben claims first, Chloe is told
    offer_claim(offer_id=offers[team[1].pk].pk, agent=team[1])
    with pytest.raises(ValidationError, match="Ben Okafor claimed it first"):
        offer_claim(offer_id=offers[team[2].pk].pk, agent=team[2])
    olivia.refresh_from_db()
    assert olivia.primary_agent == team[1]
    assert "claimed by Ben Okafor" in olivia.timeline.filter(kind="primary_changed").first().message
    assert set(Offer.objects.filter(round=round_).values_list("status", flat=True)) == {
        "claimed",
        "lost",
    }


def test_nobody_claims_in_the_window_so_the_default_assignee_gets_it(
    company, team, olivia, boss, travel
):
    group = make_group(company, team, "first_to_claim", boss=boss, claim_window_minutes=5)
    round_ = reassignment_start(contact=olivia, group=group, actor=None)
    assert round_expire(round_id=round_.pk) == "not-due"
    travel(6)
    # the sweep finds it (as it would if the expiry message had been lost)
    assert rounds_due() == [round_.pk]
    assert sweep_rounds() == 1
    olivia.refresh_from_db()
    assert olivia.primary_agent == boss
    assert (
        "nobody in group “first_to_claim group” (first to claim) claimed it within 5 minute(s)"
        in (olivia.timeline.filter(kind="primary_changed").first().message)
    )
    # a late claim is told the window closed; running the expiry again changes nothing
    offer = round_.offers.filter(agent=team[0]).get()
    with pytest.raises(ValidationError, match="already been assigned|Too late"):
        offer_claim(offer_id=offer.pk, agent=team[0])
    assert round_expire(round_id=round_.pk) == "closed"


def test_a_claim_after_the_window_but_before_the_sweep_is_too_late(company, team, olivia, travel):
    group = make_group(company, team, "first_to_claim", claim_window_minutes=5)
    round_ = reassignment_start(contact=olivia, group=group, actor=None)
    offer = round_.offers.get(agent=team[0])
    travel(5.5)
    with pytest.raises(ValidationError, match="Too late: the claim window closed"):
        offer_claim(offer_id=offer.pk, agent=team[0])


def test_next_up_offers_one_at_a_time_then_falls_back(company, team, olivia, boss, travel):
    group = make_group(company, team[:2], "next_up", boss=boss, claim_window_minutes=3)
    round_ = reassignment_start(contact=olivia, group=group, actor=None)
    assert list(round_.offers.values_list("agent_id", flat=True)) == [team[0].pk]
    travel(4)
    assert round_expire(round_id=round_.pk) == "next"
    assert set(round_.offers.filter(status="open").values_list("agent_id", flat=True)) == {
        team[1].pk
    }
    travel(8)
    round_expire(round_id=round_.pk)
    olivia.refresh_from_db()
    assert olivia.primary_agent == boss


def test_removing_a_member_withdraws_their_offers_at_once(
    company, team, olivia, boss, django_capture_on_commit_callbacks
):
    group = make_group(company, team[:1], "next_up", boss=boss)
    round_ = reassignment_start(contact=olivia, group=group, actor=None)
    offer = round_.offers.get()
    with django_capture_on_commit_callbacks(execute=True):
        GroupMember.objects.filter(group=group, agent=team[0]).delete()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN
    with pytest.raises(ValidationError, match="withdrawn"):
        offer_claim(offer_id=offer.pk, agent=team[0])
    olivia.refresh_from_db()
    assert olivia.primary_agent == boss  # next up had nobody left


def test_nobody_available_and_no_default_leaves_the_owner_with_a_timeline_row(
    company, team, olivia, agent
):
    online(*team, presence=Presence.AWAY)
    group = make_group(company, team, "least_loaded")
    round_ = reassignment_start(contact=olivia, group=group, actor=None)
    assert round_.status == Round.Status.UNASSIGNED
    olivia.refresh_from_db()
    assert olivia.primary_agent == agent
    last = olivia.timeline.first()
    assert last.kind == TimelineEntry.Kind.REASSIGN_FINISHED
    assert "no default assignee; Andy Agent stays primary agent." in last.message


def test_a_second_reassignment_while_one_is_open_is_refused(company, team, olivia):
    group = make_group(company, team, "first_to_claim")
    reassignment_start(contact=olivia, group=group, actor=None)
    with pytest.raises(ValidationError, match="already in progress"):
        reassignment_start(contact=olivia, group=group, actor=None)


def test_bulk_assignment_refuses_contacts_being_reassigned(company, team, olivia, agent):
    group = make_group(company, team, "first_to_claim")
    reassignment_start(contact=olivia, group=group, actor=None)
    other = ContactFactory(company=company)
    with pytest.raises(ValidationError, match="1 of the selected contacts are being re-assigned"):
        contacts_assign_primary_agent_bulk(
            company=company, contact_ids=[olivia.pk, other.pk], agent=team[0], actor=None
        )


def test_another_companys_group_cannot_be_used(company, other_company, olivia):
    group = make_group(other_company, [], "round_robin")
    with pytest.raises(ValidationError, match="another company"):
        reassignment_start(contact=olivia, group=group, actor=None)


def test_handover_of_a_book_spreads_it_evenly(company, team, agent):
    contacts = ContactFactory.create_batch(10, company=company)
    contacts_assign_primary_agent_bulk(
        company=company, contact_ids=[c.pk for c in contacts], agent=agent, actor=None
    )
    group = make_group(company, [*team, agent], "round_robin")
    moved = agent_book_handover(company=company, agent=agent, group=group, actor=None)
    assert moved == 10
    counts = sorted(
        Contact.objects.filter(company=company, primary_agent__in=team)
        .values_list("primary_agent")
        .order_by()
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("*"))
        .values_list("n", flat=True)
    )
    assert counts == [3, 3, 4]
    assert not Contact.objects.filter(primary_agent=agent).exists()
    assert Decision.objects.filter(group=group).count() == 10


def test_fairness_report_and_simulation(company, team):
    group = make_group(company, team, "round_robin")
    for contact in ContactFactory.create_batch(5, company=company):
        reassignment_start(contact=contact, group=group, actor=None)
    report = fairness(
        group=group,
        since=timezone.now() - timedelta(days=1),
        until=timezone.now() + timedelta(minutes=1),
    )
    assert [r["count"] for r in report["rows"]] == [2, 2, 1]
    assert report["total"] == 5 and report["spread"] == 1
    group.refresh_from_db()
    before = dict(group.rotation)
    upcoming = group_simulate(group=group, count=4)
    assert upcoming == [team[2], team[0], team[1], team[2]]
    group.refresh_from_db()
    assert group.rotation == before  # simulating changed nothing


# --- Routing rules for new contacts --------------------------------------------------------
def make_rule(company, members, position=0, **kwargs):
    rule = RoutingRule.objects.create(
        company=company, name=f"rule {position}", position=position, **kwargs
    )
    for agent in members:
        RuleMember.objects.create(rule=rule, agent=agent)
    return rule


def test_first_matching_rule_routes_a_new_contact_from_the_webhook(company, team):
    make_rule(company, [team[0]], position=1, sources="zillow", method="round_robin")
    make_rule(company, [team[1]], position=2, method="round_robin")  # catch-all
    make_rule(company, [team[2]], position=0, paused=True, method="round_robin")
    interaction, _ = inbound_receive(
        company=company, channel="text", phone="+12025550177", source="zillow", body="hi"
    )
    contact = interaction.contact
    assert contact.primary_agent == team[0]
    # and the text itself goes to the new primary agent, who is available
    assert interaction.routed_to == team[0]
    other, _ = inbound_receive(company=company, channel="form", phone="+12025550178", source="web")
    assert other.contact.primary_agent == team[1]


def test_rule_conditions_channel_tag_and_fields(company, team):
    from routing.rules import rule_for

    rule = make_rule(company, team, channels="form", has_email="yes", tag="vip")
    contact = ContactFactory(company=company, email="x@y.com", tags="VIP, buyer")
    assert rule_for(contact=contact, channel="form") == rule
    assert rule_for(contact=contact, channel="text") is None
    contact.tags = "buyer"
    assert rule_for(contact=contact, channel="form") is None


def test_rule_active_hours_outside_means_the_next_rule(company, team):
    from datetime import time

    from routing.rules import rule_for

    night = make_rule(company, team[:1], position=0, active_from=time(22), active_until=time(6))
    day = make_rule(company, team[1:], position=1)
    contact = ContactFactory(company=company)
    noon = timezone.now().replace(hour=17, minute=0)  # 12:00 in New York
    assert rule_for(contact=contact, now=noon) == day
    late = timezone.now().replace(hour=4, minute=0)  # 23:00 in New York
    assert rule_for(contact=contact, now=late) == night


def test_no_rule_matched_leaves_the_contact_for_the_active_pool(company, team):
    interaction, _ = inbound_receive(company=company, channel="text", phone="+12025550179")
    assert interaction.contact.primary_agent is None
    assert interaction.pool == "active"


def test_offer_emails_reach_the_offered_agents(
    company, team, olivia, django_capture_on_commit_callbacks
):
    group = make_group(company, team[:2], "first_to_claim")
    with django_capture_on_commit_callbacks(execute=True):
        reassignment_start(contact=olivia, group=group, actor=None)
    offers = [m for m in mail.outbox if m.subject.startswith("Claim")]
    assert sorted(m.to[0] for m in offers) == ["ava@acme.test", "ben@acme.test"]
    assert "/lead-center/?tab=offers" in unescape(offers[0].body)


def test_next_up_going_to_the_default_assignee_is_nobodys_turn(company, team, boss, travel):
    group = make_group(company, team, "next_up", boss=boss, claim_window_minutes=1)
    first, second, third = ContactFactory.create_batch(3, company=company)
    round_ = reassignment_start(contact=first, group=group, actor=None)
    offer_claim(offer_id=round_.offers.get().pk, agent=team[0])  # Ava had her turn
    round_ = reassignment_start(contact=second, group=group, actor=None)
    for minutes in (2, 4, 6):  # Ben, Chloe, Ava let it pass: the default assignee gets it
        travel(minutes)
        round_expire(round_id=round_.pk)
    assert Contact.objects.get(pk=second.pk).primary_agent == boss
    round_ = reassignment_start(contact=third, group=group, actor=None)
    # Ben and Chloe are still owed their turn this round
    assert round_.offers.get().agent == team[1]


def test_next_up_rules_advance_their_rotation_too(company, team):
    make_rule(company, team, method="next_up")
    offered = []
    for n in range(3):
        interaction, _ = inbound_receive(
            company=company, channel="text", phone=f"+1202555{n + 500:04d}"
        )
        round_ = Round.objects.get(contact=interaction.contact)
        offer = round_.offers.get()
        offered.append(offer.agent)
        offer_claim(offer_id=offer.pk, agent=offer.agent)
    assert offered == team


def test_removing_a_rule_member_withdraws_their_offers(
    company, team, django_capture_on_commit_callbacks
):
    rule = make_rule(company, team[:1], method="first_to_claim")
    interaction, _ = inbound_receive(company=company, channel="text", phone="+12025550600")
    offer = Round.objects.get(contact=interaction.contact).offers.get()
    with django_capture_on_commit_callbacks(execute=True):
        RuleMember.objects.filter(rule=rule).delete()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN


def test_handover_with_a_default_assignee_who_cannot_own_contacts_moves_nothing_and_does_not_fail(
    company, team, agent, leads_agent
):
    online(*team, presence=Presence.AWAY)
    contacts = ContactFactory.create_batch(3, company=company)
    contacts_assign_primary_agent_bulk(
        company=company, contact_ids=[c.pk for c in contacts], agent=agent, actor=None
    )
    group = make_group(company, team, "round_robin", boss=leads_agent)
    assert agent_book_handover(company=company, agent=agent, group=group, actor=None) == 0
    assert Contact.objects.filter(primary_agent=agent).count() == 3


def test_a_held_contact_is_refused_by_every_path_but_its_round(company, team, olivia):
    group = make_group(company, team[1:], "first_to_claim")
    reassignment_start(contact=olivia, group=group, actor=None)
    olivia.refresh_from_db()
    assert olivia.reassign_in_progress
    with pytest.raises(ValidationError, match="Re-Assign in progress through group"):
        contact_assign_primary_agent(contact=olivia, agent=team[1], actor=None)


# --- A reassignment never offers the contact to its current owner -------------------------
def test_first_to_claim_does_not_offer_the_contact_to_its_owner(company, team, olivia):
    # given Olivia is owned by Ava, a member of the group
    contact_assign_primary_agent(contact=olivia, agent=team[0], actor=None)
    group = make_group(company, team, "first_to_claim")
    # when she is sent through the group
    round_ = reassignment_start(contact=olivia, group=group, actor=None)
    # then only the others are offered her, and the why log says why Ava was not
    assert set(round_.offers.values_list("agent_id", flat=True)) == {team[1].pk, team[2].pk}
    decision = Decision.objects.get(round=round_)
    assert decision.excluded["passed_over"][str(team[0].pk)] == "skipped: current owner"
    passed = why.shown(decision, why.agent_names([decision])).passed_over
    assert passed[str(team[0].pk)] == {"name": "Ava Patel", "why": "skipped: current owner"}


def test_round_robin_moves_the_contact_away_from_its_owner(company, team, olivia):
    # given Ava, first in the rotation, owns Olivia
    contact_assign_primary_agent(contact=olivia, agent=team[0], actor=None)
    group = make_group(company, team, "round_robin")
    # when she is sent through the group
    reassignment_start(contact=olivia, group=group, actor=None)
    # then the next member gets her
    olivia.refresh_from_db()
    assert olivia.primary_agent == team[1]
    assert "Ava Patel (skipped: current owner)" in (
        olivia.timeline.filter(kind="primary_changed").first().message
    )


def test_an_owner_alone_in_the_group_hands_the_contact_to_the_default_assignee(
    company, team, olivia, boss
):
    # given Ava owns Olivia and is the group's only member
    contact_assign_primary_agent(contact=olivia, agent=team[0], actor=None)
    group = make_group(company, [team[0]], "next_up", boss=boss)
    # when she is sent through the group
    round_ = reassignment_start(contact=olivia, group=group, actor=None)
    # then nobody is offered her and she falls to the default assignee at once
    assert not round_.offers.exists()
    olivia.refresh_from_db()
    assert round_.status == Round.Status.FALLBACK
    assert olivia.primary_agent == boss
