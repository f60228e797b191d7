"""Dry runs: who would get a contact now, and why — changing nothing.

The same facts and the same engine call as the real path (``rounds.round_start`` for a
group, ``rules.rule_for`` + ``round_start`` for a new contact's rule): the members with their
effective presence and load (``selectors.source_facts``), the stored rotation, the contact's
owner excluded, the default assignee only if they may still own the company's contacts. It
takes no lock and writes nothing: no round, no offer, no why-log row, no timeline row, no
email, and the rotation stays where it is (the engine is pure; the picked rotation is read,
never stored). Between the dry run and a real start, presence, load or the rotation may
change; the dry run answers for the moment it runs.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from agents import zones
from agents.models import Agent, Company
from agents.phone import normalise_phone
from contacts import timeline
from contacts.models import Contact

from . import engine
from .models import Decision, Method, ReassignmentGroup, RoutingRule
from .rounds import IMMEDIATE, source_label
from .selectors import rule_facts_in_order, source_facts, usable_default
from .why import passed_over_text, why_decision


class Outcome:
    ASSIGNED = "assigned"  # round robin / least loaded chose someone
    OFFERED = "offered"  # first to claim / next up: offers with a claim window
    DEFAULT_ASSIGNEE = "default_assignee"  # nobody available: the default assignee
    UNASSIGNED = "unassigned"  # nobody available and no default: the owner stays
    POOL = "pool"  # no rule takes the new contact: no primary agent, texts show in Active
    EXISTING_CONTACT = "existing_contact"  # the number is a contact already: no rule runs


class AlreadyInProgress(ValidationError):
    """The contact is *Re-Assign in progress*: a real start would be refused."""


@dataclass
class DryRun:
    outcome: str
    reason: str
    source: ReassignmentGroup | RoutingRule | None = None
    contact: Contact | None = None
    agent: Agent | None = None  # who would be the primary agent now
    offered: list[Agent] = field(default_factory=list)  # offered now
    queue: list[Agent] = field(default_factory=list)  # next up: offered next, in order
    default_assignee: Agent | None = None
    claim_window_minutes: int | None = None
    decision: Decision | None = None  # the why-log row the real path would write (unsaved)
    applied_rule: RoutingRule | None = None  # a new contact: the rule the real path applies


def _decide(
    *, source: ReassignmentGroup | RoutingRule, contact_id: int | None, owner_id: int | None
) -> DryRun:
    # round_start's decision, step by step, without its locks and writes.
    members, by_id = source_facts(source)
    rotation = engine.Rotation.from_dict(source.rotation)
    pick = engine.decide(
        source.method, members, rotation, skip_unavailable=source.skip_unavailable, owner=owner_id
    )
    label = source_label(source)
    default = usable_default(source)
    offers_method = source.method not in IMMEDIATE
    result = DryRun(
        outcome="",
        reason="",
        source=source,
        default_assignee=default,
        claim_window_minutes=source.claim_window_minutes if offers_method else None,
    )
    chosen: Agent | None = None
    if not offers_method and pick.chosen is not None:
        chosen = by_id[pick.chosen]
        result.outcome, result.agent = Outcome.ASSIGNED, chosen
        result.reason = timeline.reason_picked(
            source_label=label, pick_reason=pick.reason, passed_over=passed_over_text(pick, by_id)
        )
    elif offers_method and pick.offered:
        result.outcome = Outcome.OFFERED
        result.reason = timeline.reason_offered(source_label=label, pick_reason=pick.reason)
        if source.method == Method.FIRST_TO_CLAIM:
            result.offered = [by_id[i] for i in pick.offered]
        else:
            result.offered = [by_id[pick.offered[0]]]
            result.queue = [by_id[i] for i in pick.offered[1:]]
    else:
        nobody = timeline.reason_nobody_available(source_label=label)
        result.reason = timeline.reason_fell_to_default(why=nobody, default=default)
        if default is not None:
            chosen = default
            result.outcome, result.agent = Outcome.DEFAULT_ASSIGNEE, default
        else:
            result.outcome = Outcome.UNASSIGNED
    result.decision = why_decision(
        company_id=source.company_id,
        contact_id=contact_id,
        source=source,
        method=source.method,
        pick=pick,
        chosen=chosen,
        reason=result.reason,
    )
    return result


def group_dry_run(*, contact: Contact, group: ReassignmentGroup) -> DryRun:
    """What ``reassignment_start(contact, group)`` would do now. Raises what it would raise:
    a ValidationError for another company's group, ``AlreadyInProgress`` for a held contact."""
    if group.company_id != contact.company_id:
        raise ValidationError({"group": ["That reassignment group belongs to another company."]})
    contact = Contact.objects.select_related("primary_agent").get(pk=contact.pk)
    if contact.reassign_hold is not None:
        raise AlreadyInProgress(
            f"Re-Assign already in progress through {contact.reassign_hold_label}; "
            "wait for it to finish."
        )
    group = ReassignmentGroup.objects.select_related("company").get(pk=group.pk)
    result = _decide(source=group, contact_id=contact.pk, owner_id=contact.primary_agent_id)
    result.contact = contact
    return result


def new_contact_source(*, source: str, channel: str) -> str:
    """A new contact's source as the webhook stores it (``inbound <channel>`` when none)."""
    source = source.strip()
    if source:
        return source
    return f"inbound {channel}" if channel else ""


def rule_dry_run(
    *,
    company: Company,
    rule: RoutingRule,
    source: str = "",
    channel: str = "",
    phone: str = "",
    email: str = "",
    tags: tuple[str, ...] = (),
    now: datetime | None = None,
) -> DryRun:
    """What the routing rules would do now with a new contact of these facts, as a new
    number on the webhook (``channel`` given) or a contact added with no primary agent: the
    first active rule that matches starts a round (``rules.rule_for``); ``rule`` is the rule
    asked about, and the answer says when another rule, or none, would take the contact."""
    if rule.company_id != company.pk:
        raise ValidationError({"rule": ["That routing rule belongs to another company."]})
    try:
        e164 = normalise_phone(phone, region=company.default_region)
    except ValidationError as error:
        raise ValidationError({"phone": error.messages}) from None
    if e164:
        existing = Contact.objects.filter(company=company, phone=e164).first()
        if existing is not None:
            return DryRun(
                outcome=Outcome.EXISTING_CONTACT,
                reason=f"{e164} is already the contact {existing}: routing rules route only new "
                "contacts; its texts and forms go to its primary agent while available.",
                source=rule,
                contact=existing,
            )
    facts = engine.ContactFacts(
        source=new_contact_source(source=source, channel=channel),
        tags=tuple(t.strip().lower() for t in tags if t.strip()),
        has_phone=bool(e164),
        has_email=bool(email.strip()),
    )
    local = zones.local(now or timezone.now(), company.time_zone).time()
    first = engine.first_match(
        rule_facts_in_order(company_id=company.pk), contact=facts, channel=channel, local=local
    )
    if first is None:
        return DryRun(
            outcome=Outcome.POOL,
            reason=f"No active routing rule takes this contact (rule “{rule.name}” "
            f"{'is paused' if rule.paused else 'does not take it'}): it "
            "would have no primary agent, so its texts and forms show in Active for every "
            "available agent.",
            source=rule,
        )
    applied = RoutingRule.objects.select_related("company").get(pk=first)
    result = _decide(source=applied, contact_id=None, owner_id=None)
    result.source, result.applied_rule = rule, applied
    if applied.pk != rule.pk:
        if rule.paused:
            why = "is paused"
        elif _matches(rule, facts, channel, local):
            why = "matches too, but runs after it"
        else:
            why = "does not take it"
        result.reason = f"rule “{applied.name}” takes it first (rule “{rule.name}” {why}); " + (
            result.reason
        )
    return result


def _matches(rule: RoutingRule, facts: engine.ContactFacts, channel: str, local) -> bool:
    rule_facts = next(
        (r for r in rule_facts_in_order(company_id=rule.company_id) if r.id == rule.pk), None
    )
    return rule_facts is not None and engine.rule_matches(
        rule_facts, contact=facts, channel=channel, local=local
    )
