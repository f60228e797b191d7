"""Where an endpoint may point: private, loopback, link-local, multicast, reserved and
unspecified addresses are refused when it is saved and when it is sent to (resolved once;
the sender connects to the address it checked). No test sends to a non-loopback address:
names resolve through a monkeypatched resolver, and refused addresses are never contacted."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from events import net
from events.delivery import sweep
from events.emit import event_emit
from events.models import Delivery, Endpoint, EventType
from events.services import endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_loopback(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def dns(monkeypatch):
    """``dns[name] = [addresses]``: what host names resolve to."""
    table: dict[str, list[str]] = {}

    def resolve(hostname, port):
        if hostname not in table:
            raise OSError("Name or service not known")
        return table[hostname]

    monkeypatch.setattr(net, "_resolve", resolve)
    return table


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (
            "http://127.0.0.1/hook",
            "Webhooks are not sent to 127.0.0.1: it is a loopback address (this machine).",
        ),
        (
            "http://localhost.example/hook",
            "Webhooks are not sent to localhost.example: "
            "it resolves to a loopback address (this machine).",
        ),
        ("http://10.1.2.3/hook", "Webhooks are not sent to 10.1.2.3: it is a private address."),
        (
            "http://192.168.0.10:8080/hook",
            "Webhooks are not sent to 192.168.0.10: it is a private address.",
        ),
        ("http://172.16.5.4/hook", "Webhooks are not sent to 172.16.5.4: it is a private address."),
        (
            "http://169.254.169.254/latest/meta-data",
            "Webhooks are not sent to 169.254.169.254: it is a link-local address.",
        ),
        ("http://0.0.0.0/hook", "Webhooks are not sent to 0.0.0.0: it is an unspecified address."),
        ("http://224.0.0.1/hook", "Webhooks are not sent to 224.0.0.1: it is a multicast address."),
        ("http://240.0.0.1/hook", "Webhooks are not sent to 240.0.0.1: it is a private address."),
        (
            "http://100.64.0.1/hook",
            "Webhooks are not sent to 100.64.0.1: it is not a public internet address.",
        ),
        (
            "http://[::1]/hook",
            "Webhooks are not sent to ::1: it is a loopback address (this machine).",
        ),
        ("http://[::]/hook", "Webhooks are not sent to ::: it is an unspecified address."),
        ("http://[fe80::1]/hook", "Webhooks are not sent to fe80::1: it is a link-local address."),
        ("http://[fc00::1]/hook", "Webhooks are not sent to fc00::1: it is a private address."),
        (
            "http://[::ffff:10.0.0.1]/hook",
            "Webhooks are not sent to ::ffff:10.0.0.1: it is a private address.",
        ),
        (
            "http://[::ffff:127.0.0.1]/hook",
            "Webhooks are not sent to ::ffff:127.0.0.1: it is a loopback address (this machine).",
        ),
        (
            "http://[2002:a00:1::]/hook",
            "Webhooks are not sent to 2002:a00:1::: it is a private address.",
        ),
        (
            "http://[64:ff9b::a9fe:a9fe]/hook",
            "Webhooks are not sent to 64:ff9b::a9fe:a9fe: it is a link-local address.",
        ),
        (
            "http://inside.example/hook",
            "Webhooks are not sent to inside.example: it resolves to a private address.",
        ),
        (
            "http://split.example/hook",
            "Webhooks are not sent to split.example: it resolves to a private address.",
        ),
        ("ftp://hooks.example/x", "Use an http:// or https:// URL."),
        ("https://user:pw@hooks.example/x", "Leave the user name and password out of the URL."),
        ("https://nowhere.example/x", "The host nowhere.example could not be found."),
        ("https:///x", "The URL has no host name."),
        (
            "http://shared.example/hook",
            "Webhooks are not sent to shared.example: "
            "it resolves to an address that is not a public internet address.",
        ),
    ],
)
def test_an_endpoint_url_inside_the_network_is_refused_with_a_reason(no_loopback, dns, url, why):
    # given names that resolve inside (one of them also outside)
    dns["localhost.example"] = ["127.0.0.1"]
    dns["inside.example"] = ["10.0.0.5"]
    dns["split.example"] = ["93.184.216.34", "192.168.1.1"]
    dns["hooks.example"] = ["93.184.216.34"]
    dns["shared.example"] = ["100.64.0.9"]

    # when the URL is checked, then it is refused, saying why
    assert net.url_refusal(url) == why


def test_a_public_address_is_accepted(no_loopback, dns):
    dns["hooks.example"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    assert net.url_refusal("https://hooks.example/switchboard?team=7") is None
    target = net.resolve_target("https://hooks.example/switchboard?team=7")
    assert (target.address, target.port, target.path) == (
        "93.184.216.34",
        443,
        "/switchboard?team=7",
    )


def test_loopback_is_allowed_only_by_its_setting(settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    assert net.url_refusal("http://127.0.0.1:9000/hook") is None
    assert net.url_refusal("http://[::1]:9000/hook") is None
    assert net.url_refusal("http://10.0.0.1/hook") == (
        "Webhooks are not sent to 10.0.0.1: it is a private address."
    )
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    assert net.url_refusal("http://10.0.0.1/hook") is None


def test_the_service_refuses_a_private_endpoint_by_field(company, no_loopback, dns):
    with pytest.raises(ValidationError) as refused:
        endpoint_create(
            company=company, url="http://10.0.0.7/hook", event_types=[EventType.CONTACT_CREATED]
        )
    assert refused.value.message_dict == {
        "url": ["Webhooks are not sent to 10.0.0.7: it is a private address."]
    }
    assert not Endpoint.objects.exists()


def test_a_name_that_resolves_inside_at_send_time_is_refused_without_a_connection(
    company, no_loopback, dns, monkeypatch
):
    # given an endpoint saved while its name pointed outside
    dns["hooks.example"] = ["93.184.216.34"]
    endpoint, _ = endpoint_create(
        company=company, url="https://hooks.example/in", event_types=[EventType.CONTACT_CREATED]
    )
    connects = []
    monkeypatch.setattr("urllib3.HTTPSConnectionPool.urlopen", lambda *a, **k: connects.append(a))

    # when the name now points inside (DNS rebinding) and an event is sent
    dns["hooks.example"] = ["169.254.169.254"]
    with transaction.atomic():
        event_emit(company=company, type=EventType.CONTACT_CREATED, data={}, contact_id=1)
    sweep()

    # then nothing was sent: the attempt failed, saying why
    assert connects == []
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
    assert delivery.last_error == (
        "Refused: Webhooks are not sent to hooks.example: it resolves to a link-local address."
    )


def test_the_sender_connects_to_the_address_it_checked_and_sends_the_host_name(
    company, dns, listening_endpoint, receiver
):
    # given a name that resolves to the receiver on 127.0.0.1 (loopback allowed in tests)
    dns["receiver.example"] = ["127.0.0.1"]
    endpoint, got = listening_endpoint()
    url = got.url.replace("127.0.0.1", "receiver.example")
    Endpoint.objects.filter(pk=endpoint.pk).update(url=url)

    # when an event is sent
    with transaction.atomic():
        event_emit(company=company, type=EventType.CONTACT_CREATED, data={}, contact_id=1)
    sweep()

    # then the receiver got it, addressed to the name
    (request,) = got.accepted
    assert request.headers["host"] == f"receiver.example:{got.port}"


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("db.internal.example", "10.20.30.40"),
        ("admin.internal.example", "127.0.0.1"),
        ("metadata.internal.example", "169.254.169.254"),
        ("v6.internal.example", "fd12:3456::7"),
    ],
)
def test_a_refusal_never_says_which_address_an_internal_name_resolves_to(
    no_loopback, dns, name, address
):
    # given an internal name (a form anyone who may save an endpoint could probe with)
    dns[name] = [address]

    # when it is checked, then it is refused without the address it resolves to
    why = net.url_refusal(f"https://{name}/hook")
    assert why.startswith(f"Webhooks are not sent to {name}: it resolves to ")
    assert address not in why


@pytest.mark.parametrize("port", [22, 25, 5432, 6379, 9000])
def test_a_public_host_on_another_port_is_refused(no_loopback, dns, port):
    # given a public host
    dns["hooks.example"] = ["93.184.216.34"]

    # when an endpoint on another port than the allowed ones is checked, then it is refused
    assert net.url_refusal(f"https://hooks.example:{port}/hook") == (
        f"Webhooks are sent only to port 80, 443, 8080 or 8443; this URL uses port {port}."
    )


@pytest.mark.parametrize("port", [80, 443, 8080, 8443])
def test_the_allowed_ports_are_accepted(no_loopback, dns, port):
    dns["hooks.example"] = ["93.184.216.34"]
    assert net.url_refusal(f"https://hooks.example:{port}/hook") is None


def test_the_allowed_ports_come_from_the_setting(no_loopback, dns, settings):
    # given the ports narrowed to 443
    dns["hooks.example"] = ["93.184.216.34"]
    settings.WEBHOOK_ALLOWED_PORTS = [443]

    # then 8443 is refused and 443 accepted
    assert net.url_refusal("https://hooks.example:8443/hook") == (
        "Webhooks are sent only to port 443; this URL uses port 8443."
    )
    assert net.url_refusal("https://hooks.example/hook") is None


def test_any_port_on_loopback_only_when_loopback_is_allowed(settings, dns):
    # given loopback allowed (tests, local development)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    dns["split.example"] = ["127.0.0.1", "93.184.216.34"]

    # then loopback may use any port, a public address only the allowed ones
    assert net.url_refusal("http://127.0.0.1:54321/hook") is None
    assert net.url_refusal("http://[::1]:54321/hook") is None
    assert net.url_refusal("http://split.example:54321/hook") == (
        "Webhooks are sent only to port 80, 443, 8080 or 8443; this URL uses port 54321."
    )


def test_a_port_refused_at_send_time_is_never_connected_to(
    company, no_loopback, dns, monkeypatch, settings
):
    # given an endpoint saved on 8443, then the port no longer allowed
    dns["hooks.example"] = ["93.184.216.34"]
    endpoint, _ = endpoint_create(
        company=company,
        url="https://hooks.example:8443/in",
        event_types=[EventType.CONTACT_CREATED],
    )
    settings.WEBHOOK_ALLOWED_PORTS = [443]
    connects = []
    monkeypatch.setattr("urllib3.HTTPSConnectionPool.urlopen", lambda *a, **k: connects.append(a))

    # when an event is sent
    with transaction.atomic():
        event_emit(company=company, type=EventType.CONTACT_CREATED, data={}, contact_id=1)
    sweep()

    # then nothing was sent, and the attempt says why
    assert connects == []
    assert Delivery.objects.get().last_error == (
        "Refused: Webhooks are sent only to port 443; this URL uses port 8443."
    )


def test_plain_http_is_refused_when_https_is_required(no_loopback, dns, settings):
    # given HTTPS required (production behind TLS)
    dns["hooks.example"] = ["93.184.216.34"]
    settings.WEBHOOK_REQUIRE_HTTPS = True

    # then an http:// endpoint is refused, an https:// one accepted
    assert net.url_refusal("http://hooks.example/hook") == (
        "Use an https:// URL: webhooks are sent only over HTTPS."
    )
    assert net.url_refusal("https://hooks.example/hook") is None
    settings.WEBHOOK_REQUIRE_HTTPS = False
    assert net.url_refusal("http://hooks.example/hook") is None


def test_https_is_required_by_default_behind_tls_but_not_in_development():
    # the setting's default: the HTTPS setting's value, off with DEBUG (read from a fresh
    # settings module, as the environment would give it)
    import subprocess
    import sys

    code = (
        "import os, django;"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings';"
        "from django.conf import settings;"
        "print(settings.WEBHOOK_REQUIRE_HTTPS)"
    )
    found = {}
    for https, debug in (("1", "0"), ("1", "1"), ("0", "0")):
        env = {
            **__import__("os").environ,
            "HTTPS": https,
            "DEBUG": debug,
            "SECRET_KEY": "x" * 60,
        }
        env.pop("WEBHOOK_REQUIRE_HTTPS", None)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        found[(https, debug)] = out.stdout.strip()
    assert found == {("1", "0"): "True", ("1", "1"): "False", ("0", "0"): "False"}


def test_a_failed_tls_handshake_says_only_that_it_could_not_connect(company, listening_endpoint):
    # given an https endpoint on a port of 127.0.0.1 that speaks plain HTTP (no TLS)
    from events.connection import Connection

    _, got = listening_endpoint()
    connection = Connection(got.url.replace("http://", "https://"))

    # when a request is sent, then it failed without the TLS library's words
    answer = connection.post(b"{}", {})
    connection.close()
    assert answer.status is None
    assert answer.error == "Could not connect, or the connection closed without an answer"
