"""The stored state of a group's rounds, and how a round starts and ends."""

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Rotation:
    """The stored state of a group's rounds.

    ``round_members`` are those the current round started with; ``served`` got their contact
    this round; ``order`` is the rotation order (owed members first). Stored as JSON by
    ``as_dict`` / ``from_dict``, so a restart loses nothing.
    """

    round: int = 0
    order: tuple[int, ...] = ()
    round_members: frozenset[int] = frozenset()
    served: frozenset[int] = frozenset()

    def as_dict(self) -> dict:
        return {
            "round": self.round,
            "order": list(self.order),
            "round_members": sorted(self.round_members),
            "served": sorted(self.served),
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> "Rotation":
        data = data or {}
        return cls(
            round=int(data.get("round", 0)),
            order=tuple(data.get("order", ())),
            round_members=frozenset(data.get("round_members", ())),
            served=frozenset(data.get("served", ())),
        )


def new_round(rotation: Rotation, member_ids: set[int], owed: list[int]) -> Rotation:
    """Start the next round with everyone who is a member now; owed members go first."""
    previous = [m for m in rotation.order if m in member_ids and m not in owed]
    newcomers = sorted(member_ids - set(previous) - set(owed))
    return Rotation(
        round=rotation.round + 1,
        order=tuple(owed + previous + newcomers),
        round_members=frozenset(member_ids),
        served=frozenset(),
    )


def next_up_claimed(rotation: Rotation, members: list[int], claimed_by: int) -> Rotation:
    """The rotation after ``claimed_by`` took a next-up contact: they had their turn."""
    state = rotation
    if claimed_by in state.served or claimed_by not in state.round_members:
        state = new_round(state, set(members), [])
    return replace(state, served=state.served | {claimed_by})
