"""The Leads Agent's pages: the report, resolve, Customer Service, Order Entry, Order
Details, the two settings and the one-hour rule."""

import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.models import TimelineEntry
from contacts.timeline import timeline_write
from leads.models import Order
from leads.services import lead_assign, lead_resolve
from tests.factories import PASSWORD

REPORT = "/leads/report/"
ORDERS = "/leads/orders/"
SEARCH = "/leads/customers/"


def _lead(company, agent, make_customer, make_order, name=None):
    c = make_customer(name)
    make_order(c)
    return lead_assign(company=company, contact=c, agent=agent, actor=None)


def test_a_leads_agent_lands_on_the_report_after_login(client, leads_agent):
    response = client.post("/login/", {"username": leads_agent.email, "password": PASSWORD})
    assert response["Location"] == "/"
    assert client.get("/")["Location"] == reverse("leads:report")
    assert "Leads Agent Report" in client.get(REPORT).content.decode()


def test_the_report_lists_open_leads_with_their_latest_order(
    login, company, leads_agent, leads_agent_2, make_customer, make_order
):
    # given two leads of the agent (one resolved later) and one of another agent
    mine = _lead(company, leads_agent, make_customer, make_order, "Olivia Mine")
    make_order(mine.contact, quantity=3)  # latest: 300.00, Partial
    _lead(company, leads_agent_2, make_customer, make_order, "Theo Theirs")
    # when the agent opens the report
    body = login(leads_agent).get(REPORT).content.decode()
    # then only their lead shows, with phone, latest order status and total
    assert "Olivia Mine" in body and "Theo Theirs" not in body
    assert mine.contact.display_phone in body
    assert "300.00 USD" in body and "Partial" in body


def _note(contact, message):
    return TimelineEntry(
        company_id=contact.company_id, contact=contact, kind="contact_updated", message=message
    )


def test_the_history_shows_the_10_latest_entries_across_all_assigned_customers(
    login, company, leads_agent, leads_agent_2, make_customer, make_order
):
    # given three assigned customers with many history rows, and another agent's customer
    leads = [_lead(company, leads_agent, make_customer, make_order) for _ in range(3)]
    other = _lead(company, leads_agent_2, make_customer, make_order, "Not Yours")
    base = timezone.now()
    for n in range(15):
        lead = leads[n % 3]
        entry = timeline_write(_note(lead.contact, f"Note {n}"))
        entry.created_at = base + timedelta(minutes=n)
        entry.save()
    late = timeline_write(_note(other.contact, "Their note"))
    late.created_at = base + timedelta(hours=1)
    late.save()
    # when the agent opens the report
    response = login(leads_agent).get(REPORT)
    # then the 10 most recent of their customers' rows show, newest first, across customers
    history = response.context["history"]
    assert [e.message for e in history] == [f"Note {n}" for n in range(14, 4, -1)]
    assert {e.contact_id for e in history} == {lead.contact_id for lead in leads}


def test_the_report_is_sortable_and_paginated(
    login, company, leads_agent, make_customer, make_order
):
    for n in range(30):
        _lead(company, leads_agent, make_customer, make_order, f"Customer {n:02d}")
    client = login(leads_agent)
    first = client.get(REPORT + "?sort=customer").context["leads"]
    assert [lead.contact.name for lead in first[:2]] == ["Customer 00", "Customer 01"]
    assert len(first) == 25
    second = client.get(REPORT + "?sort=customer&page=2").context["leads"]
    assert [lead.contact.name for lead in second] == [f"Customer {n}" for n in range(25, 30)]
    reverse_sorted = client.get(REPORT + "?sort=-customer").context["leads"]
    assert reverse_sorted[0].contact.name == "Customer 29"


@pytest.mark.parametrize(
    "url", [REPORT, REPORT + "?sort=-total", ORDERS, ORDERS + "?show_agent=on"]
)
def test_report_and_order_details_queries_do_not_grow_with_leads_and_orders(
    login, company, leads_agent, make_customer, make_order, settings_for, url
):
    settings_for(show_non_partial_orders=True)
    client = login(leads_agent)
    for _ in range(2):
        _lead(company, leads_agent, make_customer, make_order)
    client.get(url)  # warm the session and the company
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(12):
        lead = _lead(company, leads_agent, make_customer, make_order)
        make_order(lead.contact, Order.Status.PARTIAL)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    # Report: session, user, company, last seen, count, page, history, dispositions;
    # Order Details: session, user, company, settings, products, agents, count, page.
    assert len(many) == len(few)
    assert len(many) <= 10


def test_resolve_from_the_report_with_a_sales_disposition(
    login, company, leads_agent, make_customer, make_order, sold, no_answer
):
    lead = _lead(company, leads_agent, make_customer, make_order, "Ivy")
    client = login(leads_agent)
    url = reverse("leads:resolve", args=[lead.pk])
    # a non-sales disposition is refused with a message
    response = client.post(url, {"disposition": no_answer.pk}, follow=True)
    assert "sales dispositions" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == "open"
    # the report offers only sales dispositions
    body = client.get(REPORT).content.decode()
    assert "Sold (Sales floor)" in body and "No answer" not in body
    # a sales one resolves it
    response = client.post(url, {"disposition": sold.pk}, follow=True)
    assert "Resolved Ivy with disposition “Sold”." in response.content.decode()
    lead.refresh_from_db()
    assert (lead.status, lead.disposition) == ("resolved", sold)


def test_order_entry_with_a_complete_order_wins_the_lead(
    login, company, leads_agent, make_customer, make_order, product
):
    lead = _lead(company, leads_agent, make_customer, make_order, "Zoe")
    client = login(leads_agent)
    url = reverse("leads:order_entry") + f"?customer={lead.contact_id}"
    assert client.get(url).status_code == 200
    response = client.post(
        reverse("leads:order_entry"),
        {
            "customer": lead.contact_id,
            "status": "complete",
            "currency": "usd",
            "line-TOTAL_FORMS": "3",
            "line-INITIAL_FORMS": "0",
            "line-0-product": product.pk,
            "line-0-quantity": "2",
            "line-0-unit_price": "",
            "line-1-product": "",
            "line-1-quantity": "1",
            "line-2-product": "",
            "line-2-quantity": "1",
        },
        follow=True,
    )
    assert "the lead is won" in response.content.decode()
    order = Order.objects.get(contact=lead.contact, status="complete")
    assert (str(order.total), order.currency, order.created_by) == ("200.00", "USD", leads_agent)
    lead.refresh_from_db()
    assert lead.status == "won"


def test_order_entry_without_a_product_says_so(
    login, company, leads_agent, make_customer, make_order
):
    lead = _lead(company, leads_agent, make_customer, make_order)
    response = login(leads_agent).post(
        reverse("leads:order_entry"),
        {
            "customer": lead.contact_id,
            "status": "partial",
            "currency": "USD",
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-product": "",
            "line-0-quantity": "1",
        },
    )
    assert response.status_code == 200
    assert "Add at least one product" in response.content.decode()


def test_leads_agents_see_only_partial_orders_unless_the_setting_is_on(
    login, company, leads_agent, company_admin, make_customer, make_order, settings_for
):
    c = make_customer("Upsell Me")
    make_order(c, Order.Status.PARTIAL, number="P-1")
    make_order(c, Order.Status.COMPLETE, number="C-1")
    client = login(leads_agent)
    numbers = lambda: {o.number for o in client.get(ORDERS).context["orders"]}  # noqa: E731
    assert numbers() == {"P-1"}
    # the customer page's orders and the order-number search hide it too
    page = client.get(reverse("leads:customer", args=[c.pk]))
    assert [o.number for o in page.context["orders"]] == ["P-1"]
    assert client.get(SEARCH + "?q=C-1").context["results"] == []
    # with the setting on (the upsell case) they see every order
    settings_for(show_non_partial_orders=True)
    assert numbers() == {"P-1", "C-1"}
    assert [r.pk for r in client.get(SEARCH + "?q=C-1").context["results"]] == [c.pk]
    # admins always see every order
    login(company_admin)
    assert {o.number for o in client.get(ORDERS).context["orders"]} == {"P-1", "C-1"}


def test_customer_search_by_name_phone_email_and_order_number(
    login, company, leads_agent, make_customer, make_order
):
    c = make_customer("Olivia Nguyen")
    make_order(c, number="SO-777")
    make_customer("Someone Else")
    client = login(leads_agent)
    for term in ["olivia", "NGUY", c.display_phone, c.phone, c.email.upper(), "SO-777", "so-777"]:
        results = client.get(SEARCH, {"q": term}).context["results"]
        assert [r.pk for r in results] == [c.pk], term


def test_restricted_leads_agents_see_only_their_customers(
    login, company, leads_agent, leads_agent_2, make_customer, make_order, settings_for
):
    mine = _lead(company, leads_agent, make_customer, make_order, "Mine Customer")
    theirs = _lead(company, leads_agent_2, make_customer, make_order, "Theirs Customer")
    nobody = make_customer("Nobody Customer")
    make_order(nobody)
    client = login(leads_agent)
    # unrestricted: every customer of the company is found and opens
    assert len(client.get(SEARCH, {"q": "Customer"}).context["results"]) == 3
    assert client.get(reverse("leads:customer", args=[theirs.contact_id])).status_code == 200
    # restricted: only their own
    settings_for(restrict_to_assigned=True)
    results = client.get(SEARCH, {"q": "Customer"}).context["results"]
    assert [r.pk for r in results] == [mine.contact_id]
    assert {o.contact_id for o in client.get(ORDERS).context["orders"]} == {mine.contact_id}
    for other in (theirs.contact_id, nobody.pk):
        response = client.get(reverse("leads:customer", args=[other]))
        assert response.status_code == 302 and response["Location"] == SEARCH
    response = client.get(reverse("leads:customer", args=[theirs.contact_id]), follow=True)
    assert "not one of your assigned customers" in response.content.decode()


def test_a_customer_resolved_more_than_an_hour_ago_sends_back_to_search(
    login, company, leads_agent, make_customer, make_order, settings_for, sold
):
    # given a restricted company and a lead the agent resolves now
    settings_for(restrict_to_assigned=True)
    lead = _lead(company, leads_agent, make_customer, make_order, "Grace")
    lead_resolve(lead=lead, disposition=sold, actor=leads_agent)
    client = login(leads_agent)
    url = reverse("leads:customer", args=[lead.contact_id])
    # then 59 minutes later the customer still opens
    later = timezone.now() + timedelta(minutes=59)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert client.get(url).status_code == 200
        assert len(client.get(SEARCH, {"q": "Grace"}).context["results"]) == 1
    # and 61 minutes later the agent is sent back to the Customer Search
    later = timezone.now() + timedelta(minutes=61)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == SEARCH
        assert client.get(SEARCH, {"q": "Grace"}).context["results"] == []


def test_the_csv_export_is_scoped_and_escapes_formulas(
    login, company, leads_agent, make_customer, make_order, settings_for
):
    evil = make_customer('=HYPERLINK("http://x")')
    make_order(evil, number="+1-ORDER")
    hidden = make_customer("Complete Only")
    make_order(hidden, Order.Status.COMPLETE)
    response = login(leads_agent).get(ORDERS + "?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Order"
    assert len(rows) == 2  # header + the Partial order only
    assert rows[1][0] == "'+1-ORDER" and rows[1][5] == '\'=HYPERLINK("http://x")'


def test_the_csv_export_quotes_every_cell(login, company, leads_agent, make_customer, make_order):
    # Where Excel splits on semicolons, an unquoted "Bob;=HYPERLINK(…)" would be two cells,
    # the second a formula that no leading quote escaped.
    make_order(make_customer('Bob;=HYPERLINK("http://x")'), number="S-1")
    response = login(leads_agent).get(ORDERS + "?format=csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert all(line.startswith('"') and line.endswith('"') for line in lines), lines
    assert '"Bob;=HYPERLINK(""http://x"")"' in lines[1]


def test_order_details_filters(
    login, company, company_admin, leads_agent, make_customer, make_order, product
):
    from leads.models import Product
    from leads.orders import Line, order_create

    a = _lead(company, leads_agent, make_customer, make_order, "Alpha")
    b = make_customer("Beta")
    other_product = Product.objects.create(company=company, name="Photos", price=5)
    order_create(
        company=company,
        contact=b,
        actor=None,
        status="complete",
        lines=[Line(product=other_product, quantity=1)],
        number="B-1",
    )
    client = login(company_admin)
    get = lambda **q: {o.contact_id for o in client.get(ORDERS, q).context["orders"]}  # noqa: E731
    assert get(status="complete") == {b.pk}
    assert get(product=other_product.pk) == {b.pk}
    assert get(agent=leads_agent.pk) == {a.contact_id}
    today = timezone.localdate().isoformat()
    assert get(date_from=today, date_to=today) == {a.contact_id, b.pk}
    assert get(date_to="2000-01-01") == set()
    body = client.get(ORDERS, {"show_agent": "on"}).content.decode()
    assert "Leads agent" in body and str(leads_agent.full_name) in body


def test_the_workload_page_shows_each_leads_agents_open_leads(
    login, company, supervisor, leads_agent, leads_agent_2, make_customer, make_order
):
    for _ in range(3):
        _lead(company, leads_agent, make_customer, make_order)
    body = login(supervisor).get("/workload/").content.decode()
    assert 'id="leads-workload"' in body
    load = dict(login(supervisor).get("/workload/").context["leads_load"])
    assert load == {leads_agent: 3, leads_agent_2: 0}


def test_totals_read_with_thousands_separators_as_in_the_timeline(
    login, company, leads_agent, make_customer, make_order
):
    # given a lead whose latest order totals 1,200.00 (twelve at 100.00)
    lead = _lead(company, leads_agent, make_customer, make_order, "Olivia Big")
    make_order(lead.contact, quantity=12)
    # when the agent opens the report and the customer's page
    report = login(leads_agent).get(REPORT).content.decode()
    customer = login(leads_agent).get(reverse("leads:customer", args=[lead.contact.pk]))
    # then the total reads "1,200.00 USD" on both, as the timeline writes it
    assert "1,200.00 USD" in report and "1200.00 USD" not in report
    assert "1,200.00 USD" in customer.content.decode()
