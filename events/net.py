"""Where an endpoint may point: no private, loopback, link-local, multicast, reserved or
unspecified address (IPv4 or IPv6, IPv4-mapped IPv6 included), by literal or by what its
host name resolves to, unless ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` (loopback alone:
``WEBHOOK_ALLOW_LOOPBACK``, the tests and local development).

Only the ports of ``WEBHOOK_ALLOWED_PORTS`` (any port on loopback when it is allowed), and only
https:// when ``WEBHOOK_REQUIRE_HTTPS``. A refusal never names the address a name resolved
to (that would answer "what is inside.example?" for anyone who may save an endpoint).

Checked when an endpoint is saved (``url_refusal``: a sentence for the form) and again at
every send (``resolve_target``): the sender connects to the address it checked, so a name
that resolves elsewhere a moment later (DNS rebinding) changes nothing."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# NAT64 (RFC 6052): the IPv4 address is in the last 32 bits, reached through a gateway.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class Refused(Exception):
    """The URL may not be sent to (the message says why, for a person)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to ``address``; send ``host`` (the Host header, and the name
    TLS verifies) and ``path``."""

    scheme: str
    hostname: str
    host_header: str
    port: int
    path: str
    address: str


def _resolve(hostname: str, port: int) -> list[str]:
    """The addresses a host name resolves to (tests monkeypatch this)."""
    infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not be sent to ("a private address"), or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if mapped is None and address in NAT64:
            mapped = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if mapped is not None:
            return address_refusal(mapped)
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
    if address.is_loopback:
        if allow_private or settings.WEBHOOK_ALLOW_LOOPBACK:
            return None
        return "a loopback address (this machine)"
    if allow_private:
        return None
    for kind, flag in (
        ("an unspecified", address.is_unspecified),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a private", address.is_private),
        ("a reserved", address.is_reserved),
    ):
        if flag:
            return f"{kind} address"
    if not address.is_global:
        return "not a public internet address"
    return None


def _parse(url: str) -> tuple[str, str, int, str, str]:
    """(scheme, hostname, port, host header, path) of an http(s) URL, or ``Refused``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise Refused(f"This URL cannot be read ({error}).") from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("Use an http:// or https:// URL.")
    if scheme == "http" and settings.WEBHOOK_REQUIRE_HTTPS:
        raise Refused("Use an https:// URL: webhooks are sent only over HTTPS.")
    if parts.username is not None or parts.password is not None:
        raise Refused("Leave the user name and password out of the URL.")
    hostname = (parts.hostname or "").rstrip(".")
    if not hostname:
        raise Refused("The URL has no host name.")
    port = port or (443 if scheme == "https" else 80)
    host_header = parts.netloc.rsplit("@", 1)[-1]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, hostname, port, host_header, path


def _addresses(hostname: str, port: int) -> tuple[list[IPAddress], bool]:
    """The addresses to check, and whether the host was one (a literal)."""
    try:
        return [ipaddress.ip_address(hostname)], True
    except ValueError:
        pass
    try:
        found = _resolve(hostname, port)
    except (OSError, UnicodeError) as error:
        raise Refused(f"The host {hostname} could not be found.") from error
    addresses = []
    for text in found:
        # A scoped IPv6 address ("fe80::1%eth0") is link-local anyway.
        addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
    if not addresses:
        raise Refused(f"The host {hostname} could not be found.")
    return addresses, False


def _loopback(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _port_refusal(port: int, addresses: list[IPAddress]) -> str | None:
    allowed = sorted(set(settings.WEBHOOK_ALLOWED_PORTS))
    if port in allowed:
        return None
    if settings.WEBHOOK_ALLOW_LOOPBACK and all(_loopback(a) for a in addresses):
        return None  # the tests' and local development's receivers, on any port
    if not allowed:
        return "Webhooks cannot be sent to any port (WEBHOOK_ALLOWED_PORTS is empty)."
    return f"Webhooks are sent only to port {allowed_ports()}; this URL uses port {port}."


def allowed_ports() -> str:
    """``WEBHOOK_ALLOWED_PORTS`` in words: "80, 443, 8080 or 8443"."""
    allowed = [str(p) for p in sorted(set(settings.WEBHOOK_ALLOWED_PORTS))]
    if len(allowed) < 2:
        return "".join(allowed) or "none"
    return f"{', '.join(allowed[:-1])} or {allowed[-1]}"


def resolve_target(url: str) -> Target:
    """Check ``url`` and resolve its host once: every address it resolves to must be
    allowed (a name that also points inside is refused), and its port; the sender connects
    to the first address."""
    scheme, hostname, port, host_header, path = _parse(url)
    addresses, literal = _addresses(hostname, port)
    for address in addresses:
        why = address_refusal(address)
        if why:
            if literal:
                raise Refused(f"Webhooks are not sent to {hostname}: it is {why}.")
            # Not which address: the refusal would tell what an internal name points to.
            if why.startswith("not "):
                why = f"an address that is {why}"
            raise Refused(f"Webhooks are not sent to {hostname}: it resolves to {why}.")
    why = _port_refusal(port, addresses)
    if why:
        raise Refused(why)
    return Target(
        scheme=scheme,
        hostname=hostname,
        host_header=host_header,
        port=port,
        path=path,
        address=str(addresses[0]),
    )


def url_refusal(url: str) -> str | None:
    """Why an endpoint may not have ``url`` (a sentence for the form), or None."""
    try:
        resolve_target(url)
    except Refused as error:
        return str(error)
    return None
