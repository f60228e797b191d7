from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from .models import Agent, Company, Presence
from .permissions import agents_in_scope
from .selectors import companies_for_user

admin.site.site_header = "Switchboard administration"
admin.site.site_title = "Switchboard"
admin.site.index_title = "Back office"


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "default_region", "created_at"]
    search_fields = ["name"]
    fields = ["name", "time_zone", "default_region"]

    def get_queryset(self, request):
        return companies_for_user(request.user)

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


@admin.register(Agent)
class AgentAdmin(UserAdmin):
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
    filter_horizontal = ["companies", "groups", "user_permissions"]

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "access_level", "password1", "password2"),
            },
        ),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            fieldsets = list(self.add_fieldsets)
            if request.user.is_superuser:
                fieldsets.append(("Companies", {"fields": ("companies",)}))
            return fieldsets
        fieldsets = [
            (None, {"fields": ("email", "password")}),
            ("Profile", {"fields": ("full_name", "access_level", "is_active")}),
            ("Presence", {"fields": ("presence_now", "last_seen")}),
            ("Dates", {"fields": ("last_login", "date_joined")}),
        ]
        if request.user.is_superuser:
            fieldsets.insert(2, ("Companies and rights", {"fields": ("companies", "is_superuser")}))
        return fieldsets

    def get_queryset(self, request):
        return agents_in_scope(request, super().get_queryset(request))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser and request.company is not None:
            obj.companies.add(request.company)

    @admin.display(description="Presence", ordering="presence")
    def presence_now(self, obj: Agent) -> str:
        effective = obj.effective_presence
        colour = {
            Presence.AVAILABLE: "#15803d",
            Presence.AWAY: "#b45309",
            Presence.OFFLINE: "#6b7280",
        }[effective]
        label = Presence(effective).label
        if effective != obj.presence:
            label = f"{label} (set {obj.get_presence_display()}, not seen lately)"
        return format_html('<span style="color:{}">●</span> {}', colour, label)

    @admin.display(description="Last seen", ordering="last_seen_at")
    def last_seen(self, obj: Agent) -> str:
        if obj.last_seen_at is None:
            return "never"
        return f"{timesince(obj.last_seen_at, timezone.now())} ago"


# Access levels are the groups; they are managed by code (agents/access.py), not by hand.
admin.site.unregister(Group)
