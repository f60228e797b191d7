"""The rate limit per API key: ``API_RATE_LIMIT_PER_MINUTE`` requests in a fixed one-minute
window (the clock's minute), counted in the cache; above it, 429 with ``Retry-After`` (the
seconds to the window's end). 0 turns it off.

Each request is one atomic ``cache.incr`` (``cache.add`` for the window's first), as the
inbound webhook counts wrong tokens: parallel requests cannot undercount, as DRF's
``SimpleRateThrottle`` (a history list read, changed and written back) did. The count holds
across processes only in a shared cache: Redis (``REDIS_URL``) in production; without it each
process counts its own requests in local memory."""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
RATE_KEY = "api:rate:{key}:{window}"


def count_in_window(key: str, seconds_left: int) -> int:
    """Add one to ``key`` (a count that lives ``seconds_left`` more seconds) and return it."""
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request (or two at once: one adds)
        return 1 if cache.add(key, 1, timeout=seconds_left + 1) else cache.incr(key)


class PerKeyThrottle(BaseThrottle):
    def __init__(self):
        self._wait: int | None = None

    def allow_request(self, request, view) -> bool:
        # Read when used, so a changed setting (or a test's override) applies at once.
        limit = settings.API_RATE_LIMIT_PER_MINUTE
        if request.auth is None or limit <= 0:
            return True
        now = time.time()
        # The window is in the key: a count never outlives its minute, even without expiry.
        key = RATE_KEY.format(key=request.auth.pk, window=int(now // WINDOW_SECONDS))
        left = max(1, math.ceil(WINDOW_SECONDS - now % WINDOW_SECONDS))
        try:
            used = count_in_window(key, left)
        except Exception:  # noqa: BLE001 - counting is best effort: cache down, no limit
            logger.warning("API rate limits cannot be counted: the cache is unreachable.")
            return True
        if used > limit:
            self._wait = left
            return False
        return True

    def wait(self) -> int | None:
        return self._wait
