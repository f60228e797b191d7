"""A missed deadline's move tells the live pages: every Lead Center's Active, the owner's own
Lead Center, the workload page and the contact's page (after the sweep's commit)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents import live
from contacts.models import Interaction
from routing.deadlines import deadlines_sweep
from tests.factories import ContactFactory, online

pytestmark = pytest.mark.django_db


def test_a_missed_text_tells_active_and_its_owner(
    company, agent, live_sent, django_capture_on_commit_callbacks
):
    # given a text in its owner's Mine whose deadline has passed
    online(agent)
    contact = ContactFactory(company=company, phone="+12025550142", primary_agent=agent)
    item = Interaction.objects.create(
        company=company,
        contact=contact,
        channel="text",
        routed_to=agent,
        response_due_at=timezone.now() - timedelta(minutes=1),
    )
    # when the sweep moves it
    with django_capture_on_commit_callbacks(execute=True):
        deadlines_sweep()
    item.refresh_from_db()
    assert item.pool == Interaction.Pool.ACTIVE
    # then Active, the owner's page, the workload and the contact's page are told
    for stream in (
        live.stream_active(company.pk),
        live.stream_agent(agent.pk),
        live.stream_workload(company.pk),
        live.stream_contact(contact.pk),
    ):
        assert (company.pk, stream) in live_sent
