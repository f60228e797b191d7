"""Contact lists in the admin: upload, progress, rejected rows, append, retry and discard."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from agents.csv_export import csv_cell, export_writer
from agents.permissions import CompanyScopedAdmin

from .. import contact_lists, recovery, selectors
from ..csv_reader import Refused
from ..forms import ContactListForm, UploadForm
from ..models import ContactList, ListImport
from ..permissions import import_in_scope


def _start_import(request, contact_list: ContactList, upload, kind: str) -> ListImport:
    return contact_lists.list_import_start(
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
        created = contact_lists.contact_list_create(
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
        contact_lists.contact_list_delete(contact_list=obj)

    def delete_queryset(self, request, queryset):
        for contact_list in queryset.order_by("pk"):
            contact_lists.contact_list_delete(contact_list=contact_list)

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
            raise PermissionDenied
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

        writer = export_writer()

        def rows():
            yield writer.writerow(["line", "reason", "row"])
            for row in selectors.rejected_rows(list_import).iterator(chunk_size=2000):
                yield writer.writerow([row.line, csv_cell(row.reason), csv_cell(row.raw)])

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
