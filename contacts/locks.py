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

from django.db import connection
from django.db.models import Q

from agents.lockorder import Level, lock_taken
from agents.locks import lock_email_row
from agents.models import Agent
from agents.rawsql import instance_from_row, prepared_cursor
from agents.selectors import LEAD_CENTER_LEVELS

from .models import AssignmentEmail, Contact, Interaction, PrimaryLoad

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
            .values_list(
                "pk",
                "primary_agent_id",
                "ownership_version",
                "reassign_hold",
                "reassign_hold_label",
            )
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
def _inbound_lock_sql(vendor: str) -> str:
    # Written out once per process from the models' fields: the ORM spends ~2 ms building
    # this statement (a join, two subqueries) on every request, the database ~0.2 ms running
    # it (docs/performance.md). ``primary_works_here`` is ``eligible_primary_agents`` in SQL
    # (tests/contacts/test_webhook_fast_path.py checks they agree). One row always comes
    # back: the contact's columns are NULL when the number is new, the key's interaction
    # is read either way.
    contact_fields = Contact._meta.concrete_fields
    contact_columns = ", ".join(f'c."{f.column}" AS x{n}' for n, f in enumerate(contact_fields))
    alias = {f.attname: f"x{n}" for n, f in enumerate(contact_fields)}
    agent_columns = ", ".join(f'a."{f.column}"' for f in Agent._meta.concrete_fields)
    memberships = Agent.companies.through._meta.db_table
    levels = ", ".join(["%s"] * len(LEAD_CENTER_LEVELS))
    # SQLite (the embedded default) locks the whole database per write transaction instead.
    lock = " FOR UPDATE OF c" if connection.features.has_select_for_update_of else ""
    # Names come from the models' metadata; every value is a parameter. A CTE that locks
    # is never folded into the outer query, so the lock is taken as written. Only the
    # contact is read under the lock: its primary agent is joined outside, by the id the
    # lock returns — had it joined inside, a contact whose owner changed while this waited
    # for the lock would come back re-checked with the old agent's join failing (NULLs).
    return f"""
        WITH locked AS (
            SELECT {contact_columns}
            FROM "{Contact._meta.db_table}" c
            WHERE c.company_id = %s AND c.phone = %s AND c.phone <> ''{lock}
        )
        SELECT locked.*, {agent_columns},
            (a.id IS NOT NULL AND a.is_active AND a.access_level IN ({levels})
             AND EXISTS (SELECT 1 FROM "{memberships}" m
                         WHERE m.agent_id = a.id AND m.company_id = locked.{alias["company_id"]})),
            (SELECT i.id FROM "{Interaction._meta.db_table}" i
             WHERE %s <> '' AND i.company_id = %s AND i.idempotency_key = %s
               AND i.idempotency_key <> '' LIMIT 1)
        FROM (SELECT 1) AS one
        LEFT JOIN locked ON TRUE
        LEFT JOIN "{Agent._meta.db_table}" a ON a.id = locked.{alias["primary_agent_id"]}"""  # noqa: S608


_AGENT_PK = next(n for n, f in enumerate(Agent._meta.concrete_fields) if f.primary_key)


@dataclass
class InboundLock:
    """What ``lock_contact_for_inbound`` found: the locked contact (None for a new number)
    and the interaction the idempotency key already made (None if the key is new)."""

    contact: Contact | None
    key_interaction_id: int | None


def lock_contact_for_inbound(
    *, company_id: int, phone: str, idempotency_key: str = ""
) -> InboundLock:
    """The inbound webhook's one statement: lock the company's contact with this E.164
    number (``SELECT … FOR UPDATE OF`` the contact only), with its primary agent loaded and
    ``primary_works_here`` (that agent may still own the company's contacts:
    ``agents.selectors.eligible_primary_agents``), and the interaction ``idempotency_key``
    already created, if any — for a known or a new number alike.

    The key is read as of the statement's start: an interaction committed with the same key
    while this waited for the lock is not seen here, and the key's unique constraint refuses
    the second insert (the caller runs again and replays it)."""
    params = [
        company_id,
        phone,
        *LEAD_CENTER_LEVELS,
        idempotency_key,
        company_id,
        idempotency_key,
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_inbound_lock_sql(connection.vendor), params)
        row = cursor.fetchone()
    split = len(Contact._meta.concrete_fields)
    if row[0] is None:
        return InboundLock(contact=None, key_interaction_id=row[-1])
    contact = instance_from_row(Contact, row[:split])
    # (recorded once the number's contact is known: the statement found it by phone)
    lock_taken(Level.CONTACT, [contact.pk])
    agent_row = row[split:-2]
    # (an agent id the statement's snapshot cannot see reads as no agent: routed to the pool)
    contact.primary_agent = (
        instance_from_row(Agent, agent_row)
        if contact.primary_agent_id is not None and agent_row[_AGENT_PK] is not None
        else None
    )
    contact.primary_works_here = contact.primary_agent is not None and bool(row[-2])
    return InboundLock(contact=contact, key_interaction_id=row[-1])


def lock_book(*, company_id: int, agent_id: int) -> list[int]:
    """Lock every contact the agent is primary agent of (and that is not being re-assigned),
    in pk order, in one statement; returns their ids."""
    lock_taken(Level.CONTACT)
    ids = list(
        Contact.objects.select_for_update(of=("self",))
        .filter(company_id=company_id, primary_agent_id=agent_id, reassign_hold__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    lock_taken(Level.CONTACT, ids)  # held now: taking them again later waits for nothing
    return ids


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
    *, filters: Q, order_by: tuple[str, ...] = ("pk",), limit: int = 500, skip_locked: bool = True
) -> list[Interaction]:
    """Lock up to ``limit`` inbound items matching ``filters`` (the capacity queue's oldest,
    the deadline sweep's due ones), ``SKIP LOCKED`` by default so parallel workers share the
    work instead of waiting on each other; returns them locked, in ``order_by`` order.

    Recorded as the ``INTERACTION`` level. With ``SKIP LOCKED`` the order of the rows does not
    matter (a skip never waits, so it closes no cycle); without it, order by ``pk``."""
    lock_taken(Level.INTERACTION)
    rows = list(
        Interaction.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .filter(filters)
        .order_by(*order_by)[:limit]
    )
    return rows
