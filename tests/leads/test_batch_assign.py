"""Batch Assign Leads on the Order Details page (/leads/orders/), as article 003 describes
it: Show Leads Agent, show/hide batch updates, select the orders, pick the Leads Agent,
Assign Leads. Admins only; company-scoped; CSRF-protected; works without JavaScript."""

import pytest
from django.test import Client
from django.urls import reverse

from leads.models import Lead, Order
from tests.factories import AgentFactory

ORDERS = "/leads/orders/"
ASSIGN = "/leads/orders/assign/"


@pytest.fixture
def three(make_customer, make_order):
    """Two customers whose latest order is Partial, one whose latest is Complete."""
    orders = {}
    for name, status in [("Ava", "partial"), ("Ben", "partial"), ("Cleo", "complete")]:
        orders[name] = make_order(make_customer(name), status)
    return orders


def test_an_admin_shows_batch_updates_on_order_details(login, company_admin, three):
    # given an admin on Order Details
    client = login(company_admin)
    body = client.get(ORDERS).content.decode()
    # then batch updates are offered but hidden: a toggle, no checkboxes
    assert 'id="toggle-batch"' in body and "Show batch updates" in body
    assert 'name="orders"' not in body and "Assign Leads" not in body
    # when they show them (a plain link: no JavaScript needed)
    response = client.get(ORDERS, {"batch": "1"})
    body = response.content.decode()
    # then each order has a checkbox, the Leads Agent column shows, and Assign Leads posts
    assert body.count('name="orders"') == 3
    assert "Hide batch updates" in body and "Leads agent" in body
    assert f'action="{ASSIGN}"' in body and "Assign Leads" in body
    assert "csrfmiddlewaretoken" in body
    # and Apply keeps them shown
    assert 'type="hidden" name="batch"' in body


def test_assign_leads_assigns_the_selected_orders_customers_and_lists_the_refused(
    login, company_admin, leads_agent, three
):
    client = login(company_admin)
    response = client.post(
        ASSIGN,
        {
            "orders": [o.pk for o in three.values()],
            "agent": leads_agent.pk,
            "query": "batch=1&status=",
        },
    )
    # back to the report as it was
    assert response.status_code == 302
    assert response["Location"] == ORDERS + "?batch=1&status="
    said = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert said == [
        f"2 leads assigned to {leads_agent}.",
        "Not assigned (most recent order is not Partial): 1 customer, Cleo.",
    ]
    assigned = Lead.objects.filter(agent=leads_agent, status="open")
    assert {lead.contact.name for lead in assigned} == {"Ava", "Ben"}
    assert all(lead.assigned_by == company_admin for lead in assigned)


def test_assign_leads_again_says_already_assigned(login, company_admin, leads_agent, three):
    client = login(company_admin)
    data = {"orders": [three["Ava"].pk], "agent": leads_agent.pk}
    client.post(ASSIGN, data)
    client.get(ORDERS)  # the first message shown
    client.post(ASSIGN, data)
    said = [str(m) for m in client.get(ORDERS).context["messages"]]
    assert said == [
        f"0 leads assigned to {leads_agent}.",
        "Not assigned (already assigned to that leads agent): 1 customer, Ava.",
    ]


def test_another_companys_orders_are_ignored(
    login, company_admin, leads_agent, other_company, make_customer, make_order
):
    foreign = make_order(make_customer("Foreign", company_=other_company))
    client = login(company_admin)
    response = client.post(
        ASSIGN, {"orders": [foreign.pk, "x", "99999999"], "agent": leads_agent.pk}
    )
    assert response.status_code == 302
    said = [str(m) for m in client.get(ORDERS).context["messages"]]
    assert said == ["Select the orders whose customers to assign."]
    assert not Lead.objects.exists()


def test_only_a_leads_agent_of_the_company_can_be_picked(
    login, company_admin, agent, other_company, three
):
    foreign_leads_agent = AgentFactory(access_level="leads_agent", companies=[other_company])
    client = login(company_admin)
    for who in (agent, foreign_leads_agent):
        client.post(ASSIGN, {"orders": [three["Ava"].pk], "agent": who.pk})
        said = [str(m) for m in client.get(ORDERS).context["messages"]]
        assert said == ["Choose one of your company's active Leads Agents."]
    client.post(ASSIGN, {"orders": [three["Ava"].pk]})
    assert [str(m) for m in client.get(ORDERS).context["messages"]] == [
        "Choose the Leads Agent to assign."
    ]
    assert not Lead.objects.exists()


def test_a_leads_agent_gets_no_batch_updates(login, leads_agent, three):
    client = login(leads_agent)
    body = client.get(ORDERS, {"batch": "1"}).content.decode()
    assert 'name="orders"' not in body and "batch updates" not in body
    response = client.post(ASSIGN, {"orders": [three["Ava"].pk], "agent": leads_agent.pk})
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_assign_leads_needs_the_csrf_token(company_admin, leads_agent, three):
    client = Client(enforce_csrf_checks=True)
    client.force_login(company_admin)
    response = client.post(ASSIGN, {"orders": [three["Ava"].pk], "agent": leads_agent.pk})
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_assign_leads_is_post_only(login, company_admin):
    assert login(company_admin).get(ASSIGN).status_code == 405


def test_the_admins_leads_tab_lands_on_order_details_with_the_leads_agent_column(
    login, company_admin, leads_agent, three
):
    # given an admin (who has no leads: they go to Leads Agents only)
    client = login(company_admin)
    # when they follow the top bar's Leads link
    response = client.get(reverse("leads:report"))
    # then they land on Order Details showing who holds each customer, not an empty report
    assert response.status_code == 302
    assert response["Location"] == ORDERS + "?show_agent=on"
    body = client.get(response["Location"]).content.decode()
    assert "Order Details" in body and "Leads agent" in body
    assert "Leads Agent Report" not in body and "assigned to you" not in body
    # a Leads Agent still gets their report
    assert login(leads_agent).get(reverse("leads:report")).status_code == 200
    assert Order.objects.count() == 3
