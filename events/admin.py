"""Outbound webhooks in the admin, for a company's admins only: endpoints (the secret shown
once, *Rotate secret*, enable / disable) and deliveries (status, attempts, the last answer,
*Resend*). Every write goes through ``events.services``."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from agents.access import is_company_admin
from agents.paginator import EstimatedCountPaginator
from agents.permissions import CompanyScopedAdmin, parse_pk, scope_to_company

from . import net
from .models import Delivery, Endpoint, EventType
from .services import (
    delivery_resend,
    endpoint_clean,
    endpoint_create,
    endpoint_delete,
    endpoint_disable,
    endpoint_enable,
    endpoint_rotate_secret,
    endpoint_update,
)

RECENT = 20


def _when(moment) -> str:
    # In the company's zone (the admin activates it), saying which: the API answers in UTC.
    return date_format(localtime(moment), "Y-m-d H:i:s T") if moment else "—"


def _duration(seconds: float) -> str:
    """A grace period in words ("24 hours", "30 minutes"); "" for none."""
    if seconds <= 0:
        return ""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size and seconds % size == 0 and (unit != "day" or seconds > 86_400):
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    if seconds >= 3_600:
        return f"{seconds / 3_600:g} hours"
    return f"{seconds:g} seconds"


def _admin(request) -> bool:
    """A logged-in company admin or superuser (the login page asks for an anonymous user)."""
    user = request.user
    return user.is_authenticated and user.is_active and is_company_admin(user)


class AdminsOnly:
    """Only a company's admins (and superusers) see outbound webhooks: they hold the
    secrets and decide where the company's data goes."""

    def has_module_permission(self, request):
        return _admin(request)

    def has_view_permission(self, request, obj=None):
        return _admin(request)

    def has_add_permission(self, request):
        return _admin(request)

    def has_change_permission(self, request, obj=None):
        return _admin(request)

    def has_delete_permission(self, request, obj=None):
        return _admin(request)


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"size": 60, "placeholder": "https://"}),
    )
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What this endpoint hears. Each event is sent once, signed; a mass change "
        "(a handover) in batches of up to 100.",
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "event_types", "enabled"]
        help_texts = {
            "enabled": "A disabled endpoint gets nothing new; what waits for it is sent, in "
            "order, when it is enabled again.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What the URL may be, from the settings of this installation.
        schemes = "https only" if settings.WEBHOOK_REQUIRE_HTTPS else "http or https"
        self.fields["url"].help_text = (
            f"Where events are POSTed ({schemes}; port {net.allowed_ports()}; no private, "
            "loopback or link-local address). Redirects are not followed."
        )

    def clean(self):
        data = super().clean()
        if "url" in data and "event_types" in data:
            try:
                data["url"], data["event_types"] = endpoint_clean(
                    url=data["url"], event_types=data["event_types"]
                )
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    for problem in problems:
                        self.add_error(name, problem)
        return data


@admin.register(Endpoint)
class EndpointAdmin(AdminsOnly, CompanyScopedAdmin):
    form = EndpointForm
    list_display = ["url", "description", "types", "enabled", "state", "deliveries_link"]
    list_filter = ["enabled"]
    search_fields = ["url", "description"]
    readonly_fields = ["signing_secret", "state", "recent_deliveries"]
    actions = ["enable_selected", "disable_selected"]

    def get_fields(self, request, obj=None):
        fields = ["url", "description", "event_types", "enabled"]
        if obj is not None:
            fields += ["signing_secret", "state", "recent_deliveries"]
        if request.user.is_superuser and obj is None:
            fields.insert(0, "company")
        return fields

    def get_urls(self):
        return [
            path(
                "<int:pk>/secret/",
                self.admin_site.admin_view(self.new_secret_view),
                name="events_endpoint_secret",
            ),
            path(
                "<int:pk>/rotate-secret/",
                self.admin_site.admin_view(self.rotate_secret_view),
                name="events_endpoint_rotate_secret",
            ),
            *super().get_urls(),
        ]

    # --- Columns and read-only fields ---
    @admin.display(description="Event types")
    def types(self, obj: Endpoint) -> str:
        return ", ".join(obj.event_types) or "—"

    @admin.display(description="State")
    def state(self, obj: Endpoint) -> str:
        if not obj.enabled:
            return obj.disabled_reason or "Disabled."
        if obj.failing_since:
            return f"Failing since {_when(obj.failing_since)}; retrying."
        return "Sending."

    @admin.display(description="Deliveries")
    def deliveries_link(self, obj: Endpoint) -> str:
        url = reverse("admin:events_delivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">Deliveries</a>', url)

    @admin.display(description="Signing secret")
    def signing_secret(self, obj: Endpoint) -> str:
        url = reverse("admin:events_endpoint_rotate_secret", args=[obj.pk])
        return format_html(
            # Two paragraphs: a button after a <br> overlaps the text on a phone.
            "<p>Shown once, when the endpoint was created (or its secret rotated). Verify each "
            "request's <code>webhook-signature</code> with it (Standard Webhooks).</p>"
            '<p class="rotate-secret"><a class="button" href="{}">Rotate secret…</a></p>',
            url,
        )

    @admin.display(description="Latest deliveries")
    def recent_deliveries(self, obj: Endpoint) -> str:
        rows = list(obj.deliveries.order_by("-pk")[:RECENT])
        if not rows:
            return "None yet."
        body = format_html_join(
            "",
            "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("admin:events_delivery_change", args=[d.pk]),
                    d.msg_id,
                    d.event_type or "—",
                    d.get_status_display(),
                    len(d.events),
                    d.attempts,
                    d.last_status_code or "—",
                    _when(d.last_attempt_at),
                    d.last_error or "—",
                )
                for d in rows
            ),
        )
        more = reverse("admin:events_delivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html(
            # The admin's inline-group scrolls sideways on a phone, not the page.
            '<div class="inline-group"><table id="recent-deliveries"><thead><tr>'
            "<th>Delivery</th><th>Event</th><th>Status</th>"
            "<th>Events</th><th>Attempts</th><th>Last answer</th><th>Last attempt</th>"
            "<th>Last error</th></tr></thead><tbody>{}</tbody></table></div>"
            '<p><a href="{}">All deliveries of this endpoint (Resend from there)</a></p>',
            body,
            more,
        )

    # --- Writes, through the services ---
    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            endpoint_update(
                endpoint=obj,
                url=data["url"],
                event_types=data["event_types"],
                description=data.get("description", ""),
                enabled=data.get("enabled", obj.enabled),
            )
            return
        company = data.get("company") if request.user.is_superuser else request.company
        endpoint, secret = endpoint_create(
            company=company,
            url=data["url"],
            event_types=data["event_types"],
            description=data.get("description", ""),
            enabled=data.get("enabled", True),
        )
        obj.pk, obj.company, obj.secret = endpoint.pk, endpoint.company, secret
        obj._state.adding = False
        # For response_add, this request only: the secret is never kept (no session).
        request._endpoint_secret = secret

    def save_related(self, request, form, formsets, change):
        """Nothing more to save: the service saved the endpoint and it has no relations
        (the default would call ``form.save_m2m``, which exists only after ``form.save``)."""

    def delete_model(self, request, obj):
        endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            endpoint_delete(endpoint=endpoint)

    def response_add(self, request, obj, post_url_continue=None):
        """The save's own answer shows the new secret (never cached, kept nowhere else)."""
        secret = getattr(request, "_endpoint_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._secret_page(request, obj, secret=secret, created=True)

    @admin.action(description="Enable selected endpoints (what waits for them is sent)")
    def enable_selected(self, request, queryset):
        for endpoint in queryset:
            endpoint_enable(endpoint=endpoint)
        self.message_user(request, f"Enabled {queryset.count()} endpoint(s).", messages.SUCCESS)

    @admin.action(description="Disable selected endpoints")
    def disable_selected(self, request, queryset):
        for endpoint in queryset:
            endpoint_disable(endpoint=endpoint)
        self.message_user(request, f"Disabled {queryset.count()} endpoint(s).", messages.SUCCESS)

    # --- The secret, shown once ---
    def _endpoint_or_403(self, request, pk: int) -> Endpoint:
        endpoint = self.get_queryset(request).filter(pk=pk).first()
        if endpoint is None or not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        return endpoint

    def _secret_page(self, request, endpoint: Endpoint, **extra) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": f"Signing secret of {endpoint.url}",
            "opts": self.model._meta,
            "endpoint": endpoint,
            **extra,
        }
        response = TemplateResponse(request, "admin/events/endpoint/secret.html", context)
        # A page with a secret is kept by no cache, and the back button shows it no more.
        patch_cache_control(response, no_store=True, no_cache=True, private=True)
        return response

    def new_secret_view(self, request, pk: int):
        """The secret was shown by the save's answer; here it is only said to be gone."""
        endpoint = self._endpoint_or_403(request, pk)
        return self._secret_page(request, endpoint, secret=None, created=True)

    def rotate_secret_view(self, request, pk: int):
        endpoint = self._endpoint_or_403(request, pk)
        grace = _duration(settings.WEBHOOK_SECRET_GRACE_SECONDS)
        if request.method == "POST":
            secret = endpoint_rotate_secret(endpoint=endpoint)
            self.log_change(request, endpoint, "Rotated the signing secret.")
            return self._secret_page(
                request,
                endpoint,
                secret=secret,
                rotated=True,
                grace=grace,
                grace_until=_when(endpoint.previous_secret_until)
                if endpoint.previous_secret_until
                else "",
            )
        return self._secret_page(request, endpoint, confirm=True, grace=grace)


class EndpointFilter(admin.SimpleListFilter):
    """The company's endpoints (a plain related filter would list every company's)."""

    title = "endpoint"
    parameter_name = "endpoint__id__exact"

    def lookups(self, request, model_admin):
        endpoints = scope_to_company(Endpoint.objects.all(), request).only("pk", "url")
        return [(str(e.pk), e.url) for e in endpoints]

    def queryset(self, request, queryset):
        value = self.value()
        pk = parse_pk(value)
        if pk is not None:
            return queryset.filter(endpoint_id=pk)
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(AdminsOnly, CompanyScopedAdmin):
    company_field = "endpoint__company"
    list_display = [
        "msg_id",
        "endpoint",
        "event_type",
        "status",
        "event_count",
        "mass",
        "attempts",
        "last_status_code",
        "last_attempt",
        "last_error",
        "next_attempt",
    ]
    list_filter = ["status", "event_type", EndpointFilter]
    list_select_related = ["endpoint"]
    search_fields = ["msg_id"]
    show_full_result_count = False
    # A handover writes 1,000 deliveries per endpoint: the planner's estimate past 10,000.
    paginator = EstimatedCountPaginator
    actions = ["resend"]
    fields = [
        "endpoint",
        "msg_id",
        "event_type",
        "status",
        "mass",
        "event_count",
        "attempts",
        "last_status_code",
        "last_attempt",
        "last_error",
        "next_attempt",
        "delivered_at",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Written only by the sender; the list's Resend action is the one change.
        return False

    @admin.display(description="Events")
    def event_count(self, obj: Delivery) -> int:
        return len(obj.events)

    @admin.display(description="Last attempt", ordering="last_attempt_at")
    def last_attempt(self, obj: Delivery) -> str:
        return _when(obj.last_attempt_at)

    @admin.display(description="Next attempt")
    def next_attempt(self, obj: Delivery) -> str:
        return _when(obj.next_attempt_at) if obj.status == Delivery.Status.PENDING else "—"

    @admin.action(description="Resend selected deliveries")
    def resend(self, request, queryset):
        count = 0
        waiting = 0
        for delivery in queryset.select_related("endpoint"):
            delivery_resend(delivery=delivery)
            count += 1
            waiting += not delivery.endpoint.enabled
        text = f"Queued {count} deliver{'y' if count == 1 else 'ies'} to be sent again."
        if waiting:
            text += f" {waiting} wait for their disabled endpoint to be enabled."
        self.message_user(request, text, messages.SUCCESS)
