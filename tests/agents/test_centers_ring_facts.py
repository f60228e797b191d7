"""``center_ring_facts`` (one written-out statement) gives the facts, and so the ring list, a
plain ORM reading of the same rows gives, for every routing type of a center."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.centers.facts import ROUTING_TYPES, CenterFacts, DeviceFact, MemberFact
from agents.centers.models import AgentLine, CallType, CenterMembership, Device, SkillRank
from agents.centers.selectors import center_is_open, center_ring_facts
from agents.centers.services import center_add_member
from agents.models import Presence
from routing.engine.centers import ring_list
from tests.agents.factories_centers import ContactCenterFactory, DeviceFactory
from tests.factories import AgentFactory, CompanyFactory, online

pytestmark = pytest.mark.django_db


def orm_ring_facts(center, call_type: str = "") -> CenterFacts:
    """The facts read the plain way: model instances, one at a time."""
    members = []
    memberships = CenterMembership.objects.filter(center=center).order_by("position", "pk")
    for membership in memberships:
        agent = membership.agent
        if not agent.is_active or not agent.companies.filter(pk=center.company_id).exists():
            continue  # no longer works here: neither rings nor is left out
        rank = SkillRank.objects.filter(
            membership=membership, call_type__center=center, call_type__name=call_type
        ).first()
        line = AgentLine.objects.filter(agent=agent).first()
        members.append(
            MemberFact(
                agent_id=agent.pk,
                name=agent.full_name or agent.email,
                available=agent.effective_presence == Presence.AVAILABLE,
                devices=tuple(
                    DeviceFact(id=d.pk, kind=d.kind, label=str(d), ring=True)
                    for d in Device.objects.filter(agent=agent, ring=True).order_by("pk")
                ),
                idle_since=line.idle_since if line else None,
                rank=rank.rank if call_type and rank else None,
                position=membership.position,
                email=agent.email,
            )
        )
    return CenterFacts(
        routing_type=center.routing_type,
        members=tuple(members),
        round_robin_order=tuple(int(a) for a in center.round_robin_order),
        call_type=call_type,
        is_open=center_is_open(center),
        after_hours=center.get_after_hours_display(),
    )


@pytest.fixture
def crowd(company):
    """A center with members of every kind: available, away, never seen, seen too long ago,
    deactivated, removed from the company; with zero, one, two (one silent) or a forwarding
    device; ranked or not for billing (and ranked for another center's billing); idle since
    different times or never; with equal positions."""
    center = ContactCenterFactory(company=company, name="Crowd")
    other = ContactCenterFactory(company=company, name="Other")
    billing = CallType.objects.create(center=center, name="billing")
    CallType.objects.create(center=center, name="sales")
    other_billing = CallType.objects.create(center=other, name="billing")
    now = timezone.now()
    people = []
    for n in range(24):
        person = AgentFactory(companies=[company], full_name="" if n == 5 else f"Person {n:02d}")
        presence = Presence.AWAY if n % 7 == 3 else Presence.AVAILABLE
        online(person, presence=presence)
        center_add_member(center=center, agent=person, actor=None)
        center_add_member(center=other, agent=person, actor=None)
        if n == 8:
            person.last_seen_at = None
        elif n == 9:
            person.last_seen_at = now - timedelta(days=1)
        elif n == 10:
            person.is_active = False  # after joining: the row stays, neither rings nor counts
        person.save()
        if n == 11:
            person.companies.set([CompanyFactory()])
        membership = CenterMembership.objects.get(center=center, agent=person)
        membership.position = n // 3  # ties: three members per place
        membership.save()
        if n % 4 != 0:
            DeviceFactory(agent=person, kind=Device.Kind.MOBILE, label=f"m{n}" if n % 2 else "")
        if n % 5 == 0:
            DeviceFactory(agent=person, kind=Device.Kind.DESK_PHONE, ring=False)
        if n % 6 == 1:
            DeviceFactory(agent=person, kind=Device.Kind.FORWARDING, number="+12025550100")
        if n % 3:
            SkillRank.objects.create(membership=membership, call_type=billing, rank=(n * 37) % 101)
        if n % 4 == 2:
            # the other center's "billing" (the admin lets a rank point there): not this one's
            SkillRank.objects.create(membership=membership, call_type=other_billing, rank=1)
        if n % 3 == 1:
            AgentLine.objects.update_or_create(
                agent=person, defaults={"idle_since": now - timedelta(minutes=n % 5)}
            )
        people.append(person)
    center.round_robin_order = [people[7].pk, people[2].pk, people[13].pk]
    center.save()
    return center


@pytest.mark.parametrize("routing_type", ROUTING_TYPES)
@pytest.mark.parametrize("call_type", ["", "billing", "sales", "no such type"])
def test_the_facts_and_the_ring_list_match_a_plain_orm_reading(crowd, routing_type, call_type):
    # given a center of every kind of member, with this routing type
    crowd.routing_type = routing_type
    crowd.save()

    # when its facts are gathered in one statement
    facts = center_ring_facts(center=crowd, call_type=call_type)

    # then they are the plain reading's, member by member, and so is the ring list
    expected = orm_ring_facts(crowd, call_type)
    assert facts == expected
    assert ring_list(facts) == ring_list(expected)
    assert len(facts.members) == 22  # the deactivated and the removed are not members here
    if routing_type == "skills" and call_type in ("sales", "no such type"):
        # nobody is ranked for it: nobody rings, everyone is left out with a reason
        assert not ring_list(facts).ring and len(ring_list(facts).excluded) == 22
    else:
        assert ring_list(facts).ring  # somebody rings (not a comparison of two empty lists)


def test_one_statement_whatever_the_members(crowd, django_assert_num_queries):
    crowd.routing_type = "skills"
    crowd.save()
    with django_assert_num_queries(1):
        facts = center_ring_facts(center=crowd, call_type="billing")
    ranks = {m.name: m.rank for m in facts.members}
    # the center's own billing rank (not the other center's 1), none without a row
    assert ranks["Person 02"] == 74 and ranks["Person 06"] is None
    forwarding = next(m for m in facts.members if m.name == "Person 01").devices
    assert [d.label for d in forwarding] == ["m1", "Forwarding number (+12025550100)"]


def test_a_center_without_members_rings_nobody(company):
    center = ContactCenterFactory(company=company, routing_type="skills")
    facts = center_ring_facts(center=center, call_type="billing")
    assert facts.members == ()
    assert ring_list(facts).reason.startswith("Nobody rings")
