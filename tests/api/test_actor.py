"""The API key as the actor of the changes it makes: the timeline says “by API key “name””,
the event names the key, the assignment email goes once, and the key never outlives its
request."""

import pytest
from django.core import mail

from agents.actors import current_key
from api.models import ApiKey
from contacts.models import AssignmentEmail, TimelineEntry
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_update
from contacts.tasks import send_assignment_email
from events.models import Event
from tests.api.conftest import client_for
from tests.factories import AgentFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ava(company):
    return AgentFactory(companies=[company], full_name="Ava Patel", email="ava@acme.test")


def test_a_primary_agent_set_through_the_api_names_the_key_on_the_timeline_and_the_event(
    company, ava
):
    # given an endpoint of the company hears owner changes
    company.outbound_event_types = ["contact.owner_changed"]
    company.save(update_fields=["outbound_event_types"])
    api = client_for(company, name="CRM sync")
    key = ApiKey.objects.get(key_hash=ApiKey.hash(api.raw_key))
    contact = ContactFactory(company=company)
    # when
    response = api.put(
        f"/api/v1/contacts/{contact.pk}/primary-agent/", {"agent": ava.pk}, format="json"
    )
    # then
    assert response.status_code == 200
    row = TimelineEntry.objects.get(contact=contact, kind="primary_assigned")
    assert row.message == "Primary agent set to Ava Patel by API key “CRM sync”."
    assert row.actor is None  # no person made it
    event = Event.objects.get(type="contact.owner_changed", contact_id=contact.pk)
    assert event.data["actor"] == {
        "type": "api_key",
        "id": key.pk,
        "name": "CRM sync",
        "prefix": key.prefix,
    }
    assert event.data["method"] == "api"
    assert event.version == 1


def test_a_bulk_change_names_the_key_on_every_row_and_emails_once_even_if_sent_again(
    company, ava, django_capture_on_commit_callbacks
):
    # given
    api = client_for(company, name="Territory sync")
    contacts = [ContactFactory(company=company) for _ in range(3)]
    items = [{"contact": c.pk, "agent": ava.pk} for c in contacts]
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/contacts/primary-agent/bulk/", {"items": items}, "json")
    # and the email's task runs a second time (a redelivered message)
    email = AssignmentEmail.objects.get(agent=ava)
    send_assignment_email.delay(email.pk)
    # then
    assert response.status_code == 200
    messages = [
        r.message for r in TimelineEntry.objects.filter(kind="primary_assigned").order_by("pk")
    ]
    assert messages == ["Primary agent set to Ava Patel by API key “Territory sync”."] * 3
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ava@acme.test"]
    assert mail.outbox[0].subject == "3 contacts assigned to you"
    # and the email names the key as the timeline does, not "Switchboard"
    assert "API key “Territory sync” made you the primary agent of 3 contacts" in (
        mail.outbox[0].body
    )


def test_each_key_is_named_for_its_own_change(company, ava):
    # given
    first, second = client_for(company, name="CRM"), client_for(company, name="Billing")
    contact = ContactFactory(company=company)
    # when
    first.patch(f"/api/v1/contacts/{contact.pk}/", {"name": "A"}, format="json")
    second.patch(f"/api/v1/contacts/{contact.pk}/", {"name": "B"}, format="json")
    # then
    rows = TimelineEntry.objects.filter(contact=contact, kind="contact_updated").order_by("pk")
    assert [r.message for r in rows] == [
        "Name changed by API key “CRM”.",
        "Name changed by API key “Billing”.",
    ]


@pytest.mark.parametrize("outcome", ["success", "refused", "not found"])
def test_the_key_is_forgotten_after_its_request(api, company, ava, outcome):
    # given
    contact = ContactFactory(company=company)
    url = f"/api/v1/contacts/{contact.pk if outcome != 'not found' else 987654}/"
    body = {"phone": "12"} if outcome == "refused" else {"name": "A"}
    api.patch(url, body, format="json")
    # when the same thread changes the contact without the API
    assert current_key() is None
    contact_update(contact=contact, actor=None, name="Later")
    contact_assign_primary_agent(contact=contact, agent=ava, actor=None)
    # then the rows name no key
    latest = TimelineEntry.objects.filter(contact=contact).order_by("-pk")[:2]
    assert [r.message for r in latest] == [
        "Primary agent set to Ava Patel by Switchboard.",
        "Name changed.",
    ]
