"""Every company-scoped admin page a company's admin can reach opens: the list, the add form
and an object's change form (a form that names a field the company's admins don't get,
like ``company``, answered 500)."""

import pytest
from django.contrib import admin

from agents.permissions import CompanyScopedAdmin
from tests.agents.factories_centers import ContactCenterFactory

pytestmark = pytest.mark.django_db

SCOPED = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model, model_admin in admin.site._registry.items()
    if isinstance(model_admin, CompanyScopedAdmin)
)


@pytest.mark.parametrize(("app", "model"), SCOPED)
def test_the_company_admin_opens_the_list_and_the_add_form(login, company_admin, app, model):
    client = login(company_admin)
    for url in (f"/admin/{app}/{model}/", f"/admin/{app}/{model}/add/"):
        assert client.get(url).status_code in (200, 403), url


def test_the_company_admin_opens_a_centers_change_form(login, company_admin, company):
    center = ContactCenterFactory(company=company)
    page = login(company_admin).get(f"/admin/agents/contactcenter/{center.pk}/change/")
    assert page.status_code == 200
    assert 'name="name"' in page.content.decode()
