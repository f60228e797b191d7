"""The Contact admin: the list with its filters, the form (saved through routing's rules), the
actions *Assign primary agent…*, *Unassign* (the one ownership path) and *Re-assign through a
group…* (routing), and deletion through routing. The read-only history, interactions and
emails stay in ``contacts/admin.py``."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from agents.models import Agent, Company
from agents.paginator import EstimatedCountPaginator
from agents.permissions import (
    CompanyScopedAdmin,
    action_page_context,
    agents_in_scope,
    owners_in_scope,
    parse_pk,
)
from agents.phone import try_normalise_phone
from agents.selectors import LEAD_CENTER_LEVELS, eligible_primary_agents
from contacts.models import Contact
from contacts.ownership import Outcome, contacts_set_primary_agent, primary_agents_check
from contacts.selectors import search_matches
from contacts.services import contact_clean
from routing.handover import contacts_reassign_through_group
from routing.rounds import contacts_delete
from routing.rules import contact_save_routed
from routing.selectors import company_group, open_round

from .group_page import choose_group_page


class ContactAdminForm(forms.ModelForm):
    # Set by ContactAdmin.get_form for users who work in one company (the field is hidden).
    scoped_company = None
    # What a person types; contact_clean checks lengths and spelling, as on every path.
    name = forms.CharField(required=False)
    phone = forms.CharField(required=False, help_text="Any spelling; stored in E.164.")
    email = forms.CharField(required=False)
    source = forms.CharField(required=False)

    class Meta:
        model = Contact
        fields = ["company", "name", "phone", "email", "source", "primary_agent"]

    def _company(self):
        """The contact's company: the user's, the one picked (superusers adding), or its own
        (a contact never moves, so superusers editing don't get the field)."""
        if self.scoped_company is not None:
            return self.scoped_company
        if self.instance.pk:
            return self.instance.company
        return self.cleaned_data.get("company")

    def clean(self):
        data = super().clean()
        company = self._company()
        if company is None:
            return data
        try:
            cleaned = contact_clean(
                company=company,
                name=data.get("name", ""),
                phone=data.get("phone", ""),
                email=data.get("email", ""),
                source=data.get("source", ""),
                exclude_pk=self.instance.pk,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            return data
        data.update(cleaned)
        try:
            primary_agents_check(company=company, agents=[data.get("primary_agent")])
        except ValidationError as error:
            self.add_error("primary_agent", error.message_dict["primary_agent"])
        return data

    def _post_clean(self):
        # Uniqueness was checked by contact_clean against the right company.
        self.instance.company = self._company()
        super()._post_clean()


class PrimaryAgentFilter(admin.SimpleListFilter):
    title = "primary agent"
    parameter_name = "primary_agent"

    def lookups(self, request, model_admin):
        agents = agents_in_scope(request).filter(access_level__in=LEAD_CENTER_LEVELS)
        return [("none", "— No primary agent —")] + [
            (str(a.pk), str(a)) for a in agents.order_by("full_name", "email")
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(primary_agent__isnull=True)
        if value is None:
            return queryset
        pk = parse_pk(value)
        if pk is None:
            # Typed into the address: say so rather than list every contact (or fail).
            messages.warning(request, f"“{value[:40]}” is not an agent id: no contact listed.")
            return queryset.none()
        return queryset.filter(primary_agent_id=pk)


class ReassignFilter(admin.SimpleListFilter):
    title = "Re-Assign"
    parameter_name = "reassign"

    def lookups(self, request, model_admin):
        return [("in_progress", "In progress"), ("no", "Not in progress")]

    def queryset(self, request, queryset):
        if self.value() == "in_progress":
            return queryset.filter(reassign_hold__isnull=False)
        if self.value() == "no":
            return queryset.filter(reassign_hold__isnull=True)
        return queryset


class AssignPrimaryAgentForm(forms.Form):
    agent = forms.ModelChoiceField(
        queryset=Agent.objects.none(), label="Primary agent", empty_label="— Choose an agent —"
    )
    reason = forms.CharField(
        max_length=200, required=False, help_text="Optional: shown on each contact's timeline."
    )

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = eligible_primary_agents(company=company)


@admin.register(Contact)
class ContactAdmin(CompanyScopedAdmin):
    form = ContactAdminForm
    list_display = [
        "__str__",
        "phone_display",
        "email",
        "primary_agent",
        "reassign_flag",
        "source",
        "created_at",
    ]
    list_display_links = ["__str__"]
    search_fields = ["name", "email", "phone"]
    search_help_text = "Search by name, email or phone number (any spelling of the number)."
    list_filter = [PrimaryAgentFilter, ReassignFilter, "source"]
    list_select_related = ["company", "primary_agent"]
    list_per_page = 50
    autocomplete_fields = ["primary_agent"]
    # No COUNT(*) of the whole table on every page view.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    readonly_fields = ["created_at", "updated_at", "recent_timeline"]
    actions = ["assign_primary_agent", "unassign_primary_agent", "reassign_through_group"]

    def get_fields(self, request, obj=None):
        fields = ["company", "name", "phone", "email", "source", "primary_agent"]
        if not request.user.is_superuser:
            fields.remove("company")
        if obj is not None:
            fields += ["reassignment", "created_at", "updated_at", "recent_timeline"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = [*super().get_readonly_fields(request, obj), "reassignment"]
        if obj is not None and obj.reassign_in_progress:
            readonly.append("primary_agent")
        return readonly

    @admin.display(description="Re-assign")
    def reassignment(self, obj: Contact) -> str:
        round_ = open_round(contact=obj)
        if round_ is None:
            return format_html(
                'Not in progress. <a href="{}">Re-assign from the contact page…</a> '
                "(role → group → confirm), or use the list's <i>Re-assign through a group…</i>",
                obj.get_absolute_url(),
            )
        return format_html(
            "<b>Re-Assign in progress</b> through {} ({}), until {}.",
            round_.source_name,
            round_.get_method_display().lower(),
            date_format(localtime(round_.deadline_at), "H:i") if round_.deadline_at else "—",
        )

    @admin.action(description="Re-assign through a group…", permissions=["change"])
    def reassign_through_group(self, request, queryset):
        company = request.company
        group = company_group(company=company, pk=parse_pk(request.POST.get("group")))
        if "apply" in request.POST and group is not None:
            # Round robin and least loaded: the whole selection planned and written at once;
            # claim-based methods: one round per contact (routing.handover).
            done, refused = contacts_reassign_through_group(
                company=company,
                contact_ids=list(queryset.filter(company=company).values_list("pk", flat=True)),
                group=group,
                actor=request.user,
            )
            self.message_user(request, f"Sent {done} contact(s) through {group}.", messages.SUCCESS)
            for line in refused[:10]:
                self.message_user(request, line, messages.WARNING)
            return None
        return choose_group_page(
            self,
            request,
            company=company,
            action="reassign_through_group",
            title="Re-assign through a group",
            count=queryset.count(),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not request.user.is_superuser:
            form = type(form.__name__, (form,), {"scoped_company": request.company})
        return form

    def get_deleted_objects(self, objs, request):
        # A contact's history, interactions and email records go with it; deleting the
        # contact is the permission that matters (they are never deleted on their own).
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if self.has_delete_permission(request):
            perms_needed = set()
        return deleted, model_count, perms_needed, protected

    def get_search_results(self, request, queryset, search_term):
        search_term = search_term.replace("\x00", "")
        phone = try_normalise_phone(
            search_term, region=getattr(request.company, "default_region", "US")
        )
        if phone:
            return queryset.filter(Q(phone=phone)), False
        if not search_term.strip():
            return queryset, False  # the list itself (no lookup on every page)
        # Django's own search (each word in the name, e-mail or phone: ``search_fields``) run
        # over the searches' table, where the trigram indexes are (its fields are named as
        # the contact's); the queryset keeps its scoping.
        matches = search_matches(
            company=request.company, query=Q(), all_companies=request.user.is_superuser
        )
        matches, _ = super().get_search_results(request, matches, search_term)
        return queryset.filter(pk__in=matches), False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "primary_agent":
            kwargs["queryset"] = owners_in_scope(request)
            return admin.ModelAdmin.formfield_for_foreignkey(self, db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        contact = contact_save_routed(
            company=obj.company if change else form.instance.company,
            contact=obj if change else None,
            actor=request.user,
            values={k: form.cleaned_data.get(k, "") for k in ("name", "phone", "email", "source")},
            primary_agent=form.cleaned_data.get("primary_agent"),
            primary_agent_changed="primary_agent" in form.changed_data,
            reason="set in the admin",
        )
        obj.pk, obj.company, obj.created_at = contact.pk, contact.company, contact.created_at

    @admin.action(description="Assign primary agent…", permissions=["change"])
    def assign_primary_agent(self, request, queryset):
        companies = set(queryset.order_by().values_list("company_id", flat=True).distinct()[:2])
        if len(companies) > 1:
            self.message_user(
                request,
                "The selected contacts belong to several companies; pick one company's "
                "contacts (filter the list by company) and try again.",
                messages.ERROR,
            )
            return None
        company = request.company
        if request.user.is_superuser and companies:
            company = Company.objects.get(pk=companies.pop())
        form = AssignPrimaryAgentForm(
            request.POST if "apply" in request.POST else None, company=company
        )
        if form.is_valid():
            agent = form.cleaned_data["agent"]
            reason = form.cleaned_data["reason"] or "bulk assignment in the admin"
            outcome = contacts_set_primary_agent(
                company=company,
                targets=dict.fromkeys(queryset.values_list("pk", flat=True), agent),
                actor=request.user,
                reason=reason,
            )
            changed = outcome.changed
            self.message_user(
                request,
                f"{agent} is now the primary agent of {changed} contact(s)"
                + (f"; {agent.get_short_name()} gets one email about them." if changed else "."),
                messages.SUCCESS,
            )
            self._report_left_out(request, outcome)
            return None
        return render(
            request,
            "admin/contacts/contact/assign_primary_agent.html",
            {
                **action_page_context(
                    self, request, action="assign_primary_agent", title="Assign a primary agent"
                ),
                "form": form,
                "queryset": queryset,
                "count": queryset.count(),
                "preview": list(queryset.select_related("primary_agent")[:10]),
            },
        )

    @admin.action(description="Unassign primary agent", permissions=["change"])
    def unassign_primary_agent(self, request, queryset):
        changed = 0
        for company_id in set(queryset.order_by().values_list("company_id", flat=True)):
            outcome = contacts_set_primary_agent(
                company=Company.objects.get(pk=company_id),
                targets=dict.fromkeys(
                    queryset.filter(company_id=company_id).values_list("pk", flat=True)
                ),
                actor=request.user,
                reason="bulk unassignment in the admin",
            )
            changed += outcome.changed
            self._report_left_out(request, outcome)
        self.message_user(request, f"Removed the primary agent of {changed} contact(s).")

    def _report_left_out(self, request, outcome: Outcome) -> None:
        """Say which contacts an action left as they were, and why (e.g. a re-assignment
        in progress); the others were changed."""
        refused = outcome.refused()
        if not refused:
            return
        names = {c.pk: str(c) for c in Contact.objects.filter(pk__in=list(refused)[:20])}
        lines = [f"{names.get(pk, f'Contact #{pk}')} ({why})" for pk, why in refused.items()]
        shown = "; ".join(lines[:20]) + (f"; and {len(lines) - 20} more" if len(lines) > 20 else "")
        self.message_user(
            request, f"Left out {len(lines)} contact(s), unchanged: {shown}.", messages.WARNING
        )

    def delete_model(self, request, obj):
        contacts_delete(company=obj.company, contact_ids=[obj.pk], actor=request.user)

    def delete_queryset(self, request, queryset):
        for company_id in set(queryset.order_by().values_list("company_id", flat=True)):
            contacts_delete(
                company=Company.objects.get(pk=company_id),
                contact_ids=list(
                    queryset.filter(company_id=company_id).values_list("pk", flat=True)
                ),
                actor=request.user,
            )

    @admin.display(description="Re-Assign")
    def reassign_flag(self, obj: Contact) -> str:
        if not obj.reassign_in_progress:
            return ""
        return format_html(
            '<span class="sb-badge" title="through {}">Re-Assign in progress</span>',
            obj.reassign_hold_label,
        )

    @admin.display(description="Phone", ordering="phone")
    def phone_display(self, obj: Contact) -> str:
        return obj.display_phone

    @admin.display(description="Recent history")
    def recent_timeline(self, obj: Contact) -> str:
        entries = obj.timeline.select_related("actor")[:10]
        if not entries:
            return "No history yet."
        return format_html(
            "<ul class='recent-history'>{}</ul>",
            format_html_join(
                "",
                "<li>{} — <span class='when'>{}</span></li>",
                (
                    (entry.message, date_format(localtime(entry.created_at), "Y-m-d H:i"))
                    for entry in entries
                ),
            ),
        )
