"""The next record's floor: Switchboard's settings unchanged (the same middleware: sessions,
CSRF, authentication, the current company, messages, axes, CSP), with a URLconf that adds one
bare view to the product's (``bench.floor.urls_session``). Served by ``bench/bench_campaigns.py``
under the same gunicorn command as the product, for the same 200 agents' sessions."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor.urls_session"
