"""Fixtures of the live pages' tests: the site served by the ASGI application (pages, static
files and the /live/ socket, as uvicorn serves it) and what each publish sent.

The browser tests change data from the test's own thread (a service call) while the page is
open; the change reaches the socket through Redis (the pub/sub layer of production): the
in-process layer cannot be reached from the test's thread, where Playwright runs its loop.
"""

import threading
import time
import uuid

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

import agents.live
from tests.conftest import free_port


@pytest.fixture
def published(monkeypatch):
    """Every (company id, stream) that ``agents.live.publish`` sent, in order, one list per
    publish call (one call per commit); nothing is sent anywhere."""
    calls: list[list[tuple[int, str]]] = []
    monkeypatch.setattr(agents.live, "publish", lambda keys: calls.append(list(keys)))
    return calls


@pytest.fixture
def asgi_server(settings, transactional_db):
    """The whole site on uvicorn in a thread (its own database connections, on the test
    database), with the Redis pub/sub layer under a prefix of its own. Yields the base URL.
    Needs Redis (``pytest.mark.redis``)."""
    import uvicorn
    from channels.layers import channel_layers
    from channels.routing import ProtocolTypeRouter
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from config import asgi

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [settings.REDIS_URL],
                "prefix": f"sb_livepages.{uuid.uuid4().hex[:12]}",
            },
        }
    }
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    channel_layers.backends.clear()
    # The server's threads close their connections after each request (PostgreSQL's
    # persistent ones would keep the test database busy at its teardown).
    database = connections.settings[DEFAULT_DB_ALIAS]
    max_age = database.get("CONN_MAX_AGE", 0)
    database["CONN_MAX_AGE"] = 0
    app = ProtocolTypeRouter(
        {
            # The static files as runserver serves them (the pages' scripts and styles).
            "http": ASGIStaticFilesHandler(asgi.django_application),
            "websocket": asgi.application.application_mapping["websocket"],
        }
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    database["CONN_MAX_AGE"] = max_age
    channel_layers.backends.clear()


@pytest.fixture
def live_page(_chromium, asgi_server):
    """A page of a browser context of its own on the ASGI site."""
    contexts = []

    def _new_page(width: int = 1280, height: int = 860, *, javascript: bool = True):
        context = _chromium.new_context(
            viewport={"width": width, "height": height},
            base_url=asgi_server,
            java_script_enabled=javascript,
        )
        context.set_default_timeout(15_000)
        context.add_init_script(RECORD_SOCKET)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


# Record what the page's socket receives (the test waits for the streams to be joined).
RECORD_SOCKET = """
(() => {
  const Native = window.WebSocket;
  window.__liveMessages = [];
  function Recorded(url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    socket.addEventListener("message", (event) => window.__liveMessages.push(event.data));
    return socket;
  }
  Recorded.prototype = Native.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach((k) => { Recorded[k] = Native[k]; });
  window.WebSocket = Recorded;
})();
"""


def wait_live(page) -> None:
    """Wait until the page's socket has joined its streams, and mark the document: a reload
    would lose the mark."""
    page.wait_for_function(
        "() => (window.__liveMessages || []).some((m) => m.indexOf('watching') !== -1)"
    )
    page.evaluate("() => { window.__notReloaded = true; }")


def not_reloaded(page) -> bool:
    return page.evaluate("() => window.__notReloaded === true")
