"""API keys: created by a company's admin (shown once), changed, revoked; stored as their
hash. The Django admin (``api/admin.py``) and the demo (``demo/``) go through these."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.models import Agent, Company

from .models import ApiKey, Scope


def api_key_clean(*, scopes: list[str], expires_at=None) -> list[str]:
    """The scopes in their canonical order, or a ``ValidationError`` by field."""
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise ValidationError({"scopes": [f"Unknown scopes: {', '.join(unknown)}."]})
    if not scopes:
        raise ValidationError({"scopes": ["Pick at least one scope: read, write or routing."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    return [s for s in Scope.values if s in scopes]


def api_key_create(
    *,
    company: Company,
    name: str,
    scopes: list[str],
    created_by: Agent | None,
    expires_at=None,
    raw: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key; returns (key, the raw key to show once). ``raw`` is for the demo's key,
    kept in var/ between runs (``demo/api.py``): every other key is random."""
    scopes = api_key_clean(scopes=scopes, expires_at=expires_at)
    raw = raw or ApiKey.generate()
    key = ApiKey.objects.create(
        company=company,
        name=name.strip() or "API key",
        prefix=raw[:12],
        key_hash=ApiKey.hash(raw),
        scopes=scopes,
        created_by=created_by,
        expires_at=expires_at,
    )
    return key, raw


def api_key_update(*, key: ApiKey, name: str, scopes: list[str], expires_at=None) -> ApiKey:
    """A key's name, scopes and expiry; a revoked key stays revoked (and is not changed)."""
    if key.revoked_at is not None:
        raise ValidationError("This key was revoked; it can no longer be changed.")
    key.scopes = api_key_clean(
        scopes=scopes,
        # An expiry kept as it was may have passed meanwhile: only a new one must be ahead.
        expires_at=expires_at if expires_at != key.expires_at else None,
    )
    key.name = name.strip() or "API key"
    key.expires_at = expires_at
    key.save(update_fields=["name", "scopes", "expires_at"])
    return key


def api_key_revoke(*, key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
