"""The admin's contact center phone numbers: one number in any spelling, refused next to the
field (never a 500)."""

import pytest

from agents.centers.models import PhoneNumber
from tests.agents.factories_centers import PhoneNumberFactory
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def test_a_number_in_another_spelling_of_an_existing_one_is_refused_on_the_form(
    login, company_admin, company
):
    # given
    PhoneNumberFactory(company=company, number="+12025550100")
    # when
    response = login(company_admin).post(
        "/admin/agents/phonenumber/add/", {"number": "+1 202 555 0100", "agent": ""}
    )
    # then
    assert response.status_code == 200
    assert "+12025550100 is already taken." in response.content.decode()
    assert response.context["adminform"].form.errors["number"] == ["+12025550100 is already taken."]
    assert PhoneNumber.objects.count() == 1


def test_a_number_held_by_another_company_is_refused_too(login, company_admin, company):
    # given: numbers are unique across companies (a number rings one place)
    PhoneNumberFactory(company=CompanyFactory(name="Elsewhere"), number="+12025550100")
    # when
    response = login(company_admin).post(
        "/admin/agents/phonenumber/add/", {"number": "(202) 555-0100", "agent": ""}
    )
    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["number"] == ["+12025550100 is already taken."]
    assert PhoneNumber.objects.count() == 1


def test_a_new_number_is_added_normalised_in_the_admins_company(login, company_admin, company):
    # when
    response = login(company_admin).post(
        "/admin/agents/phonenumber/add/", {"number": "(202) 555-0101", "agent": ""}
    )
    # then
    assert response.status_code == 302
    number = PhoneNumber.objects.get()
    assert (number.number, number.company) == ("+12025550101", company)


def test_a_number_changed_to_another_spelling_of_an_existing_one_is_refused(
    login, company_admin, company
):
    # given
    PhoneNumberFactory(company=company, number="+12025550100")
    mine = PhoneNumberFactory(company=company, number="+12025550102")
    # when
    response = login(company_admin).post(
        f"/admin/agents/phonenumber/{mine.pk}/change/", {"number": "202.555.0100", "agent": ""}
    )
    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["number"] == ["+12025550100 is already taken."]
    mine.refresh_from_db()
    assert mine.number == "+12025550102"


def test_a_number_saved_again_in_another_spelling_of_itself_is_kept(login, company_admin, company):
    # given
    mine = PhoneNumberFactory(company=company, number="+12025550102")
    # when
    response = login(company_admin).post(
        f"/admin/agents/phonenumber/{mine.pk}/change/", {"number": "202 555 0102", "agent": ""}
    )
    # then
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.number == "+12025550102"


def test_an_unreadable_number_is_refused_next_to_the_field(login, company_admin):
    # when
    response = login(company_admin).post(
        "/admin/agents/phonenumber/add/", {"number": "call me", "agent": ""}
    )
    # then
    assert response.status_code == 200
    assert (
        "is not a phone number we can read"
        in response.context["adminform"].form.errors["number"][0]
    )
    assert not PhoneNumber.objects.exists()


def test_a_superuser_picks_the_company_and_is_refused_a_taken_number_too(client, company):
    from tests.factories import AgentFactory

    # given
    root = AgentFactory(is_superuser=True, is_staff=True)
    PhoneNumberFactory(company=company, number="+12025550100")
    client.force_login(root)
    # when
    taken = client.post(
        "/admin/agents/phonenumber/add/",
        {"company": company.pk, "number": "+1 (202) 555-0100", "agent": ""},
    )
    added = client.post(
        "/admin/agents/phonenumber/add/",
        {"company": company.pk, "number": "+1 (202) 555-0103", "agent": ""},
    )
    # then
    assert taken.status_code == 200
    assert taken.context["adminform"].form.errors["number"] == ["+12025550100 is already taken."]
    assert added.status_code == 302
    assert PhoneNumber.objects.get(number="+12025550103").company == company


def test_the_service_refuses_a_number_held_in_another_spelling(company):
    from django.core.exceptions import ValidationError

    from agents.centers.devices import phone_number_add

    # given
    phone_number_add(company=company, number="+12025550100")
    # when
    with pytest.raises(ValidationError) as refused:
        phone_number_add(company=company, number="202-555-0100")
    # then
    assert refused.value.message_dict == {"number": ["+12025550100 is already taken."]}
    assert PhoneNumber.objects.count() == 1
