"""The engine decides from plain data: no database here."""

import pytest

from routing.engine import AgentSnapshot, route_interaction

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
