"""The API's leads: assign (the Partial-order gate, Leads Agents only: the Users page's
messages), unassign, resolve with a sales disposition, the list per agent; the timeline says
“by API key”; scopes and company scoping on every URL."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.centers.models import ContactCenter, Disposition
from api.models import Scope
from contacts.models import TimelineEntry
from contacts.services import contact_create
from leads.models import Lead, Order, Product
from leads.orders import Line, order_create
from leads.services import lead_assign
from tests.api.conftest import client_for
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def _customer(company, name, n, status=Order.Status.PARTIAL):
    contact = contact_create(
        company=company, actor=None, name=name, phone=f"+1 202 555 {2000 + n:04d}"
    )
    if status:
        product, _ = Product.objects.get_or_create(
            company=company, name="Valuation", defaults={"price": Decimal("100.00")}
        )
        order_create(
            company=company,
            contact=contact,
            actor=None,
            status=status,
            lines=[Line(product=product, quantity=1)],
        )
    return contact


@pytest.fixture
def olivia(company):
    return _customer(company, "Olivia", 1)


@pytest.fixture
def sold(company):
    center = ContactCenter.objects.create(company=company, name="Sales floor")
    return Disposition.objects.create(center=center, name="Sold", is_sales=True)


def _assign(api, customer, agent):
    return api.post("/api/v1/leads/", {"customer": customer.pk, "agent": agent.pk}, format="json")


def test_a_partial_customer_is_assigned_and_the_timeline_names_the_key(
    company, olivia, leads_agent
):
    # given a key named CRM sync
    api = client_for(company, name="CRM sync")
    # when Olivia (latest order Partial) is assigned to the Leads Agent
    response = _assign(api, olivia, leads_agent)
    # then the lead is open and her timeline says the key did it
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["agent"]["id"], body["customer"]["id"]) == (
        "open",
        leads_agent.pk,
        olivia.pk,
    )
    assert body["assigned_by"] is None
    assert response["Location"] == f"/api/v1/leads/{body['id']}/"
    row = olivia.timeline.get(kind=TimelineEntry.Kind.LEAD_ASSIGNED)
    assert row.message == "Lead assigned to Lea Leads by API key “CRM sync”."


def test_the_gates_refuse_with_the_users_page_messages(api, company, olivia, leads_agent, agent):
    # given a customer whose latest order is Complete, and one already Lea's
    liam = _customer(company, "Liam", 2, status=Order.Status.COMPLETE)
    mia = _customer(company, "Mia", 3)
    lead_assign(company=company, contact=mia, agent=leads_agent, actor=None)
    leo = AgentFactory(
        access_level="leads_agent", companies=[company], full_name="Leo", is_active=False
    )
    # then each refusal is a 400 with the page's sentence
    not_partial = _assign(api, liam, leads_agent)
    assert not_partial.status_code == 400
    assert not_partial.json()["detail"] == (
        "Liam can't be a lead: their most recent order is not Partial."
    )
    not_leads_agent = _assign(api, olivia, agent)
    assert not_leads_agent.json()["errors"]["agent"] == [
        "Andy Agent is a Agent: leads go to Leads Agents only. Set their access level to "
        "Leads Agent first."
    ]
    inactive = _assign(api, olivia, leo)
    assert inactive.json()["errors"]["agent"] == ["Leo is inactive: leads go to active users only."]
    assert _assign(api, mia, leads_agent).json()["detail"] == (
        "Mia is already assigned to that Leads Agent."
    )
    lena = AgentFactory(access_level="leads_agent", companies=[company], full_name="Lena")
    assert _assign(api, mia, lena).json()["detail"] == (
        "Mia already has an open lead with another Leads Agent; unassign it first."
    )
    assert Lead.objects.count() == 1


def test_leads_are_listed_per_agent_and_status_with_a_cursor(api, company, leads_agent):
    # given three open leads of Lea, one of them unassigned since, and one of Lena
    lena = AgentFactory(access_level="leads_agent", companies=[company], full_name="Lena")
    leads = [
        lead_assign(
            company=company, contact=_customer(company, f"C{n}", n), agent=leads_agent, actor=None
        )
        for n in range(3)
    ]
    lead_assign(company=company, contact=_customer(company, "D", 9), agent=lena, actor=None)
    api.post(f"/api/v1/leads/{leads[0].pk}/unassign/")
    # when Lea's open leads are read one at a time
    first = api.get("/api/v1/leads/", {"agent": leads_agent.pk, "status": "open", "limit": 1})
    second = api.get(first.json()["next"]).json()
    # then the newest comes first, then the next, and nothing else
    assert [r["id"] for r in first.json()["results"]] == [leads[2].pk]
    assert [r["id"] for r in second["results"]] == [leads[1].pk]
    assert second["next"] is None
    assert len(api.get("/api/v1/leads/").json()["results"]) == 4
    # a bad filter says why
    bad = api.get("/api/v1/leads/", {"status": "closed", "agent": "x"}).json()["errors"]
    assert bad == {
        "agent": ["Give an agent's id (a whole number)."],
        "status": ["The status is one of: open, resolved, won, unassigned."],
    }
    # (a digit that is not ASCII, "²", is a digit to str.isdigit and not to int)
    for value in ("²", "99999999999999999999"):  # (past 64 bits: no row has such an id)
        refused = api.get("/api/v1/leads/", {"agent": value})
        assert refused.status_code == 400
        assert refused.json()["errors"] == {"agent": ["Give an agent's id (a whole number)."]}


def test_unassign_and_resolve_write_timeline_rows_by_the_key(company, olivia, leads_agent, sold):
    # given two of Lea's leads
    api = client_for(company, name="CRM sync")
    noah = _customer(company, "Noah", 4)
    first = lead_assign(company=company, contact=olivia, agent=leads_agent, actor=None)
    second = lead_assign(company=company, contact=noah, agent=leads_agent, actor=None)
    # when one is unassigned and the other resolved with the sales disposition Sold
    unassigned = api.post(f"/api/v1/leads/{first.pk}/unassign/")
    resolved = api.post(
        f"/api/v1/leads/{second.pk}/resolve/", {"disposition": sold.pk}, format="json"
    )
    # then both are closed, and the timelines name the key
    assert unassigned.status_code == 200 and unassigned.json()["status"] == "unassigned"
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["disposition"] == {
        "id": sold.pk,
        "name": "Sold",
        "center": "Sales floor",
    }
    assert (
        olivia.timeline.get(kind=TimelineEntry.Kind.LEAD_UNASSIGNED).message
        == "Lead of Lea Leads unassigned by API key “CRM sync”."
    )
    assert (
        noah.timeline.get(kind=TimelineEntry.Kind.LEAD_RESOLVED).message
        == "Lead resolved by API key “CRM sync” with disposition “Sold”."
    )
    # and a closed lead cannot be closed again
    again = api.post(f"/api/v1/leads/{first.pk}/unassign/")
    assert again.status_code == 400
    assert again.json()["detail"] == "Olivia has no open lead (resolved or unassigned meanwhile)."


def test_resolve_takes_only_a_sales_disposition_of_the_company(
    api, company, olivia, leads_agent, sold
):
    # given a lead, a disposition that is not a sales one
    lead = lead_assign(company=company, contact=olivia, agent=leads_agent, actor=None)
    no_answer = Disposition.objects.create(center=sold.center, name="No answer")
    url = f"/api/v1/leads/{lead.pk}/resolve/"
    # then it is refused with the page's sentence, and no disposition at all by its field
    refused = api.post(url, {"disposition": no_answer.pk}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["disposition"] == [
        "“No answer” is not one of the sales dispositions of your call centers: choose one "
        "of those."
    ]
    missing = api.post(url, {}, format="json")
    assert missing.json()["errors"]["disposition"] == ["This field is required."]
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.OPEN


def test_a_read_only_key_gets_403_on_every_write(company, olivia, leads_agent, sold):
    # given an open lead and a key that may only read
    lead = lead_assign(company=company, contact=olivia, agent=leads_agent, actor=None)
    reader = client_for(company, scopes=[Scope.READ])
    # then every write is refused naming the scope
    answers = [
        _assign(reader, _customer(company, "Noah", 4), leads_agent),
        reader.post(f"/api/v1/leads/{lead.pk}/unassign/"),
        reader.post(f"/api/v1/leads/{lead.pk}/resolve/", {"disposition": sold.pk}, format="json"),
    ]
    for answer in answers:
        assert answer.status_code == 403
        assert "“write”" in answer.json()["detail"]
    assert Lead.objects.get().status == Lead.Status.OPEN
    assert reader.get(f"/api/v1/leads/{lead.pk}/").status_code == 200


def test_another_company_s_key_gets_404_and_cannot_use_our_customers_agents_or_dispositions(
    company, other_company, other_api, olivia, leads_agent, sold
):
    # given our open lead, and their own Partial customer, Leads Agent and sales disposition
    lead = lead_assign(company=company, contact=olivia, agent=leads_agent, actor=None)
    theirs = _customer(other_company, "Greta", 7)
    their_agent = AgentFactory(access_level="leads_agent", companies=[other_company])
    their_center = ContactCenter.objects.create(company=other_company, name="Globex sales")
    their_sold = Disposition.objects.create(center=their_center, name="Sold", is_sales=True)
    their_lead = lead_assign(company=other_company, contact=theirs, agent=their_agent, actor=None)
    # then our lead's URLs are 404 for them, and their list shows only theirs
    assert other_api.get(f"/api/v1/leads/{lead.pk}/").status_code == 404
    assert other_api.post(f"/api/v1/leads/{lead.pk}/unassign/").status_code == 404
    resolve = other_api.post(
        f"/api/v1/leads/{lead.pk}/resolve/", {"disposition": their_sold.pk}, format="json"
    )
    assert resolve.status_code == 404
    listed = other_api.get("/api/v1/leads/").json()["results"]
    assert [r["id"] for r in listed] == [their_lead.pk]
    assert other_api.get("/api/v1/leads/", {"agent": leads_agent.pk}).status_code == 400
    # and our customer, agent and disposition are unknown to them (named by nothing)
    with_our_customer = _assign(other_api, olivia, their_agent).json()
    assert with_our_customer["errors"] == {
        "customer": [f"No customer of this company has the id {olivia.pk}."]
    }
    with_our_agent = _assign(other_api, theirs, leads_agent).json()
    assert with_our_agent["errors"] == {
        "agent": [f"No user of this company has the id {leads_agent.pk}."]
    }
    assert "Lea" not in str(with_our_agent)
    with_our_disposition = other_api.post(
        f"/api/v1/leads/{their_lead.pk}/resolve/", {"disposition": sold.pk}, format="json"
    ).json()
    assert with_our_disposition["errors"] == {
        "disposition": [f"No disposition of this company has the id {sold.pk}."]
    }
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.OPEN
    assert Lead.objects.get(pk=their_lead.pk).status == Lead.Status.OPEN


def test_the_lead_list_costs_the_same_queries_for_one_lead_or_many(api, company, leads_agent):
    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v1/leads/", {"agent": leads_agent.pk}).status_code == 200
        return len(queries)

    api.get("/api/v1/leads/")  # the key's last use is written once a while: not counted
    # given one lead, then four
    lead_assign(company=company, contact=_customer(company, "A", 1), agent=leads_agent, actor=None)
    one = cost()
    for n in range(2, 5):
        contact = _customer(company, f"C{n}", n)
        lead_assign(company=company, contact=contact, agent=leads_agent, actor=None)
    # then the page reads them in as many queries (key, rate limit, filter check, one page)
    assert cost() == one
