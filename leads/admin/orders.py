"""The Order Details report for admins: filters, the *Show Leads Agent* column, batch *Assign
Leads* and the CSV export. Orders are entered on the Order Entry page (``leads.views``)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import path, reverse

from agents.access import is_company_admin
from agents.models import Agent
from agents.paginator import EstimatedCountPaginator
from agents.permissions import ReadOnlyCompanyScopedAdmin, agents_in_scope, parse_pk
from leads import selectors
from leads.exports import orders_csv_response
from leads.models import Order, OrderItem
from leads.services import leads_assign_bulk


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    fields = ["product", "quantity", "unit_price"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class _PickedFilter(admin.SimpleListFilter):
    """Orders of one of the company's products or Leads Agents, picked by id among
    ``options`` and applied by ``selectors.orders_filter`` (as the Order Details page does)."""

    filter_field = ""  # the OrderFilters field the picked row goes in
    most: int | None = None  # how many options the sidebar lists
    pickable = staticmethod(selectors.company_products)  # (company=) -> the options

    def options(self, request) -> QuerySet:
        return self.pickable(company=request.company)

    def lookups(self, request, model_admin):
        return [(str(row.pk), str(row)) for row in self.options(request)[: self.most]]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        picked = self.options(request).filter(pk=parse_pk(self.value())).first()
        if picked is None:
            return queryset.none()
        return selectors.orders_filter(
            company=request.company,
            orders=queryset,
            filters=selectors.OrderFilters(**{self.filter_field: picked}),
        )


class ProductFilter(_PickedFilter):
    title = "product"
    parameter_name = "product"
    filter_field = "product"
    most = 200


class LeadsAgentFilter(_PickedFilter):
    title = "leads agent"
    parameter_name = "leads_agent"
    filter_field = "agent"
    pickable = staticmethod(selectors.leads_agents)


class ShowLeadsAgentColumn(admin.SimpleListFilter):
    """Not a filter: the *Show Leads Agent* option (a column with the customer's current
    Leads Agent)."""

    title = "Leads Agent column"
    parameter_name = "show_leads_agent"

    def lookups(self, request, model_admin):
        return [("yes", "Show Leads Agent")]

    def queryset(self, request, queryset):
        return queryset


def _show_agent(request: HttpRequest) -> bool:
    return request.GET.get("show_leads_agent") == "yes"


class AssignLeadsActionForm(admin.helpers.ActionForm):
    # Choices are the company's Leads Agents, set per request (OrderAdmin.changelist_view);
    # the service checks the posted one again.
    leads_agent = forms.CharField(
        required=False, label="Leads Agent", widget=forms.Select(choices=[("", "— Leads Agent —")])
    )


@admin.register(Order)
class OrderAdmin(ReadOnlyCompanyScopedAdmin):
    """The Order Details report for admins. Orders are entered on the Order Entry page."""

    list_display = ["number", "created_at", "status", "customer", "total_with_currency"]
    list_filter = [
        ShowLeadsAgentColumn,
        "status",
        ("created_at", admin.DateFieldListFilter),
        ProductFilter,
        LeadsAgentFilter,
    ]
    search_fields = ["=number", "contact__name", "=contact__email"]
    list_select_related = ["contact"]
    list_per_page = 50
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["assign_leads"]
    action_form = AssignLeadsActionForm
    inlines = [OrderItemInline]
    fields = ["number", "contact", "status", "total", "currency", "created_by", "created_at"]
    readonly_fields = fields
    change_list_template = "admin/leads/order/change_list.html"

    class Media:
        js = ["js/leads_admin.js"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _show_agent(request):
            queryset = selectors.with_leads_agent(queryset)
        return queryset

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if _show_agent(request):
            display.append("leads_agent")
        return display

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="leads_order_export",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": "Order Details", **(extra_context or {})}
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        form = context.get("action_form")
        if form is not None:
            form.fields["leads_agent"].widget.choices = [
                ("", "— Leads Agent —"),
                *[(a.pk, str(a)) for a in selectors.leads_agents(company=request.company)],
            ]
            query = request.GET.copy()
            context["export_url"] = reverse("admin:leads_order_export") + (
                "?" + query.urlencode() if query else ""
            )
        return response

    def export_view(self, request):
        """CSV of the report as filtered on the page (same scoping, same filters)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = selectors.with_leads_agent(changelist.get_queryset(request)).order_by(
            "-created_at", "-pk"
        )
        return orders_csv_response(rows)

    @admin.display(description="Customer", ordering="contact__name")
    def customer(self, obj: Order):
        return obj.contact.name or obj.contact.display_phone or f"#{obj.contact_id}"

    @admin.display(description="Total", ordering="total")
    def total_with_currency(self, obj: Order) -> str:
        return f"{obj.total:,.2f} {obj.currency}"

    @admin.display(description="Leads agent")
    def leads_agent(self, obj: Order) -> str:
        return getattr(obj, "leads_agent_name", None) or "—"

    @admin.action(description="Assign Leads (to the Leads Agent chosen)", permissions=["view"])
    def assign_leads(self, request, queryset):
        if not is_company_admin(request.user):
            raise PermissionDenied
        agent = (
            agents_in_scope(request).filter(pk=parse_pk(request.POST.get("leads_agent"))).first()
        )
        if agent is None:
            self.message_user(request, "Choose the Leads Agent to assign.", messages.ERROR)
            return None
        contact_ids = set(queryset.order_by().values_list("contact_id", flat=True))
        try:
            outcome = leads_assign_bulk(
                company=request.company, contact_ids=contact_ids, agent=agent, actor=request.user
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        self.message_user(request, assign_result_message(outcome, agent), messages.SUCCESS)
        for line in assign_refusals(outcome):
            self.message_user(request, line, messages.WARNING)
        return None


def assign_result_message(outcome, agent: Agent) -> str:
    n = len(outcome.changed)
    return f"{n} lead{'' if n == 1 else 's'} assigned to {agent}."


def assign_refusals(outcome) -> list[str]:
    """One line per reason: how many customers were not assigned, and why."""
    return [
        f"Not assigned: {len(ids)} customer{'' if len(ids) == 1 else 's'} — {why}."
        for why, ids in outcome.skipped_by_reason()
    ]
