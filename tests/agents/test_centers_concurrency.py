"""Two admins adding the same agent to their 100th and 101st center at the same moment."""

import pytest
from django.core.exceptions import ValidationError

from agents.centers.models import MAX_CENTERS_PER_AGENT, CenterMembership, ContactCenter
from agents.centers.services import center_add_member, center_add_members
from tests.contacts.test_concurrency import run_together
from tests.factories import AgentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_admins_adding_an_agent_with_99_centers_to_two_more_let_only_one_in(company):
    # given an agent in 99 centers and two more centers
    agent = AgentFactory(companies=[company])
    centers = ContactCenter.objects.bulk_create(
        ContactCenter(company=company, name=f"C{i}") for i in range(MAX_CENTERS_PER_AGENT + 1)
    )
    CenterMembership.objects.bulk_create(
        CenterMembership(center=c, agent=agent) for c in centers[: MAX_CENTERS_PER_AGENT - 1]
    )
    last_two = centers[MAX_CENTERS_PER_AGENT - 1 :]
    admins = [AgentFactory(companies=[company]) for _ in range(2)]

    # when two admins add them at once, one through the single path and one in bulk
    def add(i: int):
        if i == 0:
            return center_add_member(center=last_two[0], agent=agent, actor=admins[0])
        return center_add_members(center=last_two[1], agents=[agent], actor=admins[1])

    results = run_together(2, add)

    # then exactly one succeeds and the other is refused with the limit's message
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1, results
    assert "100 contact centers" in str(refused[0])
    assert CenterMembership.objects.filter(agent=agent).count() == MAX_CENTERS_PER_AGENT
