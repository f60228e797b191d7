"""Leads in the admin: batch Assign Leads from the Order Details report, the Assigned Leads
tab (unassign, the green +), batch Unassign, the autocomplete of Partial customers, settings,
products."""

import csv
import io
from decimal import Decimal

from django.contrib import admin
from django.urls import reverse

from leads.models import Lead, Order, Product
from leads.orders import Line, order_create
from leads.services import lead_assign, lead_resolve, lead_unassign

CHANGELIST = "/admin/leads/order/"


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_an_admin_batch_assigns_selected_orders_and_hears_each_reason(
    login, company, company_admin, leads_agent, leads_agent_2, make_customer, make_order, sold
):
    # given orders of customers in several situations
    fresh = [make_customer() for _ in range(2)]
    orders = [make_order(c) for c in fresh]
    complete = make_customer()
    orders.append(make_order(complete, Order.Status.COMPLETE))
    theirs = make_customer()
    orders.append(make_order(theirs))
    lead_assign(company=company, contact=theirs, agent=leads_agent_2, actor=None)
    resolved = make_customer()
    orders.append(make_order(resolved))
    lead = lead_assign(company=company, contact=resolved, agent=leads_agent, actor=None)
    lead_resolve(lead=lead, disposition=sold, actor=leads_agent)
    # when the admin selects them all and assigns them to the leads agent
    response = login(company_admin).post(
        CHANGELIST,
        {
            "action": "assign_leads",
            "leads_agent": leads_agent.pk,
            admin.helpers.ACTION_CHECKBOX_NAME: [o.pk for o in orders],
            "index": 0,
        },
        follow=True,
    )
    # then the result says how many were assigned and, per reason, how many were not
    said = _messages(response)
    assert f"2 leads assigned to {leads_agent}." in said
    assert "Not assigned: 1 customer — most recent order is not Partial." in said
    assert "Not assigned: 1 customer — already assigned to another leads agent." in said
    assert "Not assigned: 1 customer — customer resolved since their most recent order." in said
    assert set(
        Lead.objects.filter(agent=leads_agent, status="open").values_list("contact", flat=True)
    ) == {c.pk for c in fresh}


def test_batch_assign_refuses_someone_who_is_not_a_leads_agent(
    login, company_admin, agent, make_customer, make_order
):
    order = make_order(make_customer())
    response = login(company_admin).post(
        CHANGELIST,
        {
            "action": "assign_leads",
            "leads_agent": agent.pk,
            admin.helpers.ACTION_CHECKBOX_NAME: [order.pk],
            "index": 0,
        },
        follow=True,
    )
    assert any("leads go to Leads Agents only" in m for m in _messages(response))
    assert not Lead.objects.exists()


def test_the_order_details_admin_has_the_leads_agent_column_option_and_export(
    login, company, company_admin, leads_agent, make_customer, make_order
):
    c = make_customer("=cmd|' /C calc'!A0")
    make_order(c)
    lead_assign(company=company, contact=c, agent=leads_agent, actor=None)
    client = login(company_admin)
    plain = client.get(CHANGELIST)
    assert "Show Leads Agent" in plain.content.decode()
    assert "leads_agent" not in plain.context["cl"].list_display
    shown = client.get(CHANGELIST + "?show_leads_agent=yes")
    assert "leads_agent" in shown.context["cl"].list_display
    assert f'<td class="field-leads_agent">{leads_agent.full_name}</td>' in shown.content.decode()
    # the Leads Agent picker of the batch updates
    assert f'<option value="{leads_agent.pk}">{leads_agent}</option>' in shown.content.decode()
    response = client.get(reverse("admin:leads_order_export") + "?status__exact=partial")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][5].startswith("'=") and rows[1][8] == leads_agent.full_name


def test_the_order_details_admin_never_shows_another_companys_orders(
    login, company_admin, other_company, make_customer, make_order
):
    theirs = make_order(make_customer("Foreign", company_=other_company))
    client = login(company_admin)
    assert theirs.number not in client.get(CHANGELIST).content.decode()
    assert client.get(f"{CHANGELIST}{theirs.pk}/change/").status_code == 302
    export = client.get(reverse("admin:leads_order_export"))
    assert theirs.number not in b"".join(export.streaming_content).decode()


def test_the_assigned_leads_tab_lists_and_unassigns(
    login, company, company_admin, leads_agent, make_customer, make_order
):
    # given two open leads of the leads agent
    leads = []
    for name in ("Olivia", "Liam"):
        c = make_customer(name)
        make_order(c)
        leads.append(lead_assign(company=company, contact=c, agent=leads_agent, actor=None))
    client = login(company_admin)
    # the user's change page links to the tab
    page = client.get(reverse("admin:agents_agent_change", args=[leads_agent.pk]))
    assert "Assigned Leads (2)" in page.content.decode()
    tab = reverse("admin:leads_lead_assigned", args=[leads_agent.pk])
    body = client.get(tab).content.decode()
    assert "Olivia" in body and "Liam" in body and "Unassign" in body
    assert f"/admin/leads/lead/add/?agent={leads_agent.pk}" in body
    # when Unassign is pressed for one
    response = client.post(tab, {"lead": leads[0].pk}, follow=True)
    # then it is closed through the service (timeline row) and the tab shows the other
    leads[0].refresh_from_db()
    assert leads[0].status == "unassigned"
    assert leads[0].contact.timeline.filter(kind="lead_unassigned").exists()
    assert "Olivia" not in response.content.decode().split("open lead")[1]


def test_the_green_plus_assigns_a_partial_customer_only(
    login, company, company_admin, leads_agent, agent, make_customer, make_order
):
    partial = make_customer("Partial Person")
    make_order(partial)
    done = make_customer("Done Person")
    make_order(done, Order.Status.COMPLETE)
    client = login(company_admin)
    add = reverse("admin:leads_lead_add")
    # the User field lists Leads Agent users only
    form = client.get(add + f"?agent={leads_agent.pk}").context["adminform"].form
    assert list(form.fields["agent"].queryset) == [leads_agent]
    # the autocomplete lists customers whose most recent order is Partial
    found = client.get(reverse("admin:leads_lead_partial_customers"), {"term": "person"}).json()
    assert [r["id"] for r in found["results"]] == [str(partial.pk)]
    # assigning a non-Partial customer is refused with the reason
    response = client.post(add, {"agent": leads_agent.pk, "contact": done.pk}, follow=True)
    assert any("not Partial" in m for m in _messages(response))
    # assigning to a non-leads agent is refused by the form
    response = client.post(add, {"agent": agent.pk, "contact": partial.pk})
    assert response.status_code == 200 and not Lead.objects.exists()
    # a Partial customer is assigned (with its timeline row)
    response = client.post(add, {"agent": leads_agent.pk, "contact": partial.pk}, follow=True)
    lead = Lead.objects.get()
    assert (lead.agent, lead.contact, lead.assigned_by) == (leads_agent, partial, company_admin)
    assert partial.timeline.filter(kind="lead_assigned").exists()


def test_the_autocomplete_stays_in_the_company(
    login, company_admin, other_company, make_customer, make_order
):
    theirs = make_customer("Person Abroad", company_=other_company)
    make_order(theirs)
    found = login(company_admin).get(
        reverse("admin:leads_lead_partial_customers"), {"term": "Abroad"}
    )
    assert found.json()["results"] == []


def test_leads_agents_cannot_reach_the_leads_admin(login, leads_agent):
    client = login(leads_agent)
    for url in (CHANGELIST, reverse("admin:leads_lead_partial_customers")):
        assert client.get(url).status_code == 302


def test_the_leads_settings_are_edited_in_the_admin(login, company, company_admin):
    client = login(company_admin)
    response = client.post(
        reverse("admin:leads_leadssettings_add"),
        {"show_non_partial_orders": "on", "restrict_to_assigned": "on"},
    )
    assert response.status_code == 302
    settings = company.leads_settings
    assert settings.show_non_partial_orders and settings.restrict_to_assigned
    # one row per company
    again = client.get(reverse("admin:leads_leadssettings_add"))
    assert again["Location"] == reverse("admin:leads_leadssettings_change", args=[company.pk])


def test_the_unassign_action_closes_every_selected_open_lead_in_one_go(
    login, company, company_admin, leads_agent, make_customer, make_order
):
    # given two open leads and one already unassigned
    leads = []
    for name in ("Olivia", "Liam", "Noah"):
        c = make_customer(name)
        make_order(c)
        leads.append(lead_assign(company=company, contact=c, agent=leads_agent, actor=None))
    lead_unassign(lead=leads[2], actor=None)
    # when the admin selects all three and unassigns them
    response = login(company_admin).post(
        "/admin/leads/lead/",
        {
            "action": "unassign",
            admin.helpers.ACTION_CHECKBOX_NAME: [lead.pk for lead in leads],
            "index": 0,
        },
        follow=True,
    )
    # then the two open ones are closed through the service, each with its timeline row
    assert "2 lead(s) unassigned." in _messages(response)
    for lead in leads:
        lead.refresh_from_db()
        assert lead.status == "unassigned"
    for lead in leads[:2]:
        assert lead.contact.timeline.filter(kind="lead_unassigned", details__lead=lead.pk).exists()


def test_a_product_name_the_company_has_is_refused_by_the_name_field(
    login, company, company_admin, other_company, product
):
    Product.objects.create(company=other_company, name="Inspection")
    client = login(company_admin)
    add = reverse("admin:leads_product_add")
    # when the admin adds a second "Valuation"
    response = client.post(add, {"name": "Valuation", "sku": "", "price": "5", "is_active": "on"})
    # then the form says why, by the field, and nothing is stored
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [
        "A product named Valuation already exists."
    ]
    assert "A product named Valuation already exists." in response.content.decode()
    assert Product.objects.filter(company=company).count() == 1
    # a name only another company has is fine, and so is saving a product under its own name
    response = client.post(add, {"name": "Inspection", "sku": "", "price": "5", "is_active": "on"})
    assert response.status_code == 302
    change = reverse("admin:leads_product_change", args=[product.pk])
    response = client.post(change, {"name": "Valuation", "sku": "V1", "price": "7"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.sku, product.is_active) == ("V1", False)


def test_the_order_details_admin_filters_by_product_and_by_leads_agent(
    login, company, company_admin, leads_agent, make_customer, make_order
):
    # given an order of a lead of the leads agent (the Valuation product) and one of
    # another product
    theirs = make_order(make_customer("Olivia"))
    lead_assign(company=company, contact=theirs.contact, agent=leads_agent, actor=None)
    inspection = Product.objects.create(company=company, name="Inspection", price=Decimal("50"))
    other = order_create(
        company=company,
        contact=make_customer("Liam"),
        actor=None,
        status=Order.Status.PARTIAL,
        lines=[Line(product=inspection, quantity=1)],
    )
    client = login(company_admin)

    def listed(query: str) -> set[str]:
        return {o.number for o in client.get(CHANGELIST + query).context["cl"].result_list}

    # then each filter lists the orders it names, and an id no row has lists none
    page = client.get(CHANGELIST).content.decode()
    assert "Inspection" in page and str(leads_agent) in page
    assert listed(f"?product={inspection.pk}") == {other.number}
    assert listed(f"?leads_agent={leads_agent.pk}") == {theirs.number}
    assert listed("?product=abc") == set()
