"""Distribution methods: who among a group's members gets the next contact.

Pure functions over plain data: the caller passes the members with their presence and load,
and the stored rotation; it gets back a ``Pick`` with the decision, the reasons, and the
rotation to store.
"""

from dataclasses import dataclass, field, replace

from .rotation import Rotation, new_round
from .vocabulary import AVAILABLE, AWAY, OFFLINE

# Availability beside presence (``agents.availability.rules``): out of office, outside working
# hours, at capacity. These are skipped whatever a group's *skip away/offline members* says:
# that option is about the presence switch, and the issue's rule is "not available, whatever
# the presence switch says". Like *away*, they keep their turn in the rotation.
OUT_OF_OFFICE = "out of office"
OFF_HOURS = "off hours"
FULL = "full"
ALWAYS_SKIPPED = frozenset({OUT_OF_OFFICE, OFF_HOURS, FULL})

ROUND_ROBIN = "round_robin"
FIRST_TO_CLAIM = "first_to_claim"
NEXT_UP = "next_up"
LEAST_LOADED = "least_loaded"

# Why a member was not chosen, in words a supervisor reads on the timeline.
HAD_TURN = "already had their turn this round"
JOINS_NEXT_ROUND = "joined mid-round: takes part from the next round"
NOT_MEMBER = "not a member"
MORE_LOADED = "has more open contacts"
CURRENT_OWNER = "skipped: current owner"


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    presence: str  # availability: available, away, offline, out of office, off hours, full
    load: int = 0  # open primary contacts (least loaded)
    last_assigned: float | None = None  # timestamp of their last assignment (ties)
    # Why they are not available, when they are not, in the why log's words ("out of office
    # until 2026-12-04 17:00 (cover: Ben Okafor)"); blank: the presence word.
    why: str = ""


@dataclass(frozen=True)
class Pick:
    method: str
    chosen: int | None  # assigned now (round robin, least loaded)
    offered: tuple[int, ...] = ()  # offered, in order (first to claim: all at once)
    candidates: tuple[int, ...] = ()
    excluded: dict[int, str] = field(default_factory=dict)
    reason: str = ""
    rotation: Rotation | None = None  # the state to store, when the method keeps one


def unavailable_reason(
    member: Member, skip_unavailable: bool, owner: int | None = None
) -> str | None:
    """Why ``member`` can't be given or offered a contact now (None: they can).

    A reassignment moves the contact away: its current owner is skipped like someone away
    (round robin keeps their place in the rotation). Out of office, off hours and full are
    skipped even with ``skip_unavailable`` off (it governs the presence switch only)."""
    if owner is not None and member.id == owner:
        return CURRENT_OWNER
    if member.presence == AVAILABLE:
        return None
    if skip_unavailable or member.presence in ALWAYS_SKIPPED:
        if member.why:
            return f"skipped: {member.why}"
        if member.presence in ALWAYS_SKIPPED:
            return f"skipped: {member.presence}"
        return AWAY if member.presence == AWAY else OFFLINE
    return None


def round_robin(
    members: list[Member],
    rotation: Rotation,
    *,
    skip_unavailable: bool = True,
    owner: int | None = None,
) -> Pick:
    """Fair rounds: in a round every member gets one contact before anyone gets a second.

    A member added mid-round joins from the next round; a removed member is skipped at once.
    A member skipped for being away keeps their place: if they come back before the round
    ends they still get their turn; if the round ends without them, they are first in the
    next one (owed, not lost).
    """
    by_id = {m.id: m for m in members}
    excluded: dict[int, str] = {}
    state = rotation
    if not state.round_members:
        state = new_round(state, set(by_id), [])
    for attempt in range(2):
        excluded = {}
        for member_id in state.round_members - set(by_id):
            excluded[member_id] = NOT_MEMBER
        for member_id in set(by_id) - state.round_members:
            excluded[member_id] = JOINS_NEXT_ROUND
        waiting = [m for m in state.order if m in state.round_members and m in by_id]
        chosen = None
        skipped: list[int] = []
        for member_id in waiting:
            if member_id in state.served:
                excluded[member_id] = HAD_TURN
                continue
            why = unavailable_reason(by_id[member_id], skip_unavailable, owner)
            if why:
                excluded[member_id] = why
                skipped.append(member_id)
                continue
            if chosen is None:
                chosen = member_id
        if chosen is not None:
            new_state = replace(state, served=state.served | {chosen})
            return Pick(
                ROUND_ROBIN,
                chosen,
                candidates=tuple(waiting),
                excluded={k: v for k, v in excluded.items() if k != chosen},
                reason=f"Next in rotation (round {new_state.round}).",
                rotation=new_state,
            )
        # Nobody left to serve in this round who can take it: the round is complete.
        anyone = any(not unavailable_reason(m, skip_unavailable, owner) for m in members)
        if attempt == 1 or not anyone:
            break
        state = new_round(state, set(by_id), skipped)
    return Pick(
        ROUND_ROBIN,
        None,
        candidates=tuple(m.id for m in members),
        excluded=excluded,
        reason="Nobody in the group is available.",
        rotation=rotation,
    )


def least_loaded(
    members: list[Member], *, skip_unavailable: bool = True, owner: int | None = None
) -> Pick:
    """The eligible member with the fewest open primary contacts; ties go to whoever waited
    longest since their last assignment (never assigned first), then by id."""
    excluded: dict[int, str] = {}
    eligible = []
    for member in members:
        why = unavailable_reason(member, skip_unavailable, owner)
        if why:
            excluded[member.id] = why
        else:
            eligible.append(member)
    if not eligible:
        return Pick(
            LEAST_LOADED,
            None,
            candidates=(),
            excluded=excluded,
            reason="Nobody in the group is available.",
        )
    ranked = sorted(
        eligible,
        key=lambda m: (m.load, m.last_assigned is not None, m.last_assigned or 0.0, m.id),
    )
    chosen = ranked[0]
    for member in ranked[1:]:
        excluded[member.id] = (
            MORE_LOADED if member.load > chosen.load else "waited less since their last contact"
        )
    return Pick(
        LEAST_LOADED,
        chosen.id,
        candidates=tuple(m.id for m in ranked),
        excluded=excluded,
        reason=f"Fewest open contacts ({chosen.load}).",
    )


def first_to_claim(
    members: list[Member], *, skip_unavailable: bool = True, owner: int | None = None
) -> Pick:
    """Offer to every eligible member at once; the first claim wins."""
    excluded = {}
    offered = []
    for member in members:
        why = unavailable_reason(member, skip_unavailable, owner)
        if why:
            excluded[member.id] = why
        else:
            offered.append(member.id)
    return Pick(
        FIRST_TO_CLAIM,
        None,
        offered=tuple(offered),
        candidates=tuple(offered),
        excluded=excluded,
        reason=(
            f"Offered to {len(offered)} member(s) at once; the first to claim gets it."
            if offered
            else "Nobody in the group is available."
        ),
    )


def next_up(
    members: list[Member],
    rotation: Rotation,
    *,
    skip_unavailable: bool = True,
    owner: int | None = None,
) -> Pick:
    """Offer to one member at a time, in rotation order, each for the claim window.

    Returns the whole sequence in ``offered`` (the first is offered now); the rotation is
    advanced by ``next_up_claimed`` once someone claims.
    """
    by_id = {m.id: m for m in members}
    state = rotation if rotation.round_members else new_round(rotation, set(by_id), [])
    in_round = [m for m in state.order if m in by_id and m in state.round_members]
    # Still owed a turn this round first, then those who had theirs; members who joined
    # mid-round come last (they take part from the next round).
    order = (
        [m for m in in_round if m not in state.served]
        + [m for m in in_round if m in state.served]
        + sorted(set(by_id) - set(in_round))
    )
    excluded = {}
    offered = []
    for member_id in order:
        why = unavailable_reason(by_id[member_id], skip_unavailable, owner)
        if why:
            excluded[member_id] = why
        else:
            offered.append(member_id)
    return Pick(
        NEXT_UP,
        None,
        offered=tuple(offered),
        candidates=tuple(order),
        excluded=excluded,
        reason=(
            "Offered to one member at a time, in rotation order."
            if offered
            else "Nobody in the group is available."
        ),
        rotation=state,
    )


def decide(
    method: str,
    members: list[Member],
    rotation: Rotation,
    *,
    skip_unavailable: bool = True,
    owner: int | None = None,
) -> Pick:
    """``owner``: the contact's current primary agent, never chosen or offered (the point
    of a reassignment is to move the contact away from them)."""
    kwargs = {"skip_unavailable": skip_unavailable, "owner": owner}
    if method == ROUND_ROBIN:
        return round_robin(members, rotation, **kwargs)
    if method == LEAST_LOADED:
        return least_loaded(members, **kwargs)
    if method == FIRST_TO_CLAIM:
        return first_to_claim(members, **kwargs)
    if method == NEXT_UP:
        return next_up(members, rotation, **kwargs)
    raise ValueError(f"Unknown distribution method {method!r}")
