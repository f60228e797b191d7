"""Rotate secret without a gap: for WEBHOOK_SECRET_GRACE_SECONDS after a rotation each
request carries two signatures (the new secret's and the replaced one's, as Standard
Webhooks allow), so a receiver verifying with either accepts it; then only the new one signs."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from events.delivery import sweep
from events.emit import event_emit
from events.models import Endpoint, EventType
from events.services import endpoint_rotate_secret

pytestmark = pytest.mark.django_db


def _send_one(company, contact_id: int) -> None:
    with transaction.atomic():
        event_emit(company=company, type=EventType.CONTACT_CREATED, data={}, contact_id=contact_id)
    sweep()


def _raw(request) -> str:
    return json.dumps(request.body, separators=(",", ":"), ensure_ascii=False)


def test_after_a_rotation_a_request_verifies_with_the_old_secret_and_the_new(
    company, listening_endpoint
):
    # given an endpoint whose receiver still verifies with the secret it was given
    endpoint, got = listening_endpoint(types=[EventType.CONTACT_CREATED])
    old = got.secret

    # when the secret is rotated and an event is sent
    new = endpoint_rotate_secret(endpoint=endpoint)
    _send_one(company, 1)

    # then the receiver (still on the old secret) accepted it, and the new secret verifies it
    (request,) = got.accepted
    assert got.bad_signatures == 0
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(_raw(request), request.headers)
    Webhook(new).verify(_raw(request), request.headers)


def test_once_the_grace_period_is_over_only_the_new_secret_signs(company, listening_endpoint):
    # given a rotation whose grace period has passed
    endpoint, got = listening_endpoint(types=[EventType.CONTACT_CREATED])
    old = got.secret
    new = endpoint_rotate_secret(endpoint=endpoint)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    got.secret = new

    # when an event is sent
    _send_one(company, 2)

    # then it carries one signature, the new secret's; the old one no longer verifies it
    (request,) = got.accepted
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(_raw(request), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(_raw(request), request.headers)


def test_the_grace_period_comes_from_its_setting(company, listening_endpoint, settings):
    # given a grace period of two hours
    settings.WEBHOOK_SECRET_GRACE_SECONDS = 7200
    endpoint, got = listening_endpoint(types=[EventType.CONTACT_CREATED])
    old = got.secret

    # when the secret is rotated
    before = timezone.now()
    endpoint_rotate_secret(endpoint=endpoint)

    # then the old secret signs for two hours from then
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == old
    left = (endpoint.previous_secret_until - before).total_seconds()
    assert 7199 < left < 7201


def test_without_a_grace_period_the_old_secret_stops_signing_at_once(
    company, listening_endpoint, settings
):
    # given no grace period
    settings.WEBHOOK_SECRET_GRACE_SECONDS = 0
    endpoint, got = listening_endpoint(types=[EventType.CONTACT_CREATED])
    old = got.secret

    # when the secret is rotated and an event sent
    new = endpoint_rotate_secret(endpoint=endpoint)
    _send_one(company, 3)

    # then a receiver on the old secret refuses it; on the new one it verifies
    (request,) = got.received
    assert request.status == 401 and got.bad_signatures == 1
    Webhook(new).verify(_raw(request), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(_raw(request), request.headers)


def test_a_second_rotation_keeps_only_the_secret_it_replaced(company, listening_endpoint):
    # given two rotations in a row
    endpoint, got = listening_endpoint(types=[EventType.CONTACT_CREATED])
    first = got.secret
    second = endpoint_rotate_secret(endpoint=endpoint)
    third = endpoint_rotate_secret(endpoint=endpoint)
    got.secret = second

    # when an event is sent
    _send_one(company, 4)

    # then it verifies with the newest and the one it replaced, not the first
    (request,) = got.accepted
    Webhook(third).verify(_raw(request), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(first).verify(_raw(request), request.headers)
