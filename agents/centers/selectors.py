"""Reads of contact centers, with their joins applied (constant queries per page)."""

from datetime import datetime, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from .. import zones
from ..models import Agent, Company, Presence
from .facts import CenterFacts, DeviceFact, MemberFact
from .models import (
    AgentLine,
    CallType,
    CenterMembership,
    ContactCenter,
    Device,
    License,
    QueueItem,
    RingEvent,
    SkillRank,
)


def company_centers(*, company: Company) -> QuerySet[ContactCenter]:
    return ContactCenter.objects.filter(company=company).order_by("name")


def centers_for_user(*, user: Agent, company: Company) -> QuerySet[ContactCenter]:
    """The centers whose dashboard ``user`` may open: company admins see every center of the
    company; others the centers where they are supervisor or admin."""
    centers = company_centers(company=company)
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
    from django.db.models import Case, CharField, F, Value, When

    from ..selectors import seen_since

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


def center_ring_facts(*, center: ContactCenter, call_type: str = "") -> CenterFacts:
    """Everything ``routing.engine.centers.ring_list`` needs for one center, in three queries
    whatever the number of members, read as plain values (this runs on every call to the
    center: model instances for 500 members and their devices cost more than the queries):
    the members with their agent, presence, idle time and rank for the call type (1), their
    devices (1), and whether the center is open (its company's time zone, 1)."""
    members = working_members(center).annotate(
        presence_now=effective_presence_expression_for("agent__")
    )
    if call_type:
        members = members.annotate(
            rank_for_type=Subquery(
                SkillRank.objects.filter(
                    membership=OuterRef("pk"), call_type__name=call_type
                ).values("rank")[:1]
            )
        )
    rows = list(
        members.values_list(
            "agent_id",
            "agent__full_name",
            "agent__email",
            "presence_now",
            "agent__line__idle_since",
            "position",
            "rank_for_type" if call_type else "position",
        )
    )
    devices: dict[int, list[DeviceFact]] = {}
    for pk, agent_id, kind, label, number, ring in (
        # By join, not by 500 ids: binding a list that long costs more than the query. Only
        # ringing devices: a member without one is left out with that reason all the same.
        Device.objects.filter(agent__center_memberships__center=center, ring=True)
        .order_by("pk")
        .values_list("pk", "agent_id", "kind", "label", "number", "ring")
    ):
        name = label or KIND_LABELS.get(kind, kind)  # as Device.__str__, without a model
        devices.setdefault(agent_id, []).append(
            DeviceFact(id=pk, kind=kind, label=f"{name} ({number})" if number else name, ring=ring)
        )
    return CenterFacts(
        routing_type=center.routing_type,
        members=tuple(
            MemberFact(
                agent_id=agent_id,
                name=full_name or email,
                available=presence == Presence.AVAILABLE,
                devices=tuple(devices.get(agent_id, ())),
                idle_since=idle_since,
                rank=rank if call_type and rank is not None else 100,
                position=position,
                email=email,
            )
            for agent_id, full_name, email, presence, idle_since, position, rank in rows
        ),
        round_robin_order=tuple(int(a) for a in center.round_robin_order),
        call_type=call_type,
        is_open=center_is_open(center),
        after_hours=center.get_after_hours_display(),
    )


def _line(agent: Agent) -> AgentLine | None:
    # select_related filled it; no row raises (without a query).
    try:
        return agent.line
    except AgentLine.DoesNotExist:
        return None


def center_waiting_older_than(*, center: ContactCenter, minutes: int) -> int:
    """Items waiting (unanswered) in the center's queue for longer than ``minutes``."""
    limit = timezone.now() - timedelta(minutes=minutes)
    return QueueItem.objects.filter(
        center=center, answered_at__isnull=True, waiting_since__lt=limit
    ).count()


def center_queue(*, center: ContactCenter, limit: int = 20) -> list[QueueItem]:
    return list(QueueItem.objects.filter(center=center, answered_at__isnull=True)[:limit])


def center_ring_activity(*, center: ContactCenter, limit: int = 20) -> list[RingEvent]:
    return list(RingEvent.objects.filter(center=center).select_related("agent")[:limit])


def center_available_count(*, center: ContactCenter) -> int:
    return (
        CenterMembership.objects.filter(center=center)
        .annotate(presence_now=effective_presence_expression_for("agent__"))
        .filter(presence_now=Presence.AVAILABLE)
        .count()
    )


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
    return ContactCenter.objects.exclude(
        alert_min_available__isnull=True, alert_max_wait_minutes__isnull=True
    ).order_by("pk")


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
    from django.db.models import Q

    return (
        Agent.objects.filter(companies=center.company_id, is_active=True, is_superuser=False)
        .filter(Q(full_name__icontains=term) | Q(email__icontains=term))
        .exclude(center_memberships__center=center)
        .order_by("full_name", "email")
    )


def call_types(*, center: ContactCenter) -> QuerySet[CallType]:
    return CallType.objects.filter(center=center)
