"""Whether anyone at work has room for one more text or form: the capacity queue's question,
asked by inbound routing for an item bound for *Active* in a company that uses capacity.

It is on the webhook's path (a text whose owner is away, in such a company), so it is one
prepared statement written once per process from the models' fields, read a slice at a time,
and an agent row is turned into a model only when the rules look at it: the ORM spends longer
building the query (~1.5 ms) and 25 model instances (~1 ms) than the database takes to answer,
and the first agent with room usually ends it (docs/performance.md, issue 21)."""

import functools
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connection
from django.utils import timezone

from agents.availability.models import Absence, ItemLoad
from agents.availability.rules import (
    AVAILABLE,
    CHANNELS,
    FULL,
    Load,
    company_holidays,
    decide_agent,
)
from agents.choices import Presence
from agents.models import Agent, Company
from agents.rawsql import convert_row, prepared_cursor
from agents.selectors import LEAD_CENTER_LEVELS, seen_since
from agents.zones import zone_of

# Agents read per statement: the first with room ends it, usually in the first slice.
SLICE = 25
# Read beside the webhook's lock: the first agent usually has room, and each row read costs
# the lock statement more than a few microseconds (JSON); past these, statements of SLICE.
FIRST_SLICE = 4


# What the rules read of an agent here (the SQL filters the rest: active, a Lead Center
# member who chose Available and was seen lately, not out of office).
ROOM_FIELDS = (
    "id", "presence", "last_seen_at", "is_active", "working_hours",
    "capacity", "text_capacity", "form_capacity", "chat_capacity",
)  # fmt: skip
_ATTNAMES = tuple(Agent._meta.get_field(name).attname for name in ROOM_FIELDS)


@functools.cache
def present_sql(channel: str) -> str:
    """Who could be at work in the company (an active Lead Center member who chose Available,
    seen lately, not out of office in the company now), in id order, a slice at a time, with
    what the rules read of them (``ROOM_FIELDS``), their counter's total and ``channel``'s
    column (NULL without a counter); parameters by ``present_params``. Anyone else is neither
    available nor full, so the answer is the same without them."""
    if channel not in CHANNELS:
        raise ValueError(f"Unknown channel {channel!r}")
    columns = ", ".join(
        f'a."{Agent._meta.get_field(name).column}" AS r{n}' for n, name in enumerate(ROOM_FIELDS)
    )
    levels = ", ".join(["%s"] * len(LEAD_CENTER_LEVELS))
    memberships = Agent.companies.through._meta.db_table
    width = len(ROOM_FIELDS)
    # Names come from the models' metadata and ``channel`` is one of CHANNELS; every value is
    # a parameter.
    return f"""
        SELECT {columns}, l.total AS r{width}, l.{channel} AS r{width + 1}
        FROM "{Agent._meta.db_table}" a
        LEFT JOIN "{ItemLoad._meta.db_table}" l ON l.company_id = %s AND l.agent_id = a.id
        WHERE a.is_active AND a.access_level IN ({levels})
          AND a.presence = %s AND a.last_seen_at >= %s
          AND EXISTS (SELECT 1 FROM "{memberships}" m
                      WHERE m.agent_id = a.id AND m.company_id = %s)
          AND NOT EXISTS (SELECT 1 FROM "{Absence._meta.db_table}" x
                          WHERE x.agent_id = a.id AND x.company_id = %s
                            AND x.starts_at <= %s AND x.ends_at > %s)
        ORDER BY a.id
        LIMIT %s OFFSET %s"""  # noqa: S608


@functools.cache
def present_json_sql(channel: str) -> str:
    """``present_sql``'s rows as one JSON array of arrays (PostgreSQL), for a statement that
    reads the first slice beside its own work: the webhook's lock statement (same
    parameters)."""
    width = len(ROOM_FIELDS) + 2
    values = ", ".join(f"p.r{n}" for n in range(width))
    return (
        # (nobody: an empty array, not NULL, which would say "not read")
        f"(SELECT COALESCE(json_agg(json_build_array({values}) ORDER BY p.r0), '[]'::json) "  # noqa: S608
        f"FROM ({present_sql(channel)}) p)"
    )


def present_params(*, company_id: int, at: datetime, limit: int = SLICE, offset: int = 0) -> list:
    moment = connection.ops.adapt_datetimefield_value(at)
    seen = connection.ops.adapt_datetimefield_value(seen_since())
    return [
        company_id,
        *LEAD_CENTER_LEVELS,
        Presence.AVAILABLE,
        seen,
        company_id,
        company_id,
        moment,
        moment,
        limit,
        offset,
    ]


def from_json(rows: list) -> list[tuple]:
    """``present_json_sql``'s rows as ``present_sql``'s (its one timestamp read back)."""
    seen_at = ROOM_FIELDS.index("last_seen_at")
    return [
        (*row[:seen_at], datetime.fromisoformat(row[seen_at]), *row[seen_at + 1 :]) for row in rows
    ]


def everyone_full(
    *,
    company: Company,
    channel: str,
    uses_capacity: bool | None = None,
    first_slice: list[tuple] | None = None,
) -> bool:
    """True when the company uses capacity and nobody at work has room for a ``channel``
    item: no Lead Center agent is available for it, and at least one is held back only by
    being full (if everyone is away, off hours or out, the item goes to Active as without
    capacity). ``uses_capacity``: whether anyone of the company has a capacity (the webhook's
    lock statement reads it; None: asked here, one EXISTS). One statement a slice of
    ``SLICE`` agents, none for the first ``FIRST_SLICE`` when the caller read them
    (``first_slice``: the lock statement's, ``present_sql``'s rows); it stops at the first
    agent with room."""
    if uses_capacity is None:
        uses_capacity = _uses_capacity(company)
    if not uses_capacity:
        return False
    at = timezone.now()
    zone = zone_of(company.time_zone)
    holidays = company_holidays(company)
    width = len(ROOM_FIELDS)
    anyone_full = False
    offset = 0
    rows, size = first_slice, FIRST_SLICE
    while True:
        if rows is None:
            size = SLICE
            with prepared_cursor() as cursor:
                cursor.execute(
                    present_sql(channel),
                    present_params(company_id=company.pk, at=at, offset=offset),
                )
                rows = cursor.fetchall()
        for row in rows:
            person = Agent.from_db(
                DEFAULT_DB_ALIAS, _ATTNAMES, convert_row(Agent, ROOM_FIELDS, row[:width])
            )
            total, in_channel = row[width:]
            decided = decide_agent(
                company,
                person,
                at=at,
                zone=zone,
                holidays=holidays,
                load=Load(total=total or 0, by_channel=((channel, in_channel or 0),)),
                channel=channel,
            )
            if decided.status == AVAILABLE:
                return False  # someone has room: Active, as without capacity
            anyone_full = anyone_full or decided.status == FULL
        if len(rows) < size:
            return anyone_full
        offset += size
        rows = None


def _uses_capacity(company: Company) -> bool:
    """Whether anyone of the company has a capacity (one EXISTS; none when the company has a
    default)."""
    if company.default_capacity is not None:
        return True
    return (
        Agent.objects.filter(companies=company, is_active=True)
        .exclude(capacity=None, text_capacity=None, form_capacity=None, chat_capacity=None)
        .exists()
    )
