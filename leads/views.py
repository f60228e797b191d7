"""The Leads Agent's pages: the report, Customer Service, Order Entry and Order Details.

Every page scopes through ``leads.permissions`` (company, Partial-only orders, restriction
to assigned customers) and writes through ``leads.services``.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html_join
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST

from agents.access import is_company_admin
from agents.paginator import EstimatedCountPaginator
from agents.permissions import access_level_required, parse_pk
from agents.phone import format_phone_cached
from contacts.models import Contact
from contacts.timeline import resolved_with

from . import selectors
from .exports import orders_csv_response
from .forms import AssignLeadsForm, OrderFiltersForm, OrderForm, OrderLineFormSet, ResolveForm
from .models import Lead, Order
from .orders import Line, order_create
from .permissions import (
    LEADS_PAGE_LEVELS,
    customer_reachable,
    is_leads_agent,
    orders_in_scope,
    restricted_ids,
)
from .services import Outcome, lead_resolve, leads_assign_bulk

leads_required = access_level_required(*LEADS_PAGE_LEVELS)
REPORT_PAGE_SIZE = 25
ORDERS_PAGE_SIZE = 50


def _to_search(request: HttpRequest, message: str, *, level: int = messages.ERROR) -> HttpResponse:
    messages.add_message(request, level, message)
    return redirect("leads:customers")


NOT_REACHABLE = (
    "That customer is not one of your assigned customers (or was resolved more than an "
    "hour ago). Search among yours."
)


@leads_required
def report(request: HttpRequest) -> HttpResponse:
    """The Leads Agent Report. Queries (any number of leads): settings, count, page of
    leads (one join for the latest order), 10 history rows (one join), dispositions. Each
    row's texts are made in Python (``_report_texts``), not by template filters."""
    company, agent = request.company, request.user
    if not is_leads_agent(agent):
        # Leads go to Leads Agents only, so an admin's report was always "0 open leads
        # assigned to you": their Leads tab lands on Order Details, where they assign.
        return redirect(reverse("leads:orders") + "?show_agent=on")
    sort = request.GET.get("sort", "age")
    if sort.lstrip("-") not in selectors.REPORT_SORTS:
        sort = "age"
    leads = selectors.report_leads(company=company, agent=agent, sort=sort)
    paginator = Paginator(leads, REPORT_PAGE_SIZE)
    # Counted without the joins: a lead has one customer and at most one latest order, so
    # they change no count (with them the count took 11-20 ms of the page).
    paginator.count = selectors.open_leads(company=company, agent=agent).count()
    page = paginator.get_page(request.GET.get("page"))
    dispositions = list(selectors.sales_dispositions(company=company))
    leads, history = list(page.object_list), selectors.recent_history(company=company, agent=agent)
    _report_texts(leads, history)
    return render(
        request,
        "leads/report.html",
        {
            "page": page,
            "leads": leads,
            "sort": sort,
            "history": history,
            "dispositions": dispositions,
            # The same options on every row: written once.
            "disposition_options": format_html_join(
                "",
                '<option value="{}">{} ({})</option>',
                ((d.pk, d.name, d.center.name) for d in dispositions),
            ),
        },
    )


def _url_with_pk(name: str):
    """``reverse(name, args=[pk])`` for many pks: reversed once, then filled in."""
    head, tail = reverse(name, args=[0]).rsplit("0", 1)
    return lambda pk: f"{head}{pk}{tail}"


def _report_texts(leads: list[Lead], history: list) -> None:
    """What each row of the report shows, made here once: per-row ``{% url %}``, phone
    formatting and date filters were most of the page's template time. Dates are in the
    current time zone, as the ``date`` filter shows them."""
    now = timezone.now()
    customer_url, resolve_url = _url_with_pk("leads:customer"), _url_with_pk("leads:resolve")
    for lead in leads:
        lead.customer_url = customer_url(lead.contact_id)
        lead.resolve_url = resolve_url(lead.pk)
        lead.phone_text = format_phone_cached(lead.contact.phone)
        lead.latest_day = (
            dateformat.format(timezone.localtime(lead.latest_at), "j M Y") if lead.latest_at else ""
        )
        lead.total_text = (
            floatformat(lead.latest_total, "2g") if lead.latest_total is not None else ""
        )
        lead.assigned_text = dateformat.format(timezone.localtime(lead.assigned_at), "j M Y, H:i")
        lead.age = timesince(lead.assigned_at, now)
    for entry in history:
        entry.customer_url = customer_url(entry.contact_id)
        entry.when = dateformat.format(timezone.localtime(entry.created_at), "j M Y, H:i")


@require_POST
@leads_required
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    company, user = request.company, request.user
    lead = (
        Lead.objects.filter(company=company, pk=pk, status=Lead.Status.OPEN)
        .select_related("contact", "company")
        .first()
    )
    # A Leads Agent resolves only their own leads: anyone else's is "no such lead".
    if lead is None or (is_leads_agent(user) and lead.agent_id != user.pk):
        raise Http404("No such open lead of yours.")
    form = ResolveForm(request.POST, company=company)
    back = request.POST.get("back") == "customer"
    target = reverse("leads:customer", args=[lead.contact_id]) if back else reverse("leads:report")
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["disposition"]))
        return redirect(target)
    try:
        lead_resolve(lead=lead, disposition=form.cleaned_data["disposition"], actor=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        disposition = form.cleaned_data["disposition"]
        # Worded as the timeline row is: "without a sale: Sold" contradicted itself.
        messages.success(request, f"Resolved {lead.contact} {resolved_with(disposition)}.")
    return redirect(target)


# --- Customer Service ----------------------------------------------------------------------
@leads_required
def customers(request: HttpRequest) -> HttpResponse:
    company, user = request.company, request.user
    term = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    results = None
    if term:
        settings = selectors.leads_settings(company=company)
        results = list(
            selectors.customer_search(
                company=company,
                term=term,
                only_ids=restricted_ids(user=user, company=company, settings=settings),
                orders=orders_in_scope(
                    Order.objects.all(), user=user, company=company, settings=settings
                ),
            )[: selectors.SEARCH_LIMIT]
        )
    return render(request, "leads/customers.html", {"term": term, "results": results})


@leads_required
def customer(request: HttpRequest, pk: int) -> HttpResponse:
    company, user = request.company, request.user
    contact = selectors.customer_page(company=company, pk=pk)
    if contact is None:
        raise Http404("No such customer in your company.")
    if not customer_reachable(user=user, company=company, contact_id=contact.pk):
        return _to_search(request, NOT_REACHABLE)
    lead = selectors.customer_open_lead(contact=contact)
    orders = orders_in_scope(contact.orders.all(), user=user, company=company)
    mine = lead is not None and (not is_leads_agent(user) or lead.agent_id == user.pk)
    return render(
        request,
        "leads/customer.html",
        {
            "contact": contact,
            "lead": lead,
            "can_resolve": mine,
            "leads": selectors.customer_leads(contact=contact),
            "orders": selectors.customer_orders(orders=orders),
            "timeline": selectors.customer_timeline(contact=contact),
            "dispositions": list(selectors.sales_dispositions(company=company)) if mine else [],
        },
    )


# --- Order Entry ---------------------------------------------------------------------------
@leads_required
def order_entry(request: HttpRequest) -> HttpResponse:
    company, user = request.company, request.user
    contact_id = parse_pk(request.POST.get("customer") or request.GET.get("customer"))
    if contact_id is None:
        # (the tab's way in, not a mistake: said as a step, not as an error)
        return _to_search(
            request, "Find the customer first, then enter their order.", level=messages.INFO
        )
    contact = selectors.customer_page(company=company, pk=contact_id)
    if contact is None or not customer_reachable(user=user, company=company, contact_id=contact_id):
        return _to_search(request, NOT_REACHABLE)
    products = selectors.company_products(company=company).filter(is_active=True)
    form = OrderForm(request.POST or None)
    lines = OrderLineFormSet(
        request.POST or None, prefix="line", form_kwargs={"products": products}
    )
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        picked = [
            Line(
                product=row["product"],
                quantity=row.get("quantity") or 1,
                unit_price=row.get("unit_price"),
            )
            for row in lines.cleaned_data
            if row.get("product")
        ]
        try:
            order = order_create(
                company=company,
                contact=contact,
                actor=user,
                status=form.cleaned_data["status"],
                lines=picked,
                currency=form.cleaned_data["currency"],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            won = (
                order.status == Order.Status.COMPLETE
                and Lead.objects.filter(won_order=order).exists()
            )
            said = f"Order {order.number} entered for {contact}" + (
                ": the lead is won." if won else "."
            )
            hidden = not orders_in_scope(
                Order.objects.filter(pk=order.pk), user=user, company=company
            ).exists()
            if hidden:
                # Else the order the agent just entered seems lost: say where it went.
                said += (
                    f" It is {order.get_status_display()}, so it is not listed in their "
                    "Orders: leads agents see Partial orders only."
                )
            messages.success(request, said)
            return redirect("leads:customer", pk=contact.pk)
    return render(
        request,
        "leads/order_entry.html",
        {"contact": contact, "form": form, "lines": lines, "products": products},
    )


# --- Order Details -------------------------------------------------------------------------
def _order_rows(request: HttpRequest):
    company, user = request.company, request.user
    settings = selectors.leads_settings(company=company)
    statuses = Order.Status.choices
    if is_leads_agent(user) and not settings.show_non_partial_orders:
        statuses = [(Order.Status.PARTIAL, "Partial")]
    can_assign = is_company_admin(user)
    form = OrderFiltersForm(
        request.GET or None, company=company, statuses=statuses, can_assign=can_assign
    )
    filters = form.filters()
    valid = form.is_bound and form.is_valid()
    batch = bool(can_assign and valid and form.cleaned_data["batch"])
    # Batch updates show who holds each customer: the column comes with them.
    show_agent = batch or bool(valid and form.cleaned_data["show_agent"])
    orders = orders_in_scope(Order.objects.all(), user=user, company=company, settings=settings)
    orders = selectors.orders_filter(company=company, orders=orders, filters=filters)
    # Export always names the leads agent: it is one column of the file.
    return form, selectors.order_details(orders=orders, show_agent=True), show_agent, batch


@leads_required
def orders(request: HttpRequest) -> HttpResponse:
    """Order Details. Queries: settings, products and agents (the filter form), the
    estimated count, the page (one join for the customer and their leads agent); with batch
    updates shown, the Leads Agents once more (the Assign Leads picker)."""
    form, rows, show_agent, batch = _order_rows(request)
    if request.GET.get("format") == "csv":
        return orders_csv_response(rows)
    paginator = EstimatedCountPaginator(rows, ORDERS_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    batch_query = query.copy()
    batch_query.pop("batch", None)
    if not batch:
        batch_query["batch"] = "1"
    return render(
        request,
        "leads/orders.html",
        {
            "form": form,
            "page": page,
            "orders": list(page.object_list),
            "show_agent": show_agent,
            "can_assign": is_company_admin(request.user),
            "batch": batch,
            "batch_query": batch_query.urlencode(),
            "assign_form": AssignLeadsForm(company=request.company) if batch else None,
            "page_query": request.GET.urlencode(),
            "estimated": paginator.estimated,
            "query": query.urlencode(),
            "csv_query": urlencode({**query.dict(), "format": "csv"}),
        },
    )


# Order Details' batch update posts at most a page's worth of orders (a page has 50).
ASSIGN_MAX_ORDERS = 500
NAMES_SHOWN = 10


def _refusals(outcome: Outcome) -> list[str]:
    """One line per reason: the customers left unassigned and why (the first 10 named)."""
    names = dict(Contact.objects.filter(pk__in=list(outcome.skipped)).values_list("pk", "name"))
    lines = []
    for why, ids in outcome.skipped_by_reason():
        ids = sorted(ids, key=lambda pk: (names.get(pk) or "", pk))
        shown = ", ".join(names.get(pk) or f"customer #{pk}" for pk in ids[:NAMES_SHOWN])
        more = f" and {len(ids) - NAMES_SHOWN} more" if len(ids) > NAMES_SHOWN else ""
        n = len(ids)
        lines.append(f"Not assigned ({why}): {n} customer{'' if n == 1 else 's'}, {shown}{more}.")
    return lines


@require_POST
@leads_required
def orders_assign(request: HttpRequest) -> HttpResponse:
    """Assign Leads from Order Details: the customers of the selected orders go to the Leads
    Agent picked (through ``leads_assign_bulk``), then back to the report as it was."""
    company, user = request.company, request.user
    if not is_company_admin(user):
        raise PermissionDenied("Only admins assign leads.")
    # Back to the same filters and page; re-encoded, and the path is ours.
    back = reverse("leads:orders") + "?" + QueryDict(request.POST.get("query", "")).urlencode()
    posted = request.POST.getlist("orders")[:ASSIGN_MAX_ORDERS]
    order_ids = {pk for pk in map(parse_pk, posted) if pk is not None}
    # Another company's (or a made-up) order id selects nothing.
    contact_ids = set(
        orders_in_scope(Order.objects.filter(pk__in=order_ids), user=user, company=company)
        .order_by()
        .values_list("contact_id", flat=True)
    )
    form = AssignLeadsForm(request.POST, company=company)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["agent"]))
        return redirect(back)
    if not contact_ids:
        messages.error(request, "Select the orders whose customers to assign.")
        return redirect(back)
    agent = form.cleaned_data["agent"]
    try:
        outcome = leads_assign_bulk(
            company=company, contact_ids=contact_ids, agent=agent, actor=user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    n = len(outcome.changed)
    messages.success(request, f"{n} lead{'' if n == 1 else 's'} assigned to {agent}.")
    for line in _refusals(outcome):
        messages.warning(request, line)
    return redirect(back)
