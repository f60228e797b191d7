"""A contact center's dashboard (desk/workload.py): its members with their load."""

import pytest

from agents.centers.models import CenterMembership
from agents.models import Agent
from tests.agents.factories_centers import ContactCenterFactory
from tests.agents.test_centers_pages import member
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db
Role = CenterMembership.Role


@pytest.fixture
def center(company):
    return ContactCenterFactory(company=company, name="Support")


def test_dashboard_queries_stay_constant_with_500_members(
    client, center, company, django_assert_num_queries
):
    # given a supervisor and 500 members
    sup = AgentFactory(companies=[company])
    member(center, sup, Role.SUPERVISOR)
    people = Agent.objects.bulk_create(
        Agent(email=f"m{i}@acme.test", full_name=f"Member {i:03}") for i in range(500)
    )
    company.agents.add(*people)
    CenterMembership.objects.bulk_create(CenterMembership(center=center, agent=p) for p in people)
    online(people[0])
    client.force_login(sup)
    # session, user, current company, last-seen update (middleware: 4); center (1); the
    # user's rights in it, user + group object permissions, read once (2); members with
    # presence (1); their absences now (1, availability); workload rows (1); queue (1);
    # recent calls with their rings (1); members on a live call (1); alert states (1); the
    # company picker in the top bar (1)
    with django_assert_num_queries(15) as captured:
        response = client.get(f"/centers/{center.pk}/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Member 499" in html and "2 / 501" in html  # people[0] and the supervisor
    assert len(captured.captured_queries) == 15
