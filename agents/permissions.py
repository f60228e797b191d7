"""Access policy: which company's records a user may see, and which pages they may open.

Admin classes, views and exports all go through these helpers; company scoping is never
left to a template.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseRedirect

from .models import AccessLevel, Agent, Company
from .selectors import LEAD_CENTER_LEVELS, companies_for_user


def scope_to_company(
    queryset: QuerySet, request: HttpRequest, *, field: str = "company"
) -> QuerySet:
    """Limit ``queryset`` to the current company; superusers see every company."""
    if request.user.is_superuser:
        return queryset
    company = getattr(request, "company", None)
    if company is None:
        return queryset.none()
    return queryset.filter(**{field: company})


def agents_in_scope(
    request: HttpRequest, queryset: QuerySet[Agent] | None = None
) -> QuerySet[Agent]:
    queryset = Agent.objects.all() if queryset is None else queryset
    if request.user.is_superuser:
        return queryset
    company = getattr(request, "company", None)
    if company is None:
        return queryset.none()
    # A company admin never sees, and so never edits, a superuser.
    return queryset.filter(companies=company, is_superuser=False).distinct()


def owners_in_scope(request: HttpRequest) -> QuerySet[Agent]:
    """Who may own contacts, among the agents the user may see: active Lead Center people."""
    return agents_in_scope(request).filter(is_active=True, access_level__in=LEAD_CENTER_LEVELS)


def parse_pk(value: str | None) -> int | None:
    """A primary key typed into a form or URL, or None ("²".isdigit() is True, int() fails;
    beyond a 64-bit integer SQLite raises OverflowError: no row has such an id anyway)."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    pk = int(value)
    return pk if pk <= 9_223_372_036_854_775_807 else None


def _has_company_field(model: type[Model]) -> bool:
    return any(f.name == "company" and f.is_relation for f in model._meta.get_fields())


def access_level_required(*levels: str) -> Callable:
    """Let in logged-in users of the given access levels (superusers always); 403 for others."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (user.is_superuser or user.access_level in levels):
                raise PermissionDenied("Your access level does not include this page.")
            if request.company is None:
                raise PermissionDenied("You are not a member of any company yet.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


STAFF_LEVELS = (AccessLevel.ADMIN, AccessLevel.SUPERVISOR)


class RefusedSaveMessageMixin:
    """For a ModelAdmin whose save calls services: a ``ValidationError`` a service raises at
    save time, once the form was valid (a number taken a moment ago by someone else, the
    100-center limit, an Ai Voice user to upgrade first), becomes a message on the same page
    instead of a 500. The change's transaction was rolled back."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class CompanyScopedAdmin(RefusedSaveMessageMixin, admin.ModelAdmin):
    """A ModelAdmin whose lists, object pages, choices and new records stay in the user's
    current company. Superusers see every company and pick it on the form."""

    company_field = "company"

    def get_queryset(self, request):
        return scope_to_company(super().get_queryset(request), request, field=self.company_field)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser and self.company_field == "company":
            exclude.append("company")
        return exclude

    def get_fieldsets(self, request, obj=None):
        # An admin that lists its fields in fieldsets names ``company`` there too: the
        # company's own admins don't get that field (above), so it leaves the fieldsets.
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or self.company_field != "company":
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "company"]})
            for name, options in fieldsets
        ]

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if request.user.is_superuser and "company" not in display:
            display.append("company")
        return display

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related is Agent:
            kwargs["queryset"] = agents_in_scope(request).filter(is_active=True)
        elif related is Company:
            kwargs["queryset"] = companies_for_user(request.user)
        elif _has_company_field(related):
            kwargs["queryset"] = scope_to_company(related._default_manager.all(), request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related is Agent:
            kwargs["queryset"] = agents_in_scope(request).filter(is_active=True)
        elif _has_company_field(related):
            kwargs["queryset"] = scope_to_company(related._default_manager.all(), request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # A record never moves between companies: its history and owners are that company's.
        if obj is not None and request.user.is_superuser and self.company_field == "company":
            readonly.append("company")
        return readonly

    def get_search_results(self, request, queryset, search_term):
        # PostgreSQL refuses NUL characters in a query: drop them rather than fail.
        search_term = search_term.replace("\x00", "")
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser and self.company_field == "company":
            obj.company = request.company
        super().save_model(request, obj, form, change)


class ReadOnlyCompanyScopedAdmin(CompanyScopedAdmin):
    """Records written only by services (history, routing decisions, emails): readable in
    the admin, never added, changed or deleted there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def action_page_context(model_admin, request: HttpRequest, *, action: str, title: str) -> dict:
    """What an admin action's intermediate page needs to post the same selection back
    (with ``templates/admin/_action_carry.html``)."""
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "action": action,
    }
