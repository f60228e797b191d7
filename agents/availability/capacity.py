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

from django.db import connection

from ..locks import lock_item_loads
from .models import ItemLoad
from .rules import CHANNELS, Capacity

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
    if capacity.unlimited:
        return True
    column = _column(kind)
    total_cap = capacity.total
    channel_cap = capacity.limit(kind) if kind in CHANNELS else None
    if (total_cap is not None and total_cap <= 0) or (channel_cap is not None and channel_cap <= 0):
        return False
    lock_item_loads([agent_id])
    table = connection.ops.quote_name(ItemLoad._meta.db_table)
    sets = ["total = {t}.total + 1"]
    conditions = ["(%s IS NULL OR {t}.total < %s)"]
    params: list = [total_cap, total_cap]
    if column:
        sets.append(f"{column} = {{t}}.{column} + 1")
        conditions.append(f"(%s IS NULL OR {{t}}.{column} < %s)")
        params += [channel_cap, channel_cap]
    insert_columns = "company_id, agent_id, total" + (f", {column}" if column else "")
    insert_values = "%s, %s, 1" + (", 1" if column else "")
    # Names are this module's own (the channel checked above); every value is a parameter.
    sql = (
        f"INSERT INTO {table} AS t ({insert_columns}) VALUES ({insert_values}) "  # noqa: S608
        "ON CONFLICT (company_id, agent_id) DO UPDATE SET "
        + ", ".join(sets).format(t="t")
        + " WHERE "
        + " AND ".join(conditions).format(t="t")
        + " RETURNING 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [company_id, agent_id, *params])
        return cursor.fetchone() is not None


def load_release(*, company_id: int, agent_id: int, kind: str | None, count: int = 1) -> None:
    """Count ``count`` fewer open items of ``kind`` for the agent (never below zero). For an
    agent without a counter this changes nothing."""
    if count <= 0:
        return
    column = _column(kind)
    lock_item_loads([agent_id])
    table = connection.ops.quote_name(ItemLoad._meta.db_table)
    sets = ["total = CASE WHEN total > %s THEN total - %s ELSE 0 END"]
    params: list = [count, count]
    if column:
        sets.append(f"{column} = CASE WHEN {column} > %s THEN {column} - %s ELSE 0 END")
        params += [count, count]
    sql = (
        f"UPDATE {table} SET {', '.join(sets)} "  # noqa: S608
        "WHERE company_id = %s AND agent_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, company_id, agent_id])
