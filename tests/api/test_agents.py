"""The API's agents: presence, working state and load as the workload page counts them;
setting presence through the presence service, and what routing then does."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from agents.availability.models import Absence
from agents.models import AccessLevel, Agent, Presence
from api.models import Scope
from campaigns.services import campaign_start
from contacts.selectors import workload
from leads.models import Order, Product
from leads.orders import Line, order_create
from leads.services import lead_assign
from routing.inbound import inbound_receive
from tests.api.conftest import client_for
from tests.campaigns.helpers import make_campaign, queue_with
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db


@pytest.fixture
def ava(company):
    return online(AgentFactory(companies=[company], full_name="Ava Patel", email="ava@acme.test"))


def test_an_agent_shows_presence_working_state_and_the_workload_pages_load(
    api, company, ava, leads_agent
):
    # given Ava owns two contacts, one text waits in her inbox, and two campaign records
    # are queued for her; Lea (a Leads Agent) has an open lead
    first, _ = (
        ContactFactory(company=company, primary_agent=ava),
        ContactFactory(company=company, primary_agent=ava),
    )
    inbound_receive(company=company, channel="text", phone=first.phone, body="Hi")
    campaign = make_campaign(
        company, queue_with(company, ava), [("ava@acme.test", "1"), ("ava@acme.test", "2")]
    )
    campaign_start(campaign=campaign)
    customer = ContactFactory(company=company)
    product = Product.objects.create(company=company, name="Valuation", price=Decimal("100"))
    order_create(
        company=company,
        contact=customer,
        actor=None,
        status=Order.Status.PARTIAL,
        lines=[Line(product=product, quantity=1)],
    )
    lead_assign(company=company, contact=customer, agent=leads_agent, actor=None)
    # when
    mine = api.get(f"/api/v1/agents/{ava.pk}/").json()
    lea = api.get(f"/api/v1/agents/{leads_agent.pk}/").json()
    # then
    assert mine["name"] == "Ava Patel"
    assert mine["access_level"] == "agent"
    assert (mine["presence"], mine["working_state"], mine["is_active"]) == (
        "available",
        "available",
        True,
    )
    assert mine["load"] == {
        "primary_contacts": 2,
        "open_interactions": 1,
        "open_leads": 0,
        "pending_campaign_records": 2,
    }
    assert lea["load"]["open_leads"] == 1
    # the same numbers as the workload page
    row = next(r for r in workload(company=company) if r.agent.pk == ava.pk)
    assert (row.primary, row.open) == (2, 1)


def test_an_agent_not_seen_for_a_while_works_as_offline(api, company, ava, settings):
    # given Ava chose Available but was last seen longer ago than the setting
    settings.PRESENCE_OFFLINE_AFTER_MINUTES = 15
    Agent.objects.filter(pk=ava.pk).update(last_seen_at=timezone.now() - timedelta(minutes=16))
    # when
    answer = api.get(f"/api/v1/agents/{ava.pk}/").json()
    # then
    assert answer["presence"] == "available"
    assert answer["working_state"] == "offline"


def test_the_list_is_the_companys_agents_with_a_constant_number_of_queries(
    api, company, other_company, ava, django_assert_max_num_queries
):
    # given three more agents of the company, one deactivated, and one of another company
    online(*AgentFactory.create_batch(2, companies=[company]))
    gone = AgentFactory(companies=[company])
    foreign = AgentFactory(companies=[other_company])
    for agent in Agent.objects.filter(companies=company):
        ContactFactory(company=company, primary_agent=agent)
    Agent.objects.filter(pk=gone.pk).update(is_active=False)  # left, book not handed over
    # when
    api.get("/api/v1/agents/")  # warm the key's last-used write
    # the key and its company, the page with its load, the page's absences (availability;
    # no counters: nobody has a capacity), open leads, pending campaign records
    with django_assert_max_num_queries(5) as few:
        listed = api.get("/api/v1/agents/").json()["results"]
    online(*AgentFactory.create_batch(5, companies=[company]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        more = api.get("/api/v1/agents/").json()["results"]
    # then
    ids = [a["id"] for a in listed]
    assert ava.pk in ids and gone.pk in ids and foreign.pk not in ids
    assert ids == sorted(ids)
    assert next(a for a in listed if a["id"] == gone.pk)["working_state"] == "offline"
    assert next(a for a in listed if a["id"] == ava.pk)["availability"]["status"] in (
        "available",
        "offline",
    )
    assert all(a["load"]["primary_contacts"] == 1 for a in listed)
    assert len(more) == len(listed) + 5


def test_the_list_filters_by_access_level_and_refuses_an_unknown_one(
    api, company, ava, leads_agent
):
    only = api.get("/api/v1/agents/", {"access_level": "leads_agent"}).json()["results"]
    assert [a["id"] for a in only] == [leads_agent.pk]
    wrong = api.get("/api/v1/agents/", {"access_level": "boss"})
    assert wrong.status_code == 400
    assert "access_level" in wrong.json()["errors"]


def test_setting_presence_away_takes_the_owner_out_of_routing_and_back(api, company, ava):
    # given Ava owns a contact and is available: its texts go to her
    contact = ContactFactory(company=company, primary_agent=ava)
    # when a key sets her Away
    answer = api.put(f"/api/v1/agents/{ava.pk}/presence/", {"presence": "away"}, format="json")
    # then the answer and the Lead Center's routing both see her away: the text goes to Active
    assert answer.status_code == 200
    assert (answer.json()["presence"], answer.json()["working_state"]) == ("away", "away")
    text, _ = inbound_receive(company=company, channel="text", phone=contact.phone, body="1")
    assert text.routed_to is None and text.pool == "active"
    assert "is away" in text.route_reason
    # and back to Available: the next text goes to her again
    api.put(f"/api/v1/agents/{ava.pk}/presence/", {"presence": "available"}, format="json")
    text, _ = inbound_receive(company=company, channel="text", phone=contact.phone, body="2")
    assert text.routed_to == ava
    ava.refresh_from_db()
    assert ava.presence == Presence.AVAILABLE and ava.presence_changed_at is not None


def test_presence_needs_the_routing_scope_and_a_known_value(company, ava):
    url = f"/api/v1/agents/{ava.pk}/presence/"
    # given a read-only key, and a read-and-write key, neither with routing
    for scopes in ([Scope.READ], [Scope.READ, Scope.WRITE]):
        # when / then
        refused = client_for(company, scopes=scopes).put(url, {"presence": "away"}, format="json")
        assert refused.status_code == 403
        assert "“routing”" in refused.json()["detail"]
    ava.refresh_from_db()
    assert ava.presence == Presence.AVAILABLE
    wrong = client_for(company).put(url, {"presence": "busy"}, format="json")
    assert wrong.status_code == 400
    assert "presence" in wrong.json()["errors"]


def test_a_deactivated_agents_presence_cannot_change(api, company):
    gone = AgentFactory(companies=[company], is_active=False, presence=Presence.OFFLINE)
    answer = api.put(
        f"/api/v1/agents/{gone.pk}/presence/", {"presence": "available"}, format="json"
    )
    assert answer.status_code == 409
    assert "deactivated" in answer.json()["detail"]
    gone.refresh_from_db()
    assert gone.presence == Presence.OFFLINE


def test_another_companys_key_gets_404_on_every_agent_url(other_api, ava):
    # when / then: read, presence (nothing changes)
    assert other_api.get(f"/api/v1/agents/{ava.pk}/").status_code == 404
    put = other_api.put(f"/api/v1/agents/{ava.pk}/presence/", {"presence": "away"}, format="json")
    assert put.status_code == 404
    ava.refresh_from_db()
    assert ava.presence == Presence.AVAILABLE
    assert ava.pk not in [a["id"] for a in other_api.get("/api/v1/agents/").json()["results"]]


def test_a_leads_agent_is_listed_with_their_access_level(api, leads_agent):
    answer = api.get(f"/api/v1/agents/{leads_agent.pk}/").json()
    assert answer["access_level"] == AccessLevel.LEADS_AGENT
    assert answer["load"]["primary_contacts"] == 0


def test_an_agent_out_of_office_reads_so_with_the_reason_and_until_when(api, company, ava):
    # given Ava, Available, out of office for two days
    online(ava)
    ends = timezone.now() + timedelta(days=2)
    Absence.objects.create(
        company=company, agent=ava, starts_at=timezone.now() - timedelta(hours=1), ends_at=ends
    )
    # when read through the API
    got = api.get(f"/api/v1/agents/{ava.pk}/").json()["availability"]
    # then routing's view of her: out of office, the why log's words, until the absence ends
    assert got["status"] == "out of office"
    assert got["reason"].startswith("out of office until ")
    assert got["until"] is not None
