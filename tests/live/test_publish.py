"""live_changed: after commit only, once per stream per commit, nothing for a rollback; the
token: signed, for one user and company, refused otherwise."""

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction

from agents import live
from agents.live import (
    TokenRefused,
    live_changed,
    live_token,
    live_token_read,
    stream_active,
    stream_agent,
    stream_contact,
)
from contacts.interactions import interaction_take
from contacts.models import Interaction
from routing.inbound import inbound_receive
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(monkeypatch):
    """What reached the channel layer, one list per publish (the layer's own send is
    tested over a real socket in test_socket.py)."""
    calls: list[list[tuple[int, str]]] = []
    monkeypatch.setattr(live, "publish", lambda keys: calls.append(sorted(keys)))
    return calls


def test_nothing_before_commit_then_one_message_per_stream(sent):
    # given a transaction that names the same streams several times
    with transaction.atomic():
        live_changed(company_id=1, streams=[stream_agent(7), stream_active(1)])
        live_changed(company_id=1, streams=[stream_agent(7)])
        live_changed(company_id=1, streams=[stream_contact(9), stream_active(1)])
        # then nothing is sent while it runs
        assert sent == []
    # and once it commits, each stream once, in one publish
    assert sent == [[(1, "active.1"), (1, "agent.7"), (1, "contact.9")]]


def test_a_rolled_back_transaction_sends_nothing(sent):
    with pytest.raises(RuntimeError), transaction.atomic():
        live_changed(company_id=1, streams=[stream_agent(7)])
        raise RuntimeError("the change fails")
    assert sent == []
    # and the next transaction starts clean
    with transaction.atomic():
        live_changed(company_id=1, streams=[stream_agent(8)])
    assert sent == [[(1, "agent.8")]]


def test_a_rolled_back_savepoint_drops_its_streams_only(sent):
    with transaction.atomic():
        live_changed(company_id=1, streams=[stream_agent(1)])
        with pytest.raises(RuntimeError), transaction.atomic():
            live_changed(company_id=1, streams=[stream_agent(2)])
            raise RuntimeError("the savepoint fails")
        with transaction.atomic():
            # a savepoint that commits, naming a stream the transaction named already
            live_changed(company_id=1, streams=[stream_agent(1), stream_agent(3)])
        live_changed(company_id=1, streams=[stream_agent(1)])
    published = [key for call in sent for key in call]
    assert sorted(published) == [(1, "agent.1"), (1, "agent.3")]  # each once, never agent.2


def test_outside_a_transaction_it_sends_at_once(sent):
    live_changed(company_id=3, streams=[stream_active(3)])
    assert sent == [[(3, "active.3")]]


def test_a_stream_name_of_no_page_is_a_programming_error(sent):
    with pytest.raises(ValueError, match="Not a live stream name"):
        live_changed(company_id=1, streams=["agent.7; DROP"])


def test_a_take_tells_active_the_taker_and_the_contact_after_commit(sent, company, agent):
    # given an unknown number's text in Active
    online(agent)
    inbound_receive(company=company, channel="text", phone="+12025550999", body="Hello?")
    item = Interaction.objects.get(company=company)
    sent.clear()
    # when Andy takes it
    interaction_take(company=company, interaction_id=item.pk, agent=agent)
    # then Active, Andy's inbox, the contact's page and the workload page hear of it
    streams = {stream for call in sent for company_id, stream in call if company_id == company.pk}
    assert {
        stream_active(company.pk),
        stream_agent(agent.pk),
        stream_contact(item.contact_id),
    } <= streams


def test_a_refused_take_tells_nobody(sent, company, agent):
    online(agent)
    inbound_receive(company=company, channel="text", phone="+12025550999", body="Hello?")
    item = Interaction.objects.get(company=company)
    other = AgentFactory(companies=[company], full_name="Ben Okafor")
    online(other)
    interaction_take(company=company, interaction_id=item.pk, agent=other)
    sent.clear()
    with pytest.raises(ValidationError, match="took this one first"):
        interaction_take(company=company, interaction_id=item.pk, agent=agent)
    assert sent == []


# --- the token -------------------------------------------------------------------------------
def test_a_token_names_its_streams_for_its_user_and_company(company, agent):
    token = live_token(user=agent, company_id=company.pk, streams=[stream_agent(agent.pk)])
    assert live_token_read(token, user_id=agent.pk, company_id=company.pk) == (
        stream_agent(agent.pk),
    )


@pytest.mark.parametrize(
    "case",
    ["other user", "other company", "tampered", "forged", "expired", "not a token"],
)
def test_a_token_is_refused_for_anyone_else_or_changed(case, company, agent, monkeypatch):
    token = live_token(user=agent, company_id=company.pk, streams=[stream_agent(agent.pk)])
    user_id, company_id = agent.pk, company.pk
    if case == "other user":
        user_id += 1
    elif case == "other company":
        company_id += 1
    elif case == "tampered":
        token = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    elif case == "forged":
        # signed with another key: what someone who guessed the format would send
        token = signing.dumps(
            {"u": agent.pk, "c": company.pk, "s": ["active.1"]},
            key="not-the-site-key",
            salt=live.TOKEN_SALT,
        )
    elif case == "expired":
        monkeypatch.setattr(live, "TOKEN_MAX_AGE", -1)
    else:
        token = "agent.1"
    with pytest.raises(TokenRefused):
        live_token_read(token, user_id=user_id, company_id=company_id)
