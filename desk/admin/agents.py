"""The Agent admin: the user admin of agents, with what other apps add to an agent's page
(their centers, devices and license; the *Assigned Leads* tab; the handover of their book
through a reassignment group; their working hours, capacity and out of office; the
deactivation page, ``desk/leaving.py``). ``CompanyAdmin`` stays in ``agents/admin.py``."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.timesince import timesince

from agents.centers import selectors as center_selectors
from agents.centers import services as center_services
from agents.centers.admin import AgentLineInline, DeviceInline
from agents.models import AccessLevel, Agent, Presence
from agents.permissions import (
    RefusedSaveMessageMixin,
    agents_in_scope,
    parse_pk,
)
from agents.selectors import LEAD_CENTER_LEVELS, companies_for_user
from contacts.selectors import held_book_count
from leads.models import Lead
from routing.handover import agent_book_handover
from routing.permissions import can_grant_routing, can_hand_over_book
from routing.selectors import company_group

from .agent_availability import AgentAvailabilityAdminMixin
from .agent_leaving import AgentDeactivationAdminMixin
from .group_page import choose_group_page


# --- What the contact centers add: devices, the license, the *Contact centers* checkboxes ---
class AgentCentersAdminMixin(RefusedSaveMessageMixin):
    """For the user admin: devices and license inlines, and the *Contact centers*
    checkboxes (check to add, uncheck to remove; the 100-center limit applies)."""

    centers_inlines = [AgentLineInline, DeviceInline]

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), *self.centers_inlines] if obj else []

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and getattr(request, "company", None) is not None:
            fieldsets.append(("Contact centers", {"fields": ["contact_centers"]}))
        return fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None and getattr(request, "company", None) is not None:
            # Active centers only: deactivated ones leave the list (memberships are kept).
            centers = center_selectors.company_centers(company=request.company)
            field = forms.ModelMultipleChoiceField(
                queryset=centers,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                label="Contact centers",
                # (the admin shows help texts as HTML: the company's name is escaped)
                help_text=f"Check to make them a Contact Center Agent there; uncheck to "
                f"remove them. Centers of {escape(str(request.company))} only; at most 100 "
                "in all.",
            )
            base = kwargs.get("form", self.form)
            kwargs["form"] = type("AgentCentersForm", (base,), {"contact_centers": field})
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and "contact_centers" in form.base_fields:
            form.base_fields["contact_centers"].initial = list(
                obj.center_memberships.filter(center__company=request.company).values_list(
                    "center_id", flat=True
                )
            )
        return form

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "contact_centers" in form.cleaned_data:
            center_services.agent_set_centers(
                agent=form.instance,
                centers=form.cleaned_data["contact_centers"],
                company=request.company,
                actor=request.user,
            )


# --- What leads add: the *Assigned Leads* tab ------------------------------------------------
class AgentLeadsAdminMixin:
    """Adds the *Assigned Leads* tab (an object tool of the user's page, see
    templates/admin/agents/agent/change_form.html) for Leads Agent users."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        agent = agents_in_scope(request).filter(pk=parse_pk(str(object_id))).first()
        if agent is not None and agent.access_level == AccessLevel.LEADS_AGENT:
            extra_context["assigned_leads"] = {
                "count": Lead.objects.filter(agent=agent, status=Lead.Status.OPEN).count(),
                "url": reverse("admin:leads_lead_assigned", args=[agent.pk]),
                "add_url": reverse("admin:leads_lead_add") + f"?agent={agent.pk}",
            }
        return super().change_view(request, object_id, form_url, extra_context)


# --- The Agent admin ----------------------------------------------------------------------
class _EmailCleaningMixin:
    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        taken = Agent.objects.filter(email__iexact=email)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("An agent with this email address already exists.")
        return email


class AgentCreationForm(_EmailCleaningMixin, UserCreationForm):
    class Meta:
        model = Agent
        fields = ("email", "full_name", "access_level")


class AgentChangeForm(_EmailCleaningMixin, UserChangeForm):
    class Meta:
        model = Agent
        fields = "__all__"


class AgentUserAdmin(UserAdmin):
    """The user admin's own fieldsets; the mixins of AgentAdmin add theirs on top (their
    ``get_fieldsets`` calls reach this one through ``super()``)."""

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            fieldsets = list(self.add_fieldsets)
            if request.user.is_superuser:
                fieldsets.append(("Companies", {"fields": ("companies",)}))
            return fieldsets
        fieldsets = [
            (None, {"fields": ("email", "password")}),
            (
                "Profile",
                {"fields": ("full_name", "access_level", "is_active", "can_manage_routing")},
            ),
            ("Presence", {"fields": ("presence_now", "last_seen")}),
            ("Dates", {"fields": ("last_login", "date_joined")}),
        ]
        if request.user.is_superuser:
            fieldsets.insert(2, ("Companies and rights", {"fields": ("companies", "is_superuser")}))
        return fieldsets


@admin.register(Agent)
class AgentAdmin(
    AgentDeactivationAdminMixin,
    AgentAvailabilityAdminMixin,
    AgentLeadsAdminMixin,
    AgentCentersAdminMixin,
    AgentUserAdmin,
):
    form = AgentChangeForm
    add_form = AgentCreationForm
    list_display = [
        "email",
        "full_name",
        "access_level",
        "presence_now",
        "last_seen",
        "is_active",
    ]
    list_filter = ["access_level", "presence", "is_active"]
    search_fields = ["email", "full_name"]
    ordering = ["full_name", "email"]
    readonly_fields = ["presence_now", "last_seen", "date_joined", "last_login"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Only those who hold Contact Routing Rule Management may hand it out.
        if not can_grant_routing(request.user):
            readonly.append("can_manage_routing")
        return readonly

    filter_horizontal = ["companies", "groups", "user_permissions"]
    actions = ["hand_over_book", "deactivate"]

    @admin.action(description="Hand over their contacts through a group…", permissions=["view"])
    def hand_over_book(self, request, queryset):
        if not can_hand_over_book(request.user):
            raise PermissionDenied
        company = request.company
        group = company_group(company=company, pk=parse_pk(request.POST.get("group")))
        if "apply" in request.POST and group is not None:
            for leaver in queryset:
                try:
                    moved = agent_book_handover(
                        company=company, agent=leaver, group=group, actor=request.user
                    )
                except ValidationError as error:
                    self.message_user(
                        request, f"{leaver}: {' '.join(error.messages)}", messages.ERROR
                    )
                    continue
                self.message_user(
                    request,
                    f"{moved} contact(s) of {leaver} sent through {group}.",
                    messages.SUCCESS,
                )
                held = held_book_count(company=company, agent=leaver)
                if held:
                    self.message_user(
                        request,
                        f"{held} contact(s) of {leaver} were left out: Re-Assign in progress. "
                        "Hand them over again once those re-assignments finish.",
                        messages.WARNING,
                    )
            return None
        return choose_group_page(
            self,
            request,
            company=company,
            action="hand_over_book",
            title="Hand over contacts through a group",
            agents=list(queryset[:20]),
        )

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "access_level", "password1", "password2"),
            },
        ),
    )

    def get_queryset(self, request):
        return agents_in_scope(request, super().get_queryset(request))

    def _shared_beyond_reach(self, request, obj) -> bool:
        """True when a company admin would reach an agent who also works for a company they
        don't administer: their password, email and access level are that company's too."""
        if request.user.is_superuser or obj is None:
            return False
        mine = companies_for_user(request.user).values("pk")
        return obj.companies.exclude(pk__in=mine).exists()

    def has_change_permission(self, request, obj=None):
        if self._shared_beyond_reach(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self._shared_beyond_reach(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def lookup_allowed(self, lookup, value, request=None):
        # Filtering by company would tell a company admin who else an agent works for.
        if lookup.startswith("companies") and not (request and request.user.is_superuser):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        # Autocompletes for owners (primary agent, group members, default assignees) offer
        # only who may own contacts.
        if request.GET.get("field_name") in ("primary_agent", "agent", "default_assignee"):
            queryset = queryset.filter(is_active=True, access_level__in=LEAD_CENTER_LEVELS)
        return queryset, distinct

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser and request.company is not None:
            obj.companies.add(request.company)

    @admin.display(description="Presence", ordering="presence")
    def presence_now(self, obj: Agent) -> str:
        effective = obj.effective_presence
        label = Presence(effective).label
        if effective != obj.presence:
            label = f"{label} (set {obj.get_presence_display()}, not seen lately)"
        # The colour is in static/css/admin.css: no inline style under the CSP.
        return format_html('<span class="presence-dot presence-{}">●</span> {}', effective, label)

    @admin.display(description="Last seen", ordering="last_seen_at")
    def last_seen(self, obj: Agent) -> str:
        if obj.last_seen_at is None:
            return "never"
        return f"{timesince(obj.last_seen_at, timezone.now())} ago"
