"""Routing's reads: the facts the engine decides on, offers and rounds for pages, reports."""

import functools
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from agents.availability.rules import Availability, availability_of
from agents.models import Agent, Company
from agents.rawsql import convert_row, prepared_cursor
from agents.selectors import eligible_primary_agents
from contacts.models import Contact, PrimaryLoad, TimelineEntry

from . import engine
from .models import (
    Decision,
    GroupMember,
    Method,
    Offer,
    ReassignmentGroup,
    Round,
    RoutingRule,
    RuleMember,
)


# --- Facts for the engine -------------------------------------------------------------------
def member_agents(source: ReassignmentGroup | RoutingRule) -> list[Agent]:
    """The source's members who may own contacts of its company now, in membership order."""
    eligible = eligible_primary_agents(company=source.company)
    ids = list(source.members.order_by("added_at", "pk").values_list("agent_id", flat=True))
    by_id = {a.pk: a for a in eligible.filter(pk__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


def member_facts(
    company: Company,
    agents: list[Agent],
    *,
    with_last_assigned: bool = False,
    at: datetime | None = None,
) -> list[engine.Member]:
    """The engine's view of the members: their availability (out of office, off hours,
    presence, full: ``agents.availability.rules``, in that order), open primary contacts and
    (for least loaded, which breaks ties with it) when each was last assigned a contact.

    Statements: availability 1 (absences; holidays are on the company row) + 1 when anyone
    has a capacity (their open-item counters), the primary-contact counters 1, and the last
    assignments 1 with ``with_last_assigned`` — whatever the number of members."""
    ids = [a.pk for a in agents]
    if not ids:
        return []
    available = availability_of(company=company, agents=agents, at=at, channel=None)
    loads = dict(
        PrimaryLoad.objects.filter(company=company, agent_id__in=ids).values_list(
            "agent_id", "contacts"
        )
    )
    last: dict[int, datetime] = {}
    if with_last_assigned:
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
            presence=available[a.pk].status,
            load=loads.get(a.pk, 0),
            last_assigned=last[a.pk].timestamp() if a.pk in last else None,
            why=_member_why(available[a.pk]),
        )
        for a in agents
    ]


def _member_why(availability: Availability) -> str:
    # Away and offline keep the why log's one word ("away"); the others say until when
    # ("out of office until 2026-12-04 17:00 (cover: Ben Okafor)", "at capacity (5 of 5 …)").
    return availability.why if availability.status in engine.ALWAYS_SKIPPED else ""


def source_facts(
    source: ReassignmentGroup | RoutingRule, *, leaving: Agent | None = None
) -> tuple[list[engine.Member], dict[int, Agent]]:
    """The members the engine chooses among (without ``leaving``), and the agents by id."""
    agents = [a for a in member_agents(source) if leaving is None or a.pk != leaving.pk]
    members = member_facts(
        source.company, agents, with_last_assigned=source.method == Method.LEAST_LOADED
    )
    return members, {a.pk: a for a in agents}


def usable_default(source: ReassignmentGroup | RoutingRule) -> Agent | None:
    """The source's default assignee if they can own its company's contacts, else None."""
    if source.default_assignee_id is None:
        return None
    return (
        eligible_primary_agents(company=source.company)
        .filter(pk=source.default_assignee_id)
        .first()
    )


_RULE_FACTS = (
    "id", "sources", "channels", "tag", "has_phone", "has_email", "active_from", "active_until",
)  # fmt: skip


@functools.cache
def _rule_facts_sql(vendor: str) -> str:
    columns = ", ".join(
        connection.ops.quote_name(RoutingRule._meta.get_field(name).column) for name in _RULE_FACTS
    )
    return (
        f"SELECT {columns} FROM {connection.ops.quote_name(RoutingRule._meta.db_table)} "  # noqa: S608
        "WHERE company_id = %s AND NOT paused ORDER BY position, id"
    )


def rule_facts_in_order(*, company_id: int) -> list[engine.RuleFacts]:
    """The engine's view of the company's active routing rules, first to run first: plain
    values from a statement written once per process (a new number from the webhook reads
    them on every call; the ORM took longer to build the query than to run it)."""
    with prepared_cursor() as cursor:
        cursor.execute(_rule_facts_sql(connection.vendor), [company_id])
        rows = cursor.fetchall()
    facts = []
    for row in rows:
        pk, sources, channels, tag, has_phone, has_email, active_from, active_until = convert_row(
            RoutingRule, _RULE_FACTS, row
        )
        facts.append(
            engine.RuleFacts(
                id=pk,
                sources=engine.csv_set(sources),
                channels=engine.csv_set(channels),
                tag=tag.strip().lower(),
                has_phone=has_phone,
                has_email=has_email,
                active_from=active_from,
                active_until=active_until,
            )
        )
    return facts


def contact_facts(contact: Contact) -> engine.ContactFacts:
    return engine.ContactFacts(
        source=contact.source or "",
        tags=tuple(contact.tag_list),
        has_phone=bool(contact.phone),
        has_email=bool(contact.email),
    )


# --- Pages ----------------------------------------------------------------------------------
def open_offers(*, agent, company) -> QuerySet[Offer]:
    return (
        Offer.objects.filter(
            agent=agent,
            status=Offer.Status.OPEN,
            round__company=company,
            round__status=Round.Status.OPEN,
            expires_at__gt=timezone.now(),
        )
        .select_related("round__contact", "round__group", "round__rule")
        .order_by("expires_at", "pk")
    )


def open_round(*, contact) -> Round | None:
    return (
        Round.objects.filter(contact=contact, status=Round.Status.OPEN)
        .select_related("group", "rule")
        .prefetch_related("offers__agent")
        .first()
    )


def company_groups(*, company) -> QuerySet[ReassignmentGroup]:
    return ReassignmentGroup.objects.filter(company=company).order_by("name")


def _with_members(queryset, member_model):
    members = member_model.objects.select_related("agent").order_by("added_at", "pk")
    return queryset.select_related("default_assignee").prefetch_related(
        Prefetch("members", queryset=members)
    )


def groups_with_members(*, company) -> QuerySet[ReassignmentGroup]:
    """The company's groups with their default assignee and members (in the order added)."""
    return _with_members(company_groups(company=company), GroupMember)


def rules_with_members(*, company) -> QuerySet[RoutingRule]:
    """The company's routing rules, in the order they are tried, with their members."""
    return _with_members(RoutingRule.objects.filter(company=company), RuleMember)


def company_group(*, company, pk: int | None) -> ReassignmentGroup | None:
    """The company's group with this id; None for another company's, a missing one or none."""
    return company_groups(company=company).filter(pk=pk).first() if pk is not None else None


def rounds_due(*, limit: int = 500) -> list[int]:
    """Open rounds past their deadline, oldest first (the sweep finishes them)."""
    return list(
        Round.objects.filter(status=Round.Status.OPEN, deadline_at__lte=timezone.now())
        .order_by("deadline_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- Reports --------------------------------------------------------------------------------
def fairness(*, group: ReassignmentGroup, since: datetime, until: datetime) -> dict:
    """Contacts per member over a period: share against an equal share, and the spread.

    Counts the decisions that gave someone the contact (an offer gives nobody anything)."""
    counts = dict(
        Decision.objects.filter(
            group=group, chosen__isnull=False, created_at__gte=since, created_at__lt=until
        )
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


def group_simulate(
    *, group: ReassignmentGroup, count: int, everyone_available: bool = False
) -> list[Agent | None]:
    """Who the next ``count`` contacts would go to (or be offered first), changing nothing.

    With everyone's availability as it is now (a group whose members are offline or out of
    office shows the default assignee, or the one member available, every time), or
    ``everyone_available`` (as if nobody were away, out of office, off hours or full)."""
    group = ReassignmentGroup.objects.select_related("company", "default_assignee").get(pk=group.pk)
    members, by_id = source_facts(group)
    if everyone_available:
        members = [replace(m, presence=engine.AVAILABLE, why="") for m in members]
    winners = engine.simulate(
        group.method,
        members,
        engine.Rotation.from_dict(group.rotation),
        count,
        skip_unavailable=group.skip_unavailable and not everyone_available,
    )
    default = usable_default(group)
    return [by_id.get(p) if p is not None else default for p in winners]


class GroupNow(NamedTuple):
    """The group's members now (``member_agents``), those a contact sent now would be
    offered or go to, and those it would pass over with why."""

    members: list[Agent]
    reachable: list[Agent]
    skipped: list[tuple[Agent, str]]


def group_now(*, group: ReassignmentGroup) -> GroupNow:
    """The members a contact sent through the group now would pass over for their
    availability, with it ("away", "out of office until 2026-12-04 17:00 (cover: Ben
    Okafor)"): why a simulation can show one name over and over; and the others (a first-to-
    claim group offers it to all of them at once). The same facts as a real round
    (``member_facts``)."""
    agents = member_agents(group)
    members = member_facts(group.company, agents)
    by_id = {a.pk: a for a in agents}
    skipped = []
    for member in members:
        why = engine.unavailable_reason(member, group.skip_unavailable)
        if why:
            skipped.append((by_id[member.id], why.removeprefix("skipped: ")))
    passed = {agent.pk for agent, _ in skipped}
    return GroupNow(agents, [a for a in agents if a.pk not in passed], skipped)
