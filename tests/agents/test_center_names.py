"""A center's name is unique in its company: the admin's add and change pages and the center's
settings page refuse a taken name next to the field (200), never with the database's error."""

import pytest
from django.core.exceptions import ValidationError

from agents.centers.models import CenterMembership, ContactCenter
from agents.centers.services import center_create, center_update
from tests.agents.factories_centers import ContactCenterFactory
from tests.agents.test_centers_pages import member
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db
TAKEN = "Your company already has a contact center named “Sales”: choose another name."


def admin_form(**extra):
    data = {
        "routing_type": "skills",
        "always_open": "on",
        "open_days": "01234",
        "after_hours": "voicemail",
    }
    for inline in ("members", "call_types", "dispositions"):
        data |= {
            f"{inline}-TOTAL_FORMS": "0",
            f"{inline}-INITIAL_FORMS": "0",
            f"{inline}-MIN_NUM_FORMS": "0",
            f"{inline}-MAX_NUM_FORMS": "1000",
        }
    return data | extra


def test_the_admin_add_page_refuses_a_name_the_company_has(login, company_admin, company):
    # given a center named Sales
    ContactCenterFactory(company=company, name="Sales")
    # when an admin adds another one named Sales
    response = login(company_admin).post(
        "/admin/agents/contactcenter/add/", admin_form(name="Sales")
    )
    # then the form answers with the message by the name field, and nothing is added
    assert response.status_code == 200
    assert TAKEN in response.content.decode()
    assert response.context["adminform"].form.errors["name"] == [TAKEN]
    assert ContactCenter.objects.filter(company=company).count() == 1


def test_the_admin_change_page_refuses_a_name_the_company_has(login, company_admin, company):
    # given Sales and Support
    ContactCenterFactory(company=company, name="Sales")
    support = ContactCenterFactory(company=company, name="Support")
    # when Support is renamed Sales
    response = login(company_admin).post(
        f"/admin/agents/contactcenter/{support.pk}/change/", admin_form(name="Sales")
    )
    # then the message is by the field and Support keeps its name
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [TAKEN]
    support.refresh_from_db()
    assert support.name == "Support"


def test_the_same_name_in_another_company_and_an_unchanged_name_are_fine(
    login, company_admin, company, other_company
):
    # given Sales in another company, and Support here
    ContactCenterFactory(company=other_company, name="Sales")
    support = ContactCenterFactory(company=company, name="Support")
    client = login(company_admin)
    # when Sales is added here and Support is saved under its own name
    added = client.post("/admin/agents/contactcenter/add/", admin_form(name="Sales"))
    changed = client.post(
        f"/admin/agents/contactcenter/{support.pk}/change/",
        admin_form(name="Support", routing_type="fixed_order"),
    )
    # then both are saved
    assert added.status_code == 302 and changed.status_code == 302
    assert ContactCenter.objects.get(company=company, name="Sales")
    support.refresh_from_db()
    assert support.routing_type == "fixed_order"


def test_the_settings_page_refuses_another_centers_name_by_the_field(client, company):
    # given Sales and Support, whose center admin renames it Sales
    ContactCenterFactory(company=company, name="Sales")
    support = ContactCenterFactory(company=company, name="Support", routing_type="skills")
    admin = AgentFactory(companies=[company])
    member(support, admin, CenterMembership.Role.ADMIN)
    client.force_login(admin)
    # when
    response = client.post(
        f"/centers/{support.pk}/settings/",
        {
            "name": "Sales",
            "routing_type": "fixed_order",
            "open_days": list("01234"),  # one checkbox per weekday
            "after_hours": "voicemail",
            "always_open": "on",
        },
    )
    # then the page shows the message by the name field, titled with the saved name
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["form"].errors["name"] == [TAKEN]
    assert "<h1>Support — settings</h1>" in html
    support.refresh_from_db()
    assert (support.name, support.routing_type) == ("Support", "skills")


def test_the_services_refuse_a_taken_name_keyed_by_the_field(company):
    # given Sales
    ContactCenterFactory(company=company, name="Sales")
    support = ContactCenterFactory(company=company, name="Support")
    # when a new center or Support takes the name, then each is refused by the field
    with pytest.raises(ValidationError) as created:
        center_create(center=ContactCenter(company=company, name="Sales"))
    support.name = "Sales"
    with pytest.raises(ValidationError) as updated:
        center_update(center=support, fields=["name"])
    assert created.value.message_dict == {"name": [TAKEN]}
    assert updated.value.message_dict == {"name": [TAKEN]}
    assert ContactCenter.objects.filter(company=company, name="Sales").count() == 1
