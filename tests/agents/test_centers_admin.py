"""The admin: centers, the user admin's Contact centers checkboxes, devices and license."""

import re

import pytest

from agents.centers.models import AgentLine, CenterMembership, ContactCenter, Device, License
from tests.agents.factories_centers import ContactCenterFactory

pytestmark = pytest.mark.django_db


def agent_form(agent, **extra):
    """The agent change form's fields, as the page posts them (inlines included)."""
    data = {
        "email": agent.email,
        "full_name": agent.full_name,
        "access_level": agent.access_level,
        "is_active": "on",
        "line-TOTAL_FORMS": "1",
        "line-INITIAL_FORMS": "0",
        "line-MIN_NUM_FORMS": "0",
        "line-MAX_NUM_FORMS": "1",
        "line-0-license": "ai_contact_center",
        "devices-TOTAL_FORMS": "0",
        "devices-INITIAL_FORMS": "0",
        "devices-MIN_NUM_FORMS": "0",
        "devices-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_company_admin_creates_a_center_with_dispositions(login, company_admin, company):
    client = login(company_admin)
    response = client.post(
        "/admin/agents/contactcenter/add/",
        {
            "name": "Sales line",
            "routing_type": "skills",
            "preferred_agent_routing": "on",
            "always_open": "on",
            "open_days": "01234",
            "after_hours": "voicemail",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
            "call_types-TOTAL_FORMS": "1",
            "call_types-INITIAL_FORMS": "0",
            "call_types-MIN_NUM_FORMS": "0",
            "call_types-MAX_NUM_FORMS": "1000",
            "call_types-0-name": "billing",
            "dispositions-TOTAL_FORMS": "1",
            "dispositions-INITIAL_FORMS": "0",
            "dispositions-MIN_NUM_FORMS": "0",
            "dispositions-MAX_NUM_FORMS": "1000",
            "dispositions-0-name": "Sold",
            "dispositions-0-is_sales": "on",
            "dispositions-0-is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    center = ContactCenter.objects.get(name="Sales line")
    assert center.company == company and center.preferred_agent_routing
    assert center.dispositions.get().is_sales
    assert list(center.call_types.values_list("name", flat=True)) == ["billing"]


def test_checking_and_unchecking_centers_in_the_user_admin(login, company_admin, agent, company):
    a, b = ContactCenterFactory(company=company), ContactCenterFactory(company=company)
    client = login(company_admin)
    url = f"/admin/agents/agent/{agent.pk}/change/"
    assert "Contact centers" in client.get(url).content.decode()
    response = client.post(url, agent_form(agent, contact_centers=[a.pk, b.pk]))
    assert response.status_code == 302
    assert set(agent.center_memberships.values_list("center", flat=True)) == {a.pk, b.pk}
    client.post(
        url,
        agent_form(
            agent,
            contact_centers=[b.pk],
            **{
                "line-INITIAL_FORMS": "1",
                "line-0-agent": agent.pk,
            },
        ),
    )
    assert list(agent.center_memberships.values_list("center", flat=True)) == [b.pk]


def test_the_user_admin_refuses_the_101st_center_with_a_message(
    login, company_admin, agent, company
):
    full = ContactCenter.objects.bulk_create(
        ContactCenter(company=company, name=f"F{i}") for i in range(101)
    )
    CenterMembership.objects.bulk_create(
        CenterMembership(center=c, agent=agent) for c in full[:100]
    )
    client = login(company_admin)
    response = client.post(
        f"/admin/agents/agent/{agent.pk}/change/",
        agent_form(agent, contact_centers=[c.pk for c in full]),
        follow=True,
    )
    assert "already belongs to 100 contact centers" in response.content.decode()
    assert agent.center_memberships.count() == 100


def test_the_user_admin_refuses_the_discontinued_license_to_a_new_holder(
    login, company_admin, agent
):
    response = login(company_admin).post(
        f"/admin/agents/agent/{agent.pk}/change/",
        agent_form(agent, **{"line-0-license": "ai_voice_cc_addon"}),
    )
    assert response.status_code == 200
    assert "discontinued" in response.content.decode()
    assert not AgentLine.objects.filter(agent=agent).exists()


def test_the_user_admin_keeps_the_discontinued_license_of_a_holder(login, company_admin, agent):
    AgentLine.objects.create(agent=agent, license=License.AI_VOICE_CC_ADDON)
    response = login(company_admin).post(
        f"/admin/agents/agent/{agent.pk}/change/",
        agent_form(
            agent,
            **{
                "line-INITIAL_FORMS": "1",
                "line-0-agent": agent.pk,
                "line-0-license": "ai_voice_cc_addon",
            },
        ),
    )
    assert response.status_code == 302


def test_devices_are_edited_inline_with_numbers_normalised(login, company_admin, agent):
    response = login(company_admin).post(
        f"/admin/agents/agent/{agent.pk}/change/",
        agent_form(
            agent,
            **{
                "devices-TOTAL_FORMS": "1",
                "devices-0-kind": "forwarding",
                "devices-0-number": "(202) 555-0177",
                "devices-0-ring": "on",
            },
        ),
    )
    assert response.status_code == 302
    assert Device.objects.get(agent=agent).number == "+12025550177"


def test_a_company_admin_edits_skill_ranks_of_their_company_only(login, company_admin, company):
    from agents.centers.models import CallType, SkillRank
    from agents.centers.services import center_add_member
    from tests.factories import AgentFactory, CompanyFactory

    center = ContactCenterFactory(company=company)
    member = center_add_member(center=center, agent=AgentFactory(companies=[company]), actor=None)
    rank = SkillRank.objects.create(
        membership=member,
        call_type=CallType.objects.create(center=center, name="billing"),
        rank=50,
    )
    elsewhere = ContactCenterFactory(company=CompanyFactory(name="Elsewhere"))
    other = SkillRank.objects.create(
        membership=center_add_member(
            center=elsewhere,
            agent=AgentFactory(companies=[elsewhere.company]),
            actor=None,
        ),
        call_type=CallType.objects.create(center=elsewhere, name="billing"),
    )
    client = login(company_admin)
    assert client.get(f"/admin/agents/skillrank/{rank.pk}/change/").status_code == 200
    assert client.get(f"/admin/agents/skillrank/{other.pk}/change/").status_code == 302


def test_saving_an_agent_without_touching_centers_keeps_their_memberships(
    login, company_admin, company, agent
):
    # given an agent in a center, and the agent's page as the admin sees it
    from agents.centers.services import center_add_member

    center = ContactCenterFactory(company=company, name="Support")
    center_add_member(center=center, agent=agent, actor=None)
    client = login(company_admin)
    page = client.get(f"/admin/agents/agent/{agent.pk}/change/").content.decode()

    # then the page shows the Contact centers checkboxes, the center checked
    assert "Contact centers" in page and 'name="contact_centers"' in page
    assert re.search(rf'name="contact_centers" value="{center.pk}"[^>]*checked', page)

    # when the admin saves the form with the center still checked
    client.post(
        f"/admin/agents/agent/{agent.pk}/change/",
        agent_form(agent, contact_centers=[center.pk]),
    )

    # then the membership is kept
    assert CenterMembership.objects.filter(center=center, agent=agent).exists()


def test_a_disposition_is_deactivated_in_the_admin_never_deleted(login, company_admin, company):
    # given a center with a disposition
    center = ContactCenterFactory(company=company)
    center.dispositions.create(name="Sold", is_sales=True)
    # when its admin page is shown
    page = login(company_admin).get(f"/admin/agents/contactcenter/{center.pk}/change/")
    html = page.content.decode()
    # then the disposition can be made inactive, but there is no box to delete it
    assert page.status_code == 200
    assert 'name="dispositions-0-is_active"' in html
    assert 'name="dispositions-0-DELETE"' not in html
    assert 'name="call_types-TOTAL_FORMS"' in html  # (the other inlines are unchanged)
