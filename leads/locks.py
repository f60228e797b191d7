"""The leads' row locks, in the one lock order of Switchboard (``agents/lockorder.py``).

A leads path locks, within one transaction and never backwards:

1. the customers (``contacts.locks.lock_contacts``: the ``contact`` level, pk order);
2. their open leads (here, the ``lead`` level, pk order).

A lead is decided under its customer's lock: two paths that meet on a customer (an order
entered while an admin assigns it) queue on the contact row, so the partial unique index
is the last guard, never the first. The lead email row stands alone (its task takes no
other lock).
"""

from collections.abc import Iterable

from agents.lockorder import Level, lock_taken
from agents.locks import lock_email_row
from contacts.locks import LockedContact, lock_contacts

from .models import Lead, LeadEmail


def lock_customers(*, company_id: int, ids: Iterable[int]) -> list[LockedContact]:
    """Lock the company's contacts among ``ids`` (pk order, in chunks)."""
    locked: list[LockedContact] = []
    for chunk in lock_contacts(company_id=company_id, ids=ids):
        locked.extend(chunk)
    return locked


def lock_open_leads(*, contact_ids: Iterable[int]) -> dict[int, Lead]:
    """Lock the open leads of these (already locked) customers, in pk order; by contact id."""
    ids = sorted(set(contact_ids))
    found: dict[int, Lead] = {}
    for start in range(0, len(ids), 2000):
        lock_taken(Level.LEAD)
        rows = (
            Lead.objects.select_for_update(of=("self",))
            .filter(contact_id__in=ids[start : start + 2000], status=Lead.Status.OPEN)
            .order_by("pk")
        )
        chunk = {lead.contact_id: lead for lead in rows}
        lock_taken(Level.LEAD, [lead.pk for lead in chunk.values()])
        found.update(chunk)
    return found


def lock_lead_email(pk: int) -> LeadEmail | None:
    """The email row, locked (``agents.locks.lock_email_row``); None when another worker
    holds it."""
    return lock_email_row(LeadEmail, level=Level.LEAD_EMAIL, pk=pk)
