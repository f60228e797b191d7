"""Outbound webhooks: a company's endpoints, the event outbox written in the transaction of
each change (``events.emit``), and the deliveries that carry events to each endpoint."""

import secrets
import uuid

from django.db import models
from django.utils import timezone

from agents.models import Company, OutboxEmail


class EventType(models.TextChoices):
    """Every event an endpoint can subscribe to (docs/api.md, "Events")."""

    CONTACT_OWNER_CHANGED = "contact.owner_changed", "A contact's primary agent changed"
    CONTACT_CREATED = "contact.created", "A contact was created"
    CONTACT_DELETED = "contact.deleted", "A contact was deleted"
    REASSIGNMENT_STARTED = "reassignment.started", "A reassignment round started"
    REASSIGNMENT_FINISHED = "reassignment.finished", "A reassignment round finished"
    INTERACTION_ROUTED = "interaction.routed", "An inbound interaction was routed"
    LEAD_ASSIGNED = "lead.assigned", "A lead was assigned"
    LEAD_UNASSIGNED = "lead.unassigned", "A lead was unassigned"
    LEAD_RESOLVED = "lead.resolved", "A lead was resolved (or won)"
    CAMPAIGN_RECORD_HANDLED = "campaign.record_handled", "A campaign record was handled"


class Endpoint(models.Model):
    """Where a company wants its events sent."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # The EventType values this endpoint hears.
    event_types = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    # The signing secret (Standard Webhooks: "whsec_" + base64). Shown once when created; kept,
    # since every delivery is signed with it.
    secret = models.CharField(max_length=100, editable=False)
    # The secret before the last rotation: requests are signed with it too (a second
    # signature) until ``previous_secret_until``, so receivers can switch without a gap.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set at the first failure of a run of failures, cleared by a success: an endpoint failing
    # for a day is disabled (and the company's admins told).
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    # One sender at a time per endpoint (deliveries leave in order): a lease, not a lock held
    # across the HTTP request.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["company", "pk"]

    def __str__(self) -> str:
        return self.description or self.url

    @staticmethod
    def new_secret() -> str:
        import base64

        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Event(models.Model):
    """One event, written in the same transaction as the change it reports (the outbox)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    # Receivers deduplicate by this (it is the event's "id" in every payload).
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    # Not a foreign key: a contact.deleted event outlives its contact.
    contact_id = models.BigIntegerField(null=True, blank=True)
    # The contact's ownership version after the change (ordering per contact).
    version = models.PositiveIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict)
    # Set once copied into the deliveries of the endpoints that hear it.
    dispatched = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"],
                name="event_undispatched",
                condition=models.Q(dispatched=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class Delivery(models.Model):
    """Up to 100 events sent to one endpoint in one signed request, retried until it is
    answered with a 2xx or given up."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (given up)"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The webhook-id header: the same on every attempt.
    msg_id = models.CharField(max_length=40, unique=True, editable=False)
    # The Event ids carried, in order.
    events = models.JSONField(default=list)
    # The type of its events (one per delivery: a batch holds one mass change of one type).
    event_type = models.CharField(max_length=40, choices=EventType.choices, blank=True)
    # The mass change this batch belongs to ("handover", "bulk_assign"), said in the payload.
    mass = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When this run of attempts began (created, resent, or its endpoint re-enabled): it is
    # retried for WEBHOOK_RETRY_FOR_SECONDS from here, then given up.
    retry_from = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["endpoint", "id"],
                name="delivery_pending",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return self.msg_id

    @staticmethod
    def new_msg_id() -> str:
        return "msg_" + secrets.token_hex(12)


class EndpointDisabledEmail(OutboxEmail):
    """The email telling a company admin that an endpoint failing for a day was disabled
    (one per admin; sent once by ``agents.outbox``)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled (endpoint enabled again or removed)"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)

    class Meta:
        indexes = [models.Index(fields=["status", "assigned_at"], name="endpoint_email_pending")]

    def __str__(self) -> str:
        return f"Endpoint disabled email to {self.agent} ({self.get_status_display()})"
