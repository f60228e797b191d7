"""Reads for the Lead Center and the workload page, with their joins already applied."""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    Func,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents import zones
from agents.availability import rules
from agents.centers.models import CenterMembership
from agents.models import AccessLevel, Agent, Company, Presence
from agents.phone import try_normalise_phone
from agents.selectors import effective_presence_expression, eligible_primary_agents

from .models import Contact, ContactSearch, Interaction, PrimaryLoad, TimelineEntry

INBOX_LIMIT = 100
SEARCH_LIMIT = 50


def inbox_mine(*, agent: Agent, company: Company) -> QuerySet[Interaction]:
    return (
        Interaction.objects.filter(company=company, routed_to=agent, status=Interaction.Status.OPEN)
        .select_related("contact", "taken_by", "covering_for")
        .order_by("-created_at", "-pk")
    )


def visible_to(agent: Agent) -> Q:
    """Active items an agent may see and take: the company's, and those of a contact center
    only for its members."""
    return Q(center__isnull=True) | Q(
        center__in=CenterMembership.objects.filter(agent=agent).values("center_id")
    )


def inbox_active(*, company: Company, agent: Agent | None = None) -> QuerySet[Interaction]:
    """The Active pool (for ``agent``: what they may take; without: all of it, e.g. counts)."""
    items = Interaction.objects.filter(
        company=company,
        pool=Interaction.Pool.ACTIVE,
        routed_to__isnull=True,
        status=Interaction.Status.OPEN,
    )
    if agent is not None:
        items = items.filter(visible_to(agent))
    return items.select_related("contact", "contact__primary_agent", "center").order_by(
        "-created_at", "-pk"
    )


def inbox_counts(*, company: Company, agent: Agent) -> tuple[int, int]:
    """What the agent may take in Active, and the company's capacity queue (items every agent
    who could take them is too full for: handed out, never taken), in one statement."""
    counts = Interaction.objects.filter(
        company=company,
        routed_to__isnull=True,
        status=Interaction.Status.OPEN,
        pool__in=[Interaction.Pool.ACTIVE, Interaction.Pool.QUEUE],
    ).aggregate(
        active=Count("pk", filter=Q(pool=Interaction.Pool.ACTIVE) & visible_to(agent)),
        queue=Count("pk", filter=Q(pool=Interaction.Pool.QUEUE)),
    )
    return counts["active"], counts["queue"]


# Where an agent's name appears, these say why work does not go to them now; presence
# (Away, Offline) has its own label beside the name and "full" is the workload page's bar.
NAME_STATUSES = (rules.OUT_OF_OFFICE, rules.OFF_HOURS)


def availability_by_agent(
    *, company: Company, agents: Iterable[Agent | None]
) -> dict[int, rules.Availability]:
    """The availability of every agent a page names (duplicates and None left out), in ONE
    statement whatever their number: their absences now (hours and holidays are on the rows
    already read; capacity is not asked)."""
    unique = {a.pk: a for a in agents if a is not None}
    return rules.availability_of(company=company, agents=unique.values(), with_capacity=False)


def name_note(availability: rules.Availability | None) -> str:
    """The words beside an agent's name: "out of office until Fri 17:00", "off hours until
    09:00"; "" when neither."""
    if availability is None or availability.status not in NAME_STATUSES:
        return ""
    label = availability.label
    return label[:1].lower() + label[1:]


def my_contacts(*, agent: Agent, company: Company) -> QuerySet[Contact]:
    return Contact.objects.filter(company=company, primary_agent=agent).order_by("name", "pk")


def search_matches(*, company: Company | None, query: Q, all_companies: bool = False) -> QuerySet:
    """The ids of the company's contacts whose name, e-mail or phone match ``query`` (a ``Q``
    over those three), for a ``pk__in``: looked up in the searches' own table, where the
    trigram indexes are (``ContactSearch``). Every company's only when asked by name
    (``all_companies``: a superuser's admin); ``company=None`` without it matches nothing."""
    matches = ContactSearch.objects.filter(query)
    if not all_companies:
        matches = matches.filter(company=company) if company is not None else matches.none()
    return matches.values("contact_id")


def text_query(term: str, *, by_phone: bool = True) -> Q:
    """A name or e-mail containing ``term``, or (``by_phone``) a phone containing its digits
    when it has four or more."""
    query = Q(name__icontains=term) | Q(email__icontains=term)
    digits = "".join(ch for ch in term if ch.isdigit())
    if by_phone and len(digits) >= 4:
        query |= Q(phone__icontains=digits)  # the index's expression; digits fold to themselves
    return query


def contact_search(*, company: Company, term: str) -> QuerySet[Contact]:
    """Contacts of the company matching a number (any spelling) or a name."""
    term = term.replace("\x00", "").strip()
    contacts = Contact.objects.filter(company=company).select_related("primary_agent")
    phone = try_normalise_phone(term, region=company.default_region)
    if phone:
        return contacts.filter(phone=phone)
    matches = search_matches(company=company, query=text_query(term))
    return contacts.filter(pk__in=matches).order_by("name", "pk")


def contact_page(*, company: Company, pk: int) -> Contact | None:
    return Contact.objects.filter(company=company, pk=pk).select_related("primary_agent").first()


def contact_interactions(*, contact: Contact) -> QuerySet[Interaction]:
    return contact.interactions.select_related("routed_to", "taken_by", "covering_for").order_by(
        "-created_at", "-pk"
    )


def contact_timeline(*, contact: Contact) -> QuerySet[TimelineEntry]:
    return contact.timeline.select_related("actor", "agent").order_by("-created_at", "-pk")


# --- Workload -----------------------------------------------------------------------------
@dataclass
class WorkloadRow:
    agent: Agent
    presence: str
    primary: int
    open: int
    taken_today: int
    assigned: int  # primary-agent assignments in the chosen period
    share: float | None = None  # primary contacts against the agents' average: 1.0 = average
    overloaded: bool = False


WORKLOAD_SORTS = {
    "name": ("full_name", "email"),
    "presence": ("presence_now", "full_name"),
    "primary": ("primary_count", "full_name"),
    "open": ("open_count", "full_name"),
    "taken": ("taken_today", "full_name"),
    "assigned": ("assigned_count", "full_name"),
}

# The "assigned" columns: label and how far back they count (None: since local midnight).
WORKLOAD_PERIODS = {
    "today": ("today", None),
    "7d": ("last 7 days", timedelta(days=7)),
    "30d": ("last 30 days", timedelta(days=30)),
}
# More primary contacts than the agents' average by this share is flagged as overloaded.
OVERLOAD_ABOVE_AVERAGE = 0.20


def _count(queryset: QuerySet, group: str) -> Coalesce:
    counted = queryset.order_by().values(group).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def start_of_today(company: Company) -> datetime:
    local = zones.local(timezone.now(), company.time_zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def workload_since(*, company: Company, period: str) -> datetime:
    back = WORKLOAD_PERIODS.get(period, WORKLOAD_PERIODS["today"])[1]
    return start_of_today(company) if back is None else timezone.now() - back


def load_annotations(*, company: Company) -> dict:
    """An agent queryset's annotations for what they carry in ``company`` (the workload
    page's numbers): ``presence_now`` (effective presence), ``primary_count`` (primary
    contacts) and ``open_count`` (open interactions routed to them); no query of their own."""
    return {
        "presence_now": effective_presence_expression(),
        "primary_count": Coalesce(
            Subquery(
                PrimaryLoad.objects.filter(company=company, agent=OuterRef("pk")).values(
                    "contacts"
                )[:1]
            ),
            Value(0),
        ),
        "open_count": _count(_open_items(company).filter(routed_to=OuterRef("pk")), "routed_to"),
    }


def taken_today_annotation(*, company: Company) -> Coalesce:
    """An agent queryset's annotation: the items they took today (the company's day)."""
    return _count(_taken_today(company).filter(taken_by=OuterRef("pk")), "taken_by")


def _open_items(company: Company) -> QuerySet[Interaction]:
    """The company's open items (an agent's open count: those routed to them)."""
    return Interaction.objects.filter(company=company, status=Interaction.Status.OPEN)


def _taken_today(company: Company) -> QuerySet[Interaction]:
    """The company's items taken today, its own day (an agent's: those they took)."""
    return Interaction.objects.filter(company=company, taken_at__gte=start_of_today(company))


def member_loads(
    *, company: Company, agent_ids: Iterable[int] | QuerySet
) -> dict[int, tuple[int, int, int]]:
    """Primary contacts, open items and calls taken today of each of ``agent_ids`` (ids, or a
    queryset of them) who may own contacts (agent id → the three; a center's dashboard): the
    workload page's numbers, counted as ``load_annotations`` and ``taken_today_annotation``
    count them, in one statement of four parts — who of them may own contacts, their
    counters, and the company's open and taken-today items counted once, grouped by agent.
    (Counted per agent, as the workload page's subqueries do, a 500-member center read the
    company's open items 500 times, and the planner's estimate of that set PostgreSQL's JIT
    compiling for each render: 97 ms and 266 ms on the bench's data.)"""
    members = agent_ids if isinstance(agent_ids, QuerySet) else list(agent_ids)
    kind = functools.partial(Value, output_field=CharField())

    def per_agent(items: QuerySet[Interaction], what: str, agent: str) -> QuerySet:
        return items.order_by().values_list(kind(what), agent).annotate(n=Count("*"))

    parts = [
        eligible_primary_agents(company=company)
        .filter(pk__in=members)
        .order_by()
        .values_list(kind("eligible"), "pk", Value(0)),
        PrimaryLoad.objects.filter(company=company, agent_id__in=members)
        .order_by()
        .values_list(kind("primary"), "agent_id", "contacts"),
        # (the company's open items, all of them: by the members they were read in the
        # routed-to index's order end to end, 100 ms on the bench's data; the company's
        # open items by the pool index, 1 ms)
        per_agent(_open_items(company).filter(routed_to__isnull=False), "open", "routed_to_id"),
        per_agent(_taken_today(company).filter(taken_by_id__in=members), "taken", "taken_by_id"),
    ]
    counts: dict[str, dict[int, int]] = {"eligible": {}, "primary": {}, "open": {}, "taken": {}}
    for what, agent_id, n in parts[0].union(*parts[1:], all=True):
        counts[what][agent_id] = n
    return {
        pk: (counts["primary"].get(pk, 0), counts["open"].get(pk, 0), counts["taken"].get(pk, 0))
        for pk in counts["eligible"]
    }


def workload(*, company: Company, sort: str = "name", period: str = "today") -> list[WorkloadRow]:
    """One row per agent of the company, in one query whatever the number of agents."""
    key = sort.lstrip("-")
    fields = WORKLOAD_SORTS.get(key, WORKLOAD_SORTS["name"])
    descending = sort.startswith("-")
    order = [f"-{fields[0]}" if descending else fields[0], *fields[1:]]
    since = workload_since(company=company, period=period)
    agents = eligible_primary_agents(company=company).annotate(
        **load_annotations(company=company),
        taken_today=taken_today_annotation(company=company),
        assigned_count=_count(
            TimelineEntry.objects.filter(
                company=company,
                kind__in=[TimelineEntry.Kind.PRIMARY_ASSIGNED, TimelineEntry.Kind.PRIMARY_CHANGED],
                agent=OuterRef("pk"),
                created_at__gte=since,
            ),
            "agent",
        ),
    )
    return [
        WorkloadRow(
            agent=a,
            presence=a.presence_now,
            primary=a.primary_count,
            open=a.open_count,
            taken_today=a.taken_today,
            assigned=a.assigned_count,
        )
        for a in agents.order_by(*order)
    ]


def workload_totals(*, company: Company, rows: list[WorkloadRow]) -> dict:
    """Team totals over every row, and the availability of the same people the rows show.

    The average, the spread (max − min primary contacts) and the overload flags compare
    against the agents only: admins and supervisors are listed, since they may own contacts,
    but their usual zeros would pull the average down and flag an even team as overloaded.
    Sets each row's ``share`` and ``overloaded``."""
    agents_only = [r for r in rows if r.agent.access_level == AccessLevel.AGENT] or rows
    primaries = [r.primary for r in agents_only]
    average = sum(primaries) / len(primaries) if primaries else 0.0
    for row in rows:
        row.share = row.primary / average if average else None
        row.overloaded = bool(average) and row.primary > average * (1 + OVERLOAD_ABOVE_AVERAGE)
    return {
        "primary": sum(r.primary for r in rows),
        "open": sum(r.open for r in rows),
        "taken_today": sum(r.taken_today for r in rows),
        "assigned": sum(r.assigned for r in rows),
        "available": sum(1 for r in rows if r.presence == Presence.AVAILABLE),
        "people": len(rows),
        "average": average,
        "spread": (max(primaries) - min(primaries)) if primaries else 0,
        "waiting": inbox_active(company=company).count(),
    }


def held_book_count(*, company: Company, agent: Agent) -> int:
    """How many of the agent's contacts are *Re-Assign in progress* (a handover leaves them)."""
    return Contact.objects.filter(
        company=company, primary_agent=agent, reassign_hold__isnull=False
    ).count()


# --- A center's calls (its dashboard) --------------------------------------
# The ring activity names the first few a call rang and counts the rest: a 500-member center's
# every call rang hundreds, and 20 calls of 500 names each were 10,000 names on the page, its
# template's loop most of its time. On PostgreSQL the database counts each list and cuts its
# first entries off for the 20 calls only (0.8 ms, against 4.4 ms to send the 20 lists of
# 50 KB and 21 ms to decode them); elsewhere the lists are read and cut here.
RING_NAMES_SHOWN = 5


def center_recent_calls(*, center, limit: int = 20) -> list[Interaction]:
    """The center's latest calls and chats, with the size of the ring list each computed
    (``ring_size``), the names of its first ``RING_NAMES_SHOWN`` entries (``ring_names``) and
    how many more it rang (``ring_more``), and who took it (one query: the index on
    ``center, -created_at``). Ring outcomes (``RingEvent``) exist only once someone answers;
    a call that rang and still waits is here all the same."""
    calls = (
        Interaction.objects.filter(center=center)
        .select_related("contact", "taken_by")
        .order_by("-created_at", "-pk")
    )
    if connection.vendor == "postgresql":
        latest = calls.values("pk")[:limit]
        calls = list(
            # (the size and head of only those 20: a function of the list in the select
            # list runs for every call of the center before the sort keeps 20)
            calls.filter(pk__in=Subquery(latest))
            .defer("ring")
            .annotate(ring_size=_RingSize("ring"), ring_head=_RingHead("ring"))
        )
    else:
        calls = list(calls[:limit])
        for call in calls:
            ring = call.ring if isinstance(call.ring, list) else []
            call.ring_size, call.ring_head = len(ring), ring[:RING_NAMES_SHOWN]
    for call in calls:
        # (an entry's name; rings of before names were kept name only the agent)
        head = call.ring_head if isinstance(call.ring_head, list) else []
        shown = (e for e in head if isinstance(e, dict))
        call.ring_names = [str(name) for e in shown if (name := e.get("name") or e.get("agent"))]
        call.ring_more = max(0, call.ring_size - len(call.ring_names))
    return calls


class _RingSize(Func):
    template = "jsonb_array_length(%(expressions)s)"
    output_field = IntegerField()


class _RingHead(Func):
    template = f"jsonb_path_query_array(%(expressions)s, '$[0 to {RING_NAMES_SHOWN - 1}]')"
    output_field = JSONField()


def center_live_call_agents(*, center, agent_ids=None) -> set[int]:
    """Members with a call or chat of this center in hand now: they took it and it is not
    handled yet (one query). Only they can be listened in on, barged in on or taken over."""
    live = Interaction.objects.filter(
        center=center, status=Interaction.Status.OPEN, taken_by__isnull=False
    )
    if agent_ids is not None:
        live = live.filter(taken_by_id__in=list(agent_ids))
    return set(live.values_list("taken_by_id", flat=True).distinct())
