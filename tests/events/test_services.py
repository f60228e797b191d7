"""Endpoint services keep ``Company.outbound_event_types`` the union of the enabled
endpoints' types, in the same transaction: a type nobody hears writes no event."""

import pytest
from django.core.exceptions import ValidationError

from events.emit import event_emit
from events.models import Event, EventType
from events.services import (
    endpoint_create,
    endpoint_delete,
    endpoint_disable,
    endpoint_enable,
    endpoint_update,
)

pytestmark = pytest.mark.django_db

CREATED, ASSIGNED, OWNER = (
    EventType.CONTACT_CREATED,
    EventType.LEAD_ASSIGNED,
    EventType.CONTACT_OWNER_CHANGED,
)


def _heard(company):
    company.refresh_from_db()
    return company.outbound_event_types


def test_the_company_hears_the_union_of_its_enabled_endpoints_types(company, receiver):
    # given two endpoints
    url = receiver().url
    a, _ = endpoint_create(company=company, url=url, event_types=[CREATED, OWNER])
    b, _ = endpoint_create(company=company, url=url, event_types=[ASSIGNED, OWNER])
    assert _heard(company) == ["contact.owner_changed", "contact.created", "lead.assigned"]

    # when one changes its types, one is disabled, enabled, deleted
    endpoint_update(endpoint=a, url=url, event_types=[CREATED])
    assert _heard(company) == ["contact.owner_changed", "contact.created", "lead.assigned"]
    endpoint_disable(endpoint=b)
    assert _heard(company) == ["contact.created"]
    endpoint_enable(endpoint=b)
    assert _heard(company) == ["contact.owner_changed", "contact.created", "lead.assigned"]
    endpoint_delete(endpoint=b)

    # then only what an enabled endpoint hears is written
    assert _heard(company) == ["contact.created"]
    company.refresh_from_db()
    assert event_emit(company=company, type=ASSIGNED, data={}) is None
    assert event_emit(company=company, type=CREATED, data={}) is not None
    assert Event.objects.count() == 1


def test_an_endpoint_created_disabled_hears_nothing_yet(company, receiver):
    endpoint_create(company=company, url=receiver().url, event_types=[CREATED], enabled=False)
    assert _heard(company) == []


def test_the_services_refuse_unknown_types_and_a_missing_url_by_field(company):
    with pytest.raises(ValidationError) as refused:
        endpoint_create(company=company, url="", event_types=["contact.exploded"])
    assert refused.value.message_dict == {
        "url": ["Enter the URL to send events to."],
        "event_types": ["Unknown event types: contact.exploded."],
    }


def test_each_endpoint_gets_its_own_secret(company, receiver):
    url = receiver().url
    a, secret_a = endpoint_create(company=company, url=url, event_types=[CREATED])
    b, secret_b = endpoint_create(company=company, url=url, event_types=[CREATED])
    assert secret_a != secret_b and a.secret == secret_a and secret_b.startswith("whsec_")
