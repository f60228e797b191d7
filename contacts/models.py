from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from agents.centers.models import ContactCenter, QueueItem
from agents.models import Company, OutboxEmail
from agents.phone import format_phone

# What a person may type for a contact, one definition for every path (admin, Lead Center,
# webhook, imports): ``contacts.services.contact_clean`` enforces it, the forms size their
# inputs from it. A phone is typed in any spelling (up to PHONE_INPUT_MAX characters) and
# stored in E.164 (at most 16).
NAME_MAX = 200
PHONE_INPUT_MAX = 40
EMAIL_MAX = 254
SOURCE_MAX = 100


class Contact(models.Model):
    """A person the company talks to (also the *customer* of the leads feature)."""

    # First column of the composite indexes below; no index of its own.
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="contacts", db_index=False
    )
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(
        max_length=20,
        blank=True,
        help_text="Any common spelling; stored in international (E.164) form.",
    )
    email = models.EmailField(blank=True)
    source = models.CharField(
        max_length=100, blank=True, help_text="Where the contact came from, e.g. website, import."
    )
    tags = models.CharField(
        max_length=300,
        blank=True,
        default="",
        db_default="",  # rows inserted in bulk SQL (imports, benchmarks) get it too
        help_text="Comma-separated, e.g. buyer, vip. Routing rules read them.",
    )
    primary_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="primary_contacts",
        help_text="Texts and form submissions go straight to this agent while they are available.",
        db_index=False,  # contact_primary_agent below: only contacts that have one
    )
    # Bumped on every change of primary agent: a queued email checks it is still current.
    ownership_version = models.PositiveIntegerField(default=0, editable=False)
    # *Re-Assign in progress*: while a distribution (routing's round ``reassign_hold``) decides
    # who owns the contact, only that distribution may change its primary agent. Routing sets
    # and clears the hold under the contact's lock; contacts only read it (no upward import).
    reassign_hold = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    reassign_hold_label = models.CharField(
        max_length=300, blank=True, editable=False, default="", db_default=""
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "phone"],
                condition=~Q(phone=""),
                name="contact_phone_unique_per_company",
                violation_error_message="Another contact of this company already has this number.",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "-created_at"], name="contact_company_recent"),
            models.Index(fields=["company", "name"], name="contact_company_name"),
            models.Index(fields=["company", "email"], name="contact_company_email"),
            models.Index(fields=["company", "primary_agent"], name="contact_company_primary"),
            # The API's lists page by id within a company (api/pagination.py): a range of this
            # index, whatever the size of the other companies.
            models.Index(fields=["company", "id"], name="contact_company_id"),
            # The API's `updated_since` (an integration polling for changes): the few rows
            # changed lately, not a scan of the company's contacts.
            models.Index(fields=["company", "updated_at"], name="contact_company_updated"),
            # An agent's contacts (their book, deleting an agent): new numbers from the
            # webhook have none, and index nothing here.
            models.Index(
                fields=["primary_agent"],
                condition=Q(primary_agent__isnull=False),
                name="contact_primary_agent",
            ),
            # The admin's *Re-Assign in progress* filter: a handful among a million.
            models.Index(
                fields=["company"],
                condition=Q(reassign_hold__isnull=False),
                name="contact_reassign_in_progress",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.display_phone or self.email or f"Contact #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("contacts:contact", args=[self.pk])

    @property
    def reassign_in_progress(self) -> bool:
        return self.reassign_hold is not None

    @property
    def display_phone(self) -> str:
        return format_phone(self.phone)

    @property
    def tag_list(self) -> list[str]:
        return [t.strip().lower() for t in self.tags.split(",") if t.strip()]


class ContactSearch(models.Model):
    """What the searches look in: a contact's name, e-mail and phone, one row per contact,
    written by the database itself (triggers on ``contacts_contact``:
    ``contacts/search_triggers.py``) when a contact is inserted, when one of these three or its
    company changes, and when it is deleted; no Python writes here.

    The searches' trigram indexes (PostgreSQL) are on this table, not on the contacts: a
    change of owner rewrites the contact's row and so enters it in every index of the
    contacts table again (the row moves), and with the trigrams there a handover of 100,000
    paid 3.0 s of its 6.0 s UPDATE for names and numbers that did not change
    (docs/routing-bulk.md). Here a row changes only when what it holds does.
    """

    contact = models.OneToOneField(
        Contact,
        on_delete=models.DO_NOTHING,  # the delete trigger removes the row with the contact
        primary_key=True,
        db_constraint=False,  # the triggers keep it; raw deletes of contacts stay possible
        related_name="search",
    )
    company = models.ForeignKey(
        Company, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    name = models.CharField(max_length=NAME_MAX, blank=True)
    email = models.CharField(max_length=EMAIL_MAX, blank=True)
    phone = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name_plural = "contact searches"

    def __str__(self) -> str:
        return self.name or self.phone or self.email


class TimelineEntry(models.Model):
    """One row of a contact's history. Built by its kind's builder in ``contacts.timeline``
    and stored by ``timeline_write`` / ``timeline_write_many`` there (a new contact's first row
    beside it: ``contacts.services``), in the same transaction as the change it describes."""

    class Kind(models.TextChoices):
        CONTACT_CREATED = "contact_created", "Contact created"
        CONTACT_UPDATED = "contact_updated", "Contact updated"
        PRIMARY_ASSIGNED = "primary_assigned", "Primary agent assigned"
        PRIMARY_CHANGED = "primary_changed", "Primary agent changed"
        PRIMARY_UNASSIGNED = "primary_unassigned", "Primary agent unassigned"
        # An item routed to its owner (or cover) not handled by its deadline moved to Active.
        RESPONSE_MISSED = "response_missed", "Response deadline missed"
        REASSIGN_STARTED = "reassign_started", "Re-assign started"
        REASSIGN_FINISHED = "reassign_finished", "Re-assign finished"
        # Sales leads (leads app) and outbound campaigns (campaigns app) write these through
        # the builders of contacts.timeline, in the transaction of their change.
        LEAD_ASSIGNED = "lead_assigned", "Lead assigned"
        LEAD_UNASSIGNED = "lead_unassigned", "Lead unassigned"
        LEAD_RESOLVED = "lead_resolved", "Lead resolved without a sale"
        LEAD_WON = "lead_won", "Lead won"
        ORDER_CREATED = "order_created", "Order entered"
        CAMPAIGN_CALLED = "campaign_called", "Campaign record called"
        CAMPAIGN_SKIPPED = "campaign_skipped", "Campaign record skipped"
        CAMPAIGN_DISPOSITIONED = "campaign_dispositioned", "Campaign record dispositioned"

    # Both are the first column of composite indexes below; no index of their own. The
    # company is the contact's, repeated for those indexes: the database checks the contact
    # (whose own key checks its company), not the company again, a check per row that a
    # handover of 100,000 contacts pays at commit (docs/routing-bulk.md).
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="timeline", db_index=False
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who made the change; empty for the system (webhook, routing, tasks).",
        db_index=False,  # timeline_actor below
    )
    # Not checked by the database row by row either (a handover's 100,000 rows paid a check
    # each at commit): a change of owner's row names the new owner, whose key the contact's
    # row holds in the same transaction (an unassignment's, the old owner), and Django
    # refuses to delete an agent any committed row names (PROTECT). An agent deleted while
    # a row naming them is being written is the one case the database would have refused
    # and now lets through (agents are deactivated, not deleted: docs/routing-bulk.md).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The agent the change is about, if any.",
        db_index=False,  # timeline_agent below
        db_constraint=False,
    )
    message = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "timeline entry"
        verbose_name_plural = "timeline entries"
        indexes = [
            models.Index(fields=["contact", "-created_at"], name="timeline_contact_recent"),
            models.Index(fields=["company", "kind", "created_at"], name="timeline_company_kind"),
            # Assignments per agent over a period (the workload page).
            models.Index(
                fields=["company", "agent", "created_at"],
                condition=Q(kind__in=["primary_assigned", "primary_changed"]),
                name="timeline_agent_assignments",
            ),
            # Most rows (the webhook's, routing's) have no actor or agent: only rows that
            # have one are indexed (what deleting an agent looks up).
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="timeline_actor"),
            models.Index(fields=["agent"], condition=Q(agent__isnull=False), name="timeline_agent"),
        ]

    def __str__(self) -> str:
        return self.message


class Channel(models.TextChoices):
    TEXT = "text", "Text"
    FORM = "form", "Form submission"
    CALL = "call", "Call"
    CHAT = "chat", "Chat"


class Interaction(models.Model):
    """A text, form submission, call or chat that came in for a contact, and where it went."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        HANDLED = "handled", "Handled"

    class Pool(models.TextChoices):
        ACTIVE = "active", "Active"
        # Every agent who could take it is at capacity: it waits, oldest first, and is given
        # out as soon as someone's load drops (docs/availability.md).
        QUEUE = "queue", "Waiting for capacity"

    # Every write of the webhook maintains this table's indexes: a column that leads a
    # composite index has no index of its own, and columns that are mostly empty are
    # indexed only where they are not (Meta.indexes).
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="interactions", db_index=False
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    body = models.TextField(blank=True)
    source = models.CharField(max_length=100, blank=True)
    contact_center = models.CharField(
        max_length=200, blank=True, help_text="The contact center the call flow named, if any."
    )
    # A call or chat routed through a contact center: the center, the ring list it computed
    # ([{agent, email, name, order, devices: [{kind, label}]}], in ring order) and the item in
    # the center's queue until someone takes it. Only the center's members see it in Active.
    center = models.ForeignKey(
        ContactCenter,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    ring = models.JSONField(default=list, blank=True, db_default=[])
    queue_item = models.ForeignKey(
        QueueItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    routed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routed_interactions",
        help_text="The agent whose inbox it is in (by routing, or because they took it).",
        db_index=False,
    )
    pool = models.CharField(max_length=10, choices=Pool.choices, blank=True)
    route_reason = models.CharField(max_length=300)
    route_details = models.JSONField(default=dict, blank=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    # Sent to a cover agent: the absent owner they cover for, and until when.
    covering_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    cover_until = models.DateTimeField(null=True, blank=True)
    # The owner's response deadline (counted in their working hours), its warning, and when
    # the sweep moved it to Active for a miss (docs/availability.md).
    response_due_at = models.DateTimeField(null=True, blank=True)
    response_warn_at = models.DateTimeField(null=True, blank=True)
    response_warned_at = models.DateTimeField(null=True, blank=True)
    response_missed_at = models.DateTimeField(null=True, blank=True)
    response_missed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # Waiting in the capacity queue since (pool "queue").
    queued_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    # SHA-256 of the request the key was first used for: a retry must send the same one.
    request_hash = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="interaction_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["routed_to", "status", "-created_at"], name="interaction_inbox"),
            models.Index(
                fields=["company", "pool", "status", "-created_at"], name="interaction_pool"
            ),
            models.Index(fields=["contact", "-created_at"], name="interaction_contact_recent"),
            models.Index(
                fields=["taken_by", "taken_at"],
                condition=Q(taken_by__isnull=False),
                name="interaction_taken",
            ),
            models.Index(
                fields=["handled_by"],
                condition=Q(handled_by__isnull=False),
                name="interaction_handled_by",
            ),
            # A center's calls, newest first (its dashboard); also the FK's index.
            models.Index(
                fields=["center", "-created_at"],
                condition=Q(center__isnull=False),
                name="interaction_center_recent",
            ),
            models.Index(
                fields=["queue_item"],
                condition=Q(queue_item__isnull=False),
                name="interaction_queue_item",
            ),
            # The deadline sweep's reads: only open items with a deadline still pending.
            models.Index(
                fields=["response_due_at"],
                condition=Q(
                    response_due_at__isnull=False, response_missed_at__isnull=True, status="open"
                ),
                name="interaction_due",
            ),
            models.Index(
                fields=["response_warn_at"],
                condition=Q(
                    response_warn_at__isnull=False,
                    response_warned_at__isnull=True,
                    response_missed_at__isnull=True,
                    status="open",
                ),
                name="interaction_warn_due",
            ),
            # A contact's misses by its owner (repeated misses hand the contact on).
            models.Index(
                fields=["contact", "response_missed_at"],
                condition=Q(response_missed_at__isnull=False),
                name="interaction_missed",
            ),
            # The capacity queue, oldest first.
            models.Index(
                fields=["company", "queued_at", "id"],
                condition=Q(pool="queue", status="open"),
                name="interaction_capacity_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} from {self.contact}"


class AssignmentEmail(OutboxEmail):
    """The email telling an agent about one assignment (or one bulk action's assignments).

    Sent exactly once: the task locks this row and marks it sent in the same transaction."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled (assignment undone before sending)"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # [[contact id, ownership version], ...]: what the email is about, as it was assigned.
    contacts = models.JSONField(default=list)
    # Who assigned when no person did: the API key of the request (“API key “CRM sync””), as
    # the timeline row names it; empty for Switchboard itself.
    actor_label = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["status", "assigned_at"], name="assignment_email_pending")]

    def __str__(self) -> str:
        return f"Assignment email to {self.agent} ({self.get_status_display()})"


class PrimaryLoad(models.Model):
    """How many contacts an agent is primary agent of, per company.

    Kept by the primary-agent services in the same transaction as each change (and by
    contact deletion), so the workload page reads 200 numbers instead of counting a million
    rows. ``contacts_recount_primary_load`` rebuilds it from the contacts if ever needed.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    contacts = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "agent"], name="primary_load_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agent}: {self.contacts}"
