"""A mass change tells the agents' and the workload page, not every contact page one by one."""

import pytest

from agents import live
from contacts.ownership import contacts_assign_primary_agent_bulk
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_past_the_limit_contact_pages_are_not_told_one_by_one(
    company, agent, company_admin, live_sent, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(live, "CONTACTS_MAX", 2)
    contacts = [ContactFactory(company=company, phone=f"+1202555014{n}") for n in range(3)]
    # when three contacts get a primary agent at once (over the limit of 2)
    with django_capture_on_commit_callbacks(execute=True):
        contacts_assign_primary_agent_bulk(
            company=company, contact_ids=[c.pk for c in contacts], agent=agent, actor=company_admin
        )
    # then the agent's page and the workload page hear of it, no contact page does
    streams = {stream for _, stream in live_sent}
    assert live.stream_agent(agent.pk) in streams
    assert live.stream_workload(company.pk) in streams
    assert not any(stream.startswith("contact.") for stream in streams)
