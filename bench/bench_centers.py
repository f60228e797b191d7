"""Contact centers at scale (PostgreSQL): a call to a 500-member skills-based center through
the webhook, and that center's supervisor dashboard.

1. Calls with ``contact_center`` and ``call_type`` at 20 requests/s through gunicorn: each
   computes the ring list of 500 members (ranks, presence, devices) and stores it.
2. The center dashboard with 500 members, as its supervisor (median of 10).
"""

import random
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
from .measure import page_timing, result, scaled
from .webhook import Served, wrk_available

COMPANY = "Bench Centers Co"
MEMBERS = scaled(500, minimum=5)
TOKEN = "sbw_bench_centers"
CENTER = "Bench Help Desk"


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
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return company, center, supervisor


def run() -> list[dict]:
    if connection.vendor != "postgresql":
        print("   skipped: the contact-center targets are for PostgreSQL")
        return []
    company, center, supervisor = _build()
    out = []

    # 1. Calls to the center through the webhook: 200 callers, paced at 20 requests/s by wrk
    # (a C client: a Python client on the same 2 cores adds its own threads, JSON and the
    # 45 KB answers to the latency it measures).
    if not wrk_available():
        print("   skipped the call step: wrk is not installed (apt-get install wrk)")
    else:
        with Served(settings="config.settings", workers=4) as served:
            # Warm up every worker (imports, connection, prepared statements).
            served.wrk(path="/api/inbound/", seconds=2, mode="callers", token=TOKEN,
                       known=200, rate=20, center=CENTER, call_type="billing")  # fmt: skip
            paced = served.wrk(
                path="/api/inbound/",
                seconds=scaled(15, minimum=3),
                connections=4,
                mode="callers",
                token=TOKEN,
                known=200,
                rate=20,
                center=CENTER,
                call_type="billing",
            )
            rss = served.peak_rss()
        out.append(
            result(
                f"webhook call to a {MEMBERS}-member skills-based center (ring list computed "
                f"and stored), p95 at 20 req/s (wrk paced, {paced['requests']} requests, "
                f"p50 {paced['p50']:.1f} ms, errors {paced['errors']}, load average "
                f"{paced['load']:.2f})",
                paced["p95"],
                "ms",
                "≤ 25 ms",
                rss,
                paced["p95"] <= 25 and paced["errors"] == 0,
            )
        )
        out[-1]["peak_note"] = "gunicorn worker peak RSS"

    # 2. The supervisor's dashboard of that center.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(supervisor)
    median, traced = page_timing(client, f"/centers/{center.pk}/dashboard/")
    out.append(
        result(
            f"center dashboard, {MEMBERS} members (median)",
            median,
            "ms",
            "≤ 300 ms",
            traced["peak_mib"],
            median <= 300,
        )
    )
    return out
