"""Contact-center routing types: pure functions, no database."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.engine.centers import (
    FIXED_ORDER,
    LONGEST_IDLE,
    NO_RANK,
    NO_RINGING_DEVICE,
    NOT_AVAILABLE,
    ROUND_ROBIN,
    ROUTING_TYPES,
    SIMULTANEOUS,
    SKILLS,
    CenterFacts,
    DeviceFact,
    MemberFact,
    ring_list,
    round_robin_after,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PHONE = DeviceFact(id=1, kind="mobile", label="Mobile", ring=True)
SILENT = DeviceFact(id=2, kind="desk_phone", label="Desk phone", ring=False)


def member(agent_id, *, available=True, devices=(PHONE,), idle_min=None, rank=100, position=0):
    return MemberFact(
        agent_id=agent_id,
        name=f"Agent {agent_id}",
        available=available,
        devices=devices,
        idle_since=None if idle_min is None else T0 - timedelta(minutes=idle_min),
        rank=rank,
        position=position,
    )


def test_skills_based_rings_the_most_proficient_first_and_breaks_ties_by_longest_idle():
    # given three agents ranked for "billing", two of them tied
    facts = CenterFacts(
        routing_type=SKILLS,
        call_type="billing",
        members=(
            member(1, rank=40, idle_min=90),
            member(2, rank=90, idle_min=5),
            member(3, rank=90, idle_min=30),
        ),
    )
    # when
    result = ring_list(facts)
    # then the 90s ring first, the one idle longer ahead
    assert result.agent_ids == [3, 2, 1]
    assert [e.order for e in result.ring] == [1, 2, 3]
    assert "billing" in result.reason


def test_skills_based_rings_only_members_ranked_for_the_call_type():
    # given Ben ranked 60 for billing and Sam (idle the longest) with no billing rank
    facts = CenterFacts(
        routing_type=SKILLS,
        call_type="billing",
        members=(member(1, rank=60, idle_min=5), member(2, rank=None, idle_min=None)),
    )
    # when a billing call comes in
    result = ring_list(facts)
    # then only Ben rings, with his rank; Sam is left out with the reason
    assert result.agent_ids == [1]
    assert result.ring[0].rank == 60
    assert result.excluded == {2: NO_RANK.format(call_type="billing")}
    assert "without a rank for billing" in result.reason


def test_skills_based_without_ranked_members_rings_nobody_and_says_why():
    facts = CenterFacts(routing_type=SKILLS, call_type="billing", members=(member(1, rank=None),))
    result = ring_list(facts)
    assert result.ring == ()
    assert "a rank for billing" in result.reason


def test_skills_based_without_a_call_type_rings_everyone_longest_idle_first():
    # given no call type: nobody is ranked
    facts = CenterFacts(
        routing_type=SKILLS,
        members=(member(1, rank=None, idle_min=5), member(2, rank=None, idle_min=50)),
    )
    # then everyone rings, the longest idle first, and no rank is shown
    result = ring_list(facts)
    assert result.agent_ids == [2, 1]
    assert [e.rank for e in result.ring] == [None, None]


def test_only_skills_based_entries_carry_a_rank():
    facts = CenterFacts(routing_type=LONGEST_IDLE, call_type="billing", members=(member(1),))
    assert ring_list(facts).ring[0].rank is None


def test_longest_idle_rings_who_waited_longest_and_never_called_first():
    facts = CenterFacts(
        routing_type=LONGEST_IDLE,
        members=(member(1, idle_min=10), member(2, idle_min=None), member(3, idle_min=60)),
    )
    assert ring_list(facts).agent_ids == [2, 3, 1]


def test_round_robin_follows_the_stored_order_and_newcomers_ring_last():
    facts = CenterFacts(
        routing_type=ROUND_ROBIN,
        round_robin_order=(3, 1),
        members=(member(1, position=0), member(2, position=1), member(3, position=2)),
    )
    assert ring_list(facts).agent_ids == [3, 1, 2]


def test_round_robin_moves_who_answered_or_missed_to_the_end():
    assert round_robin_after((1, 2, 3), 1) == (2, 3, 1)
    assert round_robin_after((1, 2, 3), 2) == (1, 3, 2)
    assert round_robin_after((1, 2), 9) == (1, 2, 9)


def test_fixed_order_rings_by_position():
    facts = CenterFacts(
        routing_type=FIXED_ORDER,
        members=(member(7, position=2), member(8, position=0), member(9, position=1)),
    )
    assert ring_list(facts).agent_ids == [8, 9, 7]


def test_simultaneous_rings_everyone_at_once():
    facts = CenterFacts(routing_type=SIMULTANEOUS, members=(member(1), member(2), member(3)))
    result = ring_list(facts)
    assert sorted(result.agent_ids) == [1, 2, 3]
    assert {e.order for e in result.ring} == {1}


def test_unavailable_and_deviceless_members_are_left_out_with_the_reason():
    facts = CenterFacts(
        routing_type=LONGEST_IDLE,
        members=(member(1, available=False), member(2, devices=(SILENT,)), member(3)),
    )
    result = ring_list(facts)
    assert result.agent_ids == [3]
    assert result.excluded == {1: NOT_AVAILABLE, 2: NO_RINGING_DEVICE}
    assert "2 left out" in result.reason


def test_only_ringing_devices_are_listed_for_a_member():
    facts = CenterFacts(routing_type=FIXED_ORDER, members=(member(1, devices=(PHONE, SILENT)),))
    assert ring_list(facts).ring[0].devices == (PHONE,)


def test_a_closed_center_rings_nobody_and_says_what_happens_instead():
    facts = CenterFacts(
        routing_type=SIMULTANEOUS, members=(member(1),), is_open=False, after_hours="voicemail"
    )
    result = ring_list(facts)
    assert result.ring == ()
    assert "closed" in result.reason and "voicemail" in result.reason


def test_nobody_to_ring_is_explained():
    result = ring_list(CenterFacts(routing_type=SKILLS, members=(member(1, available=False),)))
    assert result.ring == () and result.reason.startswith("Nobody rings")


def test_an_unknown_routing_type_is_refused():
    with pytest.raises(ValueError, match="Unknown routing type"):
        ring_list(CenterFacts(routing_type="lottery", members=()))


# --- Properties ------------------------------------------------------------------------------
devices = st.lists(
    st.builds(
        DeviceFact,
        id=st.integers(1, 9),
        kind=st.just("mobile"),
        label=st.just("d"),
        ring=st.booleans(),
    ),
    max_size=3,
).map(tuple)
members = st.lists(
    st.builds(
        MemberFact,
        agent_id=st.integers(1, 40),
        name=st.just("x"),
        available=st.booleans(),
        devices=devices,
        idle_since=st.none() | st.integers(0, 10_000).map(lambda m: T0 - timedelta(minutes=m)),
        rank=st.none() | st.integers(1, 100),
        position=st.integers(0, 50),
    ),
    max_size=25,
    unique_by=lambda m: m.agent_id,
).map(tuple)


@given(
    members=members,
    routing_type=st.sampled_from(ROUTING_TYPES),
    order=st.lists(st.integers(1, 40), unique=True).map(tuple),
)
def test_nobody_unavailable_or_without_a_ringing_device_ever_rings(members, routing_type, order):
    result = ring_list(
        CenterFacts(routing_type=routing_type, members=members, round_robin_order=order)
    )
    by_id = {m.agent_id: m for m in members}
    for entry in result.ring:
        assert by_id[entry.agent_id].available
        assert entry.devices and all(d.ring for d in entry.devices)
    # and everyone is either ringing or excluded with a reason, never both
    assert set(result.agent_ids) | set(result.excluded) == set(by_id)
    assert not set(result.agent_ids) & set(result.excluded)


@given(members=members)
def test_skills_order_is_by_rank_then_longest_idle(members):
    result = ring_list(CenterFacts(routing_type=SKILLS, members=members))
    by_id = {m.agent_id: m for m in members}
    ringing = [by_id[a] for a in result.agent_ids]
    for first, second in zip(ringing, ringing[1:], strict=False):
        assert (first.rank or 0) >= (second.rank or 0)
        if first.rank == second.rank and second.idle_since is not None:
            assert first.idle_since is None or first.idle_since <= second.idle_since


@given(members=members)
def test_a_skills_call_of_a_type_rings_only_members_ranked_for_it(members):
    result = ring_list(CenterFacts(routing_type=SKILLS, call_type="billing", members=members))
    by_id = {m.agent_id: m for m in members}
    assert all(by_id[a].rank is not None for a in result.agent_ids)
    assert [e.rank for e in result.ring] == [by_id[a].rank for a in result.agent_ids]
    for agent_id, member in by_id.items():
        if member.rank is None:
            assert agent_id in result.excluded


@given(n=st.integers(1, 12), answers=st.lists(st.integers(0, 11), max_size=60))
def test_round_robin_is_fair_when_whoever_rings_first_answers(n, answers):
    # given n always-available agents; when the first in line takes each call in turn
    order = tuple(range(1, n + 1))
    facts = [member(a) for a in order]
    taken = dict.fromkeys(order, 0)
    calls = len(answers)
    for _ in range(calls):
        first = ring_list(
            CenterFacts(routing_type=ROUND_ROBIN, members=tuple(facts), round_robin_order=order)
        ).agent_ids[0]
        taken[first] += 1
        order = round_robin_after(order, first)
    # then nobody has more than one call more than anyone else
    assert max(taken.values()) - min(taken.values()) <= 1


@given(n=st.integers(2, 10), missed=st.integers(0, 9))
def test_round_robin_sends_who_missed_to_the_back(n, missed):
    order = tuple(range(1, n + 1))
    loser = order[missed % n]
    after = round_robin_after(order, loser)
    assert after[-1] == loser and sorted(after) == sorted(order)


def test_the_routing_types_import_no_django():
    import subprocess
    import sys

    code = "import sys, routing.engine.centers; print(any(m.startswith('django') for m in sys.modules))"  # noqa: E501
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
