"""The capacity queue: texts and forms that wait, oldest first, while every agent who could
take them is at capacity, and the drain that hands them out as soon as someone has room.

An item is queued by inbound routing when ``contacts.room.everyone_full`` says so (pool "queue",
``queued_at`` set). ``queue_drain`` gives the oldest out to available agents with room — the
fewest open items first, then the one whose newest item is oldest — each admitted by the
counter's compare-and-set (``agents.availability.capacity``), so no capacity is ever
exceeded. It runs after an item is handled (for that agent, ``contacts.tasks``) and every 5
seconds for everyone (``contacts.drain_capacity_queues``: agents whose hours began, whose
absence ended, who set themselves Available). Parallel drains share the queue: each locks the
rows it hands out and skips the ones another holds.
"""

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.availability.capacity import (
    OFFER,
    load_admit,
    load_admit_many,
    load_recount,
    load_release_many,
)
from agents.availability.models import Absence, ItemLoad
from agents.availability.rules import (
    AVAILABLE,
    CHANNELS,
    Capacity,
    Load,
    capacity_of,
    company_holidays,
    decide_agent,
)
from agents.bulk import rows_source
from agents.live import (
    live_changed,
    stream_active,
    stream_agent,
    stream_contact,
    stream_workload,
)
from agents.models import Agent, Company
from agents.selectors import eligible_primary_agents
from agents.zones import zone_of
from events import payloads

from .interactions import Rerouted, interactions_routed_emit
from .locks import lock_interactions
from .models import Interaction

# Queued rows locked and handed out per transaction: big enough that the statements per
# agent (one admission, one update) are shared by many items, small enough that a drain
# holds its locks briefly.
BATCH = 1000
LOAD_COLUMNS = (*CHANNELS, OFFER)


def _queued(company: Company) -> Q:
    return Q(company=company, pool=Interaction.Pool.QUEUE, status=Interaction.Status.OPEN)


@dataclass
class _Candidate:
    agent: Agent
    capacity: Capacity
    load: dict[str, int]  # the counter's columns (zeros for an agent without one)
    status: str = AVAILABLE
    why: str = ""

    def room(self, channel: str | None) -> float:
        """Items of ``channel`` that still fit (infinite without a limit)."""
        rooms = [float("inf")]
        if self.capacity.total is not None:
            rooms.append(self.capacity.total - self.load["total"])
        limit = self.capacity.limit(channel)
        if limit is not None:
            rooms.append(limit - self.load[channel])
        return max(0, min(rooms))


def _candidates(
    *, company: Company, at: datetime, agent: Agent | None = None, channel: str | None = None
) -> list[_Candidate]:
    """The company's Lead Center agents (or ``agent`` only) with their availability for
    ``channel`` at ``at``, in ONE statement: the agents, their absence now and their counter
    as subqueries; hours, holidays and presence decided in Python (``rules.decide``)."""
    absent_until = (
        Absence.objects.filter(
            company=company, agent=OuterRef("pk"), starts_at__lte=at, ends_at__gt=at
        )
        .order_by("-ends_at")
        .values("ends_at")[:1]
    )
    counter = ItemLoad.objects.filter(company=company, agent=OuterRef("pk"))
    agents = eligible_primary_agents(company=company).annotate(
        absent_until=Subquery(absent_until),
        **{f"load_{c}": Subquery(counter.values(c)[:1]) for c in ("total", *LOAD_COLUMNS)},
    )
    if agent is not None:
        agents = agents.filter(pk=agent.pk)
    zone = zone_of(company.time_zone)
    holidays = company_holidays(company)
    found = []
    for person in agents:
        capacity = capacity_of(company, person)
        load = {c: getattr(person, f"load_{c}") or 0 for c in ("total", *LOAD_COLUMNS)}
        absence = (
            Absence(agent=person, starts_at=at, ends_at=person.absent_until)
            if person.absent_until is not None
            else None
        )
        decided = decide_agent(
            company,
            person,
            at=at,
            zone=zone,
            holidays=holidays,
            absence=absence,
            load=Load(total=load["total"], by_channel=tuple((c, load[c]) for c in CHANNELS)),
            channel=channel,
        )
        found.append(_Candidate(person, capacity, load, decided.status, decided.why))
    return found


def _wait_text(waited: timedelta) -> str:
    seconds = max(0, int(waited.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def queue_reason(*, waited: timedelta, agent: Agent) -> str:
    """The hand-out's reason on the item: "From the capacity queue after 3 min: Ben Okafor
    had room."."""
    return f"From the capacity queue after {_wait_text(waited)}: {agent} had room."


@dataclass(order=True)
class _Turn:
    # Who gets the next item: the fewest open items, then the longest since their newest
    # item, then the lowest id (a stable order for equals).
    open: int
    last: datetime
    pk: int
    candidate: _Candidate = field(compare=False)


def _turns(*, company: Company, candidates: list[_Candidate]) -> list[_Turn]:
    """The heap of available agents with room, from their open items (one statement)."""
    rows = (
        Interaction.objects.filter(
            company=company,
            routed_to__in=[c.agent.pk for c in candidates],
            status=Interaction.Status.OPEN,
        )
        .values("routed_to")
        .annotate(n=Count("id"), last=Max(Coalesce("taken_at", "created_at")))
    )
    open_items = {row["routed_to"]: (row["n"], row["last"]) for row in rows}
    never = datetime.min.replace(tzinfo=UTC)
    turns = []
    for c in candidates:
        n, last = open_items.get(c.agent.pk, (0, never))
        # Counted agents: the counter (offers included); others: their open interactions.
        count = c.load["total"] if not c.capacity.unlimited else n
        turns.append(_Turn(count, last or never, c.agent.pk, c))
    heapq.heapify(turns)
    return turns


def _plan(items: list[Interaction], turns: list[_Turn], now: datetime) -> dict[int, list]:
    """Give each item, oldest first, to the first agent in turn with room for its channel:
    ``{agent_id: [items]}``. Loads are counted here as they would be admitted."""
    plan: dict[int, list] = defaultdict(list)
    for item in items:
        passed = []
        while turns:
            turn = heapq.heappop(turns)
            if turn.candidate.room(None) <= 0:
                continue  # full: out of the heap for good
            if turn.candidate.room(item.channel) <= 0:
                passed.append(turn)  # full for this channel only
                continue
            load = turn.candidate.load
            load["total"] += 1
            load[item.channel] += 1
            plan[turn.pk].append(item)
            heapq.heappush(turns, _Turn(turn.open + 1, now, turn.pk, turn.candidate))
            break
        for turn in passed:
            heapq.heappush(turns, turn)
        if not turns:
            break
    return plan


def _admit(*, company: Company, candidate: _Candidate, items: list[Interaction]) -> list:
    """The agent's share of the batch, admitted to their counter: in one statement, or one
    per item if the whole share no longer fits (e.g. a text routed to them meanwhile)."""
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item.channel] += 1
    if load_admit_many(
        company_id=company.pk,
        agent_id=candidate.agent.pk,
        counts=counts,
        capacity=candidate.capacity,
    ):
        return items
    return [
        item
        for item in items
        if load_admit(
            company_id=company.pk,
            agent_id=candidate.agent.pk,
            kind=item.channel,
            capacity=candidate.capacity,
        )
    ]


def _route_all(rows: list[tuple[int, int, str]]) -> None:
    """Route the batch's items, ``(id, agent id, reason)`` each, in ONE statement (every item
    has its own reason: its wait): ``UPDATE … FROM`` the rows (``agents.bulk.rows_source``)."""
    if not rows:
        return
    q = connection.ops.quote_name
    field = Interaction._meta.get_field
    table = q(Interaction._meta.db_table)
    source, params = rows_source(list(zip(*rows, strict=True)), ("bigint", "bigint", "text"))
    # Names come from the model's metadata; every value is a parameter.
    sql = (
        f"UPDATE {table} SET "  # noqa: S608
        f"{q(field('routed_to').column)} = v.column2, {q(field('pool').column)} = '', "
        f"{q(field('queued_at').column)} = NULL, {q(field('route_reason').column)} = v.column3 "
        f"FROM {source} WHERE {table}.{q(field('id').column)} = v.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _drain_batch(*, company: Company, agent: Agent | None, limit: int) -> int:
    now = timezone.now()
    with transaction.atomic():
        candidates = [
            c
            for c in _candidates(company=company, at=now, agent=agent)
            if c.status == AVAILABLE and c.room(None) > 0
        ]
        channels = [ch for ch in CHANNELS if any(c.room(ch) > 0 for c in candidates)]
        if not channels:
            return 0
        items = lock_interactions(
            filters=_queued(company) & Q(channel__in=channels),
            order_by=("queued_at", "id"),
            limit=limit,
            skip_locked=True,
        )
        if not items:
            return 0
        plan = _plan(items, _turns(company=company, candidates=candidates), now)
        by_pk = {c.agent.pk: c for c in candidates}
        rows = []
        handed_out: list[Rerouted] = []
        # Counters in agent order: the lock order's rows of one level in pk order.
        for pk in sorted(plan):
            agent_of = by_pk[pk].agent
            to = payloads.routed_to_owner(agent_of)
            for item in _admit(company=company, candidate=by_pk[pk], items=plan[pk]):
                waited = now - (item.queued_at or now)
                reason = queue_reason(waited=waited, agent=agent_of)
                rows.append((item.pk, pk, reason))
                handed_out.append(Rerouted(item.pk, item.contact_id, item.channel, to, reason))
        _route_all(rows)
        interactions_routed_emit(company=company, items=handed_out, method=payloads.Method.QUEUE)
        if rows:
            # After commit: each receiver's Mine, the queue's length beside Active, the
            # contacts' pages and the workload page.
            handed = [item for pk in plan for item in plan[pk]]
            live_changed(
                company_id=company.pk,
                streams=[
                    *(stream_agent(pk) for pk in sorted(plan)),
                    stream_active(company.pk),
                    stream_workload(company.pk),
                    *(stream_contact(item.contact_id) for item in handed),
                ],
            )
        return len(rows)


def queue_drain(*, company: Company, agent: Agent | None = None, limit: int = 10_000) -> int:
    """Hand out up to ``limit`` queued items, oldest first (``queued_at``, id), to available
    agents with room (``agent``: to them only), never above anyone's capacity; returns how
    many were handed out. Each batch is a transaction of its own."""
    if not Interaction.objects.filter(_queued(company)).exists():
        return 0
    handed = 0
    while handed < limit:
        done = _drain_batch(company=company, agent=agent, limit=min(BATCH, limit - handed))
        if done == 0:
            break
        handed += done
    return handed


def companies_with_a_queue() -> list[int]:
    """Ids of the companies with queued items (the queue's partial index: cheap when empty)."""
    return list(
        Interaction.objects.filter(pool=Interaction.Pool.QUEUE, status=Interaction.Status.OPEN)
        .values_list("company_id", flat=True)
        .distinct()
        .order_by()
    )


def item_load_release(*, company: Company, items: Iterable[tuple[int | None, str]]) -> None:
    """Release the counters of items moved away from their agents: ``(agent_id, channel)``
    per item (None: routed to nobody, nothing to release)."""
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for agent_id, channel in items:
        if agent_id is not None:
            counts[(agent_id, channel)] += 1
    load_release_many(company_id=company.pk, counts=counts)


def interactions_release(
    *, company: Company, agent: Agent, reason: str, actor: Agent | None = None
) -> int:
    """Every open item routed to ``agent`` back to Active (an agent who leaves, deactivated by
    ``actor``): routed to nobody, pool "active", ``reason`` on each, their counter released,
    an ``interaction.routed`` each (method handover); returns how many."""
    released: list[tuple[int, str]] = []
    moved: list[Rerouted] = []
    active = payloads.routed_to_pool(Interaction.Pool.ACTIVE)
    reason = reason[:300]
    with transaction.atomic():
        while True:
            items = lock_interactions(
                filters=Q(company=company, routed_to=agent, status=Interaction.Status.OPEN),
                order_by=("pk",),
                limit=BATCH,
                skip_locked=False,
            )
            if not items:
                break
            Interaction.objects.filter(pk__in=[i.pk for i in items]).update(
                routed_to=None,
                pool=Interaction.Pool.ACTIVE,
                queued_at=None,
                covering_for=None,
                cover_until=None,
                # The leaver's deadline is nobody else's: whoever takes it from Active
                # answers it without one (a deadline counts for owner-first items only).
                response_due_at=None,
                response_warn_at=None,
                route_reason=reason,
            )
            released += [(agent.pk, i.channel) for i in items]
            moved += [Rerouted(i.pk, i.contact_id, i.channel, active, reason) for i in items]
            live_changed(
                company_id=company.pk,
                streams=[stream_contact(i.contact_id) for i in items],
            )
        # The counter after every item (the lock order: INTERACTION, then ITEM_LOAD).
        item_load_release(company=company, items=released)
        interactions_routed_emit(
            company=company, items=moved, method=payloads.Method.HANDOVER, actor=actor
        )
        if released:
            live_changed(
                company_id=company.pk,
                streams=[
                    stream_agent(agent.pk),
                    stream_active(company.pk),
                    stream_workload(company.pk),
                ],
            )
    return len(released)


def open_item_counts(*, company: Company, agent: Agent) -> dict[str, int]:
    """The agent's open interactions per channel (what counts against their capacity, offers
    aside)."""
    rows = (
        Interaction.objects.filter(company=company, routed_to=agent, status="open")
        .values("channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["channel"]: row["n"] for row in rows}


def load_recount_interactions(
    *, company: Company, agent: Agent, offers: Callable[[], int] = lambda: 0
) -> ItemLoad | None:
    """Rebuild the agent's counter from their open interactions, plus ``offers()`` (routing
    counts its open offers; contacts cannot see them): call it when an agent gains a
    capacity."""
    return load_recount(
        company=company,
        agent=agent,
        counts=lambda: {**open_item_counts(company=company, agent=agent), OFFER: offers()},
    )


# --- Reads for the workload page ---------------------------------------------------------


@dataclass(frozen=True)
class CapacityRow:
    """One agent's load against capacity, for the workload page's bar."""

    open: int  # open items (offers held included, for an agent with a capacity)
    capacity: int | None  # over all channels; None: no limit on the total
    full: bool  # at capacity overall or for one channel
    by_channel: dict[str, int]  # open items per channel (and "offers")
    limits: dict[str, int] = field(default_factory=dict)  # per-channel capacities set

    @property
    def percent(self) -> int:
        """How far the bar is filled (0 without a capacity)."""
        if not self.capacity:
            return 100 if self.capacity == 0 else 0
        return min(100, round(100 * self.open / self.capacity))


def capacity_rows(*, company: Company, agents: Iterable[Agent]) -> dict[int, CapacityRow]:
    """Each agent's open items against their capacity, by id. Two statements whatever the
    number of agents: the counters of those with a capacity, the open interactions per
    channel of those without."""
    agents = list(agents)
    capacities = {a.pk: capacity_of(company, a) for a in agents}
    counted = [pk for pk, cap in capacities.items() if not cap.unlimited]
    uncounted = [pk for pk, cap in capacities.items() if cap.unlimited]
    loads: dict[int, dict[str, int]] = {pk: {} for pk in capacities}
    if counted:
        for row in ItemLoad.objects.filter(company=company, agent_id__in=counted):
            loads[row.agent_id] = {c: getattr(row, c) for c in ("total", *LOAD_COLUMNS)}
    if uncounted:
        rows = (
            Interaction.objects.filter(
                company=company, routed_to__in=uncounted, status=Interaction.Status.OPEN
            )
            .values("routed_to", "channel")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            load = loads[row["routed_to"]]
            load[row["channel"]] = row["n"]
            load["total"] = load.get("total", 0) + row["n"]
    rows_by_agent = {}
    for pk, capacity in capacities.items():
        load = loads[pk]
        limits = dict(capacity.per_channel)
        total = load.get("total", 0)
        full = (capacity.total is not None and total >= capacity.total) or any(
            load.get(channel, 0) >= limit for channel, limit in limits.items()
        )
        rows_by_agent[pk] = CapacityRow(
            open=total,
            capacity=capacity.total,
            full=full,
            by_channel={c: load.get(c, 0) for c in LOAD_COLUMNS if load.get(c, 0)},
            limits=limits,
        )
    return rows_by_agent


@dataclass(frozen=True)
class QueueStats:
    length: int
    oldest_wait: timedelta | None  # how long the oldest queued item has waited


def queue_stats(*, company: Company) -> QueueStats:
    """The capacity queue's length and its oldest item's wait (one statement)."""
    found = Interaction.objects.filter(_queued(company)).aggregate(
        length=Count("id"), oldest=Min("queued_at")
    )
    oldest = found["oldest"]
    return QueueStats(
        length=found["length"], oldest_wait=timezone.now() - oldest if oldest else None
    )
