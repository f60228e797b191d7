"""Contact-center pages: members (search, Enter adds, roles), the upgrade step, the
dashboard's rights per center (its page and query count: tests/desk/test_center_dashboard.py),
devices."""

import pytest

from agents.centers.models import (
    AgentLine,
    CenterMembership,
    CoachingRequest,
    Device,
    License,
    LicenseUpgrade,
)
from agents.centers.services import center_add_member, membership_set_role
from agents.models import Agent
from tests.agents.factories_centers import ContactCenterFactory, PhoneNumberFactory, live_call
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db
Role = CenterMembership.Role


@pytest.fixture
def center(company):
    return ContactCenterFactory(company=company, name="Support")


def member(center, agent, role=Role.AGENT):
    membership = center_add_member(center=center, agent=agent, actor=None)
    return membership_set_role(membership=membership, role=role)


def test_enter_adds_the_one_person_matching_the_search(login, company_admin, center, agent):
    client = login(company_admin)
    response = client.post(f"/centers/{center.pk}/add/", {"q": "andy"}, follow=True)
    assert "Andy Agent added to Support as Agent" in response.content.decode()
    assert center.members.get().agent == agent


def test_several_matches_are_listed_to_pick_from(login, company_admin, center, company):
    AgentFactory(companies=[company], full_name="Mia One")
    AgentFactory(companies=[company], full_name="Mia Two")
    page = login(company_admin).post(f"/centers/{center.pk}/add/", {"q": "mia"})
    html = page.content.decode()
    assert "Several people match" in html and "Mia One" in html and "Mia Two" in html
    assert not center.members.exists()


def test_the_101st_center_is_refused_on_the_page(login, company_admin, center, agent, company):
    from agents.centers.models import ContactCenter

    others = ContactCenter.objects.bulk_create(
        ContactCenter(company=company, name=f"X{i}") for i in range(100)
    )
    CenterMembership.objects.bulk_create(CenterMembership(center=c, agent=agent) for c in others)
    response = login(company_admin).post(
        f"/centers/{center.pk}/add/", {"q": agent.email}, follow=True
    )
    assert "already belongs to 100 contact centers" in response.content.decode()


def test_an_ai_voice_user_goes_through_the_upgrade_step(login, company_admin, center, agent):
    AgentLine.objects.create(agent=agent, license=License.AI_VOICE)
    PhoneNumberFactory(company=center.company, agent=agent, number="+12025550123")
    client = login(company_admin)
    # Enter on their name leads to the upgrade step, showing the billing of kept numbers
    response = client.post(f"/centers/{center.pk}/add/", {"q": agent.email})
    assert response.url == f"/centers/{center.pk}/upgrade/{agent.pk}/"
    page = client.get(response.url).content.decode()
    assert "+1 202-555-0123" in page and "1 additional number" in page
    # choosing nothing says what is missing
    page = client.post(response.url, {}).content.decode()
    assert "Choose Ai Contact Center or Ai Sales" in page
    # choosing Sales and keeping the numbers upgrades and adds them
    done = client.post(response.url, {"to_license": "ai_sales", "numbers": "keep"}, follow=True)
    assert "upgraded to Ai Sales and added to Support" in done.content.decode()
    upgrade = LicenseUpgrade.objects.get()
    assert upgrade.numbers_kept and upgrade.upgraded_by == company_admin
    assert center.members.filter(agent=agent).exists()


def test_make_supervisor_gives_the_dashboard_and_back_to_agent_takes_it(
    login, company_admin, center, agent, client
):
    membership = member(center, agent)
    login(company_admin).post(
        f"/centers/{center.pk}/members/{membership.pk}/", {"role": "supervisor"}
    )
    membership.refresh_from_db()
    assert membership.role == Role.SUPERVISOR
    client.force_login(agent)
    assert client.get(f"/centers/{center.pk}/dashboard/").status_code == 200
    client.force_login(company_admin)
    client.post(f"/centers/{center.pk}/members/{membership.pk}/", {"role": "agent"})
    client.force_login(agent)
    assert client.get(f"/centers/{center.pk}/dashboard/").status_code == 403


def test_agents_cannot_see_the_dashboard_or_change_members(login, center, agent, company):
    other = AgentFactory(companies=[company])
    member(center, agent)
    client = login(agent)
    assert client.get(f"/centers/{center.pk}/dashboard/").status_code == 403
    assert client.post(f"/centers/{center.pk}/add/", {"q": other.email}).status_code == 403


def test_a_supervisor_may_not_edit_settings_or_members_but_a_center_admin_may(
    client, center, company
):
    sup, adm = AgentFactory(companies=[company]), AgentFactory(companies=[company])
    member(center, sup, Role.SUPERVISOR)
    member(center, adm, Role.ADMIN)
    client.force_login(sup)
    assert client.get(f"/centers/{center.pk}/settings/").status_code == 403
    client.force_login(adm)
    response = client.post(
        f"/centers/{center.pk}/settings/",
        {
            "name": "Support EU",
            "routing_type": "fixed_order",
            "open_days": list("01234"),  # one checkbox per weekday
            "after_hours": "voicemail",
            "always_open": "on",
        },
    )
    assert response.status_code == 302
    center.refresh_from_db()
    assert (center.name, center.routing_type) == ("Support EU", "fixed_order")


def test_an_admin_of_center_a_is_nobody_in_center_b(client, center, company):
    b = ContactCenterFactory(company=company, name="Sales")
    adm = AgentFactory(companies=[company])
    member(center, adm, Role.ADMIN)
    client.force_login(adm)
    assert client.get(f"/centers/{b.pk}/dashboard/").status_code == 403
    assert client.get(f"/centers/{b.pk}/settings/").status_code == 403
    assert client.post(f"/centers/{b.pk}/add/", {"q": "x"}).status_code == 403


def test_another_companys_center_does_not_exist(login, other_admin, center):
    assert login(other_admin).get(f"/centers/{center.pk}/dashboard/").status_code == 404


def test_supervisor_sets_alerts_and_requests_coaching(client, center, company, agent):
    sup = AgentFactory(companies=[company])
    member(center, sup, Role.SUPERVISOR)
    member(center, agent)
    live_call(center, agent)  # coaching joins a live call
    client.force_login(sup)
    client.post(f"/centers/{center.pk}/dashboard/", {"alert_min_available": "2"})
    center.refresh_from_db()
    assert center.alert_min_available == 2
    response = client.post(
        f"/centers/{center.pk}/coach/", {"agent": agent.pk, "action": "take_over"}, follow=True
    )
    assert "Take over requested on Andy Agent" in response.content.decode()
    assert CoachingRequest.objects.get().requested_by == sup


def test_my_devices_page_adds_toggles_and_shows_the_line(login, agent):
    client = login(agent)
    client.post(
        "/centers/my-devices/",
        {"add": "1", "kind": "forwarding", "number": "202 555 0188", "ring": "on"},
    )
    device = Device.objects.get(agent=agent)
    assert device.number == "+12025550188" and device.ring
    client.post("/centers/my-devices/", {"device": device.pk})  # checkbox cleared
    device.refresh_from_db()
    assert not device.ring
    page = client.get("/centers/my-devices/").content.decode()
    assert "you can place outbound calls only from your contact center" in page
    bad = client.post("/centers/my-devices/", {"add": "1", "kind": "forwarding"}, follow=True)
    assert "needs the number" in bad.content.decode()


def test_leads_agents_have_no_devices_page(login, leads_agent):
    assert login(leads_agent).get("/centers/my-devices/").status_code == 403


def test_remove_takes_the_member_out_with_their_rights(login, company_admin, center, agent):
    membership = member(center, agent, Role.ADMIN)
    response = login(company_admin).post(
        f"/centers/{center.pk}/members/{membership.pk}/", {"remove": "1"}, follow=True
    )
    assert "Andy Agent removed from Support" in response.content.decode()
    assert not center.members.exists()
    assert not Agent.objects.get(pk=agent.pk).has_perm("agents.edit_center_settings", center)
