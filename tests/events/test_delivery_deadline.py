"""A slow receiver cannot hold a sender: every request has one wall-clock limit,
``WEBHOOK_TIMEOUT_SECONDS``, for the whole exchange (TLS, headers and body included), and the
endpoint's lease outlives any single request, so a second run never sends for an endpoint
while the first is still waiting on an answer. The slow receivers listen on 127.0.0.1."""

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from events import delivery as delivery_module
from events.connection import Connection
from events.delivery import Lease, dispatch_company, send_endpoint
from events.emit import event_emit
from events.models import Delivery, Endpoint, EventType

pytestmark = pytest.mark.django_db

DRIP_EVERY = 0.2  # seconds between two bytes: far below the per-read timeout
DRIP_FOR = 6.0  # the receiver gives up after this long (so a failing test ends)


@pytest.fixture
def drip():
    """``drip(first, then)``: a receiver on 127.0.0.1 that, for every connection, reads the
    request, writes ``first`` at once, then one byte of ``then`` every ``DRIP_EVERY`` s (for
    at most ``DRIP_FOR`` s). Returns its port."""
    servers = []

    def _start(first: bytes, then: bytes = b"x" * 10_000) -> int:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def handle(conn):
            with conn:
                conn.settimeout(DRIP_FOR)
                try:
                    conn.recv(65_536)
                    conn.sendall(first)
                    stop = time.monotonic() + DRIP_FOR
                    for byte in then:
                        if time.monotonic() > stop:
                            return
                        conn.sendall(bytes([byte]))
                        time.sleep(DRIP_EVERY)
                except OSError:
                    return  # the sender hung up

        def serve():
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                threading.Thread(target=handle, args=(conn,), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        return server.getsockname()[1]

    yield _start
    for server in servers:
        server.close()


def _timed_post(url: str):
    connection = Connection(url)
    started = time.monotonic()
    try:
        answer = connection.post(b'{"type": "test"}', {"Content-Type": "application/json"})
    finally:
        connection.close()
    return answer, time.monotonic() - started


@pytest.mark.parametrize(
    ("scheme", "first", "then"),
    [
        # the status line and headers at once, then the body a byte at a time
        ("http", b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n", b"x" * 10_000),
        # the headers themselves a byte at a time
        ("http", b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a" * 10_000),
        # the TLS handshake: a record announced, its bytes a trickle
        ("https", b"\x16\x03\x03\x40\x00", b"\x02" * 10_000),
    ],
    ids=["body", "headers", "tls-handshake"],
)
def test_a_receiver_dripping_its_answer_is_cut_at_the_time_limit(
    settings, drip, scheme, first, then
):
    # given a one-second limit and a receiver that answers a byte every 0.2 s
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    port = drip(first, then)

    # when a request is sent to it
    answer, took = _timed_post(f"{scheme}://127.0.0.1:{port}/hook")

    # then it is given up after about a second, as a time-out, not a success
    assert took < 2.0
    assert not answer.ok and answer.status is None
    assert answer.error == "Timed out: no complete answer within 1 s"


def test_a_delivery_to_a_dripping_receiver_fails_in_time_and_is_retried(company, settings, drip):
    # given an endpoint whose receiver drips its answer
    from events.services import endpoint_create

    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    port = drip(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n")
    endpoint, _ = endpoint_create(
        company=company,
        url=f"http://127.0.0.1:{port}/hook",
        event_types=[EventType.CONTACT_CREATED],
    )
    with transaction.atomic():
        event_emit(company=company, type=EventType.CONTACT_CREATED, data={}, contact_id=1)
    dispatch_company(company_id=company.pk)

    # when its sender runs
    started = time.monotonic()
    run = send_endpoint(endpoint_id=endpoint.pk)

    # then the run gave its worker back after about the limit; the delivery waits to retry
    assert time.monotonic() - started < 2.5
    assert run.failed == 1 and run.delivered == 0
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
    assert delivery.last_error == "Timed out: no complete answer within 1 s"


def test_the_lease_outlives_the_longest_request_whatever_its_setting(company, settings):
    # given a lease set shorter than one request may take
    from events.services import endpoint_create

    settings.WEBHOOK_TIMEOUT_SECONDS = 10.0
    settings.WEBHOOK_LEASE_SECONDS = 1.0
    endpoint, _ = endpoint_create(
        company=company, url="http://127.0.0.1:9/hook", event_types=[EventType.CONTACT_CREATED]
    )

    # when a run takes it
    lease = Lease(endpoint.pk)
    before = timezone.now()
    assert lease.take()

    # then it lasts past a whole request, with room to record the answer
    until = Endpoint.objects.get(pk=endpoint.pk).lease_until
    assert (until - before).total_seconds() >= 10.0 + 30.0


def test_no_second_run_sends_for_an_endpoint_while_a_request_is_still_waiting(
    company, settings, listening_endpoint, monkeypatch
):
    # given a lease set shorter than the time limit, and an endpoint with one delivery
    settings.WEBHOOK_TIMEOUT_SECONDS = 10.0
    settings.WEBHOOK_LEASE_SECONDS = 1.0
    endpoint, got = listening_endpoint(types=[EventType.CONTACT_CREATED])
    with transaction.atomic():
        event_emit(company=company, type=EventType.CONTACT_CREATED, data={}, contact_id=1)
    dispatch_company(company_id=company.pk)
    real_post = Connection.post
    second_runs = []

    def slow_post(self, body, headers):
        # a request that takes the whole time limit: meanwhile the sweep starts a run
        if not second_runs:
            second_runs.append(None)
            later = timezone.now() + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 1)
            with monkeypatch.context() as clock:
                clock.setattr(delivery_module.timezone, "now", lambda: later)
                second_runs[0] = send_endpoint(endpoint_id=endpoint.pk)
        return real_post(self, body, headers)

    monkeypatch.setattr(Connection, "post", slow_post)

    # when the first run sends the delivery
    first = send_endpoint(endpoint_id=endpoint.pk)

    # then the run started meanwhile found the endpoint busy and sent nothing: one request
    (second,) = second_runs
    assert second.busy and second.delivered == 0
    assert first.delivered == 1
    assert len(got.received) == 1
