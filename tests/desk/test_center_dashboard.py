"""A contact center's dashboard (desk/workload.py): its members with their load."""

import pytest
from django.utils import timezone

from agents.centers.models import CenterMembership
from agents.models import Agent
from contacts.models import Interaction
from contacts.ownership import contacts_recount_primary_load
from tests.agents.factories_centers import ContactCenterFactory
from tests.agents.test_centers_pages import member
from tests.factories import AgentFactory, ContactFactory, online

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


def test_each_member_shows_the_workload_pages_numbers_and_a_leads_agent_dashes(
    client, center, company, other_company
):
    # given Ann, owner of 2 contacts, with 1 open item routed to her and 2 she took today
    # (one still open), an open item of hers in another company, and Lee, a Leads Agent
    sup = AgentFactory(companies=[company], full_name="Sue Supervisor")
    member(center, sup, Role.SUPERVISOR)
    ann = AgentFactory(companies=[company, other_company], full_name="Ann Agent")
    lee = AgentFactory(companies=[company], full_name="Lee Leads", access_level="leads_agent")
    member(center, ann)
    member(center, lee)
    mine = [ContactFactory(company=company, primary_agent=ann) for _ in range(2)]
    contacts_recount_primary_load(company=company)
    now = timezone.now()
    for values in (
        {"routed_to": ann},
        {"taken_by": ann, "taken_at": now},
        {"taken_by": ann, "taken_at": now, "status": Interaction.Status.HANDLED},
    ):
        Interaction.objects.create(company=company, contact=mine[0], channel="text", **values)
    elsewhere = ContactFactory(company=other_company)
    Interaction.objects.create(
        company=other_company, contact=elsewhere, channel="text", routed_to=ann
    )
    # when the supervisor opens the dashboard
    client.force_login(sup)
    html = client.get(f"/centers/{center.pk}/dashboard/").content.decode()

    # then Ann's row says 2 primary contacts, 1 open item (this company's), 2 taken today
    def cells(email: str) -> list[str]:
        row = html[html.index(f'<tr data-agent="{email}">') :]
        row = row[: row.index("</tr>")]
        return [cell.split("</td>")[0] for cell in row.split('<td class="num">')[1:]]

    assert cells(ann.email) == ["2", "1", "2"]
    assert cells(lee.email) == ["—", "—", "—"]  # may own no contacts: no load
    assert cells(sup.email) == ["0", "0", "0"]
