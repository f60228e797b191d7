"""An agent who leaves: deactivation that strands nothing (issue 21, §4).

``agent_deactivate`` is one orchestrated step over each app's own service: it checks every
choice first, deactivates the agent, then moves what they had in each company they work for:
their agent-owned campaign records to the campaign's error page, their book (through a
reassignment group, or to one agent), their open leads (unassigned, or to one Leads Agent),
their open offers (withdrawn) and their open items (back to *Active*). Desk holds no rule of
its own here: each move is its app's service, and this module only orders them.

Transactions. Each move is its own service's transaction, in this order, not one transaction
for all: the lock order (``agents/lockorder.py``) puts a book's group and contacts and their
counters before leads, and leads' customers are contacts again (contact → lead), so a book
and the leads cannot be moved in one transaction without going back down the order; and a
book of 100,000 contacts (one round each when its group offers them) is a path of its own
that must not hold everything else's locks meanwhile. So:

1. the agent is deactivated first, in a transaction of its own (their row locked): from
   its commit on no path picks them (every path reads ``is_active``), so nothing new
   arrives while their work is moved away;
2. then each move commits by itself. Every move is safe to run again (each service acts on
   what the agent *still* has), so a move that failed — the page shows what is left — is
   finished by running the page again for the inactive agent.

Every choice is checked before step 1 (a group of another company, a target who cannot own
contacts, a claim-based group with no default assignee...): a refusal changes nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from agents.locks import lock_agents
from agents.models import Agent, Company
from campaigns import services as campaign_services
from campaigns.selectors import pending_records_by_agent
from contacts import queue
from contacts.ownership import contacts_set_primary_agent, primary_agents_check
from contacts.selectors import held_book_count, inbox_mine, my_contacts
from events.payloads import Mass, OwnerMethod
from leads.selectors import open_leads
from leads.services import Change, leads_agent_check, leads_change
from routing.handover import agent_book_handover
from routing.models import Method, Offer, ReassignmentGroup
from routing.rounds import group_member_removed
from routing.selectors import usable_default

__all__ = [
    "CompanyReport",
    "Holdings",
    "LeaverReport",
    "Plan",
    "agent_deactivate",
    "agent_deactivate_check",
    "leaver_holdings",
]

CLAIM_BASED = (Method.FIRST_TO_CLAIM, Method.NEXT_UP)


@dataclass(frozen=True)
class Holdings:
    """What an agent has in one company: what the deactivation page lists."""

    company: Company
    contacts: int
    held: int  # of those, Re-Assign in progress (a round of someone else's decides them)
    items: int
    leads: int
    records: int

    @property
    def nothing(self) -> bool:
        return not (self.contacts or self.items or self.leads or self.records)


def leaver_holdings(*, company: Company, agent: Agent) -> Holdings:
    """Five counts (one statement each; the records' count is the workload page's read)."""
    return Holdings(
        company=company,
        contacts=my_contacts(agent=agent, company=company).count(),
        held=held_book_count(company=company, agent=agent),
        items=inbox_mine(agent=agent, company=company).count(),
        leads=open_leads(company=company, agent=agent).count(),
        records=pending_records_by_agent(company).get(agent.pk, 0),
    )


@dataclass(frozen=True)
class Plan:
    """What happens to an agent's work in one company: their book through ``book_to_group``
    or to ``book_to_agent`` (one of them, when they own contacts), their open leads to
    ``leads_to`` (None: unassigned)."""

    company: Company
    book_to_group: ReassignmentGroup | None = None
    book_to_agent: Agent | None = None
    leads_to: Agent | None = None


@dataclass
class CompanyReport:
    company: Company
    book_how: str = ""  # "through group “Closers” (round robin)", "to Ben Okafor"
    contacts_moved: int = 0  # given to someone now
    contacts_offered: int = 0  # in a round of a claim-based group (claimed, else the default)
    contacts_cleared: int = 0  # nobody in the group could take them: no primary agent now
    items_released: int = 0
    leads_unassigned: int = 0
    leads_handed: int = 0
    leads_to: Agent | None = None
    records_listed: int = 0
    offers_withdrawn: int = 0
    left: Holdings | None = None  # what is still theirs afterwards (a move that failed, a race)

    def lines(self) -> list[str]:
        """The result, as the admin's message says it."""
        # (count, what it says after the number), in the order the message tells them
        moves = [
            (self.contacts_moved, f"contact(s) handed over {self.book_how}"),
            (
                self.contacts_offered,
                f"contact(s) offered {self.book_how} (each goes to whoever claims it, else to "
                "the group's default assignee)",
            ),
            (
                self.contacts_cleared,
                "contact(s) nobody in the group could take now left without a primary agent "
                "(their texts and forms go to Active)",
            ),
            (self.items_released, "open item(s) moved to Active"),
            (self.leads_handed, f"open lead(s) handed to {self.leads_to}"),
            (self.leads_unassigned, "open lead(s) unassigned"),
            (
                self.records_listed,
                "campaign record(s) listed on their campaigns' error pages (owner deactivated)",
            ),
            (self.offers_withdrawn, "open offer(s) withdrawn"),
        ]
        return [f"{count} {what}" for count, what in moves if count]


@dataclass
class LeaverReport:
    agent: Agent
    companies: list[CompanyReport] = field(default_factory=list)

    @property
    def stranded(self) -> list[Holdings]:
        """What the agent still has anywhere, a round still deciding aside."""
        return [r.left for r in self.companies if r.left is not None and _stranded(r)]


def _stranded(report: CompanyReport) -> bool:
    left = report.left
    owned = left.contacts - left.held  # a held contact is in a round that gives it away
    return bool(owned > 0 or left.items or left.leads or left.records)


# --- The checks, before anything changes ----------------------------------------------------
def agent_deactivate_check(*, agent: Agent, plans: Sequence[Plan], actor: Agent | None) -> None:
    """Refuse, with a sentence a person understands, any plan that would leave something with
    the agent once they can no longer log in. Raises ``ValidationError`` keyed by
    ``"<company id>-<field>"`` (the page's field prefixes), or unkeyed."""
    if actor is not None and actor.pk == agent.pk:
        raise ValidationError("You cannot deactivate yourself: ask another admin.")
    by_superuser = actor is not None and actor.is_superuser
    if agent.is_superuser and not by_superuser:
        raise ValidationError(f"{agent} is a superuser: a superuser deactivates superusers.")
    covered = {p.company.pk for p in plans}
    missing = list(agent.companies.exclude(pk__in=covered).order_by("name"))
    if missing:
        # (another company's name is told to superusers only: an admin of one company does
        # not learn who else an agent works for)
        names = ", ".join(str(c) for c in missing) if by_superuser else "another company"
        raise ValidationError(
            f"{agent} also works for {names}. Deactivating ends their work in every company, "
            "so say what happens to their work there too (an admin of every one of their "
            "companies, or a superuser, can)."
        )
    errors: dict[str, list[str]] = {}
    for plan in plans:
        for key, message in _plan_problems(agent=agent, plan=plan):
            errors.setdefault(f"{plan.company.pk}-{key}", []).append(message)
    if errors:
        raise ValidationError(errors)


def _plan_problems(*, agent: Agent, plan: Plan) -> list[tuple[str, str]]:
    company, group, target = plan.company, plan.book_to_group, plan.book_to_agent
    has = leaver_holdings(company=company, agent=agent)
    problems: list[tuple[str, str]] = []
    if has.held:
        # A round started by someone else decides those contacts; should nobody take one,
        # its owner would stay — the leaver. Let those rounds finish first.
        problems.append(
            (
                "book",
                f"{has.held} of {agent}'s contacts are being re-assigned (Re-Assign in "
                "progress). Wait until those re-assignments finish (at most their group's "
                "claim window), then deactivate.",
            )
        )
    if group is not None and target is not None:
        problems.append(("book", "Choose a reassignment group or one agent, not both."))
    elif has.contacts and group is None and target is None:
        problems.append(
            (
                "book",
                f"{agent} is the primary agent of {has.contacts} contact(s) of {company}: "
                "choose a reassignment group or one agent to hand them to.",
            )
        )
    elif group is not None:
        if group.company_id != company.pk:
            problems.append(
                ("book_to_group", "That reassignment group belongs to another company.")
            )
        elif group.method in CLAIM_BASED:
            default = usable_default(group)
            if default is None or default.pk == agent.pk:
                problems.append(
                    (
                        "book_to_group",
                        f"Group “{group.name}” offers contacts ({group.get_method_display()})"
                        " and has no default assignee who can take them: a contact nobody "
                        f"claims would stay with {agent}, who can no longer log in. Give the "
                        "group a default assignee, or choose a round robin or least loaded "
                        "group, or one agent.",
                    )
                )
    elif target is not None:
        if target.pk == agent.pk:
            problems.append(("book_to_agent", f"Choose someone other than {agent}."))
        else:
            try:
                primary_agents_check(company=company, agents=[target])
            except ValidationError as error:
                problems.append(("book_to_agent", " ".join(error.messages)))
    if plan.leads_to is not None:
        if plan.leads_to.pk == agent.pk:
            problems.append(("leads_to", f"Choose someone other than {agent}."))
        else:
            try:
                leads_agent_check(company=company, agent=plan.leads_to)
            except ValidationError as error:
                problems.append(("leads_to", " ".join(error.messages)))
    return problems


# --- The step ---------------------------------------------------------------------------------
def agent_deactivate(
    *,
    company: Company,
    agent: Agent,
    book_to_group: ReassignmentGroup | None = None,
    book_to_agent: Agent | None = None,
    leads_to: Agent | None = None,
    actor: Agent | None,
    elsewhere: Sequence[Plan] = (),
) -> LeaverReport:
    """Deactivate ``agent`` and move everything they have in ``company`` (and, by
    ``elsewhere``, in each other company they work for: ``is_active`` is one flag for all
    their companies, so every one of them must be covered) — see the module's docstring for
    the order and the transactions. Refuses (``ValidationError``, nothing changed) a plan
    that would strand anything. An agent already inactive is not refused: the moves run
    again, which finishes a deactivation a failed move had left unfinished."""
    plans = [
        Plan(company=company, book_to_group=book_to_group, book_to_agent=book_to_agent,
             leads_to=leads_to),
        *[p for p in elsewhere if p.company.pk != company.pk],
    ]  # fmt: skip
    return agent_deactivate_plans(agent=agent, plans=plans, actor=actor)


def agent_deactivate_plans(
    *, agent: Agent, plans: Sequence[Plan], actor: Agent | None
) -> LeaverReport:
    """``agent_deactivate`` with a plan per company (none for an agent of no company: there
    is nothing to hand over)."""
    agent_deactivate_check(agent=agent, plans=plans, actor=actor)
    _deactivate(agent)
    report = LeaverReport(agent=agent)
    for plan in plans:
        report.companies.append(_move_work(agent=agent, plan=plan, actor=actor))
    _withdraw_offers(agent=agent, report=report)
    for part in report.companies:
        part.left = leaver_holdings(company=part.company, agent=agent)
    return report


@transaction.atomic
def _deactivate(agent: Agent) -> None:
    # The row lock orders this after any save of the agent in flight (the centers' limit,
    # an absence being added); ``update`` leaves their access level's groups as they are,
    # so reactivating them later gives them back what they had.
    lock_agents([agent.pk])
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    agent.is_active = False


def _move_work(*, agent: Agent, plan: Plan, actor: Agent | None) -> CompanyReport:
    company = plan.company
    report = CompanyReport(company=company)
    # Records first: they are the lowest locks (campaign, entry) and need no choice.
    report.records_listed = campaign_services.campaign_records_owner_left(
        company=company, agent=agent
    )
    _move_book(agent=agent, plan=plan, actor=actor, report=report)
    _move_leads(agent=agent, plan=plan, actor=actor, report=report)
    # Items last: anything routed to them until the deactivation committed is caught here.
    report.items_released = queue.interactions_release(
        company=company, agent=agent, reason=f"{agent} was deactivated", actor=actor
    )
    return report


def _move_book(*, agent: Agent, plan: Plan, actor: Agent | None, report: CompanyReport) -> None:
    company = plan.company
    if plan.book_to_agent is not None:
        target = plan.book_to_agent
        report.book_how = f"to {target}"
        ids = list(my_contacts(agent=agent, company=company).values_list("pk", flat=True))
        if ids:
            outcome = contacts_set_primary_agent(
                company=company,
                targets=dict.fromkeys(ids, target),
                actor=actor,
                reason=f"{agent} was deactivated; their contacts went to {target}",
                expected_owner=agent,
                method=OwnerMethod.HANDOVER,
                mass=Mass.HANDOVER,
            )
            report.contacts_moved = outcome.changed
        return
    group = plan.book_to_group
    if group is None:
        return
    report.book_how = f"through group “{group.name}” ({group.get_method_display().lower()})"
    handed = agent_book_handover(company=company, agent=agent, group=group, actor=actor)
    if group.method in CLAIM_BASED:
        report.contacts_offered = handed
        return
    report.contacts_moved = handed
    # Round robin and least loaded give a contact to nobody when no member is available and
    # the group has no default assignee: such a contact must not stay with the leaver.
    left = list(
        my_contacts(agent=agent, company=company)
        .filter(reassign_hold__isnull=True)
        .values_list("pk", flat=True)
    )
    if left:
        outcome = contacts_set_primary_agent(
            company=company,
            targets=dict.fromkeys(left, None),
            actor=actor,
            reason=f"{agent} was deactivated and nobody in group “{group.name}” could take "
            "it, so it has no primary agent now",
            expected_owner=agent,
            method=OwnerMethod.HANDOVER,
            mass=Mass.HANDOVER,
        )
        report.contacts_cleared = outcome.changed


@transaction.atomic
def _move_leads(*, agent: Agent, plan: Plan, actor: Agent | None, report: CompanyReport) -> None:
    """Unassign, then (in the same transaction, so no page sees them unassigned between) hand
    to ``leads_to``: the one lead path refuses to assign a customer who has an open lead."""
    contact_ids = list(
        open_leads(company=plan.company, agent=agent).values_list("contact_id", flat=True)
    )
    if not contact_ids:
        return
    reason = f"{agent} was deactivated"
    unassigned = leads_change(
        company=plan.company,
        contact_ids=contact_ids,
        change=Change.UNASSIGN,
        actor=actor,
        only_agent=agent,
        reason=reason,
    )
    freed = [lead.contact_id for lead in unassigned.changed]
    report.leads_unassigned = len(freed)
    if plan.leads_to is None or not freed:
        return
    handed = leads_change(
        company=plan.company,
        contact_ids=freed,
        change=Change.ASSIGN,
        actor=actor,
        agent=plan.leads_to,
        reason=f"{reason}; their open leads went to {plan.leads_to}",
    )
    report.leads_to = plan.leads_to
    report.leads_handed = len(handed.changed)
    report.leads_unassigned -= report.leads_handed


def _withdraw_offers(*, agent: Agent, report: LeaverReport) -> None:
    """Their open offers close at once (a round left with no open offer moves on in the
    worker), as when a member leaves a group, instead of waiting out the window."""
    sources = (
        Offer.objects.filter(agent=agent, status=Offer.Status.OPEN)
        .values_list("round__group_id", "round__rule_id", "round__company_id")
        .distinct()
    )
    by_company = {part.company.pk: part for part in report.companies}
    for group_id, rule_id, company_id in list(sources):
        part = by_company.get(company_id)
        # (a round whose group or rule was deleted names no source: withdrawing "the member's
        # offers of no group" would reach their offers of every group, unlocked; such a round
        # ends by the sweep at its deadline, the offer with it)
        if part is None or (group_id is None and rule_id is None):
            continue
        before = Offer.objects.filter(agent=agent, status=Offer.Status.OPEN).count()
        with transaction.atomic():
            group_member_removed(agent_id=agent.pk, group_id=group_id, rule_id=rule_id)
        after = Offer.objects.filter(agent=agent, status=Offer.Status.OPEN).count()
        part.offers_withdrawn += before - after
