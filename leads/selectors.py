"""Reads of the leads feature, with their joins applied (constant queries per page)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone

from agents import zones
from agents.centers.models import Disposition
from agents.models import AccessLevel, Agent, Company
from agents.phone import try_normalise_phone
from contacts.models import Contact, TimelineEntry
from contacts.selectors import search_matches, text_query

from .models import Lead, LeadsSettings, Order, OrderItem, Product

SEARCH_LIMIT = 50
HISTORY_LIMIT = 10
# A resolved customer stays in reach of their Leads Agent this long (restricted companies).
RESOLVED_GRACE = timedelta(hours=1)


def leads_settings(*, company: Company) -> LeadsSettings:
    """The company's settings; both off when never saved."""
    found = LeadsSettings.objects.filter(company=company).first()
    return found or LeadsSettings(company=company)


def leads_agents(*, company: Company) -> QuerySet[Agent]:
    """Who may be assigned leads: the company's active Leads Agents."""
    return Agent.objects.filter(
        companies=company, is_active=True, access_level=AccessLevel.LEADS_AGENT, is_superuser=False
    ).order_by("full_name", "email")


def sales_dispositions(*, company: Company) -> QuerySet[Disposition]:
    """The sales dispositions of the company's call centers (the only ones Resolve takes)."""
    return (
        Disposition.objects.filter(center__company=company, is_sales=True, is_active=True)
        .select_related("center")
        .order_by("center__name", "name")
    )


def reachable_contact_ids(*, company: Company, agent: Agent, now: datetime | None = None):
    """Ids (a subquery) of the customers a restricted Leads Agent may open: open leads, and
    leads resolved or won less than an hour ago."""
    now = now or timezone.now()
    return (
        Lead.objects.filter(company=company, agent=agent)
        .filter(
            Q(status=Lead.Status.OPEN)
            | Q(
                status__in=[Lead.Status.RESOLVED, Lead.Status.WON],
                resolved_at__gte=now - RESOLVED_GRACE,
            )
        )
        .values("contact_id")
    )


# --- The Leads Agent Report ------------------------------------------------------------------
REPORT_SORTS = {
    "customer": ("contact__name", "pk"),
    "phone": ("contact__phone", "pk"),
    "order": ("latest__created_at", "pk"),
    "status": ("latest__status", "pk"),
    "total": ("latest__total", "pk"),
    "age": ("-assigned_at", "-pk"),  # youngest first when ascending
}


def _desc(field: str) -> str:
    return field[1:] if field.startswith("-") else "-" + field


def open_leads(*, company: Company, agent: Agent) -> QuerySet[Lead]:
    """The agent's open leads (the report's rows, without their joins: to count them)."""
    return Lead.objects.filter(company=company, agent=agent, status=Lead.Status.OPEN)


def report_leads(*, company: Company, agent: Agent, sort: str = "age") -> QuerySet[Lead]:
    """The agent's open leads with the customer and their most recent order (one join)."""
    key = sort.lstrip("-")
    fields = REPORT_SORTS.get(key, REPORT_SORTS["age"])
    if sort.startswith("-"):
        fields = tuple(_desc(f) for f in fields)
    return (
        open_leads(company=company, agent=agent)
        .annotate(
            latest=FilteredRelation("contact__orders", condition=Q(contact__orders__is_latest=True))
        )
        .select_related("contact")
        .annotate(
            latest_number=F("latest__number"),
            latest_status=F("latest__status"),
            latest_total=F("latest__total"),
            latest_currency=F("latest__currency"),
            latest_at=F("latest__created_at"),
        )
        .order_by(*fields)
    )


def recent_history(*, company: Company, agent: Agent, limit: int = HISTORY_LIMIT) -> list:
    """The ``limit`` most recent timeline rows across the agent's assigned customers: their
    open leads, and those they resolved or won within the hour (so the sale or the
    disposition just recorded still shows)."""
    assigned = reachable_contact_ids(company=company, agent=agent)
    # The newest rows first, then their customers and actors: joined before the limit, the
    # customer of every row of every assigned customer was read (10,000 rows for 5,000
    # leads: 51 ms of the report's ~90, against ~20 ms this way).
    newest = (
        TimelineEntry.objects.filter(company=company, contact_id__in=assigned)
        .order_by("-created_at", "-pk")
        .values("pk")[:limit]
    )
    return list(
        TimelineEntry.objects.filter(pk__in=newest)
        .select_related("contact", "actor")
        .order_by("-created_at", "-pk")
    )


# --- Customer Service ------------------------------------------------------------------------
def customer_search(
    *,
    company: Company,
    term: str,
    only_ids: QuerySet | None = None,
    orders: QuerySet[Order] | None = None,
) -> QuerySet[Contact]:
    """Customers matching a name, phone (any spelling), email or order number (among
    ``orders``: the orders the searcher may see)."""
    term = term.replace("\x00", "").strip()
    contacts = Contact.objects.filter(company=company)
    if only_ids is not None:
        contacts = contacts.filter(pk__in=only_ids)
    orders = Order.objects.filter(company=company) if orders is None else orders
    # A literal list, not a subquery: OR-ed with a subquery PostgreSQL can't combine the
    # trigram indexes and scans every contact.
    by_order = list(
        orders.filter(number__in={term, term.upper()}).values_list("contact_id", flat=True)[
            :SEARCH_LIMIT
        ]
    )
    phone = try_normalise_phone(term, region=company.default_region)
    if phone:
        return contacts.filter(Q(phone=phone) | Q(pk__in=by_order)).order_by("name", "pk")
    # A phone fragment only when the term is nothing but digits (spaces and dashes aside).
    only_digits = term.replace(" ", "").replace("-", "").isdigit()
    query = text_query(term, by_phone=only_digits)
    # The order numbers' contacts join the text matches in the same lookup (the search
    # table's key), so one pk__in covers both.
    matches = search_matches(company=company, query=query | Q(contact_id__in=by_order))
    return contacts.filter(pk__in=matches).order_by("name", "pk")


def customer_page(*, company: Company, pk: int) -> Contact | None:
    return Contact.objects.filter(company=company, pk=pk).first()


def customer_open_lead(*, contact: Contact) -> Lead | None:
    return (
        Lead.objects.filter(contact=contact, status=Lead.Status.OPEN)
        .select_related("agent", "assigned_by")
        .first()
    )


def customer_leads(*, contact: Contact, limit: int = 20) -> list[Lead]:
    return list(
        Lead.objects.filter(contact=contact)
        .select_related("agent", "disposition")
        .order_by("-assigned_at", "-pk")[:limit]
    )


def customer_timeline(*, contact: Contact, limit: int = 50) -> list[TimelineEntry]:
    return list(
        contact.timeline.select_related("actor", "agent").order_by("-created_at", "-pk")[:limit]
    )


def customer_orders(*, orders: QuerySet[Order], limit: int = 50) -> list[Order]:
    return list(orders.prefetch_related("items__product").order_by("-created_at", "-pk")[:limit])


def partial_customers(*, company: Company, term: str = "") -> QuerySet[Contact]:
    """Customers whose most recent order is Partial (who may be assigned as a lead)."""
    latest_partial = Order.objects.filter(
        company=company, contact=OuterRef("pk"), is_latest=True, status=Order.Status.PARTIAL
    )
    contacts = Contact.objects.filter(company=company).filter(Exists(latest_partial))
    term = term.replace("\x00", "").strip()
    if term:
        phone = try_normalise_phone(term, region=company.default_region)
        if phone:
            contacts = contacts.filter(phone=phone)
        else:
            text = Q(name__icontains=term) | Q(email__icontains=term)
            contacts = contacts.filter(pk__in=search_matches(company=company, query=text))
    return contacts.order_by("name", "pk")


# --- Order Details ----------------------------------------------------------------------------
@dataclass
class OrderFilters:
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    product: Product | None = None
    agent: Agent | None = None
    contact_id: int | None = None


def _day_start(company: Company, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zones.zone_of(company.time_zone))


def orders_filter(
    *, company: Company, orders: QuerySet[Order], filters: OrderFilters
) -> QuerySet[Order]:
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.date_from:
        orders = orders.filter(created_at__gte=_day_start(company, filters.date_from))
    if filters.date_to:
        orders = orders.filter(
            created_at__lt=_day_start(company, filters.date_to + timedelta(days=1))
        )
    if filters.product is not None:
        orders = orders.filter(
            Exists(OrderItem.objects.filter(order=OuterRef("pk"), product=filters.product))
        )
    if filters.agent is not None:
        orders = orders.filter(
            Exists(
                Lead.objects.filter(
                    contact=OuterRef("contact_id"), agent=filters.agent, status=Lead.Status.OPEN
                )
            )
        )
    if filters.contact_id is not None:
        orders = orders.filter(contact_id=filters.contact_id)
    return orders


def with_leads_agent(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Add ``leads_agent_name``: the customer's current Leads Agent (one join)."""
    return orders.annotate(
        open_lead=FilteredRelation(
            "contact__leads", condition=Q(contact__leads__status=Lead.Status.OPEN)
        ),
        leads_agent_name=F("open_lead__agent__full_name"),
        leads_agent_email=F("open_lead__agent__email"),
    )


def order_details(*, orders: QuerySet[Order], show_agent: bool = False) -> QuerySet[Order]:
    orders = orders.select_related("contact").order_by("-created_at", "-pk")
    return with_leads_agent(orders) if show_agent else orders


def company_products(*, company: Company) -> QuerySet[Product]:
    return Product.objects.filter(company=company).order_by("name", "pk")


# --- Workload ----------------------------------------------------------------------------------
def open_leads_by_agent(company: Company) -> dict[int, int]:
    """Open leads per Leads Agent of the company (the workload page)."""
    rows = (
        Lead.objects.filter(company=company, status=Lead.Status.OPEN)
        .order_by()
        .values("agent_id")
        .annotate(n=Count("*"))
        .values_list("agent_id", "n")
    )
    return dict(rows)
