"""Ring facts for one center from the database, devices, round-robin outcomes, alerts."""

import pytest
from django.core import mail
from django.utils import timezone

from agents.centers.alerts import center_alerts_evaluate
from agents.centers.devices import device_save, device_set_ring
from agents.centers.models import CallType, CenterAlertState, Device, QueueItem, SkillRank
from agents.centers.selectors import center_ring_facts
from agents.centers.services import (
    center_add_member,
    center_record_ring_outcome,
    membership_set_role,
)
from agents.centers.tasks import evaluate_center_alerts
from routing.engine.centers import NO_RANK, NO_RINGING_DEVICE, NOT_AVAILABLE, ring_list
from tests.agents.factories_centers import ContactCenterFactory, DeviceFactory
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db


def people(company, n):
    return [online(AgentFactory(companies=[company], full_name=f"P{i}")) for i in range(n)]


def test_ring_list_from_the_database_ranks_skills_and_rings_only_ringing_devices(
    company, django_assert_num_queries
):
    # given a skills-based center, three members, one with a silent device only
    center = ContactCenterFactory(company=company, routing_type="skills")
    a, b, c = people(company, 3)
    billing = CallType.objects.create(center=center, name="billing")
    for person in (a, b, c):
        center_add_member(center=center, agent=person, actor=None)
    DeviceFactory(agent=a, kind=Device.Kind.MOBILE)
    DeviceFactory(agent=b, kind=Device.Kind.DESK_PHONE)
    DeviceFactory(agent=b, kind=Device.Kind.LAPTOP, ring=False)
    DeviceFactory(agent=c, kind=Device.Kind.ROOM_PHONE, ring=False)
    SkillRank.objects.create(membership=a.center_memberships.get(), call_type=billing, rank=20)
    # when the facts are gathered (1 statement: members with agents, lines, ranks, devices)
    with django_assert_num_queries(1):
        facts = center_ring_facts(center=center, call_type="billing")
    result = ring_list(facts)
    # then a (20) rings; b, with no billing rank, is not rung for billing; c has no ringing
    # device
    assert result.agent_ids == [a.pk]
    assert result.ring[0].rank == 20
    assert [d.kind for d in result.ring[0].devices] == ["mobile"]
    assert result.excluded == {b.pk: NO_RANK.format(call_type="billing"), c.pk: NO_RINGING_DEVICE}
    # and once b is ranked 90 (a center admin's rank), b rings before a
    SkillRank.objects.create(membership=b.center_memberships.get(), call_type=billing, rank=90)
    result = ring_list(center_ring_facts(center=center, call_type="billing"))
    assert result.agent_ids == [b.pk, a.pk]
    assert [d.kind for d in result.ring[0].devices] == ["desk_phone"]


def test_queries_do_not_grow_with_members(company, django_assert_num_queries):
    center = ContactCenterFactory(company=company, routing_type="longest_idle")
    for person in people(company, 30):
        center_add_member(center=center, agent=person, actor=None)
        DeviceFactory(agent=person)
    with django_assert_num_queries(1):  # no call type: no ranks joined
        facts = center_ring_facts(center=center)
    assert len(ring_list(facts).ring) == 30


def test_an_unavailable_member_is_left_out(company):
    center = ContactCenterFactory(company=company, routing_type="simultaneous")
    away = AgentFactory(companies=[company])  # never seen: offline
    center_add_member(center=center, agent=away, actor=None)
    DeviceFactory(agent=away)
    assert ring_list(center_ring_facts(center=center)).excluded == {away.pk: NOT_AVAILABLE}


def test_turning_ring_off_takes_the_device_out_of_the_ring_list(company):
    center = ContactCenterFactory(company=company, routing_type="fixed_order")
    (person,) = people(company, 1)
    center_add_member(center=center, agent=person, actor=None)
    device = device_save(agent=person, kind="forwarding", number="(202) 555-0199")
    assert device.number == "+12025550199"
    assert ring_list(center_ring_facts(center=center)).agent_ids == [person.pk]
    device_set_ring(device=device, ring=False)
    assert ring_list(center_ring_facts(center=center)).agent_ids == []


def test_a_forwarding_device_needs_a_valid_number(company, agent):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="needs the number"):
        device_save(agent=agent, kind="forwarding")
    with pytest.raises(ValidationError, match="not a valid phone number"):
        device_save(agent=agent, kind="forwarding", number="+1 000")


def test_round_robin_outcomes_move_the_agent_to_the_end(company):
    center = ContactCenterFactory(company=company, routing_type="round_robin")
    a, b, c = people(company, 3)
    for person in (a, b, c):
        center_add_member(center=center, agent=person, actor=None)
        DeviceFactory(agent=person)
    assert ring_list(center_ring_facts(center=center)).agent_ids == [a.pk, b.pk, c.pk]
    # a answers, then b misses
    center_record_ring_outcome(center=center, agent=a, outcome="answered")
    center_record_ring_outcome(center=center, agent=b, outcome="missed")
    center.refresh_from_db()
    assert ring_list(center_ring_facts(center=center)).agent_ids == [c.pk, a.pk, b.pk]


# --- Alerts ----------------------------------------------------------------------------------
def test_alerts_email_supervisors_once_per_breach_and_once_when_it_clears(
    company, django_capture_on_commit_callbacks
):
    # given a center alerting below 2 available agents; one supervisor, one agent available
    center = ContactCenterFactory(company=company, alert_min_available=2)
    sup, agent = people(company, 2)
    membership_set_role(
        membership=center_add_member(center=center, agent=sup, actor=None), role="supervisor"
    )
    away = AgentFactory(companies=[company])
    center_add_member(center=center, agent=away, actor=None)
    agent.presence = "away"
    agent.save()
    center_add_member(center=center, agent=agent, actor=None)
    # when the beat task runs three times
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_center_alerts.delay()
    # then one email, to the supervisor only
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [sup.email]
    assert "Alert" in mail.outbox[0].subject and "1 agent(s) available" in mail.outbox[0].body
    # when the agent comes back: one "cleared" email, however often it runs
    online(agent)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_center_alerts.delay()
    assert len(mail.outbox) == 2 and "Cleared" in mail.outbox[1].subject
    assert not CenterAlertState.objects.get(center=center).breached


def test_waiting_alert_counts_items_older_than_the_threshold(company):
    center = ContactCenterFactory(company=company, alert_max_wait_minutes=5)
    (sup,) = people(company, 1)
    membership_set_role(
        membership=center_add_member(center=center, agent=sup, actor=None), role="admin"
    )
    QueueItem.objects.create(center=center, waiting_since=timezone.now())
    assert center_alerts_evaluate(center=center) == []
    QueueItem.objects.create(
        center=center, waiting_since=timezone.now() - timezone.timedelta(minutes=9)
    )
    sent = center_alerts_evaluate(center=center)
    assert len(sent) == 1 and "waiting too long" in sent[0]
    assert center_alerts_evaluate(center=center) == []


def test_outside_hours_the_center_rings_nobody_and_says_what_happens(company):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from agents.centers.selectors import center_is_open

    # given a center open Monday to Friday 9-17 in New York, sending to voicemail after
    center = ContactCenterFactory(
        company=company,
        always_open=False,
        open_days="01234",
        opens_at=time(9),
        closes_at=time(17),
        after_hours="voicemail",
    )
    ny = ZoneInfo("America/New_York")
    assert center_is_open(center, now=datetime(2026, 1, 5, 10, 0, tzinfo=ny))  # Monday
    assert not center_is_open(center, now=datetime(2026, 1, 5, 18, 0, tzinfo=ny))
    assert not center_is_open(center, now=datetime(2026, 1, 10, 10, 0, tzinfo=ny))  # Saturday
    # and the ring list built from the facts on a closed center says so
    from routing.engine.centers import CenterFacts

    closed = CenterFacts(
        routing_type="simultaneous",
        members=(),
        is_open=False,
        after_hours=center.get_after_hours_display(),
    )
    assert "Send to voicemail" in ring_list(closed).reason
