"""Inbound interactions: an incoming text, form, call or chat is recorded and routed.

Moved here from ``contacts`` because it composes contacts (lock, create, fill in), the routing
rules (a new number's contact) and the engine (where the interaction goes)."""

import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents import live
from agents.availability import hours, rules
from agents.availability.capacity import load_admit
from agents.availability.models import Absence
from agents.centers.models import ContactCenter
from agents.centers.selectors import center_by_name_or_id, center_ring_facts
from agents.choices import Presence
from agents.models import Agent, Company
from agents.phone import normalise_phone
from agents.zones import zone_of
from contacts.interactions import interaction_record
from contacts.locks import InboundLock, lock_contact_for_inbound
from contacts.models import Contact, Interaction
from contacts.room import everyone_full
from contacts.services import DuplicatePhone, contact_create_in_retried_transaction, contact_update
from events import payloads
from events.emit import event_emit, heard
from events.models import EventType

from . import engine
from .engine.centers import SKILLS
from .engine.inbound import DIRECT_CHANNELS
from .rules import contact_route_new


class IdempotencyKeyReused(ValidationError):
    """The key was already used for a different request (answered 422, as payment APIs do)."""


def _request_hash(phone: str, fields: dict[str, str]) -> str:
    canonical = json.dumps({"phone": phone, **fields}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_center(*, company: Company, name_or_id: str) -> ContactCenter:
    """The company's contact center named (case-insensitively) or numbered ``name_or_id``;
    a ValidationError on ``contact_center`` when there is none."""
    center = center_by_name_or_id(company=company, name_or_id=name_or_id)
    if center is None:
        value = name_or_id.strip()
        raise ValidationError(
            {"contact_center": [f"{company} has no contact center “{value[:100]}”."]}
        )
    if not center.is_active:
        # Deactivated: its members are not rung; the call flow must name another center.
        raise ValidationError(
            {
                "contact_center": [
                    f"The contact center “{center.name}” is deactivated: it takes no calls. "
                    "Send the call to an active center."
                ]
            }
        )
    return center


def _ring_payload(ring: engine.RingList) -> list[dict]:
    # Skills-based: each agent's rank for the call type, so the order can be read (null when
    # the call named no type: then nobody is ranked and the longest idle rings first).
    # (A center's hundreds of entries on every call: one dict display each, no ** merge.)
    if ring.routing_type == SKILLS:
        return [
            {
                "agent": email,
                "name": name,
                "order": order,
                "rank": rank,
                "devices": [{"kind": d.kind, "label": d.label} for d in devices],
            }
            for _, name, devices, order, email, rank in ring.ring
        ]
    return [
        {
            "agent": email,
            "name": name,
            "order": order,
            "devices": [{"kind": d.kind, "label": d.label} for d in devices],
        }
        for _, name, devices, order, email, _ in ring.ring
    ]


def _availability(
    agent: Agent, *, company: Company, absent_until: datetime | None, at: datetime, zone, holidays
) -> rules.Availability:
    """The agent's availability now, by ``agents.availability.rules`` (out of office, off
    hours, presence; capacity is admitted by ``load_admit`` once routing picked them)."""
    schedule = rules.schedule_of(company, agent)
    if absent_until is None and schedule.always and at.astimezone(zone).date() not in holidays:
        # Always at work and no holiday today: only presence can say no. (``hours.is_open``
        # would walk up to a year of touching days to find when "always" ends, ~1.6 ms a
        # call, for an answer nothing here reads.)
        presence = agent.effective_presence
        if presence == Presence.AVAILABLE:
            return rules.Availability(rules.AVAILABLE, why="available")
        return rules.Availability(presence, why=Presence(presence).label.lower())
    return rules.decide(
        presence=agent.effective_presence,
        schedule=schedule,
        holidays=holidays,
        zone=zone,
        at=at,
        # (without the cover: the sentence names the cover by itself)
        absence=Absence(agent_id=agent.pk, ends_at=absent_until) if absent_until else None,
    )


def _snapshot(
    agent: Agent,
    *,
    works_here: bool,
    absent_until: datetime | None,
    cover: engine.AgentSnapshot | None = None,
    **facts,
) -> engine.AgentSnapshot:
    availability = _availability(agent, absent_until=absent_until, **facts)
    return engine.AgentSnapshot(
        id=agent.pk,
        name=str(agent),
        presence=availability.status,
        works_here=works_here,
        why=availability.why,
        cover=cover,
        cover_until=absent_until.timestamp() if cover is not None else None,
    )


def _full_why(capacity: rules.Capacity, channel: str) -> str:
    """Why ``load_admit`` refused, in the why log's words (it says full, not by which limit)."""
    per_channel = capacity.limit(channel)
    if per_channel is None:
        return f"at capacity ({capacity.total} open items)"
    if capacity.total is None:
        return f"at capacity for {channel}s ({per_channel} open)"
    return f"at capacity ({capacity.total} open items, {per_channel} {channel}s)"


def response_deadline(
    *, company: Company, agent: Agent, channel: str, at: datetime
) -> tuple[datetime | None, datetime | None]:
    """When a text or form routed to ``agent`` at ``at`` must be answered, and when they are
    warned: the company's deadline for the channel counted in working time — the hours of
    whoever must answer it (the cover's own hours when covering: the owner is away and their
    hours say nothing about when the cover can reply) and the company's holidays. (None,
    None) without a deadline, or with no working hours within a year; no warning when the
    warning time is 0 or already past."""
    minutes = company.text_deadline_minutes if channel == "text" else company.form_deadline_minutes
    if not minutes:
        return None, None
    zone = zone_of(company.time_zone)
    due = hours.add_working_time(
        rules.schedule_of(company, agent),
        rules.company_holidays(company),
        zone,
        at,
        timedelta(minutes=minutes),
    )
    if due is None:
        return None, None
    warn = None
    if company.deadline_warning_minutes:
        warn = due - timedelta(minutes=company.deadline_warning_minutes)
        if warn <= at:
            warn = None
    return due, warn


def _route_owner_first(
    *, company: Company, contact: Contact, found: InboundLock, channel: str, at: datetime
) -> tuple[engine.InteractionRoute, dict, Agent | None]:
    """Where a text or form goes (``engine.route_interaction``), with what the interaction
    records beside it (``interaction_record``'s availability fields) and the agent it went
    to. The owner (or their cover) with a capacity is admitted here (``load_admit``); a full
    one sends it on to Active, and Active with everyone at capacity is the capacity queue."""
    owner = contact.primary_agent
    primary = None
    if owner is not None:
        facts = {
            "company": company,
            "at": at,
            "zone": zone_of(company.time_zone),
            "holidays": rules.company_holidays(company),
        }
        cover = None
        if found.owner_absent_until is not None and found.cover is not None:
            cover = _snapshot(
                found.cover,
                works_here=found.cover_works_here,
                absent_until=found.cover_absent_until,
                **facts,
            )
        primary = _snapshot(
            owner,
            works_here=contact.primary_works_here,
            absent_until=found.owner_absent_until,
            cover=cover,
            **facts,
        )
    route = engine.route_interaction(channel=channel, primary=primary)
    if route.agent_id is not None:
        covering = primary.cover is not None and route.agent_id == primary.cover.id
        agent = found.cover if covering else owner
        capacity = rules.capacity_of(company, agent)
        if capacity.unlimited or load_admit(
            company_id=company.pk, agent_id=agent.pk, kind=channel, capacity=capacity
        ):
            due, warn = response_deadline(company=company, agent=agent, channel=channel, at=at)
            recorded = {"response_due_at": due, "response_warn_at": warn}
            if covering:
                recorded |= {"covering_for_id": owner.pk, "cover_until": found.owner_absent_until}
            return route, recorded, agent
        # Full: not available after all (the rules' last step), and asked again.
        full = {"presence": rules.FULL, "why": _full_why(capacity, channel)}
        if covering:
            primary = replace(primary, cover=replace(primary.cover, **full))
        else:
            primary = replace(primary, **full)
        route = engine.route_interaction(channel=channel, primary=primary)
    # Bound for Active: it waits in the capacity queue instead when everyone who could take
    # it is full (asked only of a company where someone has a capacity).
    if (company.default_capacity is not None or found.uses_capacity) and everyone_full(
        company=company, channel=channel, uses_capacity=True, first_slice=found.room
    ):
        route = engine.route_interaction(channel=channel, primary=primary, everyone_full=True)
        return route, {"queued_at": at}, None
    return route, {}, None


def _room_channel(channel: str) -> str | None:
    """The channel whose room the lock statement reads beside (``contacts.room``): a text's or
    a form's (they may wait in the capacity queue); None for calls and chats. The statement
    reads it only in a company that uses capacity and when the owner is not at their desk,
    so elsewhere it costs nothing (measured: docs/performance.md, issue 21)."""
    return channel if channel in DIRECT_CHANNELS else None


def _replay(pk: int, request_hash: str) -> tuple[Interaction, bool]:
    """What the key's first request made (a retry), or 422 for a different request."""
    interaction = Interaction.objects.select_related("routed_to", "center").get(pk=pk)
    if interaction.request_hash and interaction.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request. Send a new key "
            "for a new event; a retry must repeat the first request exactly."
        )
    return interaction, True


def inbound_receive(
    *,
    company: Company,
    channel: str,
    phone: str,
    name: str = "",
    email: str = "",
    body: str = "",
    source: str = "",
    contact_center: str = "",
    call_type: str = "",
    idempotency_key: str = "",
) -> tuple[Interaction, bool]:
    """Record an inbound text, form, call or chat and route it. Returns (interaction, replayed).

    An unknown number creates the contact (and the routing rules for new contacts apply).
    With an idempotency key, a retry returns the interaction the first call created
    (``replayed=True``) and creates nothing. Raises ``ValidationError`` (keyed by field) for
    input that can't be accepted."""
    try:
        e164 = normalise_phone(phone, region=company.default_region)
    except ValidationError as error:
        raise ValidationError({"phone": error.messages}) from None
    if not e164:
        raise ValidationError({"phone": ["A phone number is required."]})
    fields = {
        "channel": channel,
        "name": name,
        "email": email,
        "body": body,
        "source": source,
        "contact_center": contact_center,
        "call_type": call_type,
    }

    request_hash = _request_hash(e164, fields) if idempotency_key else ""
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _inbound_once(
                    company=company,
                    phone=e164,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                    **fields,
                )
        except (IntegrityError, DuplicatePhone):
            # A parallel request created the contact or used the key first; run again and
            # find what it committed.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _inbound_once(
    *,
    company,
    channel,
    phone,
    name,
    email,
    body,
    source,
    contact_center,
    call_type,
    idempotency_key,
    request_hash,
) -> tuple[Interaction, bool]:
    # One statement: the contact locked (if the number is known), its primary agent,
    # whether that agent still works here, and the interaction the key already made (a
    # retry replays it).
    now = timezone.now()
    # (whether anyone has a capacity of their own is asked only when the company's row
    # does not say already)
    ask_capacity = company.default_capacity is None
    found = lock_contact_for_inbound(
        company_id=company.pk,
        phone=phone,
        idempotency_key=idempotency_key,
        at=now,
        ask_capacity=ask_capacity,
        # (texts and forms may wait in the capacity queue: who has room is read beside)
        room_channel=_room_channel(channel),
    )
    if found.key_interaction_id is not None:
        return _replay(found.key_interaction_id, request_hash)
    contact = found.contact
    # Calls and chats the call flow sends to a center ring its members; an unknown center is
    # the caller's mistake (400), whatever the channel — after the replay check, so a retry
    # still replays if the center was renamed since.
    center = find_center(company=company, name_or_id=contact_center) if contact_center else None
    created = contact is None
    if contact is None:
        # No savepoint: a parallel request that created this number first makes the insert
        # fail, and ``inbound_receive`` runs the whole attempt again to find its contact.
        contact = contact_create_in_retried_transaction(
            company=company,
            name=name,
            phone=phone,
            email=email,
            source=source or f"inbound {channel}",
        )
        contact.primary_agent = None
        contact.primary_works_here = False
        # A new contact: the routing rules decide its primary agent (if any rule matches).
        if contact_route_new(contact=contact, channel=channel) is not None:
            # A round started: read what it decided (the row is ours since we inserted it).
            found = lock_contact_for_inbound(
                company_id=company.pk,
                phone=phone,
                at=now,
                ask_capacity=ask_capacity,
                room_channel=_room_channel(channel),
            )
            contact = found.contact
    else:
        # Fill in what we did not know; never overwrite what people typed.
        blanks = {
            field: value
            for field, value in (("name", name.strip()), ("email", email.strip()))
            if value and not getattr(contact, field)
        }
        if blanks:
            works_here = contact.primary_works_here
            contact = contact_update(contact=contact, actor=None, **blanks)
            contact.primary_works_here = works_here
    ring: list[dict] = []
    recorded: dict = {}
    routed_agent = None
    if center is not None and channel in engine.REAL_TIME_CHANNELS:
        ringing = engine.ring_list(
            center_ring_facts(center=center, call_type=call_type, channel=channel)
        )
        decision = engine.route_to_center(channel=channel, center=center.name, ring=ringing)
        ring = _ring_payload(ringing)
    elif channel in DIRECT_CHANNELS:
        center = None  # texts and forms go to the primary agent; the name is kept
        decision, recorded, routed_agent = _route_owner_first(
            company=company, contact=contact, found=found, channel=channel, at=now
        )
    else:
        center = None  # a call or chat without a center: Active, whoever the owner is
        owner = contact.primary_agent
        decision = engine.route_interaction(
            channel=channel,
            primary=owner
            and engine.AgentSnapshot(
                id=owner.pk,
                name=str(owner),
                presence=owner.effective_presence,
                works_here=contact.primary_works_here,
            ),
        )
    # No savepoint: a clash on the idempotency key rolls back the whole attempt, and
    # ``inbound_receive`` runs it again to replay what the other request committed.
    interaction = interaction_record(
        contact=contact,
        channel=channel,
        body=body,
        source=source,
        contact_center=contact_center,
        routed_to_id=decision.agent_id,
        pool=decision.pool,
        reason=decision.reason,
        details=decision.details,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        center=center,
        ring=ring,
        **recorded,
    )
    if routed_agent is not None:
        interaction.routed_to = routed_agent  # the answer names them: no query
    _live_changed(company=company, contact=contact, interaction=interaction)
    # (the company row is read anyway: no query at all when nobody hears it)
    if heard(company, EventType.INTERACTION_ROUTED):
        _emit_routed(company=company, contact=contact, interaction=interaction, created=created)
    return interaction, False


def _live_changed(*, company: Company, contact: Contact, interaction: Interaction) -> None:
    """The pages that show the new item, told after commit (``agents.live``, no query): the
    Lead Center of whoever it went to (or every Lead Center's Active), the center's
    dashboard for a call it rings, the contact's page and the workload page (open items,
    the queue, a new contact's count)."""
    streams = [live.stream_contact(contact.pk), live.stream_workload(company.pk)]
    if interaction.center_id is not None:
        streams.append(live.stream_center(interaction.center_id))
    elif interaction.routed_to_id is not None:
        streams.append(live.stream_agent(interaction.routed_to_id))
    elif interaction.pool == Interaction.Pool.ACTIVE:
        streams.append(live.stream_active(company.pk))
    live.live_changed(company_id=company.pk, streams=streams)


def _emit_routed(
    *, company: Company, contact: Contact, interaction: Interaction, created: bool
) -> None:
    """``interaction.routed``: to the owner, the *Active* pool or a center's ring list."""
    if interaction.center is not None:
        to = payloads.routed_to_ring_list(
            center_id=interaction.center.pk,
            center_name=interaction.center.name,
            ring=interaction.ring,
        )
    elif interaction.routed_to_id is not None:
        # The owner, or their cover (loaded by the lock's statement either way)
        to = payloads.routed_to_owner(interaction.routed_to, agent_id=interaction.routed_to_id)
    else:
        to = payloads.routed_to_pool(interaction.pool)
    event_emit(
        company=company,
        type=EventType.INTERACTION_ROUTED,
        data=payloads.interaction_routed(
            interaction_id=interaction.pk,
            contact=payloads.contact_ref_of(contact),
            channel=interaction.channel,
            to=to,
            reason=interaction.route_reason,
            created_contact=created,
            method=payloads.Method.INBOUND,
        ),
        contact_id=contact.pk,
        version=contact.ownership_version,
    )
