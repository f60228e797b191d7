"""Leads at scale (PostgreSQL): 1,000,000 customers with one order each, a Leads Agent with
5,000 open leads.

Steps: the Leads Agent Report (against its own statements run bare, ``bench.floor.bare``:
p95 ≤ 2× theirs, issue 23), the Customer Search (name, email, phone, order number), the
Order Details first page (the leads agent's page and the admin's), and a batch Assign Leads
of 10,000 orders.
"""

import os
import statistics
import time
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from agents.models import AccessLevel, Agent, Company
from contacts.models import Contact, TimelineEntry
from leads.models import Lead, LeadEmail, Order
from leads.services import leads_assign_bulk

from .floor.bare import page_statements, run_bare
from .measure import measured, percentile, result, scaled, settle

COMPANY = "Bench Leads Co"
CONTACTS = scaled(1_000_000)
LEADS = scaled(5_000)
BULK = scaled(10_000)
FIRST = ["Olivia", "Liam", "Noah", "Mia", "Lucas", "Zoe", "Ethan", "Ivy", "Omar", "Grace"]
LAST = ["Nguyen", "Garcia", "Kowalski", "Haddad", "Brown", "Smith", "Okafor", "Martin"]


def _person(company: Company, email: str, level: str) -> Agent:
    user = Agent.objects.filter(email=email).first()
    if user is None:
        user = Agent.objects.create_user(
            email, "x", full_name=email.split("@")[0], access_level=level
        )
    user.companies.add(company)
    return user


def _build() -> tuple[Company, Agent, Agent, Agent]:
    company, _ = Company.objects.get_or_create(name=COMPANY, defaults={"time_zone": "UTC"})
    agent = _person(company, "leads@bench-leads.test", AccessLevel.LEADS_AGENT)
    batch_agent = _person(company, "batch@bench-leads.test", AccessLevel.LEADS_AGENT)
    admin = _person(company, "admin@bench-leads.test", AccessLevel.ADMIN)
    if Contact.objects.filter(company=company).exists():
        return company, agent, batch_agent, admin
    print(f"   building {CONTACTS:,} customers, their orders, history and {LEADS:,} leads…")
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(
            """
            INSERT INTO contacts_contact (company_id, name, phone, email, source, tags,
                ownership_version, created_at, updated_at)
            SELECT %s,
                   (%s::text[])[1 + g %% 10] || ' ' || (%s::text[])[1 + (g / 10) %% 8]
                       || ' ' || g,
                   '+1212' || (2000000 + g)::text, 'c' || g || '@bench-leads.test', 'bench',
                   '', 0, now() - (g || ' seconds')::interval, now()
            FROM generate_series(1, %s) AS g
            """,
            [company.pk, FIRST, LAST, CONTACTS],
        )
        # One order per customer (its latest): 40 % Partial, the rest spread over the others.
        cursor.execute(
            """
            INSERT INTO leads_order (company_id, contact_id, number, status, total, currency,
                is_latest, created_at)
            SELECT company_id, id, 'BL-' || id,
                   (ARRAY['partial','partial','partial','partial','complete','complete',
                          'declined','cancelled','refunded','complete'])[1 + id %% 10],
                   (id %% 500) + 0.99, 'USD', true, created_at + interval '1 minute'
            FROM contacts_contact WHERE company_id = %s
            """,
            [company.pk],
        )
        cursor.execute(
            """
            INSERT INTO contacts_timelineentry (company_id, contact_id, kind, message, details,
                created_at)
            SELECT company_id, id, 'order_created', 'Order BL-' || id || ' entered.', '{}'::jsonb,
                   created_at + interval '1 minute'
            FROM contacts_contact WHERE company_id = %s
            """,
            [company.pk],
        )
        # The Leads Agent's 5,000 open leads: Partial customers spread over the table.
        cursor.execute(
            """
            INSERT INTO leads_lead (company_id, contact_id, agent_id, assigned_at, status)
            SELECT o.company_id, o.contact_id, %s,
                   now() - ((o.contact_id %% 900) || ' minutes')::interval, 'open'
            FROM leads_order o WHERE o.company_id = %s AND o.status = 'partial'
                AND o.contact_id %% 7 = 0
            ORDER BY o.contact_id LIMIT %s
            """,
            [agent.pk, company.pk, LEADS],
        )
        cursor.execute(
            """
            INSERT INTO contacts_timelineentry (company_id, contact_id, kind, agent_id, message,
                details, created_at)
            SELECT company_id, contact_id, 'lead_assigned', agent_id, 'Lead assigned.', '{}'::jsonb,
                   assigned_at
            FROM leads_lead WHERE company_id = %s
            """,
            [company.pk],
        )
    # The pages are timed from a clean start, as the import is: a checkpoint that the
    # millions of rows just built (or an earlier benchmark's) set off spreads its writes
    # over minutes of the timing (docs/performance.md).
    settle()
    return company, agent, batch_agent, admin


def _p95(client: Client, urls: list[str]) -> tuple[float, float]:
    for url in urls[:3]:
        assert client.get(url).status_code == 200, url
    timings = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    with measured() as traced:
        client.get(urls[0])
    return percentile(timings, 95), traced["peak_mib"]


def run() -> list[dict]:
    if connection.vendor != "postgresql":
        print("   skipped: the leads targets are for PostgreSQL")
        return []
    company, agent, batch_agent, admin = _build()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    out = []
    leads_client = Client()
    leads_client.force_login(agent)
    admin_client = Client()
    admin_client.force_login(admin)
    leads = Lead.objects.filter(agent=agent, status="open").count()

    # 1. The Leads Agent Report: every sort, a few pages; each request followed by exactly
    # the statements one render of that page runs, bare (captured once per page).
    urls = [
        f"/leads/report/?sort={sort}&page={page}"
        for sort in ("age", "-age", "customer", "-total", "status")
        for page in (1, 2, 7)
    ]
    statements = {url: page_statements(leads_client, url) for url in urls}
    for url in urls[:3]:
        run_bare(statements[url])
    pages, bares = [], []
    for url in urls * 2:
        start = time.perf_counter()
        response = leads_client.get(url)
        pages.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
        bares.append(run_bare(statements[url]))
    with measured() as traced:
        leads_client.get(urls[0])
    p95, bare = percentile(pages, 95), percentile(bares, 95)
    ratio = p95 / bare
    counts = sorted({len(s) for s in statements.values()})
    out.append(
        result(
            f"Leads Agent Report, p95 ({leads:,} leads among {CONTACTS:,} customers; "
            f"{len(pages)} requests, 5 sorts × 3 pages): {ratio:.2f}× its statements run bare "
            f"({'–'.join(map(str, counts))} a page, p95 {bare:.2f} ms, in turns with the page; "
            f"load average {os.getloadavg()[0]:.2f})",
            p95,
            "ms",
            "p95 ≤ 2× the page's statements run bare",
            traced["peak_mib"],
            ratio <= 2,
        )
    )

    # 2. Customer Search by name, email, phone and order number (trigram indexes).
    step = max(1, CONTACTS // 13)
    terms = []
    for g in range(7, CONTACTS, step):
        name = f"{FIRST[g % 10]} {LAST[(g // 10) % 8]} {g}"
        terms += [name, f"c{g}@bench-leads", f"+1212{2000000 + g}", f"BL-{g}"]
    p95, peak = _p95(admin_client, [f"/leads/customers/?{urlencode({'q': t})}" for t in terms])
    out.append(
        result(
            f"Customer Search, p95 ({len(terms)} searches, {CONTACTS:,} customers)",
            p95,
            "ms",
            "≤ 100 ms",
            peak,
            p95 <= 100,
        )
    )

    # 3. Order Details, first page: the leads agent's page, the admin's page and changelist.
    orders = Order.objects.filter(company=company).count()
    timings = {}
    for label, client, url in [
        ("leads agent", leads_client, "/leads/orders/?show_agent=on"),
        ("admin page", admin_client, "/leads/orders/?show_agent=on"),
        ("admin changelist", admin_client, "/admin/leads/order/?show_leads_agent=yes"),
    ]:
        assert client.get(url).status_code == 200
        samples = []
        for _ in range(10):
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            samples.append((time.perf_counter() - start) * 1000)
        timings[label] = statistics.median(samples)
    worst = max(timings.values())
    out.append(
        result(
            f"Order Details first page, slowest of {', '.join(timings)} ({orders:,} orders)",
            worst,
            "ms",
            "≤ 300 ms",
            None,
            worst <= 300,
        )
    )

    # 4. Batch Assign Leads of 10,000 orders (Partial customers without a lead).
    ids = list(
        Order.objects.filter(company=company, status="partial", is_latest=True)
        .exclude(contact__leads__status="open")
        .order_by("-contact_id")
        .values_list("contact_id", flat=True)[:BULK]
    )
    rows_before = TimelineEntry.objects.filter(company=company).count()
    with measured(trace_memory=False) as m, transaction.atomic():
        outcome = leads_assign_bulk(
            company=company, contact_ids=ids, agent=batch_agent, actor=admin
        )
    assert len(outcome.changed) == len(ids), outcome.counts()
    assert TimelineEntry.objects.filter(company=company).count() == rows_before + len(ids)
    assert LeadEmail.objects.filter(agent=batch_agent).exists()
    out.append(
        result(
            f"batch Assign Leads of {len(ids):,} orders (leads, timeline rows, one email)",
            m["seconds"],
            "s",
            "≤ 5 s",
            None,
            m["seconds"] <= 5,
        )
    )
    return out
