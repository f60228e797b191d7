import json

import pytest
from django.utils import timezone

from agents.models import AccessLevel, Presence
from agents.services import company_set_webhook_token
from contacts.models import Contact, Interaction
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.inbound import inbound_receive
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db

TOKEN = "sbw_test_token_acme"
OTHER_TOKEN = "sbw_test_token_globex"


@pytest.fixture
def hook(client, company):
    company_set_webhook_token(company=company, token=TOKEN)

    def _post(payload, token=TOKEN, raw=None, **headers):
        return client.post(
            "/api/inbound/",
            data=raw if raw is not None else json.dumps(payload),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}", **headers},
        )

    return _post


@pytest.fixture
def known(company, agent):
    contact = ContactFactory(company=company, name="Olivia", phone="+12025550142")
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    return contact


def test_text_goes_to_the_available_primary_agent(hook, known, agent):
    online(agent)
    response = hook({"channel": "text", "phone": "(202) 555-0142", "body": "Still free?"})
    assert response.status_code == 201
    answer = response.json()
    interaction = Interaction.objects.get()
    assert answer == {
        "interaction": interaction.pk,
        "contact": known.pk,
        "routed_to": "agent@acme.test",
        "pool": None,
        "reason": "Sent to Andy Agent, the contact's primary agent, who is available.",
    }
    assert interaction.body == "Still free?"


@pytest.mark.parametrize("presence", [Presence.AWAY, Presence.OFFLINE])
def test_text_goes_to_active_when_the_primary_agent_is_away_or_offline(
    hook, known, agent, presence
):
    online(agent, presence=presence)
    answer = hook({"channel": "form", "phone": "+12025550142"}).json()
    assert answer["routed_to"] is None
    assert answer["pool"] == "active"
    assert f"is {presence}" in answer["reason"]


def test_primary_agent_not_seen_for_a_while_counts_as_offline(hook, known, agent, settings):
    online(agent)
    settings.PRESENCE_OFFLINE_AFTER_MINUTES = 15
    agent.last_seen_at = timezone.now() - timezone.timedelta(minutes=16)
    agent.save()
    assert hook({"channel": "text", "phone": "+12025550142"}).json()["pool"] == "active"


@pytest.mark.parametrize("channel", ["call", "chat"])
def test_calls_and_chats_never_go_to_the_primary_agent(hook, known, agent, channel):
    online(agent)
    answer = hook({"channel": channel, "phone": "+12025550142"}).json()
    assert answer["routed_to"] is None
    assert answer["pool"] == "active"
    assert "never go to the primary agent" in answer["reason"]


def test_unknown_number_creates_the_contact_with_its_source(hook, company):
    response = hook(
        {
            "channel": "form",
            "phone": "+1 202 555 0177",
            "name": "Nora New",
            "email": "nora@x.com",
            "source": "website form",
        }
    )
    assert response.status_code == 201
    contact = Contact.objects.get(phone="+12025550177")
    assert (contact.company, contact.name, contact.source) == (company, "Nora New", "website form")
    assert contact.timeline.get().message == "Contact created from website form."
    assert response.json()["reason"].startswith("The contact has no primary agent")


def test_known_contact_gets_blank_fields_filled_but_not_overwritten(hook, company):
    contact = ContactFactory(company=company, name="Olivia", email="", phone="+12025550142")
    hook({"channel": "text", "phone": "+12025550142", "name": "Someone Else", "email": "o@x.com"})
    contact.refresh_from_db()
    assert (contact.name, contact.email) == ("Olivia", "o@x.com")


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"channel": "fax", "phone": "+12025550142"}, "channel", "Unknown channel “fax”"),
        ({"phone": "+12025550142"}, "channel", "Say which channel"),
        ({"channel": "text", "phone": "not a phone"}, "phone", "not a phone number we can read"),
        ({"channel": "text"}, "phone", "A phone number is required."),
        ({"channel": "text", "phone": "+12025550142", "body": "x" * 5001}, "body", "too long"),
        ({"channel": "text", "phone": "+12025550142", "email": "nope"}, "email", "valid email"),
        ({"channel": "text", "phone": ["+1"]}, "phone", "Must be a string."),
        (
            {"channel": "text", "phone": "+12025550142", "colour": "red"},
            "__all__",
            "Unknown fields: colour",
        ),
    ],
)
def test_bad_input_is_a_400_with_field_errors_and_writes_nothing(hook, payload, field, message):
    response = hook(payload)
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])
    assert not Interaction.objects.exists()
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("raw", "message"),
    [("{not json", "not valid JSON"), ("[1, 2]", "must be a JSON object"), ("", "not valid JSON")],
)
def test_a_body_that_is_not_a_json_object_is_a_400(hook, raw, message):
    response = hook(None, raw=raw)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_an_oversized_request_is_refused(hook, settings):
    response = hook(
        None, raw=json.dumps({"channel": "text", "phone": "+12025550142", "body": "x" * 70_000})
    )
    assert response.status_code == 413
    assert not Interaction.objects.exists()


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer "])
def test_missing_or_wrong_token_is_a_401(client, company, header):
    company_set_webhook_token(company=company, token=TOKEN)
    headers = {"Authorization": header} if header else {}
    response = client.post(
        "/api/inbound/",
        data=json.dumps({"channel": "text", "phone": "+12025550142"}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Interaction.objects.exists()


def test_a_company_without_a_token_refuses_every_call(client, company):
    response = client.post(
        "/api/inbound/",
        data="{}",
        content_type="application/json",
        headers={"Authorization": "Bearer "},
    )
    assert response.status_code == 401


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed_and_the_refusal_is_json(client, method):
    response = getattr(client, method)("/api/inbound/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"] == f"Send events with POST, not {method.upper()}."


def test_null_is_a_field_not_given(hook):
    # an optional field sent as null is recorded as empty
    sent = hook({"channel": "text", "phone": "+12025550142", "body": None, "name": None})
    assert sent.status_code == 201
    interaction = Interaction.objects.select_related("contact").get()
    assert interaction.body == "" and interaction.contact.name == ""
    # a misspelt field is unknown, null or not
    typo = hook({"channel": "text", "phone": "+12025550142", "contact_centre": None})
    assert typo.status_code == 400
    assert typo.json()["errors"]["__all__"] == ["Unknown fields: contact_centre."]
    # and a required one says it is required
    missing = hook({"channel": "text", "phone": None})
    assert missing.status_code == 400
    assert missing.json()["errors"]["phone"] == ["A phone number is required."]


def test_the_token_decides_the_company(hook, company, other_company):
    # given the same number known in both companies
    mine = ContactFactory(company=company, phone="+12025550142")
    theirs = ContactFactory(company=other_company, phone="+12025550142")
    company_set_webhook_token(company=other_company, token=OTHER_TOKEN)
    # when each company's token is used
    a = hook({"channel": "text", "phone": "+12025550142"}).json()
    b = hook({"channel": "text", "phone": "+12025550142"}, token=OTHER_TOKEN).json()
    # then each lands on its own company's contact
    assert (a["contact"], b["contact"]) == (mine.pk, theirs.pk)


def test_a_retry_with_the_same_idempotency_key_creates_nothing_new(hook):
    payload = {"channel": "text", "phone": "+12025550142", "body": "hi"}
    first = hook(payload, **{"Idempotency-Key": "evt-1"})
    again = hook(payload, **{"Idempotency-Key": "evt-1"})
    other = hook(payload, **{"Idempotency-Key": "evt-2"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.json()["interaction"] != first.json()["interaction"]
    assert Interaction.objects.count() == 2
    assert Contact.objects.count() == 1


def test_idempotency_keys_are_per_company(hook, company, other_company):
    company_set_webhook_token(company=other_company, token=OTHER_TOKEN)
    payload = {"channel": "text", "phone": "+12025550142"}
    a = hook(payload, **{"Idempotency-Key": "same"}).json()
    b = hook(payload, token=OTHER_TOKEN, **{"Idempotency-Key": "same"}).json()
    assert a["interaction"] != b["interaction"]


def test_rotating_the_token_in_the_admin_shows_it_once_and_retires_the_old_one(
    login, company_admin, company, hook
):
    client = login(company_admin)
    page = client.get(f"/admin/agents/company/{company.pk}/change/").content.decode()
    assert "Token ending in <code>…acme</code>" in page
    response = client.post(f"/admin/agents/company/{company.pk}/rotate-token/")
    body = response.content.decode()
    assert "shown only this once" in body
    new_token = body.split('id="new-token"')[1].split(">", 1)[1].split("<", 1)[0]
    assert new_token.startswith("sbw_")
    assert hook({"channel": "text", "phone": "+12025550142"}).status_code == 401
    assert hook({"channel": "text", "phone": "+12025550142"}, token=new_token).status_code == 201


def test_an_admin_cannot_rotate_another_companys_token(login, company_admin, other_company):
    response = login(company_admin).post(f"/admin/agents/company/{other_company.pk}/rotate-token/")
    assert response.status_code == 403
    other_company.refresh_from_db()
    assert not other_company.webhook_token_hash


def test_other_agents_of_the_company_are_not_routed_to(hook, known, agent, company):
    online(agent)
    online(AgentFactory(companies=[company]))
    assert hook({"channel": "text", "phone": "+12025550142"}).json()["routed_to"] == agent.email


def test_an_idempotency_key_reused_for_a_different_request_is_refused_with_422(hook):
    # given an event accepted with key evt-9
    first = hook(
        {"channel": "text", "phone": "+12025550142", "body": "hi"}, **{"Idempotency-Key": "evt-9"}
    )
    assert first.status_code == 201

    # when the same key comes with another body, and the first again with the phone respelled
    other = hook(
        {"channel": "text", "phone": "+12025550142", "body": "bye"}, **{"Idempotency-Key": "evt-9"}
    )
    same = hook(
        {"channel": "text", "phone": "(202) 555-0142", "body": "hi"}, **{"Idempotency-Key": "evt-9"}
    )

    # then the different request is refused and says why; the true retry replays
    assert other.status_code == 422
    assert "already used for a different request" in other.json()["error"]
    assert same.status_code == 200
    assert same.json()["interaction"] == first.json()["interaction"]
    assert Interaction.objects.filter(idempotency_key="evt-9").count() == 1


def test_a_primary_agent_who_no_longer_works_here_gets_no_texts(company, agent):
    contact = contact_create(company=company, actor=None, phone="+12025550142")
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    agent.presence, agent.last_seen_at = "available", timezone.now()
    agent.access_level = AccessLevel.LEADS_AGENT
    agent.save()
    interaction, _ = inbound_receive(company=company, channel="text", phone="+12025550142")
    assert interaction.routed_to is None and interaction.pool == "active"
    assert "no longer works contacts of this company" in interaction.route_reason


def test_deeply_nested_json_is_a_400(client, company):
    company_set_webhook_token(company=company, token="sbw_x")
    response = client.post(
        "/api/inbound/",
        data="[" * 20000 + "]" * 20000,
        content_type="application/json",
        headers={"Authorization": "Bearer sbw_x"},
    )
    assert response.status_code == 400
