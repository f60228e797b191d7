"""Inbound interactions (texts, forms, calls, chats): stored where routing sent them, taken
from the Active pool by one agent (a compare-and-set), marked handled; ``interaction.routed``
for those that change hands after they arrived."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agents.availability.capacity import load_admit, load_release
from agents.availability.models import ItemLoad
from agents.availability.rules import (
    OFF_HOURS,
    OUT_OF_OFFICE,
    availability_of,
    capacity_of,
    when_text,
)
from agents.centers.models import CenterMembership, ContactCenter, QueueItem
from agents.centers.services import center_record_ring_outcome
from agents.live import (
    live_changed,
    stream_active,
    stream_agent,
    stream_center,
    stream_contact,
    stream_workload,
)
from agents.lockorder import Level, lock_taken
from agents.models import Agent, Company
from agents.rawsql import insert_one, insert_pair
from events import payloads
from events.emit import event_emit_many, heard
from events.models import EventType

from .models import Contact, Interaction
from .selectors import visible_to
from .tasks import drain_capacity_queue

MAX_BODY_CHARS = 5000


@dataclass(frozen=True)
class Rerouted:
    """An item that changed hands after it arrived, as its ``interaction.routed`` says it."""

    interaction_id: int
    contact_id: int
    channel: str
    to: Mapping[str, Any]  # ``payloads.routed_to_owner`` / ``routed_to_pool``
    reason: str


def interactions_routed_emit(
    *,
    company: Company,
    items: Sequence[Rerouted],
    method: payloads.Method,
    actor: Agent | None = None,
) -> int:
    """``interaction.routed`` for items that changed hands after they arrived: the capacity
    queue handing them to an agent with room (``method`` queue), a missed response deadline
    moving them to Active (deadline), a leaving agent's open items moved to Active (handover,
    by ``actor``: who deactivated them), all of ``company``. Inside the change's transaction:
    one query for the contacts (the company's only) and one insert for the events
    (``event_emit_many``), and nothing at all (no query) when no endpoint of the company
    hears the type. Returns how many were written."""
    if not items or not heard(company, EventType.INTERACTION_ROUTED):
        return 0
    contacts = {
        pk: (name, phone, version)
        for pk, name, phone, version in Contact.objects.filter(
            company=company, pk__in={item.contact_id for item in items}
        ).values_list("pk", "name", "phone", "ownership_version")
    }
    events = []
    for item in items:
        if item.contact_id not in contacts:
            continue  # (deleted meanwhile: its interactions go with it)
        name, phone, version = contacts[item.contact_id]
        events.append(
            (
                item.contact_id,
                version,
                payloads.interaction_routed(
                    interaction_id=item.interaction_id,
                    contact=payloads.contact_ref(id=item.contact_id, name=name, phone=phone),
                    channel=item.channel,
                    to=dict(item.to),
                    reason=item.reason,
                    created_contact=False,
                    method=method,
                ),
            )
        )
    return event_emit_many(
        company=company, type=EventType.INTERACTION_ROUTED, items=events, actor=actor
    )


def interaction_record(
    *,
    contact: Contact,
    channel: str,
    body: str,
    source: str,
    contact_center: str,
    routed_to_id: int | None,
    pool: str,
    reason: str,
    details: dict,
    idempotency_key: str,
    request_hash: str = "",
    center: ContactCenter | None = None,
    ring: list | None = None,
    **availability,
) -> Interaction:
    """Store an inbound interaction where routing decided it goes (inside its transaction).
    A call or chat for a contact center also waits in the center's queue until taken.
    ``availability`` sets what the owner's availability decided (docs/availability.md):
    ``covering_for_id`` and ``cover_until`` (sent to a cover), ``response_due_at`` and
    ``response_warn_at`` (the owner's deadline), ``queued_at`` (pool "queue")."""
    allowed = {"covering_for_id", "cover_until", "response_due_at", "response_warn_at", "queued_at"}
    if not set(availability) <= allowed:
        raise TypeError(f"interaction_record got {sorted(set(availability) - allowed)}")
    interaction = Interaction(
        center=center,
        ring=ring or [],
        company_id=contact.company_id,
        contact=contact,
        channel=channel,
        body=body,
        source=source,
        contact_center=contact_center,
        routed_to_id=routed_to_id,
        pool=pool,
        route_reason=reason[:300],
        route_details=details,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        **availability,
    )
    if center is None:
        return insert_one(interaction)
    # The center's queue item and the interaction waiting in it: one round trip.
    queue_item = QueueItem(center=center, label=f"{channel} from {contact}"[:120])
    insert_pair(queue_item, interaction, link="queue_item")
    return interaction


def _interaction_problem(
    *, company: Company, interaction_id: int, agent: Agent | None = None
) -> ValidationError:
    current = (
        Interaction.objects.filter(company=company, pk=interaction_id)
        .select_related("taken_by", "routed_to", "center")
        .first()
    )
    if current is None:
        return ValidationError("This item no longer exists.", code="missing")
    if (
        agent is not None
        and current.center is not None
        and not current.taken_by_id
        and not CenterMembership.objects.filter(center=current.center, agent=agent).exists()
    ):
        return ValidationError(
            f"This call is for the {current.center} contact center; only its members take it.",
            code="not_member",
        )
    if current.status == Interaction.Status.HANDLED:
        return ValidationError("This item was already handled.", code="handled")
    if current.response_missed_at is not None and current.routed_to_id is None:
        return ValidationError(
            "Its response deadline passed: it moved to Active, where any available agent "
            "can take it (you too).",
            code="deadline_missed",
        )
    if current.taken_by is not None:
        return ValidationError(f"{current.taken_by} took this one first.", code="taken")
    if current.routed_to is not None:
        return ValidationError(f"This is in {current.routed_to}'s inbox.", code="routed")
    return ValidationError("This item can't be taken.", code="invalid")


def _refuse_unavailable(*, company: Company, agent: Agent) -> None:
    """Taking from Active needs the taker at work: not out of office, within their hours,
    Available (the rules' order, docs/availability.md). Capacity is checked once the item's
    channel is known."""
    state = availability_of(company=company, agents=[agent], with_capacity=False)[agent.pk]
    if state.status == OUT_OF_OFFICE:
        raise ValidationError(
            f"You are out of office until {when_text(state.until, company.time_zone)}: "
            "items from Active are for the agents at work. End your absence first to take one.",
            code="out_of_office",
        )
    if state.status == OFF_HOURS:
        until = f" until {when_text(state.until, company.time_zone)}" if state.until else ""
        raise ValidationError(
            f"You are off hours{until}: take items from Active during your working hours.",
            code="off_hours",
        )
    if not state.available:
        raise ValidationError("Set yourself Available to take items from Active.", code="away")


def _full_problem(*, company: Company, agent: Agent, channel: str) -> ValidationError:
    capacity = capacity_of(company, agent)
    load = ItemLoad.objects.filter(company=company, agent=agent).first()
    total = load.total if load else 0
    limit = capacity.limit(channel)
    if limit is not None and (capacity.total is None or total < capacity.total):
        word = Interaction(channel=channel).get_channel_display().lower()
        return ValidationError(
            f"You have {getattr(load, channel, 0) if load else 0} open {word}s, your capacity "
            f"for {word}s: hand one in before taking another.",
            code="full",
        )
    return ValidationError(
        f"You have {total} open items, your capacity: hand one in before taking another.",
        code="full",
    )


@transaction.atomic
def interaction_take(*, company: Company, interaction_id: int, agent: Agent) -> Interaction:
    """Take an item from the Active pool. Of several agents taking it at once exactly one
    wins (compare-and-set on the row); the others get a ValidationError saying who won. An
    agent out of office, off hours, not Available or at capacity is refused, and nothing
    changes (the item's compare-and-set is rolled back with the refusal)."""
    _refuse_unavailable(company=company, agent=agent)
    now = timezone.now()
    # The compare-and-set locks the item's row. It is not recorded as the INTERACTION level:
    # a center's call then records its ring outcome (AGENT, CENTER levels) — only the row
    # won is held meanwhile, which nobody holding a center waits for — and the counter
    # (ITEM_LOAD, the last level) comes after that.
    won = (
        Interaction.objects.filter(
            company=company,
            pk=interaction_id,
            pool=Interaction.Pool.ACTIVE,
            routed_to__isnull=True,
            status=Interaction.Status.OPEN,
        )
        .filter(visible_to(agent))
        .update(routed_to=agent, taken_by=agent, taken_at=now)
    )
    if won != 1:
        raise _interaction_problem(company=company, interaction_id=interaction_id, agent=agent)
    interaction = Interaction.objects.select_related("center").get(pk=interaction_id)
    if interaction.center is not None:
        # Answered: it leaves the center's queue, and round robin / longest idle move on.
        if interaction.queue_item_id:
            QueueItem.objects.filter(pk=interaction.queue_item_id).update(answered_at=now)
        center_record_ring_outcome(
            center=interaction.center, agent=agent, outcome="answered", at=now
        )
    if not load_admit(
        company_id=company.pk,
        agent_id=agent.pk,
        kind=interaction.channel,
        capacity=capacity_of(company, agent),
    ):
        # Raised inside the transaction: the take and the ring outcome roll back with it.
        raise _full_problem(company=company, agent=agent, channel=interaction.channel)
    # After commit: it leaves every Active tab of the company and comes to the taker's Mine.
    streams = [
        stream_active(company.pk),
        stream_agent(agent.pk),
        stream_contact(interaction.contact_id),
        stream_workload(company.pk),
    ]
    if interaction.center_id is not None:
        streams.append(stream_center(interaction.center_id))
    live_changed(company_id=company.pk, streams=streams)
    return interaction


@transaction.atomic
def interaction_mark_handled(*, company: Company, interaction_id: int, agent: Agent) -> None:
    """Mark an item of the agent's handled. For an agent with a capacity its counter drops by
    one, and once that commits the capacity queue's oldest items are handed to them if they
    have room (``contacts.drain_capacity_queue``)."""
    lock_taken(Level.INTERACTION, [interaction_id])
    done = Interaction.objects.filter(
        company=company, pk=interaction_id, routed_to=agent, status=Interaction.Status.OPEN
    ).update(status=Interaction.Status.HANDLED, handled_by=agent, handled_at=timezone.now())
    if done != 1:
        raise _interaction_problem(company=company, interaction_id=interaction_id)
    channel, contact_id = Interaction.objects.values_list("channel", "contact_id").get(
        pk=interaction_id
    )
    # After commit: it leaves the agent's Mine and shows handled on the contact page.
    live_changed(
        company_id=company.pk,
        streams=[stream_agent(agent.pk), stream_contact(contact_id), stream_workload(company.pk)],
    )
    if capacity_of(company, agent).unlimited:
        return  # no counter, and never full: nothing waits for their room
    load_release(company_id=company.pk, agent_id=agent.pk, kind=channel)
    drain_capacity_queue.delay_on_commit(company.pk, agent.pk)
