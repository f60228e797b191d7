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

from django.db.models import Expression, OuterRef, Subquery

from .models import Contact, Interaction

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


def lock_contact_for_inbound(
    *, company_id: int, phone: str, idempotency_key: str = "", **annotations: Expression
) -> Contact | None:
    """The inbound webhook's one statement: lock the company's contact with this E.164
    number, with its primary agent, ``annotations`` (what routing decides on, e.g. whether
    that agent may still own the company's contacts) and ``key_interaction_id``: the
    interaction ``idempotency_key`` already created, if any.

    The key is read as of the statement's start: an interaction committed with the same key
    while this waited for the lock is not seen here, and the key's unique constraint refuses
    the second insert (the caller runs again and replays it)."""
    if idempotency_key:
        used = Interaction.objects.filter(company_id=OuterRef("company_id"))
        used = used.filter(idempotency_key=idempotency_key).values("pk")[:1]
        annotations["key_interaction_id"] = Subquery(used)
    rows = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("primary_agent")
        .annotate(**annotations)
        .filter(company_id=company_id, phone=phone)
        .order_by()  # one row at most: (company, phone) is unique
    )
    for contact in rows:
        if not idempotency_key:
            contact.key_interaction_id = None
        return contact
    return None


def lock_book(*, company_id: int, agent_id: int) -> list[int]:
    """Lock every contact the agent is primary agent of (and that is not being re-assigned),
    in pk order, in one statement; returns their ids."""
    return list(
        Contact.objects.select_for_update(of=("self",))
        .filter(company_id=company_id, primary_agent_id=agent_id, reassign_hold__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
