"""One connection per sender run: the endpoint's URL checked and resolved once
(``events.net``), every request sent to that address over one kept-alive connection, the
answer read up to a limit; redirects are answers, never followed."""

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


class Connection:
    """Posts to one endpoint URL: resolved and checked once (``events.net``), then every
    request goes to that address over one kept-alive connection; redirects are answers,
    never followed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.target: net.Target | None = None
        self.pool: urllib3.HTTPConnectionPool | None = None

    def _open(self) -> urllib3.HTTPConnectionPool:
        self.target = target = net.resolve_target(self.url)
        seconds = settings.WEBHOOK_TIMEOUT_SECONDS
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
        except net.Refused as error:
            return Answer(None, f"Refused: {error}")
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


def describe_error(error: BaseException) -> str:
    """A failed request, in words for the admin's delivery list."""
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        # Before ConnectTimeoutError, which urllib3 makes its base class.
        if isinstance(error.__cause__, TimeoutError) or "timed out" in str(error):
            return "Timed out connecting"
        return "Connection refused or unreachable"
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError):
        return "Timed out connecting"
    if isinstance(error, urllib3.exceptions.ReadTimeoutError | TimeoutError):
        return f"No answer within {timeout:g} s"
    if isinstance(error, urllib3.exceptions.SSLError):
        return f"TLS error: {error}"[:300]
    if isinstance(error, urllib3.exceptions.ProtocolError):
        return "The connection was closed without an answer"
    return f"{type(error).__name__}: {error}"[:300]
