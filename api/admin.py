"""API keys in the Django admin: a company's admins (access level Admin) create them (the raw
key is shown once, on the page after the save), rename them, change their scopes or expiry,
and revoke them. Keys are never deleted: a revoked key stays listed, so the timeline rows
"by API key …" keep naming a key that can be looked up. Writes go through ``api/keys.py``."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html

from agents.access import is_company_admin
from agents.permissions import CompanyScopedAdmin, action_page_context

from .keys import api_key_clean, api_key_create, api_key_revoke, api_key_update
from .models import ApiKey, Scope

SCOPE_HELP = {
    Scope.READ: "every GET (contacts, timelines, agents, centers, campaigns, leads) and the "
    "routing dry run, which changes nothing",
    Scope.WRITE: "contacts' data (create, update, delete), inbound interactions, campaigns, leads",
    Scope.ROUTING: "who owns a contact: set or clear the primary agent, start reassignment "
    "rounds, set agents' presence",
}


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[
            (s.value, format_html("<strong>{}</strong>: {}", s.value, SCOPE_HELP[s])) for s in Scope
        ],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one scope: read, write or routing."},
        help_text="A request needs the scope of what it does; a key may hold several.",
    )

    class Meta:
        model = ApiKey
        fields = ["company", "name", "scopes", "expires_at"]

    def clean(self):
        cleaned = super().clean()
        # The service's own checks, by field, before anything is saved.
        if "scopes" in cleaned:
            expires_at = cleaned.get("expires_at")
            if self.instance.pk and expires_at == self.instance.expires_at:
                expires_at = None  # kept as it was: it need not be ahead any more
            try:
                api_key_clean(scopes=cleaned["scopes"], expires_at=expires_at)
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


def _is_admin(user) -> bool:
    # The admin asks before anyone logs in too (the login page lists no apps): no level then.
    return user.is_authenticated and user.is_active and is_company_admin(user)


@admin.register(ApiKey)
class ApiKeyAdmin(CompanyScopedAdmin):
    form = ApiKeyForm
    list_display = [
        "name",
        "shown_prefix",
        "shown_scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "expires_at",
        "status",
    ]
    list_select_related = ["created_by", "company"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["shown_prefix", "created_by", "created_at", "last_used_at", "status"]
    actions = ["revoke"]

    # Only a company's admins (and superusers) see the keys, whatever their groups grant.
    def has_module_permission(self, request):
        return _is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return _is_admin(request.user)

    def has_add_permission(self, request):
        return _is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return _is_admin(request.user) and (obj is None or obj.revoked_at is None)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the key's name stays on the timeline rows it wrote

    def get_fields(self, request, obj=None):
        fields = ["company", "name", "scopes", "expires_at"]
        if obj is not None:
            fields += ["shown_prefix", "status", "created_by", "created_at", "last_used_at"]
        return fields

    @admin.display(description="key")
    def shown_prefix(self, key):
        return f"{key.prefix}…"

    @admin.display(description="scopes")
    def shown_scopes(self, key):
        return ", ".join(key.scopes)

    @admin.display(description="status")
    def status(self, key):
        if key.revoked_at is not None:
            return format_html(
                "<strong>Revoked</strong> {}",
                timezone.localtime(key.revoked_at).strftime("%Y-%m-%d %H:%M"),
            )
        if key.expires_at is not None and key.expires_at <= timezone.now():
            return "Expired"
        return "Active"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            api_key_update(
                key=obj, name=data["name"], scopes=data["scopes"], expires_at=data["expires_at"]
            )
            return
        company = data["company"] if request.user.is_superuser else request.company
        key, raw = api_key_create(
            company=company,
            name=data["name"],
            scopes=data["scopes"],
            created_by=request.user,
            expires_at=data["expires_at"],
        )
        # The admin goes on with ``obj`` (the log entry, the next page): make it the new key.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding = False
        obj._state.db = key._state.db
        # Only in this request's memory: never in the session, a message or a log.
        request._api_key_raw = raw

    def response_add(self, request, obj, post_url_continue=None):
        raw = getattr(request, "_api_key_raw", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        response = render(
            request,
            "admin/api/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "title": "Copy the new API key now",
                "opts": self.model._meta,
                "key": obj,
                "raw": raw,
            },
        )
        # The page holds the secret: no cache may keep it (the back button included).
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        live = queryset.filter(revoked_at__isnull=True)
        if "apply" not in request.POST:
            return render(
                request,
                "admin/api/apikey/revoke.html",
                {
                    **action_page_context(self, request, action="revoke", title="Revoke API keys"),
                    "keys": list(live.select_related("company")),
                    "already": queryset.count() - live.count(),
                },
            )
        names = []
        for key in live:
            api_key_revoke(key=key)
            names.append(str(key))
        if names:
            self.message_user(
                request,
                f"Revoked {len(names)} key(s): {', '.join(names)}. Requests with them are now "
                "refused (401).",
                messages.SUCCESS,
            )
        else:
            self.message_user(request, "The selected keys were revoked already.", messages.INFO)
        return None
