import pytest
from django.contrib.auth.models import Group

from agents.access import GROUP_NAMES
from agents.models import AccessLevel
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def test_every_access_level_has_its_group_with_permissions():
    # given the migrated database
    # then each access level is a group holding its model permissions
    groups = {g.name: g for g in Group.objects.prefetch_related("permissions__content_type")}
    assert set(GROUP_NAMES.values()) <= set(groups)
    admin_perms = {
        f"{p.content_type.app_label}.{p.codename}" for p in groups["Admin"].permissions.all()
    }
    assert {"contacts.add_contact", "agents.add_agent", "agents.change_company"} <= admin_perms
    leads_perms = {p.codename for p in groups["Leads Agent"].permissions.all()}
    assert "add_agent" not in leads_perms and "view_contact" in leads_perms


def test_new_agent_is_in_exactly_the_group_of_their_level():
    # when an agent is created as Supervisor
    agent = AgentFactory(access_level=AccessLevel.SUPERVISOR)
    # then they are in the Supervisor group only and get its permissions
    assert list(agent.groups.values_list("name", flat=True)) == ["Supervisor"]
    assert agent.has_perm("contacts.view_contact")
    assert not agent.has_perm("contacts.add_contact")


def test_changing_the_level_moves_the_agent_to_the_new_group():
    # given an agent
    agent = AgentFactory(access_level=AccessLevel.AGENT)
    # when the level becomes Admin
    agent.access_level = AccessLevel.ADMIN
    agent.save()
    # then the groups follow and the agent may use the Django admin
    agent.refresh_from_db()
    assert list(agent.groups.values_list("name", flat=True)) == ["Admin"]
    assert agent.is_staff


@pytest.mark.parametrize(
    "level", [AccessLevel.SUPERVISOR, AccessLevel.AGENT, AccessLevel.LEADS_AGENT]
)
def test_only_admins_use_the_django_admin(level):
    assert not AgentFactory(access_level=level).is_staff


def test_emails_are_stored_lower_case_and_login_ignores_case(client):
    # given an agent whose email was typed with capitals
    agent = AgentFactory(email="Mixed.Case@Example.TEST")
    assert agent.email == "mixed.case@example.test"
    # when they log in typing it another way
    response = client.post(
        "/login/", {"username": "MIXED.case@example.test", "password": "correct-horse-battery"}
    )
    # then they are in
    assert response.status_code == 302
    assert response.wsgi_request.user == agent


def test_routing_management_is_refused_for_levels_that_cannot_use_it(
    login, company_admin, supervisor
):
    # given an admin who holds Contact Routing Rule Management
    company_admin.can_manage_routing = True
    company_admin.save()

    # when they tick it for a Supervisor
    response = login(company_admin).post(
        f"/admin/agents/agent/{supervisor.pk}/change/",
        {
            "email": supervisor.email,
            "full_name": supervisor.full_name,
            "access_level": AccessLevel.SUPERVISOR,
            "is_active": "on",
            "can_manage_routing": "on",
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-license": "ai_contact_center",
            "devices-TOTAL_FORMS": "0",
            "devices-INITIAL_FORMS": "0",
        },
    )

    # then the form says why, and the Supervisor does not get it
    assert response.status_code == 200
    assert "Only Admins can hold Contact Routing Rule Management" in response.content.decode()
    supervisor.refresh_from_db()
    assert not supervisor.can_manage_routing
    assert not supervisor.has_perm("routing.manage_routing")


def test_a_demoted_admin_loses_routing_management(company_admin):
    company_admin.can_manage_routing = True
    company_admin.save()
    company_admin.access_level = AccessLevel.SUPERVISOR
    company_admin.save()
    fresh = type(company_admin).objects.get(pk=company_admin.pk)
    assert not fresh.has_perm("routing.manage_routing")
