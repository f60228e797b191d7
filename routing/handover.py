"""Distribution of many contacts at once through a group: a leaver's whole book (the
handover) and the admin's *Re-assign through a group…* of a selection.

Round robin and least loaded decide at once, so a set of contacts is planned in one pass over
the engine, exactly as one decision after another would go (``plan_many``), and written in one
go: the rows locked in pk order, the contacts through the one ownership path
(``contacts.ownership.contacts_set_primary_agent``: one ``UPDATE``, timeline rows by ``COPY``,
counters in one statement, one email per agent), the why log by ``COPY``. Claim-based methods
(first to claim, next up) wait for people, so they stay one round per contact
(``routing.rounds.round_start``). docs/routing-bulk.md says what costs what.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agents.actors import acting_key
from agents.bulk import insert_values
from agents.models import Agent, Company
from contacts import timeline
from contacts.locks import LockedContact, lock_book, lock_contacts
from contacts.models import Contact
from contacts.ownership import Skip, contacts_set_primary_agent
from events import payloads
from events.emit import event_emit, heard, one_mass_change
from events.models import EventType
from events.payloads import Mass, OwnerMethod

from . import engine
from .locks import lock_group
from .models import ReassignmentGroup, Round
from .rounds import IMMEDIATE, reassignment_start_many, round_start, source_label
from .selectors import source_facts, usable_default
from .why import decisions_write_values, passed_over_text, why_values


# --- Planning -------------------------------------------------------------------------------
def _shifted(pick: engine.Pick, rounds: int) -> engine.Pick:
    """``pick`` made ``rounds`` rotation rounds later: the same decision, the round's number
    moved on (its candidates and exclusions stay the very same objects). Built directly, not
    by ``dataclasses.replace``: this runs once per contact of a book."""
    rotation = pick.rotation
    if not rounds or rotation is None:
        return pick
    old = rotation.round
    return engine.Pick(
        pick.method,
        pick.chosen,
        pick.offered,
        pick.candidates,
        pick.excluded,
        pick.reason.replace(f"(round {old})", f"(round {old + rounds})"),
        engine.Rotation(old + rounds, rotation.order, rotation.round_members, rotation.served),
    )


def _round_robin_periodic(
    members: list[engine.Member], rotation: engine.Rotation, count: int, *, skip: bool
) -> tuple[list[engine.Pick], engine.Rotation]:
    """Round robin over facts that do not change during the set: each decision depends only
    on the rotation's order, its round's members and who was served, so once that state comes
    back (a whole rotation round later) the decisions repeat, a round number further on. The
    engine decides until then; the rest is the same picks, shifted."""
    picks: list[engine.Pick] = []
    seen: dict[tuple, int] = {}
    rounds_at: list[int] = []
    state = rotation
    while len(picks) < count:
        key = (state.order, state.round_members, state.served)
        if key in seen:
            first = seen[key]
            period, rounds = len(picks) - first, state.round - rounds_at[first]
            while len(picks) < count:
                picks.append(_shifted(picks[len(picks) - period], rounds))
            break
        seen[key] = len(picks)
        rounds_at.append(state.round)
        pick = engine.decide(engine.ROUND_ROBIN, members, state, skip_unavailable=skip)
        picks.append(pick)
        if pick.rotation is not None:
            state = pick.rotation
    final = picks[-1].rotation if picks and picks[-1].rotation is not None else rotation
    return picks, final


def plan_many(
    method: str,
    members: list[engine.Member],
    rotation: engine.Rotation,
    owners: Sequence[int | None],
    *,
    skip_unavailable: bool,
    default_id: int | None = None,
) -> tuple[list[engine.Pick], engine.Rotation]:
    """One decision per contact (``owners``: each one's current primary agent, never chosen),
    in order, as if each were made after the previous one was written: whoever gets a
    contact (the pick, else ``default_id``) has one more open contact and was assigned last,
    its former owner one fewer. Availability is read once for the whole set (as a request
    that decided them one by one within the same second would see it)."""
    if method == engine.ROUND_ROBIN and not any(owners):
        return _round_robin_periodic(members, rotation, len(owners), skip=skip_unavailable)
    facts = {m.id: m for m in members}
    order = [m.id for m in members]
    latest = max((m.last_assigned or 0.0 for m in members), default=0.0)
    state = rotation
    picks: list[engine.Pick] = []
    for owner in owners:
        pick = engine.decide(
            method, [facts[i] for i in order], state, skip_unavailable=skip_unavailable, owner=owner
        )
        picks.append(pick)
        if pick.rotation is not None and pick.chosen is not None:
            state = pick.rotation
        target = pick.chosen if pick.chosen is not None else default_id
        if target is None or target == owner:
            continue
        latest += 1.0
        if target in facts:
            member = facts[target]
            facts[target] = replace(member, load=member.load + 1, last_assigned=latest)
        if owner in facts:
            facts[owner] = replace(facts[owner], load=facts[owner].load - 1)
    return picks, state


# --- A leaver's book ------------------------------------------------------------------------
@transaction.atomic
def agent_book_handover(
    *, company: Company, agent: Agent, group: ReassignmentGroup, actor: Agent | None
) -> int:
    """Send every contact whose primary agent is ``agent`` through ``group``; returns how
    many were handed over (or, for claim-based methods, offered).

    The leaver is never offered, given or defaulted their own contacts. Round robin and least
    loaded lock the whole book once (group, then the contacts in pk order), plan it with the
    engine exactly as single rounds would, and write it through the one ownership path with
    the leaver as the expected owner, so a change committed meanwhile is never overwritten.
    Claim-based methods start one round per contact."""
    if group.company_id != company.pk:
        raise ValidationError("That reassignment group belongs to another company.")
    group = lock_group(group.pk)
    if group.method not in IMMEDIATE:
        return _handover_by_rounds(company=company, agent=agent, group=group, actor=actor)
    book = lock_book(company_id=company.pk, agent_id=agent.pk)
    ids = [row.pk for row in book]
    members, by_id = source_facts(group, leaving=agent)
    default = usable_default(group)
    if default is not None and default.pk == agent.pk:
        default = None
    picks, rotation = plan_many(
        group.method,
        members,
        engine.Rotation.from_dict(group.rotation),
        [None] * len(ids),
        skip_unavailable=group.skip_unavailable,
        default_id=default.pk if default else None,
    )
    label = source_label(group)
    targets: dict[int, Agent] = {}
    reasons: dict[int, str] = {}
    decisions: list[dict] = []
    shapes: dict = {}
    for contact_id, pick in zip(ids, picks, strict=True):
        target = by_id[pick.chosen] if pick.chosen is not None else default
        reason = timeline.reason_handover(
            source_label=label,
            leaver=agent,
            pick_reason=pick.reason if pick.chosen is not None else None,
            default=default,
        )
        decisions.append(
            why_values(
                company_id=company.pk,
                contact_id=contact_id,
                source=group,
                method=group.method,
                pick=pick,
                chosen=target,
                reason=reason,
                shapes=shapes,
            )
        )
        if target is not None:
            targets[contact_id] = target
            reasons[contact_id] = reason
    outcome = contacts_set_primary_agent(
        company=company,
        targets=targets,
        actor=actor,
        reason=reasons,
        expected_owner=agent,
        method=OwnerMethod.HANDOVER,
        mass=Mass.HANDOVER,
        locked=[row for row in book if row.pk in targets],
    )
    for decision in decisions:
        # Whoever did not get the contact after all is not counted as having had it.
        why = outcome.skipped.get(decision["contact_id"])
        if why is not None:
            decision["chosen_id"] = None
            decision["reason"] = timeline.reason_left_alone(reason=decision["reason"], why=why)[
                :300
            ]
    group.rotation = rotation.as_dict()
    group.save(update_fields=["rotation"])
    decisions_write_values(decisions)
    return outcome.changed


def _handover_by_rounds(
    *, company: Company, agent: Agent, group: ReassignmentGroup, actor: Agent | None
) -> int:
    """One round per contact of the book, all one mass change "handover": every event the
    rounds write (started; owner changed and finished when a contact falls straight to the
    default assignee) is sent in batches, not one request per contact."""
    ids = [row.pk for row in lock_book(company_id=company.pk, agent_id=agent.pk)]
    started = 0
    with one_mass_change(Mass.HANDOVER):
        for contact in Contact.objects.filter(pk__in=ids).order_by("pk"):
            if round_start(contact=contact, source=group, actor=actor, leaving=agent) is not None:
                started += 1
    return started


# --- A selection through a group ------------------------------------------------------------
def contacts_reassign_through_group(
    *, company: Company, contact_ids: Sequence[int], group: ReassignmentGroup, actor: Agent | None
) -> tuple[int, list[str]]:
    """Send the company's contacts ``contact_ids`` through ``group`` (the admin's
    *Re-assign through a group…*); returns how many were sent and, for the others, why not.

    Round robin and least loaded: one transaction for the set — the group, then the contacts
    in pk order, locked once; one plan (``plan_many``); a round, its *Re-assign started* row,
    its why-log row and its outcome per contact, as ``round_start`` writes them one at a time.
    Claim-based methods: one round per contact, each in its own transaction
    (``reassignment_start_many``)."""
    if group.company_id != company.pk:
        raise ValidationError("That reassignment group belongs to another company.")
    if group.method not in IMMEDIATE:
        contacts = list(Contact.objects.filter(company=company, pk__in=contact_ids).order_by("pk"))
        return reassignment_start_many(contacts=contacts, group=group, actor=actor)
    return _reassign_at_once(company=company, contact_ids=contact_ids, group=group, actor=actor)


@dataclass
class _Planned:
    row: LockedContact
    pick: engine.Pick
    target: Agent | None
    status: str
    reason: str
    round_id: int | None = None


@transaction.atomic
def _reassign_at_once(
    *, company: Company, contact_ids: Sequence[int], group: ReassignmentGroup, actor: Agent | None
) -> tuple[int, list[str]]:
    group = lock_group(group.pk)
    refused_rows: list[LockedContact] = []
    rows: list[LockedContact] = []
    for chunk in lock_contacts(company_id=company.pk, ids=contact_ids):
        for row in chunk:
            (refused_rows if row.reassign_hold is not None else rows).append(row)
    refused = []
    if refused_rows:
        shown = Contact.objects.in_bulk([r.pk for r in refused_rows])
        refused = [
            f"{shown[r.pk]}: Re-Assign already in progress through {r.reassign_hold_label}; "
            "wait for it to finish."
            for r in refused_rows
        ]
    if not rows:
        return 0, refused
    members, by_id = source_facts(group)
    default = usable_default(group)
    picks, rotation = plan_many(
        group.method,
        members,
        engine.Rotation.from_dict(group.rotation),
        [r.primary_agent_id for r in rows],
        skip_unavailable=group.skip_unavailable,
        default_id=default.pk if default else None,
    )
    label = source_label(group)
    nobody = timeline.reason_nobody_available(source_label=label)
    planned: list[_Planned] = []
    for row, pick in zip(rows, picks, strict=True):
        if pick.chosen is not None:
            reason = timeline.reason_picked(
                source_label=label,
                pick_reason=pick.reason,
                passed_over=passed_over_text(pick, by_id),
            )
            planned.append(_Planned(row, pick, by_id[pick.chosen], Round.Status.ASSIGNED, reason))
        else:
            status = Round.Status.FALLBACK if default else Round.Status.UNASSIGNED
            reason = timeline.reason_fell_to_default(why=nobody, default=default)
            planned.append(_Planned(row, pick, default, status, reason))
    owners = {r.primary_agent_id for r in rows if r.primary_agent_id}
    agents = {**Agent.objects.in_bulk(owners - set(by_id)), **by_id}
    if default is not None:
        agents[default.pk] = default
    now = timezone.now()
    round_ids = insert_values(
        Round,
        [
            {
                "company_id": company.pk,
                "contact_id": p.row.pk,
                "group_id": group.pk,
                "method": group.method,
                "status": p.status,
                "started_by_id": actor.pk if actor is not None else None,
                "from_agent_id": p.row.primary_agent_id,
                "assigned_to_id": p.target.pk if p.target is not None else None,
                "excludes_owner": False,
                "started_at": now,
                "finished_at": now,
            }
            for p in planned
        ],
    )
    for p, round_id in zip(planned, round_ids, strict=True):
        p.round_id = round_id
    source_ref = payloads.round_source(
        kind="group", id=group.pk, name=group.name, method=group.method
    )

    # Names and numbers, read once when first needed: events, and the rows of rounds that
    # leave the owner as it was (most selections need neither).
    contacts: dict[int, tuple[str, str]] = {}

    def contact_of(row: LockedContact) -> Contact:
        if not contacts:
            found = Contact.objects.filter(pk__in=[r.pk for r in rows])
            for pk, its_name, its_phone in found.values_list("pk", "name", "phone"):
                contacts[pk] = (its_name, its_phone)
        name, phone = contacts[row.pk]
        owner = agents.get(row.primary_agent_id) if row.primary_agent_id else None
        return Contact(
            pk=row.pk, company_id=company.pk, name=name, phone=phone, primary_agent=owner
        )

    if heard(company, EventType.REASSIGNMENT_STARTED):
        for p in planned:
            event_emit(
                company=company,
                type=EventType.REASSIGNMENT_STARTED,
                data=payloads.reassignment_started(
                    contact=payloads.contact_ref_of(contact_of(p.row)),
                    round_id=p.round_id,
                    source=source_ref,
                    owner=contact_of(p.row).primary_agent,
                    handover=False,
                    method=OwnerMethod.GROUP,
                ),
                actor=actor,
                contact_id=p.row.pk,
                version=p.row.ownership_version,
            )
    timeline.timeline_write_values(
        [
            timeline.reassign_started(
                company_id=company.pk,
                contact_id=p.row.pk,
                owner=agents.get(p.row.primary_agent_id) if p.row.primary_agent_id else None,
                actor=actor,
                source_label=label,
                round_id=p.round_id,
                group_id=group.pk,
            )
            for p in planned
        ]
    )
    shapes: dict = {}
    decisions_write_values(
        [
            why_values(
                company_id=company.pk,
                contact_id=p.row.pk,
                source=group,
                method=group.method,
                pick=p.pick,
                chosen=p.target,
                reason=p.reason,
                round_=p.round_id,
                shapes=shapes,
            )
            for p in planned
        ]
    )
    # The rounds' decisions are Switchboard's, as ``rounds._finish`` makes them.
    with acting_key(None):
        outcome = contacts_set_primary_agent(
            company=company,
            targets={p.row.pk: p.target for p in planned if p.target is not None},
            actor=None,
            reason={p.row.pk: p.reason for p in planned},
            expected_owner={p.row.pk: p.row.primary_agent_id for p in planned},
            method=OwnerMethod.GROUP,
            locked=[p.row for p in planned if p.target is not None],
        )
        timeline.timeline_write_many(
            timeline.reassign_finished(
                contact=contact_of(p.row), round_id=p.round_id, reason=p.reason
            )
            for p in planned
            if p.target is None or outcome.skipped.get(p.row.pk) is Skip.UNCHANGED
        )
        if heard(company, EventType.REASSIGNMENT_FINISHED):
            for p in planned:
                event_emit(
                    company=company,
                    type=EventType.REASSIGNMENT_FINISHED,
                    data=payloads.reassignment_finished(
                        contact=payloads.contact_ref_of(contact_of(p.row)),
                        round_id=p.round_id,
                        source=source_ref,
                        outcome=p.status,
                        agent=p.target,
                        reason=p.reason,
                        method=OwnerMethod.GROUP,
                    ),
                    contact_id=p.row.pk,
                    version=outcome.versions.get(p.row.pk, p.row.ownership_version),
                )
    if rotation.as_dict() != engine.Rotation.from_dict(group.rotation).as_dict():
        group.rotation = rotation.as_dict()
        group.save(update_fields=["rotation"])
    return len(planned), refused
