"""A change of presence tells the pages that show it: each company's workload page and the
dashboards of the agent's centers (nothing when it did not change)."""

import pytest

from agents import live
from agents.centers.models import CenterMembership
from agents.choices import Presence
from agents.services import agent_set_presence
from tests.agents.factories_centers import ContactCenterFactory
from tests.factories import online

pytestmark = pytest.mark.django_db


def test_a_change_of_presence_tells_the_workload_page_and_the_centers(
    company, agent, live_sent, django_capture_on_commit_callbacks
):
    online(agent)
    center = ContactCenterFactory(company=company)
    CenterMembership.objects.create(center=center, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        agent_set_presence(agent=agent, presence=Presence.AWAY)
    assert (company.pk, live.stream_workload(company.pk)) in live_sent
    assert (company.pk, live.stream_center(center.pk)) in live_sent
    # and the same presence again tells nobody
    live_sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        agent_set_presence(agent=agent, presence=Presence.AWAY)
    assert live_sent == []
