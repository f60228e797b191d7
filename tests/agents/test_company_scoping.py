"""A user of one company never sees or changes another company's records."""

import pytest

from agents.models import AccessLevel
from contacts.models import Contact
from tests.factories import AgentFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_companies_contacts(company, other_company):
    mine = ContactFactory(company=company, name="Mina Mine", phone="+12025550101")
    theirs = ContactFactory(company=other_company, name="Theo Theirs", phone="+12025550102")
    return mine, theirs


def test_contact_list_shows_only_the_admins_company(login, company_admin, two_companies_contacts):
    # given contacts in two companies
    # when Acme's admin opens the contact list
    response = login(company_admin).get("/admin/contacts/contact/")
    # then only Acme's contact is listed
    body = response.content.decode()
    assert "Mina Mine" in body
    assert "Theo Theirs" not in body


def test_another_companys_contact_cannot_be_opened(login, company_admin, two_companies_contacts):
    _, theirs = two_companies_contacts
    client = login(company_admin)
    # when the admin guesses the id of Globex's contact
    response = client.get(f"/admin/contacts/contact/{theirs.pk}/change/", follow=True)
    # then the admin says it does not exist, and nothing of it is shown
    assert "Theo Theirs" not in response.content.decode()
    assert "doesn’t exist" in response.content.decode()
    # and it cannot be changed or deleted either
    client.post(f"/admin/contacts/contact/{theirs.pk}/change/", {"name": "Hacked", "phone": ""})
    client.post(f"/admin/contacts/contact/{theirs.pk}/delete/", {"post": "yes"})
    theirs.refresh_from_db()
    assert theirs.name == "Theo Theirs"


def test_agent_list_is_scoped_and_hides_superusers(login, company_admin, other_admin):
    # given a superuser and an admin of another company
    AgentFactory(
        email="root@example.test", is_superuser=True, companies=[company_admin.companies.first()]
    )
    # when Acme's admin lists agents
    body = login(company_admin).get("/admin/agents/agent/").content.decode()
    # then neither shows
    assert "admin@acme.test" in body
    assert "admin@globex.test" not in body
    assert "root@example.test" not in body


def test_another_companys_agent_cannot_be_edited(login, company_admin, other_admin):
    client = login(company_admin)
    response = client.post(
        f"/admin/agents/agent/{other_admin.pk}/change/",
        {"email": other_admin.email, "full_name": "Renamed", "access_level": "agent"},
    )
    assert response.status_code == 302
    other_admin.refresh_from_db()
    assert other_admin.full_name == "Gus Globex"


def test_company_list_shows_only_own_company(login, company_admin, other_company):
    body = login(company_admin).get("/admin/agents/company/").content.decode()
    assert "Acme" in body
    assert "Globex" not in body


def test_superuser_sees_every_company(admin_client, two_companies_contacts):
    body = admin_client.get("/admin/contacts/contact/").content.decode()
    assert "Mina Mine" in body and "Theo Theirs" in body


def test_an_admin_of_two_companies_picks_the_one_they_work_in(
    login, company, other_company, two_companies_contacts
):
    # given an admin of both companies
    both = AgentFactory(access_level=AccessLevel.ADMIN, companies=[company, other_company])
    client = login(both)
    assert "Mina Mine" in client.get("/admin/contacts/contact/").content.decode()
    # when they switch to Globex
    response = client.post(
        "/company/", {"company": other_company.pk, "next": "/admin/contacts/contact/"}
    )
    assert response["Location"] == "/admin/contacts/contact/"
    # then they work in Globex only
    body = client.get("/admin/contacts/contact/").content.decode()
    assert "Theo Theirs" in body and "Mina Mine" not in body


def test_switching_to_a_company_one_is_not_in_changes_nothing(
    login, company_admin, other_company, two_companies_contacts
):
    client = login(company_admin)
    client.post("/company/", {"company": other_company.pk})
    body = client.get("/admin/contacts/contact/").content.decode()
    assert "Mina Mine" in body and "Theo Theirs" not in body


def test_switch_company_ignores_offsite_next(login, company_admin, company):
    response = login(company_admin).post(
        "/company/", {"company": company.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_new_contact_and_agent_land_in_the_admins_company(login, company_admin, company):
    client = login(company_admin)
    # when the admin adds a contact and an agent
    client.post("/admin/contacts/contact/add/", {"name": "New Person", "phone": "202 555 0177"})
    client.post(
        "/admin/agents/agent/add/",
        {
            "email": "new@acme.test",
            "full_name": "New Agent",
            "access_level": "agent",
            "password1": "a-long-Secret-77",
            "password2": "a-long-Secret-77",
        },
    )
    # then both belong to Acme
    assert Contact.objects.get(name="New Person").company == company
    assert list(company.agents.filter(email="new@acme.test").values_list("email", flat=True))


def test_company_admin_cannot_make_a_superuser(login, company_admin, agent):
    client = login(company_admin)
    client.post(
        f"/admin/agents/agent/{agent.pk}/change/",
        {
            "email": agent.email,
            "full_name": agent.full_name,
            "access_level": "agent",
            "is_active": "on",
            "is_superuser": "on",
        },
    )
    agent.refresh_from_db()
    assert not agent.is_superuser


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


@pytest.mark.parametrize("value", ["abc", "", "²"])
def test_odd_company_switch_values_are_ignored(login, company_admin, value):
    assert login(company_admin).post("/company/", {"company": value}).status_code == 302
