"""Contact lists (upload, progress, rejected rows, append) and campaigns in the admin.

A campaign's dialing mode, queue, list and agent-owned column are read-only once it exists
(the service refuses a change too); state changes are admin actions calling the services."""

import csv

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from agents.centers.models import ContactCenter
from agents.permissions import CompanyScopedAdmin, scope_to_company

from . import recovery, selectors, services
from .csv_reader import Refused, csv_safe
from .forms import CampaignForm, ContactListForm, UploadForm
from .models import Campaign, ContactList, ListImport
from .permissions import import_in_scope

# The agent-owned icon, the same inline SVG as on the campaign pages' list (read once).
AGENT_OWNED_ICON = mark_safe(  # noqa: S308 - our own template, no user input
    render_to_string("campaigns/_agent_owned_icon.svg.html").strip()
)


def _start_import(request, contact_list: ContactList, upload, kind: str) -> ListImport:
    return services.list_import_start(
        contact_list=contact_list,
        chunks=upload.chunks(),
        file_name=upload.name,
        kind=kind,
        actor=request.user,
    )


class ListImportInline(admin.TabularInline):
    model = ListImport
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "file_name", "status", "rows_loaded", "rows_rejected", "report"]
    readonly_fields = fields
    ordering = ["created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Report")
    def report(self, obj):
        return format_html('<a href="{}">Progress and rejected rows</a>', obj.get_absolute_url())


@admin.register(ContactList)
class ContactListAdmin(CompanyScopedAdmin):
    list_display = ["name", "rows", "column_count", "created_at"]
    search_fields = ["name"]
    inlines = [ListImportInline]
    readonly_fields = ["rows", "columns_shown", "links"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = type(
                "ContactListAddForm",
                (ContactListForm,),
                {"request": request, "company": getattr(request, "company", None)},
            )
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "file"]
        return ["name", "rows", "columns_shown", "links"]

    @admin.display(description="Columns")
    def column_count(self, obj):
        return len(obj.columns)

    @admin.display(description="Columns")
    def columns_shown(self, obj):
        return ", ".join(obj.columns) or "— (not loaded yet)"

    @admin.display(description="Next")
    def links(self, obj):
        if not obj.pk:
            return ""
        return format_html(
            '<a href="{}">Append rows…</a> · <a href="{}?contact_list={}">Create a campaign '
            "with this list</a>",
            reverse("admin:campaigns_contactlist_append", args=[obj.pk]),
            reverse("admin:campaigns_campaign_add"),
            obj.pk,
        )

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # Through the service: the name is checked in the company (the form's own
        # uniqueness check never runs, the company being no field of it).
        created = services.contact_list_create(
            company=obj.company if obj.company_id else request.company,
            name=obj.name,
            actor=request.user,
        )
        obj.pk, obj.company, obj.created_by = created.pk, created.company, created.created_by
        obj.created_at = created.created_at
        obj._state.adding = False
        try:
            self._new_import = _start_import(
                request, obj, form.cleaned_data["file"], ListImport.Kind.INITIAL
            )
        except Refused as refusal:
            raise ValidationError(refusal.message) from None

    def response_add(self, request, obj, post_url_continue=None):
        return HttpResponseRedirect(self._new_import.get_absolute_url())

    def delete_model(self, request, obj):
        services.contact_list_delete(contact_list=obj)

    def delete_queryset(self, request, queryset):
        for contact_list in queryset.order_by("pk"):
            services.contact_list_delete(contact_list=contact_list)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<str:list_id>/import/<str:pk>/",
                view(self.import_view),
                name="campaigns_contactlist_import",
            ),
            path(
                "<str:list_id>/import/<str:pk>/status/",
                view(self.import_status),
                name="campaigns_contactlist_import_status",
            ),
            path(
                "<str:list_id>/import/<str:pk>/rejected.csv",
                view(self.rejected_csv),
                name="campaigns_contactlist_rejected",
            ),
            path(
                "<str:list_id>/import/<str:pk>/retry/",
                view(self.import_retry),
                name="campaigns_contactlist_import_retry",
            ),
            path(
                "<str:list_id>/import/<str:pk>/discard/",
                view(self.import_discard),
                name="campaigns_contactlist_import_discard",
            ),
            path(
                "<str:list_id>/append/",
                view(self.append_view),
                name="campaigns_contactlist_append",
            ),
            *super().get_urls(),
        ]

    def _import(self, request, list_id, pk) -> ListImport:
        if not self.has_view_permission(request):
            raise ValidationError("denied")
        return import_in_scope(request, list_id, pk)

    def import_view(self, request, list_id, pk):
        list_import = self._import(request, list_id, pk)
        return render(
            request,
            "admin/campaigns/contactlist/import.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Import into {list_import.contact_list}",
                "opts": self.model._meta,
                "list_import": list_import,
                "status": selectors.import_status(list_import),
                "rejected": selectors.rejected_rows(list_import)[:50],
                "can_retry": list_import.status == ListImport.Status.FAILED
                and self.has_change_permission(request, list_import.contact_list),
                "can_discard": list_import.status != ListImport.Status.LOADED
                and self.has_change_permission(request, list_import.contact_list),
            },
        )

    @method_decorator(require_POST)
    def import_retry(self, request, list_id, pk):
        list_import = self._import(request, list_id, pk)
        if not self.has_change_permission(request, list_import.contact_list):
            raise PermissionDenied
        try:
            recovery.list_import_retry(list_import=list_import, actor=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, "The import is queued again.", messages.SUCCESS)
        return HttpResponseRedirect(list_import.get_absolute_url())

    @method_decorator(require_POST)
    def import_discard(self, request, list_id, pk):
        list_import = self._import(request, list_id, pk)
        # Change, not delete: it drops only what did not load (an empty list at most).
        if not self.has_change_permission(request, list_import.contact_list):
            raise PermissionDenied
        try:
            kept = recovery.list_import_discard(list_import=list_import, actor=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(list_import.get_absolute_url())
        if kept is None:
            self.message_user(
                request,
                f"Discarded the import and the list “{list_import.contact_list}” (nothing was "
                "loaded into it); its name is free again.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:campaigns_contactlist_changelist"))
        self.message_user(request, "Discarded the import.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:campaigns_contactlist_change", args=[kept.pk]))

    def import_status(self, request, list_id, pk):
        return JsonResponse(selectors.import_status(self._import(request, list_id, pk)))

    def rejected_csv(self, request, list_id, pk):
        list_import = self._import(request, list_id, pk)

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())

        def rows():
            yield writer.writerow(["line", "reason", "row"])
            for row in selectors.rejected_rows(list_import).iterator(chunk_size=2000):
                yield writer.writerow([row.line, csv_safe(row.reason), csv_safe(row.raw)])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="rejected-{list_import.pk}.csv"'
        return response

    def append_view(self, request, list_id):
        contact_list = self.get_object(request, list_id)
        if contact_list is None or not self.has_change_permission(request, contact_list):
            return HttpResponseRedirect(reverse("admin:campaigns_contactlist_changelist"))
        form = UploadForm(request.POST or None, request.FILES or None, request=request)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    list_import = _start_import(
                        request, contact_list, form.cleaned_data["file"], ListImport.Kind.APPEND
                    )
            except Refused as refusal:
                form.add_error("file", refusal.message)
            else:
                return HttpResponseRedirect(list_import.get_absolute_url())
        return render(
            request,
            "admin/campaigns/contactlist/append.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Append rows to {contact_list}",
                "opts": self.model._meta,
                "contact_list": contact_list,
                "form": form,
            },
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
                    "agent_column", *sort]  # fmt: skip
        editable_sort = sort if obj.status == Campaign.Status.DRAFT else []
        return ["name", "status", "dialing_mode", "agent_owned", "queue", "contact_list",
                "agent_column", *editable_sort, "recycle_count"]  # fmt: skip

    def get_form(self, request, obj=None, **kwargs):
        kwargs["fields"] = [
            f
            for f in self.get_fields(request, obj)
            if f not in self.get_readonly_fields(request, obj)
        ]
        base = super().get_form(request, obj, **{**kwargs, "fields": [
            f for f in kwargs["fields"] if f in ("name", "queue", "contact_list", "agent_column")
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
            initial["contact_list"] = (
                ContactList.objects.filter(pk=initial["contact_list"]).first()
                if str(initial["contact_list"]).isdigit()
                else None
            )  # noqa: E501
        return initial

    def save_model(self, request, obj, form, change):
        sort = form.sort_value() if "sort_1" in form.fields else obj.sort
        if change:
            services.campaign_update(campaign=obj, actor=request.user, name=obj.name, sort=sort)
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
