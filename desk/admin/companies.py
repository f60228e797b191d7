"""The Company admin of ``agents/admin.py``, with what needs the apps above: a change of the
company's default capacity rebuilds the counters of the agents it applies to
(``desk/capacity.py``)."""

from django.contrib import admin
from django.db import transaction

from agents.admin import CompanyAdmin as BaseCompanyAdmin
from agents.models import Company

from ..capacity import company_default_capacity_changed

admin.site.unregister(Company)


@admin.register(Company)
class CompanyAdmin(BaseCompanyAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "default_capacity" in form.changed_data:
            transaction.on_commit(lambda: company_default_capacity_changed(company=obj))
