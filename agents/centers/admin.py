"""Contact centers in the admin, and the inlines the user admin shows: devices and the
license. The Agent admin that shows them, with the *Contact centers* checkboxes (seed 001's
"Make Contact Center Agent"), is ``desk/admin/agents.py``."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from agents.phone import normalise_phone

from ..permissions import CompanyScopedAdmin, ReadOnlyCompanyScopedAdmin
from . import devices, licenses, services
from .models import (
    AgentLine,
    CallType,
    CenterMembership,
    CoachingRequest,
    ContactCenter,
    Device,
    Disposition,
    License,
    LicenseUpgrade,
    PhoneNumber,
    SkillRank,
)


class CallTypeInline(admin.TabularInline):
    model = CallType
    extra = 0


class DispositionInline(admin.TabularInline):
    """Dispositions are deactivated, never deleted: campaign records keep the one they were
    given (entries hold it without a database constraint, for the distribution's speed)."""

    model = Disposition
    extra = 0
    fields = ["name", "is_sales", "is_active"]
    can_delete = False


class MembershipInline(admin.TabularInline):
    """Read only: members and roles change on the center's page, through the one service
    that also grants and revokes the role's rights."""

    model = CenterMembership
    extra = 0
    fields = ["agent", "role", "added_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agent")


class ContactCenterAdminForm(forms.ModelForm):
    """The name is checked in the company by the service, next to the field: the form's
    own uniqueness check never runs, the company being no field of it for company admins."""

    company_of_request = None  # set per request by ``ContactCenterAdmin.get_form``

    def clean(self):
        data = super().clean()
        name = data.get("name")
        if self.instance.pk is not None:
            company = self.instance.company
        else:  # a superuser picks the company on the form
            company = data.get("company") or self.company_of_request
        if name and company is not None:
            services.center_name_check(company=company, name=name, center=self.instance)
        return data


class ActiveCenterFilter(admin.SimpleListFilter):
    """Active centers by default; "Inactive" and "All" show the deactivated ones."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("inactive", "Inactive"), ("all", "All (show inactive)")]

    def choices(self, changelist):
        for value, label in [(None, "Active"), *self.lookup_choices]:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: value} if value else {}, [self.parameter_name]
                ),
                "display": label,
            }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(is_active=self.value() != "inactive")


@admin.register(ContactCenter)
class ContactCenterAdmin(CompanyScopedAdmin):
    form = ContactCenterAdminForm
    list_display = [
        "name",
        "is_active",
        "routing_type",
        "preferred_agent_routing",
        "always_open",
        "members_page",
    ]
    list_filter = [ActiveCenterFilter, "routing_type", "preferred_agent_routing"]
    actions = ["deactivate_centers", "reactivate_centers"]
    search_fields = ["name"]
    list_select_related = ["company"]
    inlines = [MembershipInline, CallTypeInline, DispositionInline]
    fieldsets = [
        (
            None,
            {"fields": ["company", "name", "is_active", "routing_type", "preferred_agent_routing"]},
        ),
        (
            "Hours",
            {
                "fields": [
                    "always_open",
                    "open_days",
                    "opens_at",
                    "closes_at",
                    "after_hours",
                    "after_hours_number",
                ]
            },
        ),
        ("Alerts", {"fields": ["alert_min_available", "alert_max_wait_minutes"]}),
    ]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        company = getattr(request, "company", None)
        return type(form.__name__, (form,), {"company_of_request": company})

    def save_model(self, request, obj, form, change):
        # Through the services: a name taken between the form's check and this save is
        # refused (the admin shows the message) instead of escaping as an IntegrityError.
        if not change and not request.user.is_superuser:
            obj.company = request.company
        if change:
            services.center_update(center=obj, fields=form.changed_data)
        else:
            services.center_create(center=obj)

    def _set_active(self, request, queryset, *, active: bool) -> None:
        for center in queryset.order_by("pk"):
            services.center_set_active(center=center, active=active, actor=request.user)
        state = "reactivated" if active else "deactivated"
        self.message_user(request, f"{queryset.count()} center(s) {state}.", messages.SUCCESS)

    @admin.action(description="Deactivate selected centers (keep their history)")
    def deactivate_centers(self, request, queryset):
        self._set_active(request, queryset, active=False)

    @admin.action(description="Reactivate selected centers")
    def reactivate_centers(self, request, queryset):
        self._set_active(request, queryset, active=True)

    def _refuse_if_history(self, request, centers) -> bool:
        kept = [c for c in centers if services.center_has_history(c)]
        for center in kept:
            self.message_user(
                request, services.HAS_HISTORY_MESSAGE.format(center=center), messages.ERROR
            )
        return bool(kept)

    def delete_model(self, request, obj):
        # Only a center without history is deleted; the others are refused with the reason.
        if not self._refuse_if_history(request, [obj]):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        centers = list(queryset.order_by("pk"))
        if not self._refuse_if_history(request, centers):
            super().delete_queryset(request, queryset)

    def response_delete(self, request, obj_display, obj_id):
        if ContactCenter.objects.filter(pk=obj_id).exists():  # refused: back to the center
            return HttpResponseRedirect(reverse("admin:agents_contactcenter_change", args=[obj_id]))
        return super().response_delete(request, obj_display, obj_id)

    @admin.display(description="Agents & Admins")
    def members_page(self, obj: ContactCenter) -> str:
        return format_html('<a href="{}">Members and roles…</a>', obj.get_absolute_url())


@admin.register(SkillRank)
class SkillRankAdmin(CompanyScopedAdmin):
    """Proficiency per member and call type (0-100; without a row the member counts 100)."""

    company_field = "membership__center__company"
    list_display = ["membership", "call_type", "rank"]
    list_editable = ["rank"]
    list_filter = ["call_type__center"]
    list_select_related = ["membership__agent", "membership__center", "call_type"]
    search_fields = ["membership__agent__full_name", "membership__agent__email", "call_type__name"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "membership" and not request.user.is_superuser:
            kwargs["queryset"] = CenterMembership.objects.filter(
                center__company=request.company
            ).select_related("agent", "center")
        elif db_field.name == "call_type" and not request.user.is_superuser:
            kwargs["queryset"] = CallType.objects.filter(center__company=request.company)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PhoneNumberAdminForm(forms.ModelForm):
    """The number is read and checked by the service, so one already held in another
    spelling (``+1 202 555 0100`` for ``+12025550100``) is refused next to the field."""

    company_of_request = None  # set per request by ``PhoneNumberAdmin.get_form``

    def clean(self):
        data = super().clean()
        if data.get("number"):
            if self.instance.pk is not None:
                company = self.instance.company
            else:  # a superuser picks the company on the form
                company = data.get("company") or self.company_of_request
            data["number"] = devices.phone_number_clean(
                company=company, number=data["number"], phone_number=self.instance
            )
        return data


@admin.register(PhoneNumber)
class PhoneNumberAdmin(CompanyScopedAdmin):
    form = PhoneNumberAdminForm
    list_display = ["number", "agent"]
    list_select_related = ["agent", "company"]
    search_fields = ["number", "agent__email", "agent__full_name"]
    autocomplete_fields = ["agent"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        company = getattr(request, "company", None)
        return type(form.__name__, (form,), {"company_of_request": company})

    def save_model(self, request, obj, form, change):
        # Through the services: a number taken between the form's check and this save is
        # refused (the admin shows the message) instead of escaping as an IntegrityError.
        if change:
            devices.phone_number_update(phone_number=obj, number=obj.number, agent=obj.agent)
            return
        company = obj.company if request.user.is_superuser else request.company
        added = devices.phone_number_add(company=company, number=obj.number, agent=obj.agent)
        obj.pk = added.pk  # the admin's history entry and redirect name the new row


@admin.register(LicenseUpgrade)
class LicenseUpgradeAdmin(ReadOnlyCompanyScopedAdmin):
    company_field = "center__company"
    list_display = [
        "agent",
        "from_license",
        "to_license",
        "numbers_kept",
        "billing",
        "upgraded_by",
        "created_at",
    ]
    list_select_related = ["agent", "upgraded_by"]


@admin.register(CoachingRequest)
class CoachingRequestAdmin(ReadOnlyCompanyScopedAdmin):
    company_field = "center__company"
    list_display = ["created_at", "center", "requested_by", "action", "agent"]
    list_select_related = ["center", "requested_by", "agent"]
    list_filter = ["action"]


# --- The user admin's inlines (desk/admin/agents.py adds them to the Agent admin) ------------
class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    fields = ["kind", "label", "number", "ring"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type("DeviceAdminForm", (formset.form,), {"clean": _clean_device})
        return formset


def _clean_device(self):
    data = forms.ModelForm.clean(self)
    number = data.get("number") or ""
    try:
        if number:
            data["number"] = normalise_phone(number)
        elif data.get("kind") == Device.Kind.FORWARDING:
            raise ValidationError({"number": "A forwarding number needs the number to forward to."})
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise
        raise ValidationError({"number": error.messages}) from None
    return data


class AgentLineForm(forms.ModelForm):
    class Meta:
        model = AgentLine
        fields = ["license"]

    def clean_license(self):
        license = self.cleaned_data["license"]
        agent = self.instance.agent if self.instance.pk else None
        if license == License.AI_VOICE_CC_ADDON and (
            agent is None or licenses.agent_license(agent) != License.AI_VOICE_CC_ADDON
        ):
            raise ValidationError(licenses.DISCONTINUED_MESSAGE)
        return license


class AgentLineInline(admin.StackedInline):
    model = AgentLine
    form = AgentLineForm
    can_delete = False
    verbose_name_plural = "License"
    fields = ["license"]
