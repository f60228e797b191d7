"""The ASGI application: every page over HTTP (the demo serves everything in one process)
and the live pages' socket at ``/live/`` (docs/live.md). Production serves the pages and the
webhook from gunicorn's WSGI workers and only ``/live/`` from an ASGI process
(docs/operations.md, "Live pages")."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django first: the socket's modules import models.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from desk.live import LiveConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        # Origin checked against ALLOWED_HOSTS (a page of another site cannot open it with
        # the agent's cookie); the session's user, as on the pages.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([path("live/", LiveConsumer.as_asgi())]))
        ),
    }
)
