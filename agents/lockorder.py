"""The one lock order of Switchboard: every lockable thing, in the order a transaction takes it.

Within one transaction the levels of ``ORDER`` are taken in this order, never backwards, and
the rows of one level in primary-key order, so two transactions never wait on each other in a
cycle. The levels of ``ALONE`` are each the only lock of their transaction (a task that locks
its own row and takes nothing else).

Every lock helper (the ``locks`` modules, and nothing else takes a row or table lock: a test
in ``tests/agents/test_lock_guard.py`` fails on one elsewhere) calls ``lock_taken`` with its
level. With ``settings.LOCK_ORDER_CHECK`` on (the test suite, CI included) a transaction that
goes back down the order raises ``LockOrderViolation`` naming both levels; off (production)
``lock_taken`` returns at once.

Going back down is allowed for rows the transaction already holds (pass their pks as
``keys``): waiting for a lock one already has is no wait, so it closes no cycle — a handover
locks its group and book, then starts a round per contact, which locks the same group and
contact again.

This module is at the ground floor and imports nothing of the apps: every app uses it.
"""

from collections.abc import Iterable
from enum import StrEnum

from django.conf import settings
from django.db import connection


class Level(StrEnum):
    # The order (ORDER keeps the first thirteen in this sequence):
    AGENT = "agent"  # agents.locks.lock_agents, pk order
    CENTER = "center"  # agents.locks.lock_center
    CONTACT_LIST = "contact_list"  # campaigns.locks
    CAMPAIGN = "campaign"  # campaigns.locks
    ENTRY = "entry"  # campaigns.locks (and the next-record reservation)
    GROUP = "group"  # routing.locks: a reassignment group (distribution)
    RULE = "rule"  # routing.locks: a routing rule (distribution, after groups)
    ROUND = "round"  # routing.locks
    CONTACT = "contact"  # contacts.locks, pk order, in chunks
    LEAD = "lead"  # leads.locks: a customer's open leads, after its contact
    PRIMARY_LOAD = "primary_load"  # contacts.locks: the per-agent counters, agent order
    # contacts.locks.lock_interactions: inbound items (the capacity queue, the deadline
    # sweep), pk order; a take's or a handled mark's compare-and-set on one item alike.
    INTERACTION = "interaction"
    ITEM_LOAD = "item_load"  # agents.locks.lock_item_loads: open items vs capacity, agent order
    # Alone in their transaction:
    ALERT_STATE = "alert_state"  # agents.locks.lock_alert_state
    OFFER_EMAIL = "offer_email"  # routing.locks.lock_offer
    ASSIGNMENT_EMAIL = "assignment_email"  # contacts.locks.lock_assignment_email
    LEAD_EMAIL = "lead_email"  # leads.locks.lock_lead_email
    # events.locks.lock_company_events: the company row (FOR NO KEY UPDATE), taken by the
    # outbound webhooks' dispatch and endpoint changes, after the change they report committed.
    COMPANY_EVENTS = "company_events"
    ENDPOINT_EMAIL = "endpoint_email"  # events.locks.lock_endpoint_email
    DEADLINE_EMAIL = "deadline_email"  # routing.locks: a response deadline's email row


ALONE = frozenset(
    {
        Level.ALERT_STATE,
        Level.OFFER_EMAIL,
        Level.ASSIGNMENT_EMAIL,
        Level.LEAD_EMAIL,
        Level.COMPANY_EVENTS,
        Level.ENDPOINT_EMAIL,
        Level.DEADLINE_EMAIL,
    }
)
ORDER = tuple(level for level in Level if level not in ALONE)
RANK = {level: n for n, level in enumerate(ORDER)}


class LockOrderViolation(AssertionError):
    """A transaction asked for a lock the order forbids at this point (a bug in our code)."""


class _Taken:
    """What the current transaction has locked: the highest level and the keys per level."""

    __slots__ = ("alone", "highest", "hooks", "keys", "outer", "sid")

    def __init__(self, outer, sid, hooks) -> None:
        self.outer, self.sid, self.hooks = outer, sid, hooks
        self.highest: Level | None = None
        self.alone: Level | None = None
        self.keys: dict[Level, set] = {}


def _transaction() -> tuple | None:
    """What identifies the current transaction: the outermost atomic block our code opened
    (a test case's own blocks don't count: under pytest-django each service's outermost block
    is a savepoint of the test's transaction, and it stands for the service's transaction),
    that block's savepoint id, and the list of on-commit hooks. Django replaces that list when
    a transaction ends and when a savepoint is rolled back, so either forgets what was taken:
    PostgreSQL releases a savepoint's locks when it is rolled back, and which levels came after
    the savepoint is not worth telling apart (at worst a violation after a rollback goes
    unseen; none is ever reported falsely). None outside a transaction (autocommit: every
    statement is a transaction of its own, so it cannot go backwards)."""
    blocks = connection.atomic_blocks
    for depth, block in enumerate(blocks):
        if not getattr(block, "_from_testcase", False):
            ids = connection.savepoint_ids
            sid = ids[depth - 1] if 0 < depth <= len(ids) else None
            return block, sid, connection.run_on_commit
    return None


def lock_taken(level: Level, keys: Iterable = ()) -> None:
    """Record that the current transaction takes (or is about to take) ``level``'s locks on
    ``keys`` (the rows' pks, when known), and with ``LOCK_ORDER_CHECK`` on fail if the order
    forbids it: a level below one already taken, unless every key is already held at that
    level; rows of a level below a row of that level already held (rows in pk order); an
    ``ALONE`` level with any other lock in the same transaction."""
    if not getattr(settings, "LOCK_ORDER_CHECK", False):
        return
    current = _transaction()
    if current is None:
        return
    outer, sid, hooks = current
    taken = getattr(connection, "_lock_order_taken", None)
    if taken is None or taken.outer is not outer or taken.sid != sid or taken.hooks is not hooks:
        taken = _Taken(outer, sid, hooks)
        connection._lock_order_taken = taken
    level = Level(level)
    keys = set(keys)
    if level in ALONE:
        other = taken.highest or (taken.alone if taken.alone != level else None)
        if other is not None:
            raise LockOrderViolation(
                f"Lock order: {level} stands alone, but this transaction already took {other}."
            )
        taken.alone = level
        return
    if taken.alone is not None:
        raise LockOrderViolation(
            f"Lock order: {level} requested in a transaction holding {taken.alone}, "
            "which stands alone."
        )
    held = taken.keys.setdefault(level, set())
    if taken.highest is not None and RANK[level] < RANK[taken.highest]:
        if not keys or not keys <= held:
            raise LockOrderViolation(
                f"Lock order: {level} requested after {taken.highest} in the same "
                f"transaction ({' → '.join(ORDER)}); take {level} first."
            )
        return
    new = keys - held
    if new and held and min(new) < max(held):
        raise LockOrderViolation(
            f"Lock order: {level} rows {sorted(new)[:5]} requested after row {max(held)} in the "
            "same transaction; take the rows of one level in primary-key order."
        )
    held |= keys
    if taken.highest is None or RANK[level] > RANK[taken.highest]:
        taken.highest = level
