"""``Authorization: Bearer <API key>``: the key names the company the request sees."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiKey

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


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        raw = raw.strip()
        if scheme.lower() != "bearer" or not raw:
            return None  # 401 with WWW-Authenticate (authenticate_header)
        if len(raw) > 200 or not raw.isascii():
            raise exceptions.AuthenticationFailed("This API key is not valid.")
        key = ApiKey.objects.select_related("company").filter(key_hash=ApiKey.hash(raw)).first()
        if key is None or key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key is not valid (or was revoked).")
        now = timezone.now()
        if key.expires_at is not None and key.expires_at <= now:
            raise exceptions.AuthenticationFailed(
                f"This API key expired on {key.expires_at:%Y-%m-%d %H:%M} UTC."
            )
        if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return KeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="switchboard"'
