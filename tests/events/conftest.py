"""A real HTTP receiver on 127.0.0.1 for the outbound webhooks' tests: it verifies every
request's signature with the ``standardwebhooks`` package and answers what the test says."""

import json
import random
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from events.models import EventType
from events.services import endpoint_create


@dataclass
class Received:
    headers: dict[str, str]
    body: dict
    status: int
    connection: int  # which TCP connection it came on (keep-alive)


@dataclass
class Receiver:
    """``secret`` set once the endpoint exists; ``answer(n, request)`` gives the status of the
    n-th request (default 200); ``fail_rate`` fails that share of requests at random (500)."""

    secret: str | None = None
    fail_rate: float = 0.0
    seed: int = 22
    answer: object = None
    received: list[Received] = field(default_factory=list)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    port: int = 0
    connections: int = 0

    def __post_init__(self):
        self.random = random.Random(self.seed)

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.status < 300]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        # Headers and body leave at once (else Nagle and delayed ACKs add 40 ms per answer).
        disable_nagle_algorithm = True

        def setup(self):
            super().setup()
            with receiver.lock:
                receiver.connections += 1
                self.connection_number = receiver.connections

        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                try:
                    body = Webhook(receiver.secret).verify(raw, headers)
                    status = 200
                except WebhookVerificationError:
                    receiver.bad_signatures += 1
                    body, status = json.loads(raw or b"{}"), 401
                extra = {}
                if status == 200 and receiver.answer is not None:
                    status, extra = receiver.answer(len(receiver.received), headers, body)
                if status == 200 and receiver.random.random() < receiver.fail_rate:
                    status = 500
                receiver.received.append(Received(headers, body, status, self.connection_number))
            answer = b'{"ok": true}' if status < 300 else b'{"error": "no"}'
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    return Handler


def serve(made: Receiver) -> ThreadingHTTPServer:
    """Start ``made`` on a free port of 127.0.0.1 (also used by bench/bench_api.py); the caller
    shuts the server down."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(made))
    server.daemon_threads = True
    made.port = server.server_address[1]
    made.url = f"http://127.0.0.1:{made.port}/hooks"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture
def receiver():
    """``receiver(**options)``: a started receiver (stopped at the end of the test)."""
    servers = []

    def _start(**options) -> Receiver:
        made = Receiver(**options)
        servers.append(serve(made))
        return made

    yield _start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def listening_endpoint(company, receiver):
    """``listening_endpoint(**receiver options)``: a receiver and the company's endpoint for
    every event type pointing at it (through the service: the company hears every type)."""

    def _make(types=None, url=None, **options):
        made = receiver(**options)
        endpoint, secret = endpoint_create(
            company=company,
            url=url or made.url,
            event_types=types or [t.value for t in EventType],
            description="Test receiver",
        )
        made.secret = secret
        company.refresh_from_db()
        return endpoint, made

    return _make


def no_wait(settings):
    """Retries due at once (the backoff's base a millisecond)."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.001
    settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS = 0.002
