"""Data the benchmarks build for themselves (each run starts from an empty database)."""

from django.contrib.auth.models import Group
from django.db import connection

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


def bulk_contacts(company: Company, *, agent_ids: list[int], first: int, last: int) -> None:
    """Contacts ``first``..``last`` of ``company`` in one ``INSERT … SELECT``: "Bench Person
    N", phone +1212 (2000000 + N), owned round-robin by ``agent_ids``, one a second older
    each. Call it inside the transaction that builds the rest of the data."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_contact (company_id, name, phone, email, source, tags,
                primary_agent_id, ownership_version, created_at, updated_at)
            SELECT %s, 'Bench Person ' || g, '+1212' || (2000000 + g)::text,
                   'p' || g || '@bench.test', 'bench', '',
                   (%s::bigint[])[1 + (g %% %s)], 1,
                   now() - (g || ' seconds')::interval, now()
            FROM generate_series(%s, %s) AS g
            """,
            [company.pk, agent_ids, len(agent_ids), first, last],
        )
