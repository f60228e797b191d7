"""``Idempotency-Key`` on writes, with the inbound webhook's rules: the same key with the same
payload replays the first answer (``Idempotent-Replayed: true``) and changes nothing; the same
key with another payload is refused (422). Keys are per API key (each key of a company is its
own namespace: it never replays another key's answer), kept ``API_IDEMPOTENCY_HOURS``.

The key's row is inserted first, in the transaction of the write: a second request with the
same key waits on the unique index until the first commits, then replays its answer. A write
that fails (an exception, a 5xx) rolls its row back with it, so a retry runs again."""

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from .models import IdempotencyRecord
from .problems import CONTENT_TYPE, problem, validation_problem

HEADER = "Idempotency-Key"


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def key_problem(key: str):
    if len(key) > 255:
        return validation_problem({HEADER: ["At most 255 characters."]})
    if not key.isprintable() or not key.isascii():
        return validation_problem(
            {HEADER: ["Only printable ASCII characters (no NUL or control characters)."]}
        )
    return None


def run_idempotent(request, company, handler):
    """Run ``handler()`` (the write) once per ``Idempotency-Key`` of the request's API key;
    replay its answer for the same payload."""
    api_key = request.auth
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return handler()
    refused = key_problem(key)
    if refused is not None:
        return refused
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    company=company, api_key=api_key, key=key, fingerprint=fingerprint, status=0
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(
                company=company, api_key=api_key, key=key
            ).first()
            if record is None:  # expired and swept in between: run as new
                return handler()
            if record.fingerprint != fingerprint:
                return problem(
                    422,
                    f"The Idempotency-Key “{key}” was used before with another request: use a "
                    "new key for a new request.",
                    kind="idempotency-key-reused",
                )
            response = _replay(record)
            return response
        response = handler()
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        record.status = response.status_code
        data = getattr(response, "data", None)
        record.body = None if data is None else json.loads(JSONRenderer().render(data))
        record.save(update_fields=["status", "body"])
    return response


def _replay(record: IdempotencyRecord):
    from rest_framework.response import Response

    response = Response(record.body, status=record.status)
    if record.status >= 400:
        # A refusal replays as it was first answered: problem details.
        response.content_type = CONTENT_TYPE
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_sweep() -> int:
    """Forget keys older than ``API_IDEMPOTENCY_HOURS``; returns how many."""
    cutoff = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
