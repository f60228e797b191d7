"""The contact-level locks of the one lock order (``agents/lockorder.py``), and the
primary-load counters' lock that comes after them.

Every service that locks rows does it through a helper of a ``locks`` module, which records
its level (``agents.lockorder.lock_taken``); a test in ``tests/agents/test_lock_guard.py``
fails on a row or table lock anywhere else. Contacts are locked in pk order (in chunks);
a lower level never needs a higher one's lock: ``contacts`` knows nothing of rounds, and a
round's hold on a contact is a field of the contact (``Contact.reassign_hold``).
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from agents.availability.models import Absence
from agents.choices import Presence
from agents.lockorder import Level, lock_taken
from agents.locks import lock_email_row
from agents.models import Agent
from agents.rawsql import convert_row, instance_from_row, prepared_cursor
from agents.selectors import LEAD_CENTER_LEVELS, seen_since

from .models import AssignmentEmail, Contact, Interaction, PrimaryLoad
from .room import FIRST_SLICE, from_json, present_json_sql, present_params

# Contacts locked per statement: bounded, so a 100,000-contact book is locked in chunks, all
# in one pk order.
CHUNK = 2000


@dataclass(frozen=True)
class LockedContact:
    """What the ownership path reads of a locked contact."""

    pk: int
    primary_agent_id: int | None
    ownership_version: int
    reassign_hold: int | None
    reassign_hold_label: str


_LOCKED_FIELDS = (
    "pk",
    "primary_agent_id",
    "ownership_version",
    "reassign_hold",
    "reassign_hold_label",
)


def lock_contacts(*, company_id: int, ids: Iterable[int]) -> Iterable[list[LockedContact]]:
    """Lock the company's contacts among ``ids``, in pk order, a chunk at a time.

    Yields each chunk once it is locked; the locks are held until the transaction ends. Ids
    of other companies' or missing contacts are simply not yielded."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        lock_taken(Level.CONTACT, ordered[start : start + CHUNK])
        rows = (
            Contact.objects.select_for_update(of=("self",))
            .filter(company_id=company_id, pk__in=ordered[start : start + CHUNK])
            .order_by("pk")
            .values_list(*_LOCKED_FIELDS)
        )
        yield [LockedContact(*row) for row in rows]


def lock_contact(pk: int) -> Contact:
    """Lock one contact (with its primary agent and company loaded)."""
    lock_taken(Level.CONTACT, [pk])
    return (
        Contact.objects.select_for_update(of=("self",))
        .select_related("primary_agent", "company")
        .get(pk=pk)
    )


@functools.cache
def _inbound_lock_sql(vendor: str, room_channel: str | None = None) -> str:
    # Written out once per process from the models' fields: the ORM spends ~2 ms building
    # this statement (joins, subqueries) on every request, the database well under that
    # running it (docs/performance.md). ``primary_works_here`` is ``eligible_primary_agents``
    # in SQL (tests/routing/test_webhook_fast_path.py checks they agree). One row always
    # comes back: the contact's columns are NULL when the number is new, the key's
    # interaction is read either way.
    contact_fields = Contact._meta.concrete_fields
    contact_columns = ", ".join(f'c."{f.column}" AS x{n}' for n, f in enumerate(contact_fields))
    alias = {f.attname: f"x{n}" for n, f in enumerate(contact_fields)}
    agent_fields = Agent._meta.concrete_fields
    owner_columns = ", ".join(f'a."{f.column}"' for f in agent_fields)
    cover_columns = ", ".join(f'ca."{f.column}"' for f in agent_fields)
    agents = Agent._meta.db_table
    memberships = Agent.companies.through._meta.db_table
    absences = Absence._meta.db_table
    levels = ", ".join(["%s"] * len(LEAD_CENTER_LEVELS))
    company = f"locked.{alias['company_id']}"

    def works_here(agent: str) -> str:
        return (
            f"({agent}.id IS NOT NULL AND {agent}.is_active"  # noqa: S608 - names, see below
            f" AND {agent}.access_level IN ({levels})"
            f' AND EXISTS (SELECT 1 FROM "{memberships}" m'
            f" WHERE m.agent_id = {agent}.id AND m.company_id = {company}))"
        )

    def absence_now(agent: str) -> str:
        # The absence in the contact's company covering now that ends last
        # (``rules.absences_now``): an absence is the company's (its cover works there). A
        # scalar subquery in the join's condition, not LATERAL, which SQLite lacks; the
        # (agent, ends_at) index answers it.
        return (
            f'(SELECT x.id FROM "{absences}" x'  # noqa: S608 - names, see below
            f" WHERE x.agent_id = {agent}.id AND x.company_id = {company}"
            " AND x.starts_at <= %s AND x.ends_at > %s"
            " ORDER BY x.ends_at DESC, x.id DESC LIMIT 1)"
        )

    # Whether anyone of the company has a capacity of their own that a text or form counts
    # against (the company's default is on its row): only then may an item bound for Active
    # have to wait in the capacity queue. CASE: not evaluated when the caller knows already.
    capacity_columns = " OR ".join(
        f'ag."{Agent._meta.get_field(name).column}" IS NOT NULL'
        for name in ("capacity", "text_capacity", "form_capacity")
    )
    uses_capacity = (
        f'CASE WHEN %s THEN EXISTS (SELECT 1 FROM "{memberships}" mc'  # noqa: S608
        f' JOIN "{agents}" ag ON ag.id = mc.agent_id'
        f" WHERE mc.company_id = %s AND ag.is_active AND ({capacity_columns}))"
        " ELSE FALSE END"
    )
    # A text or form that may be bound for Active in a company that uses capacity (by its
    # default or someone's own) asks whether everyone at work is full: the first slice of who
    # could be at work is read here (``contacts.room``), unless the owner is at their desk
    # and not out of office (then it most likely goes to them; if not after all, the
    # question costs a statement of its own). PostgreSQL only (JSON); elsewhere never read.
    if room_channel is not None and vendor == "postgresql":
        owner_present = (
            "COALESCE(a.is_active AND a.presence = %s AND a.last_seen_at >= %s"
            " AND oa.id IS NULL, FALSE)"
        )
        room = (
            f"CASE WHEN (%s OR cap.uses) AND NOT {owner_present}"
            f" THEN {present_json_sql(room_channel)} END"
        )
    else:
        room = "NULL"
    # SQLite (the embedded default) locks the whole database per write transaction instead.
    lock = " FOR UPDATE OF c" if connection.features.has_select_for_update_of else ""
    # Names come from the models' metadata; every value is a parameter. A CTE that locks
    # is never folded into the outer query, so the lock is taken as written. Only the
    # contact is read under the lock: its primary agent is joined outside, by the id the
    # lock returns — had it joined inside, a contact whose owner changed while this waited
    # for the lock would come back re-checked with the old agent's join failing (NULLs).
    # Then, in the same statement, what owner-first routing decides on: the owner's absence
    # now, its cover's row and whether they work here, and the cover's own absence.
    return f"""
        WITH locked AS (
            SELECT {contact_columns}
            FROM "{Contact._meta.db_table}" c
            WHERE c.company_id = %s AND c.phone = %s AND c.phone <> ''{lock}
        ), cap AS (SELECT {uses_capacity} AS uses)
        SELECT locked.*, {owner_columns}, {works_here("a")},
            oa.ends_at, oa.cover_id, {cover_columns}, {works_here("ca")}, cab.ends_at,
            cap.uses, {room},
            (SELECT i.id FROM "{Interaction._meta.db_table}" i
             WHERE %s <> '' AND i.company_id = %s AND i.idempotency_key = %s
               AND i.idempotency_key <> '' LIMIT 1)
        FROM (SELECT 1) AS one
        CROSS JOIN cap
        LEFT JOIN locked ON TRUE
        LEFT JOIN "{agents}" a ON a.id = locked.{alias["primary_agent_id"]}
        LEFT JOIN "{absences}" oa ON oa.id = {absence_now("a")}
        LEFT JOIN "{agents}" ca ON ca.id = oa.cover_id
        LEFT JOIN "{absences}" cab ON cab.id = {absence_now("ca")}"""  # noqa: S608


_AGENT_COLUMNS = len(Agent._meta.concrete_fields)
_AGENT_PK = next(n for n, f in enumerate(Agent._meta.concrete_fields) if f.primary_key)


@dataclass
class InboundLock:
    """What ``lock_contact_for_inbound`` found: the locked contact (None for a new number),
    the interaction the idempotency key already made (None if the key is new), and what
    owner-first routing needs beside the owner (``contact.primary_agent``): when the owner's
    absence now ends (None: not out of office), its cover (None: no cover, or not out), whether
    the cover works here and when the cover's own absence ends; ``uses_capacity``: someone of
    the company has a capacity of their own (asked only with ``ask_capacity``)."""

    contact: Contact | None
    key_interaction_id: int | None
    owner_absent_until: datetime | None = None
    cover: Agent | None = None
    cover_works_here: bool = False
    cover_absent_until: datetime | None = None
    uses_capacity: bool = False
    # The first slice of who could be at work, when read (``room_channel``; rows of
    # ``contacts.room.present_sql``), for ``contacts.room.everyone_full``; None: not read.
    room: list[tuple] | None = None


def lock_contact_for_inbound(
    *,
    company_id: int,
    phone: str,
    idempotency_key: str = "",
    at: datetime | None = None,
    ask_capacity: bool = False,
    room_channel: str | None = None,
) -> InboundLock:
    """The inbound webhook's one statement: lock the company's contact with this E.164
    number (``SELECT … FOR UPDATE OF`` the contact only), with its primary agent loaded and
    ``primary_works_here`` (that agent may still own the company's contacts:
    ``agents.selectors.eligible_primary_agents``), the owner's absence at ``at`` (now by
    default) with its cover agent and the cover's own absence, and the interaction
    ``idempotency_key`` already created, if any — for a known or a new number alike. With
    ``room_channel`` (a text or form), in a company that uses capacity and unless the owner
    is at their desk, the first slice of who could take a ``room_channel`` item
    (``InboundLock.room``) too.

    The key is read as of the statement's start: an interaction committed with the same key
    while this waited for the lock is not seen here, and the key's unique constraint refuses
    the second insert (the caller runs again and replays it)."""
    at = at or timezone.now()
    moment = connection.ops.adapt_datetimefield_value(at)
    vendor = connection.vendor
    if vendor != "postgresql":
        room_channel = None
    room_params = []
    if room_channel is not None:
        room_params = [
            not ask_capacity,  # the company's default capacity counts
            Presence.AVAILABLE,
            connection.ops.adapt_datetimefield_value(seen_since()),
            *present_params(company_id=company_id, at=at, limit=FIRST_SLICE),
        ]
    params = [
        company_id,
        phone,
        ask_capacity,
        company_id,
        *LEAD_CENTER_LEVELS,
        *LEAD_CENTER_LEVELS,
        *room_params,
        idempotency_key,
        company_id,
        idempotency_key,
        moment,
        moment,
        moment,
        moment,
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_inbound_lock_sql(vendor, room_channel), params)
        row = cursor.fetchone()
    split = len(Contact._meta.concrete_fields)
    room = from_json(row[-2]) if row[-2] is not None else None
    if row[0] is None:
        return InboundLock(
            contact=None, key_interaction_id=row[-1], uses_capacity=bool(row[-3]), room=room
        )
    contact = instance_from_row(Contact, row[:split])
    # (recorded once the number's contact is known: the statement found it by phone)
    lock_taken(Level.CONTACT, [contact.pk])
    owner_row = row[split : split + _AGENT_COLUMNS]
    (owner_works, owner_until, cover_id) = row[split + _AGENT_COLUMNS : split + _AGENT_COLUMNS + 3]
    cover_at = split + _AGENT_COLUMNS + 3
    cover_row = row[cover_at : cover_at + _AGENT_COLUMNS]
    cover_works, cover_until, uses_capacity, _, key_id = row[cover_at + _AGENT_COLUMNS :]
    # (an agent id the statement's snapshot cannot see reads as no agent: routed to the pool)
    contact.primary_agent = (
        instance_from_row(Agent, owner_row)
        if contact.primary_agent_id is not None and owner_row[_AGENT_PK] is not None
        else None
    )
    contact.primary_works_here = contact.primary_agent is not None and bool(owner_works)
    found = InboundLock(
        contact=contact, key_interaction_id=key_id, uses_capacity=bool(uses_capacity), room=room
    )
    if contact.primary_agent is None or owner_until is None:
        return found
    found.owner_absent_until = convert_row(Absence, ("ends_at",), (owner_until,))[0]
    if cover_id is not None and cover_row[_AGENT_PK] is not None:
        found.cover = instance_from_row(Agent, cover_row)
        found.cover_works_here = bool(cover_works)
        if cover_until is not None:
            found.cover_absent_until = convert_row(Absence, ("ends_at",), (cover_until,))[0]
    return found


def lock_book(*, company_id: int, agent_id: int) -> list[LockedContact]:
    """Lock every contact the agent is primary agent of (and that is not being re-assigned),
    in pk order, in one statement; returns them as the ownership path reads them (pass them
    on as ``contacts_set_primary_agent``'s ``locked``)."""
    lock_taken(Level.CONTACT)
    rows = [
        LockedContact(*row)
        for row in Contact.objects.select_for_update(of=("self",))
        .filter(company_id=company_id, primary_agent_id=agent_id, reassign_hold__isnull=True)
        .order_by("pk")
        .values_list(*_LOCKED_FIELDS)
    ]
    # held now: taking them again later waits for nothing
    lock_taken(Level.CONTACT, [row.pk for row in rows])
    return rows


def lock_primary_load(agent_ids: Iterable[int]) -> None:
    """Record the per-agent counters' row locks, the last level: ``primary_load_apply``
    takes them by its upsert, in agent order."""
    lock_taken(Level.PRIMARY_LOAD, agent_ids)


def lock_primary_load_table() -> None:
    """Lock every counter for a recount: no assignment may commit between the count and the
    rewrite (their upserts wait for this lock, which holds them off until we commit)."""
    lock_taken(Level.PRIMARY_LOAD)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {PrimaryLoad._meta.db_table} IN EXCLUSIVE MODE")


def lock_assignment_email(pk: int) -> AssignmentEmail | None:
    """The email row, locked (``agents.locks.lock_email_row``); None when another worker
    holds it."""
    return lock_email_row(AssignmentEmail, level=Level.ASSIGNMENT_EMAIL, pk=pk)


def lock_interactions(
    *,
    filters: Q,
    order_by: tuple[str, ...] = ("pk",),
    limit: int = 500,
    skip_locked: bool = True,
    fields: tuple[str, ...] | None = None,
) -> list:
    """Lock up to ``limit`` inbound items matching ``filters`` (the capacity queue's oldest,
    the deadline sweep's due ones), ``SKIP LOCKED`` by default so parallel workers share the
    work instead of waiting on each other; returns them locked, in ``order_by`` order: the
    model's instances, or with ``fields`` named tuples of just those (a sweep of 1,000 items
    that needs seven columns does not build 1,000 instances, nor parse their JSON). With
    ``fields`` Django writes ``FOR UPDATE`` without ``OF``: keep such ``filters`` to the
    interactions' own columns (no join), or the joined rows would be locked too.

    Recorded as the ``INTERACTION`` level. With ``SKIP LOCKED`` the order of the rows does not
    matter (a skip never waits, so it closes no cycle); without it, order by ``pk``."""
    lock_taken(Level.INTERACTION)
    rows = (
        Interaction.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .filter(filters)
        .order_by(*order_by)
    )
    if fields is not None:
        rows = rows.values_list(*fields, named=True)
    return list(rows[:limit])
