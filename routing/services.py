"""Rounds: routing rules for new contacts, reassignment groups for existing ones.

A round distributes one contact by a group's (or rule's) method. Round robin and least
loaded assign at once; first to claim and next up make offers with a deadline kept in the
database, finished by a claim, by the expiry task or by the periodic sweep, whichever comes
first; all three are safe to run twice.
"""

import zoneinfo
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from agents.models import Agent, Company
from agents.selectors import eligible_primary_agents
from contacts.models import Contact, PrimaryLoad, TimelineEntry
from contacts.services import (
    contact_assign_primary_agent,
    contacts_assign_primary_agent_bulk,
    timeline_record,
)

from . import distribution as engine
from .models import Decision, Method, Offer, ReassignmentGroup, Round, RoutingRule

METHOD_LABELS = dict(Method.choices)


# --- Facts for the engine -------------------------------------------------------------------
def _member_agents(source: ReassignmentGroup | RoutingRule) -> list[Agent]:
    """The source's members who may own contacts of its company now, in membership order."""
    eligible = eligible_primary_agents(company=source.company)
    ids = list(source.members.order_by("added_at", "pk").values_list("agent_id", flat=True))
    by_id = {a.pk: a for a in eligible.filter(pk__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


def _snapshots(
    company: Company, agents: list[Agent], *, with_last_assigned: bool = False
) -> list[engine.Member]:
    ids = [a.pk for a in agents]
    loads = dict(
        PrimaryLoad.objects.filter(company=company, agent_id__in=ids).values_list(
            "agent_id", "contacts"
        )
    )
    last: dict[int, datetime] = {}
    if with_last_assigned:  # only least loaded breaks ties with it
        latest = (
            TimelineEntry.objects.filter(
                company=company,
                agent=OuterRef("pk"),
                kind__in=[TimelineEntry.Kind.PRIMARY_ASSIGNED, TimelineEntry.Kind.PRIMARY_CHANGED],
            )
            .order_by("-created_at")
            .values("created_at")[:1]
        )
        last = {
            pk: at
            for pk, at in Agent.objects.filter(pk__in=ids)
            .annotate(at=Subquery(latest))
            .values_list("pk", "at")
            if at is not None
        }
    return [
        engine.Member(
            id=a.pk,
            name=str(a),
            presence=a.effective_presence,
            load=loads.get(a.pk, 0),
            last_assigned=last[a.pk].timestamp() if a.pk in last else None,
        )
        for a in agents
    ]


def _names(agents: list[Agent] | dict[int, Agent], ids) -> list[str]:
    by_id = agents if isinstance(agents, dict) else {a.pk: a for a in agents}
    return [str(by_id[i]) if i in by_id else f"agent #{i}" for i in ids]


def _why(pick: engine.Pick, agents: dict[int, Agent]) -> str:
    parts = []
    if pick.excluded:
        parts.append(
            "passed over: "
            + ", ".join(f"{_names(agents, [i])[0]} ({why})" for i, why in pick.excluded.items())
        )
    return "; ".join(parts)


def _source_label(source: ReassignmentGroup | RoutingRule) -> str:
    kind = "group" if isinstance(source, ReassignmentGroup) else "rule"
    return f"{kind} “{source.name}” ({METHOD_LABELS[source.method].lower()})"


def _decision(
    *,
    round_: Round,
    pick: engine.Pick | None,
    chosen: Agent | None,
    reason: str,
    agents: dict[int, Agent],
) -> Decision:
    return Decision.objects.create(
        company_id=round_.company_id,
        contact_id=round_.contact_id,
        round=round_,
        group_id=round_.group_id,
        rule_id=round_.rule_id,
        method=round_.method,
        candidates=[
            {"id": i, "name": _names(agents, [i])[0]} for i in (pick.candidates if pick else ())
        ],
        excluded={
            str(i): {"name": _names(agents, [i])[0], "why": why}
            for i, why in (pick.excluded.items() if pick else ())
        },
        chosen=chosen,
        reason=reason[:300],
    )


# --- Starting a round -------------------------------------------------------------------------
def _open_round(contact_id: int) -> Round | None:
    return Round.objects.filter(contact_id=contact_id, status=Round.Status.OPEN).first()


@transaction.atomic
def reassignment_start(*, contact: Contact, group: ReassignmentGroup, actor: Agent | None) -> Round:
    """Send an existing contact through a reassignment group (by hand, from its page)."""
    if group.company_id != contact.company_id:
        raise ValidationError("That reassignment group belongs to another company.")
    return _start_round(contact=contact, source=group, actor=actor)


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


def _start_round(
    *, contact: Contact, source: ReassignmentGroup | RoutingRule, actor: Agent | None
) -> Round:
    # Lock order everywhere: group (or rule), then round, then contact. One decision at a
    # time per group: the rotation is read, advanced and stored under this lock.
    source = type(source).objects.select_for_update().get(pk=source.pk)
    locked = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("primary_agent", "company")
        .get(pk=contact.pk)
    )
    current = _open_round(locked.pk)
    if current is not None:
        raise ValidationError(
            f"Re-Assign already in progress through {current.source_name}; wait for it to finish."
        )
    agents = _member_agents(source)
    by_id = {a.pk: a for a in agents}
    rotation = engine.Rotation.from_dict(source.rotation)
    pick = engine.decide(
        source.method,
        _snapshots(locked.company, agents, with_last_assigned=source.method == Method.LEAST_LOADED),
        rotation,
        skip_unavailable=source.skip_unavailable,
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
    )
    label = _source_label(source)
    if is_group:
        timeline_record(
            contact=locked,
            kind=TimelineEntry.Kind.REASSIGN_STARTED,
            actor=actor,
            agent=locked.primary_agent,
            message=f"Re-assign through {label} started by {actor or 'Switchboard'}.",
            details={"round": round_.pk, "group": source.pk},
        )
    if source.method in (Method.ROUND_ROBIN, Method.LEAST_LOADED):
        if pick.rotation is not None and pick.chosen is not None:
            source.rotation = pick.rotation.as_dict()
            source.save(update_fields=["rotation"])
        if pick.chosen is not None:
            why = _why(pick, by_id)
            reason = f"{label}: {pick.reason.rstrip('.').lower()}" + (f"; {why}" if why else "")
            _decision(
                round_=round_, pick=pick, chosen=by_id[pick.chosen], reason=reason, agents=by_id
            )
            _finish(round_, agent=by_id[pick.chosen], status=Round.Status.ASSIGNED, reason=reason)
        else:
            _fallback(round_, source, f"nobody in {label} was available", pick, by_id)
        return round_

    if not pick.offered:
        _fallback(round_, source, f"nobody in {label} was available", pick, by_id)
        return round_
    _decision(round_=round_, pick=pick, chosen=None, reason=f"{label}: {pick.reason}", agents=by_id)
    deadline = timezone.now() + timedelta(minutes=source.claim_window_minutes)
    round_.deadline_at = deadline
    if source.method == Method.FIRST_TO_CLAIM:
        offer_to = list(pick.offered)
    else:
        offer_to, round_.queue = [pick.offered[0]], list(pick.offered[1:])
        source.rotation = (pick.rotation or rotation).as_dict()
        source.save(update_fields=["rotation"])
    round_.save(update_fields=["deadline_at", "queue"])
    _make_offers(round_, offer_to, deadline)
    return round_


def _make_offers(round_: Round, agent_ids: list[int], deadline: datetime) -> None:
    offers = Offer.objects.bulk_create(
        Offer(round=round_, agent_id=agent_id, expires_at=deadline) for agent_id in agent_ids
    )
    from .tasks import expire_round, send_offer_email

    round_id = round_.pk
    transaction.on_commit(lambda: expire_round.apply_async(args=[round_id], eta=deadline))
    for offer in offers:
        send_offer_email.delay_on_commit(offer.pk)


# --- Finishing a round ------------------------------------------------------------------------
def _finish(round_: Round, *, agent: Agent | None, status: str, reason: str) -> None:
    now = timezone.now()
    round_.status = status
    round_.assigned_to = agent
    round_.finished_at = now
    round_.save(update_fields=["status", "assigned_to", "finished_at"])
    round_.offers.filter(status=Offer.Status.OPEN).exclude(agent=agent).update(
        status=Offer.Status.LOST if status == Round.Status.CLAIMED else Offer.Status.EXPIRED,
        closed_at=now,
    )
    contact = Contact.objects.get(pk=round_.contact_id)
    entry = None
    if agent is not None:
        entry = contact_assign_primary_agent(
            contact=contact, agent=agent, actor=None, reason=reason, round_=round_
        )
    if entry is None:
        stays = contact.primary_agent
        timeline_record(
            contact=contact,
            kind=TimelineEntry.Kind.REASSIGN_FINISHED,
            actor=None,
            agent=stays,
            message=f"Re-assign finished — {reason}; "
            + (f"{stays} stays primary agent." if stays else "the contact has no primary agent."),
            details={"round": round_.pk},
        )
    # Next up: a member who claimed had their turn (a fallback to the default assignee
    # is nobody's turn, so the round goes on).
    source = _source_of(round_)
    if source is not None and status == Round.Status.CLAIMED and round_.method == Method.NEXT_UP:
        source = type(source).objects.select_for_update().get(pk=source.pk)  # already held
        member_ids = list(source.members.values_list("agent_id", flat=True))
        source.rotation = engine.next_up_claimed(
            engine.Rotation.from_dict(source.rotation), member_ids, agent.pk
        ).as_dict()
        source.save(update_fields=["rotation"])


def _usable_default(source: ReassignmentGroup | RoutingRule) -> Agent | None:
    """The source's default assignee if they can own its company's contacts, else None."""
    default = source.default_assignee
    if default is None:
        return None
    return eligible_primary_agents(company=source.company).filter(pk=default.pk).first()


def _fallback(round_: Round, source, why: str, pick: engine.Pick | None, by_id) -> None:
    default = _usable_default(source)
    if default is not None:
        reason = f"{why}; went to the default assignee, {default}"
        _decision(round_=round_, pick=pick, chosen=default, reason=reason, agents=by_id)
        _finish(round_, agent=default, status=Round.Status.FALLBACK, reason=reason)
    else:
        reason = f"{why} and there is no default assignee"
        _decision(round_=round_, pick=pick, chosen=None, reason=reason, agents=by_id)
        _finish(round_, agent=None, status=Round.Status.UNASSIGNED, reason=reason)


def _source_of(round_: Round):
    return round_.group or round_.rule


@transaction.atomic
def offer_claim(*, offer_id: int, agent: Agent) -> Round:
    """Claim an offer. Of several claimers exactly one wins (compare-and-set on the round);
    the others, and claims after the window, get a ValidationError saying why."""
    offer = (
        Offer.objects.select_related("round", "round__group", "round__rule")
        .filter(pk=offer_id, agent=agent)
        .first()
    )
    if offer is None:
        raise ValidationError("This offer is not yours.")
    round_ = offer.round
    source = _source_of(round_)
    if source is not None:
        type(source).objects.select_for_update().filter(pk=source.pk).first()  # lock order
    now = timezone.now()
    if offer.status == Offer.Status.WITHDRAWN:
        raise ValidationError("This offer was withdrawn: you are no longer in the group.")
    if source is not None and not source.members.filter(agent=agent).exists():
        Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.WITHDRAWN, closed_at=now)
        raise ValidationError("This offer was withdrawn: you are no longer in the group.")
    won = 0
    if offer.status == Offer.Status.OPEN and offer.expires_at > now:
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
    Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.CLAIMED, closed_at=now)
    round_.refresh_from_db()
    label = _source_label(source) if source else "a deleted group"
    reason = f"{label}: claimed by {agent}"
    _decision(round_=round_, pick=None, chosen=agent, reason=reason, agents={agent.pk: agent})
    _finish(round_, agent=agent, status=Round.Status.CLAIMED, reason=reason)
    return round_


def round_expire(*, round_id: int, force: bool = False) -> str:
    """Close a round whose claim window has passed: next up moves on to the next member,
    otherwise the default assignee gets it. Safe to call at any time, any number of times."""
    with transaction.atomic():
        sources = Round.objects.filter(pk=round_id).values_list("group_id", "rule_id").first()
        if sources and sources[0]:
            ReassignmentGroup.objects.select_for_update().filter(pk=sources[0]).first()
        elif sources and sources[1]:
            RoutingRule.objects.select_for_update().filter(pk=sources[1]).first()
        round_ = (
            Round.objects.select_for_update(of=("self",))
            .select_related("group", "rule", "company")
            .filter(pk=round_id)
            .first()
        )
        if round_ is None or round_.status != Round.Status.OPEN:
            return "closed"
        now = timezone.now()
        if not force and round_.deadline_at and round_.deadline_at > now:
            return "not-due"
        round_.offers.filter(status=Offer.Status.OPEN).update(
            status=Offer.Status.EXPIRED, closed_at=now
        )
        source = _source_of(round_)
        if source is None:
            _finish(
                round_, agent=None, status=Round.Status.UNASSIGNED, reason="its group was deleted"
            )
            return "unassigned"
        label = _source_label(source)
        if round_.method == Method.NEXT_UP:
            members = {a.pk: a for a in _member_agents(source)}
            while round_.queue:
                candidate = round_.queue.pop(0)
                agent = members.get(candidate)
                if agent is None:
                    continue
                if source.skip_unavailable and agent.effective_presence != "available":
                    continue
                deadline = now + timedelta(minutes=source.claim_window_minutes)
                round_.deadline_at = deadline
                round_.save(update_fields=["queue", "deadline_at"])
                _make_offers(round_, [candidate], deadline)
                return "next"
        minutes = source.claim_window_minutes
        _fallback(
            round_, source, f"nobody in {label} claimed it within {minutes} minute(s)", None, {}
        )
        return round_.status


def rounds_due(*, limit: int = 500) -> list[int]:
    return list(
        Round.objects.filter(status=Round.Status.OPEN, deadline_at__lte=timezone.now())
        .order_by("deadline_at")
        .values_list("pk", flat=True)[:limit]
    )


def group_member_removed(
    *, agent_id: int, group_id: int | None = None, rule_id: int | None = None
) -> None:
    """A member left a group or rule: withdraw their open offers at once; a next-up round
    moves on to the next member."""
    where = {"round__group_id": group_id} if group_id else {"round__rule_id": rule_id}
    offers = list(
        Offer.objects.filter(**where, agent_id=agent_id, status=Offer.Status.OPEN).values_list(
            "pk", "round_id"
        )
    )
    if not offers:
        return
    Offer.objects.filter(pk__in=[pk for pk, _ in offers]).update(
        status=Offer.Status.WITHDRAWN, closed_at=timezone.now()
    )
    for _, round_id in offers:
        if not Offer.objects.filter(round_id=round_id, status=Offer.Status.OPEN).exists():
            transaction.on_commit(lambda rid=round_id: round_expire(round_id=rid, force=True))


# --- Routing rules for new contacts -------------------------------------------------------
def _csv(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def rule_matches(rule: RoutingRule, *, contact: Contact, channel: str, now: datetime) -> bool:
    if rule.sources and (contact.source or "").strip().lower() not in _csv(rule.sources):
        return False
    if rule.channels and channel.lower() not in _csv(rule.channels):
        return False
    if rule.tag and rule.tag.strip().lower() not in contact.tag_list:
        return False
    for flag, value in ((rule.has_phone, contact.phone), (rule.has_email, contact.email)):
        if flag == "yes" and not value or flag == "no" and value:
            return False
    if rule.active_from and rule.active_until:
        try:
            zone = zoneinfo.ZoneInfo(rule.company.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        local = timezone.localtime(now, zone).time()
        start, end = rule.active_from, rule.active_until
        inside = start <= local < end if start <= end else (local >= start or local < end)
        if not inside:
            return False
    return True


def rule_for(
    *, contact: Contact, channel: str = "", now: datetime | None = None
) -> RoutingRule | None:
    """The first active rule (by position) that matches the new contact, or None."""
    now = now or timezone.now()
    rules = RoutingRule.objects.filter(company_id=contact.company_id, paused=False).select_related(
        "company"
    )
    for rule in rules.order_by("position", "pk"):
        if rule_matches(rule, contact=contact, channel=channel, now=now):
            return rule
    return None


@transaction.atomic
def contact_route_new(*, contact: Contact, channel: str = "") -> Round | None:
    """Apply the routing rules to a contact that just arrived without a primary agent.

    No rule matched: the company default applies — the contact stays without a primary
    agent, so its texts and forms show in Active for every available agent."""
    if contact.primary_agent_id is not None:
        return None
    rule = rule_for(contact=contact, channel=channel)
    if rule is None:
        return None
    return _start_round(contact=contact, source=rule, actor=None)


# --- Whole books --------------------------------------------------------------------------
@transaction.atomic
def agent_book_handover(
    *, company: Company, agent: Agent, group: ReassignmentGroup, actor: Agent | None
) -> int:
    """Send every contact whose primary agent is ``agent`` through ``group``.

    Round robin and least loaded are decided in memory, one contact at a time exactly as
    single rounds would, and written in bulk per receiving agent (timeline rows, why log,
    one email each). Claim-based methods start one round per contact."""
    if group.company_id != company.pk:
        raise ValidationError("That reassignment group belongs to another company.")
    busy = Round.objects.filter(company=company, status=Round.Status.OPEN).values("contact_id")
    ids = list(
        Contact.objects.filter(company=company, primary_agent=agent)
        .exclude(pk__in=Subquery(busy))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if group.method not in (Method.ROUND_ROBIN, Method.LEAST_LOADED):
        for contact in Contact.objects.filter(pk__in=ids).order_by("pk"):
            _start_round(contact=contact, source=group, actor=actor)
        return len(ids)
    group = ReassignmentGroup.objects.select_for_update().get(pk=group.pk)
    agents = [a for a in _member_agents(group) if a.pk != agent.pk]
    by_id = {a.pk: a for a in agents}
    members = _snapshots(company, agents, with_last_assigned=group.method == Method.LEAST_LOADED)
    rotation = engine.Rotation.from_dict(group.rotation)
    plan: dict[int | None, list[int]] = {}
    reasons: dict[int, str] = {}
    label = _source_label(group)
    decisions = []
    now = timezone.now()
    for contact_id in ids:
        pick = engine.decide(
            group.method, members, rotation, skip_unavailable=group.skip_unavailable
        )
        chosen = pick.chosen
        if chosen is not None:
            if pick.rotation is not None:
                rotation = pick.rotation
            members = [
                engine.Member(m.id, m.name, m.presence, m.load + 1, m.last_assigned)
                if m.id == chosen
                else m
                for m in members
            ]
            reasons[chosen] = (
                f"{label}: handover of {agent}'s contacts, {pick.reason.rstrip('.').lower()}"
            )
        plan.setdefault(chosen, []).append(contact_id)
        decisions.append(
            Decision(
                company=company,
                contact_id=contact_id,
                group=group,
                method=group.method,
                # Compact for whole books: ids of the candidates, and the exclusions that
                # are not simply "already had their turn this round" (those are counted).
                candidates=list(pick.candidates),
                excluded={
                    **{
                        str(i): {"name": _names(by_id, [i])[0], "why": why}
                        for i, why in pick.excluded.items()
                        if why != engine.HAD_TURN
                    },
                    "had_their_turn": sum(
                        1 for w in pick.excluded.values() if w == engine.HAD_TURN
                    ),
                },
                chosen_id=chosen if chosen is not None else group.default_assignee_id,
                reason=(f"{label}: {pick.reason}")[:300],
                created_at=now,
            )
        )
    group.rotation = rotation.as_dict()
    group.save(update_fields=["rotation"])
    Decision.objects.bulk_create(decisions, batch_size=5000)
    moved = 0
    default = _usable_default(group)
    for chosen, contact_ids in plan.items():
        target = by_id.get(chosen) if chosen is not None else default
        if target is None:
            continue
        reason = reasons.get(chosen) or f"{label}: nobody available; went to the default assignee"
        moved += contacts_assign_primary_agent_bulk(
            company=company, contact_ids=contact_ids, agent=target, actor=actor, reason=reason
        )
    return moved


# --- Reports ------------------------------------------------------------------------------
def fairness(*, group: ReassignmentGroup, since: datetime, until: datetime) -> dict:
    """Contacts per member over a period: share against an equal share, and the spread."""
    from django.db.models import Count

    counts = dict(
        Decision.objects.filter(
            group=group, chosen__isnull=False, created_at__gte=since, created_at__lt=until
        )
        .exclude(reason__contains="Offered to")
        .values_list("chosen")
        .annotate(n=Count("*"))
    )
    members = list(group.members.select_related("agent").order_by("added_at", "pk"))
    total = sum(counts.get(m.agent_id, 0) for m in members)
    equal = total / len(members) if members else 0
    rows = [
        {
            "agent": m.agent,
            "count": counts.get(m.agent_id, 0),
            "share": (counts.get(m.agent_id, 0) / total) if total else 0,
            "diff": counts.get(m.agent_id, 0) - equal,
        }
        for m in members
    ]
    values = [r["count"] for r in rows]
    return {
        "rows": rows,
        "total": total,
        "equal_share": equal,
        "spread": (max(values) - min(values)) if values else 0,
    }


def group_simulate(*, group: ReassignmentGroup, count: int) -> list[Agent | None]:
    """Who the next ``count`` contacts would go to (or be offered first), changing nothing."""
    group = ReassignmentGroup.objects.select_related("company", "default_assignee").get(pk=group.pk)
    agents = _member_agents(group)
    by_id = {a.pk: a for a in agents}
    picks = engine.simulate(
        group.method,
        _snapshots(group.company, agents, with_last_assigned=group.method == Method.LEAST_LOADED),
        engine.Rotation.from_dict(group.rotation),
        count,
        skip_unavailable=group.skip_unavailable,
    )
    return [by_id.get(p) if p is not None else group.default_assignee for p in picks]
