"""The socket /live/ over a real connection (uvicorn, config/asgi.py, channels-redis on
Redis): each page hears the streams of its own signed token and nothing else; another
agent's Mine, another company's anything, a forged token, another user's token, no session
or a foreign origin are refused or never heard."""

import json

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agents.live import (
    live_changed,
    live_token,
    stream_active,
    stream_agent,
    stream_contact,
)
from contacts.interactions import interaction_take
from contacts.models import Interaction
from routing.inbound import inbound_receive
from tests.factories import AgentFactory, CompanyFactory, online

from .conftest import open_socket, session_cookie

pytestmark = [pytest.mark.redis]

QUIET = 0.6  # seconds a socket must stay silent to show it heard nothing


def watch(server, user, company, *streams, token=None):
    """A page's socket: connected with the user's session, watching the token's streams."""
    socket = open_socket(server.ws_url, cookie=session_cookie(user), origin=server.url)
    token = token or live_token(user=user, company_id=company.pk, streams=streams)
    socket.send(json.dumps({"watch": [token]}))
    answer = json.loads(socket.recv(timeout=5))
    assert answer == {"watching": [list(streams)]}
    return socket


def heard(socket, timeout=QUIET) -> list[str]:
    """The streams a socket hears within ``timeout`` seconds."""
    streams = []
    try:
        while True:
            message = json.loads(socket.recv(timeout=timeout))
            streams.append(message["stream"])
            assert isinstance(message["changed"], int)
            timeout = 0.2
    except TimeoutError:
        return streams


@pytest.fixture
def two_companies(company):
    """Acme (Andy, Ben) and Globex (Gina); Globex's ids overlap none of Acme's names."""
    other = CompanyFactory(name="Globex")
    andy = AgentFactory(companies=[company], full_name="Andy Agent")
    ben = AgentFactory(companies=[company], full_name="Ben Okafor")
    gina = AgentFactory(companies=[other], full_name="Gina Globex")
    online(andy, ben, gina)
    return company, other, andy, ben, gina


def test_an_agent_hears_their_own_mine_never_another_agents_or_companys(
    redis_live, asgi_server, two_companies
):
    acme, globex, andy, ben, gina = two_companies
    server = asgi_server()
    # given three open Lead Centers: Andy and Ben of Acme, Gina of Globex
    andy_page = watch(server, andy, acme, stream_agent(andy.pk), stream_active(acme.pk))
    ben_page = watch(server, ben, acme, stream_agent(ben.pk), stream_active(acme.pk))
    gina_page = watch(server, gina, globex, stream_agent(gina.pk), stream_active(globex.pk))
    # when a text from an unknown number in Acme's Active is taken by Andy
    inbound_receive(company=acme, channel="text", phone="+12025550999", body="Hi?")
    item = Interaction.objects.get(company=acme)
    for page in (andy_page, ben_page, gina_page):
        heard(page, timeout=0.3)  # (the inbound path's own messages: the lead's wiring)
    interaction_take(company=acme, interaction_id=item.pk, agent=andy)
    # then Andy hears his Mine and Active, Ben only Active, Gina (Globex) nothing at all
    assert sorted(heard(andy_page)) == sorted([stream_agent(andy.pk), stream_active(acme.pk)])
    assert heard(ben_page) == [stream_active(acme.pk)]
    assert heard(gina_page) == []
    # and a change in Globex reaches Gina alone, even one named with Acme's numbers
    live_changed(company_id=globex.pk, streams=[stream_active(acme.pk), stream_agent(andy.pk)])
    live_changed(company_id=globex.pk, streams=[stream_active(globex.pk)])
    assert heard(gina_page) == [stream_active(globex.pk)]
    assert heard(andy_page) == [] and heard(ben_page) == []
    for page in (andy_page, ben_page, gina_page):
        page.close()


def test_a_contact_page_hears_its_contact(redis_live, asgi_server, two_companies):
    acme, _, andy, _, _ = two_companies
    server = asgi_server()
    inbound_receive(company=acme, channel="text", phone="+12025550999", body="Hi?")
    item = Interaction.objects.get(company=acme)
    page = watch(server, andy, acme, stream_contact(item.contact_id))
    interaction_take(company=acme, interaction_id=item.pk, agent=andy)
    assert heard(page) == [stream_contact(item.contact_id)]
    page.close()


def _refused(socket) -> str:
    """The socket's refusal: its message, then the close with code 4403."""
    message = json.loads(socket.recv(timeout=5))
    with pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=5)
    assert closed.value.rcvd.code == 4403
    return message["refused"]


@pytest.mark.parametrize("case", ["another user's", "tampered", "another company's"])
def test_a_token_not_made_for_this_session_is_refused(case, redis_live, asgi_server, two_companies):
    acme, globex, andy, ben, gina = two_companies
    server = asgi_server()
    if case == "another user's":
        # Ben's page token (his Mine), replayed with Andy's session
        token = live_token(user=ben, company_id=acme.pk, streams=[stream_agent(ben.pk)])
    elif case == "tampered":
        token = live_token(user=andy, company_id=acme.pk, streams=[stream_agent(andy.pk)])
        token = token[:-2] + ("xy" if not token.endswith("xy") else "yz")
    else:
        # a token for Globex's Active made for Andy, who works for Acme only
        token = live_token(user=andy, company_id=globex.pk, streams=[stream_active(globex.pk)])
    socket = open_socket(server.ws_url, cookie=session_cookie(andy), origin=server.url)
    socket.send(json.dumps({"watch": [token]}))
    assert _refused(socket)


def test_a_stream_the_browser_names_is_not_heard(redis_live, asgi_server, two_companies):
    acme, _, andy, ben, _ = two_companies
    server = asgi_server()
    socket = open_socket(server.ws_url, cookie=session_cookie(andy), origin=server.url)
    socket.send(json.dumps({"watch": [stream_agent(ben.pk)]}))
    assert _refused(socket) == "The live token is not valid."


def test_no_session_or_another_sites_origin_is_refused(redis_live, asgi_server, two_companies):
    acme, _, andy, _, _ = two_companies
    server = asgi_server()
    # no session: accepted, then closed with 4403 (the page stops trying: refused at the
    # handshake, a browser sees 1006 and would reconnect forever)
    socket = open_socket(server.ws_url, cookie=None, origin=server.url)
    with pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=5)
    assert closed.value.rcvd.code == 4403
    # a page of another site opening the socket with Andy's cookie: refused at the handshake
    with pytest.raises(InvalidStatus, match="403"):
        open_socket(server.ws_url, cookie=session_cookie(andy), origin="https://evil.example")


def test_a_page_watching_again_hears_only_what_it_names_now(redis_live, asgi_server, two_companies):
    acme, _, andy, _, _ = two_companies
    server = asgi_server()
    socket = open_socket(server.ws_url, cookie=session_cookie(andy), origin=server.url)
    mine = live_token(user=andy, company_id=acme.pk, streams=[stream_agent(andy.pk)])
    active = live_token(user=andy, company_id=acme.pk, streams=[stream_active(acme.pk)])
    socket.send(json.dumps({"watch": [mine]}))
    assert json.loads(socket.recv(timeout=5))["watching"] == [[stream_agent(andy.pk)]]
    # when the page watches Active only
    socket.send(json.dumps({"watch": [active]}))
    assert json.loads(socket.recv(timeout=5))["watching"] == [[stream_active(acme.pk)]]
    # then a change to Andy's Mine is no longer heard, one to Active is
    live_changed(company_id=acme.pk, streams=[stream_agent(andy.pk)])
    live_changed(company_id=acme.pk, streams=[stream_active(acme.pk)])
    assert json.loads(socket.recv(timeout=5))["stream"] == stream_active(acme.pk)
    socket.close()
