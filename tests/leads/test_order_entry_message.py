"""Order Entry says where an order the Leads Agent cannot see went: leads agents see only
Partial orders, so a Complete one is missing from the customer's Orders table."""

from django.urls import reverse

from leads.models import Order
from leads.services import lead_assign


def _post(customer, product, status):
    return {
        "customer": customer.pk,
        "status": status,
        "currency": "USD",
        "line-TOTAL_FORMS": "1",
        "line-INITIAL_FORMS": "0",
        "line-0-product": product.pk,
        "line-0-quantity": "1",
    }


def test_a_complete_order_a_leads_agent_enters_is_explained_not_lost(
    login, company, leads_agent, make_customer, make_order, product
):
    # given a lead of the agent (Partial-only orders for leads agents, the default)
    customer = make_customer("Zoe")
    make_order(customer)
    lead_assign(company=company, contact=customer, agent=leads_agent, actor=None)
    client = login(leads_agent)
    # when they enter a Complete order
    response = client.post(
        reverse("leads:order_entry"), _post(customer, product, "complete"), follow=True
    )
    # then the customer page's flash says it was entered, won the lead, and why it is not listed
    order = Order.objects.get(contact=customer, status="complete")
    body = response.content.decode()
    assert f"Order {order.number} entered for Zoe: the lead is won." in body
    assert "It is Complete, so it is not listed in their Orders" in body
    assert "leads agents see Partial orders only" in body
    assert order.number not in [o.number for o in response.context["orders"]]


def test_an_order_the_agent_still_sees_gets_no_explanation(
    login, company, leads_agent, company_admin, make_customer, make_order, product, settings_for
):
    customer = make_customer("Yan")
    make_order(customer)
    lead_assign(company=company, contact=customer, agent=leads_agent, actor=None)
    # a Partial order is listed, so nothing to explain
    response = login(leads_agent).post(
        reverse("leads:order_entry"), _post(customer, product, "partial"), follow=True
    )
    assert "not listed" not in response.content.decode()
    # nor with the upsell setting on, nor for an admin
    settings_for(show_non_partial_orders=True)
    for person in (leads_agent, company_admin):
        response = login(person).post(
            reverse("leads:order_entry"), _post(customer, product, "cancelled"), follow=True
        )
        body = response.content.decode()
        assert "entered for Yan" in body and "not listed" not in body
