"""The book handover against real PostgreSQL row locks, with real threads and overlapping books."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from agents.models import Presence
from contacts.models import Contact, PrimaryLoad, TimelineEntry
from contacts.ownership import contact_assign_primary_agent, contacts_set_primary_agent
from contacts.services import contact_create
from routing.handover import agent_book_handover
from routing.models import GroupMember, Offer, ReassignmentGroup, Round
from routing.rounds import contacts_delete, reassignment_start, round_expire
from tests.contacts.test_concurrency import run_together
from tests.factories import AgentFactory
from tests.lockwait import backend_pid, wait_until_someone_waits_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _people(company, n):
    return [
        AgentFactory(companies=[company], presence=Presence.AVAILABLE, last_seen_at=timezone.now())
        for _ in range(n)
    ]


def _book(company, owner, n, start):
    contacts = [
        contact_create(company=company, actor=None, phone=f"+1202555{start + k:04d}")
        for k in range(n)
    ]
    contacts_set_primary_agent(company=company, targets={c.pk: owner for c in contacts}, actor=None)
    return contacts


def _group(company, members, method="round_robin", **kwargs):
    group = ReassignmentGroup.objects.create(
        company=company, name=f"{method} group", method=method, **kwargs
    )
    for member in members:
        GroupMember.objects.create(group=group, agent=member)
    return group


def test_a_handover_never_overwrites_a_reassignment_committed_while_it_waited(company):
    # given Janet's book, and Christopher taking one of her contacts in a transaction that
    # is still open when the handover starts
    janet, christopher, carlos = _people(company, 3)
    group = _group(company, [carlos])
    book = _book(company, janet, 5, 100)
    taken = book[2]
    locked, release, holder = threading.Event(), threading.Event(), []

    def reassign_by_hand():
        try:
            with transaction.atomic():
                contact_assign_primary_agent(
                    contact=Contact.objects.get(pk=taken.pk), agent=christopher, actor=None
                )
                holder.append(backend_pid())
                locked.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    by_hand = threading.Thread(target=reassign_by_hand)
    by_hand.start()
    assert locked.wait(timeout=20)

    # when the handover runs (and waits on that contact) until the change commits
    def hand_over():
        try:
            return agent_book_handover(company=company, agent=janet, group=group, actor=None)
        finally:
            connection.close()

    out: list = []
    handover = threading.Thread(target=lambda: out.append(hand_over()))
    handover.start()
    wait_until_someone_waits_for(holder[0])  # the handover waits for Christopher's change
    release.set()
    by_hand.join(timeout=30)
    handover.join(timeout=30)

    # then Christopher keeps the contact, and no timeline row says it moved from him to Carlos
    assert out == [4]
    assert Contact.objects.get(pk=taken.pk).primary_agent == christopher
    assert not TimelineEntry.objects.filter(
        contact=taken, message__startswith=f"Primary agent changed from {christopher}"
    ).exists()
    assert set(
        Contact.objects.filter(pk__in=[c.pk for c in book]).values_list("primary_agent", flat=True)
    ) == {christopher.pk, carlos.pk}


def test_a_handover_and_a_bulk_admin_assignment_of_overlapping_contacts_do_not_deadlock(company):
    # given a 300-contact book handed over through a 4-member round robin, while an admin
    # assigns every third contact of the same book (in descending order) to someone else
    leaver, admin_pick, *members = _people(company, 6)
    group = _group(company, members)
    for attempt in range(3):
        book = _book(company, leaver, 300, 1000 + attempt * 300)
        overlap = [c.pk for c in book[::3]][::-1]

        def work(i: int, overlap=overlap):
            if i == 0:
                return agent_book_handover(company=company, agent=leaver, group=group, actor=None)
            return contacts_set_primary_agent(
                company=company, targets=dict.fromkeys(overlap, admin_pick), actor=None
            ).changed

        # when both run at once
        results = run_together(2, work)

        # then neither fails (no "deadlock detected"), nothing is lost, and every contact
        # ended with exactly one owner whose count matches
        assert not [r for r in results if isinstance(r, Exception)], results
        assert results[0] + results[1] >= 300
        assert not Contact.objects.filter(primary_agent=leaver).exists()
    counts = dict(PrimaryLoad.objects.filter(company=company).values_list("agent_id", "contacts"))
    real = {
        a.pk: Contact.objects.filter(company=company, primary_agent=a).count()
        for a in [leaver, admin_pick, *members]
    }
    assert {k: v for k, v in counts.items() if v} == {k: v for k, v in real.items() if v}


def test_deleting_a_contact_while_its_round_expires_does_not_deadlock(company):
    # given contacts in open first-to-claim rounds
    owner, *members = _people(company, 4)
    group = _group(company, members, "first_to_claim", default_assignee=members[0])
    contacts = _book(company, owner, 6, 2000)
    rounds = [reassignment_start(contact=c, group=group, actor=None) for c in contacts]

    # when each is deleted while its round is expired at the same moment
    for contact, round_ in zip(contacts, rounds, strict=True):

        def work(i: int, contact=contact, round_=round_):
            if i == 0:
                return contacts_delete(company=company, contact_ids=[contact.pk])
            return round_expire(round_id=round_.pk, force=True)

        results = run_together(2, work)

        # then neither fails
        assert not [r for r in results if isinstance(r, Exception)], results
    assert not Contact.objects.filter(pk__in=[c.pk for c in contacts]).exists()
    assert not Round.objects.filter(status=Round.Status.OPEN).exists()
    assert not Offer.objects.filter(status=Offer.Status.OPEN).exists()
