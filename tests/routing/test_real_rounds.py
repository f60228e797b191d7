"""Rounds against real PostgreSQL locks and a real Celery worker on Redis."""

import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.models import Presence
from contacts.models import AssignmentEmail, Contact, TimelineEntry
from contacts.services import contact_create
from routing.models import GroupMember, ReassignmentGroup, Round
from routing.rounds import offer_claim, reassignment_start
from tests.contacts.test_concurrency import run_together
from tests.factories import AgentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def claim_group(company, size, **kwargs):
    members = [
        AgentFactory(companies=[company], presence=Presence.AVAILABLE, last_seen_at=timezone.now())
        for _ in range(size)
    ]
    group = ReassignmentGroup.objects.create(
        company=company, name="Race", method="first_to_claim", **kwargs
    )
    for member in members:
        GroupMember.objects.create(group=group, agent=member)
    return group, members


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"Timed out after {seconds} s waiting for {what}")


def test_eight_agents_claiming_one_offer_make_exactly_one_winner(company):
    group, members = claim_group(company, 8)
    contact = contact_create(company=company, actor=None, phone="+12025550142")
    round_ = reassignment_start(contact=contact, group=group, actor=None)
    offers = {o.agent_id: o.pk for o in round_.offers.all()}

    results = run_together(
        8, lambda i: offer_claim(offer_id=offers[members[i].pk], agent=members[i])
    )

    winners = [r for r in results if isinstance(r, Round)]
    assert len(winners) == 1, results
    assert all(
        isinstance(r, ValidationError) and "claimed it first" in str(r)
        for r in results
        if not isinstance(r, Round)
    )
    contact.refresh_from_db()
    assert contact.primary_agent_id == winners[0].assigned_to_id
    assert TimelineEntry.objects.filter(contact=contact, kind="primary_assigned").count() == 1


@pytest.mark.redis
def test_a_first_to_claim_round_end_to_end_through_a_real_worker(company, start_worker):
    # given a worker, and a group whose members get offers (emails sent by the worker)
    start_worker()
    group, members = claim_group(company, 3)
    contact = contact_create(company=company, actor=None, name="Olivia", phone="+12025550142")
    round_ = reassignment_start(contact=contact, group=group, actor=None)
    # when one member claims
    offer = round_.offers.get(agent=members[1])
    offer_claim(offer_id=offer.pk, agent=members[1])
    # then the contact is theirs, and the worker sends them the assignment email
    contact.refresh_from_db()
    assert contact.primary_agent == members[1]
    email = AssignmentEmail.objects.get(agent=members[1])
    wait_for(
        lambda: AssignmentEmail.objects.filter(pk=email.pk, status="sent").exists(),
        60,
        "the worker to send the assignment email",
    )


@pytest.mark.redis
def test_a_round_whose_worker_is_killed_is_finished_by_the_sweep_once(
    company, start_worker, tmp_path
):
    # given a round whose expiry task sits (unacknowledged) in a worker
    boss = AgentFactory(
        companies=[company], presence=Presence.AVAILABLE, last_seen_at=timezone.now()
    )
    group, _ = claim_group(company, 2, default_assignee=boss, claim_window_minutes=1)
    first = start_worker()
    contact = contact_create(company=company, actor=None, phone="+12025550142")
    round_ = reassignment_start(contact=contact, group=group, actor=None)
    # (start_worker logs each worker to tmp_path/worker<n>.log: its "Task ...[id] received")
    log = tmp_path / "worker0.log"
    wait_for(
        lambda: log.exists() and "routing.expire_round[" in log.read_text(),
        30,
        "the worker to receive the countdown message",
    )
    # when that worker is killed outright and the claim window ends
    first.kill()
    first.wait(timeout=10)
    Round.objects.filter(pk=round_.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    # then a fresh worker's periodic sweep finishes the round: the default assignee gets it
    start_worker(beat=True)
    wait_for(
        lambda: Round.objects.filter(pk=round_.pk, status="fallback").exists(),
        45,
        "the sweep to finish the round",
    )
    assert Contact.objects.get(pk=contact.pk).primary_agent == boss
    # and nothing was assigned twice
    assert TimelineEntry.objects.filter(contact=contact, kind="primary_assigned").count() == 1


def test_a_handover_and_single_reassignments_at_once_do_not_deadlock(company):
    from contacts.ownership import contacts_assign_primary_agent_bulk
    from routing.handover import agent_book_handover

    members = [
        AgentFactory(companies=[company], presence=Presence.AVAILABLE, last_seen_at=timezone.now())
        for _ in range(3)
    ]
    leaver = AgentFactory(companies=[company])
    group = ReassignmentGroup.objects.create(company=company, name="RR", method="round_robin")
    for member in members:
        GroupMember.objects.create(group=group, agent=member)
    book = [
        contact_create(company=company, actor=None, phone=f"+1202555{n + 700:04d}")
        for n in range(60)
    ]
    contacts_assign_primary_agent_bulk(
        company=company, contact_ids=[c.pk for c in book], agent=leaver, actor=None
    )
    singles = [
        contact_create(company=company, actor=None, phone=f"+1202555{n + 800:04d}")
        for n in range(7)
    ]

    def work(i: int):
        if i == 0:
            return agent_book_handover(company=company, agent=leaver, group=group, actor=None)
        return reassignment_start(contact=singles[i - 1], group=group, actor=None)

    results = run_together(8, work)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert not Contact.objects.filter(primary_agent=leaver).exists()
