"""The public API at scale (PostgreSQL): 1,000,000 contacts, 200 agents.

1. The contact list's first page and a search by phone (in a format other than E.164), each
   beside its floor measured in the same run: the same SQL run bare through a cursor (one
   round trip, no Django, no DRF, no rendering).
2. ``PUT /api/v1/contacts/{id}/primary-agent/`` (the one ownership path: locks, version,
   timeline row, counters, the email queued), p95.
3. The outbox: a handover of 100,000 contacts delivered to a receiver on 127.0.0.1, in
   batches of 100 events per signed request, events/s from the handover's commit to the last
   event received (each verified once by id).

Requests are made in process (Django's test client through the whole middleware stack): the
cost of the API's code, not of an HTTP server (bench_webhook measures gunicorn).
"""

import multiprocessing
import statistics
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from agents.models import Agent, Company
from api.keys import api_key_create
from contacts.models import Contact
from contacts.ownership import contacts_recount_primary_load

from .data import bulk_agents, bulk_contacts
from .measure import percentile, result, scaled

COMPANY = "Bench API Co"
CONTACTS = scaled(1_000_000)
AGENTS = scaled(200, minimum=4)
RUNS = scaled(300, minimum=30)


def _build() -> tuple[Company, list[Agent]]:
    company, _ = Company.objects.get_or_create(name=COMPANY, defaults={"time_zone": "UTC"})
    agents = bulk_agents(company, prefix="api", domain="bench-api.test", count=AGENTS)
    if not Contact.objects.filter(company=company).exists():
        print(f"   building {CONTACTS:,} contacts…")
        with transaction.atomic():
            bulk_contacts(company, agent_ids=[a.pk for a in agents], first=1, last=CONTACTS)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE contacts_contact")
        contacts_recount_primary_load(company=company)
    return company, agents


def _client(company: Company, scopes: list[str]) -> Client:
    _, raw = api_key_create(company=company, name="bench", scopes=scopes, created_by=None)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _timed(call, runs: int = RUNS) -> list[float]:
    call()  # warm-up
    samples = []
    for n in range(runs):
        start = time.perf_counter()
        call(n)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _bare(sql: str, params: list) -> list[float]:
    with connection.cursor() as cursor:

        def run(n: int = 0) -> None:
            cursor.execute(sql, params)
            cursor.fetchall()

        return _timed(run)


# The first page as the API reads it: the contacts and their primary agents, by id.
FIRST_PAGE_SQL = """
    SELECT c.*, a.id, a.email, a.full_name FROM contacts_contact c
    LEFT JOIN agents_agent a ON a.id = c.primary_agent_id
    WHERE c.company_id = %s ORDER BY c.id LIMIT 51
"""
BY_PHONE_SQL = """
    SELECT c.*, a.id, a.email, a.full_name FROM contacts_contact c
    LEFT JOIN agents_agent a ON a.id = c.primary_agent_id
    WHERE c.company_id = %s AND c.phone = %s ORDER BY c.id LIMIT 51
"""


def _list_and_search(company: Company) -> list[dict]:
    client = _client(company, ["read"])

    def first_page(n: int = 0) -> None:
        response = client.get("/api/v1/contacts/")
        assert response.status_code == 200 and len(response.json()["results"]) == 50, response

    def by_phone(n: int = 0) -> None:
        g = 1 + (n * 7919) % CONTACTS
        digits = str(2000000 + g)
        # (212) 200-0001: a spelling the API must normalise before the indexed lookup.
        response = client.get("/api/v1/contacts/", {"phone": f"(212) {digits[:3]}-{digits[3:]}"})
        found = response.json()["results"]
        assert response.status_code == 200 and len(found) == 1, (response.status_code, found)

    out = []
    for name, call, sql, params in (
        ("API contact list, first page", first_page, FIRST_PAGE_SQL, [company.pk]),
        ("API contact search by phone", by_phone, BY_PHONE_SQL, [company.pk, "+12122000001"]),
    ):
        p95 = percentile(_timed(call), 95)
        floor = percentile(_bare(sql, params), 95)
        out.append(
            result(
                f"{name}, {CONTACTS:,} contacts, p95 (bare query p95 {floor:.2f} ms, "
                f"{p95 / floor:.1f}×)",
                p95,
                "ms",
                "≤ 25 ms",
                None,
                p95 <= 25,
            )
        )
    return out


def _put_primary_agent(company: Company, agents: list[Agent]) -> dict:
    client = _client(company, ["routing"])
    ids = list(
        Contact.objects.filter(company=company)
        .order_by("?")
        .values_list("pk", flat=True)[: RUNS + 1]
    )
    from contacts import tasks

    queued: list = []
    original = tasks.send_assignment_email.delay
    tasks.send_assignment_email.delay = lambda *a, **k: queued.append(a)  # count, don't send
    try:

        def put(n: int = RUNS) -> None:
            agent = agents[n % len(agents)]
            response = client.put(
                f"/api/v1/contacts/{ids[n]}/primary-agent/",
                {"agent": agent.pk, "reason": "bench"},
                content_type="application/json",
            )
            assert response.status_code == 200, (response.status_code, response.content[:300])

        samples = _timed(put)
    finally:
        tasks.send_assignment_email.delay = original
    p95 = percentile(samples, 95)
    return result(
        f"API PUT primary agent, p95 ({len(samples)} requests, median "
        f"{statistics.median(samples):.2f} ms)",
        p95,
        "ms",
        "≤ 50 ms",
        None,
        p95 <= 50,
    )


HANDOVER = scaled(100_000)
MEMBERS = scaled(50, minimum=4)


def _book(company: Company, owner: Agent, n: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_contact (company_id, name, phone, email, source, tags,
                primary_agent_id, ownership_version, created_at, updated_at)
            SELECT %s, 'Book ' || g, '', '', 'bench', '', %s, 1, now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [company.pk, owner.pk, n],
        )
    contacts_recount_primary_load(company=company)


def _outbox_delivery() -> dict:
    """A handover of 100,000 contacts through a 50-member round-robin group, then its
    100,000 contact.owner_changed events delivered to a receiver on 127.0.0.1 that verifies
    every signature (standardwebhooks). Timed from the first dispatch to the last answer."""
    from events import emit
    from events.delivery import dispatch_company, send_endpoint
    from events.models import Delivery, Event, EventType
    from events.services import endpoint_create
    from routing.handover import agent_book_handover
    from routing.models import GroupMember, ReassignmentGroup
    from tests.events.conftest import Receiver, serve

    settings.WEBHOOK_ALLOW_LOOPBACK = True
    company, _ = Company.objects.get_or_create(name="Bench Outbox Co")
    leaver = bulk_agents(company, prefix="leaver", domain="bench-outbox.test", count=1)[0]
    members = bulk_agents(company, prefix="member", domain="bench-outbox.test", count=MEMBERS)
    Agent.objects.filter(pk__in=[a.pk for a in members]).update(
        last_seen_at=timezone.now() + timedelta(hours=1)
    )
    group = ReassignmentGroup.objects.create(company=company, name="Bench", method="round_robin")
    GroupMember.objects.bulk_create(GroupMember(group=group, agent=a) for a in members)
    _book(company, leaver, HANDOVER)
    receiver = Receiver()
    server = serve(receiver)
    try:
        endpoint, receiver.secret = endpoint_create(
            company=company, url=receiver.url, event_types=[EventType.CONTACT_OWNER_CHANGED]
        )
        company.refresh_from_db()
        from contacts import tasks

        original = (emit._dispatch_after_commit, tasks.send_assignment_email.delay)
        # The handover alone first (bench_routing times it); its events wait in the outbox.
        emit._dispatch_after_commit = lambda company_id: None
        tasks.send_assignment_email.delay = lambda *a, **k: None
        try:
            moved = agent_book_handover(company=company, agent=leaver, group=group, actor=None)
        finally:
            emit._dispatch_after_commit, tasks.send_assignment_email.delay = original
        assert moved == HANDOVER, moved
        start = time.perf_counter()
        while Event.objects.filter(company=company, dispatched=False).exists():
            dispatch_company(company_id=company.pk)
        while Delivery.objects.filter(endpoint=endpoint, status="pending").exists():
            send_endpoint(endpoint_id=endpoint.pk, max_seconds=600)
        seconds = time.perf_counter() - start
    finally:
        server.shutdown()
        server.server_close()
    ids = [e["id"] for r in receiver.accepted for e in r.body["data"]["events"]]
    assert receiver.bad_signatures == 0
    assert len(ids) == len(set(ids)) == HANDOVER, (len(ids), len(set(ids)))
    rate = HANDOVER / seconds
    return result(
        f"outbox delivery of a {HANDOVER:,}-contact handover to a receiver on 127.0.0.1 "
        f"({len(receiver.accepted)} signed requests of ≤ 100 events, every signature verified)",
        rate,
        "events/s",
        "≥ 2,000 events/s",
        None,
        rate >= 2000,
    )


def _forked(work) -> dict:
    """``work()`` in a forked child: the handover and its 100,000 delivered events would grow
    this process by hundreds of MB, and the later benchmarks fork their measured children
    (the list import's peak RSS) from it."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()

    def target() -> None:
        try:
            theirs.send(("ok", work()))
        except BaseException as error:  # noqa: BLE001 - reported by the parent
            theirs.send(("error", f"{type(error).__name__}: {error}"))
        finally:
            connections.close_all()

    child = context.Process(target=target)
    child.start()
    status, value = ours.recv()
    child.join()
    if status != "ok":
        raise RuntimeError(value)
    return value


def run() -> list[dict]:
    if connection.vendor != "postgresql":
        print("   skipped: the API's targets are for PostgreSQL")
        return []
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    company, agents = _build()
    out = _list_and_search(company)
    out.append(_put_primary_agent(company, agents))
    out.append(_forked(_outbox_delivery))
    return out
