"""Distribution methods, from plain data: no database."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.engine import (
    Member,
    Rotation,
    first_to_claim,
    least_loaded,
    next_up,
    next_up_claimed,
    round_robin,
    simulate,
)


def team(*presences, loads=None):
    return [
        Member(id=i + 1, name=f"M{i + 1}", presence=p, load=(loads or [0] * len(presences))[i])
        for i, p in enumerate(presences)
    ]


def run_round_robin(members, rotation, n):
    chosen = []
    for _ in range(n):
        pick = round_robin(members, rotation)
        chosen.append(pick.chosen)
        rotation = pick.rotation
    return chosen, rotation


def test_round_robin_gives_everyone_one_before_anyone_gets_two():
    chosen, rotation = run_round_robin(team("available", "available", "available"), Rotation(), 7)
    assert chosen == [1, 2, 3, 1, 2, 3, 1]
    assert rotation.round == 3


def test_round_robin_state_round_trips_through_json():
    _, rotation = run_round_robin(team("available", "available"), Rotation(), 3)
    assert Rotation.from_dict(rotation.as_dict()) == rotation


def test_an_away_member_keeps_their_place_and_is_owed_first_next_round():
    members = team("available", "away", "available")
    chosen, rotation = run_round_robin(members, Rotation(), 2)
    assert chosen == [1, 3]  # 2 is skipped, not lost
    pick = round_robin(members, rotation)
    assert pick.excluded[2] == "away"
    # 2 comes back: first in the new round, ahead of everyone
    back = team("available", "available", "available")
    chosen, _ = run_round_robin(back, rotation, 3)
    assert chosen[0] == 2


def test_an_away_member_back_before_the_round_ends_still_gets_their_turn():
    chosen, rotation = run_round_robin(
        team("available", "away", "available", "available"), Rotation(), 1
    )
    assert chosen == [1]
    chosen, _ = run_round_robin(
        team("available", "available", "available", "available"), rotation, 3
    )
    assert chosen == [2, 3, 4]


def test_a_member_added_mid_round_joins_from_the_next_round():
    chosen, rotation = run_round_robin(team("available", "available", "available"), Rotation(), 1)
    bigger = team("available", "available", "available", "available")
    pick = round_robin(bigger, rotation)
    assert pick.excluded[4] == "joined mid-round: takes part from the next round"
    chosen, _ = run_round_robin(bigger, rotation, 6)
    # the current round completes (2, 3); the next one includes 4, after those before them
    assert chosen == [2, 3, 1, 2, 3, 4]


def test_a_removed_member_is_skipped_at_once():
    _, rotation = run_round_robin(team("available", "available", "available"), Rotation(), 1)
    without_two = [m for m in team("available", "available", "available") if m.id != 2]
    chosen, _ = run_round_robin(without_two, rotation, 3)
    assert 2 not in chosen
    assert chosen[0] == 3


def test_nobody_available_chooses_nobody_and_keeps_the_rotation():
    rotation = Rotation()
    pick = round_robin(team("away", "offline"), rotation)
    assert pick.chosen is None
    assert pick.excluded == {1: "away", 2: "offline"}
    assert pick.rotation == rotation


def test_least_loaded_picks_the_fewest_open_contacts_then_the_longest_wait():
    members = [
        Member(1, "A", "available", load=3),
        Member(2, "B", "available", load=1, last_assigned=50.0),
        Member(3, "C", "available", load=1, last_assigned=10.0),
        Member(4, "D", "away", load=0),
    ]
    pick = least_loaded(members)
    assert pick.chosen == 3
    assert pick.excluded[1] == "has more open contacts"
    assert pick.excluded[4] == "away"


def test_first_to_claim_offers_to_every_available_member_at_once():
    pick = first_to_claim(team("available", "away", "available"))
    assert pick.offered == (1, 3)
    assert pick.chosen is None
    assert pick.excluded == {2: "away"}


def test_next_up_offers_in_rotation_order_and_advances_on_claim():
    members = team("available", "available", "available")
    pick = next_up(members, Rotation())
    assert pick.offered == (1, 2, 3)
    rotation = next_up_claimed(pick.rotation, [1, 2, 3], claimed_by=1)
    assert next_up(members, rotation).offered == (2, 3, 1)


def test_options_can_offer_to_members_who_are_away():
    assert first_to_claim(team("away", "available"), skip_unavailable=False).offered == (1, 2)


def test_simulate_changes_nothing_and_spreads_like_the_method():
    rotation = Rotation()
    assert simulate("round_robin", team("available", "available"), rotation, 4) == [1, 2, 1, 2]
    assert rotation == Rotation()
    assert simulate(
        "least_loaded", team("available", "available", loads=[2, 0]), Rotation(), 3
    ) == [2, 2, 1]


# --- Properties ---------------------------------------------------------------------------
events = st.lists(
    st.one_of(
        st.tuples(st.just("assign"), st.just(0)),
        st.tuples(st.just("join"), st.integers(1, 8)),
        st.tuples(st.just("leave"), st.integers(1, 8)),
        st.tuples(st.just("away"), st.integers(1, 8)),
        st.tuples(st.just("back"), st.integers(1, 8)),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(initial=st.sets(st.integers(1, 8), min_size=1), steps=events)
def test_round_robin_never_serves_anyone_twice_in_a_round_nor_outside_the_eligible_set(
    initial, steps
):
    present = set(initial)
    away: set[int] = set()
    rotation = Rotation()
    per_round: dict[int, Counter] = {}
    for action, who in steps:
        if action == "join":
            present.add(who)
        elif action == "leave":
            present.discard(who)
        elif action == "away":
            away.add(who)
        elif action == "back":
            away.discard(who)
        else:
            members = [
                Member(m, f"M{m}", "away" if m in away else "available") for m in sorted(present)
            ]
            pick = round_robin(members, rotation)
            if pick.chosen is not None:
                # nobody outside the eligible set is ever chosen
                assert pick.chosen in present and pick.chosen not in away
                rotation = pick.rotation
                per_round.setdefault(rotation.round, Counter())[pick.chosen] += 1
            else:
                assert not (present - away)
    # within every round, each member gets at most one: spread ≤ 1 per round
    for counts in per_round.values():
        assert max(counts.values()) == 1


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 10), contacts=st.integers(0, 60))
def test_round_robin_with_a_stable_team_keeps_counts_within_one(size, contacts):
    members = [Member(m, f"M{m}", "available") for m in range(1, size + 1)]
    chosen, _ = run_round_robin(members, Rotation(), contacts)
    counts = Counter(chosen)
    totals = [counts.get(m.id, 0) for m in members]
    assert max(totals) - min(totals) <= 1


@settings(max_examples=200, deadline=None)
@given(
    presences=st.lists(st.sampled_from(["available", "away", "offline"]), min_size=1, max_size=8),
    loads=st.lists(st.integers(0, 50), min_size=8, max_size=8),
)
def test_least_loaded_and_first_to_claim_choose_only_available_members(presences, loads):
    members = [Member(i, f"M{i}", p, load=loads[i]) for i, p in enumerate(presences)]
    available = {m.id for m in members if m.presence == "available"}
    pick = least_loaded(members)
    assert (pick.chosen in available) if available else pick.chosen is None
    if pick.chosen is not None:
        assert loads[pick.chosen] == min(loads[i] for i in available)
    assert set(first_to_claim(members).offered) == available
    assert set(next_up(members, Rotation()).offered) == available


def test_next_up_offers_newcomers_only_after_the_current_round():
    members = team("available", "available", "available")
    pick = next_up(members, Rotation())
    rotation = next_up_claimed(pick.rotation, [1, 2, 3], claimed_by=1)
    bigger = team("available", "available", "available", "available")
    assert next_up(bigger, rotation).offered == (2, 3, 1, 4)
