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


@pytest.mark.parametrize(
    "url",
    [
        "/admin/contacts/contact/?q=a%00b",
        "/admin/contacts/contact/?source__exact=%00",
        "/admin/contacts/timelineentry/?kind__exact=%00",
    ],
)
def test_nul_characters_in_addresses_are_a_clear_400(login, company_admin, url):
    response = login(company_admin).get(url)
    assert response.status_code == 400
    assert b"Null characters are not allowed" in response.content


def test_lead_center_search_with_nul_is_a_400_too(login, agent):
    assert login(agent).get("/lead-center/", {"q": "a\x00b"}).status_code == 400


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

    import desk.admin.contacts

    def refuse(**kwargs):
        raise ValidationError({"phone": ["This number was just taken by Racer."]})

    monkeypatch.setattr(desk.admin.contacts, "contact_save_routed", refuse)
    response = login(company_admin).post(
        "/admin/contacts/contact/add/", {"name": "Late", "phone": "+12025550142"}, follow=True
    )
    assert response.status_code == 200
    assert "just taken by Racer" in response.content.decode()
    assert not Contact.objects.exists()


def test_a_primary_agent_who_no_longer_works_here_gets_no_texts(company, agent):
    from django.utils import timezone

    from contacts.ownership import contact_assign_primary_agent
    from contacts.services import contact_create
    from routing.inbound import inbound_receive

    contact = contact_create(company=company, actor=None, phone="+12025550142")
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    agent.presence, agent.last_seen_at = "available", timezone.now()
    agent.access_level = AccessLevel.LEADS_AGENT
    agent.save()
    interaction, _ = inbound_receive(company=company, channel="text", phone="+12025550142")
    assert interaction.routed_to is None and interaction.pool == "active"
    assert "no longer works contacts of this company" in interaction.route_reason


def test_names_are_kept_on_one_line_so_emails_can_carry_them(company, agent):
    from django.core import mail

    from contacts.emails import assignment_email_send
    from contacts.models import AssignmentEmail
    from contacts.ownership import contact_assign_primary_agent
    from contacts.services import contact_create

    contact = contact_create(
        company=company, actor=None, name="Eve\nBcc: x@evil", phone="+12025550142"
    )
    assert contact.name == "Eve Bcc: x@evil"
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    assert assignment_email_send(email_id=AssignmentEmail.objects.get().pk) == "sent"
    assert mail.outbox[0].subject == "New contact assigned to you: Eve Bcc: x@evil"


def test_deeply_nested_json_is_a_400(client, company):
    from agents.services import company_set_webhook_token

    company_set_webhook_token(company=company, token="sbw_x")
    response = client.post(
        "/api/inbound/",
        data="[" * 20000 + "]" * 20000,
        content_type="application/json",
        headers={"Authorization": "Bearer sbw_x"},
    )
    assert response.status_code == 400


def test_deleting_a_stale_contact_uncounts_its_current_owner(company, agent, other_admin):
    from contacts.models import Contact, PrimaryLoad
    from contacts.ownership import contact_assign_primary_agent
    from contacts.services import contact_create
    from routing.rounds import contacts_delete
    from tests.factories import AgentFactory

    ben = AgentFactory(companies=[company])
    contact = contact_create(company=company, actor=None, phone="+12025550142")
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    stale = Contact.objects.get(pk=contact.pk)
    contact_assign_primary_agent(contact=contact, agent=ben, actor=None)
    # Deleting goes through the service (the admin's delete does too).
    contacts_delete(company=company, contact_ids=[stale.pk])
    loads = dict(PrimaryLoad.objects.values_list("agent_id", "contacts"))
    assert loads == {agent.pk: 0, ben.pk: 0}
