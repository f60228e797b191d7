"""Writing events: called by the services of every app inside the transaction of the change
they report, so an event exists exactly when its change committed (the outbox).

A company none of whose enabled endpoints hears a type gets no row for it
(``Company.outbound_event_types``). After commit, the dispatcher copies new events into the
deliveries of the endpoints that hear them (``events.tasks.dispatch_events``).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents.actors import describe
from agents.bulk import copy_insert
from agents.models import Agent, Company

from .models import Event, EventType


def heard(company: Company, type: EventType | str) -> bool:
    """Whether some enabled endpoint of the company hears ``type``."""
    return str(type) in (company.outbound_event_types or ())


def _dispatch_after_commit(company_id: int) -> None:
    from .tasks import dispatch_events

    dispatch_events.delay_on_commit(company_id)


def event_emit(
    *,
    company: Company,
    type: EventType,
    data: Mapping[str, Any],
    actor: Agent | None = None,
    contact_id: int | None = None,
    version: int | None = None,
) -> Event | None:
    """Write one event (if anyone hears its type). ``data`` gets the actor added: the person,
    the API key of the request (``agents.actors``) or Switchboard."""
    if not heard(company, type):
        return None
    event = Event.objects.create(
        company=company,
        type=type,
        contact_id=contact_id,
        version=version,
        occurred_at=timezone.now(),
        data={**data, "actor": describe(actor)},
    )
    _dispatch_after_commit(company.pk)
    return event


def event_emit_many(
    *,
    company: Company,
    type: EventType,
    items: Iterable[tuple[int | None, int | None, Mapping[str, Any]]],
    actor: Agent | None = None,
    mass: str = "",
) -> int:
    """Write one event per (contact id, version, data) of a change of many contacts, in one
    ``COPY``. ``mass`` names the mass change ("handover", "bulk_assign"): its events are sent
    in batches of up to 100 per request and the payload says so. Returns how many were written."""
    if not heard(company, type):
        return 0
    who = describe(actor)
    now = timezone.now()
    rows = [
        Event(
            company=company,
            type=type,
            contact_id=contact_id,
            version=version,
            occurred_at=now,
            data={**data, "actor": who, **({"mass_change": mass} if mass else {})},
        )
        for contact_id, version, data in items
    ]
    copy_insert(rows)
    if rows:
        _dispatch_after_commit(company.pk)
    return len(rows)


def in_transaction() -> bool:
    return transaction.get_connection().in_atomic_block
