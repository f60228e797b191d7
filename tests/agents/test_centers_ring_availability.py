"""``center_ring_facts`` decides each set of identical facts once per call, reads the
company's absences in one pass (the one ending last wins) and keys capped members by their
open-item counts: each member's answer is still what the rule gives that member alone
(``agents.availability.rules.availability_of``)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.availability.models import Absence, ItemLoad
from agents.availability.rules import AVAILABLE, availability_of
from agents.centers.models import ContactCenter
from agents.centers.selectors import center_ring_facts
from agents.centers.services import center_add_member
from agents.models import Agent, Presence
from routing.engine.centers import ring_list
from tests.agents.factories_centers import ContactCenterFactory, DeviceFactory
from tests.factories import AgentFactory, CompanyFactory, online

pytestmark = pytest.mark.django_db

SAYS_WHY = {"out of office", "off hours", "full"}


@pytest.fixture
def mixed(company):
    """Twelve members: uncapped with and without open items, capped (own total, own chat
    capacity) with room and full, away, never seen, one with two overlapping absences (the
    later one with a cover), one with an absence already over, one out of office for another
    company only."""
    center = ContactCenterFactory(company=company, name="Mixed", routing_type="simultaneous")
    other = CompanyFactory()
    now = timezone.now()
    people = []
    for n in range(12):
        person = AgentFactory(companies=[company, other], full_name=f"Member {n:02d}")
        online(person, presence=Presence.AWAY if n == 6 else Presence.AVAILABLE)
        center_add_member(center=center, agent=person, actor=None)
        DeviceFactory(agent=person)
        people.append(person)
    people[7].last_seen_at = None
    people[7].save(update_fields=["last_seen_at"])
    for n, open_items in ((1, 4), (2, 9)):  # uncapped: open items change nothing
        ItemLoad.objects.create(company=company, agent=people[n], total=open_items, chat=1)
    for n, capacity, open_items in ((3, 5, 2), (4, 5, 5), (5, 5, 7)):
        Agent.objects.filter(pk=people[n].pk).update(capacity=capacity)
        ItemLoad.objects.create(company=company, agent=people[n], total=open_items)
    Agent.objects.filter(pk=people[8].pk).update(chat_capacity=1)
    ItemLoad.objects.create(company=company, agent=people[8], total=1, chat=1)
    hour = timedelta(hours=1)
    Absence.objects.create(
        company=company, agent=people[9], starts_at=now - hour, ends_at=now + 3 * hour
    )
    Absence.objects.create(
        company=company,
        agent=people[9],
        starts_at=now - 2 * hour,
        ends_at=now + 30 * hour,
        cover=people[0],
    )
    Absence.objects.create(
        company=company, agent=people[10], starts_at=now - 5 * hour, ends_at=now - hour
    )
    Absence.objects.create(
        company=other, agent=people[11], starts_at=now - hour, ends_at=now + 5 * hour
    )
    return center, people


@pytest.mark.parametrize("default_capacity", [None, 6])
@pytest.mark.parametrize("channel", [None, "call", "chat"])
def test_each_member_is_decided_as_the_rule_decides_them_alone(mixed, channel, default_capacity):
    center, people = mixed
    center.company.default_capacity = default_capacity
    center.company.save(update_fields=["default_capacity"])
    center = ContactCenter.objects.select_related("company").get(pk=center.pk)

    # when the ring facts are read and decided once per set of identical facts
    facts = center_ring_facts(center=center, channel=channel)

    # each member decided alone, by the rule's own reading (absences, loads by agent)
    alone = availability_of(
        company=center.company,
        agents=Agent.objects.filter(pk__in=[p.pk for p in people]),
        channel=channel,
    )
    for member in facts.members:
        expected = alone[member.agent_id]
        assert member.available == (expected.status == AVAILABLE), member.name
        assert member.why == (expected.why if expected.status in SAYS_WHY else ""), member.name
    by_name = {m.name: m for m in facts.members}
    # the absence ending last, with its cover; the one already over and the other
    # company's change nothing
    assert by_name["Member 09"].why.startswith("out of office until ")
    assert by_name["Member 09"].why.endswith("(cover: Member 00)")
    assert by_name["Member 10"].available and by_name["Member 11"].available
    # a total capacity of 5: room with 2 open, full with 5 or 7; uncapped with 9 open rings
    # unless the company's default capacity (6) applies to them
    assert by_name["Member 03"].available
    assert not by_name["Member 04"].available and not by_name["Member 05"].available
    assert by_name["Member 01"].available
    assert by_name["Member 02"].available == (default_capacity is None)
    assert by_name["Member 08"].available == (channel != "chat")
    ringing = set(ring_list(facts).agent_ids)
    assert ringing == {m.agent_id for m in facts.members if m.available}
