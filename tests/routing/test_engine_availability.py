"""The engine with availability beside presence (out of office, off hours, full), from plain
data: skipped with their why whatever the presence option, keeping their turn as *away* does;
ring lists leave them out saying why. No database."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from agents.centers.facts import SIMULTANEOUS, CenterFacts, DeviceFact, MemberFact
from routing.engine import (
    Member,
    Rotation,
    decide,
    first_to_claim,
    least_loaded,
    next_up,
    next_up_next,
    plan,
    ring_list,
    round_robin,
)

OOO_WHY = "out of office until 2026-12-04 17:00 (cover: Ben Okafor)"
STATUSES = ["available", "away", "offline", "out of office", "off hours", "full"]
ALWAYS = {"out of office", "off hours", "full"}


def member(i, status="available", load=0):
    why = {"out of office": OOO_WHY, "off hours": "off hours until 2026-12-07 09:00"}.get(status)
    if status == "full":
        why = "at capacity (5 of 5 open items)"
    return Member(i, f"M{i}", status, load=load, why=why or "")


def test_out_of_office_is_skipped_with_its_why_by_every_method():
    members = [member(1, "out of office"), member(2)]
    for method in ("round_robin", "least_loaded", "first_to_claim", "next_up"):
        pick = decide(method, members, Rotation())
        assert pick.excluded[1] == f"skipped: {OOO_WHY}", method
        assert 1 not in pick.offered and pick.chosen != 1


def test_away_keeps_its_one_word_reason():
    pick = round_robin([member(1, "away"), member(2)], Rotation())
    assert pick.excluded[1] == "away"


def test_availability_is_skipped_even_when_the_group_does_not_skip_presence():
    members = [member(1, "off hours"), member(2, "away"), member(3, "full")]
    pick = first_to_claim(members, skip_unavailable=False)
    assert pick.offered == (2,)
    assert pick.excluded == {
        1: "skipped: off hours until 2026-12-07 09:00",
        3: "skipped: at capacity (5 of 5 open items)",
    }


def test_an_out_of_office_member_is_owed_their_turn_when_back():
    # given a round where member 1 is out of office
    rotation = Rotation()
    chosen = []
    for _ in range(2):
        pick = round_robin([member(1, "out of office"), member(2), member(3)], rotation)
        chosen.append(pick.chosen)
        rotation = pick.rotation
    assert chosen == [2, 3]
    # when they are back
    pick = round_robin([member(1), member(2), member(3)], rotation)
    # then they come first: owed, not lost, and never an extra on top of a round
    assert pick.chosen == 1


def test_next_up_next_passes_over_a_member_who_went_out_of_office():
    step = next_up_next([1, 2], {1: member(1, "out of office"), 2: member(2)})
    assert step.agent_id == 2
    assert step.passed_over == {1: f"skipped: {OOO_WHY}"}


def test_a_handover_plan_never_gives_to_a_full_member():
    # given the least loaded member is full
    members = [member(1, "full"), member(2, load=3), member(3, load=5)]
    # when a book of four is planned
    picks = plan("least_loaded", members, Rotation(), 4).winners
    # then it spreads over the others as single decisions would, none to the full one
    assert picks == [2, 2, 2, 3]


def test_a_ring_list_leaves_out_the_out_of_office_saying_why():
    phone = (DeviceFact(7, "phone", "Desk phone", True),)
    facts = CenterFacts(
        routing_type=SIMULTANEOUS,
        members=(
            MemberFact(1, "Ava", False, phone, why=OOO_WHY),
            MemberFact(2, "Ben", True, phone),
            MemberFact(3, "Chloe", False, phone),
        ),
    )
    ring = ring_list(facts)
    assert ring.agent_ids == [2]
    assert ring.excluded == {1: OOO_WHY, 3: "not available"}


# --- Properties -------------------------------------------------------------------------------
steps = st.lists(
    st.one_of(
        st.tuples(st.just("assign"), st.just(0), st.just("")),
        st.tuples(st.just("join"), st.integers(1, 6), st.just("")),
        st.tuples(st.just("leave"), st.integers(1, 6), st.just("")),
        st.tuples(st.just("status"), st.integers(1, 6), st.sampled_from(STATUSES)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(
    initial=st.sets(st.integers(1, 6), min_size=1),
    actions=steps,
    skip=st.booleans(),
)
def test_round_robin_with_every_status_serves_nobody_twice_a_round_nor_anyone_unavailable(
    initial, actions, skip
):
    present = set(initial)
    status: dict[int, str] = {}
    rotation = Rotation()
    per_round: dict[int, Counter] = {}
    for action, who, new in actions:
        if action == "join":
            present.add(who)
        elif action == "leave":
            present.discard(who)
        elif action == "status":
            status[who] = new
        else:
            members = [member(m, status.get(m, "available")) for m in sorted(present)]
            pick = round_robin(members, rotation, skip_unavailable=skip)
            can = {
                m.id
                for m in members
                if m.presence == "available" or (not skip and m.presence not in ALWAYS)
            }
            if pick.chosen is not None:
                # nobody out of office, off hours or full (nor away, when skipped) is chosen
                assert pick.chosen in can
                rotation = pick.rotation
                per_round.setdefault(rotation.round, Counter())[pick.chosen] += 1
            else:
                assert not can
    for counts in per_round.values():
        assert max(counts.values()) == 1


@settings(max_examples=200, deadline=None)
@given(
    statuses=st.lists(st.sampled_from(STATUSES), min_size=1, max_size=8),
    loads=st.lists(st.integers(0, 50), min_size=8, max_size=8),
)
def test_every_method_chooses_or_offers_only_available_members(statuses, loads):
    members = [member(i, s, load=loads[i]) for i, s in enumerate(statuses)]
    available = {m.id for m in members if m.presence == "available"}
    pick = least_loaded(members)
    assert (pick.chosen in available) if available else pick.chosen is None
    assert set(first_to_claim(members).offered) == available
    assert set(next_up(members, Rotation()).offered) == available
    for m in members:
        if m.presence in ALWAYS:
            assert first_to_claim(members, skip_unavailable=False).excluded[m.id] == (
                f"skipped: {m.why}"
            )


@settings(max_examples=200, deadline=None)
@given(size=st.integers(2, 6), out=st.integers(0, 5), contacts=st.integers(1, 30))
def test_someone_out_for_a_while_gets_their_owed_turn_first_when_back(size, out, contacts):
    # given member `who` is out of office for `contacts` assignments
    who = out % size + 1
    rotation = Rotation()
    for _ in range(contacts):
        members = [
            member(m, "out of office" if m == who else "available") for m in range(1, size + 1)
        ]
        pick = round_robin(members, rotation)
        assert pick.chosen != who
        rotation = pick.rotation
    # when they are back, they get one of the next `size` contacts (owed, never lost)
    back = [member(m) for m in range(1, size + 1)]
    chosen = []
    for _ in range(size):
        pick = round_robin(back, rotation)
        chosen.append(pick.chosen)
        rotation = pick.rotation
    assert who in chosen
