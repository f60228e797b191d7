"""The one lock order of Switchboard, and the helpers that take the contact-level locks.

Every service that locks rows does it through a helper of a ``locks`` module (this one and
``routing/locks.py``, ``agents/locks.py``; a test in ``tests/routing/test_spine_fixes.py``
fails on a ``select_for_update`` anywhere else).
Within one transaction the levels are taken in this order, never backwards, and the rows of
one level in primary-key order, so two transactions never wait on each other in a cycle:

1. ``DISTRIBUTION`` — a reassignment group or routing rule (``routing.locks``): one decision
   at a time per group, its rotation read and stored under the lock;
2. ``ROUND`` — a contact's open round (``routing.locks``);
3. ``CONTACT`` — contacts (here), in pk order;
4. ``PRIMARY_LOAD`` — the per-agent counters, in agent order (an upsert in
   ``contacts.ownership.primary_load_apply``, which sorts its rows).

A lower level never needs a higher one's lock: ``contacts`` knows nothing of rounds, and a
round's hold on a contact is a field of the contact (``Contact.reassign_hold``).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from .models import Contact

LOCK_ORDER = ("distribution", "round", "contact", "primary_load")

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
    return (
        Contact.objects.select_for_update(of=("self",))
        .select_related("primary_agent", "company")
        .get(pk=pk)
    )


def lock_contact_by_phone(*, company_id: int, phone: str) -> Contact | None:
    """Lock the company's contact with this E.164 number, if there is one."""
    return (
        Contact.objects.select_for_update(of=("self",))
        .select_related("primary_agent")
        .filter(company_id=company_id, phone=phone)
        .first()
    )


def lock_book(*, company_id: int, agent_id: int) -> list[int]:
    """Lock every contact the agent is primary agent of (and that is not being re-assigned),
    in pk order, in one statement; returns their ids."""
    return list(
        Contact.objects.select_for_update(of=("self",))
        .filter(company_id=company_id, primary_agent_id=agent_id, reassign_hold__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
