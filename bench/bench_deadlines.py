"""Owners' response deadlines at scale (PostgreSQL): 100,000 open texts in 100 agents'
inboxes, 1,000 of them past their deadline; the sweep (``routing.deadlines.deadlines_sweep``)
moves those to Active — compare-and-set, capacity released, a timeline row, a why-log entry
and an email row each — a batch at a time until none is left. Target ≥ 2,000 items/s: the
median of three rounds over the same data (the moved texts put back between them; a single
shot of a third of a second swings with whatever else the machine does, a checkpoint say).

The emails are queued, not sent (the worker sends them; counted here, as the other
benchmarks count theirs)."""

import statistics
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from agents.availability.models import ItemLoad
from agents.models import Agent, Company
from contacts.models import Interaction, TimelineEntry
from routing import tasks
from routing.deadlines import BATCH, deadlines_sweep
from routing.models import DeadlineEmail, Decision

from .data import bulk_agents, bulk_contacts
from .measure import measured, result, scaled, settle

COMPANY = "Bench Deadlines Co"
OPEN = scaled(100_000, minimum=100)
DUE = scaled(1_000, minimum=10)
CONTACTS = scaled(10_000, minimum=10)
AGENTS = scaled(100, minimum=4)
TARGET = 2_000  # items/s
# Rounds over the same data (put back between them); the median is the figure.
ROUNDS = 3


def _build() -> tuple[Company, int]:
    company, _ = Company.objects.get_or_create(
        name=COMPANY, defaults={"time_zone": "America/New_York", "text_deadline_minutes": 15}
    )
    agents = bulk_agents(company, prefix="deadline", domain="bench-deadlines.test", count=AGENTS)
    ids = [a.pk for a in agents]
    # Half of them have a capacity, so the sweep releases their counters too.
    capped = ids[::2]
    # (a capacity none reaches: capacities are small integers, at most 32,767)
    Agent.objects.filter(pk__in=capped).update(capacity=min(OPEN, 30_000))
    every = OPEN // len(ids) + 1
    ItemLoad.objects.bulk_create(
        ItemLoad(company=company, agent_id=pk, total=every, text=every) for pk in capped
    )
    now = timezone.now()
    step = OPEN // DUE
    print(f"   building {CONTACTS:,} contacts and {OPEN:,} open texts ({DUE:,} due)…")
    with connection.cursor() as cursor, transaction.atomic():
        bulk_contacts(company, agent_ids=ids, first=1, last=CONTACTS)
        # Every step-th text is past its deadline (by a second per text, oldest first); the
        # rest are due in an hour. Each sits in its contact's primary agent's inbox.
        cursor.execute(
            """
            INSERT INTO contacts_interaction (company_id, contact_id, channel, body, source,
                contact_center, status, routed_to_id, pool, route_reason, route_details,
                idempotency_key, request_hash, ring, response_due_at, response_warn_at,
                created_at)
            SELECT c.company_id, c.id, 'text', 'hello', 'bench', '', 'open', c.primary_agent_id,
                   '', 'Sent to the primary agent.', '{}'::jsonb, '', '', '[]'::jsonb,
                   CASE WHEN g %% %s = 0 THEN %s - (g || ' seconds')::interval
                        ELSE %s + interval '1 hour' END,
                   NULL, %s - interval '15 minutes'
            FROM generate_series(1, %s) AS g
            JOIN contacts_contact c ON c.company_id = %s
                AND c.phone = '+1212' || (2000000 + 1 + (g %% %s))::text
            """,
            [step, now, now, now, OPEN, company.pk, CONTACTS],
        )
    settle()
    return company, every


def _reset(company: Company, every: int) -> None:
    """Put the moved texts back where the build left them (in their agents' inboxes, due),
    drop what the sweep wrote and refill the load counters: the next round sweeps the same
    1,000 among the same 100,000. Then VACUUM ANALYZE and CHECKPOINT, so a round pays for
    neither the last one's dead rows nor the build's write-back."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE contacts_interaction SET routed_to_id = response_missed_by_id, pool = '',
                response_missed_at = NULL, response_missed_by_id = NULL,
                route_reason = 'Sent to the primary agent.'
            WHERE company_id = %s AND response_missed_by_id IS NOT NULL
            """,
            [company.pk],
        )
    TimelineEntry.objects.filter(company=company, kind="response_missed").delete()
    Decision.objects.filter(company=company, method="").delete()
    DeadlineEmail.objects.filter(company=company).delete()
    ItemLoad.objects.filter(company=company).update(total=every, text=every)
    settle()


def _round(company: Company, open_items: int, due: int) -> tuple[float, int]:
    """One sweep of everything due; checks what it wrote; returns (items/s, batches)."""
    queued: list = []
    original = tasks.send_deadline_email.delay
    tasks.send_deadline_email.delay = lambda *a, **k: queued.append(a)  # count, don't send
    try:
        now = timezone.now() + timedelta(seconds=1)
        moved = batches = 0
        with measured(trace_memory=False) as m:
            while True:
                done = deadlines_sweep(now=now, limit=BATCH)
                moved += done
                batches += 1
                if done < BATCH:
                    break
    finally:
        tasks.send_deadline_email.delay = original
    rows = TimelineEntry.objects.filter(company=company, kind="response_missed").count()
    decisions = Decision.objects.filter(company=company, method="").count()
    emails = DeadlineEmail.objects.filter(company=company, kind="missed").count()
    assert moved == due == rows == decisions == emails == len(queued), (
        moved,
        due,
        rows,
        decisions,
        emails,
        len(queued),
    )
    still = Interaction.objects.filter(company=company, routed_to__isnull=False).count()
    assert still == open_items - due, (still, open_items, due)
    return (moved / m["seconds"] if m["seconds"] else 0.0), batches


def run() -> list[dict]:
    if connection.vendor != "postgresql":
        print("   skipped: the deadline sweep's target is for PostgreSQL")
        return []
    company, every = _build()
    open_items = Interaction.objects.filter(company=company, status="open").count()
    due = Interaction.objects.filter(
        company=company, response_due_at__lte=timezone.now(), response_missed_at__isnull=True
    ).count()
    rates = []
    for number in range(ROUNDS):
        if number:
            _reset(company, every)
        rate, batches = _round(company, open_items, due)
        rates.append(rate)
    rate = statistics.median(rates)
    each = ", ".join(f"{r:,.0f}" for r in rates)
    return [
        result(
            f"deadline sweep: {due:,} due among {open_items:,} open texts moved to Active "
            f"({batches} batch(es) of ≤ {BATCH}; timeline, why log, email rows; emails queued); "
            f"median of {ROUNDS} rounds ({each} items/s)",
            rate,
            "items/s",
            f"≥ {TARGET:,} items/s",
            None,
            rate >= TARGET,
        )
    ]
