"""Contact centers at scale (PostgreSQL): a call to a 500-member skills-based center through
the webhook, and that center's supervisor dashboard, each against a floor measured beside it
in the same run (issue 23).

1. Calls with ``contact_center`` and ``call_type`` at 20 requests/s through gunicorn: each
   computes the ring list of 500 members (ranks, presence, devices) and stores it. Its floor
   is the webhook's (``bench/floor/``: parse, lock one phone's row of 1,000,000, insert one
   row) under the same gunicorn command, paced the same way (wrk, 4 connections, 20
   requests/s); the two are measured in turns, ROUNDS times, and the median p95s compared:
   the call's p95 ≤ 2× the floor's.
2. The center dashboard with 500 members, as its supervisor: its statements are captured on
   one render, and each timed render is followed by exactly those statements run bare
   (``bench.floor.bare``: one round trip each, no ORM, no template); median of 10 of each:
   the page ≤ 2× its statements.
"""

import os
import random
import statistics
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from agents.centers.models import CallType, CenterMembership, ContactCenter, Device, SkillRank
from agents.centers.services import membership_set_role
from agents.models import AccessLevel, Agent, Company, Presence
from agents.services import company_set_webhook_token

from .data import bulk_agents
from .floor.bare import page_statements, run_bare
from .floor.tables import phones_build
from .measure import measured, result, scaled
from .webhook import Served, wrk_available

COMPANY = "Bench Centers Co"
MEMBERS = scaled(500, minimum=5)
TOKEN = "sbw_bench_centers"
CENTER = "Bench Help Desk"
FLOOR_PHONES = scaled(1_000_000)
SECONDS = scaled(15, minimum=3)
RATE = 20
ROUNDS = 3
PAGE_RUNS = 10


def _build() -> tuple[Company, ContactCenter, Agent]:
    company, _ = Company.objects.get_or_create(name=COMPANY, defaults={"time_zone": "UTC"})
    company_set_webhook_token(company=company, token=TOKEN)
    agents = bulk_agents(company, prefix="member", domain="bench-centers.test", count=MEMBERS)
    # Three quarters at work for the whole run, "seen" an hour ahead so presence holds.
    Agent.objects.filter(pk__in=[a.pk for a in agents]).update(
        presence=Presence.AVAILABLE, last_seen_at=timezone.now() + timedelta(hours=1)
    )
    Agent.objects.filter(pk__in=[a.pk for a in agents[::4]]).update(presence=Presence.AWAY)
    center = ContactCenter.objects.create(
        company=company, name=CENTER, routing_type=ContactCenter.RoutingType.SKILLS
    )
    billing = CallType.objects.create(center=center, name="billing")
    # Built in bulk (the membership service's checks and rights are not what is measured).
    memberships = CenterMembership.objects.bulk_create(
        CenterMembership(center=center, agent=a, position=n) for n, a in enumerate(agents)
    )
    rng = random.Random(7)
    SkillRank.objects.bulk_create(
        SkillRank(membership=m, call_type=billing, rank=rng.randint(0, 100)) for m in memberships
    )
    Device.objects.bulk_create(
        Device(agent=a, kind=Device.Kind.MOBILE, label="mobile", ring=n % 10 != 0)
        for n, a in enumerate(agents)
    )
    supervisor = agents[0]
    supervisor.access_level = AccessLevel.SUPERVISOR
    supervisor.save()
    membership_set_role(membership=memberships[0], role=CenterMembership.Role.SUPERVISOR)
    phones_build(FLOOR_PHONES)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return company, center, supervisor


def _median_p95(runs: list[dict]) -> dict:
    """The run with the median p95."""
    return sorted(runs, key=lambda r: r["p95"])[len(runs) // 2]


def _line(m: dict) -> str:
    return (
        f"{m['requests']} requests, p50 {m['p50']:.1f} ms, p95 {m['p95']:.1f} ms, "
        f"errors {m['errors']}, load average {m['load']:.2f}"
    )


def _calls() -> list[dict]:
    """The call to the center and the webhook's floor, paced alike, in turns."""
    calls, floors = [], []
    with (
        Served(settings="bench.floor.settings", workers=4) as floor,
        Served(settings="config.settings", workers=4) as served,
    ):
        floor.answering(path="/floor/", body={"phone": "+12122000001"})
        served.answering(path="/login/")
        # Warm up every worker of both (imports, connection, prepared statements).
        floor.wrk(path="/floor/", seconds=3, known=FLOOR_PHONES, rate=RATE)
        served.wrk(path="/api/inbound/", seconds=3, mode="callers", token=TOKEN,
                   known=200, rate=RATE, center=CENTER, call_type="billing")  # fmt: skip
        for _ in range(ROUNDS):
            floors.append(floor.wrk(path="/floor/", seconds=SECONDS, known=FLOOR_PHONES, rate=RATE))
            time.sleep(1)
            calls.append(
                served.wrk(
                    path="/api/inbound/",
                    seconds=SECONDS,
                    connections=4,
                    mode="callers",
                    token=TOKEN,
                    known=200,
                    rate=RATE,
                    center=CENTER,
                    call_type="billing",
                )
            )
            time.sleep(1)
        rss = served.peak_rss()
    print("   floor p95: " + ", ".join(f"{r['p95']:.1f} ms" for r in floors))
    print("   call p95:  " + ", ".join(f"{r['p95']:.1f} ms" for r in calls))
    base, paced = _median_p95(floors), _median_p95(calls)
    ratio = paced["p95"] / base["p95"]
    setup = f"wrk paced at {RATE} req/s, 4 connections, median p95 of {ROUNDS} runs of {SECONDS} s"
    out = [
        result(
            f"floor of the center call: the webhook's floor (parse, lock the phone's row of "
            f"{FLOOR_PHONES:,}, insert one row), gunicorn --workers 4, {setup}; {_line(base)}",
            base["p95"],
            "ms",
            "the reference",
            None,
            base["errors"] == 0,
        ),
        result(
            f"webhook call to a {MEMBERS}-member skills-based center (ring list computed and "
            f"stored), p95: {ratio:.2f}× the webhook's floor ({base['p95']:.2f} ms) in the same "
            f"run ({setup}; {_line(paced)})",
            paced["p95"],
            "ms",
            "p95 ≤ 2× the floor's",
            rss,
            ratio <= 2 and paced["errors"] == 0 and all(r["errors"] == 0 for r in calls),
        ),
    ]
    out[-1]["peak_note"] = "gunicorn worker peak RSS"
    return out


def _dashboard(center: ContactCenter, supervisor: Agent) -> list[dict]:
    """The dashboard against its own statements run bare, in turns: median of each."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(supervisor)
    url = f"/centers/{center.pk}/dashboard/"
    assert client.get(url).status_code == 200  # warm up
    statements = page_statements(client, url)
    run_bare(statements)
    pages, bares = [], []
    for _ in range(PAGE_RUNS):
        with measured(trace_memory=False) as m:
            assert client.get(url).status_code == 200
        pages.append(m["seconds"] * 1000)
        bares.append(run_bare(statements))
    with measured() as traced:
        client.get(url)
    page, bare = statistics.median(pages), statistics.median(bares)
    ratio = page / bare
    return [
        result(
            f"center dashboard, {MEMBERS} members (median of {PAGE_RUNS}): {ratio:.2f}× its "
            f"{len(statements)} statements run bare ({bare:.2f} ms, median, in turns with the "
            f"page; load average {os.getloadavg()[0]:.2f})",
            page,
            "ms",
            "≤ 2× the page's statements run bare",
            traced["peak_mib"],
            ratio <= 2,
        )
    ]


def run() -> list[dict]:
    if connection.vendor != "postgresql":
        print("   skipped: the contact-center targets are for PostgreSQL")
        return []
    _company, center, supervisor = _build()
    out = []
    # 1. Calls to the center through the webhook against the webhook's floor, both paced by
    # wrk (a C client: a Python client on the same 2 cores adds its own threads, JSON and the
    # 45 KB answers to the latency it measures).
    if not wrk_available():
        print("   skipped the call step: wrk is not installed (apt-get install wrk)")
    else:
        out += _calls()
    # 2. The supervisor's dashboard of that center against its statements run bare.
    out += _dashboard(center, supervisor)
    return out
