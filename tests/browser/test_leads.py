"""The leads journey in a browser: a Leads Agent logs in to the report, resolves a lead
with a sales disposition, enters a Complete order for another (auto-won); an admin
batch-assigns from the Order Details report. No CSP violation anywhere."""

from decimal import Decimal

import pytest
from django.urls import reverse

from agents.centers.models import ContactCenter, Disposition
from contacts.services import contact_create
from leads.models import Lead, Order, Product
from leads.orders import Line, order_create
from leads.services import lead_assign
from tests.browser.csp import watch_csp
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _customer(company, name, n, status="partial"):
    c = contact_create(company=company, actor=None, name=name, phone=f"+1 202 555 {n:04d}")
    product, _ = Product.objects.get_or_create(
        company=company, name="Valuation", defaults={"price": Decimal("149.00")}
    )
    order_create(
        company=company,
        contact=c,
        actor=None,
        status=status,
        lines=[Line(product=product, quantity=1)],
    )
    return c


def test_a_leads_agent_resolves_one_lead_and_wins_another(
    new_page, company, leads_agent, screenshot
):
    center = ContactCenter.objects.create(company=company, name="Sales floor")
    Disposition.objects.create(center=center, name="Viewing booked", is_sales=True)
    Disposition.objects.create(center=center, name="Wrong number", is_sales=False)
    olivia = _customer(company, "Olivia Nguyen", 1001)
    liam = _customer(company, "Liam Garcia", 1002)
    for c in (olivia, liam):
        lead_assign(company=company, contact=c, agent=leads_agent, actor=None)
    page = new_page()
    violations = watch_csp(page)
    # logs in and lands on the report
    browser_login(page, leads_agent.email)
    page.wait_for_url("**/leads/report/")
    assert page.locator("#leads tbody tr").count() == 2
    screenshot(page, "leads-report")
    # resolves Olivia with a sales disposition (only those are offered)
    row = page.locator("#leads tbody tr", has_text="Olivia Nguyen")
    options = row.locator("select option").all_inner_texts()
    assert "Wrong number (Sales floor)" not in options
    row.locator("select").select_option(label="Viewing booked (Sales floor)")
    row.get_by_role("button", name="Resolve").click()
    page.wait_for_selector(".messages li.success")
    assert "Resolved Olivia Nguyen with disposition “Viewing booked”." in page.inner_text(
        ".messages"
    )
    assert page.locator("#leads tbody tr").count() == 1
    screenshot(page, "leads-report-resolved")
    # enters a Complete order for Liam from his customer page
    page.click("text=Liam Garcia")
    page.click("text=Enter order")
    page.select_option("#id_line-0-product", label="Valuation")
    page.fill("#id_line-0-quantity", "2")
    page.select_option("#id_status", "complete")
    screenshot(page, "leads-order-entry")
    page.click("button:has-text('Enter order')")
    page.wait_for_selector(".messages li.success")
    assert "the lead is won" in page.inner_text(".messages")
    screenshot(page, "leads-customer-won")
    assert Lead.objects.get(contact=liam).status == "won"
    assert Lead.objects.get(contact=olivia).status == "resolved"
    # the report is empty now, and its history shows the win
    page.click(".leads-nav >> text=Leads Agent Report")
    assert "No open leads" in page.inner_text("#assigned-leads")
    assert "won" in page.inner_text("#recent-history")
    assert violations == []


def test_an_admin_batch_assigns_from_the_order_details_report(
    new_page, company, company_admin, leads_agent, screenshot
):
    for n, (name, status) in enumerate(
        [("Ava Partial", "partial"), ("Ben Partial", "partial"), ("Cleo Complete", "complete")]
    ):
        _customer(company, name, 2000 + n, status)
    page = new_page()
    violations = watch_csp(page)
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    page.goto("/admin/leads/order/?show_leads_agent=yes")
    # batch updates are hidden until shown
    assert not page.locator("#changelist .actions").is_visible()
    page.click("#toggle-batch")
    assert page.locator("#changelist .actions").is_visible()
    page.check("#action-toggle")
    page.select_option("select[name=action]", "assign_leads")
    page.select_option("select[name=leads_agent]", str(leads_agent.pk))
    screenshot(page, "leads-admin-batch")
    page.click("button[name=index]")
    page.wait_for_selector("ul.messagelist")
    said = page.inner_text("ul.messagelist")
    assert f"2 leads assigned to {leads_agent}." in said
    assert "Not assigned: 1 customer — most recent order is not Partial." in said
    screenshot(page, "leads-admin-batch-result")
    assert page.locator("td.field-leads_agent", has_text=leads_agent.full_name).count() == 2
    assert Lead.objects.filter(agent=leads_agent, status="open").count() == 2
    assert Order.objects.count() == 3
    # the user's Assigned Leads tab lists them
    page.goto(f"/admin/agents/agent/{leads_agent.pk}/change/")
    page.click("#assigned-leads-tab")
    assert page.locator("#assigned-leads tbody tr").count() == 2
    screenshot(page, "leads-admin-assigned-tab")
    assert violations == []


def _three_orders(company):
    for n, (name, status) in enumerate(
        [("Ava Partial", "partial"), ("Ben Partial", "partial"), ("Cleo Complete", "complete")]
    ):
        _customer(company, name, 3000 + n, status)


def test_an_admin_batch_assigns_on_the_order_details_page(
    new_page, company, company_admin, leads_agent, screenshot
):
    # Article 003 on /leads/orders/: Show Leads Agent, show/hide batch updates, select the
    # orders, pick the Leads Agent, Assign Leads.
    _three_orders(company)
    page = new_page()
    violations = watch_csp(page)
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    page.goto(reverse("contacts:lead_center"))
    # the top bar's Leads tab lands on Order Details with the Leads Agent column
    page.locator("#topbar").get_by_role("link", name="Leads", exact=True).click()
    page.wait_for_url("**/leads/orders/?show_agent=on")
    assert page.locator("#order-rows tbody tr").count() == 3
    assert "leads agent" in page.inner_text("#order-rows thead").lower()
    assert page.locator("input[name=orders]").count() == 0
    screenshot(page, "leads-orders-admin")
    # shows the batch updates: a checkbox per order, the picker and Assign Leads
    page.click("#toggle-batch")
    page.wait_for_selector("#batch-assign")
    assert page.locator("input[name=orders]").count() == 3
    assert page.inner_text("#toggle-batch") == "Hide batch updates"
    # the header box (static/js/leads_orders.js) selects every order of the page
    page.check("#select-all-orders")
    assert page.locator("input[name=orders]:checked").count() == 3
    page.select_option("#batch-agent", str(leads_agent.pk))
    screenshot(page, "leads-orders-batch")
    page.click("#assign-leads")
    page.wait_for_selector(".messages li.success")
    said = page.inner_text(".messages")
    assert f"2 leads assigned to {leads_agent}." in said
    assert "Not assigned (most recent order is not Partial): 1 customer, Cleo Complete." in said
    # back on the same report, batch updates still shown, the new leads agent in the column
    assert "batch=1" in page.url
    assert page.locator("#order-rows td", has_text=leads_agent.full_name).count() == 2
    screenshot(page, "leads-orders-batch-result")
    assert Lead.objects.filter(agent=leads_agent, status="open").count() == 2
    # hides them again
    page.click("#toggle-batch")
    page.wait_for_selector("#batch-assign", state="detached")
    assert violations == []


def test_order_details_batch_updates_work_without_javascript(
    _chromium, live_server, company, company_admin, leads_agent, screenshot
):
    _three_orders(company)
    context = _chromium.new_context(
        viewport={"width": 1366, "height": 860},
        base_url=live_server.url,
        java_script_enabled=False,
    )
    try:
        page = context.new_page()
        browser_login(page, company_admin.email)
        page.goto("/leads/orders/")
        page.click("#toggle-batch")  # a link: ?batch=1
        page.wait_for_selector("#batch-assign")
        # no JavaScript, no select-all box: each order is ticked by hand
        assert not page.locator("#select-all-orders").is_visible()
        page.check(f"#pick-{Order.objects.get(contact__name='Ava Partial').pk}")
        page.select_option("#batch-agent", str(leads_agent.pk))
        page.click("#assign-leads")
        page.wait_for_selector(".messages li.success")
        assert f"1 lead assigned to {leads_agent}." in page.inner_text(".messages")
        screenshot(page, "leads-orders-batch-no-js")
    finally:
        context.close()
    assert list(Lead.objects.values_list("contact__name", flat=True)) == ["Ava Partial"]
