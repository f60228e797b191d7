"""Rounds: one contact distributed by a group's (or rule's) method — one state machine.

    start ──► ASSIGNED                  round robin / least loaded chose someone
      │  └──► FALLBACK | UNASSIGNED     nobody available: the default assignee, or nobody
      └─────► OPEN (offers, deadline)   first to claim / next up
                 ├─ claim ──► CLAIMED
                 └─ expire ─► OPEN (next up: the next member) | FALLBACK | UNASSIGNED

While a round is OPEN the contact carries its hold (*Re-Assign in progress*): only this round
may change its primary agent, and it releases the hold when it ends. The deadline lives in the
database: the expiry task, the periodic sweep and a claim may all arrive; each is safe to run
twice. Locks: source, then round, then contact (``contacts.locks``), and last the open-item
counters of the agents offered (``agents.availability.capacity``).

**Offers count against capacity.** An offer held counts as one open item of its agent (when
they have a capacity) from the moment it is made until it closes, whichever way it closes:
claimed, lost to another claim, expired, withdrawn (the member left the group), or deleted
with its contact. Every close is an ``UPDATE … WHERE status = 'open'`` under the source's (or
round's) lock, and releases the counter once per offer it closed, as the transaction's last
lock (``ITEM_LOAD``). An offer is made only if ``load_admit`` lets it in: a member who filled
up since their facts were read is passed over "at capacity" and not offered.
"""

from dataclasses import replace
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from agents.actors import acting_key
from agents.availability.capacity import OFFER, load_admit, load_release
from agents.availability.rules import (
    OFF_HOURS,
    OUT_OF_OFFICE,
    Capacity,
    availability_of,
    capacity_of,
)
from agents.live import live_changed, stream_agent, stream_contact
from agents.models import Agent, Company
from contacts import timeline
from contacts.locks import lock_contact
from contacts.models import Contact
from contacts.ownership import contact_assign_primary_agent, contact_hold_release, contact_hold_set
from contacts.services import HoldsChanged, contacts_delete_without_rounds
from contacts.timeline import timeline_write
from events import payloads
from events.emit import event_emit, heard
from events.models import EventType
from events.payloads import OwnerMethod

from . import engine
from .locks import lock_round, lock_rounds, lock_source, lock_source_of_round, lock_sources
from .models import Method, Offer, ReassignmentGroup, Round, RoutingRule
from .selectors import source_facts, usable_default
from .tasks import expire_round, send_offer_email
from .why import passed_over_text, why_decision

METHOD_LABELS = dict(Method.choices)
IMMEDIATE = (Method.ROUND_ROBIN, Method.LEAST_LOADED)
# A member whose counter refused the offer (they filled up after their facts were read).
AT_CAPACITY = "skipped: at capacity"


# --- Offers against capacity ------------------------------------------------------------------
class _NoRoom(Exception):
    """Nobody could be admitted: undo the savepoint (its counter row locks go with it)."""


def _counted(company_id: int, *, admit: dict[int, Capacity], release: dict[int, int]) -> set[int]:
    """Release ``release`` (agent id → offers closed) and admit one offer for each of
    ``admit`` (agent id → capacity), all in agent order (the counters' lock order); the
    agents admitted."""
    admitted = set()
    for agent_id in sorted(set(admit) | set(release)):
        if release.get(agent_id):
            load_release(
                company_id=company_id, agent_id=agent_id, kind=OFFER, count=release[agent_id]
            )
        if agent_id in admit and load_admit(
            company_id=company_id, agent_id=agent_id, kind=OFFER, capacity=admit[agent_id]
        ):
            admitted.add(agent_id)
    return admitted


def _admit_all(company: Company, agents: list[Agent]) -> tuple[list[Agent], list[Agent]]:
    """First to claim: count an offer for each of ``agents``; (admitted, full), in the
    given order. Agents without a capacity are admitted without a statement. When nobody at
    all is admitted nothing stays counted or locked, so the caller may fall back to the
    default assignee (lower locks) in the same transaction."""
    limited = {a.pk: capacity_of(company, a) for a in agents}
    limited = {pk: cap for pk, cap in limited.items() if not cap.unlimited}
    admitted: set[int] = set()
    if limited:
        try:
            with transaction.atomic():
                admitted = _counted(company.pk, admit=limited, release={})
                if not admitted and len(limited) == len(agents):
                    raise _NoRoom
        except _NoRoom:
            admitted = set()
    ok = [a for a in agents if a.pk not in limited or a.pk in admitted]
    return ok, [a for a in agents if a.pk in limited and a.pk not in admitted]


def _admit_first(
    company: Company, agents: list[Agent], *, release: dict[int, int] | None = None
) -> tuple[Agent | None, list[Agent], dict[int, int]]:
    """Next up: the first of ``agents`` (in order) whose counter takes an offer; (that agent
    or None, those passed over full, the releases still to make). ``release`` (offers just
    closed) is made in the same agent-ordered step as the admission; a failed attempt is
    undone whole (its savepoint), so nothing of it stays locked."""
    release = dict(release or {})
    full: list[Agent] = []
    for agent in agents:
        capacity = capacity_of(company, agent)
        if capacity.unlimited:
            return agent, full, release
        try:
            with transaction.atomic():
                if not _counted(company.pk, admit={agent.pk: capacity}, release=release):
                    raise _NoRoom
        except _NoRoom:
            full.append(agent)
            continue
        return agent, full, {}
    return None, full, release


def _limited(rows) -> dict[int, int]:
    """Offers closed per agent who has a capacity (the others have no counter), from
    ``(agent_id, capacity, text, form, chat, company default)`` rows."""
    counts: dict[int, int] = {}
    for agent_id, *limits in rows:
        if any(limit is not None for limit in limits):
            counts[agent_id] = counts.get(agent_id, 0) + 1
    return counts


_LIMIT_FIELDS = (
    "agent_id",
    "agent__capacity",
    "agent__text_capacity",
    "agent__form_capacity",
    "agent__chat_capacity",
    "round__company__default_capacity",
)


def _offers_close(offers: QuerySet[Offer], *, status: str, now: datetime) -> dict[int, int]:
    """Close the open ones of ``offers`` (the caller holds their source's or round's lock);
    the offers closed per agent whose counter must be released (``_offers_release``)."""
    rows = list(
        offers.filter(status=Offer.Status.OPEN).values_list(
            "pk", *_LIMIT_FIELDS, "round__company_id", "round__contact_id"
        )
    )
    if not rows:
        return {}
    Offer.objects.filter(pk__in=[row[0] for row in rows], status=Offer.Status.OPEN).update(
        status=status, closed_at=now
    )
    # After commit: the closed offers leave their agents' Offers tabs.
    for company_id in {row[-2] for row in rows}:
        live_changed(
            company_id=company_id,
            streams=[
                *(stream_agent(row[1]) for row in rows if row[-2] == company_id),
                *(stream_contact(row[-1]) for row in rows if row[-2] == company_id),
            ],
        )
    return _limited(row[1:-2] for row in rows)


def _offers_release(company_id: int, closed: dict[int, int]) -> None:
    """Release the counters of closed offers: the transaction's last locks, in agent order."""
    if closed:
        _counted(company_id, admit={}, release=closed)


def offer_counts(*, company: Company, agent_ids: list[int]) -> dict[int, int]:
    """Open offers held per agent (for rebuilding a counter: ``capacity.load_recount``)."""
    rows = (
        Offer.objects.filter(
            agent_id__in=agent_ids,
            status=Offer.Status.OPEN,
            round__company=company,
            round__status=Round.Status.OPEN,
        )
        .values_list("agent_id")
        .annotate(n=Count("*"))
    )
    return dict(rows)


def source_label(source: ReassignmentGroup | RoutingRule) -> str:
    kind = "group" if isinstance(source, ReassignmentGroup) else "rule"
    return f"{kind} “{source.name}” ({METHOD_LABELS[source.method].lower()})"


def _source_of(round_: Round) -> ReassignmentGroup | RoutingRule | None:
    return round_.group or round_.rule


def _source_ref(source: ReassignmentGroup | RoutingRule | None) -> dict | None:
    """The round's group or rule as events name it (None: it was deleted)."""
    if source is None:
        return None
    kind = "group" if isinstance(source, ReassignmentGroup) else "rule"
    return payloads.round_source(kind=kind, id=source.pk, name=source.name, method=source.method)


def _record(round_: Round, *, pick, chosen: Agent | None, reason: str) -> None:
    why_decision(
        company_id=round_.company_id,
        contact_id=round_.contact_id,
        source=_source_of(round_),
        method=round_.method,
        pick=pick,
        chosen=chosen,
        reason=reason,
        round_=round_,
    ).save()


# --- Start ----------------------------------------------------------------------------------
@transaction.atomic
def reassignment_start(*, contact: Contact, group: ReassignmentGroup, actor: Agent | None) -> Round:
    """Send an existing contact through a reassignment group (by hand, from its page)."""
    if group.company_id != contact.company_id:
        raise ValidationError("That reassignment group belongs to another company.")
    return round_start(contact=contact, source=group, actor=actor)


def reassignment_start_many(
    *, contacts: list[Contact], group: ReassignmentGroup, actor: Agent | None
) -> tuple[int, list[str]]:
    """Send several contacts through a group, each in a transaction of its own; returns how
    many started and, for the others, why not (e.g. already in progress)."""
    started, refused = 0, []
    for contact in contacts:
        try:
            reassignment_start(contact=contact, group=group, actor=actor)
            started += 1
        except ValidationError as error:
            refused.append(f"{contact}: {' '.join(error.messages)}")
    return started, refused


@transaction.atomic
def round_start(
    *,
    contact: Contact,
    source: ReassignmentGroup | RoutingRule,
    actor: Agent | None,
    leaving: Agent | None = None,
) -> Round | None:
    """Distribute one contact by the source's method.

    ``leaving``: a handover of that agent's book — they are not offered their own contacts,
    and a contact they no longer own (changed since the book was read) is left alone
    (returns None).

    A routing rule's round is Switchboard's own doing, whoever created the contact: it runs
    with no API key acting (``agents.actors``), so its events and timeline rows never name
    the key of the request that created the contact. A group's round is started by
    ``actor`` (or the request's key); what the round then decides is Switchboard's
    (``_finish``)."""
    if isinstance(source, RoutingRule):
        with acting_key(None):
            return _round_start(contact=contact, source=source, actor=actor, leaving=leaving)
    return _round_start(contact=contact, source=source, actor=actor, leaving=leaving)


def _round_start(
    *,
    contact: Contact,
    source: ReassignmentGroup | RoutingRule,
    actor: Agent | None,
    leaving: Agent | None,
) -> Round | None:
    source = lock_source(source)
    locked = lock_contact(contact.pk)
    if leaving is not None and locked.primary_agent_id != leaving.pk:
        return None
    if locked.reassign_hold is not None:
        raise ValidationError(
            f"Re-Assign already in progress through {locked.reassign_hold_label}; "
            "wait for it to finish."
        )
    members, by_id = source_facts(source, leaving=leaving)
    rotation = engine.Rotation.from_dict(source.rotation)
    # The point of a reassignment is to move the contact: its owner is never chosen or offered.
    pick = engine.decide(
        source.method,
        members,
        rotation,
        skip_unavailable=source.skip_unavailable,
        owner=locked.primary_agent_id,
    )
    is_group = isinstance(source, ReassignmentGroup)
    round_ = Round.objects.create(
        company_id=locked.company_id,
        contact=locked,
        group=source if is_group else None,
        rule=None if is_group else source,
        method=source.method,
        started_by=actor,
        from_agent=locked.primary_agent,
        excludes_owner=leaving is not None,
    )
    label = source_label(source)
    if heard(locked.company, EventType.REASSIGNMENT_STARTED):
        event_emit(
            company=locked.company,
            type=EventType.REASSIGNMENT_STARTED,
            data=payloads.reassignment_started(
                contact=payloads.contact_ref_of(locked),
                round_id=round_.pk,
                source=_source_ref(source),
                owner=locked.primary_agent,
                handover=leaving is not None,
                method=_owner_method(round_),
            ),
            actor=actor,
            contact_id=locked.pk,
            version=locked.ownership_version,
        )
    if is_group:
        timeline_write(
            timeline.reassign_started(
                company_id=locked.company_id,
                contact_id=locked.pk,
                owner=locked.primary_agent,
                actor=actor,
                source_label=label,
                round_id=round_.pk,
                group_id=source.pk,
            )
        )
    nobody = timeline.reason_nobody_available(source_label=label)
    if source.method in IMMEDIATE:
        if pick.chosen is None:
            _fallback(round_, source, nobody, pick)
            return round_
        if pick.rotation is not None:
            source.rotation = pick.rotation.as_dict()
            source.save(update_fields=["rotation"])
        why = passed_over_text(pick, by_id)
        reason = timeline.reason_picked(
            source_label=label, pick_reason=pick.reason, passed_over=why
        )
        _record(round_, pick=pick, chosen=by_id[pick.chosen], reason=reason)
        _finish(round_, agent=by_id[pick.chosen], status=Round.Status.ASSIGNED, reason=reason)
        return round_
    # Count the offers against capacity (the last locks of this transaction): a member who
    # filled up since the facts were read is passed over, not offered.
    offer_to: list[int] = []
    queue: list[int] = []
    if pick.offered:
        candidates = [by_id[i] for i in pick.offered]
        if source.method == Method.FIRST_TO_CLAIM:
            admitted, full = _admit_all(source.company, candidates)
            offer_to = [a.pk for a in admitted]
        else:
            first, full, _ = _admit_first(source.company, candidates)
            if first is not None:
                offer_to, queue = [first.pk], list(pick.offered[len(full) + 1 :])
        if full:
            gone = {a.pk for a in full}
            offered = tuple(i for i in pick.offered if i not in gone)
            if not offer_to:
                why = "Nobody in the group is available."
            elif source.method == Method.FIRST_TO_CLAIM:
                why = f"Offered to {len(offered)} member(s) at once; the first to claim gets it."
            else:
                why = pick.reason
            pick = replace(
                pick,
                offered=offered,
                candidates=offered if source.method == Method.FIRST_TO_CLAIM else pick.candidates,
                excluded={**pick.excluded, **dict.fromkeys(gone, AT_CAPACITY)},
                reason=why,
            )
    if not offer_to:
        _fallback(round_, source, nobody, pick)
        return round_
    _record(
        round_,
        pick=pick,
        chosen=None,
        reason=timeline.reason_offered(source_label=label, pick_reason=pick.reason),
    )
    deadline = timezone.now() + timedelta(minutes=source.claim_window_minutes)
    round_.deadline_at = deadline
    if source.method != Method.FIRST_TO_CLAIM:
        round_.queue = queue
        source.rotation = (pick.rotation or rotation).as_dict()
        source.save(update_fields=["rotation"])
    round_.save(update_fields=["deadline_at", "queue"])
    contact_hold_set(contact=locked, hold=round_.pk, label=round_.source_name)
    _make_offers(round_, offer_to, deadline)
    return round_


def _make_offers(round_: Round, agent_ids: list[int], deadline: datetime) -> None:
    offers = Offer.objects.bulk_create(
        Offer(round=round_, agent_id=agent_id, expires_at=deadline) for agent_id in agent_ids
    )
    round_id = round_.pk
    # After commit: the offers in their agents' Offers tabs, Re-Assign in progress on the
    # contact's page.
    live_changed(
        company_id=round_.company_id,
        streams=[*(stream_agent(a) for a in agent_ids), stream_contact(round_.contact_id)],
    )
    expire_round.apply_async_on_commit(args=[round_id], eta=deadline)
    for offer in offers:
        send_offer_email.delay_on_commit(offer.pk)


# --- End ------------------------------------------------------------------------------------
def _owner_method(round_: Round) -> OwnerMethod:
    """How a round's change is reported: a handover of the owner's book, a routing rule's
    round, or a group's (picked, claimed or the default assignee)."""
    if round_.excludes_owner:
        return OwnerMethod.HANDOVER
    return OwnerMethod.RULE if round_.rule_id is not None else OwnerMethod.GROUP


def _finish(
    round_: Round,
    *,
    agent: Agent | None,
    status: str,
    reason: str,
    closed: dict[int, int] | None = None,
) -> None:
    """Close the round, its offers and the contact's hold; give the contact to ``agent``.
    ``closed``: offers the caller closed already (agent → count), released with the ones
    closed here, last.

    The round's decision (a pick, a claim, the default assignee) is Switchboard's: no API
    key acts for it, even when the request that started the round was made with one."""
    with acting_key(None):
        _finish_as_switchboard(round_, agent=agent, status=status, reason=reason, closed=closed)


def _finish_as_switchboard(
    round_: Round, *, agent: Agent | None, status: str, reason: str, closed: dict[int, int] | None
) -> None:
    now = timezone.now()
    round_.status = status
    round_.assigned_to = agent
    round_.finished_at = now
    round_.save(update_fields=["status", "assigned_to", "finished_at"])
    # Every open offer closes with the round (the default assignee's own too, should they
    # hold one): lost to a claim, else expired.
    lost = Offer.Status.LOST if status == Round.Status.CLAIMED else Offer.Status.EXPIRED
    released = dict(closed or {})
    for agent_id, count in _offers_close(round_.offers.all(), status=lost, now=now).items():
        released[agent_id] = released.get(agent_id, 0) + count
    contact = Contact.objects.select_related("company", "primary_agent").get(pk=round_.contact_id)
    entry = None
    if agent is not None:
        entry = contact_assign_primary_agent(
            contact=contact,
            agent=agent,
            actor=None,
            reason=reason,
            hold=round_.pk,
            method=_owner_method(round_),
        )
    if entry is None:
        contact_hold_release(contact_id=contact.pk, hold=round_.pk)
        timeline_write(
            timeline.reassign_finished(contact=contact, round_id=round_.pk, reason=reason)
        )
    if heard(contact.company, EventType.REASSIGNMENT_FINISHED):
        # After the contact's owner_changed, at its new version; by Switchboard, as the change.
        event_emit(
            company=contact.company,
            type=EventType.REASSIGNMENT_FINISHED,
            data=payloads.reassignment_finished(
                contact=payloads.contact_ref_of(contact),
                round_id=round_.pk,
                source=_source_ref(_source_of(round_)),
                outcome=status,
                agent=agent,
                reason=reason,
                method=_owner_method(round_),
            ),
            contact_id=contact.pk,
            version=contact.ownership_version,
        )
    # Next up: a member who claimed had their turn (a fallback to the default assignee is
    # nobody's turn, so the rotation stays). The source is locked already.
    source = _source_of(round_)
    if source is not None and status == Round.Status.CLAIMED and round_.method == Method.NEXT_UP:
        source.refresh_from_db(fields=["rotation"])
        member_ids = list(source.members.values_list("agent_id", flat=True))
        source.rotation = engine.next_up_claimed(
            engine.Rotation.from_dict(source.rotation), member_ids, agent.pk
        ).as_dict()
        source.save(update_fields=["rotation"])
    # Last: the counters of the offers that closed (after the contact's and its owner's
    # counters, as the lock order says).
    _offers_release(round_.company_id, released)


def _fallback(
    round_: Round,
    source,
    why: str,
    pick: engine.Pick | None,
    *,
    closed: dict[int, int] | None = None,
) -> None:
    """Nobody took the contact: the default assignee gets it, or the owner stays. In a
    handover the leaver is never the one who gets it back."""
    default = usable_default(source)
    if default is not None and round_.excludes_owner and default.pk == round_.from_agent_id:
        default = None
    if default is not None:
        reason = timeline.reason_fell_to_default(why=why, default=default)
        _record(round_, pick=pick, chosen=default, reason=reason)
        _finish(round_, agent=default, status=Round.Status.FALLBACK, reason=reason, closed=closed)
    else:
        reason = timeline.reason_fell_to_default(why=why, default=None)
        _record(round_, pick=pick, chosen=None, reason=reason)
        _finish(round_, agent=None, status=Round.Status.UNASSIGNED, reason=reason, closed=closed)


@transaction.atomic
def offer_claim(*, offer_id: int, agent: Agent) -> Round:
    """Claim an offer. Of several claimers exactly one wins (compare-and-set on the round);
    the others, and claims after the window, get a ValidationError saying why."""
    offer = (
        Offer.objects.select_related("round", "round__group", "round__rule", "round__company")
        .filter(pk=offer_id, agent=agent)
        .first()
    )
    if offer is None:
        raise ValidationError("This offer is not yours.")
    if not agent.is_active:
        raise ValidationError("Your account is deactivated: this offer can't be claimed.")
    round_ = offer.round
    source = _source_of(round_)
    if source is not None:
        lock_source(source)
    now = timezone.now()
    if offer.status == Offer.Status.WITHDRAWN:
        raise ValidationError("This offer was withdrawn: you are no longer in the group.")
    if source is not None and not source.members.filter(agent=agent).exists():
        # (The refusal rolls this back with the rest; removing the member withdrew their
        # offers already, ``group_member_removed``.)
        closed = _offers_close(
            Offer.objects.filter(pk=offer.pk), status=Offer.Status.WITHDRAWN, now=now
        )
        _offers_release(round_.company_id, closed)
        raise ValidationError("This offer was withdrawn: you are no longer in the group.")
    won = 0
    if offer.status == Offer.Status.OPEN and offer.expires_at > now:
        _refuse_unavailable_claimer(agent, company=round_.company)
        won = Round.objects.filter(
            pk=round_.pk, status=Round.Status.OPEN, deadline_at__gt=now
        ).update(status=Round.Status.CLAIMED, assigned_to=agent)
    if won != 1:
        round_.refresh_from_db()
        if round_.status == Round.Status.CLAIMED and round_.assigned_to_id != agent.pk:
            raise ValidationError(f"{round_.assigned_to} claimed it first.")
        if round_.status != Round.Status.OPEN:
            raise ValidationError("This contact has already been assigned.")
        local = timezone.localtime(offer.expires_at)
        raise ValidationError(f"Too late: the claim window closed at {local:%H:%M}.")
    claimed = _offers_close(Offer.objects.filter(pk=offer.pk), status=Offer.Status.CLAIMED, now=now)
    round_.refresh_from_db()
    label = source_label(source) if source else timeline.DELETED_GROUP_LABEL
    reason = timeline.reason_claimed(source_label=label, agent=agent)
    _record(round_, pick=None, chosen=agent, reason=reason)
    _finish(round_, agent=agent, status=Round.Status.CLAIMED, reason=reason, closed=claimed)
    return round_


def _refuse_unavailable_claimer(agent: Agent, *, company: Company) -> None:
    """Out of office or outside working hours, an agent can't claim: they are not available
    for anything that routes. Their offer stays open for its window (they may be back in
    time, or another member claims it); away or full they may still claim (the offer already
    counts against their capacity)."""
    now = availability_of(company=company, agents=[agent], with_capacity=False)[agent.pk]
    if now.status == OUT_OF_OFFICE:
        raise ValidationError(
            f"You are {now.label[0].lower()}{now.label[1:]}: this offer can't be claimed now."
        )
    if now.status == OFF_HOURS:
        when = now.label.removeprefix("Off hours").strip()
        raise ValidationError(
            f"You are outside your working hours{(' ' + when) if when else ''}: this offer "
            "can't be claimed now."
        )


def round_expire(*, round_id: int, force: bool = False) -> str:
    """Close a round whose claim window has passed: next up moves on to the next member,
    otherwise the default assignee gets it. Safe to call at any time, any number of times."""
    with transaction.atomic():
        lock_source_of_round(round_id)
        round_ = lock_round(round_id)
        if round_ is None or round_.status != Round.Status.OPEN:
            return "closed"
        now = timezone.now()
        if not force and round_.deadline_at and round_.deadline_at > now:
            return "not-due"
        # Forced (its last offer was withdrawn): unless someone holds an open offer again by
        # now (the sweep moved on meanwhile) — their window stands.
        if force and round_.offers.filter(status=Offer.Status.OPEN, expires_at__gt=now).exists():
            return "not-due"
        expired = _offers_close(round_.offers.all(), status=Offer.Status.EXPIRED, now=now)
        source = _source_of(round_)
        if source is None:
            _finish(
                round_,
                agent=None,
                status=Round.Status.UNASSIGNED,
                reason=timeline.REASON_GROUP_DELETED,
                closed=expired,
            )
            return "unassigned"
        if round_.method == Method.NEXT_UP:
            leaving = round_.from_agent if round_.excludes_owner else None
            members, by_id = source_facts(source, leaving=leaving)
            facts = {m.id: m for m in members}
            queue = list(round_.queue)
            while True:
                step = engine.next_up_next(queue, facts, skip_unavailable=source.skip_unavailable)
                if step.agent_id is None:
                    break
                # Its offer counts against their capacity, with the expired one released in
                # the same agent-ordered step; filled up meanwhile: the next in the queue.
                first, _, expired = _admit_first(
                    source.company, [by_id[step.agent_id]], release=expired
                )
                if first is not None:
                    deadline = now + timedelta(minutes=source.claim_window_minutes)
                    round_.queue, round_.deadline_at = step.queue, deadline
                    round_.save(update_fields=["queue", "deadline_at"])
                    _make_offers(round_, [step.agent_id], deadline)
                    _offers_release(round_.company_id, expired)
                    return "next"
                queue = step.queue
        minutes = source.claim_window_minutes
        why = timeline.reason_not_claimed(source_label=source_label(source), minutes=minutes)
        _fallback(round_, source, why, None, closed=expired)
        return round_.status


def group_member_removed(
    *, agent_id: int, group_id: int | None = None, rule_id: int | None = None
) -> None:
    """A member left a group or rule: withdraw their open offers at once; a round left with
    no open offer moves on (next member, or the default assignee) in the worker, after this
    change commits — never inside the request that removed the member."""
    where = {"round__group_id": group_id} if group_id else {"round__rule_id": rule_id}
    # The lock order: the group (or rule) before its rounds' offers, as claims and expiry do.
    lock_sources(group_ids=[group_id] if group_id else [], rule_ids=[rule_id] if rule_id else [])
    offers = list(
        Offer.objects.filter(**where, agent_id=agent_id, status=Offer.Status.OPEN).values_list(
            "pk", "round_id"
        )
    )
    if not offers:
        return
    closed = _offers_close(
        Offer.objects.filter(pk__in=[pk for pk, _ in offers]),
        status=Offer.Status.WITHDRAWN,
        now=timezone.now(),
    )
    company_id = Round.objects.filter(pk=offers[0][1]).values_list("company_id", flat=True)[0]
    _offers_release(company_id, closed)
    for round_id in sorted({round_id for _, round_id in offers}):
        if not Offer.objects.filter(round_id=round_id, status=Offer.Status.OPEN).exists():
            expire_round.delay_on_commit(round_id, force=True)


# --- Deleting contacts ----------------------------------------------------------------------
def contacts_delete(*, company: Company, contact_ids: list[int], actor: Agent | None = None) -> int:
    """Delete contacts, their open rounds included, taking the locks in the one order:
    the rounds' groups or rules, the rounds, then the contacts and their agents' counters
    (``contacts.services.contacts_delete_without_rounds``). The one way to delete contacts.

    A round that starts between reading the open rounds and locking the contacts is caught
    under the contact locks (``HoldsChanged``): the attempt is rolled back and made again."""
    for _ in range(3):
        try:
            with transaction.atomic():
                rounds = list(
                    Round.objects.filter(
                        company=company, contact_id__in=contact_ids, status=Round.Status.OPEN
                    ).values_list("pk", "group_id", "rule_id")
                )
                lock_sources(
                    group_ids=[g for _, g, _ in rounds], rule_ids=[r for _, _, r in rounds]
                )
                lock_rounds(pk for pk, _, _ in rounds)
                # Their open offers go with them (deleted with the rounds): their counters are
                # released after the contacts' and owners' counters, the order's last level.
                offers = (
                    _limited(
                        Offer.objects.filter(
                            round_id__in=[pk for pk, _, _ in rounds], status=Offer.Status.OPEN
                        ).values_list(*_LIMIT_FIELDS)
                    )
                    if rounds
                    else {}
                )
                deleted = contacts_delete_without_rounds(
                    company=company,
                    contact_ids=contact_ids,
                    holds={pk for pk, _, _ in rounds},
                    actor=actor,
                )
                _offers_release(company.pk, offers)
                return deleted
        except HoldsChanged:
            continue
    raise ValidationError(
        "These contacts are being re-assigned right now; try deleting them again in a moment."
    )
