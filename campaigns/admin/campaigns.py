"""Campaigns in the admin: what may change once created, and the state changes as actions."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from agents.centers.models import ContactCenter
from agents.permissions import CompanyScopedAdmin, parse_pk, scope_to_company

from .. import services
from ..forms import CampaignForm
from ..models import Campaign, ContactList

# The agent-owned icon, the same inline SVG as on the campaign pages' list (read once).
AGENT_OWNED_ICON = mark_safe(  # noqa: S308 - our own template, no user input
    render_to_string("campaigns/_agent_owned_icon.svg.html").strip()
)


@admin.action(description="Start the selected campaigns (build the agents' queues)")
def start(modeladmin, request, queryset):
    _each(modeladmin, request, queryset, services.campaign_start, "started")


@admin.action(description="Pause the selected campaigns")
def pause(modeladmin, request, queryset):
    _each(modeladmin, request, queryset, services.campaign_pause, "paused")


@admin.action(description="Resume the selected campaigns")
def resume(modeladmin, request, queryset):
    _each(modeladmin, request, queryset, services.campaign_resume, "resumed")


@admin.action(description="Recycle the selected campaigns (unfinished lists start again)")
def recycle(modeladmin, request, queryset):
    _each(modeladmin, request, queryset, services.campaign_recycle, "recycled")


@admin.action(description="Complete the selected campaigns")
def complete(modeladmin, request, queryset):
    _each(modeladmin, request, queryset, services.campaign_complete, "completed")


def _each(modeladmin, request, queryset, service, done: str) -> None:
    for campaign in queryset.order_by("pk"):
        try:
            service(campaign=campaign, actor=request.user)
        except ValidationError as error:
            modeladmin.message_user(
                request, f"{campaign}: {' '.join(error.messages)}", messages.ERROR
            )
        else:
            modeladmin.message_user(request, f"{campaign}: {done}.", messages.SUCCESS)


@admin.register(Campaign)
class CampaignAdmin(CompanyScopedAdmin):
    form = CampaignForm
    list_display = ["name", "agent_owned_icon", "status", "queue", "contact_list", "dashboard"]
    list_select_related = ["queue", "contact_list"]
    list_filter = ["status"]
    actions = [start, pause, resume, recycle, complete]
    readonly_fields = ["dialing_mode", "agent_owned", "status", "queue", "contact_list",
                       "agent_column", "recycle_count"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["dialing_mode", "agent_owned"]
        return [*self.readonly_fields, *super().get_readonly_fields(request, obj)]

    def get_fields(self, request, obj=None):
        sort = [f"{p}_{i}" for i in range(1, 5) for p in ("sort", "direction")]
        if obj is None:
            return ["name", "dialing_mode", "agent_owned", "queue", "contact_list",
                    "agent_column", *sort, "cover_works_absent_owner"]  # fmt: skip
        editable_sort = sort if obj.status == Campaign.Status.DRAFT else []
        return ["name", "status", "dialing_mode", "agent_owned", "queue", "contact_list",
                "agent_column", *editable_sort, "cover_works_absent_owner",
                "recycle_count"]  # fmt: skip

    def get_form(self, request, obj=None, **kwargs):
        kwargs["fields"] = [
            f
            for f in self.get_fields(request, obj)
            if f not in self.get_readonly_fields(request, obj)
        ]
        base = super().get_form(request, obj, **{**kwargs, "fields": [
            f for f in kwargs["fields"]
            if f in ("name", "queue", "contact_list", "agent_column", "cover_works_absent_owner")
        ]})  # fmt: skip
        lists = list(
            scope_to_company(ContactList.objects.exclude(columns=[]), request)
            if obj is None
            else [obj.contact_list]
        )

        company = obj.company if obj is not None else getattr(request, "company", None)

        class Form(base):
            def __init__(self, *args, **kw):
                kw.setdefault("lists", lists)
                super().__init__(*args, **kw)
                self.company = company
                if "queue" in self.fields:
                    self.fields["queue"].queryset = scope_to_company(
                        ContactCenter.objects.all(), request
                    )
                if "contact_list" in self.fields:
                    self.fields["contact_list"].queryset = scope_to_company(
                        ContactList.objects.exclude(columns=[]), request
                    )

        return Form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if "contact_list" in initial:
            pk = parse_pk(str(initial["contact_list"]))
            initial["contact_list"] = (
                ContactList.objects.filter(pk=pk).first() if pk is not None else None
            )
        return initial

    def save_model(self, request, obj, form, change):
        sort = form.sort_value() if "sort_1" in form.fields else obj.sort
        if change:
            services.campaign_update(
                campaign=obj,
                actor=request.user,
                name=obj.name,
                sort=sort,
                cover_works_absent_owner=obj.cover_works_absent_owner,
            )
            return
        company = obj.company if request.user.is_superuser else request.company
        created = services.campaign_create(
            company=company,
            name=obj.name,
            queue=obj.queue,
            contact_list=obj.contact_list,
            agent_column=obj.agent_column,
            sort=sort,
            actor=request.user,
            cover_works_absent_owner=obj.cover_works_absent_owner,
        )
        obj.pk = created.pk
        obj.company = created.company

    @admin.display(description="Agent-owned")
    def agent_owned_icon(self, obj):
        if not obj.agent_owned:
            return ""
        # An inline SVG, not an emoji (an emoji without a font for it is an empty box).
        return format_html(
            '<a class="agent-owned-icon" href="{}" title="Agent-owned records: errors" '
            'aria-label="Errors of {}">{} errors</a>',
            reverse("campaigns:errors", args=[obj.pk]),
            obj.name,
            AGENT_OWNED_ICON,
        )

    @admin.display(description="Dashboard")
    def dashboard(self, obj):
        return format_html(
            '<a href="{}">Dashboard</a>', reverse("campaigns:dashboard", args=[obj.pk])
        )
