"""The facts a center's ring list is computed from, as plain dataclasses (no Django).

They live here, at the ground floor, so that ``center_ring_facts`` (agents) can build them
without importing upwards; ``routing.engine.centers`` computes ring lists from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

SKILLS = "skills"
LONGEST_IDLE = "longest_idle"
ROUND_ROBIN = "round_robin"
FIXED_ORDER = "fixed_order"
SIMULTANEOUS = "simultaneous"
ROUTING_TYPES = (SKILLS, LONGEST_IDLE, ROUND_ROBIN, FIXED_ORDER, SIMULTANEOUS)

# A new rank's default in the admin. A member without a rank for the call type has none
# (``MemberFact.rank`` None): skills-based routing does not ring them for it.
DEFAULT_RANK = 100


# A member and a device are named tuples, not dataclasses: a call to a 500-member center
# builds about a thousand of them, and a frozen dataclass's __init__ (``object.__setattr__``
# field by field) costs several times a tuple's (docs/performance.md). Immutable all the same.
class DeviceFact(NamedTuple):
    id: int
    kind: str
    label: str
    ring: bool


class MemberFact(NamedTuple):
    agent_id: int
    name: str
    available: bool
    devices: tuple[DeviceFact, ...] = ()
    # When the agent last finished with a call; None = never, i.e. idle the longest.
    idle_since: datetime | None = None
    # Proficiency 1-100 for the call type being routed (skills-based only); None = no rank
    # for it (or no call type), so a skills-based call of that type does not ring them.
    rank: int | None = None
    # Place in the center's fixed order (lower rings first).
    position: int = 0
    email: str = ""
    # Why they are not available beside presence, in the why log's words ("out of office
    # until 2026-12-04 17:00 (cover: Ben Okafor)", "off hours until …", "at capacity (…)");
    # blank when available or only away/offline.
    why: str = ""


@dataclass(frozen=True)
class CenterFacts:
    routing_type: str
    members: tuple[MemberFact, ...]
    # Round robin: agent ids, next to ring first. Members missing from it ring last.
    round_robin_order: tuple[int, ...] = ()
    call_type: str = ""
    is_open: bool = True
    after_hours: str = ""


def round_robin_after(order: tuple[int, ...], agent_id: int) -> tuple[int, ...]:
    """The round-robin order once ``agent_id`` answered or missed: they move to the end."""
    return (*(a for a in order if a != agent_id), agent_id)
