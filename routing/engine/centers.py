"""Contact-center routing types: who rings, in what order, on which devices.

Pure functions over plain dataclasses (no Django, no I/O, no clock), so every type is tested
without a database. ``agents.centers.selectors.center_ring_facts`` gathers the facts of one
center; ``ring_list`` turns them into the ring list an inbound call or chat uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# The facts (dataclasses and routing type names) are the ground floor's: agents builds them.
from agents.centers.facts import (
    DEFAULT_RANK,
    FIXED_ORDER,
    LONGEST_IDLE,
    ROUND_ROBIN,
    ROUTING_TYPES,
    SIMULTANEOUS,
    SKILLS,
    CenterFacts,
    DeviceFact,
    MemberFact,
    round_robin_after,
)

__all__ = [
    "DEFAULT_RANK",
    "FIXED_ORDER",
    "LONGEST_IDLE",
    "NOT_AVAILABLE",
    "NO_RANK",
    "NO_RINGING_DEVICE",
    "ROUND_ROBIN",
    "ROUTING_TYPES",
    "SIMULTANEOUS",
    "SKILLS",
    "CenterFacts",
    "DeviceFact",
    "MemberFact",
    "RingEntry",
    "RingList",
    "ring_list",
    "round_robin_after",
]

# Why a member is not in the ring list, in words a supervisor reads.
NOT_AVAILABLE = "not available"
NO_RINGING_DEVICE = "no device with Ring this device on"
# Skills-based: a rank for the call type is what puts an agent in the order (Dialpad's rule).
# Someone without one (a supervisor, a newcomer not yet trained for billing) is not rung for
# it rather than rung last: ringing them last would still hand them calls they were never
# ranked for whenever the ranked agents are busy. A center admin gives them a rank to add them.
NO_RANK = "no rank for {call_type}"


class RingEntry(NamedTuple):
    # A named tuple, as the facts are (a center's hundreds of entries are built on every
    # call: a frozen dataclass's __init__ costs several times a tuple's). Immutable.
    agent_id: int
    name: str
    devices: tuple[DeviceFact, ...]
    # 1, 2, 3… in turn; simultaneous ring gives everyone 1 (all at once).
    order: int
    email: str = ""
    # Skills-based: the rank for the call type that placed them (None for the other types).
    rank: int | None = None


@dataclass(frozen=True)
class RingList:
    routing_type: str
    ring: tuple[RingEntry, ...]
    excluded: dict[int, str] = field(default_factory=dict)
    reason: str = ""

    @property
    def agent_ids(self) -> list[int]:
        return [entry.agent_id for entry in self.ring]


def _idle_key(member: MemberFact) -> tuple:
    # Never had a call sorts first; then the oldest idle_since; agent id keeps it stable.
    idle = member.idle_since
    if idle is None:
        return (0, 0.0, member.agent_id)
    return (1, idle.timestamp(), member.agent_id)


def _skills_key(member: MemberFact) -> tuple:
    # The highest rank first (none counts as 0), then as ``_idle_key``: one call per member.
    idle = member.idle_since
    if idle is None:
        return (-(member.rank or 0), 0, 0.0, member.agent_id)
    return (-(member.rank or 0), 1, idle.timestamp(), member.agent_id)


def _order(facts: CenterFacts, members: list[MemberFact]) -> list[MemberFact]:
    kind = facts.routing_type
    if kind == SKILLS:
        # Ranks apply to a call type; without one, nobody is ranked: longest idle first.
        return sorted(members, key=_skills_key)
    if kind == LONGEST_IDLE:
        return sorted(members, key=_idle_key)
    if kind == ROUND_ROBIN:
        place = {agent_id: i for i, agent_id in enumerate(facts.round_robin_order)}
        last = len(place)
        return sorted(members, key=lambda m: (place.get(m.agent_id, last), m.position, m.agent_id))
    if kind in (FIXED_ORDER, SIMULTANEOUS):
        return sorted(members, key=lambda m: (m.position, m.agent_id))
    raise ValueError(f"Unknown routing type {kind!r}.")


def _ringing(devices: tuple[DeviceFact, ...]) -> tuple[DeviceFact, ...]:
    """The devices that ring (most members' are all ringing ones: the same tuple)."""
    for device in devices:
        if not device.ring:
            return tuple(d for d in devices if d.ring)
    return devices


_DESCRIPTION = {
    SKILLS: "skills-based: highest proficiency{call_type} first, ties to the longest idle",
    LONGEST_IDLE: "longest idle first",
    ROUND_ROBIN: "round robin: whoever answered or missed last moves to the end",
    FIXED_ORDER: "fixed order",
    SIMULTANEOUS: "simultaneous: everyone rings at once",
}


def ring_list(facts: CenterFacts) -> RingList:
    """The ring list for one inbound call or chat to a center."""
    if facts.routing_type not in ROUTING_TYPES:
        raise ValueError(f"Unknown routing type {facts.routing_type!r}.")
    if not facts.is_open:
        after = f" ({facts.after_hours})" if facts.after_hours else ""
        return RingList(facts.routing_type, (), {}, f"The center is closed: nobody rings{after}.")
    excluded: dict[int, str] = {}
    eligible: list[MemberFact] = []
    ringing: dict[int, tuple[DeviceFact, ...]] = {}  # each eligible member's ringing devices
    ranked_only = facts.routing_type == SKILLS and bool(facts.call_type)
    no_rank = NO_RANK.format(call_type=facts.call_type)
    for member in facts.members:
        if not member.available:
            # Out of office, off hours or full say so (and until when); away/offline as ever.
            excluded[member.agent_id] = member.why or NOT_AVAILABLE
            continue
        devices = _ringing(member.devices)
        if not devices:
            excluded[member.agent_id] = NO_RINGING_DEVICE
        elif ranked_only and member.rank is None:
            excluded[member.agent_id] = no_rank
        else:
            eligible.append(member)
            ringing[member.agent_id] = devices
    ordered = _order(facts, eligible)
    simultaneous = facts.routing_type == SIMULTANEOUS
    skills = facts.routing_type == SKILLS
    # (agent_id, name, devices, order, email, rank), built from all its fields at once: a
    # center's hundreds of entries on every call, and the named tuple's own __new__ (a
    # Python function) is about half the cost of each.
    new = tuple.__new__
    ring = tuple(
        new(
            RingEntry,
            (
                m.agent_id,
                m.name,
                ringing[m.agent_id],
                1 if simultaneous else i,
                m.email,
                m.rank if skills else None,
            ),
        )
        for i, m in enumerate(ordered, start=1)
    )
    call_type = f" for {facts.call_type}" if facts.call_type else ""
    how = _DESCRIPTION[facts.routing_type].format(call_type=call_type)
    if ring:
        reason = f"{len(ring)} agent(s) ring, {how}"
    else:
        also = f" and a rank for {facts.call_type}" if ranked_only else ""
        reason = f"Nobody rings ({how}): no member is available with a ringing device{also}"
    if excluded:
        why = "unavailable or without a ringing device"
        if ranked_only:
            why = f"unavailable, without a ringing device or without a rank for {facts.call_type}"
        reason += f"; {len(excluded)} left out ({why})"
    return RingList(facts.routing_type, ring, excluded, reason + ".")
