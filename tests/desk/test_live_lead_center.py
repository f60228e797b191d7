"""The Lead Center's live fragment: what the open page fetches every few seconds."""

import pytest

from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.inbound import inbound_receive
from tests.factories import online

pytestmark = pytest.mark.django_db

LIVE = "/lead-center/live/"


@pytest.fixture
def olivia(company, agent):
    contact = contact_create(
        company=company, actor=None, name="Olivia Nguyen", phone="+12025550142"
    )
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    return contact


def text(company, phone="+12025550142", body="Hi"):
    return inbound_receive(company=company, channel="text", phone=phone, body=body)[0]


def test_the_fragment_has_the_new_item_the_counts_and_the_title_count(
    login, company, agent, olivia
):
    online(agent)
    client = login(agent)
    assert 'data-waiting="0"' in client.get(LIVE).content.decode()
    # when a text for Andy's contact and one from an unknown number come in
    text(company, body="Is Elm Street free?")
    text(company, phone="+12025550999", body="Who is this?")
    body = client.get(LIVE, {"tab": "mine"}).content.decode()
    # then Mine shows it, the tabs count 1 in Mine and 1 in Active, the title counts 2
    assert "Is Elm Street free?" in body and "Who is this?" not in body
    assert 'id="tab-mine">Mine <span class="count">1</span>' in body
    assert 'id="tab-active">Active <span class="count">1</span>' in body
    assert 'data-waiting="2"' in body
    # and the buttons send the agent back to the page, not to the fragment
    assert 'name="next" value="/lead-center/?tab=mine"' in body
    assert "<html" not in body  # a fragment, not a page
    active = client.get(LIVE, {"tab": "active"}).content.decode()
    assert "Who is this?" in active


def test_the_page_title_counts_what_waits(login, company, agent, olivia):
    online(agent)
    text(company)
    body = login(agent).get("/lead-center/").content.decode()
    assert "<title>(1) Lead Center · Switchboard</title>" in body


def test_the_fragment_is_only_for_lead_center_people_of_the_company(
    client, login, leads_agent, other_admin, company, agent, olivia
):
    online(agent)
    text(company, body="Private")
    assert client.get(LIVE).status_code == 302  # to the login page
    assert login(leads_agent).get(LIVE).status_code == 403
    assert "Private" not in login(other_admin).get(LIVE, {"tab": "active"}).content.decode()


def test_the_fragment_query_count_is_constant(
    login, company, agent, olivia, django_assert_num_queries
):
    online(agent)
    client = login(agent)
    client.get(LIVE)
    for n in range(15):
        text(company, phone=f"+1202555{n + 300:04d}")  # unknown numbers: Active
        text(company, body=f"mine {n}")
    # 1 session, 2 user, 3 company, 4 count mine, 5 count active with the capacity queue,
    # 6 count offers, 7 the items with their contacts, 8 the absences of the agent and the
    # owners shown (no company picker: the fragment has no top bar)
    for tab in ("mine", "active", "offers"):
        with django_assert_num_queries(8):
            response = client.get(LIVE, {"tab": tab})
        assert response.status_code == 200
