"""Open items against capacity: the counters of ``ItemLoad``, changed by compare-and-set.

An item counts against its agent from the moment it is routed to them (a text or form sent to
its owner or cover), taken by them from Active (any channel), handed to them from the capacity
queue, or offered to them (an offer held counts until it closes), until it is handled, moved
away (a missed deadline, a leaver's items) or the offer closes.

Counters are kept only for agents who have a capacity (``rules.capacity_of``: their own, or the
company's default): for everyone else nothing is counted and nothing refused, so the webhook
pays no statement for a company without capacities. When an agent gains a capacity their
counter is rebuilt from their open items (``load_recount``).

``load_admit`` is one statement: an upsert whose update only happens below the capacity, so
of concurrent routers exactly as many win as there is room (the row lock orders them, and each
re-checks the condition on the row it finally gets).
"""

from collections.abc import Callable, Mapping

from django.db import connection, transaction

from ..locks import lock_item_loads
from .models import ItemLoad
from .rules import CHANNELS, Capacity, capacity_of

OFFER = "offers"  # what an offer counts as, beside the total


def _column(kind: str | None) -> str | None:
    if kind is None:
        return None
    if kind not in (*CHANNELS, OFFER):
        raise ValueError(f"Unknown item kind {kind!r}")
    return kind


def load_admit(*, company_id: int, agent_id: int, kind: str | None, capacity: Capacity) -> bool:
    """Count one more open item of ``kind`` (a channel, or ``OFFER``) for the agent if it fits
    their capacity; False (nothing counted) when they are full. Always True, counting
    nothing, for an agent without a capacity."""
    return load_admit_many(
        company_id=company_id,
        agent_id=agent_id,
        counts={kind: 1} if kind is not None else {},
        capacity=capacity,
        total=1,
    )


def load_admit_many(
    *,
    company_id: int,
    agent_id: int,
    counts: Mapping[str, int],
    capacity: Capacity,
    total: int | None = None,
) -> bool:
    """Count ``counts`` more open items (per kind: ``{"text": 3, "form": 2}``) for the agent
    if all of them fit their capacity, in one compare-and-set statement; False (nothing
    counted) when they do not all fit. ``total`` defaults to the sum of ``counts``. Always
    True, counting nothing, for an agent without a capacity. The capacity queue's drain hands
    out a batch to an agent this way (one statement per agent, not per item)."""
    if capacity.unlimited:
        return True
    counts = {_column(kind): n for kind, n in counts.items() if n}
    total = sum(counts.values()) if total is None else total
    if total <= 0:
        return True
    total_cap = capacity.total
    limits = {kind: capacity.limit(kind) for kind in counts if kind in CHANNELS}
    if total_cap is not None and total > total_cap:
        return False
    if any(cap is not None and counts[kind] > cap for kind, cap in limits.items()):
        return False
    lock_item_loads([agent_id])
    table = connection.ops.quote_name(ItemLoad._meta.db_table)
    # Names are this module's own (each kind checked by _column); every value is a parameter.
    sets = ["total = t.total + %s"]
    set_params: list = [total]
    conditions: list[str] = []
    where_params: list = []
    if total_cap is not None:
        conditions.append("t.total + %s <= %s")
        where_params += [total, total_cap]
    for kind, n in counts.items():
        sets.append(f"{kind} = t.{kind} + %s")
        set_params.append(n)
        if limits.get(kind) is not None:
            conditions.append(f"t.{kind} + %s <= %s")
            where_params += [n, limits[kind]]
    insert_columns = ", ".join(["company_id", "agent_id", "total", *counts])
    insert_values = ", ".join(["%s"] * (3 + len(counts)))
    sql = (
        f"INSERT INTO {table} AS t ({insert_columns}) VALUES ({insert_values}) "  # noqa: S608
        "ON CONFLICT (company_id, agent_id) DO UPDATE SET "
        + ", ".join(sets)
        + (" WHERE " + " AND ".join(conditions) if conditions else "")
        + " RETURNING 1"
    )
    params = [company_id, agent_id, total, *counts.values(), *set_params, *where_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def load_release(*, company_id: int, agent_id: int, kind: str | None, count: int = 1) -> None:
    """Count ``count`` fewer open items of ``kind`` for the agent (never below zero). For an
    agent without a counter this changes nothing."""
    load_release_many(company_id=company_id, counts={(agent_id, kind): count})


def load_release_many(*, company_id: int, counts: Mapping[tuple[int, str | None], int]) -> None:
    """Count fewer open items for several agents at once: ``{(agent_id, kind): n}``, one
    statement per agent, in agent order (the lock order's rows in pk order). What moves
    items away in bulk (a missed deadline's sweep, a leaver's items) calls this."""
    per_agent: dict[int, dict[str | None, int]] = {}
    for (agent_id, kind), n in counts.items():
        if n > 0:
            kinds = per_agent.setdefault(agent_id, {})
            kinds[kind] = kinds.get(kind, 0) + n
    if not per_agent:
        return
    lock_item_loads(sorted(per_agent))
    table = connection.ops.quote_name(ItemLoad._meta.db_table)
    for agent_id in sorted(per_agent):
        kinds = {_column(kind): n for kind, n in per_agent[agent_id].items() if kind is not None}
        total = sum(per_agent[agent_id].values())
        sets = ["total = CASE WHEN total > %s THEN total - %s ELSE 0 END"]
        params: list = [total, total]
        for column, n in kinds.items():
            sets.append(f"{column} = CASE WHEN {column} > %s THEN {column} - %s ELSE 0 END")
            params += [n, n]
        sql = (
            f"UPDATE {table} SET {', '.join(sets)} "  # noqa: S608
            "WHERE company_id = %s AND agent_id = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, company_id, agent_id])


@transaction.atomic
def load_recount(*, company, agent, counts: Callable[[], Mapping[str, int]]) -> ItemLoad | None:
    """Rebuild the agent's counter from their open items, when they gain a capacity (or to
    repair it). ``counts`` returns the open items per kind (``text``, ``form``, ``chat``,
    ``call``, ``offers``): the layers above know what is open (``contacts.queue
    .load_recount_interactions`` counts interactions, routing adds the offers), this floor
    only keeps the counter. It is called once the counter's row is locked, so no item is
    admitted or released between the count and the write (they wait for this transaction).
    An agent without a capacity keeps no counter: theirs is dropped."""
    if capacity_of(company, agent).unlimited:
        ItemLoad.objects.filter(company=company, agent=agent).delete()
        return None
    lock_item_loads([agent.pk])
    table = connection.ops.quote_name(ItemLoad._meta.db_table)
    with connection.cursor() as cursor:
        # Create the row or take its lock (an update that changes nothing still locks it).
        cursor.execute(
            f"INSERT INTO {table} AS t (company_id, agent_id, total) VALUES (%s, %s, 0) "  # noqa: S608
            "ON CONFLICT (company_id, agent_id) DO UPDATE SET total = t.total",
            [company.pk, agent.pk],
        )
    found = {_column(kind): n for kind, n in counts().items()}
    columns = {c: found.get(c, 0) for c in (*CHANNELS, OFFER)}
    ItemLoad.objects.filter(company=company, agent=agent).update(
        total=sum(columns.values()), **columns
    )
    return ItemLoad.objects.get(company=company, agent=agent)
