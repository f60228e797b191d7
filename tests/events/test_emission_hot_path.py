"""The inbound webhook's hot path does not get slower for events nobody hears: a company whose
endpoints hear other types makes exactly the statements of a company nobody listens to
(``event_emit`` answers from the company row already read; docs/performance.md)."""

import json

import pytest
from django.db import connection

from agents.services import company_set_webhook_token
from contacts.models import Interaction
from events.models import Event, EventType
from tests.factories import ContactFactory, online

pytestmark = pytest.mark.django_db

TOKEN = "sbw_test_token_events"
# Everything but what a text writes (contact.created, interaction.routed).
OTHER_TYPES = [
    t.value for t in EventType if t not in (EventType.CONTACT_CREATED, EventType.INTERACTION_ROUTED)
]


@pytest.fixture
def hook(client, company):
    company_set_webhook_token(company=company, token=TOKEN)

    def _post(phone, **headers):
        return client.post(
            "/api/inbound/",
            data=json.dumps({"channel": "text", "phone": phone, "body": "Still free?"}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {TOKEN}", **headers},
        )

    return _post


@pytest.mark.parametrize("hears", [[], OTHER_TYPES], ids=["nobody listens", "others heard"])
def test_a_known_contacts_text_takes_the_same_statements_whoever_listens(
    hook, company, agent, hears, django_assert_num_queries
):
    # given a known contact whose primary agent is available, and endpoints hearing `hears`
    company.outbound_event_types = hears
    company.save()
    ContactFactory(company=company, phone="+12025550142", primary_agent=agent)
    online(agent)
    Event.objects.all().delete()  # (the factory's own ownership change)

    # when a text comes in with an idempotency key
    # then: the company by token; the contact locked with its agent and the key's
    # interaction; the interaction (plus the savepoint pair of the test's transaction)
    with django_assert_num_queries(5):
        response = hook("+12025550142", **{"Idempotency-Key": "evt-1"})
    assert response.status_code == 201
    assert response.json()["routed_to"] == "agent@acme.test"
    assert not Event.objects.exists()


@pytest.mark.parametrize("hears", [[], OTHER_TYPES], ids=["nobody listens", "others heard"])
def test_a_new_numbers_text_takes_the_same_statements_whoever_listens(
    hook, company, hears, django_assert_num_queries
):
    # given endpoints hearing `hears` and no routing rule
    company.outbound_event_types = hears
    company.save()

    # when a text comes in from a number the company does not know
    # then: the company by token; the (missing) contact's lock; the contact with its first
    # timeline row (one statement on PostgreSQL, two on SQLite); the routing rules; the
    # interaction (plus the savepoint pair)
    with django_assert_num_queries(7 if connection.vendor == "postgresql" else 8):
        response = hook("+12025550199", **{"Idempotency-Key": "evt-2"})
    assert response.status_code == 201
    assert Interaction.objects.filter(company=company).count() == 1
    assert not Event.objects.exists()
