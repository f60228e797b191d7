"""Reads of contact centers, with their joins applied (constant queries per page)."""

import functools
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.db import connection
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from .. import zones
from ..availability.models import Absence, ItemLoad
from ..availability.rules import (
    AVAILABLE,
    Availability,
    Load,
    capacity_of,
    company_holidays,
    decide,
    schedule_of,
)
from ..models import Agent, Company, Presence
from ..rawsql import convert_row, instance_from_row, prepared_cursor
from ..selectors import seen_since
from .facts import CenterFacts, DeviceFact, MemberFact
from .models import (
    AgentLine,
    CallType,
    CenterMembership,
    ContactCenter,
    Device,
    License,
    QueueItem,
    SkillRank,
)


def company_centers(*, company: Company, inactive: bool = False) -> QuerySet[ContactCenter]:
    """The company's active centers (with ``inactive``, also the deactivated ones)."""
    centers = ContactCenter.objects.filter(company=company)
    if not inactive:
        centers = centers.filter(is_active=True)
    return centers.order_by("name")


@functools.cache
def _center_by_name_or_id_sql(vendor: str) -> str:
    # Written out once per process (the webhook looks the center up on every call to it).
    # A name (case-insensitively, as ``name__iexact``) wins over an id; of names differing
    # only in case, the first by name as the model's ordering gives.
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in ContactCenter._meta.concrete_fields)
    table = quote(ContactCenter._meta.db_table)
    return f"""
        SELECT {columns} FROM {table}
        WHERE company_id = %s AND (UPPER(name) = UPPER(%s) OR id = %s)
        ORDER BY UPPER(name) = UPPER(%s) DESC, name, id
        LIMIT 1"""  # noqa: S608 - names only


def center_by_name_or_id(*, company: Company, name_or_id: str) -> ContactCenter | None:
    """The company's contact center named (case-insensitively) or numbered ``name_or_id``,
    with ``company`` as its company (no query for it), in one statement; None if none."""
    value = name_or_id.strip()
    pk = int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None
    with prepared_cursor() as cursor:
        cursor.execute(_center_by_name_or_id_sql(connection.vendor), [company.pk, value, pk, value])
        row = cursor.fetchone()
    if row is None:
        return None
    center = instance_from_row(ContactCenter, row)
    center.company = company
    return center


def centers_for_user(
    *, user: Agent, company: Company, inactive: bool = False
) -> QuerySet[ContactCenter]:
    """The centers whose dashboard ``user`` may open: company admins see every center of the
    company; others the centers where they are supervisor or admin. Active ones only,
    unless ``inactive``."""
    centers = company_centers(company=company, inactive=inactive)
    if user.is_superuser or user.access_level == "admin":
        return centers
    return get_objects_for_user(
        user, "agents.view_center_dashboard", klass=centers, accept_global_perms=False
    )


def working_members(center: ContactCenter) -> QuerySet[CenterMembership]:
    """A center's memberships of people who still work for its company (someone removed from
    the company, or deactivated, keeps the row but neither rings nor counts)."""
    return CenterMembership.objects.filter(
        center=center, agent__companies=center.company_id, agent__is_active=True
    )


def center_members(*, center: ContactCenter) -> QuerySet[CenterMembership]:
    return (
        working_members(center)
        .select_related("agent")
        .annotate(presence_now=effective_presence_expression_for("agent__"))
        .order_by("position", "agent__full_name", "pk")
    )


def effective_presence_expression_for(prefix: str):
    """``effective_presence_expression`` through a relation (``agent__``)."""
    return Case(
        When(**{f"{prefix}is_active": False}, then=Value(Presence.OFFLINE)),
        When(**{f"{prefix}last_seen_at__isnull": True}, then=Value(Presence.OFFLINE)),
        When(**{f"{prefix}last_seen_at__lt": seen_since()}, then=Value(Presence.OFFLINE)),
        default=F(f"{prefix}presence"),
        output_field=CharField(),
    )


def center_is_open(center: ContactCenter, *, now: datetime | None = None) -> bool:
    if center.always_open:
        return True
    local = zones.local(now or timezone.now(), center.company.time_zone)
    if str(local.weekday()) not in center.open_days:
        return False
    if center.opens_at is None or center.closes_at is None:
        return True
    return center.opens_at <= local.time() < center.closes_at


KIND_LABELS = dict(Device.Kind.choices)


@functools.cache
def _ring_facts_sql(vendor: str, *, ranked: bool) -> str:
    # Written out once per process from the models' metadata: the ORM spent longer building
    # the two statements (a join through the company, a CASE for presence, a subquery for the
    # rank) than the database running them, on every call to a center (docs/performance.md).
    # One row per member and ringing device (members without one come once, with NULLs), in
    # the members' fixed order: who they are, their place, rank and device, then what
    # availability is decided from (``agents.availability.rules``), side by side so that one
    # slice of the row is the key of a decision: the effective presence (offline unless seen
    # since the cut-off, as ``Agent.effective_presence``), the agent's own working hours and
    # capacities, their open-item counter in the company (``ItemLoad``), and the absence
    # covering now (the one ending last) with its cover's name. The company's hours,
    # holidays and default capacity are on the company row, loaded already. Only ringing
    # devices: a member without one is left out with that reason all the same.
    membership = CenterMembership._meta.db_table
    agent = Agent._meta.db_table
    companies = Agent.companies.through._meta.db_table
    absence = Absence._meta.db_table
    # The rank for the center's own call type of that name: one call type (unique per center),
    # its ranks by the call-type index, hash-joined to the members (not a lookup per member).
    ranks = (
        f"""LEFT JOIN ("{SkillRank._meta.db_table}" r
            INNER JOIN "{CallType._meta.db_table}" t
            ON t.id = r.call_type_id AND t.center_id = %s AND t.name = %s)
            ON r.membership_id = m.id"""
        if ranked
        else ""
    )
    # The company's absences covering now, one per agent (the one ending last), read once by
    # the company's index and hash-joined to the members: not a subquery per member (500
    # of them for a 500-member center, nearly all finding nothing). Their covers' names
    # are looked up for those rows only.
    # Names come from the models' metadata; every value is a parameter.
    return f"""
        SELECT m.agent_id, a.full_name, a.email, l.idle_since, m.position,
            {"r.rank" if ranked else "NULL"}, d.id, d.kind, d.label, d.number,
            CASE WHEN a.last_seen_at >= %s THEN a.presence ELSE %s END,
            a.working_hours, a.capacity, a.text_capacity, a.form_capacity, a.chat_capacity,
            il.total, il.text, il.form, il.chat, il.call,
            x.ends_at, x.cover_id, x.cover_name, x.cover_email
        FROM "{membership}" m
        INNER JOIN "{agent}" a ON a.id = m.agent_id
        LEFT JOIN "{AgentLine._meta.db_table}" l ON l.agent_id = m.agent_id
        {ranks}
        LEFT JOIN "{Device._meta.db_table}" d ON d.agent_id = m.agent_id AND d.ring
        LEFT JOIN "{ItemLoad._meta.db_table}" il
            ON il.agent_id = m.agent_id AND il.company_id = %s
        LEFT JOIN (
            SELECT y.agent_id, y.ends_at, y.cover_id,
                cv.full_name AS cover_name, cv.email AS cover_email,
                ROW_NUMBER() OVER (
                    PARTITION BY y.agent_id ORDER BY y.ends_at DESC, y.id DESC) AS nth
            FROM "{absence}" y
            LEFT JOIN "{agent}" cv ON cv.id = y.cover_id
            WHERE y.company_id = %s AND y.starts_at <= %s AND y.ends_at > %s
        ) x ON x.agent_id = m.agent_id AND x.nth = 1
        WHERE m.center_id = %s AND a.is_active
          AND EXISTS (SELECT 1 FROM "{companies}" c
                      WHERE c.agent_id = m.agent_id AND c.company_id = %s)
        ORDER BY m.position, m.id, d.id"""  # noqa: S608


# The row's columns (``_ring_facts_sql``): who, place and device, then the facts decided on.
_FACTS = 10  # where availability's facts start: presence, hours, 4 capacities, 5 loads, …
_LOADS = _FACTS + 6  # … the open-item counts (total, text, form, chat, call), …
_ABSENCE = _FACTS + 11  # … and the absence: its end, cover id, cover name and email
_NO_LIMITS = (None, None, None, None)
# The facts are named tuples built from all their fields at once: their own __new__ (a
# Python function) is half the cost of each of a 500-member center's thousand facts.
_new = tuple.__new__
_BY_LOAD = object()  # decided by the open-item counts too: a capacity applies
_IDLE_SINCE = ("idle_since",)
_ENDS_AT = ("ends_at",)


def _availability(company, facts, *, now, zone, holidays, schedules, channel) -> Availability:
    """One member's availability from the facts of their ring-facts row (``_FACTS`` on), by
    the one rule (``agents.availability.rules.decide``)."""
    (presence, hours_text, cap, text_cap, form_cap, chat_cap) = facts[:6]
    (total, text, form, chat, call, ends_at, cover_id, cover_name, cover_email) = facts[6:]
    absence = None
    if ends_at is not None:
        (ends_at,) = convert_row(Absence, _ENDS_AT, (ends_at,))  # SQLite's dates are text
        absence = Absence(ends_at=ends_at)
        if cover_id is not None:
            absence.cover = Agent(pk=cover_id, full_name=cover_name or "", email=cover_email)
    text_of_hours = (hours_text or "").strip()
    if text_of_hours not in schedules:
        schedules[text_of_hours] = schedule_of(company, SimpleNamespace(working_hours=hours_text))
    limits = SimpleNamespace(
        capacity=cap, text_capacity=text_cap, form_capacity=form_cap, chat_capacity=chat_cap
    )
    load = Load(
        total=total or 0,
        by_channel=(("text", text or 0), ("form", form or 0), ("chat", chat or 0),
                    ("call", call or 0)),
    )  # fmt: skip
    return decide(
        presence=presence,
        schedule=schedules[text_of_hours],
        holidays=holidays,
        zone=zone,
        at=now,
        absence=absence,
        capacity=capacity_of(company, limits),
        load=load,
        channel=channel,
    )


def center_ring_facts(
    *, center: ContactCenter, call_type: str = "", channel: str | None = None
) -> CenterFacts:
    """Everything ``routing.engine.centers.ring_list`` needs for one center, in one statement
    whatever the number of members, read as plain tuples (this runs on every call to the
    center): its working members (``working_members``) with their name, email, whether they
    are available, idle time, place and rank for the call type (None without one), and their
    ringing devices.

    Available is the rule every path uses (``agents.availability.rules``): not out of office,
    within working hours, presence Available, and not full — against the total capacity, and
    for ``channel`` ("chat", "call") its own capacity where set. A member who is not says why
    (``MemberFact.why``: "out of office until …"), and rings on no device.
    Whether the center is open, and the company's hours, holidays and default capacity, need
    its company (``center.company``, loaded)."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    company = center.company
    params: list = [
        adapt(seen_since()),
        Presence.OFFLINE,
        *([center.pk, call_type] if call_type else []),
        center.company_id,
        center.company_id,
        adapt(now),
        adapt(now),
        center.pk,
        center.company_id,
    ]
    with prepared_cursor() as cursor:  # planned once per connection
        cursor.execute(_ring_facts_sql(connection.vendor, ranked=bool(call_type)), params)
        rows = cursor.fetchall()
    zone = zones.zone_of(company.time_zone)
    holidays = company_holidays(company)
    schedules: dict = {}
    # ``decide`` is pure: members with the same facts get the same answer, so each set of
    # facts is decided once per call (most of a 500-member center's members share two or
    # three), keyed by the row's slice of facts: presence, hours and capacities — and, where
    # a capacity applies (``_BY_LOAD`` under that key), the open-item counts as well (without
    # a capacity they change nothing, and differ from member to member). A member out of
    # office is decided alone (the sentence names their end and cover).
    decided: dict = {}
    default_capacity = company.default_capacity is not None
    # SQLite's dates need the ORM's converters (naive, or text); PostgreSQL's come aware,
    # as the ORM would return them (it has no converter for them).
    convert_dates = connection.vendor != "postgresql"
    members: list[MemberFact] = []
    devices: list[DeviceFact] = []
    # Rows come member by member (one per ringing device): a member is complete when the
    # next row is another member's.
    last = len(rows) - 1
    for index, row in enumerate(rows):
        agent_id = row[0]
        if row[6] is not None:
            kind, label, number = row[7:10]
            shown = label or KIND_LABELS.get(kind, kind)  # as Device.__str__, without a model
            label = f"{shown} ({number})" if number else shown
            devices.append(_new(DeviceFact, (row[6], kind, label, True)))
        if index < last and rows[index + 1][0] == agent_id:
            continue
        key = None if row[_ABSENCE] is not None else row[_FACTS:_LOADS]
        now_for = decided.get(key)
        if now_for is _BY_LOAD:
            key = row[_FACTS:_ABSENCE]
            now_for = decided.get(key)
        if now_for is None:
            capped = default_capacity or (key is not None and key[2:] != _NO_LIMITS)
            if capped and key is not None and len(key) == _LOADS - _FACTS:
                decided[key] = _BY_LOAD  # (the capacities are the key's last four)
                key = row[_FACTS:_ABSENCE]
            answer = _availability(
                company,
                row[_FACTS:],
                now=now,
                zone=zone,
                holidays=holidays,
                schedules=schedules,
                channel=channel,
            )
            now_for = (answer.status == AVAILABLE, answer.why if answer.status in _SAYS_WHY else "")
            if key is not None:
                decided[key] = now_for
        idle = row[3]
        if convert_dates and idle is not None:
            (idle,) = convert_row(AgentLine, _IDLE_SINCE, (idle,))
        # (agent_id, name, available, devices, idle_since, rank, position, email, why); the
        # name is the email without one; no rank: none for the call type (skills: not rung)
        member = (agent_id, row[1] or row[2], now_for[0], tuple(devices), idle, row[5], row[4])
        members.append(_new(MemberFact, (*member, row[2], now_for[1])))
        devices.clear()
    return CenterFacts(
        routing_type=center.routing_type,
        members=tuple(members),
        round_robin_order=tuple(int(a) for a in center.round_robin_order),
        call_type=call_type,
        is_open=center_is_open(center),
        after_hours=center.get_after_hours_display(),
    )


# Away and offline are "not available" in a ring list, as ever; these say why and until when.
_SAYS_WHY = frozenset({"out of office", "off hours", "full"})


def center_waiting_older_than(*, center: ContactCenter, minutes: int) -> int:
    """Items waiting (unanswered) in the center's queue for longer than ``minutes``."""
    limit = timezone.now() - timedelta(minutes=minutes)
    return QueueItem.objects.filter(
        center=center, answered_at__isnull=True, waiting_since__lt=limit
    ).count()


def center_queue(*, center: ContactCenter, limit: int = 20) -> list[QueueItem]:
    return list(QueueItem.objects.filter(center=center, answered_at__isnull=True)[:limit])


def center_available_count(*, center: ContactCenter) -> int:
    """Members who could take a call now, by the ring lists' rule (out of office, off hours
    and full ones are not available): one statement (``center_ring_facts``)."""
    if not ContactCenter.company.is_cached(center):
        center = ContactCenter.objects.select_related("company").get(pk=center.pk)
    return sum(1 for m in center_ring_facts(center=center).members if m.available)


def center_supervisor_emails(*, center: ContactCenter) -> list[str]:
    return list(
        CenterMembership.objects.filter(
            center=center,
            role__in=[CenterMembership.Role.SUPERVISOR, CenterMembership.Role.ADMIN],
            agent__is_active=True,
        )
        .order_by("agent__email")
        .values_list("agent__email", flat=True)
    )


def centers_with_alerts() -> QuerySet[ContactCenter]:
    return (
        ContactCenter.objects.filter(is_active=True)
        .exclude(alert_min_available__isnull=True, alert_max_wait_minutes__isnull=True)
        .order_by("pk")
    )


def agent_line(agent: Agent) -> tuple[str, list[str]]:
    """The user's license and direct numbers (two queries)."""
    line = AgentLine.objects.filter(agent=agent).first()
    license = line.license if line else License.AI_CONTACT_CENTER
    numbers = list(agent.numbers.order_by("number").values_list("number", flat=True))
    return license, numbers


def agent_devices(*, agent: Agent) -> QuerySet[Device]:
    return Device.objects.filter(agent=agent).order_by("pk")


def addable_agents(*, center: ContactCenter, term: str) -> QuerySet[Agent]:
    """Company people matching a name or email typed into the center's search."""
    term = term.strip().replace("\x00", "")
    if not term:
        return Agent.objects.none()
    return (
        Agent.objects.filter(companies=center.company_id, is_active=True, is_superuser=False)
        .filter(Q(full_name__icontains=term) | Q(email__icontains=term))
        .exclude(center_memberships__center=center)
        .order_by("full_name", "email")
    )


def call_types(*, center: ContactCenter) -> QuerySet[CallType]:
    return CallType.objects.filter(center=center)


def center_rank_grid(*, center: ContactCenter) -> tuple[list[CallType], dict[int, dict[int, int]]]:
    """The center's call types and each membership's ranks for them (membership id →
    call type id → rank; no entry = no rank), in two queries whatever the members."""
    types = list(call_types(center=center))
    grid: dict[int, dict[int, int]] = {}
    rows = SkillRank.objects.filter(
        membership__center=center, call_type__center=center
    ).values_list("membership_id", "call_type_id", "rank")
    for membership_id, call_type_id, rank in rows:
        grid.setdefault(membership_id, {})[call_type_id] = rank
    return types, grid
