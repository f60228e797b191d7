"""Leads in the admin: the list, the add form (through the one lead path), the autocomplete
of Partial customers, *Unassign*, the user's *Assigned Leads* tab and the lead emails."""

from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from agents.models import AccessLevel, Company
from agents.paginator import EstimatedCountPaginator
from agents.permissions import (
    CompanyScopedAdmin,
    ReadOnlyCompanyScopedAdmin,
    agents_in_scope,
    parse_pk,
)
from contacts.models import Contact
from leads import selectors
from leads.models import Lead, LeadEmail
from leads.services import Change, lead_assign, lead_unassign, leads_change


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
        # One call of the one lead path per company (a superuser's list may mix companies).
        by_company: dict[int, list[int]] = {}
        for company_id, contact_id in queryset.filter(status=Lead.Status.OPEN).values_list(
            "company_id", "contact_id"
        ):
            by_company.setdefault(company_id, []).append(contact_id)
        done, refused = 0, Counter()
        for company in Company.objects.filter(pk__in=by_company).order_by("pk"):
            outcome = leads_change(
                company=company,
                contact_ids=by_company[company.pk],
                change=Change.UNASSIGN,
                actor=request.user,
            )
            done += len(outcome.changed)
            refused.update(outcome.skipped.values())
        self.message_user(request, f"{done} lead(s) unassigned.", messages.SUCCESS)
        for why, n in refused.items():
            self.message_user(
                request, f"Not unassigned: {n} lead{'' if n == 1 else 's'} — {why}.", messages.ERROR
            )


def _customer_label(contact: Contact) -> str:
    bits = [contact.name or "(no name)", contact.display_phone, contact.email]
    return " · ".join(b for b in bits if b)


@admin.register(LeadEmail)
class LeadEmailAdmin(ReadOnlyCompanyScopedAdmin):
    list_display = ["agent", "status", "assigned_at", "sent_at", "attempts"]
    list_filter = ["status"]
    list_select_related = ["agent"]
