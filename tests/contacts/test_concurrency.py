"""Races against real PostgreSQL row locks, with real threads."""

import json
import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from agents.models import Presence
from agents.services import company_set_webhook_token
from contacts.interactions import interaction_take
from contacts.models import Contact, Interaction
from routing.inbound import inbound_receive
from tests.factories import AgentFactory
from tests.lockwait import backend_pid, wait_until_someone_waits_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - collected and asserted by the test
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_eight_agents_taking_the_same_active_item_make_exactly_one_owner(company):
    agents = [
        AgentFactory(companies=[company], presence=Presence.AVAILABLE, last_seen_at=timezone.now())
        for _ in range(8)
    ]
    item, _ = inbound_receive(company=company, channel="text", phone="+12025550142")
    assert item.pool == "active"

    results = run_together(
        8, lambda i: interaction_take(company=company, interaction_id=item.pk, agent=agents[i])
    )

    winners = [r for r in results if isinstance(r, Interaction)]
    losers = [r for r in results if not isinstance(r, Interaction)]
    assert len(winners) == 1
    item.refresh_from_db()
    assert item.taken_by == item.routed_to == winners[0].taken_by
    assert all("took this one first" in str(r) for r in losers), losers


def test_twenty_parallel_webhook_calls_with_one_idempotency_key_make_one_interaction(company):
    company_set_webhook_token(company=company, token="sbw_race")
    payload = json.dumps({"channel": "text", "phone": "+1 202 555 0177", "body": "once"})

    def call(_: int):
        response = Client().post(
            "/api/inbound/",
            data=payload,
            content_type="application/json",
            headers={"Authorization": "Bearer sbw_race", "Idempotency-Key": "evt-42"},
        )
        return response.status_code, response.json()

    results = run_together(20, call)

    assert all(isinstance(r, tuple) for r in results), results
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 1 and statuses.count(200) == 19
    assert len({answer["interaction"] for _, answer in results}) == 1
    assert Interaction.objects.count() == 1
    assert Contact.objects.count() == 1


def test_opposite_reassignments_at_once_do_not_deadlock(company):
    from contacts.ownership import contact_assign_primary_agent
    from contacts.services import contact_create

    ava, ben = (AgentFactory(companies=[company]) for _ in range(2))
    pairs = []
    for n in range(8):
        contact = contact_create(company=company, actor=None, phone=f"+1202555{n + 100:04d}")
        contact_assign_primary_agent(contact=contact, agent=ava if n % 2 else ben, actor=None)
        pairs.append((contact, ben if n % 2 else ava))

    results = run_together(
        8,
        lambda i: contact_assign_primary_agent(contact=pairs[i][0], agent=pairs[i][1], actor=None),
    )

    assert not [r for r in results if isinstance(r, Exception)], results


def test_a_text_that_waits_for_the_lock_while_the_owner_changes_goes_to_the_new_owner(company):
    # given a contact owned by Ann, and Bob, both available
    now = timezone.now()
    ann, bob = (
        AgentFactory(companies=[company], presence=Presence.AVAILABLE, last_seen_at=now)
        for _ in range(2)
    )
    contact = Contact.objects.create(company=company, phone="+12025550142", primary_agent=ann)
    locked, answered = threading.Event(), []

    def text() -> None:
        try:
            locked.wait(10)
            answered.append(inbound_receive(company=company, channel="text", phone="+12025550142"))
        except Exception as error:  # noqa: BLE001 - asserted below
            answered.append(error)
        finally:
            connection.close()

    # when a text arrives while another transaction holds the contact and moves it to Bob
    thread = threading.Thread(target=text)
    thread.start()
    with transaction.atomic():
        Contact.objects.select_for_update().get(pk=contact.pk)
        locked.set()
        wait_until_someone_waits_for(backend_pid())  # the text waits for the contact's lock
        Contact.objects.filter(pk=contact.pk).update(primary_agent=bob)
    thread.join(timeout=30)
    # then the text is routed to Bob (the lock's row re-read with its new owner), not a 500
    (result,) = answered
    assert not isinstance(result, Exception), result
    interaction, _ = result
    assert interaction.routed_to_id == bob.pk
