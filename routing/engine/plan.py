"""Several decisions ahead: the simulation of a group and the handover of a whole book, and
next up's move to the next member when a claim window ends."""

from dataclasses import dataclass, field, replace

from .methods import NEXT_UP, ROUND_ROBIN, Member, Pick, decide, unavailable_reason
from .rotation import Rotation, next_up_claimed


@dataclass(frozen=True)
class Plan:
    """The picks for the next contacts, in order, and the rotation to store after them."""

    picks: list[Pick] = field(default_factory=list)
    rotation: Rotation = field(default_factory=Rotation)

    @property
    def winners(self) -> list[int | None]:
        """Who each contact goes to, or is offered to first (None: nobody)."""
        return [_winner(p) for p in self.picks]


def _winner(pick: Pick) -> int | None:
    if pick.chosen is not None:
        return pick.chosen
    return pick.offered[0] if pick.offered else None


def plan(
    method: str,
    members: list[Member],
    rotation: Rotation,
    count: int,
    *,
    skip_unavailable: bool = True,
) -> Plan:
    """Decide ``count`` contacts one after another, exactly as single decisions would.

    Each winner's load grows by one (least loaded spreads as it would); round robin carries
    its rotation from pick to pick, and next up treats the first offered as having claimed."""
    picks: list[Pick] = []
    members = list(members)
    state = rotation
    for _ in range(count):
        pick = decide(method, members, state, skip_unavailable=skip_unavailable)
        picks.append(pick)
        winner = _winner(pick)
        if method == ROUND_ROBIN and pick.rotation is not None:
            state = pick.rotation
        elif method == NEXT_UP and winner is not None:
            state = next_up_claimed(pick.rotation or state, [m.id for m in members], winner)
        if winner is not None:
            members = [replace(m, load=m.load + 1) if m.id == winner else m for m in members]
    return Plan(picks=picks, rotation=state)


def simulate(
    method: str,
    members: list[Member],
    rotation: Rotation,
    count: int,
    *,
    skip_unavailable: bool = True,
) -> list[int | None]:
    """Who the next ``count`` contacts would go to (or be offered to first), changing nothing."""
    return plan(method, members, rotation, count, skip_unavailable=skip_unavailable).winners


@dataclass(frozen=True)
class NextOffer:
    """Next up after a claim window: who is offered now, who is still to come, who was
    passed over and why."""

    agent_id: int | None
    queue: list[int]
    passed_over: dict[int, str]


def next_up_next(
    queue: list[int], members: dict[int, Member], *, skip_unavailable: bool = True
) -> NextOffer:
    """The next member of a next-up round's queue who can be offered the contact: members
    who left are dropped, and (with ``skip_unavailable``) away or offline ones passed over;
    out of office, off hours and full ones always, with their reason, as ``decide`` does."""
    passed: dict[int, str] = {}
    rest = list(queue)
    while rest:
        candidate = rest.pop(0)
        member = members.get(candidate)
        if member is None:
            passed[candidate] = "no longer a member"
            continue
        why = unavailable_reason(member, skip_unavailable)
        if why:
            passed[candidate] = why
            continue
        return NextOffer(candidate, rest, passed)
    return NextOffer(None, [], passed)
