"""A whole book: every contact of an agent who leaves, sent through a reassignment group."""

from django.core.exceptions import ValidationError
from django.db import transaction

from agents.models import Agent, Company
from contacts import timeline
from contacts.locks import lock_book
from contacts.models import Contact
from contacts.ownership import contacts_set_primary_agent
from events.emit import one_mass_change
from events.payloads import Mass, OwnerMethod

from . import engine
from .locks import lock_group
from .models import Decision, ReassignmentGroup
from .rounds import IMMEDIATE, round_start, source_label
from .selectors import source_facts, usable_default
from .why import decisions_write, why_decision


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
    ids = lock_book(company_id=company.pk, agent_id=agent.pk)
    members, by_id = source_facts(group, leaving=agent)
    plan = engine.plan(
        group.method,
        members,
        engine.Rotation.from_dict(group.rotation),
        len(ids),
        skip_unavailable=group.skip_unavailable,
    )
    default = usable_default(group)
    if default is not None and default.pk == agent.pk:
        default = None
    label = source_label(group)
    targets: dict[int, Agent] = {}
    reasons: dict[int, str] = {}
    decisions: list[Decision] = []
    for contact_id, pick in zip(ids, plan.picks, strict=True):
        target = by_id[pick.chosen] if pick.chosen is not None else default
        reason = timeline.reason_handover(
            source_label=label,
            leaver=agent,
            pick_reason=pick.reason if pick.chosen is not None else None,
            default=default,
        )
        decisions.append(
            why_decision(
                company_id=company.pk,
                contact_id=contact_id,
                source=group,
                method=group.method,
                pick=pick,
                chosen=target,
                reason=reason,
                names=by_id,
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
    )
    for decision in decisions:
        # Whoever did not get the contact after all is not counted as having had it.
        if decision.contact_id in outcome.skipped:
            decision.chosen = None
            why = outcome.skipped[decision.contact_id]
            decision.reason = timeline.reason_left_alone(reason=decision.reason, why=why)[:300]
    group.rotation = plan.rotation.as_dict()
    group.save(update_fields=["rotation"])
    decisions_write(decisions)
    return outcome.changed


def _handover_by_rounds(
    *, company: Company, agent: Agent, group: ReassignmentGroup, actor: Agent | None
) -> int:
    """One round per contact of the book, all one mass change "handover": every event the
    rounds write (started; owner changed and finished when a contact falls straight to the
    default assignee) is sent in batches, not one request per contact."""
    ids = lock_book(company_id=company.pk, agent_id=agent.pk)
    started = 0
    with one_mass_change(Mass.HANDOVER):
        for contact in Contact.objects.filter(pk__in=ids).order_by("pk"):
            if round_start(contact=contact, source=group, actor=actor, leaving=agent) is not None:
                started += 1
    return started
