"""``Authorization: Bearer <API key>``: the key names the company the request sees.

Wrong keys (unknown, malformed, revoked, expired) are counted per address, as the inbound
webhook counts wrong tokens (``routing.webhook.count_address_failure``: the same limit and
window, a count of their own): past the limit that address's wrong keys get 429 with
``Retry-After`` until the window ends. The key is looked up first, so a right key always
works, even from a throttled address; a request with no key at all is not counted."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from routing.webhook import count_address_failure

from .models import ApiKey

FAILURES_KEY = "api:key-failures:{address}:{window}"

# last_used_at is written at most this often per key (not once per request).
TOUCH_EVERY = timedelta(seconds=60)


class KeyPrincipal:
    """``request.user`` of an API request: no person, a company's key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, key: ApiKey):
        self.key = key
        self.company = key.company

    def __str__(self) -> str:
        return str(self.key)


class TooManyWrongKeys(exceptions.Throttled):
    """429 for an address past the limit of wrong keys (``Retry-After``: its window's end)."""

    def __init__(self, *, wait: int):
        super().__init__(wait=wait)
        # DRF's Throttled would append its own "Expected available in …" sentence.
        self.detail = exceptions.ErrorDetail(
            "Too many wrong API keys from your address: try again in "
            f"{wait} seconds with Authorization: Bearer <API key>.",
            code=self.default_code,
        )


def refused(request, message: str) -> exceptions.APIException:
    """The 401 for a wrong key, or 429 once its address sent too many."""
    retry_after = count_address_failure(
        getattr(request, "_request", request), key_format=FAILURES_KEY, what="API keys"
    )
    if retry_after is not None:
        return TooManyWrongKeys(wait=retry_after)
    return exceptions.AuthenticationFailed(message)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.headers.get("Authorization", "").strip()
        if not header:
            return None  # 401 with WWW-Authenticate (authenticate_header)
        scheme, _, raw = header.partition(" ")
        raw = raw.strip()
        if scheme.lower() != "bearer" or not raw:
            # A key sent bare ("sbk_…"), or another scheme: say how to send it.
            raise exceptions.AuthenticationFailed(
                "Send the key as Authorization: Bearer <API key> (the word Bearer, a space, "
                "then the key)."
            )
        if len(raw) > 200 or not raw.isascii():
            raise refused(request, "This API key is not valid.")
        key = ApiKey.objects.select_related("company").filter(key_hash=ApiKey.hash(raw)).first()
        if key is None or key.revoked_at is not None:
            raise refused(request, "This API key is not valid (or was revoked).")
        now = timezone.now()
        if key.expires_at is not None and key.expires_at <= now:
            raise refused(request, f"This API key expired on {key.expires_at:%Y-%m-%d %H:%M} UTC.")
        if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return KeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="switchboard"'
