"""API keys: created by a company's admin (shown once), revoked; stored as their hash."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.models import Agent, Company

from .models import ApiKey, Scope


def api_key_create(
    *,
    company: Company,
    name: str,
    scopes: list[str],
    created_by: Agent | None,
    expires_at=None,
) -> tuple[ApiKey, str]:
    """A new key; returns (key, the raw key to show once)."""
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise ValidationError({"scopes": [f"Unknown scopes: {', '.join(unknown)}."]})
    if not scopes:
        raise ValidationError({"scopes": ["Pick at least one scope: read, write or routing."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    raw = ApiKey.generate()
    key = ApiKey.objects.create(
        company=company,
        name=name.strip() or "API key",
        prefix=raw[:12],
        key_hash=ApiKey.hash(raw),
        scopes=[s for s in Scope.values if s in scopes],
        created_by=created_by,
        expires_at=expires_at,
    )
    return key, raw


def api_key_revoke(*, key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
