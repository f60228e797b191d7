from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.timezone import localtime

from contacts.selectors import held_book_count
from leads.admin import AgentLeadsAdminMixin
from routing.handover import agent_book_handover
from routing.permissions import can_grant_routing, can_hand_over_book
from routing.selectors import company_group, company_groups

from .centers.admin import AgentCentersAdminMixin
from .models import Agent, Company, Presence
from .permissions import action_page_context, agents_in_scope, parse_pk
from .selectors import LEAD_CENTER_LEVELS, companies_for_user
from .services import company_rotate_webhook_token

admin.site.site_header = "Switchboard administration"
admin.site.site_title = "Switchboard"
admin.site.index_title = "Back office"


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "default_region", "created_at"]
    search_fields = ["name"]
    fields = ["name", "time_zone", "default_region", "inbound_webhook"]
    readonly_fields = ["inbound_webhook"]

    def get_queryset(self, request):
        return companies_for_user(request.user)

    def get_urls(self):
        return [
            path(
                "<int:pk>/rotate-token/",
                self.admin_site.admin_view(self.rotate_token_view),
                name="agents_company_rotate_token",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Inbound webhook")
    def inbound_webhook(self, obj: Company) -> str:
        if obj.pk is None:
            return "Save the company first; then rotate to get its webhook token."
        url = reverse("admin:agents_company_rotate_token", args=[obj.pk])
        endpoint = settings.SITE_URL + reverse("inbound")
        if obj.webhook_token_hash:
            state = format_html(
                "Token ending in <code>…{}</code>, set {}.",
                obj.webhook_token_hint,
                date_format(localtime(obj.webhook_token_rotated_at), "Y-m-d H:i"),
            )
        else:
            state = "No token yet: the webhook refuses every call."
        return format_html(
            "POST <code>{}</code> with <code>Authorization: Bearer &lt;token&gt;</code>.<br>"
            '{} <a class="button" href="{}">Rotate token…</a>',
            endpoint,
            state,
            url,
        )

    def rotate_token_view(self, request, pk: int):
        company = self.get_queryset(request).filter(pk=pk).first()
        if company is None or not self.has_change_permission(request, company):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"Rotate the webhook token of {company}",
            "opts": self.model._meta,
            "company": company,
            "endpoint": settings.SITE_URL + reverse("inbound"),
        }
        if request.method == "POST":
            context["token"] = company_rotate_webhook_token(company=company)
            self.log_change(request, company, "Rotated the inbound webhook token.")
        return TemplateResponse(request, "admin/agents/company/rotate_token.html", context)

    # Companies are created and removed by superusers (the operators); a company's own
    # admins edit its settings.
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


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
class AgentAdmin(AgentLeadsAdminMixin, AgentCentersAdminMixin, AgentUserAdmin):
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
    actions = ["hand_over_book"]

    @admin.action(description="Hand over their contacts through a group…", permissions=["view"])
    def hand_over_book(self, request, queryset):
        from django.contrib import messages
        from django.shortcuts import render

        if not can_hand_over_book(request.user):
            raise PermissionDenied
        company = request.company
        group = company_group(company=company, pk=parse_pk(request.POST.get("group")))
        if "apply" in request.POST and group is not None:
            from django.core.exceptions import ValidationError

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
        return render(
            request,
            "admin/routing/choose_group.html",
            {
                **action_page_context(
                    self,
                    request,
                    action="hand_over_book",
                    title="Hand over contacts through a group",
                ),
                "groups": company_groups(company=company),
                "agents": list(queryset[:20]),
                "error": "Choose a group." if "apply" in request.POST else "",
            },
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


# Access levels are the groups; they are managed by code (agents/access.py), not by hand.
admin.site.unregister(Group)
from . import lockout  # noqa: E402, F401 - registers the login lockout (unlock) admin
