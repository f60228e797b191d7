"""Where an inbound text, form, call or chat goes: owner-first for texts and forms, following
the owner's availability (and their cover's while they are out of office)."""

from dataclasses import dataclass, field

from .centers import RingList
from .vocabulary import ACTIVE_POOL, AVAILABLE, QUEUE_POOL

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


OUT_OF_OFFICE = "out of office"  # the availability status an absence gives (agents.availability)


def _to_pool(situation: str, details: dict, rule: str, everyone_full: bool) -> InteractionRoute:
    """Not to the owner: the Active pool, or the capacity queue when everyone who could take
    it from Active is at capacity."""
    if everyone_full:
        return InteractionRoute(
            None,
            QUEUE_POOL,
            f"{situation}. Every available agent is at capacity: it waits in the queue and "
            "goes to the first with room.",
            details | {"rule": rule, "queued": True},
        )
    return InteractionRoute(
        None,
        ACTIVE_POOL,
        f"{situation}, so it is shown in Active to every available agent.",
        details | {"rule": rule},
    )


def _state(agent: AgentSnapshot) -> str:
    """Why an agent can't take it, as the end of a sentence: "is away", "is out of office
    until 2026-12-04 17:00", "no longer works contacts of this company"."""
    if not agent.works_here:
        return "no longer works contacts of this company"
    return f"is {agent.why or agent.presence}"


def route_interaction(
    *, channel: str, primary: AgentSnapshot | None, everyone_full: bool = False
) -> InteractionRoute:
    """Where an inbound interaction goes.

    Texts and form submissions go to the contact's primary agent while that agent is
    available (``presence`` is their availability: out of office, off hours, presence and
    capacity, in that order, were decided before). An owner out of office with a ``cover``
    sends them to the cover while the cover is available themselves. Otherwise (no primary
    agent, or neither can take it) to the Active pool that every available agent sees — or,
    with ``everyone_full`` (every available agent is at capacity), to the capacity queue.
    Ownership never changes here. Calls and chats never go to the primary agent: they are
    offered in real time to every available agent.
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
        return _to_pool("The contact has no primary agent", details, "no_primary", everyone_full)
    owner = f"The primary agent, {primary.name},"
    if not primary.works_here:
        return _to_pool(
            f"{owner} {_state(primary)}", details, "primary_not_eligible", everyone_full
        )
    if primary.presence == AVAILABLE:
        return InteractionRoute(
            primary.id,
            "",
            f"Sent to {primary.name}, the contact's primary agent, who is available.",
            details | {"rule": "primary_available"},
        )
    if primary.presence == OUT_OF_OFFICE and primary.cover is not None:
        cover = primary.cover
        details |= {
            "cover": cover.id,
            "cover_presence": cover.presence,
            "cover_until": primary.cover_until,
        }
        if cover.works_here and cover.presence == AVAILABLE:
            return InteractionRoute(
                cover.id,
                "",
                f"{owner} {_state(primary)}; sent to {cover.name}, who covers for them.",
                details | {"rule": "cover_available", "covering_for": primary.id},
            )
        return _to_pool(
            f"{owner} {_state(primary)} and their cover, {cover.name}, {_state(cover)}",
            details,
            "cover_not_available",
            everyone_full,
        )
    return _to_pool(f"{owner} {_state(primary)}", details, "primary_not_available", everyone_full)


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
