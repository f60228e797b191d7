"""Delivering events to endpoints: signed, in order, batched, retried, given up, disabled
after a day (the admins emailed once), surviving a worker that died mid-run."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from events.delivery import BATCH, Lease, backoff, send_endpoint, sweep
from events.emit import event_emit, event_emit_many
from events.models import Delivery, Endpoint, EndpointDisabledEmail, Event, EventType
from events.services import endpoint_enable
from tests.events.conftest import no_wait

pytestmark = pytest.mark.django_db

CREATED = EventType.CONTACT_CREATED
OWNER_CHANGED = EventType.CONTACT_OWNER_CHANGED


def _emit(company, capture, n=1, *, start=1):
    """``n`` contact.created events, committed (their after-commit work run)."""
    with capture(execute=True), transaction.atomic():
        for k in range(start, start + n):
            event_emit(
                company=company, type=CREATED, data={"contact": {"id": k}}, contact_id=k, version=1
            )


def test_an_event_is_posted_once_signed_as_standard_webhooks_say(
    company, listening_endpoint, django_capture_on_commit_callbacks
):
    # given an endpoint hearing every event
    endpoint, receiver = listening_endpoint()

    # when a change commits an event
    _emit(company, django_capture_on_commit_callbacks)

    # then the receiver got it once, verified with the endpoint's secret, as an envelope
    (request,) = receiver.received
    assert receiver.bad_signatures == 0 and request.status == 200
    event = Event.objects.get()
    assert request.body == {
        "id": str(event.uid),
        "type": "contact.created",
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": {"contact": {"id": 1}, "actor": event.data["actor"]},
    }
    delivery = Delivery.objects.get()
    assert request.headers["webhook-id"] == delivery.msg_id
    assert delivery.status == Delivery.Status.DELIVERED and delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert Event.objects.get().dispatched


def test_a_signature_made_with_another_secret_is_refused_by_the_receiver(
    company, listening_endpoint, django_capture_on_commit_callbacks
):
    # given a receiver that expects another secret
    endpoint, receiver = listening_endpoint()
    receiver.secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="

    # when an event is sent
    _emit(company, django_capture_on_commit_callbacks)

    # then the signature does not verify (the check is real) and the delivery is retried
    assert receiver.bad_signatures == 1
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.last_status_code == 401


def test_a_failing_receiver_is_retried_with_growing_waits_then_given_up(
    company, listening_endpoint, django_capture_on_commit_callbacks, settings
):
    # given a receiver that always answers 500, retries a few milliseconds apart, for 0.3 s
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.01
    settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS = 0.04
    settings.WEBHOOK_RETRY_FOR_SECONDS = 0.3
    endpoint, receiver = listening_endpoint(answer=lambda n, h, b: (500, {}))

    # when an event is sent and the sweep runs until the delivery is settled
    _emit(company, django_capture_on_commit_callbacks)
    waits = []
    deadline = timezone.now() + timedelta(seconds=5)
    while Delivery.objects.get().status == Delivery.Status.PENDING:
        assert timezone.now() < deadline
        delivery = Delivery.objects.get()
        waits.append((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds())
        sweep()

    # then it was tried several times with the same webhook-id, then given up with the reason
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == len(receiver.received) >= 4
    assert {r.headers["webhook-id"] for r in receiver.received} == {delivery.msg_id}
    assert delivery.last_error == "HTTP 500" and delivery.last_status_code == 500
    assert waits[0] <= 0.01 and max(waits) > 0.02  # the waits grew


def test_the_backoff_doubles_with_jitter_up_to_its_maximum(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 5
    settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS = 3600
    for attempts, full in ((1, 5), (2, 10), (3, 20), (12, 3600), (40, 3600)):
        wait = backoff(attempts).total_seconds()
        assert full / 2 <= wait <= full


def test_deliveries_leave_in_order_a_later_one_never_overtakes_a_failing_one(
    company, listening_endpoint, django_capture_on_commit_callbacks, settings
):
    # given a receiver that refuses the first delivery twice
    no_wait(settings)
    first_id: list[str] = []

    def answer(n, headers, body):
        first_id.append(first_id[0] if first_id else headers["webhook-id"])
        refused = headers["webhook-id"] == first_id[0] and n < 2
        return (503 if refused else 200), {}

    endpoint, receiver = listening_endpoint(answer=answer)

    # when five events commit one after another, and the sweep runs until all are delivered
    for k in range(1, 6):
        _emit(company, django_capture_on_commit_callbacks, start=k)
    for _ in range(20):
        sweep()

    # then the receiver accepted them in the order they happened, once each
    accepted = [r.body["data"]["contact"]["id"] for r in receiver.accepted]
    assert accepted == [1, 2, 3, 4, 5]
    assert [r.status for r in receiver.received[:3]] == [503, 503, 200]
    assert not Delivery.objects.exclude(status=Delivery.Status.DELIVERED).exists()


def test_a_handover_is_sent_in_batches_of_100_saying_so(
    company, listening_endpoint, django_capture_on_commit_callbacks
):
    # given an endpoint hearing ownership changes
    endpoint, receiver = listening_endpoint(types=[OWNER_CHANGED])

    # when a handover of 250 contacts commits its events
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit_many(
            company=company,
            type=OWNER_CHANGED,
            items=[(k, 2, {"contact": {"id": k}, "version": 2}) for k in range(1, 251)],
            mass="handover",
        )

    # then three requests carried them (100, 100, 50), each saying it is a handover's batch
    assert [r.body["data"]["count"] for r in receiver.received] == [BATCH, BATCH, 50]
    first = receiver.received[0].body
    assert first["type"] == "batch" and first["data"]["mass_change"] == "handover"
    ids = [e["data"]["contact"]["id"] for r in receiver.received for e in r.body["data"]["events"]]
    assert ids == list(range(1, 251))
    assert {e["type"] for e in first["data"]["events"]} == {"contact.owner_changed"}
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 3
    # over one kept-alive connection
    assert {r.connection for r in receiver.received} == {receiver.received[0].connection}


def test_events_an_endpoint_does_not_hear_are_not_sent_to_it(
    company, listening_endpoint, django_capture_on_commit_callbacks
):
    # given an endpoint hearing only ownership changes, and another hearing everything
    owners, owners_receiver = listening_endpoint(types=[OWNER_CHANGED])
    everything, everything_receiver = listening_endpoint()

    # when a contact.created event commits
    _emit(company, django_capture_on_commit_callbacks)

    # then only the second endpoint got it
    assert owners_receiver.received == []
    assert len(everything_receiver.accepted) == 1


def test_no_event_leaves_for_a_change_that_rolled_back_and_none_is_lost_for_one_that_committed(
    company, listening_endpoint, django_capture_on_commit_callbacks
):
    # given an endpoint
    endpoint, receiver = listening_endpoint()

    # when one change rolls back after writing its event, and another commits
    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        event_emit(company=company, type=CREATED, data={"contact": {"id": 1}}, contact_id=1)
        raise Boom
    _emit(company, django_capture_on_commit_callbacks, start=2)

    # then only the committed one exists and was delivered
    assert [r.body["data"]["contact"]["id"] for r in receiver.accepted] == [2]
    assert Event.objects.count() == 1


def test_an_event_whose_dispatch_message_was_lost_is_sent_by_the_sweep(company, listening_endpoint):
    # given an event committed whose after-commit dispatch never ran (a lost message)
    endpoint, receiver = listening_endpoint()
    with transaction.atomic():
        event_emit(company=company, type=CREATED, data={"contact": {"id": 7}}, contact_id=7)
    assert receiver.received == []

    # when the periodic sweep runs
    sweep()

    # then it was delivered
    assert [r.body["data"]["contact"]["id"] for r in receiver.accepted] == [7]


def test_a_delivery_survives_a_worker_that_died_mid_run(company, listening_endpoint, settings):
    # given a pending delivery whose sender run died holding the endpoint's lease
    settings.WEBHOOK_LEASE_SECONDS = 30
    endpoint, receiver = listening_endpoint()
    with transaction.atomic():
        event_emit(company=company, type=CREATED, data={"contact": {"id": 3}}, contact_id=3)
    sweep()  # dispatched now; the run below stands for a worker killed before it sent
    Delivery.objects.update(status=Delivery.Status.PENDING)
    receiver.received.clear()
    assert Lease(endpoint.pk).take()

    # when the sweep runs while the lease lives, and again after it ran out
    sweep()
    during = list(receiver.received)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    sweep()

    # then nothing was sent while another sender held it, and it was delivered after
    assert during == []
    assert len(receiver.accepted) == 1
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


def test_a_second_sender_for_the_same_endpoint_stands_aside(company, listening_endpoint):
    # given a sender holding the endpoint's lease
    endpoint, receiver = listening_endpoint()
    assert Lease(endpoint.pk).take()

    # when another run starts
    run = send_endpoint(endpoint_id=endpoint.pk)

    # then it sends nothing
    assert run.busy and run.delivered == 0


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_admins_are_emailed_once(
    company, company_admin, listening_endpoint, django_capture_on_commit_callbacks, settings
):
    # given an endpoint whose deliveries have failed for a day, and a receiver still failing
    no_wait(settings)
    endpoint, receiver = listening_endpoint(answer=lambda n, h, b: (500, {}))
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=1, seconds=1)
    )

    # when two more events fail, and the sweep runs again
    with django_capture_on_commit_callbacks(execute=True):
        _emit(company, django_capture_on_commit_callbacks, n=2)
        for _ in range(3):
            sweep()

    # then the endpoint is disabled with a reason, and the admin got one email saying so
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "failed for a day" in endpoint.disabled_reason
    assert len(mail.outbox) == 1
    (email,) = mail.outbox
    assert email.to == [company_admin.email]
    assert endpoint.url in email.subject
    assert "2 deliveries wait for it" in email.body
    assert EndpointDisabledEmail.objects.get().status == "sent"
    # its deliveries wait: nothing more is sent to a disabled endpoint
    tried = len(receiver.received)
    sweep()
    assert len(receiver.received) == tried
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 2
    # and the company no longer writes events nobody hears
    company.refresh_from_db()
    assert company.outbound_event_types == []


def test_enabling_an_endpoint_again_sends_what_waited_for_it_in_order(
    company, listening_endpoint, django_capture_on_commit_callbacks
):
    # given a disabled endpoint with two deliveries waiting
    endpoint, receiver = listening_endpoint()
    with transaction.atomic():
        for k in (1, 2):
            event_emit(company=company, type=CREATED, data={"contact": {"id": k}}, contact_id=k)
    from events.delivery import dispatch_company

    with django_capture_on_commit_callbacks(execute=False):
        dispatch_company(company_id=company.pk)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_reason="Disabled automatically."
    )
    Delivery.objects.update(retry_from=timezone.now() - timedelta(days=2))

    # when an admin enables it
    with django_capture_on_commit_callbacks(execute=True):
        endpoint_enable(endpoint=endpoint)

    # then both were sent, in order, with a fresh day of retries
    assert [r.body["data"]["contact"]["id"] for r in receiver.accepted] == [1, 2]
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.disabled_reason == ""


def test_a_redirect_is_not_followed(
    company, receiver, listening_endpoint, django_capture_on_commit_callbacks
):
    # given a receiver that redirects to another one
    elsewhere = receiver()
    endpoint, redirecting = listening_endpoint(
        answer=lambda n, h, b: (302, {"Location": elsewhere.url})
    )

    # when an event is sent
    _emit(company, django_capture_on_commit_callbacks)

    # then the other receiver got nothing, and the delivery says why it failed
    assert elsewhere.received == []
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code == 302
    assert delivery.last_error == f"HTTP 302: redirect to {elsewhere.url} not followed"


def test_a_receiver_that_is_down_is_a_failed_attempt_with_a_reason(
    company, listening_endpoint, django_capture_on_commit_callbacks
):
    # given an endpoint on a port nobody listens on
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listening_endpoint(url=f"http://127.0.0.1:{port}/hooks")

    # when an event is sent
    _emit(company, django_capture_on_commit_callbacks)

    # then the attempt is counted with its reason
    delivery = Delivery.objects.get()
    assert delivery.attempts == 1 and delivery.last_status_code is None
    assert delivery.last_error == "Could not connect, or the connection closed without an answer"


def test_the_signature_covers_the_exact_body_sent(company, listening_endpoint):
    # given an endpoint and a committed, dispatched event
    endpoint, receiver = listening_endpoint()
    with transaction.atomic():
        event_emit(company=company, type=CREATED, data={"contact": {"id": 9}}, contact_id=9)
    sweep()

    # then verifying the signature against a changed body fails
    (request,) = receiver.accepted
    import json

    tampered = json.dumps({**request.body, "type": "contact.deleted"})
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(receiver.secret).verify(tampered, request.headers)
