"""Coaching (Listen in / Barge in / Take over) on a center's dashboard: one rule decides the
buttons, the coach view and the service — the center's own supervisors and admins."""

import pytest

from agents.centers.models import CenterMembership, CoachingRequest
from agents.centers.permissions import can_coach
from tests.agents.factories_centers import ContactCenterFactory, live_call
from tests.agents.test_centers_pages import member
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db
Role = CenterMembership.Role
BUTTONS = ("Listen in", "Barge in", "Take over")


@pytest.fixture
def center(company, agent):
    center = ContactCenterFactory(company=company, name="Sales")
    member(center, agent)
    live_call(center, agent)  # Andy is on a call: there is something to listen in on
    return center


def dashboard(client, center) -> str:
    response = client.get(f"/centers/{center.pk}/dashboard/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_company_admin_who_is_no_member_sees_no_coaching_and_is_refused(
    login, company_admin, center, agent
):
    # given a company admin who is not a member of the center
    client = login(company_admin)
    # when they open its dashboard, then they see it without the coaching buttons
    html = dashboard(client, center)
    assert "Andy Agent" in html
    assert not any(label in html for label in BUTTONS)
    # and a coaching request posted anyway is refused with the reason, nothing recorded
    response = client.post(f"/centers/{center.pk}/coach/", {"agent": agent.pk, "action": "listen"})
    assert response.status_code == 403
    assert "Only the center&#x27;s supervisors and admins may coach" in response.content.decode()
    assert not CoachingRequest.objects.exists()
    assert not can_coach(company_admin, center)


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_the_centers_supervisors_and_admins_see_coaching_and_use_it(
    client, company, center, agent, role
):
    # given a supervisor (or center admin) of the center
    sup = AgentFactory(companies=[company])
    member(center, sup, role)
    client.force_login(sup)
    # then they see the buttons
    html = dashboard(client, center)
    assert all(label in html for label in BUTTONS)
    # and using one records the request
    response = client.post(
        f"/centers/{center.pk}/coach/", {"agent": agent.pk, "action": "barge"}, follow=True
    )
    assert "Barge in requested on Andy Agent" in response.content.decode()
    assert CoachingRequest.objects.get().requested_by == sup


def test_a_company_admin_who_supervises_the_center_may_coach(login, company_admin, center, agent):
    # given the company admin is also a supervisor of this center
    member(center, company_admin, Role.SUPERVISOR)
    client = login(company_admin)
    # then the dashboard offers coaching and the request is recorded
    assert "Take over" in dashboard(client, center)
    client.post(f"/centers/{center.pk}/coach/", {"agent": agent.pk, "action": "take_over"})
    assert CoachingRequest.objects.get().get_action_display() == "Take over"


def test_a_plain_member_sees_no_dashboard_at_all(login, company, center):
    other = AgentFactory(companies=[company])
    member(center, other)
    client = login(other)
    assert client.get(f"/centers/{center.pk}/dashboard/").status_code == 403
    response = client.post(f"/centers/{center.pk}/coach/", {"agent": other.pk, "action": "listen"})
    assert response.status_code == 403
