"""Companies in the admin (their webhook token, their availability settings and holidays).
The Agent admin gathers what centers, leads
and routing add to an agent's page, so it lives above the apps, in ``desk/admin/agents.py``."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from .availability import hours
from .availability.models import Holiday
from .models import Company
from .selectors import companies_for_user
from .services import company_rotate_webhook_token

admin.site.site_header = "Switchboard administration"
admin.site.site_title = "Switchboard"
admin.site.index_title = "Back office"


HOLIDAY_TAKEN = "This company already has a holiday on that day."


class HolidayFormSet(BaseInlineFormSet):
    """One holiday per day: checked here, as the inline's company is left out of the forms'
    own unique checks (Django excludes an inline's foreign key from them)."""

    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data.get("date") and not form.cleaned_data.get("DELETE")
        ]
        days = [form.cleaned_data["date"] for form in kept]
        stored = set(
            Holiday.objects.filter(company_id=self.instance.pk, date__in=days)
            .exclude(pk__in=[f.instance.pk for f in kept if f.instance.pk])
            .values_list("date", flat=True)
        )
        seen: set = set()
        for form in kept:
            day = form.cleaned_data["date"]
            if day in stored or day in seen:
                form.add_error("date", HOLIDAY_TAKEN)
            seen.add(day)


class HolidayInline(admin.TabularInline):
    """The company's holidays: whole local days nobody works (copied onto the company row by
    the holidays' signals, so routing reads them with no query)."""

    model = Holiday
    formset = HolidayFormSet
    fields = ["date", "name"]
    extra = 1
    verbose_name_plural = "holidays (whole days in the company's time zone: nobody works)"

    # Holidays are part of the company's settings: whoever may change the company (its
    # admins, superusers) edits them on its page; they have no admin page of their own.
    def _may_change_company(self, request) -> bool:
        return request.user.has_perm("agents.change_company")

    def has_view_permission(self, request, obj=None):
        return self._may_change_company(request) or request.user.has_perm("agents.view_company")

    def has_add_permission(self, request, obj=None):
        return self._may_change_company(request)

    def has_change_permission(self, request, obj=None):
        return self._may_change_company(request)

    def has_delete_permission(self, request, obj=None):
        return self._may_change_company(request)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "default_region", "working_hours_read", "created_at"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "time_zone", "default_region", "inbound_webhook"]}),
        (
            "Availability",
            {
                "description": "Who can take work when: outside working hours, on a holiday, "
                "out of office or at capacity nothing routes to an agent, whatever their "
                "presence says (docs/availability.md).",
                "fields": [
                    "working_hours",
                    "working_hours_read",
                    "default_capacity",
                    "text_deadline_minutes",
                    "form_deadline_minutes",
                    "deadline_warning_minutes",
                    "away_after_missed_deadline",
                    "handover_after_misses",
                    "handover_misses_days",
                ],
            },
        ),
    ]
    readonly_fields = ["inbound_webhook", "working_hours_read"]
    inlines = [HolidayInline]

    @admin.display(description="working hours, as read")
    def working_hours_read(self, obj: Company) -> str:
        """The saved text as the rules read it (``Mon-Fri 09:00-18:00``), so a typo that still
        parses (``Mon-Fri 9-18:00``…) shows what it means. The field refuses what can't be read."""
        try:
            return hours.describe(hours.parse_schedule(obj.working_hours or ""))
        except hours.ScheduleError as error:
            return f"Can't be read: {error}"

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


# Access levels are the groups; they are managed by code (agents/access.py), not by hand.
admin.site.unregister(Group)
from . import lockout  # noqa: E402, F401 - registers the login lockout (unlock) admin
