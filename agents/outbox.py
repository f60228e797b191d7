"""The bookkeeping every exactly-once email shares (assignment emails, lead emails).

Each such email is a row with ``status`` (pending / sent / cancelled), ``assigned_at``,
``sent_at``, ``attempts``, ``last_attempt_at`` and ``last_error``. Its sender locks the row,
checks it is still due, sends, and marks it here in the same transaction; a failed try is
counted; a periodic sweep finds the pending rows whose task message was lost."""

from datetime import timedelta

from django.db.models import F, Model
from django.utils import timezone

SENT, CANCELLED, PENDING = "sent", "cancelled", "pending"
# A row tried this often is given up on by the sweep (each try is logged in last_error).
MAX_ATTEMPTS = 10


def outbox_mark_sent(email: Model) -> None:
    """The locked row was sent just now (inside the sending transaction)."""
    email.status = SENT
    email.sent_at = timezone.now()
    email.attempts = F("attempts") + 1
    email.last_attempt_at = email.sent_at
    email.save(update_fields=["status", "sent_at", "attempts", "last_attempt_at"])


def outbox_mark_cancelled(email: Model) -> None:
    """Nothing left to tell (the assignment was undone before sending)."""
    email.status = CANCELLED
    email.save(update_fields=["status"])


def outbox_failed(model: type[Model], *, email_id: int, error: Exception) -> None:
    """Count a failed try and keep its error (the task retries with backoff)."""
    model.objects.filter(pk=email_id).update(
        attempts=F("attempts") + 1, last_error=str(error)[:300], last_attempt_at=timezone.now()
    )


def outbox_stuck(
    model: type[Model], *, older_than: timedelta = timedelta(minutes=2), limit: int = 500
) -> list[int]:
    """Pending rows whose task message may have been lost: never tried, or last tried long
    ago (a retry that a killed worker took with it)."""
    now = timezone.now()
    return list(
        model.objects.filter(
            status=PENDING, assigned_at__lt=now - older_than, attempts__lt=MAX_ATTEMPTS
        )
        .exclude(last_attempt_at__gte=now - timedelta(minutes=30))
        .values_list("pk", flat=True)[:limit]
    )
