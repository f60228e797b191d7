"""IDOR: a Leads Agent never reaches another agent's customer (restricted company) or
another company's customer, by URL, search, report, export or form."""

import pytest
from django.urls import reverse

from leads.models import Lead, Order
from leads.services import lead_assign


@pytest.fixture
def world(
    company,
    other_company,
    leads_agent,
    leads_agent_2,
    make_customer,
    make_order,
    settings_for,
    product,
):
    settings_for(restrict_to_assigned=True, show_non_partial_orders=True)
    mine = make_customer("Mine Person")
    make_order(mine, number="MINE-1")
    lead_assign(company=company, contact=mine, agent=leads_agent, actor=None)
    theirs = make_customer("Theirs Person")
    make_order(theirs, number="THEIRS-1")
    their_lead = lead_assign(company=company, contact=theirs, agent=leads_agent_2, actor=None)
    foreign = make_customer("Foreign Person", company_=other_company)
    make_order(foreign, number="FOREIGN-1")
    return {
        "mine": mine,
        "theirs": theirs,
        "their_lead": their_lead,
        "foreign": foreign,
        "product": product,
    }


def _order_post(contact, product):
    return {
        "customer": contact.pk,
        "status": "complete",
        "currency": "USD",
        "line-TOTAL_FORMS": "1",
        "line-INITIAL_FORMS": "0",
        "line-0-product": product.pk,
        "line-0-quantity": "1",
    }


@pytest.mark.parametrize("target", ["theirs", "foreign"])
@pytest.mark.parametrize(
    "action",
    [
        "customer page",
        "order entry page",
        "order entry post",
        "resolve",
        "search by name",
        "search by order number",
        "order details",
        "order details filtered",
        "export",
        "report",
    ],
)
def test_a_leads_agent_never_reaches_another_agents_or_companys_customer(
    login, leads_agent, world, sold, action, target
):
    client = login(leads_agent)
    contact = world[target]
    name, number = contact.name, Order.objects.get(contact=contact).number
    if action == "customer page":
        response = client.get(reverse("leads:customer", args=[contact.pk]))
        assert response.status_code in (302, 404)
        if response.status_code == 302:
            assert response["Location"] == reverse("leads:customers")
    elif action == "order entry page":
        response = client.get(reverse("leads:order_entry") + f"?customer={contact.pk}")
        assert response.status_code == 302 and response["Location"] == reverse("leads:customers")
    elif action == "order entry post":
        response = client.post(reverse("leads:order_entry"), _order_post(contact, world["product"]))
        assert response.status_code == 302 and response["Location"] == reverse("leads:customers")
        assert Order.objects.filter(contact=contact).count() == 1
    elif action == "resolve":
        lead = world["their_lead"] if target == "theirs" else None
        pk = lead.pk if lead else 999_999
        response = client.post(reverse("leads:resolve", args=[pk]), {"disposition": sold.pk})
        assert response.status_code == 404
        if lead:
            lead.refresh_from_db()
            assert lead.status == Lead.Status.OPEN
    elif action in ("search by name", "search by order number"):
        term = name if action == "search by name" else number
        results = client.get(reverse("leads:customers"), {"q": term}).context["results"]
        assert results == []
    elif action == "order details":
        body = client.get(reverse("leads:orders")).content.decode()
        assert number not in body and name not in body
    elif action == "order details filtered":
        # the leads agent filter cannot name another agent's customers into view
        response = client.get(reverse("leads:orders"), {"agent": world["their_lead"].agent_id})
        assert number not in response.content.decode()
    elif action == "export":
        body = b"".join(client.get(reverse("leads:orders") + "?format=csv").streaming_content)
        assert number.encode() not in body and name.encode() not in body
    elif action == "report":
        body = client.get(reverse("leads:report")).content.decode()
        assert name not in body and "Mine Person" in body


def test_their_own_customer_opens_everywhere(login, leads_agent, world):
    # The matrix above is not vacuous: the same requests reach the agent's own customer.
    client = login(leads_agent)
    mine = world["mine"]
    assert client.get(reverse("leads:customer", args=[mine.pk])).status_code == 200
    assert client.get(reverse("leads:order_entry") + f"?customer={mine.pk}").status_code == 200
    assert [
        c.pk for c in client.get(reverse("leads:customers"), {"q": "MINE-1"}).context["results"]
    ] == [mine.pk]
    assert b"MINE-1" in b"".join(
        client.get(reverse("leads:orders") + "?format=csv").streaming_content
    )


@pytest.mark.parametrize("person", ["agent", "supervisor"])
def test_other_access_levels_have_no_leads_pages(login, request, person, world):
    client = login(request.getfixturevalue(person))
    for url in ["/leads/report/", "/leads/customers/", "/leads/orders/", "/leads/orders/new/"]:
        assert client.get(url).status_code == 403
