"""``POST /api/v1/interactions/inbound/``: the inbound webhook's contract with an API key."""

import json

import pytest

from agents.services import company_set_webhook_token
from api.models import Scope
from contacts.models import Contact, Interaction
from tests.api.conftest import client_for
from tests.factories import ContactFactory, online

pytestmark = pytest.mark.django_db

URL = "/api/v1/interactions/inbound/"
TOKEN = "sbw_test_token_acme"


@pytest.fixture
def webhook(client, company):
    """POST to the webhook itself (``/api/inbound/``) with the company's token."""
    company_set_webhook_token(company=company, token=TOKEN)

    def _post(payload, **headers):
        return client.post(
            "/api/inbound/",
            data=json.dumps(payload),
            content_type="application/json",
            headers={"Authorization": f"Bearer {TOKEN}", **headers},
        )

    return _post


def test_a_text_is_recorded_and_routed_with_the_webhooks_answer(api, company, agent):
    # given Olivia's primary agent is available
    contact = ContactFactory(company=company, phone="+12025550142", primary_agent=agent)
    online(agent)
    # when
    response = api.post(
        URL, {"channel": "text", "phone": "(202) 555-0142", "body": "Still free?"}, "json"
    )
    # then
    assert response.status_code == 201
    interaction = Interaction.objects.get()
    assert response.json() == {
        "interaction": interaction.pk,
        "contact": contact.pk,
        "routed_to": "agent@acme.test",
        "pool": None,
        "reason": "Sent to Andy Agent, the contact's primary agent, who is available.",
    }
    assert interaction.body == "Still free?"


def test_an_unknown_number_creates_the_contact_by_the_webhooks_rules(api, company):
    # when
    response = api.post(URL, {"channel": "form", "phone": "+12025550199", "name": "Zoe"}, "json")
    # then
    assert response.status_code == 201
    contact = Contact.objects.get(pk=response.json()["contact"], company=company)
    assert contact.name == "Zoe" and contact.source == "inbound form"
    assert response.json()["pool"] == "active"


def test_a_null_optional_field_is_a_field_not_given_as_on_the_webhook(api, company):
    payload = {"channel": "form", "phone": "+12025550199", "name": None, "source": None}
    response = api.post(URL, payload, format="json")
    assert response.status_code == 201
    contact = Contact.objects.get(pk=response.json()["contact"], company=company)
    assert contact.name == "" and contact.source == "inbound form"


@pytest.mark.parametrize(
    "payload",
    [
        {"channel": "fax", "phone": "+12025550142"},
        {"phone": "+12025550142"},
        {"channel": "text", "phone": "not a phone"},
        {"channel": "text"},
        {"channel": "text", "phone": "+12025550142", "body": "x" * 5001},
        {"channel": "text", "phone": "+12025550142", "email": "nope"},
        {"channel": "text", "phone": ["+1"]},
        {"channel": "text", "phone": "+12025550142", "colour": "red"},
        {"channel": "text", "phone": "+12025550142", "contact_center": "Nowhere"},
        {"channel": "text", "phone": None},
        {"channel": None, "phone": "+12025550142"},
        {"channel": "text", "phone": "+12025550142", "contact_centre": None},
    ],
)
def test_bad_input_gets_the_webhooks_messages_by_field_and_writes_nothing(api, webhook, payload):
    # when
    ours = api.post(URL, payload, format="json")
    theirs = webhook(payload)
    # then: the same messages, as a problem (``__all__`` is ``non_field_errors`` here)
    assert ours.status_code == theirs.status_code == 400
    assert ours["Content-Type"] == "application/problem+json"
    expected = {
        ("non_field_errors" if field == "__all__" else field): messages
        for field, messages in theirs.json()["errors"].items()
    }
    assert ours.json()["errors"] == expected
    assert not Interaction.objects.exists()
    assert not Contact.objects.exists()


def test_a_body_that_is_no_object_or_too_large_is_refused(api, settings):
    # when
    listed = api.post(URL, [1, 2], format="json")
    broken = api.post(URL, "{not json", content_type="application/json")
    settings.WEBHOOK_MAX_REQUEST_BYTES = 1000
    large = api.post(URL, {"channel": "text", "phone": "+12025550142", "body": "x" * 2000}, "json")
    # then
    assert listed.status_code == broken.status_code == 400
    assert listed.json()["detail"] == "The body must be a JSON object."
    assert large.status_code == 413
    assert "at most 1000 bytes" in large.json()["detail"]
    assert not Interaction.objects.exists()


def test_the_same_key_and_payload_replay_and_create_nothing(api):
    # given
    payload = {"channel": "text", "phone": "+12025550142", "body": "hi"}
    first = api.post(URL, payload, format="json", headers={"Idempotency-Key": "evt-1"})
    # when
    again = api.post(URL, payload, format="json", headers={"Idempotency-Key": "evt-1"})
    # then
    assert first.status_code == 201
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Interaction.objects.count() == 1


def test_the_same_key_with_another_payload_is_422(api):
    # given
    api.post(URL, {"channel": "text", "phone": "+12025550142"}, "json", HTTP_IDEMPOTENCY_KEY="k")
    # when
    response = api.post(
        URL, {"channel": "text", "phone": "+12025550143"}, "json", HTTP_IDEMPOTENCY_KEY="k"
    )
    # then
    assert response.status_code == 422
    assert response.json()["type"] == "urn:switchboard:problem:idempotency-key-reused"
    assert "already used for a different request" in response.json()["detail"]
    assert Interaction.objects.count() == 1


def test_a_key_sent_to_the_webhook_replays_through_the_api(api, webhook):
    # given
    payload = {"channel": "text", "phone": "+12025550142", "body": "hi"}
    first = webhook(payload, **{"Idempotency-Key": "evt-9"})
    # when
    again = api.post(URL, payload, format="json", headers={"Idempotency-Key": "evt-9"})
    # then
    assert first.status_code == 201
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Interaction.objects.count() == 1


def test_a_bad_key_is_a_400_with_the_webhooks_message(api):
    response = api.post(
        URL, {"channel": "text", "phone": "+12025550142"}, "json", HTTP_IDEMPOTENCY_KEY="k" * 256
    )
    assert response.status_code == 400
    assert response.json()["errors"]["Idempotency-Key"] == ["At most 255 characters."]


def test_the_key_decides_the_company_and_needs_write(company, other_company):
    # given
    ContactFactory(company=company, phone="+12025550142")
    theirs = client_for(other_company)
    reader = client_for(company, scopes=[Scope.READ, Scope.ROUTING])
    # when
    created = theirs.post(URL, {"channel": "text", "phone": "+12025550142"}, format="json")
    refused = reader.post(URL, {"channel": "text", "phone": "+12025550142"}, format="json")
    # then: a contact of its own company, none of the other's touched
    assert created.status_code == 201
    assert Contact.objects.get(pk=created.json()["contact"]).company == other_company
    assert refused.status_code == 403
    assert Interaction.objects.filter(contact__company=company).count() == 0


def test_a_lone_surrogate_is_a_400_not_a_500(api):
    # when
    response = api.post(
        URL,
        '{"channel": "text", "phone": "+12025550142", "body": "\\ud800"}',
        content_type="application/json",
    )
    # then
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["errors"]["body"][0]
    assert not Interaction.objects.exists()
