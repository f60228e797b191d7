"""Contacts: creating one through the service (validation, insert, timeline row)."""

from django.db import transaction

from agents.models import AccessLevel, Agent, Company
from contacts.models import Contact
from contacts.services import contact_create

from .measure import measured, percentile, result


def run() -> list[dict]:
    company, _ = Company.objects.get_or_create(name="Bench Co")
    admin = Agent.objects.filter(email="bench-admin@bench.test").first()
    if admin is None:
        admin = Agent.objects.create_user(
            "bench-admin@bench.test", "x", full_name="Bench Admin", access_level=AccessLevel.ADMIN
        )
    admin.companies.add(company)

    samples = []
    base = Contact.objects.count()
    for n in range(300):
        with measured(trace_memory=False) as m, transaction.atomic():
            contact_create(
                company=company,
                actor=admin,
                name=f"New {n}",
                phone=f"+1415{2_000_000 + base + n:07d}",
            )
        samples.append(m["seconds"] * 1000)
    with measured() as traced, transaction.atomic():
        contact_create(company=company, actor=admin, phone=f"+1415{2_000_000 + base + 300:07d}")
    p95 = percentile(samples, 95)
    return [
        result(
            "contact_create (with timeline row), p95",
            p95,
            "ms",
            "≤ 25 ms",
            traced["peak_mib"],
            p95 <= 25,
        )
    ]
