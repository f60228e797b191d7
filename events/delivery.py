"""Delivery of events to endpoints: dispatch (new events into deliveries), send (one signed
request per delivery, one sender per endpoint, in order), retry with backoff, give up,
disable an endpoint that fails for a day. The bodies of the tasks in ``events/tasks.py``.

- **Dispatch** (``dispatch_company``): under the company's events lock (one dispatcher per
  company at a time, ``events.locks``), the company's undispatched events are read in id
  order and copied into a ``Delivery`` per event for every enabled endpoint that hears its
  type, or one per up to ``BATCH`` consecutive events of one mass change (a handover); the
  events are marked dispatched in the same transaction. A contact's events are written under
  its row lock, so their ids follow its ownership versions, and so do the deliveries' ids.
- **Send** (``send_endpoint``): a run takes the endpoint's lease (a compare-and-set on
  ``lease_until``, never a lock held across HTTP), then sends its pending deliveries in id
  order over one kept-alive connection to the address it checked (``events.connection``,
  ``events.net``), each signed once as Standard Webhooks say. It stops at the first delivery
  that is not due or fails (strictly first in, first out: a later delivery never overtakes
  it), and when the lease is lost or the endpoint disabled. The sweep (``sweep``) starts
  the runs that are due and dispatches what an after-commit message missed, so a worker
  that died mid-run loses nothing: its lease runs out and the rows are still pending.
"""

import json
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from standardwebhooks import Webhook

from agents.bulk import copy_insert
from agents.models import Company

from .connection import Answer, Connection
from .locks import lock_company_events
from .models import Delivery, Endpoint, Event
from .services import endpoint_disable_failing
from .tasks import dispatch_events, send_deliveries

logger = logging.getLogger(__name__)

# Events of one mass change per request, at most.
BATCH = 100
# Events read per dispatch transaction.
DISPATCH_CHUNK = 2000
# Deliveries read per query by a sender run.
SEND_CHUNK = 50
USER_AGENT = "Switchboard-Webhooks/1"


def iso(moment: datetime) -> str:
    """A time as payloads write it: ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def envelope(uid, type: str, occurred_at: datetime, data: dict) -> dict:
    return {"id": str(uid), "type": type, "timestamp": iso(occurred_at), "data": data}


# --- Dispatch ----------------------------------------------------------------------------------
def dispatch_company(*, company_id: int) -> int:
    """Copy the company's new events into deliveries; returns how many events were done."""
    total = 0
    while True:
        done = _dispatch_chunk(company_id)
        total += done
        if done < DISPATCH_CHUNK:
            return total


@transaction.atomic
def _dispatch_chunk(company_id: int) -> int:
    try:
        lock_company_events(company_id)
    except Company.DoesNotExist:
        return 0
    rows = list(
        Event.objects.filter(company_id=company_id, dispatched=False)
        .order_by("id")
        .values_list("id", "type", "occurred_at", "data__mass_change")[:DISPATCH_CHUNK]
    )
    if not rows:
        return 0
    endpoints = Endpoint.objects.filter(company_id=company_id, enabled=True).only(
        "pk", "event_types"
    )
    deliveries: list[Delivery] = []
    heard_by: set[int] = set()
    for endpoint in endpoints:
        new = deliveries_for(endpoint, rows)
        if new:
            heard_by.add(endpoint.pk)
            deliveries += new
    copy_insert(deliveries)
    Event.objects.filter(pk__in=[row[0] for row in rows]).update(dispatched=True)
    for endpoint_id in sorted(heard_by):
        send_deliveries.delay_on_commit(endpoint_id)
    return len(rows)


def deliveries_for(endpoint: Endpoint, rows: list[tuple]) -> list[Delivery]:
    """The deliveries of ``rows`` (id, type, occurred_at, mass change) for one endpoint, in
    order: consecutive events of one mass change (same type, kind and moment: one
    ``event_emit_many``) share a delivery, up to ``BATCH``; any other event has its own."""
    hears = set(endpoint.event_types)
    now = timezone.now()
    out: list[Delivery] = []
    current: Delivery | None = None
    current_key = None
    for event_id, type, occurred_at, mass in rows:
        if type not in hears:
            continue
        key = (type, mass, occurred_at) if mass else None
        if key is not None and key == current_key and len(current.events) < BATCH:
            current.events.append(event_id)
            continue
        current = Delivery(
            endpoint_id=endpoint.pk,
            msg_id=Delivery.new_msg_id(),
            events=[event_id],
            event_type=type,
            mass=mass or "",
            next_attempt_at=now,
            retry_from=now,
            created_at=now,
        )
        current_key = key
        out.append(current)
    return out


# --- The body of a delivery ----------------------------------------------------------------------
def delivery_body(delivery: Delivery) -> str:
    """The JSON body of a delivery, from its events in one query: the event's envelope, or
    for a mass change a batch of envelopes."""
    rows = (
        Event.objects.filter(pk__in=delivery.events)
        .order_by("id")
        .values_list("uid", "type", "occurred_at", "data")
    )
    envelopes = [envelope(*row) for row in rows]
    if delivery.mass:
        payload = {
            "type": "batch",
            "timestamp": envelopes[0]["timestamp"] if envelopes else iso(delivery.created_at),
            "data": {"count": len(envelopes), "mass_change": delivery.mass, "events": envelopes},
        }
    elif envelopes:
        payload = envelopes[0]
    else:
        # Its event is gone (it cannot be, short of a hand-made delete): say so, don't crash.
        payload = {"type": "missing", "timestamp": iso(delivery.created_at), "data": {}}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


# --- Retry ---------------------------------------------------------------------------------------
def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: doubling from
    ``WEBHOOK_RETRY_BASE_SECONDS`` up to ``WEBHOOK_RETRY_MAX_DELAY_SECONDS``, with jitter (a
    random half to all of it, so endpoints that failed together don't retry together)."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    delay = min(base * 2 ** min(attempts - 1, 30), settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS)
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter


def _record_success(delivery: Delivery, answer: Answer, now: datetime) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.DELIVERED,
        attempts=F("attempts") + 1,
        last_attempt_at=now,
        last_status_code=answer.status,
        last_error="",
        delivered_at=now,
    )


def _record_failure(delivery: Delivery, answer: Answer, now: datetime) -> bool:
    """Count the failed try; schedule the next or give up. Returns whether it was given up."""
    attempts = delivery.attempts + 1
    give_up = now >= delivery.retry_from + timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED if give_up else Delivery.Status.PENDING,
        attempts=attempts,
        last_attempt_at=now,
        last_status_code=answer.status,
        last_error=answer.error[:300],
        next_attempt_at=now if give_up else now + backoff(attempts),
    )
    return give_up


def _endpoint_failed(endpoint_id: int, now: datetime) -> None:
    """A failure of the endpoint: the first of a run starts ``failing_since``; failing for
    ``WEBHOOK_DISABLE_AFTER_SECONDS`` disables it (and tells the company's admins)."""
    started = Endpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(
        failing_since=now
    )
    if started:
        return
    limit = now - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    if Endpoint.objects.filter(pk=endpoint_id, enabled=True, failing_since__lte=limit).exists():
        endpoint_disable_failing(endpoint_id=endpoint_id)


# --- The sender ----------------------------------------------------------------------------------
@dataclass
class Run:
    """What one sender run did."""

    delivered: int = 0
    failed: int = 0
    given_up: int = 0
    events: int = 0
    busy: bool = False
    stopped: str = ""
    codes: list[int | None] = field(default_factory=list)


# Room a lease keeps beyond one request's time limit: building the body, recording the
# answer, and clocks of workers a little apart.
LEASE_MARGIN_SECONDS = 30.0


def lease_seconds() -> float:
    """How long a lease lasts: ``WEBHOOK_LEASE_SECONDS``, but never less than twice a whole
    request and its margin, so that a lease renewed before a request (``Lease.renew``)
    outlives it, whatever the settings say: the sweep never starts a second run for an
    endpoint while its run still waits on an answer."""
    request = settings.WEBHOOK_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS
    return max(settings.WEBHOOK_LEASE_SECONDS, 2 * request)


class Lease:
    """One sender per endpoint: ``lease_until`` taken by compare-and-set, renewed while the
    run lasts (before each request, when a few seconds have passed or less than a request
    and its margin is left), given back at its end. A run whose lease was taken over stops."""

    def __init__(self, endpoint_id: int) -> None:
        self.endpoint_id = endpoint_id
        self.until: datetime | None = None
        self.renewed = 0.0
        self.length = lease_seconds()

    def _length(self) -> timedelta:
        return timedelta(seconds=self.length)

    def take(self) -> bool:
        now = timezone.now()
        until = now + self._length()
        taken = (
            Endpoint.objects.filter(pk=self.endpoint_id, enabled=True)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_until=until)
        )
        if taken:
            self.until, self.renewed = until, time.monotonic()
        return bool(taken)

    def renew(self) -> bool:
        """Keep the lease (at most every few seconds); False when it was lost or the
        endpoint disabled meanwhile."""
        held = time.monotonic() - self.renewed
        left = self.length - held
        request = settings.WEBHOOK_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS
        if held < min(5.0, self.length / 4) and left > request:
            return True
        until = timezone.now() + self._length()
        kept = Endpoint.objects.filter(
            pk=self.endpoint_id, enabled=True, lease_until=self.until
        ).update(lease_until=until)
        if kept:
            self.until, self.renewed = until, time.monotonic()
        return bool(kept)

    def release(self) -> None:
        Endpoint.objects.filter(pk=self.endpoint_id, lease_until=self.until).update(
            lease_until=None
        )


def send_endpoint(*, endpoint_id: int, max_seconds: float | None = None) -> Run:
    """One sender run for an endpoint (see the module's docstring)."""
    run = Run()
    lease = Lease(endpoint_id)
    if not lease.take():
        run.busy = True
        return run
    endpoint = Endpoint.objects.only(
        "pk", "url", "secret", "previous_secret", "previous_secret_until"
    ).get(pk=endpoint_id)
    connection = Connection(endpoint.url)
    signer = Signer(endpoint)
    deadline = time.monotonic() + (max_seconds or settings.WEBHOOK_SENDER_MAX_SECONDS)
    try:
        run.stopped = _send_pending(endpoint_id, connection, signer, lease, deadline, run)
    finally:
        connection.close()
        lease.release()
    return run


def _send_pending(endpoint_id, connection, signer, lease, deadline, run: Run) -> str:
    after = 0
    while True:
        batch = list(
            Delivery.objects.filter(endpoint_id=endpoint_id, status=Delivery.Status.PENDING)
            .filter(pk__gt=after)
            .order_by("pk")
            .only("pk", "msg_id", "events", "mass", "attempts", "retry_from", "next_attempt_at")
            .all()[:SEND_CHUNK]
        )
        if not batch:
            return "empty"
        for delivery in batch:
            if delivery.next_attempt_at > timezone.now():
                return "waiting"
            if time.monotonic() > deadline:
                return "time"
            if not lease.renew():
                return "lease"
            answer = _attempt(delivery, connection, signer)
            now = timezone.now()
            run.codes.append(answer.status)
            if answer.ok:
                _record_success(delivery, answer, now)
                run.delivered += 1
                run.events += len(delivery.events)
                if run.delivered == 1:
                    Endpoint.objects.filter(pk=endpoint_id, failing_since__isnull=False).update(
                        failing_since=None
                    )
                continue
            run.failed += 1
            given_up = _record_failure(delivery, answer, now)
            _endpoint_failed(endpoint_id, now)
            if not given_up:
                return "failed"
            # Given up on this one: the next is due at once (still in order).
            run.given_up += 1
        after = batch[-1].pk


class Signer:
    """Signs with the endpoint's secret and, for the grace period after a rotation, with
    the secret it replaced as well: ``webhook-signature`` then holds both signatures, space
    separated (Standard Webhooks), and a receiver verifying with either accepts it."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.webhooks = [Webhook(endpoint.secret)]
        until = endpoint.previous_secret_until
        if endpoint.previous_secret and until is not None and until > timezone.now():
            self.webhooks.append(Webhook(endpoint.previous_secret))
            self.until = until
        else:
            self.until = None

    def sign(self, msg_id: str, moment: datetime, body: str) -> str:
        if self.until is not None and moment >= self.until:
            del self.webhooks[1:]  # the grace period ended during the run
            self.until = None
        return " ".join(webhook.sign(msg_id, moment, body) for webhook in self.webhooks)


def _attempt(delivery: Delivery, connection: Connection, signer: Signer) -> Answer:
    body = delivery_body(delivery)
    moment = datetime.now(UTC)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signer.sign(delivery.msg_id, moment, body),
    }
    return connection.post(body.encode(), headers)


# --- The sweep -----------------------------------------------------------------------------------
def sweep() -> tuple[int, int]:
    """Dispatch every company with undispatched events and start a sender run for every
    enabled endpoint with a due delivery and no live lease (what a lost message, a killed
    worker or a backoff left). Returns (companies, endpoints)."""
    companies = list(
        Event.objects.filter(dispatched=False).values_list("company_id", flat=True).distinct()
    )
    for company_id in companies:
        dispatch_events.delay(company_id)
    now = timezone.now()
    head = (
        Delivery.objects.filter(endpoint=OuterRef("pk"), status=Delivery.Status.PENDING)
        .order_by("pk")
        .values("next_attempt_at")[:1]
    )
    due = list(
        Endpoint.objects.filter(enabled=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .annotate(head_due=Subquery(head))
        .filter(head_due__lte=now)
        .values_list("pk", flat=True)
    )
    for endpoint_id in due:
        send_deliveries.delay(endpoint_id)
    return len(companies), len(due)
