"""The bulk distribution (``routing.handover.contacts_reassign_through_group``) against real
PostgreSQL row locks: a single change committed while the bulk path waits is never
overwritten blindly, a round started meanwhile holds its contact, and overlapping bulk writes
never deadlock."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from agents.models import Presence
from contacts.models import Contact, PrimaryLoad, TimelineEntry
from contacts.ownership import contact_assign_primary_agent, contacts_set_primary_agent
from contacts.services import contact_create
from routing.handover import contacts_reassign_through_group
from routing.models import GroupMember, ReassignmentGroup, Round
from routing.rounds import reassignment_start
from tests.contacts.test_concurrency import run_together
from tests.factories import AgentFactory
from tests.lockwait import backend_pid, wait_until_someone_waits_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _people(company, n):
    return [
        AgentFactory(companies=[company], presence=Presence.AVAILABLE, last_seen_at=timezone.now())
        for _ in range(n)
    ]


def _contacts(company, owner, n, start):
    contacts = [
        contact_create(company=company, actor=None, phone=f"+1202556{start + k:04d}")
        for k in range(n)
    ]
    contacts_set_primary_agent(company=company, targets={c.pk: owner for c in contacts}, actor=None)
    return contacts


def _group(company, members, method="round_robin", name="Closers"):
    group = ReassignmentGroup.objects.create(company=company, name=name, method=method)
    GroupMember.objects.bulk_create(GroupMember(group=group, agent=m) for m in members)
    return group


def _while_held(work_inside, then):
    """Run ``work_inside`` in a transaction of a thread that stays open until ``then`` (run
    in a second thread) waits on its locks; returns ``then``'s result."""
    locked, release, holder, out = threading.Event(), threading.Event(), [], []

    def first():
        try:
            with transaction.atomic():
                work_inside()
                holder.append(backend_pid())
                locked.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    def second():
        try:
            out.append(then())
        except Exception as error:  # noqa: BLE001 - the test reports it
            out.append(error)
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert locked.wait(timeout=20)
    two = threading.Thread(target=second)
    two.start()
    wait_until_someone_waits_for(holder[0])
    release.set()
    one.join(timeout=30)
    two.join(timeout=30)
    return out[0]


def test_a_change_committed_while_the_bulk_path_waits_is_the_one_it_moves_on_from(company):
    # given five of Janet's contacts selected for a round-robin group of Carlos, and
    # Christopher taking one of them in a transaction still open when the bulk path starts
    janet, christopher, carlos = _people(company, 3)
    group = _group(company, [carlos])
    contacts = _contacts(company, janet, 5, 100)
    taken = contacts[2]

    # when the selection is sent through the group while that change is in flight
    result = _while_held(
        lambda: contact_assign_primary_agent(
            contact=Contact.objects.get(pk=taken.pk), agent=christopher, actor=None
        ),
        lambda: contacts_reassign_through_group(
            company=company, contact_ids=[c.pk for c in contacts], group=group, actor=None
        ),
    )

    # then every contact went to Carlos, the taken one from Christopher (the owner it read
    # under its lock, after his change committed), at version 3, and the counts are right
    assert result == (5, [])
    assert set(
        Contact.objects.filter(pk__in=[c.pk for c in contacts]).values_list(
            "primary_agent", flat=True
        )
    ) == {carlos.pk}
    messages = list(
        TimelineEntry.objects.filter(contact=taken, kind="primary_changed")
        .order_by("created_at", "pk")
        .values_list("message", flat=True)
    )
    assert messages[0].startswith(f"Primary agent changed from {janet} to {christopher}")
    assert messages[1].startswith(f"Primary agent changed from {christopher} to {carlos}")
    assert Contact.objects.get(pk=taken.pk).ownership_version == 3
    counts = dict(PrimaryLoad.objects.filter(company=company).values_list("agent_id", "contacts"))
    assert (counts[janet.pk], counts[christopher.pk], counts[carlos.pk]) == (0, 0, 5)


def test_a_round_started_while_the_bulk_path_waits_keeps_its_contact(company):
    # given a first-to-claim round starting on one of the selected contacts, not committed yet
    janet, ben, carlos = _people(company, 3)
    claimers = _group(company, [ben], method="first_to_claim", name="Claimers")
    group = _group(company, [carlos])
    contacts = _contacts(company, janet, 4, 200)
    held = contacts[1]

    # when the selection is sent through the round-robin group meanwhile
    result = _while_held(
        lambda: reassignment_start(
            contact=Contact.objects.get(pk=held.pk), group=claimers, actor=None
        ),
        lambda: contacts_reassign_through_group(
            company=company, contact_ids=[c.pk for c in contacts], group=group, actor=None
        ),
    )

    # then the held contact is left to its round (and said so); the others went to Carlos
    sent, refused = result
    assert sent == 3
    assert refused == [
        f"{Contact.objects.get(pk=held.pk)}: Re-Assign already in progress through group "
        "“Claimers”; wait for it to finish."
    ]
    assert Contact.objects.get(pk=held.pk).primary_agent == janet
    assert Round.objects.get(contact=held, group=claimers).status == "open"
    assert not Round.objects.filter(contact=held, group=group).exists()


def test_the_bulk_path_and_an_overlapping_bulk_assignment_do_not_deadlock(company):
    # given 300 contacts sent through a 4-member round robin while an admin assigns every
    # third of them (in descending order) to someone else
    owner, admin_pick, *members = _people(company, 6)
    group = _group(company, members)
    for attempt in range(3):
        contacts = _contacts(company, owner, 300, 1000 + attempt * 300)
        ids = [c.pk for c in contacts]
        overlap = ids[::3][::-1]

        def work(i: int, ids=ids, overlap=overlap):
            if i == 0:
                return contacts_reassign_through_group(
                    company=company, contact_ids=ids, group=group, actor=None
                )[0]
            return contacts_set_primary_agent(
                company=company, targets=dict.fromkeys(overlap, admin_pick), actor=None
            ).changed

        # when both run at once
        results = run_together(2, work)

        # then neither fails (no "deadlock detected") and nobody is left with the owner
        assert not [r for r in results if isinstance(r, Exception)], results
        assert results[0] == 300
        assert not Contact.objects.filter(primary_agent=owner).exists()
    counts = dict(PrimaryLoad.objects.filter(company=company).values_list("agent_id", "contacts"))
    real = {
        a.pk: Contact.objects.filter(company=company, primary_agent=a).count()
        for a in [owner, admin_pick, *members]
    }
    assert {k: v for k, v in counts.items() if v} == {k: v for k, v in real.items() if v}
