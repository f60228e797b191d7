"""Where an inbound text, form, call or chat goes (seed 000)."""

from dataclasses import dataclass, field

from .centers import RingList
from .vocabulary import ACTIVE_POOL, AVAILABLE

DIRECT_CHANNELS = frozenset({"text", "form"})
REAL_TIME_CHANNELS = frozenset({"call", "chat"})


@dataclass(frozen=True)
class AgentSnapshot:
    """What the engine needs to know about an agent at the moment of the decision."""

    id: int
    name: str
    presence: str  # availability: available, away, offline, out of office, off hours, full
    works_here: bool = True  # still an active Lead Center person of the contact's company
    why: str = ""  # why not available, in the why log's words (blank: the presence word)
    cover: "AgentSnapshot | None" = None  # out of office: who covers (with their availability)
    cover_until: float | None = None  # timestamp the cover ends


@dataclass(frozen=True)
class InteractionRoute:
    agent_id: int | None
    pool: str  # "active" or ""
    reason: str
    details: dict = field(default_factory=dict)


def route_interaction(*, channel: str, primary: AgentSnapshot | None) -> InteractionRoute:
    """Where an inbound interaction goes.

    Texts and form submissions go to the contact's primary agent while that agent is
    available; otherwise (away, offline, or no primary agent) to the Active pool that every
    available agent sees. Calls and chats never go to the primary agent: they are offered in
    real time to every available agent.
    """
    details: dict = {
        "channel": channel,
        "primary_agent": primary.id if primary else None,
        "primary_presence": primary.presence if primary else None,
    }
    if channel in REAL_TIME_CHANNELS:
        noun = "Calls" if channel == "call" else "Chats"
        return InteractionRoute(
            None,
            ACTIVE_POOL,
            f"{noun} are offered in real time to every available agent; they never go to "
            "the primary agent.",
            details | {"rule": "real_time_to_all"},
        )
    if channel not in DIRECT_CHANNELS:
        raise ValueError(f"Unknown channel {channel!r}")
    if primary is None:
        return InteractionRoute(
            None,
            ACTIVE_POOL,
            "The contact has no primary agent, so it is shown in Active to every available agent.",
            details | {"rule": "no_primary"},
        )
    if not primary.works_here:
        return InteractionRoute(
            None,
            ACTIVE_POOL,
            f"The primary agent, {primary.name}, no longer works contacts of this company, so "
            "it is shown in Active to every available agent.",
            details | {"rule": "primary_not_eligible"},
        )
    if primary.presence != AVAILABLE:
        return InteractionRoute(
            None,
            ACTIVE_POOL,
            f"The primary agent, {primary.name}, is {primary.presence}, so it is shown in "
            "Active to every available agent.",
            details | {"rule": "primary_not_available"},
        )
    return InteractionRoute(
        primary.id,
        "",
        f"Sent to {primary.name}, the contact's primary agent, who is available.",
        details | {"rule": "primary_available"},
    )


def route_to_center(*, channel: str, center: str, ring: RingList) -> InteractionRoute:
    """A call or chat the call flow sent to a contact center: offered to the center's ring
    list (its available members with a ringing device, in the center's order); with nobody
    to ring it waits in the center's queue. Texts and forms don't come here."""
    if channel not in REAL_TIME_CHANNELS:
        raise ValueError(f"Only calls and chats are routed through a center, not {channel!r}")
    details = {
        "channel": channel,
        "rule": "center_ring" if ring.ring else "center_queue",
        "routing_type": ring.routing_type,
        "excluded": {str(k): v for k, v in ring.excluded.items()},
    }
    noun = "call" if channel == "call" else "chat"
    if ring.ring:
        reason = f"A {noun} for the {center} contact center: {ring.reason}"
    else:
        reason = (
            f"A {noun} for the {center} contact center waits in its queue (its members' "
            f"Active): {ring.reason}"
        )
    return InteractionRoute(None, ACTIVE_POOL, reason, details)
