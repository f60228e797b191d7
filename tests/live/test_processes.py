"""Many web processes: a change committed in one server process reaches a page whose socket
another process holds (channels-redis pub/sub on one Redis)."""

import json
import re

import pytest
import requests

from agents.live import live_token, stream_active, stream_agent
from contacts.models import Interaction
from routing.inbound import inbound_receive
from tests.factories import AgentFactory, online

from .conftest import open_socket, session_cookie

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_a_take_served_by_one_process_reaches_a_socket_of_another(process_server, company):
    andy = AgentFactory(companies=[company], full_name="Andy Agent")
    ben = AgentFactory(companies=[company], full_name="Ben Okafor")
    online(andy, ben)
    inbound_receive(company=company, channel="text", phone="+12025550999", body="Hi?")
    item = Interaction.objects.get(company=company)
    first, second = process_server(), process_server()
    # given Ben's Lead Center, its socket held by the first process
    socket = open_socket(first.ws_url, cookie=session_cookie(ben), origin=first.url)
    token = live_token(user=ben, company_id=company.pk, streams=[stream_active(company.pk)])
    socket.send(json.dumps({"watch": [token]}))
    assert json.loads(socket.recv(timeout=10)) == {"watching": [[stream_active(company.pk)]]}
    # when Andy takes the text from Active on a page the second process serves
    http = requests.Session()
    http.cookies.set("sessionid", session_cookie(andy))
    page = http.get(f"{second.url}/lead-center/?tab=active", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = http.post(
        f"{second.url}/lead-center/interactions/{item.pk}/take/",
        data={"csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{second.url}/lead-center/?tab=active"},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 302
    item.refresh_from_db()
    assert item.taken_by == andy
    # then Ben's page, on the first process, hears that Active changed
    message = json.loads(socket.recv(timeout=10))
    assert message["stream"] == stream_active(company.pk)
    assert stream_agent(andy.pk) != message["stream"]
    socket.close()
