"""What a company sets up for leads: its leads settings (one row) and its products."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse

from agents.permissions import CompanyScopedAdmin
from leads.models import LeadsSettings, Product
from leads.orders import product_clean, product_save


@admin.register(LeadsSettings)
class LeadsSettingsAdmin(CompanyScopedAdmin):
    list_display = ["__str__", "show_non_partial_orders", "restrict_to_assigned"]

    def add_view(self, request, form_url="", extra_context=None):
        # One row per company: once it exists, "add" opens it. (Not in has_add_permission,
        # which the admin's sidebar asks on every page: that would cost a query each.)
        company = getattr(request, "company", None)
        existing = LeadsSettings.objects.filter(company=company).first() if company else None
        if existing is not None and not request.user.is_superuser:
            return HttpResponseRedirect(
                reverse("admin:leads_leadssettings_change", args=[existing.pk])
            )
        return super().add_view(request, form_url, extra_context)


class ProductForm(forms.ModelForm):
    # The company the product is in when the form has no company field (a company's own
    # admins): set per request by ProductAdmin.get_form.
    company = None

    def clean(self):
        cleaned = super().clean()
        company = cleaned.get("company") or self.company
        if company is not None and cleaned.get("name"):
            try:
                product_clean(company=company, name=cleaned["name"], product=self.instance)
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


@admin.register(Product)
class ProductAdmin(CompanyScopedAdmin):
    list_display = ["name", "sku", "price", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "sku"]
    form = ProductForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)  # a new class per call
        form.company = obj.company if obj is not None else getattr(request, "company", None)
        return form

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser:
            obj.company = request.company
        product_save(product=obj)
