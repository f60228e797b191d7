"""Leads in the admin: settings, products, the Order Details report (filters, the *Show
Leads Agent* column, batch *Assign Leads*, CSV export), leads and the user's *Assigned
Leads* tab. Every write goes through ``leads.services``."""

import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from agents.models import AccessLevel, Agent
from agents.paginator import EstimatedCountPaginator
from agents.permissions import (
    CompanyScopedAdmin,
    ReadOnlyCompanyScopedAdmin,
    agents_in_scope,
    parse_pk,
)
from contacts.models import Contact

from . import selectors
from .models import Lead, LeadEmail, LeadsSettings, Order, OrderItem, Product
from .services import Skip, lead_assign, lead_unassign, leads_assign_bulk
from .views import _Echo, csv_rows


@admin.register(LeadsSettings)
class LeadsSettingsAdmin(CompanyScopedAdmin):
    list_display = ["__str__", "show_non_partial_orders", "restrict_to_assigned"]

    def add_view(self, request, form_url="", extra_context=None):
        # One row per company: once it exists, "add" opens it. (Not in has_add_permission,
        # which the admin's sidebar asks on every page: that would cost a query each.)
        company = getattr(request, "company", None)
        existing = LeadsSettings.objects.filter(company=company).first() if company else None
        if existing is not None and not request.user.is_superuser:
            return HttpResponseRedirect(
                reverse("admin:leads_leadssettings_change", args=[existing.pk])
            )
        return super().add_view(request, form_url, extra_context)


@admin.register(Product)
class ProductAdmin(CompanyScopedAdmin):
    list_display = ["name", "sku", "price", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "sku"]


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    fields = ["product", "quantity", "unit_price"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ProductFilter(admin.SimpleListFilter):
    title = "product"
    parameter_name = "product"

    def lookups(self, request, model_admin):
        products = selectors.company_products(company=request.company)
        return [(str(p.pk), p.name) for p in products[:200]]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        product = (
            selectors.company_products(company=request.company)
            .filter(pk=parse_pk(self.value()))
            .first()
        )
        if product is None:
            return queryset.none()
        return selectors.orders_filter(
            company=request.company,
            orders=queryset,
            filters=selectors.OrderFilters(product=product),
        )


class LeadsAgentFilter(admin.SimpleListFilter):
    title = "leads agent"
    parameter_name = "leads_agent"

    def lookups(self, request, model_admin):
        return [(str(a.pk), str(a)) for a in selectors.leads_agents(company=request.company)]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        agent = (
            selectors.leads_agents(company=request.company)
            .filter(pk=parse_pk(self.value()))
            .first()
        )
        if agent is None:
            return queryset.none()
        return selectors.orders_filter(
            company=request.company,
            orders=queryset,
            filters=selectors.OrderFilters(agent=agent),
        )


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
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in csv_rows(rows)), content_type="text/csv"
        )
        response["Content-Disposition"] = 'attachment; filename="order-details.csv"'
        return response

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
        if not (request.user.is_superuser or request.user.access_level == AccessLevel.ADMIN):
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
    counts = outcome.counts()
    order = [
        Skip.NOT_PARTIAL,
        Skip.ALREADY_ASSIGNED,
        Skip.UNCHANGED,
        Skip.RESOLVED,
        Skip.MISSING,
    ]
    return [
        f"Not assigned: {counts[why]} customer{'' if counts[why] == 1 else 's'} — {why}."
        for why in order
        if counts.get(why)
    ]


# --- Leads -------------------------------------------------------------------------------------
class PartialCustomerWidget(AutocompleteSelect):
    """Django's autocomplete, asking our view: customers whose most recent order is Partial."""

    def get_url(self):
        return reverse("admin:leads_lead_partial_customers")


class LeadAddForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = ["agent", "contact"]
        labels = {"agent": "User", "contact": "Lead to assign"}
        help_texts = {
            "agent": "Leads Agent users only.",
            "contact": "Customers whose most recent order is Partial. Type a name, email "
            "or phone number.",
        }


@admin.register(Lead)
class LeadAdmin(CompanyScopedAdmin):
    list_display = ["contact", "agent", "status", "assigned_at", "assigned_by", "disposition"]
    list_filter = ["status", "assigned_at"]
    list_select_related = ["contact", "agent", "assigned_by", "disposition"]
    search_fields = ["contact__name", "contact__email", "agent__full_name", "agent__email"]
    actions = ["unassign"]
    form = LeadAddForm
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["agent", "contact"]
        return [
            "contact",
            "agent",
            "status",
            "assigned_by",
            "assigned_at",
            "disposition",
            "resolved_by",
            "resolved_at",
            "won_order",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in ("agent__id__exact", "agent") or super().lookup_allowed(
            lookup, value, request
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agent":
            kwargs["queryset"] = selectors.leads_agents(company=request.company)
            return db_field.formfield(**kwargs)
        if db_field.name == "contact":
            kwargs["queryset"] = Contact.objects.filter(company=request.company)
            kwargs["widget"] = PartialCustomerWidget(db_field, self.admin_site)
            return db_field.formfield(**kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # Through the one lead path: gates, timeline row and the email. A refusal becomes
        # a message (CompanyScopedAdmin.changeform_view).
        lead = lead_assign(
            company=request.company,
            contact=form.cleaned_data["contact"],
            agent=form.cleaned_data["agent"],
            actor=request.user,
        )
        obj.pk = lead.pk

    def save_related(self, request, form, formsets, change):
        pass

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, f"Lead assigned: {obj.contact} → {obj.agent}.")
        return HttpResponseRedirect(reverse("admin:leads_lead_assigned", args=[obj.agent_id]))

    def log_addition(self, request, obj, message):
        return super().log_addition(request, Lead.objects.get(pk=obj.pk), message)

    def get_urls(self):
        return [
            path(
                "partial-customers/",
                self.admin_site.admin_view(self.partial_customers_view),
                name="leads_lead_partial_customers",
            ),
            path(
                "assigned/<int:agent_id>/",
                self.admin_site.admin_view(self.assigned_view),
                name="leads_lead_assigned",
            ),
            *super().get_urls(),
        ]

    def partial_customers_view(self, request):
        """Autocomplete: customers whose most recent order is Partial, 20 a page."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        term = request.GET.get("term", "")[:100]
        found = selectors.partial_customers(company=request.company, term=term)
        page = Paginator(found, 20).get_page(request.GET.get("page"))
        return JsonResponse(
            {
                "results": [
                    {"id": str(c.pk), "text": _customer_label(c)} for c in page.object_list
                ],
                "pagination": {"more": page.has_next()},
            }
        )

    def assigned_view(self, request, agent_id: int):
        """The user's *Assigned Leads* tab: their open leads, *Unassign*, and the green +."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        agent = get_object_or_404(agents_in_scope(request), pk=agent_id)
        if request.method == "POST":
            if not self.has_add_permission(request):
                raise PermissionDenied
            lead = (
                Lead.objects.filter(
                    company=request.company,
                    agent=agent,
                    pk=parse_pk(request.POST.get("lead")),
                    status=Lead.Status.OPEN,
                )
                .select_related("contact", "company")
                .first()
            )
            if lead is None:
                messages.error(request, "That lead is no longer open.")
            else:
                try:
                    lead_unassign(lead=lead, actor=request.user)
                except ValidationError as error:
                    messages.error(request, " ".join(error.messages))
                else:
                    messages.success(request, f"Unassigned {lead.contact} from {agent}.")
            return HttpResponseRedirect(request.path)
        leads = selectors.report_leads(company=request.company, agent=agent, sort="age")
        page = Paginator(leads, 50).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Assigned Leads — {agent}",
            "opts": self.model._meta,
            "agent": agent,
            "page": page,
            "leads": list(page.object_list),
            "is_leads_agent": agent.access_level == AccessLevel.LEADS_AGENT,
            "add_url": reverse("admin:leads_lead_add") + f"?agent={agent.pk}",
            "can_add": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/leads/lead/assigned.html", context)

    @admin.action(description="Unassign the selected leads", permissions=["add"])
    def unassign(self, request, queryset):
        done = 0
        for lead in queryset.filter(status=Lead.Status.OPEN).select_related("contact", "company"):
            try:
                lead_unassign(lead=lead, actor=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"{done} lead(s) unassigned.", messages.SUCCESS)


def _customer_label(contact: Contact) -> str:
    bits = [contact.name or "(no name)", contact.display_phone, contact.email]
    return " · ".join(b for b in bits if b)


@admin.register(LeadEmail)
class LeadEmailAdmin(ReadOnlyCompanyScopedAdmin):
    list_display = ["agent", "status", "assigned_at", "sent_at", "attempts"]
    list_filter = ["status"]
    list_select_related = ["agent"]
