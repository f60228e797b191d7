"""The pure engine speaks in plain strings; the models store the choices' values. The two
must be the same words, or a rule's method or an agent's presence would match nothing."""

from agents.centers.models import ContactCenter
from agents.choices import Presence
from contacts.models import Channel, Interaction
from routing import engine
from routing.engine import centers, inbound, methods, vocabulary
from routing.models import Method


def test_the_engine_s_distribution_methods_are_the_method_choices():
    # the engine's constants, one per method, name for name
    by_name = {
        "ROUND_ROBIN": methods.ROUND_ROBIN,
        "FIRST_TO_CLAIM": methods.FIRST_TO_CLAIM,
        "NEXT_UP": methods.NEXT_UP,
        "LEAST_LOADED": methods.LEAST_LOADED,
    }
    assert by_name == {choice.name: choice.value for choice in Method}
    # and the package exports the same strings
    assert all(getattr(engine, name) == value for name, value in by_name.items())


def test_the_engine_s_presence_words_are_the_presence_choices():
    by_name = {
        "AVAILABLE": vocabulary.AVAILABLE,
        "AWAY": vocabulary.AWAY,
        "OFFLINE": vocabulary.OFFLINE,
    }
    assert by_name == {choice.name: choice.value for choice in Presence}
    assert all(getattr(engine, name) == value for name, value in by_name.items())


def test_the_engine_s_pool_and_channels_are_the_interaction_choices():
    assert Interaction.Pool.values == [vocabulary.ACTIVE_POOL, vocabulary.QUEUE_POOL]
    assert set(Channel.values) == inbound.DIRECT_CHANNELS | inbound.REAL_TIME_CHANNELS
    assert not inbound.DIRECT_CHANNELS & inbound.REAL_TIME_CHANNELS


def test_the_engine_s_center_routing_types_are_the_routing_type_choices():
    assert list(centers.ROUTING_TYPES) == ContactCenter.RoutingType.values
