"""The engine decides from plain data: no database here."""

import pytest

from routing.engine import (
    CURRENT_OWNER,
    AgentSnapshot,
    Member,
    Rotation,
    decide,
    round_robin,
    route_interaction,
)

AVA = AgentSnapshot(id=1, name="Ava Patel", presence="available")


@pytest.mark.parametrize("channel", ["text", "form"])
def test_text_and_form_go_to_an_available_primary_agent(channel):
    route = route_interaction(channel=channel, primary=AVA)
    assert route.agent_id == 1
    assert route.pool == ""
    assert route.reason == "Sent to Ava Patel, the contact's primary agent, who is available."


@pytest.mark.parametrize("presence", ["away", "offline"])
def test_text_goes_to_active_when_the_primary_agent_is_not_available(presence):
    route = route_interaction(
        channel="text", primary=AgentSnapshot(id=1, name="Ava Patel", presence=presence)
    )
    assert route.agent_id is None
    assert route.pool == "active"
    assert f"Ava Patel, is {presence}" in route.reason
    assert route.details["rule"] == "primary_not_available"


def test_form_without_primary_agent_goes_to_active():
    route = route_interaction(channel="form", primary=None)
    assert (route.agent_id, route.pool) == (None, "active")
    assert "no primary agent" in route.reason


@pytest.mark.parametrize("channel", ["call", "chat"])
def test_calls_and_chats_never_go_to_the_primary_agent(channel):
    route = route_interaction(channel=channel, primary=AVA)
    assert route.agent_id is None
    assert route.pool == "active"
    assert "never go to the primary agent" in route.reason


def test_unknown_channel_is_refused():
    with pytest.raises(ValueError, match="Unknown channel"):
        route_interaction(channel="fax", primary=AVA)


# --- A reassignment never goes back to the contact's current owner --------------------------
def _members(n=3):
    return [Member(id=i, name=f"M{i}", presence="available") for i in range(1, n + 1)]


@pytest.mark.parametrize("method", ["round_robin", "least_loaded", "first_to_claim", "next_up"])
def test_the_current_owner_is_never_chosen_or_offered(method):
    # given three available members, the first of them owning the contact
    members = _members()
    # when the engine picks
    pick = decide(method, members, Rotation(), owner=1)
    # then someone else gets it (or is offered it) and the owner is passed over with the reason
    assert pick.chosen != 1
    assert 1 not in pick.offered
    assert (pick.chosen or pick.offered[0]) == 2
    assert pick.excluded[1] == CURRENT_OWNER == "skipped: current owner"


@pytest.mark.parametrize("method", ["round_robin", "least_loaded", "first_to_claim", "next_up"])
def test_an_owner_alone_in_the_group_leaves_nobody_to_pick(method):
    pick = decide(method, _members(1), Rotation(), owner=1)
    assert pick.chosen is None and pick.offered == ()


def test_round_robin_keeps_the_skipped_owners_place_in_the_rotation():
    # given member 1 owns the contact and is first in the rotation
    first = round_robin(_members(), Rotation(), owner=1)
    assert first.chosen == 2
    # when the next contacts (owned by nobody in the group) come
    second = round_robin(_members(), first.rotation)
    third = round_robin(_members(), second.rotation)
    # then member 1 still has their turn this round
    assert [second.chosen, third.chosen] == [1, 3]
