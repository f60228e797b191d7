"""Emails sent once, one mechanism for every kind (assignment emails, lead emails): at most
one duplicate, only on a crash between the send and the commit.

Each such email is a row with ``status`` (pending / sent / cancelled), ``assigned_at``,
``sent_at``, ``attempts``, ``last_attempt_at`` and ``last_error`` (``agents.models
.OutboxEmail``). A kind declares, in an ``OutboxKind``, how its row is locked and how its
message is composed; everything else is here, the same for all kinds:

- ``outbox_send`` locks the row, drops it when it is no longer pending, composes the message
  (None: nothing left to tell, the row is cancelled), sends it and marks it sent, all in one
  transaction, so a task run twice (or a sweep racing a retry) sends it once. The mail
  server accepts the message before the row's "sent" commits: a crash (or a lost database)
  between the two leaves the row pending, and the retry or sweep sends it again. That
  window is the only duplicate; a message is never lost;
- ``outbox_deliver`` is the body of a kind's Celery task: a failed try is counted and retried
  with backoff;
- ``outbox_resend_stuck`` is the body of a kind's periodic sweep: it re-queues the pending rows
  whose task message was lost (the kind's lock skips rows another worker holds).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from smtplib import SMTPException
from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Model
from django.template.loader import render_to_string
from django.utils import timezone

from . import zones

SENT, CANCELLED, PENDING = "sent", "cancelled", "pending"
# A row tried this often is given up on by the sweep (each try is logged in last_error).
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class OutboxKind:
    """One kind of email sent once (at most one duplicate, only on a crash between the send
    and the commit).

    - ``model``: its concrete ``OutboxEmail`` model;
    - ``lock``: locks one row by pk inside the sending transaction, skipping a row another
      worker holds (returns None then, or when the row is gone);
    - ``compose``: the message for a locked, pending row, or None when nothing is left to
      tell (the assignment was undone meanwhile): the row is then cancelled.
    """

    model: type[Model]
    lock: Callable[[int], Any]
    compose: Callable[[Any], EmailMessage | None]


def email_message(*, subject: str, template: str, context: dict, to: str) -> EmailMultiAlternatives:
    """An email's message from its two templates: ``<template>.txt`` the body, ``<template>.html``
    the HTML alternative, rendered with the same context."""
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"{template}.txt", context), to=[to]
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def email_time(moment, time_zone: str) -> str:
    """A time as the emails write it, in the company's time zone (``Mon 3 Mar 2025, 14:05 EST``)."""
    return zones.local(moment, time_zone).strftime("%a %-d %b %Y, %H:%M %Z")


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


def outbox_send(kind: OutboxKind, *, email_id: int) -> str:
    """Send one email of ``kind`` if it is still due. Returns what happened:
    ``sent``, ``cancelled``, ``already-<status>`` or ``busy-or-missing``."""
    with transaction.atomic():
        email = kind.lock(email_id)
        if email is None:
            return "busy-or-missing"
        if email.status != PENDING:
            return "already-" + email.status
        message = kind.compose(email)
        if message is None:
            outbox_mark_cancelled(email)
            return "cancelled"
        message.send()
        outbox_mark_sent(email)
        return "sent"


def outbox_deliver(task: Any, kind: OutboxKind, *, email_id: int) -> str:
    """The body of a kind's send task (a bound Celery task, ``acks_late``): send, and on a
    mail-server failure count the try and retry with backoff (30 s, 1 min, 2 min, … up to
    30 min between tries)."""
    try:
        return outbox_send(kind, email_id=email_id)
    except (SMTPException, OSError) as error:
        outbox_failed(kind.model, email_id=email_id, error=error)
        raise task.retry(exc=error, countdown=min(30 * 2**task.request.retries, 1800)) from error
    except Exception as error:
        # Counted too, so the sweep's attempt cap stops a message that can never be sent.
        outbox_failed(kind.model, email_id=email_id, error=error)
        raise


def outbox_resend_stuck(kind: OutboxKind, send_task: Any) -> int:
    """The body of a kind's periodic sweep: queue ``send_task`` again for every stuck row;
    returns how many."""
    ids = outbox_stuck(kind.model)
    for email_id in ids:
        send_task.delay(email_id)
    return len(ids)
