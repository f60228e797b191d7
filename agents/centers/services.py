"""Writes of contact centers: the centers, members and roles (with their per-center rights),
skill ranks, coaching requests, ring outcomes. Licenses and upgrades: ``licenses.py``;
devices and numbers: ``devices.py``.

Lock order (one, for every service here): agent rows first, in pk order, then the center
row. The 100-center limit is checked under the agent's row lock, so two admins adding the
same agent to two centers at once are serialised and the second sees the first's row.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from ..live import live_changed, stream_center
from ..locks import lock_agents, lock_center
from ..models import Agent
from ..unique import refuse_taken, taken_as
from .facts import round_robin_after
from .licenses import agent_license, agent_upgrade_license
from .models import (
    CENTER_LICENSES,
    MAX_CENTERS_PER_AGENT,
    AgentLine,
    CallType,
    CenterMembership,
    CoachingRequest,
    ContactCenter,
    License,
    LicenseUpgrade,
    QueueItem,
    RingEvent,
    SkillRank,
)
from .permissions import COACH_REFUSED, can_coach

Role = CenterMembership.Role

# Object permissions each role holds on its center (django-guardian, direct-FK models).
SUPERVISOR_PERMS = ["view_center_dashboard", "set_center_alerts", "coach_center"]
ROLE_PERMS: dict[str, list[str]] = {
    Role.AGENT: [],
    Role.SUPERVISOR: SUPERVISOR_PERMS,
    Role.ADMIN: [*SUPERVISOR_PERMS, "edit_center_settings"],
}
ALL_CENTER_PERMS = ROLE_PERMS[Role.ADMIN]


# --- Centers ---------------------------------------------------------------------------------
def center_changed(center: ContactCenter) -> None:
    """Tell the center's open dashboards (members, roles, settings, queue, rings, alerts)
    that they changed: after the current transaction commits, once per commit."""
    live_changed(company_id=center.company_id, streams=[stream_center(center.pk)])


def _name_taken(name: str) -> str:
    return f"Your company already has a contact center named “{name}”: choose another name."


def center_name_check(*, company, name: str, center: ContactCenter | None = None) -> None:
    """Refuse a name another center of ``company`` has (a ``ValidationError`` keyed by
    ``name``). The forms don't check it: the company is not one of their fields."""
    refuse_taken(
        ContactCenter.objects.filter(company=company),
        field="name",
        value=name,
        instance=center,
        message=_name_taken(name),
        code="name_taken",
    )


def _center_save(center: ContactCenter, **save_kwargs) -> None:
    center_name_check(company=center.company, name=center.name, center=center)
    with taken_as(field="name", message=_name_taken(center.name), code="name_taken"):
        center.save(**save_kwargs)


def center_create(*, center: ContactCenter) -> ContactCenter:
    """Store a new center (built by the admin's form), its name unique in its company."""
    _center_save(center)
    return center


def center_update(*, center: ContactCenter, fields: list[str]) -> ContactCenter:
    """Save a center's settings (validated by its form; the name's uniqueness in the
    company here)."""
    if center.routing_type != "round_robin":
        center.round_robin_order = []
        fields = [*fields, "round_robin_order"]
    with transaction.atomic():
        _center_save(center, update_fields=sorted(set(fields)) or None)
        center_changed(center)
    return center


def center_set_active(*, center: ContactCenter, active: bool, actor: Agent | None) -> ContactCenter:
    """Deactivate (or reactivate) a center. Deactivated, it keeps its members, calls and
    history, but rings nobody: the webhook refuses calls naming it, and it leaves the agents'
    checkbox lists and the centers list. Centers are deactivated, not deleted, once they
    have history (see ``center_has_history``)."""
    with transaction.atomic():
        locked = lock_center(center.pk)
        if locked.is_active != active:
            locked.is_active = active
            locked.save(update_fields=["is_active"])
            center_changed(locked)
    center.is_active = active
    return center


def center_has_history(center: ContactCenter) -> bool:
    """Calls queued, rings, coaching or upgrades recorded for the center: such a center is
    deactivated, never deleted (its calls and audit rows would lose it)."""
    return (
        QueueItem.objects.filter(center=center).exists()
        or RingEvent.objects.filter(center=center).exists()
        or CoachingRequest.objects.filter(center=center).exists()
        or LicenseUpgrade.objects.filter(center=center).exists()
    )


HAS_HISTORY_MESSAGE = (
    "{center} has calls or other history, so it cannot be deleted: deactivate it instead "
    "(it keeps its history, rings nobody and leaves the lists)."
)


# --- Members and roles -----------------------------------------------------------------------
def _sync_role_perms(membership: CenterMembership) -> None:
    """Give the member exactly their role's rights on this center (and nothing more)."""
    wanted = set(ROLE_PERMS[membership.role])
    for perm in ALL_CENTER_PERMS:
        if perm in wanted:
            assign_perm(perm, membership.agent, membership.center)
        else:
            remove_perm(perm, membership.agent, membership.center)


def _check_can_join(agent: Agent, center: ContactCenter) -> None:
    if not agent.companies.filter(pk=center.company_id).exists():
        raise ValidationError(f"{agent} is not a member of {center.company}.", code="company")
    if not agent.is_active:
        raise ValidationError(f"{agent} is deactivated.", code="inactive")
    license = agent_license(agent)
    if license == License.AI_VOICE:
        raise ValidationError(
            f"{agent} has an Ai Voice license: upgrade them to Ai Contact Center or Ai Sales "
            "before adding them to a contact center.",
            code="upgrade_required",
        )
    if license not in CENTER_LICENSES:
        raise ValidationError(f"{agent}'s license does not include contact centers.")


def _limit_message(agent: Agent) -> str:
    return (
        f"{agent} already belongs to {MAX_CENTERS_PER_AGENT} contact centers, the most an "
        "agent may join. Remove them from one first."
    )


def center_add_members(
    *, center: ContactCenter, agents: Iterable[Agent], actor: Agent | None, role: str = Role.AGENT
) -> list[CenterMembership]:
    """Add agents to a center, all or none. Refused (with the reason) for an agent at the
    100-center limit, of another company, or on Ai Voice (who needs the upgrade first)."""
    agents = list(agents)
    with transaction.atomic():
        locked = lock_agents(a.pk for a in agents)
        existing = set(
            CenterMembership.objects.filter(center=center, agent_id__in=locked).values_list(
                "agent_id", flat=True
            )
        )
        counts = _membership_counts(locked)
        errors, created = [], []
        position = CenterMembership.objects.filter(center=center).count()
        for agent in locked.values():
            if agent.pk in existing:
                continue
            try:
                _check_can_join(agent, center)
                if counts.get(agent.pk, 0) >= MAX_CENTERS_PER_AGENT:
                    raise ValidationError(_limit_message(agent), code="center_limit")
            except ValidationError as error:
                errors.extend(error.messages)
                continue
            membership = CenterMembership.objects.create(
                center=center, agent=agent, role=role, added_by=actor, position=position
            )
            position += 1
            _sync_role_perms(membership)
            created.append(membership)
        if errors:
            raise ValidationError(errors)
        if created:
            center_changed(center)
        return created


def center_add_member(
    *, center: ContactCenter, agent: Agent, actor: Agent | None, role: str = Role.AGENT
) -> CenterMembership:
    created = center_add_members(center=center, agents=[agent], actor=actor, role=role)
    if created:
        return created[0]
    return CenterMembership.objects.get(center=center, agent=agent)


def _membership_counts(agents: dict[int, Agent]) -> dict[int, int]:
    from django.db.models import Count

    rows = (
        CenterMembership.objects.filter(agent_id__in=agents)
        .values("agent_id")
        .annotate(n=Count("*"))
        .values_list("agent_id", "n")
    )
    return dict(rows)


def center_remove_member(*, center: ContactCenter, agent: Agent) -> None:
    with transaction.atomic():
        lock_agents([agent.pk])
        for perm in ALL_CENTER_PERMS:
            remove_perm(perm, agent, center)
        if CenterMembership.objects.filter(center=center, agent=agent).delete()[0]:
            center_changed(center)


def agent_set_centers(
    *, agent: Agent, centers: Iterable[ContactCenter], company, actor: Agent | None
) -> None:
    """The user admin's *Contact centers* checkboxes: join the checked centers of
    ``company``, leave its unchecked ones (other companies' centers are untouched)."""
    wanted = {c.pk: c for c in centers if c.company_id == company.pk and c.is_active}
    with transaction.atomic():
        lock_agents([agent.pk])
        current = {
            m.center_id: m
            for m in CenterMembership.objects.filter(agent=agent).select_related("center")
        }
        # Deactivated centers are not in the checkbox list: their memberships stay as they are.
        in_company = {
            pk
            for pk, m in current.items()
            if m.center.company_id == company.pk and m.center.is_active
        }
        adding = [c for pk, c in wanted.items() if pk not in current]
        leaving = [current[pk].center for pk in in_company - set(wanted)]
        if len(current) - len(leaving) + len(adding) > MAX_CENTERS_PER_AGENT:
            raise ValidationError(_limit_message(agent), code="center_limit")
        for center in leaving:
            center_remove_member(center=center, agent=agent)
        for center in adding:
            center_add_members(center=center, agents=[agent], actor=actor)


def membership_set_role(*, membership: CenterMembership, role: str) -> CenterMembership:
    """Make Supervisor / Make Admin / back to Agent: the role and its rights change together."""
    role = Role(role)
    with transaction.atomic():
        lock_agents([membership.agent_id])
        membership.role = role
        membership.save(update_fields=["role"])
        _sync_role_perms(membership)
        center_changed(membership.center)
    return membership


def agent_upgrade_license_and_join(
    *, agent: Agent, to_license: str, keep_numbers: bool, actor: Agent, center: ContactCenter
) -> LicenseUpgrade:
    """The center's upgrade step: upgrade the Ai Voice user and add them, both or neither."""
    with transaction.atomic():
        upgrade = agent_upgrade_license(
            agent=agent,
            to_license=to_license,
            keep_numbers=keep_numbers,
            actor=actor,
            center=center,
        )
        center_add_member(center=center, agent=agent, actor=actor)
    return upgrade


# --- Skill ranks -----------------------------------------------------------------------------
def _rank_message(call_type: CallType) -> str:
    return (
        f"A rank for {call_type} is a whole number from 1 to 100; leave it empty for no rank "
        f"(then {call_type} calls do not ring them)."
    )


def skill_rank_parse(*, call_type: CallType, raw: str) -> int | None:
    """A rank typed on the members page: empty = no rank; else 1..100 (a clear error)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100:
        raise ValidationError(_rank_message(call_type), code="rank")
    return int(raw)


def skill_rank_set(
    *, membership: CenterMembership, call_type: CallType, rank: int | None
) -> SkillRank | None:
    """Set a member's proficiency (1..100) for one of their center's call types; None
    removes it. Skills-based routing rings a member for a call type only with a rank for it."""
    if call_type.center_id != membership.center_id:
        raise ValidationError(f"{call_type} is not a call type of {membership.center}.")
    if rank is None:
        SkillRank.objects.filter(membership=membership, call_type=call_type).delete()
        return None
    if not isinstance(rank, int) or not 1 <= rank <= 100:
        raise ValidationError(_rank_message(call_type), code="rank")
    skill_rank, _ = SkillRank.objects.update_or_create(
        membership=membership, call_type=call_type, defaults={"rank": rank}
    )
    return skill_rank


def membership_set_ranks(*, membership: CenterMembership, ranks: dict[CallType, str]) -> None:
    """The members page's row of ranks, as typed: all saved, or none (every error named)."""
    parsed, errors = {}, []
    for call_type, raw in ranks.items():
        try:
            parsed[call_type] = skill_rank_parse(call_type=call_type, raw=raw)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for call_type, rank in parsed.items():
            skill_rank_set(membership=membership, call_type=call_type, rank=rank)


# --- Coaching, ring outcomes -----------------------------------------------------------------
def no_live_call_message(agent: Agent) -> str:
    return f"{agent} has no live call in this center right now: there is nothing to join."


def coaching_request(
    *, center: ContactCenter, supervisor: Agent, agent: Agent, action: str, on_live_call: bool
) -> CoachingRequest:
    """Record a Listen in / Barge in / Take over request (no media is carried here).

    ``on_live_call`` says whether ``agent`` has a call of this center in hand now (they took
    it and it is not handled yet): the caller reads it where calls are kept (contacts), as
    the center's dashboard does; without one the request is refused."""
    action = CoachingRequest.Action(action)
    if not can_coach(supervisor, center):
        raise ValidationError(COACH_REFUSED, code="not_a_coach")
    if not CenterMembership.objects.filter(center=center, agent=agent).exists():
        raise ValidationError(f"{agent} is not a member of {center}.")
    if agent.pk == supervisor.pk:
        raise ValidationError("You cannot coach yourself.")
    if not on_live_call:
        raise ValidationError(no_live_call_message(agent), code="no_live_call")
    return CoachingRequest.objects.create(
        center=center, requested_by=supervisor, agent=agent, action=action
    )


def center_record_ring_outcome(
    *, center: ContactCenter, agent: Agent, outcome: str, at=None
) -> RingEvent:
    """An agent answered or missed a ring: log it; round robin moves them to the end (both
    cases, so a missed agent doesn't ring first again); an answer restarts their idle time."""
    outcome = RingEvent.Outcome(outcome)
    at = at or timezone.now()
    with transaction.atomic():
        lock_agents([agent.pk])
        locked = lock_center(center.pk)
        order = tuple(int(a) for a in locked.round_robin_order)
        members = list(
            CenterMembership.objects.filter(center=locked)
            .order_by("position", "pk")
            .values_list("agent_id", flat=True)
        )
        # Members not yet in the stored order keep their place after those who are.
        order = (*[a for a in order if a in members], *[a for a in members if a not in order])
        locked.round_robin_order = list(round_robin_after(order, agent.pk))
        locked.save(update_fields=["round_robin_order"])
        center.round_robin_order = locked.round_robin_order
        if outcome == RingEvent.Outcome.ANSWERED:
            AgentLine.objects.update_or_create(agent=agent, defaults={"idle_since": at})
        # Ring activity (and, for an answer, the queue) on its dashboard.
        center_changed(locked)
        return RingEvent.objects.create(center=locked, agent=agent, outcome=outcome, at=at)
