"""Holes a security review found, kept closed."""

import pytest

from agents.models import AccessLevel
from contacts.models import Contact
from tests.factories import AgentFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_agent(company, other_company):
    return AgentFactory(
        companies=[company, other_company], email="shared@x.test", full_name="Sha Red"
    )


def test_a_company_admin_cannot_change_an_agent_who_also_works_for_another_company(
    login, company_admin, shared_agent
):
    client = login(company_admin)
    # the agent is listed (they work for Acme too) but can't be changed or re-passworded
    assert client.get(f"/admin/agents/agent/{shared_agent.pk}/password/").status_code == 403
    client.post(
        f"/admin/agents/agent/{shared_agent.pk}/change/",
        {"email": shared_agent.email, "full_name": "Sha Red", "access_level": "admin"},
    )
    shared_agent.refresh_from_db()
    assert shared_agent.access_level == AccessLevel.AGENT


def test_agent_list_cannot_be_filtered_by_company(
    login, company_admin, other_company, shared_agent
):
    response = login(company_admin).get(
        f"/admin/agents/agent/?companies__id__exact={other_company.pk}"
    )
    assert response.status_code in (302, 400)


@pytest.mark.parametrize("value", ["²", "abc", "-1"])
def test_odd_filter_values_do_not_break_the_contact_list(login, company_admin, value):
    response = login(company_admin).get("/admin/contacts/contact/", {"primary_agent": value})
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("value", ["abc", "", "²"])
def test_odd_company_switch_values_are_ignored(login, company_admin, value):
    assert login(company_admin).post("/company/", {"company": value}).status_code == 302


def test_nul_characters_in_searches_are_harmless(login, company_admin, agent):
    assert login(company_admin).get("/admin/contacts/contact/", {"q": "a\x00b"}).status_code == 200
    assert login(agent).get("/lead-center/", {"q": "a\x00b"}).status_code == 200


def test_a_company_admin_can_delete_a_contact_with_its_history(login, company_admin, company):
    from contacts.services import contact_create

    contact = contact_create(company=company, actor=None, phone="+12025550142")
    response = login(company_admin).post(
        f"/admin/contacts/contact/{contact.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Contact.objects.exists()


def test_a_superuser_cannot_move_a_contact_to_another_company(admin_client, company, other_company):
    contact = ContactFactory(company=company, phone="+12025550142", name="Stay")
    admin_client.post(
        f"/admin/contacts/contact/{contact.pk}/change/",
        {"company": other_company.pk, "name": "Stay", "phone": "+12025550142"},
    )
    contact.refresh_from_db()
    assert contact.company == company


def test_a_save_refused_by_the_service_is_a_message_not_a_500(
    login, company_admin, company, monkeypatch
):
    from django.core.exceptions import ValidationError

    import contacts.admin

    def refuse(**kwargs):
        raise ValidationError({"phone": ["This number was just taken by Racer."]})

    monkeypatch.setattr(contacts.admin, "contact_create", refuse)
    response = login(company_admin).post(
        "/admin/contacts/contact/add/", {"name": "Late", "phone": "+12025550142"}, follow=True
    )
    assert response.status_code == 200
    assert "just taken by Racer" in response.content.decode()
    assert not Contact.objects.exists()
