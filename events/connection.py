"""One connection per sender run: the endpoint's URL checked and resolved once
(``events.net``), every request sent to that address over one kept-alive connection, the
answer read up to a limit; redirects are answers, never followed.

Every request has one wall-clock limit, ``WEBHOOK_TIMEOUT_SECONDS``, for the whole exchange:
connecting, the TLS handshake, sending, the status line, headers and body. Socket timeouts
alone bound each read, so a receiver dripping a byte now and then would hold the sender
(and its worker) for as long as it likes; a watchdog (``Deadline``) shuts the connection's
socket down when the limit passes, which ends whatever read or write is blocked on it."""

import contextlib
import os
import socket
import threading
from dataclasses import dataclass

import certifi
import urllib3
from django.conf import settings

from . import net

# What is kept of a receiver's answer (the rest is not read; the connection is dropped).
MAX_ANSWER_BYTES = 65_536


@dataclass
class Answer:
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Deadline:
    """The watchdog of one connection: ``start(seconds)`` before a request, ``stop()`` after
    it (True when the limit passed meanwhile: the socket was shut down, the answer is lost).
    The socket is known by its descriptor from the moment it is connected (before any TLS
    handshake) until it is closed, under a lock, so a descriptor closed and reused elsewhere
    is never touched."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fd: int | None = None
        self.timer: threading.Timer | None = None
        self.request = 0
        self.fired = False

    def attach(self, fd: int) -> None:
        with self.lock:
            self.fd = fd

    def detach(self) -> None:
        with self.lock:
            self.fd = None

    def start(self, seconds: float) -> None:
        with self.lock:
            self.fired = False
            self.request += 1
            self.timer = threading.Timer(seconds, self._fire, args=(self.request,))
        self.timer.daemon = True
        self.timer.start()

    def stop(self) -> bool:
        with self.lock:
            self.request += 1  # a timer firing from now on is for a request that is over
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            return self.fired

    def _fire(self, request: int) -> None:
        with self.lock:
            if request != self.request or self.fd is None:
                return  # that request is over, or no socket is open
            self.fired = True
            # A duplicate of the descriptor: shutting it down ends the connection itself
            # (already closed by the receiver: nothing to end).
            with contextlib.suppress(OSError), socket.socket(fileno=os.dup(self.fd)) as sock:
                sock.shutdown(socket.SHUT_RDWR)


def _watched(base: type, deadline: Deadline) -> type:
    """``base`` (urllib3's connection class) telling ``deadline`` its socket."""

    class Watched(base):
        def _new_conn(self):
            sock = super()._new_conn()
            deadline.attach(sock.fileno())
            return sock

        def close(self):
            deadline.detach()
            super().close()

    return Watched


class Connection:
    """Posts to one endpoint URL: resolved and checked once (``events.net``), then every
    request goes to that address over one kept-alive connection, each within
    ``WEBHOOK_TIMEOUT_SECONDS`` in all; redirects are answers, never followed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.target: net.Target | None = None
        self.pool: urllib3.HTTPConnectionPool | None = None
        self.deadline = Deadline()

    def _open(self) -> urllib3.HTTPConnectionPool:
        self.target = target = net.resolve_target(self.url)
        pool = self._pool(target)
        pool.ConnectionCls = _watched(pool.ConnectionCls, self.deadline)
        return pool

    def _pool(self, target: net.Target) -> urllib3.HTTPConnectionPool:
        seconds = settings.WEBHOOK_TIMEOUT_SECONDS
        # Per socket operation; the whole request is bounded by the deadline.
        timeout = urllib3.Timeout(connect=min(5.0, seconds), read=seconds)
        if target.scheme == "https":
            return urllib3.HTTPSConnectionPool(
                target.address,
                target.port,
                timeout=timeout,
                maxsize=1,
                retries=False,
                cert_reqs="CERT_REQUIRED",
                ca_certs=certifi.where(),
                assert_hostname=target.hostname,
                server_hostname=target.hostname,
            )
        return urllib3.HTTPConnectionPool(
            target.address, target.port, timeout=timeout, maxsize=1, retries=False
        )

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        try:
            if self.pool is None:
                self.pool = self._open()
        except net.Refused as error:
            return Answer(None, f"Refused: {error}")
        self.deadline.start(settings.WEBHOOK_TIMEOUT_SECONDS)
        try:
            answer = self._exchange(body, headers)
        finally:
            late = self.deadline.stop()
        if late:
            self.close()  # its socket was shut down
            return Answer(None, timed_out())
        return answer

    def _exchange(self, body: bytes, headers: dict[str, str]) -> Answer:
        try:
            response = self.pool.urlopen(
                "POST",
                self.target.path,
                body=body,
                headers={**headers, "Host": self.target.host_header},
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            self.close()
            return Answer(None, describe_error(error))
        try:
            response.read(MAX_ANSWER_BYTES)
            rest = response.read(1)
        except (urllib3.exceptions.HTTPError, OSError):
            rest = b"?"
        if rest:
            response.close()  # an answer too long to read: drop this connection
        else:
            response.release_conn()
        status = response.status
        if 300 <= status < 400:
            where = response.headers.get("Location", "")[:120]
            return Answer(status, f"HTTP {status}: redirect to {where or '?'} not followed")
        if not 200 <= status < 300:
            return Answer(status, f"HTTP {status}")
        return Answer(status)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


# What a failed request says in the admin's delivery list: whether it timed out or could not
# connect, never the system's own words (refused, unreachable, which TLS failure): a sender
# telling them apart would map the ports of any host it may reach.
COULD_NOT_CONNECT = "Could not connect, or the connection closed without an answer"


def timed_out() -> str:
    return f"Timed out: no complete answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s"


def describe_error(error: BaseException) -> str:
    """A failed request, in words for the admin's delivery list (see ``COULD_NOT_CONNECT``)."""
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        # Before ConnectTimeoutError, which urllib3 makes its base class.
        if isinstance(error.__cause__, TimeoutError) or "timed out" in str(error):
            return timed_out()
        return COULD_NOT_CONNECT
    if isinstance(
        error,
        urllib3.exceptions.ConnectTimeoutError | urllib3.exceptions.ReadTimeoutError | TimeoutError,
    ):
        return timed_out()
    return COULD_NOT_CONNECT
