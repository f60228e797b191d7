import functools
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.utils import timezone

from .models import AccessLevel, Agent, Company, Presence
from .rawsql import fetchone_first, instance_from_row


def companies_for_user(user) -> QuerySet[Company]:
    """The companies a user may work in: all for superusers, else their memberships."""
    if not user.is_authenticated:
        return Company.objects.none()
    if user.is_superuser:
        return Company.objects.all()
    return user.companies.all()


def company_agents(*, company: Company, active_only: bool = True) -> QuerySet[Agent]:
    agents = Agent.objects.filter(companies=company)
    if active_only:
        agents = agents.filter(is_active=True)
    return agents.order_by("full_name", "email")


# Access levels that work in the Lead Center and so can own contacts.
LEAD_CENTER_LEVELS = (AccessLevel.AGENT, AccessLevel.SUPERVISOR, AccessLevel.ADMIN)


def eligible_primary_agents(*, company: Company) -> QuerySet[Agent]:
    """Who may be a contact's primary agent: the company's active Lead Center people."""
    return company_agents(company=company).filter(access_level__in=LEAD_CENTER_LEVELS)


def seen_since() -> datetime:
    return timezone.now() - timedelta(minutes=settings.PRESENCE_OFFLINE_AFTER_MINUTES)


def effective_presence_expression() -> Case:
    """``Agent.effective_presence`` as SQL, for annotating lists."""
    return Case(
        When(is_active=False, then=Value(Presence.OFFLINE)),
        When(last_seen_at__isnull=True, then=Value(Presence.OFFLINE)),
        When(last_seen_at__lt=seen_since(), then=Value(Presence.OFFLINE)),
        default=F("presence"),
        output_field=CharField(),
    )


@functools.cache
def _company_by_token_sql(vendor: str) -> str:
    columns = ", ".join(connection.ops.quote_name(f.column) for f in Company._meta.concrete_fields)
    table = connection.ops.quote_name(Company._meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE webhook_token_hash = %s"  # noqa: S608


def company_by_token_hash(token_hash: str) -> Company | None:
    """The company whose webhook token has this hash (the webhook's first statement, written
    out and never cached: a rotated token stops working at once in every process)."""
    row = fetchone_first(_company_by_token_sql(connection.vendor), [token_hash])
    return None if row is None else instance_from_row(Company, row)
