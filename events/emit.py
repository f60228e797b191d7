"""Writing events: called by the services of every app inside the transaction of the change
they report, so an event exists exactly when its change committed (the outbox).

A company none of whose enabled endpoints hears a type gets no row for it
(``Company.outbound_event_types``). After commit, the dispatcher copies new events into the
deliveries of the endpoints that hear them (``events.tasks.dispatch_events``).
"""

import contextlib
import contextvars
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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


@dataclass
class _Held:
    """The events of one mass change made of many small writes, held until it ends."""

    mass: str
    occurred_at: datetime
    events: list[Event] = field(default_factory=list)


_held: contextvars.ContextVar[_Held | None] = contextvars.ContextVar(
    "switchboard_events_held", default=None
)


@contextlib.contextmanager
def one_mass_change(mass: str) -> Iterator[None]:
    """Make every event written inside one mass change ``mass`` (a handover through a
    claim-based group starts a round per contact, each writing its own events).

    The events are held and written when the block ends (inside the caller's transaction;
    nothing when it raises), all at one moment, each saying ``mass_change``, grouped by type
    in the order each type first came — so delivery sends them in batches (up to 100
    consecutive events of one type, mass change and moment) instead of one request each.
    Every contact's events keep their order: if grouping would reorder some contact's, they
    are written as they came. Nested blocks belong to the outermost."""
    if _held.get() is not None:
        yield
        return
    held = _Held(mass=mass, occurred_at=timezone.now())
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    _write_held(held)


def _write_held(held: _Held) -> None:
    if not held.events:
        return
    rank: dict[str, int] = {}
    for event in held.events:
        rank.setdefault(event.type, len(rank))
    grouped = sorted(held.events, key=lambda event: rank[event.type])  # stable
    last: dict[int, int] = {}
    for event in held.events:
        if event.contact_id is None:
            continue
        if rank[event.type] < last.get(event.contact_id, 0):
            grouped = held.events  # a contact's events would change order: as they came
            break
        last[event.contact_id] = rank[event.type]
    copy_insert(grouped)
    for company_id in sorted({event.company_id for event in grouped}):
        _dispatch_after_commit(company_id)


def _hold(held: _Held, event: Event) -> Event:
    event.occurred_at = held.occurred_at
    event.data = {**event.data, "mass_change": held.mass}
    held.events.append(event)
    return event


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
    the API key of the request (``agents.actors``) or Switchboard. Inside
    ``one_mass_change`` the event is held (unsaved) and written when the block ends."""
    if not heard(company, type):
        return None
    event = Event(
        company=company,
        type=type,
        contact_id=contact_id,
        version=version,
        occurred_at=timezone.now(),
        data={**data, "actor": describe(actor)},
    )
    if (held := _held.get()) is not None:
        return _hold(held, event)
    event.save(force_insert=True)
    _dispatch_after_commit(company.pk)
    return event


def event_emit_many(
    *,
    company: Company,
    type: EventType,
    items: Iterable[tuple[int | None, int | None, Mapping[str, Any]]],
    actor: Agent | None = None,
    mass: str = "",
    one_is_mass: bool = False,
) -> int:
    """Write one event per (contact id, version, data) of a change of 1..N contacts, in one
    ``COPY``. ``mass`` names the mass change ("handover", "bulk_assign"): its events are sent
    in batches of up to 100 per request and the payload says so. A change that turned out to
    touch one contact is a plain event (``event_emit``), unless ``one_is_mass`` (one contact of
    a handover is still the handover's). Returns how many were written (inside
    ``one_mass_change``: held, of that mass change, and written when it ends)."""
    if not heard(company, type):
        return 0
    items = list(items)
    if len(items) == 1 and not one_is_mass:
        contact_id, version, data = items[0]
        event_emit(
            company=company,
            type=type,
            data=data,
            actor=actor,
            contact_id=contact_id,
            version=version,
        )
        return 1
    held = _held.get()
    if held is not None:
        mass = held.mass
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
    if held is not None:
        for row in rows:
            _hold(held, row)
        return len(rows)
    copy_insert(rows)
    if rows:
        _dispatch_after_commit(company.pk)
    return len(rows)
