"""The leads' access policy: what a Leads Agent may see, for pages, search and exports.

Admins (and superusers) see every customer and order of their company. A Leads Agent sees
only Partial orders unless *Leads agents see non-partial orders* is on, and, when *Restrict
to assigned customers* is on, only the customers of their open leads and of leads resolved
less than an hour ago. Views, the admin and the CSV export all call these.
"""

from datetime import datetime

from django.db.models import QuerySet

from agents.models import AccessLevel, Agent, Company
from contacts.models import Contact

from .models import LeadsSettings, Order
from .selectors import leads_settings, reachable_contact_ids

# Who works on the leads pages.
LEADS_PAGE_LEVELS = (AccessLevel.LEADS_AGENT, AccessLevel.ADMIN)


def is_leads_agent(user: Agent) -> bool:
    return not user.is_superuser and user.access_level == AccessLevel.LEADS_AGENT


def restricted_ids(
    *,
    user: Agent,
    company: Company,
    settings: LeadsSettings | None = None,
    now: datetime | None = None,
) -> QuerySet | None:
    """The subquery of customer ids the user is limited to, or None when not limited."""
    if not is_leads_agent(user):
        return None
    settings = settings or leads_settings(company=company)
    if not settings.restrict_to_assigned:
        return None
    return reachable_contact_ids(company=company, agent=user, now=now)


def customer_reachable(
    *, user: Agent, company: Company, contact_id: int, now: datetime | None = None
) -> bool:
    """May the user open this customer (their page, Order Entry)?"""
    contacts = Contact.objects.filter(company=company, pk=contact_id)
    only = restricted_ids(user=user, company=company, now=now)
    if only is not None:
        contacts = contacts.filter(pk__in=only)
    return contacts.exists()


def orders_in_scope(
    queryset: QuerySet[Order],
    *,
    user: Agent,
    company: Company,
    settings: LeadsSettings | None = None,
) -> QuerySet[Order]:
    """The orders the user may see in reports, search and exports."""
    queryset = queryset.filter(company=company)
    if not is_leads_agent(user):
        return queryset
    settings = settings or leads_settings(company=company)
    if not settings.show_non_partial_orders:
        queryset = queryset.filter(status=Order.Status.PARTIAL)
    only = restricted_ids(user=user, company=company, settings=settings)
    return queryset if only is None else queryset.filter(contact_id__in=only)
