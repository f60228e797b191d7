"""The inbound webhook tells the live pages (``agents.live``) after its commit: the Lead
Center of whoever got the item, every Lead Center's Active, a center's dashboard, the
contact's page and the workload page — and nothing for a request that stored nothing."""

import json

import pytest

from agents import live
from agents.models import Presence
from agents.services import company_set_webhook_token
from contacts.models import Interaction
from tests.factories import ContactFactory, online

pytestmark = pytest.mark.django_db

TOKEN = "sbw_test_token_live"


@pytest.fixture
def hook(client, company):
    company_set_webhook_token(company=company, token=TOKEN)

    def _post(payload):
        return client.post(
            "/api/inbound/",
            data=json.dumps(payload),
            content_type="application/json",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

    return _post


def test_a_text_to_its_owner_tells_their_lead_center_after_the_commit(
    hook, company, agent, live_sent, django_capture_on_commit_callbacks
):
    # given a contact whose owner is at their desk
    online(agent)
    contact = ContactFactory(company=company, phone="+12025550142", primary_agent=agent)
    # when a text comes in
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = hook({"channel": "text", "phone": "+12025550142", "body": "Hi"})
        assert response.status_code == 201
        # then nothing is sent before the commit
        assert live_sent == []
    for callback in callbacks:
        callback()
    # and, after it, one message for the owner's Lead Center, the contact and the workload
    assert sorted(live_sent) == sorted(
        [
            (company.pk, live.stream_agent(agent.pk)),
            (company.pk, live.stream_contact(contact.pk)),
            (company.pk, live.stream_workload(company.pk)),
        ]
    )


def test_a_text_to_active_tells_every_lead_center_of_the_company(
    hook, company, agent, live_sent, django_capture_on_commit_callbacks
):
    # given an owner who is away
    online(agent, presence=Presence.AWAY)
    contact = ContactFactory(company=company, phone="+12025550142", primary_agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        assert hook({"channel": "text", "phone": "+12025550142"}).status_code == 201
    assert Interaction.objects.get().pool == Interaction.Pool.ACTIVE
    # then the company's Active pool is told, not the owner's own inbox
    assert (company.pk, live.stream_active(company.pk)) in live_sent
    assert (company.pk, live.stream_agent(agent.pk)) not in live_sent
    assert (company.pk, live.stream_contact(contact.pk)) in live_sent


def test_a_refused_request_tells_nobody(
    hook, company, live_sent, django_capture_on_commit_callbacks
):
    # given a call for a center the company does not have (the caller's mistake: 400)
    with django_capture_on_commit_callbacks(execute=True):
        response = hook({"channel": "call", "phone": "+12025550142", "contact_center": "Nope"})
    assert response.status_code == 400
    # then nothing was stored and no page is told anything
    assert not Interaction.objects.exists()
    assert live_sent == []
