from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from agents.models import Company, OutboxEmail
from contacts.models import Channel, Contact


class Method(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round robin"
    FIRST_TO_CLAIM = "first_to_claim", "First to claim"
    NEXT_UP = "next_up", "Next up"
    LEAST_LOADED = "least_loaded", "Least loaded"


class Distribution(models.Model):
    """What routing rules and reassignment groups share: members, a method, a fallback."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.ROUND_ROBIN)
    default_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Gets the contact when nobody claims it in time or nobody is available.",
    )
    claim_window_minutes = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
        help_text="First to claim and next up: how long an offer stays open (1–1440 minutes).",
    )
    skip_unavailable = models.BooleanField(
        default=True,
        help_text="Skip members who are away or offline; they keep their place in the rotation.",
    )
    # The stored rotation (routing.engine.Rotation.as_dict()).
    rotation = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


class ReassignmentGroup(Distribution):
    """Re-routes existing contacts, triggered by hand from the contact page."""

    takes_missed_deadlines = models.BooleanField(
        "takes contacts after missed deadlines",
        default=False,
        db_default=False,
        help_text="A contact whose owner missed the company's number of response deadlines "
        "on it is re-assigned through this group (at most one group per company).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="group_name_unique"),
            models.UniqueConstraint(
                fields=["company"],
                condition=models.Q(takes_missed_deadlines=True),
                name="group_one_for_missed_deadlines",
                violation_error_message="Another group of this company already takes contacts "
                "after missed deadlines.",
            ),
        ]
        permissions = [
            ("manage_routing", "Contact Routing Rule Management"),
        ]


class GroupMember(models.Model):
    group = models.ForeignKey(ReassignmentGroup, on_delete=models.CASCADE, related_name="members")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["group", "added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["group", "agent"], name="group_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agent} in {self.group}"


class HasField(models.TextChoices):
    ANY = "", "Any"
    YES = "yes", "Yes"
    NO = "no", "No"


class RoutingRule(Distribution):
    """Routes *new* contacts: ordered, first match wins, can be paused."""

    position = models.PositiveIntegerField(default=0, help_text="Lower runs first.")
    paused = models.BooleanField(default=False)
    sources = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated sources that match (e.g. website, zillow); empty = any.",
    )
    channels = models.CharField(
        max_length=100,
        blank=True,
        help_text=f"Comma-separated channels ({', '.join(Channel.values)}); empty = any.",
    )
    tag = models.CharField(max_length=100, blank=True, help_text="Contact must have this tag.")
    has_phone = models.CharField(max_length=3, choices=HasField.choices, blank=True)
    has_email = models.CharField(max_length=3, choices=HasField.choices, blank=True)
    active_from = models.TimeField(null=True, blank=True, help_text="In the company's time zone.")
    active_until = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "pk"]


class RuleMember(models.Model):
    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="members")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["rule", "added_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["rule", "agent"], name="rule_member_unique")]

    def __str__(self) -> str:
        return f"{self.agent} in {self.rule}"


class Round(models.Model):
    """One contact being distributed by a group or a rule: offers, a deadline, a result.

    While a round is open the contact's primary agent cannot change by any other path
    (*Re-Assign in progress*). The deadline is stored here, so a lost task message or a
    restarted worker delays the outcome but never loses it: the sweep finishes it.
    """

    class Status(models.TextChoices):
        OPEN = "open", "In progress"
        CLAIMED = "claimed", "Claimed"
        ASSIGNED = "assigned", "Assigned"
        FALLBACK = "fallback", "Went to the default assignee"
        UNASSIGNED = "unassigned", "Nobody could take it"

    # The contact's company, repeated (not checked again by the database: the contact is).
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="rounds")
    group = models.ForeignKey(
        ReassignmentGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="rounds"
    )
    rule = models.ForeignKey(
        RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="rounds"
    )
    method = models.CharField(max_length=20, choices=Method.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A handover of ``from_agent``'s book: they are neither offered the contact nor given it
    # back as the default assignee.
    excludes_owner = models.BooleanField(default=False, db_default=False)
    # Next up: the members still to be offered, in order.
    queue = models.JSONField(default=list, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact"], condition=Q(status="open"), name="one_open_round_per_contact"
            )
        ]
        indexes = [models.Index(fields=["status", "deadline_at"], name="round_due")]

    def __str__(self) -> str:
        return f"{self.source_name} for {self.contact} ({self.get_status_display()})"

    @property
    def offered_to(self) -> str:
        """Who holds an open offer now (uses prefetched offers when there are)."""
        offers = sorted(self.offers.all(), key=lambda o: o.pk)
        return ", ".join(str(o.agent) for o in offers if o.status == Offer.Status.OPEN)

    @property
    def source_name(self) -> str:
        if self.group_id:
            return f"group “{self.group}”"
        if self.rule_id:
            return f"rule “{self.rule}”"
        return "a deleted group"


class Offer(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLAIMED = "claimed", "Claimed"
        LOST = "lost", "Someone else claimed it"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set in the transaction that sends the offer's email: a redelivered task sends nothing.
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["agent", "status"], name="offer_inbox")]

    def __str__(self) -> str:
        return f"Offer of {self.round.contact} to {self.agent}"


class Decision(models.Model):
    """The why log: every automatic routing decision, its candidates and its reasons."""

    # A log written beside the change it explains: its contact, group and chosen agent are
    # the ones the change itself locked or wrote in the same transaction (the contact's row,
    # the group's, the new owner whose key the contact's row holds), so the database does not
    # check them again, row by row at commit (~4 s of a book's handover of 100,000:
    # docs/routing-bulk.md). Django still deletes and clears them (on_delete), and the why
    # log names agents by id anyway (its candidates: ``routing.why``). A group or contact
    # deleted while a change naming it is being written (a delete the database refused
    # before) leaves rows naming a gone id: the admin's list leaves such a row out, an
    # entry shows no group or agent. The company is the contact's, repeated, and not checked
    # either. The contact's and group's own indexes are the first columns of
    # decision_contact and decision_group_period.
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    round = models.ForeignKey(Round, on_delete=models.SET_NULL, null=True, blank=True)
    group = models.ForeignKey(
        ReassignmentGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    rule = models.ForeignKey(
        RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Blank for a decision that is no distribution: a missed response deadline moving an
    # item to Active (routing/deadlines.py).
    method = models.CharField(max_length=20, choices=Method.choices, blank=True)
    # By agent id (routing/why.py: the shape, and ``shown`` names them).
    candidates = models.JSONField(default=list)  # [agent id, …]
    excluded = models.JSONField(default=dict)  # {"passed_over": {"<id>": why}, "had_their_turn"}
    chosen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["group", "created_at"], name="decision_group_period"),
            models.Index(fields=["contact", "-created_at"], name="decision_contact"),
        ]

    def __str__(self) -> str:
        return self.reason


class DeadlineEmail(OutboxEmail):
    """An email about an owner's response deadline: the warning before it, the move to Active
    when it was missed, being set Away after a miss. Sent exactly once (``agents.outbox``)."""

    class Kind(models.TextChoices):
        WARNING = "warning", "Deadline near"
        MISSED = "missed", "Deadline missed: moved to Active"
        AWAY = "away", "Set Away after a missed deadline"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled (handled before sending)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    interaction = models.ForeignKey(
        "contacts.Interaction", on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)

    class Meta:
        indexes = [
            models.Index(fields=["status", "assigned_at"], name="deadline_email_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} email to {self.agent} ({self.get_status_display()})"
