"""Capacity under concurrency, against real PostgreSQL row locks with real threads: 8 feeders
and 8 handlers over 1,000 items never put an agent above capacity, give no item twice and
lose none."""

import threading
import time
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from agents.availability.capacity import load_admit
from agents.availability.models import ItemLoad
from agents.availability.rules import capacity_of
from contacts.interactions import interaction_mark_handled, interaction_record, interaction_take
from contacts.models import Contact, Interaction
from contacts.queue import queue_drain
from contacts.room import everyone_full
from tests.factories import AgentFactory, online

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ITEMS = 1000
FEEDERS = 8
HANDLERS = 8
CAPACITIES = [2, 3, 4, 5, 2, 3, 4, 5]


def _feed(company, contact: Contact, agents_by_id: dict) -> str:
    """What inbound routing does with capacity, independent of routing.inbound (whose
    capacity handling is another change): the text goes to its owner if the owner's counter
    admits it, else to the queue when everyone is full, else to Active."""
    owner = agents_by_id[contact.primary_agent_id]
    with transaction.atomic():
        if load_admit(
            company_id=company.pk,
            agent_id=owner.pk,
            kind="text",
            capacity=capacity_of(company, owner),
        ):
            routed_to, pool, queued_at = owner.pk, "", None
        elif everyone_full(company=company, channel="text"):
            routed_to, pool, queued_at = None, "queue", timezone.now()
        else:
            routed_to, pool, queued_at = None, "active", None
        interaction_record(
            contact=contact,
            channel="text",
            body="hi",
            source="race",
            contact_center="",
            routed_to_id=routed_to,
            pool=pool,
            reason="race",
            details={},
            idempotency_key="",
            queued_at=queued_at,
        )
    return pool or "owner"


def _monitor_sql() -> str:
    # One statement, so one snapshot: every agent's open items (the interactions table) beside
    # their counter.
    return f"""
        SELECT i.routed_to_id, COUNT(*),
               (SELECT l.total FROM {ItemLoad._meta.db_table} l
                WHERE l.agent_id = i.routed_to_id AND l.company_id = i.company_id)
        FROM {Interaction._meta.db_table} i
        WHERE i.company_id = %s AND i.status = 'open' AND i.routed_to_id IS NOT NULL
        GROUP BY i.routed_to_id, i.company_id"""  # noqa: S608


def test_eight_feeders_and_eight_handlers_never_exceed_capacity_nor_give_an_item_twice(company):
    # given: 8 agents with capacities 2..5, 1,000 contacts owned round-robin
    agents = [
        online(AgentFactory(companies=[company], capacity=cap, full_name=f"Agent {n}"))
        for n, cap in enumerate(CAPACITIES)
    ]
    capacity = {a.pk: a.capacity for a in agents}
    by_id = {a.pk: a for a in agents}
    contacts = Contact.objects.bulk_create(
        Contact(
            company=company,
            name=f"Person {n}",
            phone=f"+1202555{n:04d}",
            primary_agent_id=agents[n % len(agents)].pk,
        )
        for n in range(ITEMS)
    )
    done = threading.Event()
    handled: list[list[int]] = [[] for _ in range(HANDLERS)]
    samples: list[int] = []
    problems: list[str] = []
    errors: list[BaseException] = []
    paths: list[str] = []

    def feeder(i: int) -> None:
        for contact in contacts[i::FEEDERS]:
            paths.append(_feed(company, contact, by_id))

    def handler(i: int) -> None:
        me = agents[i]
        deadline = time.monotonic() + 300  # (a loaded CI machine is slow)
        while time.monotonic() < deadline:
            if Interaction.objects.filter(company=company, status="handled").count() >= ITEMS:
                return
            mine = list(
                Interaction.objects.filter(routed_to=me, status="open")
                .order_by("pk")
                .values_list("pk", flat=True)[:1]
            )
            if mine:
                # (the queue's drain for me runs once this commits: an eager task)
                interaction_mark_handled(company=company, interaction_id=mine[0], agent=me)
                handled[i].append(mine[0])
                continue
            active = list(
                Interaction.objects.filter(
                    company=company, pool="active", routed_to__isnull=True, status="open"
                )
                .order_by("pk")
                .values_list("pk", flat=True)[:3]
            )
            took = False
            for pk in active:
                try:
                    interaction_take(company=company, interaction_id=pk, agent=me)
                    took = True
                    break
                except ValidationError:
                    continue  # someone took it first, or I am full
            if not took and queue_drain(company=company, agent=me) == 0:
                time.sleep(0.005)  # nothing for me yet (the beat's drain, in miniature)
        problems.append(f"handler {i} ran out of time")

    def monitor() -> None:
        sql = _monitor_sql()
        while not done.is_set():
            with connection.cursor() as cursor:
                cursor.execute(sql, [company.pk])
                rows = cursor.fetchall()
            samples.append(len(rows))
            for agent_id, open_items, counter in rows:
                if open_items > capacity[agent_id]:
                    problems.append(f"agent {agent_id}: {open_items} open > {capacity[agent_id]}")
                if counter != open_items:
                    problems.append(f"agent {agent_id}: counter {counter} != {open_items} open")
            time.sleep(0.002)

    def run(work, i: int) -> None:
        try:
            work(i)
        except BaseException as error:  # noqa: BLE001 - asserted below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(feeder, i)) for i in range(FEEDERS)]
    workers += [threading.Thread(target=run, args=(handler, i)) for i in range(HANDLERS)]
    watcher = threading.Thread(target=run, args=(lambda _: monitor(), 0))

    # when
    watcher.start()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=360)
    done.set()
    watcher.join(timeout=10)

    # then: nobody above capacity at any sample, counters always equal to the open items
    assert errors == []
    assert problems == []
    assert len(samples) > 20
    # (every path was taken: to the owner, to the queue, to Active)
    assert set(Counter(paths)) == {"owner", "queue", "active"}, Counter(paths)
    # each item handled exactly once, by the agent it was given to, none lost or stuck
    every = [pk for mine in handled for pk in mine]
    assert len(every) == len(set(every)) == ITEMS
    items = Interaction.objects.filter(company=company)
    assert items.count() == ITEMS
    assert items.filter(status="handled").count() == ITEMS
    assert Counter(items.values_list("pool", flat=True)).get("queue", 0) == 0
    assert all(i.handled_by_id == i.routed_to_id for i in items.only("handled_by", "routed_to"))
    assert set(ItemLoad.objects.filter(company=company).values_list("total", flat=True)) <= {0}
