"""Companies in the admin (their webhook token). The Agent admin gathers what centers, leads
and routing add to an agent's page, so it lives above the apps, in ``desk/admin/agents.py``."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from .models import Company
from .selectors import companies_for_user
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


# Access levels are the groups; they are managed by code (agents/access.py), not by hand.
admin.site.unregister(Group)
from . import lockout  # noqa: E402, F401 - registers the login lockout (unlock) admin
