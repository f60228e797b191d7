"""Writes of the leads feature: the one lead path (order entry and products: ``leads/orders.py``).

Every assign, unassign, resolve and win goes through ``leads_change`` (1..N customers). In
one transaction it locks the customers, then their open leads (``leads.locks``), applies the
gates (a Leads Agent only; a customer whose most recent order is Partial), writes one
timeline row per change (worded by ``contacts.timeline``, stored in bulk: a constant
number of queries for 1..N leads) and, for assignments, queues one email per agent after
commit. It skips, and says why, the customers it leaves
alone. Single-lead wrappers turn a skip into a ``ValidationError``.
"""

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from agents.access import is_company_admin
from agents.centers.models import Disposition
from agents.live import live_changed, stream_workload
from agents.models import AccessLevel, Agent, Company
from contacts import timeline
from contacts.models import Contact
from contacts.timeline import timeline_write_many
from events import payloads
from events.emit import event_emit_many, heard
from events.models import EventType
from events.payloads import Mass, method_of

from .locks import lock_customers, lock_open_leads
from .models import Lead, LeadEmail, Order
from .tasks import send_lead_email


class Change(enum.StrEnum):
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    RESOLVE = "resolve"
    WIN = "win"


class Skip(enum.StrEnum):
    """Why a customer was left as it was (the batch result counts these)."""

    NOT_PARTIAL = "most recent order is not Partial"
    ALREADY_ASSIGNED = "already assigned to another leads agent"
    UNCHANGED = "already assigned to that leads agent"
    RESOLVED = "customer resolved since their most recent order"
    NO_OPEN_LEAD = "no open lead"
    NOT_YOURS = "the lead is another leads agent's"
    MISSING = "no longer exists"


@dataclass
class Outcome:
    changed: list[Lead] = field(default_factory=list)
    skipped: dict[int, Skip] = field(default_factory=dict)  # by contact id

    def counts(self) -> dict[Skip, int]:
        return dict(Counter(self.skipped.values()))

    def skipped_by_reason(self) -> list[tuple[Skip, list[int]]]:
        """The customers left alone, grouped by reason, in ``Skip``'s order (how every
        page that reports a batch lists them)."""
        by_reason: dict[Skip, list[int]] = {}
        for pk, why in self.skipped.items():
            by_reason.setdefault(why, []).append(pk)
        return [(why, by_reason[why]) for why in Skip if why in by_reason]


def leads_agent_check(*, company: Company, agent: Agent | None) -> Agent:
    """Refuse anyone but an active Leads Agent of the company (a ValidationError on
    ``agent``)."""
    if agent is None:
        raise ValidationError({"agent": "Choose a Leads Agent."})
    if agent.access_level != AccessLevel.LEADS_AGENT or agent.is_superuser:
        raise ValidationError(
            {
                "agent": f"{agent} is a {agent.get_access_level_display()}: leads go to "
                "Leads Agents only. Set their access level to Leads Agent first."
            }
        )
    if not agent.is_active:
        raise ValidationError({"agent": f"{agent} is inactive: leads go to active users only."})
    if not agent.companies.filter(pk=company.pk).exists():
        raise ValidationError({"agent": f"{agent} does not work for {company}."})
    return agent


def sales_disposition_check(*, company: Company, disposition: Disposition | None) -> Disposition:
    if disposition is None:
        raise ValidationError(
            {"disposition": "Choose a sales disposition to resolve the lead without a sale."}
        )
    if (
        not disposition.is_sales
        or not disposition.is_active
        or disposition.center.company_id != company.pk
    ):
        raise ValidationError(
            {
                "disposition": f"“{disposition}” is not one of the sales dispositions of your "
                "call centers: choose one of those."
            }
        )
    return disposition


def _latest_orders(ids: Sequence[int]) -> dict[int, tuple[str, object]]:
    latest: dict[int, tuple[str, object]] = {}
    for start in range(0, len(ids), 5000):
        rows = Order.objects.filter(
            contact_id__in=ids[start : start + 5000], is_latest=True
        ).values_list("contact_id", "status", "created_at")
        latest.update({contact_id: (status, at) for contact_id, status, at in rows})
    return latest


def _last_closed(ids: Sequence[int]) -> dict[int, object]:
    closed: dict[int, object] = {}
    for start in range(0, len(ids), 5000):
        rows = (
            Lead.objects.filter(
                contact_id__in=ids[start : start + 5000],
                status__in=[Lead.Status.RESOLVED, Lead.Status.WON],
            )
            .values("contact_id")
            .annotate(last=Max("resolved_at"))
            .values_list("contact_id", "last")
        )
        closed.update(dict(rows))
    return closed


@transaction.atomic
def leads_change(
    *,
    company: Company,
    contact_ids: Iterable[int],
    change: Change,
    actor: Agent | None,
    agent: Agent | None = None,
    disposition: Disposition | None = None,
    order: Order | None = None,
    only_agent: Agent | None = None,
    reason: str = "",
) -> Outcome:
    """The one path that changes leads. ``agent``: who gets them (assign). ``disposition``:
    the sales disposition (resolve). ``order``: the Complete order that wins them (win).
    ``only_agent``: act only on leads of this agent (a Leads Agent acting on their own).

    Its events' ``method``: "api" when an API key makes the change, else "manual"; several
    leads at once are one mass change ("bulk_assign", "bulk_unassign", "bulk_resolve": a
    resolve or a win)."""
    method = method_of(None)
    if change is Change.ASSIGN:
        leads_agent_check(company=company, agent=agent)
    if change is Change.RESOLVE:
        sales_disposition_check(company=company, disposition=disposition)
    if change in (Change.RESOLVE, Change.UNASSIGN) and not (
        actor is None or is_company_admin(actor)
    ):
        # A Leads Agent closes only their own leads (Switchboard and admins close any).
        only_agent = actor
    outcome = Outcome()
    wanted = sorted(set(contact_ids))
    versions = {
        row.pk: row.ownership_version for row in lock_customers(company_id=company.pk, ids=wanted)
    }
    locked = set(versions)
    for pk in wanted:
        if pk not in locked:
            outcome.skipped[pk] = Skip.MISSING
    ids = sorted(locked)
    open_leads = lock_open_leads(contact_ids=ids)
    now = timezone.now()

    if change is Change.ASSIGN:
        latest = _latest_orders(ids)
        closed = _last_closed(ids)
        new: list[Lead] = []
        for pk in ids:
            current = open_leads.get(pk)
            if current is not None:
                same = current.agent_id == agent.pk
                outcome.skipped[pk] = Skip.UNCHANGED if same else Skip.ALREADY_ASSIGNED
            elif pk not in latest or latest[pk][0] != Order.Status.PARTIAL:
                outcome.skipped[pk] = Skip.NOT_PARTIAL
            elif pk in closed and closed[pk] and closed[pk] >= latest[pk][1]:
                outcome.skipped[pk] = Skip.RESOLVED
            else:
                new.append(
                    Lead(
                        company=company,
                        contact_id=pk,
                        agent=agent,
                        assigned_by=actor,
                        assigned_at=now,
                    )
                )
        try:
            with transaction.atomic():
                created = Lead.objects.bulk_create(new, batch_size=2000)
        except IntegrityError:
            # Only a path that skipped the customer's lock could get here.
            raise ValidationError("A customer got an open lead meanwhile; try again.") from None
        contacts = {
            c.pk: c
            for c in Contact.objects.filter(pk__in=[lead.contact_id for lead in created]).only(
                "pk", "company_id", "name", "phone"
            )
        }
        # One row per lead, inserted in bulk (a batch assigns 10,000 in seconds).
        timeline_write_many(
            timeline.lead_assigned(
                contact=contacts[lead.contact_id],
                lead_id=lead.pk,
                agent=agent,
                actor=actor,
                reason=reason,
            )
            for lead in created
        )
        _emit(
            company=company,
            type=EventType.LEAD_ASSIGNED,
            leads=created,
            contacts=contacts,
            versions=versions,
            actor=actor,
            build=lambda lead, contact: payloads.lead_assigned(
                contact=contact, lead_id=lead.pk, agent=agent, method=method, reason=reason
            ),
            mass=Mass.BULK_ASSIGN,
        )
        outcome.changed = created
        if created:
            # Open leads per leads agent, on the workload page.
            live_changed(company_id=company.pk, streams=[stream_workload(company.pk)])
            email = LeadEmail.objects.create(
                company=company,
                agent=agent,
                actor=actor,
                leads=[lead.pk for lead in created],
                assigned_at=now,
            )
            send_lead_email.delay_on_commit(email.pk)
        return outcome

    status = {
        Change.UNASSIGN: Lead.Status.UNASSIGNED,
        Change.RESOLVE: Lead.Status.RESOLVED,
        Change.WIN: Lead.Status.WON,
    }[change]
    closing: list[Lead] = []
    for pk in ids:
        lead = open_leads.get(pk)
        if lead is None:
            outcome.skipped[pk] = Skip.NO_OPEN_LEAD
        elif only_agent is not None and lead.agent_id != only_agent.pk:
            outcome.skipped[pk] = Skip.NOT_YOURS
        else:
            closing.append(lead)
    if not closing:
        return outcome
    # Constant queries for 1..N leads: every lead gets the same values (one UPDATE per
    # chunk), their agents are read at once, the timeline rows are inserted in bulk.
    values: dict[str, object] = {"status": status, "resolved_at": now, "resolved_by": actor}
    if change is Change.RESOLVE:
        values["disposition"] = disposition
    if change is Change.WIN:
        values["won_order"] = order
    for start in range(0, len(closing), 2000):
        chunk = [lead.pk for lead in closing[start : start + 2000]]
        Lead.objects.filter(pk__in=chunk).update(**values)
    agents = Agent.objects.in_bulk({lead.agent_id for lead in closing})
    contacts = {
        c.pk: c
        for c in Contact.objects.filter(pk__in=[lead.contact_id for lead in closing]).only(
            "pk", "company_id", "name", "phone"
        )
    }
    entries = []
    for lead in closing:
        for name, value in values.items():
            setattr(lead, name, value)
        lead.agent = agents[lead.agent_id]
        about = {
            "contact": contacts[lead.contact_id],
            "lead_id": lead.pk,
            "agent": lead.agent,
            "actor": actor,
            "reason": reason,
        }
        if change is Change.UNASSIGN:
            entries.append(timeline.lead_unassigned(**about))
        elif change is Change.RESOLVE:
            entries.append(timeline.lead_resolved(**about, disposition=disposition))
        else:
            entries.append(timeline.lead_won(**about, order=order))
    timeline_write_many(entries)
    live_changed(company_id=company.pk, streams=[stream_workload(company.pk)])
    if change is Change.UNASSIGN:
        _emit(
            company=company,
            type=EventType.LEAD_UNASSIGNED,
            leads=closing,
            contacts=contacts,
            versions=versions,
            actor=actor,
            build=lambda lead, contact: payloads.lead_unassigned(
                contact=contact, lead_id=lead.pk, agent=lead.agent, method=method, reason=reason
            ),
            mass=Mass.BULK_UNASSIGN,
        )
    else:
        # "won" is a resolve whose outcome is "won" (by the Complete order).
        _emit(
            company=company,
            type=EventType.LEAD_RESOLVED,
            leads=closing,
            contacts=contacts,
            versions=versions,
            actor=actor,
            build=lambda lead, contact: payloads.lead_resolved(
                contact=contact,
                lead_id=lead.pk,
                agent=lead.agent,
                method=method,
                reason=reason,
                disposition=disposition if change is Change.RESOLVE else None,
                order=order if change is Change.WIN else None,
            ),
            mass=Mass.BULK_RESOLVE,
        )
    outcome.changed = closing
    return outcome


def _emit(*, company, type, leads, contacts, versions, actor, build, mass: Mass) -> None:
    """One event per changed lead, in this transaction (nothing when nobody hears ``type``);
    several are one mass change ``mass``, sent in batches."""
    if not leads or not heard(company, type):
        return
    items = [
        (
            lead.contact_id,
            versions[lead.contact_id],
            build(lead, payloads.contact_ref_of(contacts[lead.contact_id])),
        )
        for lead in leads
    ]
    event_emit_many(company=company, type=type, items=items, actor=actor, mass=mass)


def _refusal(outcome: Outcome, contact: Contact) -> ValidationError:
    why = next(iter(outcome.skipped.values()))
    name = str(contact)
    messages = {
        Skip.NOT_PARTIAL: f"{name} can't be a lead: their most recent order is not Partial.",
        Skip.ALREADY_ASSIGNED: f"{name} already has an open lead with another Leads Agent; "
        "unassign it first.",
        Skip.UNCHANGED: f"{name} is already assigned to that Leads Agent.",
        Skip.RESOLVED: f"{name}'s lead was resolved after their most recent order; a new "
        "Partial order makes them a lead again.",
        Skip.NO_OPEN_LEAD: f"{name} has no open lead (resolved or unassigned meanwhile).",
        Skip.NOT_YOURS: f"The lead of {name} is another Leads Agent's.",
        Skip.MISSING: "This customer no longer exists.",
    }
    return ValidationError(messages[why], code=why.name.lower())


def lead_assign(*, company: Company, contact: Contact, agent: Agent, actor: Agent | None) -> Lead:
    outcome = leads_change(
        company=company, contact_ids=[contact.pk], change=Change.ASSIGN, agent=agent, actor=actor
    )
    if not outcome.changed:
        raise _refusal(outcome, contact)
    return outcome.changed[0]


def leads_assign_bulk(
    *, company: Company, contact_ids: Iterable[int], agent: Agent, actor: Agent | None
) -> Outcome:
    return leads_change(
        company=company, contact_ids=contact_ids, change=Change.ASSIGN, agent=agent, actor=actor
    )


def lead_unassign(*, lead: Lead, actor: Agent | None) -> Lead:
    outcome = leads_change(
        company=lead.company, contact_ids=[lead.contact_id], change=Change.UNASSIGN, actor=actor
    )
    if not outcome.changed:
        raise _refusal(outcome, lead.contact)
    return outcome.changed[0]


def lead_resolve(*, lead: Lead, disposition: Disposition | None, actor: Agent) -> Lead:
    outcome = leads_change(
        company=lead.company,
        contact_ids=[lead.contact_id],
        change=Change.RESOLVE,
        disposition=disposition,
        actor=actor,
    )
    if not outcome.changed:
        raise _refusal(outcome, lead.contact)
    return outcome.changed[0]
