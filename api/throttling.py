"""The rate limit per API key: ``API_RATE_LIMIT_PER_MINUTE`` requests in a sliding minute,
counted in the cache (Redis when configured); above it, 429 with ``Retry-After``."""

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class PerKeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        return f"{settings.API_RATE_LIMIT_PER_MINUTE}/min"

    def __init__(self):
        # Read when used, so a changed setting (or a test's override) applies at once.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is None:
            return None
        return f"api:rate:{request.auth.pk}"

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - counting is best effort: cache down, no limit
            logger.warning("API rate limits cannot be counted: the cache is unreachable.")
            return True
