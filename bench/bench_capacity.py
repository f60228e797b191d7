"""The capacity queue's drain (PostgreSQL): 10,000 queued texts and forms handed out, oldest
first, to 100 available agents with room, through ``contacts.queue.queue_drain`` (one
admission and one update per agent per batch, never above a capacity).
"""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from agents.availability.models import ItemLoad
from agents.models import Agent, Company, Presence
from contacts.models import Interaction
from contacts.queue import queue_drain

from .data import bulk_agents, bulk_contacts
from .measure import measured, result, scaled

COMPANY = "Bench Capacity Co"
QUEUED = scaled(10_000)
AGENTS = scaled(100, minimum=4)
TARGET = 1_000  # items/s


def _build() -> tuple[Company, list[Agent]]:
    company, _ = Company.objects.get_or_create(name=COMPANY, defaults={"time_zone": "UTC"})
    agents = bulk_agents(company, prefix="cap", domain="bench-capacity.test", count=AGENTS)
    # Room for every queued item and a little more, so the drain empties the queue.
    capacity = QUEUED // AGENTS + 2
    Agent.objects.filter(pk__in=[a.pk for a in agents]).update(
        presence=Presence.AVAILABLE,
        last_seen_at=timezone.now() + timedelta(hours=1),
        capacity=capacity,
    )
    with transaction.atomic():
        bulk_contacts(company, agent_ids=[a.pk for a in agents], first=1, last=QUEUED)
        with connection.cursor() as cursor:
            # Queued a second apart, the oldest first; every fifth a form.
            cursor.execute(
                """
                INSERT INTO contacts_interaction (company_id, contact_id, channel, body, source,
                    contact_center, status, pool, route_reason, route_details, idempotency_key,
                    ring, request_hash, queued_at, created_at)
                SELECT company_id, id, CASE WHEN id %% 5 = 0 THEN 'form' ELSE 'text' END,
                       'hello', 'bench', '', 'open', 'queue', 'Everyone is at capacity.',
                       '{}'::jsonb, '', '[]'::jsonb, '',
                       now() - ((%s - id) || ' seconds')::interval,
                       now() - ((%s - id) || ' seconds')::interval
                FROM contacts_contact WHERE company_id = %s
                """,
                [QUEUED + 1, QUEUED + 1, company.pk],
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_interaction")
    return company, list(Agent.objects.filter(pk__in=[a.pk for a in agents]))


def run() -> list[dict]:
    if connection.vendor != "postgresql":
        print("   skipped: the capacity drain is measured on PostgreSQL")
        return []
    company, agents = _build()
    queued = Interaction.objects.filter(company=company, pool="queue", status="open")
    assert queued.count() == QUEUED
    with measured(trace_memory=False) as timed:
        handed = 0
        while True:
            done = queue_drain(company=company)
            if done == 0:
                break
            handed += done
    per_second = handed / timed["seconds"] if timed["seconds"] else 0.0
    # What a user would notice had it gone wrong: something left waiting, anyone above
    # their capacity, a counter that disagrees with the open items.
    assert handed == QUEUED and not queued.exists(), (handed, queued.count())
    capacity = agents[0].capacity
    opened = dict(
        Interaction.objects.filter(company=company, status="open")
        .values_list("routed_to")
        .annotate(n=Count("id"))
    )
    assert max(opened.values()) <= capacity
    assert (
        not ItemLoad.objects.filter(company=company).exclude(total=F("text") + F("form")).exists()
    )
    counters = dict(ItemLoad.objects.filter(company=company).values_list("agent_id", "total"))
    assert counters == opened, "counters disagree with the open items"
    with measured() as traced:
        # Memory of a drain of what is left: nothing (the empty queue's one statement).
        queue_drain(company=company)
    return [
        result(
            f"capacity drain: {QUEUED:,} queued items to {AGENTS} agents",
            per_second,
            "items/s",
            f"≥ {TARGET:,} items/s",
            traced["peak_mib"],
            per_second >= TARGET,
        )
    ]
