from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.html import format_html, format_html_join

from agents.permissions import CompanyScopedAdmin

from .models import Contact, TimelineEntry
from .phone import try_normalise_phone
from .services import contact_clean, contact_create, contact_update


class ContactAdminForm(forms.ModelForm):
    # Set by ContactAdmin.get_form for users who work in one company (the field is hidden).
    scoped_company = None

    class Meta:
        model = Contact
        fields = ["company", "name", "phone", "email", "source"]

    def clean(self):
        data = super().clean()
        company = self.scoped_company or data.get("company")
        if company is None:
            return data
        try:
            cleaned = contact_clean(
                company=company,
                name=data.get("name", ""),
                phone=data.get("phone", ""),
                email=data.get("email", ""),
                source=data.get("source", ""),
                exclude_pk=self.instance.pk,
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
            return data
        data.update(cleaned)
        return data

    def _post_clean(self):
        # Uniqueness was checked by contact_clean against the right company.
        self.instance.company = self.scoped_company or self.cleaned_data.get("company")
        super()._post_clean()


@admin.register(Contact)
class ContactAdmin(CompanyScopedAdmin):
    form = ContactAdminForm
    list_display = ["__str__", "phone_display", "email", "source", "created_at"]
    list_display_links = ["__str__"]
    search_fields = ["name", "email", "phone"]
    search_help_text = "Search by name, email or phone number (any spelling of the number)."
    list_filter = ["source"]
    list_select_related = ["company"]
    list_per_page = 50
    # No COUNT(*) of the whole table on every page view.
    show_full_result_count = False
    readonly_fields = ["created_at", "updated_at", "recent_timeline"]

    def get_fields(self, request, obj=None):
        fields = ["company", "name", "phone", "email", "source"]
        if not request.user.is_superuser:
            fields.remove("company")
        if obj is not None:
            fields += ["created_at", "updated_at", "recent_timeline"]
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not request.user.is_superuser:
            form = type(form.__name__, (form,), {"scoped_company": request.company})
        return form

    def get_search_results(self, request, queryset, search_term):
        phone = try_normalise_phone(
            search_term, region=getattr(request.company, "default_region", "US")
        )
        if phone:
            return queryset.filter(Q(phone=phone)), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        values = {
            name: form.cleaned_data.get(name, "") for name in ("name", "phone", "email", "source")
        }
        if change:
            contact_update(contact=obj, actor=request.user, **values)
            return
        company = request.company if not request.user.is_superuser else form.cleaned_data["company"]
        created = contact_create(company=company, actor=request.user, **values)
        obj.pk = created.pk
        obj.company = created.company
        obj.created_at = created.created_at

    @admin.display(description="Phone", ordering="phone")
    def phone_display(self, obj: Contact) -> str:
        return obj.display_phone

    @admin.display(description="Recent history")
    def recent_timeline(self, obj: Contact) -> str:
        entries = obj.timeline.select_related("actor")[:10]
        if not entries:
            return "No history yet."
        return format_html(
            "<ul style='margin:0;padding-left:16px'>{}</ul>",
            format_html_join(
                "",
                "<li>{} — <span style='color:#6b7280'>{:%Y-%m-%d %H:%M}</span></li>",
                ((entry.message, entry.created_at) for entry in entries),
            ),
        )


@admin.register(TimelineEntry)
class TimelineEntryAdmin(CompanyScopedAdmin):
    """History is written by services only: readable here, never edited."""

    list_display = ["created_at", "contact", "kind", "message", "actor", "agent"]
    list_filter = ["kind"]
    list_select_related = ["contact", "actor", "agent", "company"]
    search_fields = ["message", "contact__name", "contact__phone"]
    show_full_result_count = False
    raw_id_fields = ["contact"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
