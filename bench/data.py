"""Data the benchmarks build for themselves (each run starts from an empty database)."""

from django.contrib.auth.models import Group

from agents.models import AccessLevel, Agent, Company, Presence


def bulk_agents(company: Company, *, prefix: str, domain: str, count: int) -> list[Agent]:
    """``count`` agents of ``company`` named ``<prefix>NNN@<domain>``, created in bulk when
    missing (no password hashing, group and company rows in two inserts); ordered by pk."""
    mine = Agent.objects.filter(email__startswith=prefix, email__endswith=f"@{domain}")
    have = mine.count()
    if have < count:
        group = Group.objects.get(name="Agent")
        made = Agent.objects.bulk_create(
            Agent(
                email=f"{prefix}{n:03d}@{domain}",
                full_name=f"{prefix.capitalize()} {n:03d}",
                access_level=AccessLevel.AGENT,
                password="!",
                presence=Presence.AVAILABLE,
            )
            for n in range(have, count)
        )
        Agent.companies.through.objects.bulk_create(
            Agent.companies.through(agent_id=a.pk, company_id=company.pk) for a in made
        )
        Agent.groups.through.objects.bulk_create(
            Agent.groups.through(agent_id=a.pk, group_id=group.pk) for a in made
        )
    return list(mine.order_by("pk")[:count])
