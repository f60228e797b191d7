"""Contact centers and what they need: licenses, numbers, devices, members, skills,
dispositions, coaching requests, ring activity and alert state.

Part of the ``agents`` app (the ground floor): ``agents/models.py`` imports this module at its
end so Django registers the models under the ``agents`` label.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from . import facts as center_types

__all__ = [
    "AgentLine",
    "CallType",
    "CenterAlertState",
    "CenterGroupObjectPermission",
    "CenterMembership",
    "CenterUserObjectPermission",
    "CoachingRequest",
    "ContactCenter",
    "Device",
    "Disposition",
    "LicenseUpgrade",
    "PhoneNumber",
    "QueueItem",
    "RingEvent",
    "SkillRank",
]

MAX_CENTERS_PER_AGENT = 100


class License(models.TextChoices):
    AI_VOICE = "ai_voice", "Ai Voice"
    AI_CONTACT_CENTER = "ai_contact_center", "Ai Contact Center"
    AI_SALES = "ai_sales", "Ai Sales"
    AI_VOICE_CC_ADDON = "ai_voice_cc_addon", "Ai Voice with Call Center Add-On (discontinued)"


# Licenses that may be members of a contact center.
CENTER_LICENSES = (License.AI_CONTACT_CENTER, License.AI_SALES, License.AI_VOICE_CC_ADDON)
UPGRADE_TARGETS = (License.AI_CONTACT_CENTER, License.AI_SALES)


class AgentLine(models.Model):
    """The user's line: license and when they last finished a call (for longest idle).

    A user without a row holds Ai Contact Center (the product's default license)."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="line"
    )
    license = models.CharField(
        max_length=24, choices=License.choices, default=License.AI_CONTACT_CENTER
    )
    idle_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "line and license"

    def __str__(self) -> str:
        return f"{self.agent}: {self.get_license_display()}"


class PhoneNumber(models.Model):
    """A number the company holds; with an agent, it is that user's direct number."""

    company = models.ForeignKey("agents.Company", on_delete=models.PROTECT, related_name="numbers")
    number = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +14155550123.")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="numbers",
    )

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class Device(models.Model):
    class Kind(models.TextChoices):
        DESKTOP_APP = "desktop_app", "Desktop app"
        LAPTOP = "laptop", "Laptop"
        MOBILE = "mobile", "Mobile"
        DESK_PHONE = "desk_phone", "Desk phone"
        ROOM_PHONE = "room_phone", "Room phone"
        FORWARDING = "forwarding", "Forwarding number"

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    label = models.CharField(max_length=100, blank=True)
    number = models.CharField(
        max_length=20, blank=True, help_text="Forwarding numbers only, E.164."
    )
    ring = models.BooleanField("ring this device", default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["agent", "pk"]

    def __str__(self) -> str:
        name = self.label or self.get_kind_display()
        return f"{name} ({self.number})" if self.number else name


class ContactCenter(models.Model):
    class RoutingType(models.TextChoices):
        SKILLS = center_types.SKILLS, "Skills-based"
        LONGEST_IDLE = center_types.LONGEST_IDLE, "Longest idle"
        ROUND_ROBIN = center_types.ROUND_ROBIN, "Round robin"
        FIXED_ORDER = center_types.FIXED_ORDER, "Fixed order"
        SIMULTANEOUS = center_types.SIMULTANEOUS, "Simultaneous"

    class AfterHours(models.TextChoices):
        VOICEMAIL = "voicemail", "Send to voicemail"
        FORWARD = "forward", "Forward to a number"
        QUEUE = "queue", "Keep in the queue until opening"
        HANG_UP = "hang_up", "Play the closed message and hang up"

    company = models.ForeignKey(
        "agents.Company", on_delete=models.PROTECT, related_name="contact_centers"
    )
    name = models.CharField(max_length=120)
    routing_type = models.CharField(
        max_length=16, choices=RoutingType.choices, default=RoutingType.LONGEST_IDLE
    )
    preferred_agent_routing = models.BooleanField(
        default=False,
        help_text="Offer a contact's own agent first. Campaigns with agent-owned records "
        "need it on their queue.",
    )
    # Hours: open on the listed weekdays between the two times (the company's time zone).
    always_open = models.BooleanField(default=True)
    open_days = models.CharField(
        max_length=7, default="01234", help_text="Weekdays open, 0 = Monday … 6 = Sunday."
    )
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    after_hours = models.CharField(
        "outside hours", max_length=12, choices=AfterHours.choices, default=AfterHours.VOICEMAIL
    )
    after_hours_number = models.CharField(max_length=20, blank=True)
    # Round robin: agent ids, next to ring first (kept by center_record_ring_outcome).
    round_robin_order = models.JSONField(default=list, blank=True, editable=False)
    # Alerts a supervisor sets; empty = off.
    alert_min_available = models.PositiveIntegerField(
        "alert when available agents fall below", null=True, blank=True
    )
    alert_max_wait_minutes = models.PositiveIntegerField(
        "alert when an item waits longer than (minutes)", null=True, blank=True
    )
    # A deactivated center keeps its history but rings nobody, takes no calls and leaves the
    # agents' checkbox lists and the centers list (center_set_active).
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Inactive centers ring nobody and are hidden from lists; history is kept.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="center_name_per_company")
        ]
        permissions = [
            ("view_center_dashboard", "See the center dashboard"),
            ("set_center_alerts", "Set the center's alerts"),
            ("coach_center", "Listen in, barge in and take over in the center"),
            ("edit_center_settings", "Edit the center's settings and members"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("centers:detail", args=[self.pk])


class CenterUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(ContactCenter, on_delete=models.CASCADE)


class CenterGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(ContactCenter, on_delete=models.CASCADE)


class CenterMembership(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        SUPERVISOR = "supervisor", "Supervisor"
        ADMIN = "admin", "Admin"

    center = models.ForeignKey(ContactCenter, on_delete=models.CASCADE, related_name="members")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="center_memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)
    position = models.PositiveIntegerField(default=0, help_text="Place in the fixed order.")
    added_at = models.DateTimeField(default=timezone.now, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["center", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["center", "agent"], name="one_membership_per_center")
        ]

    def __str__(self) -> str:
        return f"{self.agent} in {self.center} ({self.get_role_display()})"


class CallType(models.Model):
    center = models.ForeignKey(ContactCenter, on_delete=models.CASCADE, related_name="call_types")
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["center", "name"], name="call_type_per_center")
        ]

    def __str__(self) -> str:
        return self.name


class SkillRank(models.Model):
    """An agent's proficiency for one call type of a center. Only ranked members ring for a
    call of that type in a skills-based center (highest rank first); without a row, none."""

    membership = models.ForeignKey(CenterMembership, on_delete=models.CASCADE, related_name="ranks")
    call_type = models.ForeignKey(CallType, on_delete=models.CASCADE, related_name="ranks")
    rank = models.PositiveSmallIntegerField(
        default=center_types.DEFAULT_RANK, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "call_type"], name="one_rank_per_type"),
            models.CheckConstraint(condition=models.Q(rank__lte=100), name="rank_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.membership.agent} · {self.call_type}: {self.rank}"


class Disposition(models.Model):
    center = models.ForeignKey(ContactCenter, on_delete=models.CASCADE, related_name="dispositions")
    name = models.CharField(max_length=80)
    is_sales = models.BooleanField("sales disposition", default=False)
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["center", "name"], name="disposition_per_center")
        ]

    def __str__(self) -> str:
        return self.name


class CoachingRequest(models.Model):
    """A supervisor's Listen in / Barge in / Take over: recorded and audited (no media)."""

    class Action(models.TextChoices):
        LISTEN = "listen", "Listen in"
        BARGE = "barge", "Barge in"
        TAKE_OVER = "take_over", "Take over"

    center = models.ForeignKey(ContactCenter, on_delete=models.CASCADE, related_name="coaching")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.requested_by}: {self.get_action_display()} on {self.agent}"


class LicenseUpgrade(models.Model):
    """One upgrade of a user's license (Ai Voice → Contact Center or Sales), as it happened."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="license_upgrades"
    )
    upgraded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    center = models.ForeignKey(
        ContactCenter, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_license = models.CharField(max_length=24, choices=License.choices)
    to_license = models.CharField(max_length=24, choices=License.choices)
    numbers_kept = models.BooleanField()
    numbers = models.JSONField(default=list, help_text="The user's numbers at the upgrade.")
    billing = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.agent}: {self.get_from_license_display()} → {self.get_to_license_display()}"


class QueueItem(models.Model):
    """An item waiting in a center's queue. Inbound integration adds and answers these; the
    dashboard and the waiting alert read them."""

    center = models.ForeignKey(ContactCenter, on_delete=models.CASCADE, related_name="queue")
    label = models.CharField(max_length=120, blank=True)
    waiting_since = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["waiting_since"]
        indexes = [models.Index(fields=["center", "answered_at", "waiting_since"])]

    def __str__(self) -> str:
        return self.label or f"item {self.pk}"


class RingEvent(models.Model):
    """What happened when a member rang: answered or missed (round robin moves them)."""

    class Outcome(models.TextChoices):
        ANSWERED = "answered", "Answered"
        MISSED = "missed", "Missed"

    center = models.ForeignKey(ContactCenter, on_delete=models.CASCADE, related_name="rings")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["center", "-at"])]

    def __str__(self) -> str:
        return f"{self.agent} {self.outcome}"


class CenterAlertState(models.Model):
    """Whether an alert is in breach now, so supervisors are emailed once per breach and
    once when it clears, however often the evaluator runs."""

    class Kind(models.TextChoices):
        AVAILABLE_LOW = "available_low", "Available agents below the threshold"
        WAITING_LONG = "waiting_long", "Items waiting too long"

    center = models.ForeignKey(ContactCenter, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    breached = models.BooleanField(default=False)
    changed_at = models.DateTimeField(default=timezone.now)
    value = models.IntegerField(default=0, help_text="The measured value at the last change.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["center", "kind"], name="one_alert_state_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.center}: {self.get_kind_display()} ({'breach' if self.breached else 'ok'})"
