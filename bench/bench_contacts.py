"""Contacts: creating one through the service, and the admin's contact list on a big table."""

import statistics
import time

from django.conf import settings
from django.db import transaction
from django.test import Client

from agents.models import AccessLevel, Agent, Company
from contacts.models import Contact
from contacts.services import contact_create

from .measure import measured, percentile, result

TABLE_SIZE = 200_000


def _fixture() -> tuple[Company, Agent]:
    company, _ = Company.objects.get_or_create(name="Bench Co")
    admin = Agent.objects.filter(email="bench-admin@bench.test").first()
    if admin is None:
        admin = Agent.objects.create_user(
            "bench-admin@bench.test", "x", full_name="Bench Admin", access_level=AccessLevel.ADMIN
        )
    admin.companies.add(company)
    missing = TABLE_SIZE - Contact.objects.filter(company=company).count()
    start = 1_000_000 + Contact.objects.filter(company=company).count()
    while missing > 0:
        batch = min(missing, 10_000)
        Contact.objects.bulk_create(
            Contact(
                company=company,
                name=f"Bench Person {n}",
                phone=f"+1202{n:07d}",
                email=f"p{n}@bench.test",
                source="bench",
            )
            for n in range(start, start + batch)
        )
        start += batch
        missing -= batch
    return company, admin


def run() -> list[dict]:
    company, admin = _fixture()
    out = []

    # 1. contact_create: validation, insert and its timeline row, one transaction each.
    samples = []
    base = Contact.objects.count()
    with measured() as m:
        for n in range(300):
            t = time.perf_counter()
            with transaction.atomic():
                contact_create(
                    company=company,
                    actor=admin,
                    name=f"New {n}",
                    phone=f"+1415{2_000_000 + base + n:07d}",
                )
            samples.append((time.perf_counter() - t) * 1000)
    p95 = percentile(samples, 95)
    out.append(
        result(
            "contact_create (with timeline row), p95",
            p95,
            "ms",
            "≤ 25 ms",
            m["peak_mib"],
            p95 <= 25,
        )
    )

    # 2. The admin's contact list, first page, on the whole table.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(admin)
    client.get("/admin/contacts/contact/")
    timings = []
    with measured() as m:
        for _ in range(10):
            t = time.perf_counter()
            response = client.get("/admin/contacts/contact/")
            timings.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
    median = statistics.median(timings)
    total = Contact.objects.filter(company=company).count()
    out.append(
        result(
            f"admin contact list, first page, {total:,} contacts (median)",
            median,
            "ms",
            "≤ 500 ms",
            m["peak_mib"],
            median <= 500,
        )
    )
    return out
