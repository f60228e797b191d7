"""The webhook's second floor: Switchboard's settings unchanged (the same middleware, whose
``/api/`` fast path the webhook takes), with a URLconf that adds one view under ``/api/``
(``bench.floor.urls_checked``). Served by ``bench/bench_webhook.py`` beside the bare floor."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor.urls_checked"
