"""The public API's own state: the companies' API keys and the answers kept for
``Idempotency-Key`` replays."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from agents.models import Company


class Scope(models.TextChoices):
    """What a key may do (docs/api.md, "Scopes")."""

    READ = "read", "read: every GET, the routing dry run"
    WRITE = "write", "write: contacts' data, inbound interactions, campaigns, leads"
    ROUTING = "routing", "routing: primary agents, reassignment rounds, presence"


class ApiKey(models.Model):
    """A company's key: shown once when created, stored as its SHA-256 (a 256-bit random
    secret needs no slow hash), seeing exactly that company."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, help_text="What uses this key, e.g. “CRM sync”.")
    # The key's first characters, shown in lists and logs to tell keys apart.
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Optional: the key stops working at this time."
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["company", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return "sbk_" + secrets.token_urlsafe(32)

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotencyRecord(models.Model):
    """The answer to a write sent with an ``Idempotency-Key``: the same key and payload
    replay it; the same key with another payload is refused (422). Each API key is its own
    namespace: another key of the company never replays this answer (nor learns, from a
    422, which key strings this one used)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path, query and body.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "api_key", "key"], name="api_idempotency_unique_per_key"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_age")]

    def __str__(self) -> str:
        return self.key
