"""Where an inbound text or form goes (routing/engine/inbound.py), following the owner's
availability and their cover's: the pure decision, without a database."""

import pytest

from routing.engine import AgentSnapshot, route_interaction

CHLOE_OUT = AgentSnapshot(
    id=1,
    name="Chloe Martin",
    presence="out of office",
    why="out of office until 2026-12-04 17:00",
    cover=AgentSnapshot(id=2, name="Ben Okafor", presence="available", why="available"),
    cover_until=1796000000.0,
)


def test_an_available_cover_gets_the_absent_owners_text():
    # when Chloe is out of office and Ben, her cover, is available
    route = route_interaction(channel="text", primary=CHLOE_OUT)
    # then Ben gets it, covering for Chloe until the absence ends
    assert route.agent_id == 2 and route.pool == ""
    assert route.reason == (
        "The primary agent, Chloe Martin, is out of office until 2026-12-04 17:00; sent to "
        "Ben Okafor, who covers for them."
    )
    assert route.details["rule"] == "cover_available"
    assert route.details["covering_for"] == 1
    assert route.details["cover_until"] == 1796000000.0


@pytest.mark.parametrize(
    ("cover", "said"),
    [
        (AgentSnapshot(id=2, name="Ben Okafor", presence="away", why="away"), "is away"),
        (
            AgentSnapshot(id=2, name="Ben Okafor", presence="off hours", why="off hours until X"),
            "is off hours until X",
        ),
        (
            AgentSnapshot(id=2, name="Ben Okafor", presence="full", why="at capacity (5 open)"),
            "is at capacity (5 open)",
        ),
        (
            AgentSnapshot(id=2, name="Ben Okafor", presence="available", works_here=False),
            "no longer works contacts of this company",
        ),
    ],
)
def test_a_cover_who_cannot_take_it_leaves_it_to_active(cover, said):
    # when the cover cannot take it
    primary = AgentSnapshot(
        id=1,
        name="Chloe Martin",
        presence="out of office",
        why="out of office until 2026-12-04 17:00",
        cover=cover,
    )
    route = route_interaction(channel="form", primary=primary)
    # then Active, naming the cover and why
    assert route.agent_id is None and route.pool == "active"
    assert route.reason == (
        "The primary agent, Chloe Martin, is out of office until 2026-12-04 17:00 and their "
        f"cover, Ben Okafor, {said}, so it is shown in Active to every available agent."
    )
    assert route.details["rule"] == "cover_not_available"


@pytest.mark.parametrize(
    ("presence", "why", "said"),
    [
        ("out of office", "out of office until 2026-12-04 17:00", "is out of office until "),
        ("off hours", "off hours until 2026-12-03 09:00", "is off hours until 2026-12-03 09:00"),
        ("full", "at capacity (3 open items)", "is at capacity (3 open items)"),
        ("away", "", "is away"),  # no why: the presence word, as before
    ],
)
def test_an_owner_who_is_not_available_and_has_no_cover_leaves_it_to_active(presence, why, said):
    primary = AgentSnapshot(id=1, name="Chloe Martin", presence=presence, why=why)
    route = route_interaction(channel="text", primary=primary)
    assert route.agent_id is None and route.pool == "active"
    assert route.reason.startswith(f"The primary agent, Chloe Martin, {said}")
    assert route.reason.endswith(", so it is shown in Active to every available agent.")


def test_a_cover_is_asked_only_while_the_owner_is_out_of_office():
    # given a cover recorded, but the owner is off hours (the absence is over)
    primary = AgentSnapshot(
        id=1,
        name="Chloe Martin",
        presence="off hours",
        why="off hours until 2026-12-03 09:00",
        cover=AgentSnapshot(id=2, name="Ben Okafor", presence="available"),
    )
    # then the cover does not get it
    assert route_interaction(channel="text", primary=primary).agent_id is None


def test_an_available_owner_gets_it_even_with_a_cover_named():
    primary = AgentSnapshot(
        id=1,
        name="Chloe Martin",
        presence="available",
        cover=AgentSnapshot(id=2, name="Ben Okafor", presence="available"),
    )
    route = route_interaction(channel="text", primary=primary)
    assert route.agent_id == 1
    assert route.reason == "Sent to Chloe Martin, the contact's primary agent, who is available."


@pytest.mark.parametrize("primary", [None, AgentSnapshot(id=1, name="Ava", presence="full")])
def test_with_everyone_full_an_item_for_active_waits_in_the_queue(primary):
    route = route_interaction(channel="text", primary=primary, everyone_full=True)
    assert route.agent_id is None and route.pool == "queue"
    assert route.reason.endswith(
        ". Every available agent is at capacity: it waits in the queue and goes to the first "
        "with room."
    )
    assert route.details["queued"] is True


def test_everyone_full_never_keeps_an_item_from_an_available_owner_or_a_call():
    available = AgentSnapshot(id=1, name="Ava", presence="available")
    assert route_interaction(channel="text", primary=available, everyone_full=True).agent_id == 1
    call = route_interaction(channel="call", primary=available, everyone_full=True)
    assert call.pool == "active"
