import hashlib
import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Value
from django.utils import timezone

from .access import is_company_admin, sync_agent_groups, sync_routing_permission
from .availability.hours import ScheduleError, parse_schedule
from .choices import AccessLevel, Presence

__all__ = ["AccessLevel", "Agent", "Company", "Presence"]


def validate_working_hours(value: str) -> None:
    try:
        parse_schedule(value)
    except ScheduleError as error:
        raise ValidationError(str(error)) from None


def working_hours_field(blank_means: str) -> models.CharField:
    """Working hours as people write them (``agents/availability/hours.py``), checked on save."""
    return models.CharField(
        max_length=300,
        blank=True,
        default="",
        db_default="",
        validators=[validate_working_hours],
        help_text="Days and hours in the company's time zone, e.g. “Mon-Fri 09:00-18:00, "
        f"Sat 10:00-14:00”. {blank_means}",
    )


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as Europe/London.")


class Company(models.Model):
    """The tenant: every record belongs to exactly one company."""

    name = models.CharField(max_length=200, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Times in emails and pages are shown in this zone, e.g. America/New_York.",
    )
    default_region = models.CharField(
        "default phone region",
        max_length=2,
        default="US",
        help_text="Two-letter country code used to read phone numbers written without +country.",
    )
    # Only a hash of the inbound webhook's bearer token is kept; the token itself is shown
    # once, when it is rotated.
    webhook_token_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    webhook_token_hint = models.CharField(max_length=8, blank=True, editable=False)
    webhook_token_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The event types some enabled outbound endpoint of the company hears (kept by the events
    # app when endpoints change): a change whose type nobody hears writes no event, and the
    # webhook's hot path learns it from the company row it reads anyway.
    outbound_event_types = models.JSONField(
        default=list,
        db_default=Value([], output_field=models.JSONField()),
        blank=True,
        editable=False,
    )
    # Availability (docs/availability.md): the company's working hours (blank: always), the
    # capacity of agents who have none of their own, and the owners' response deadlines.
    working_hours = working_hours_field("Blank: always working. Agents may have their own.")
    default_capacity = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Open items (texts, forms, chats taken, offers held) an agent may have at "
        "once, for agents without a capacity of their own. Blank: no limit.",
    )
    text_deadline_minutes = models.PositiveIntegerField(
        "text response deadline (minutes)",
        null=True,
        blank=True,
        help_text="A text routed to its owner (or their cover) and not handled within this "
        "much working time moves to Active. Blank: no deadline.",
    )
    form_deadline_minutes = models.PositiveIntegerField(
        "form response deadline (minutes)",
        null=True,
        blank=True,
        help_text="The same for form submissions. Blank: no deadline.",
    )
    deadline_warning_minutes = models.PositiveIntegerField(
        "warn the owner (minutes before the deadline)",
        default=5,
        db_default=5,
        help_text="The owner is emailed this long before the deadline (0: no warning).",
    )
    away_after_missed_deadline = models.BooleanField(
        "set the owner Away after a missed deadline",
        default=False,
        db_default=False,
        help_text="They are told by email, and set themselves Available again when back.",
    )
    handover_after_misses = models.PositiveSmallIntegerField(
        "hand a contact on after this many missed deadlines",
        null=True,
        blank=True,
        help_text="Its owner's misses on one contact within the days below start a "
        "reassignment through the group marked “takes contacts after missed deadlines”. "
        "Blank: never.",
    )
    handover_misses_days = models.PositiveSmallIntegerField(
        "…within (days)", default=7, db_default=7
    )
    # The holidays' dates (ISO strings), kept from ``Holiday`` rows by their signals: the
    # webhook reads the company row anyway, so deadlines in working time cost no query.
    holiday_dates = models.JSONField(
        default=list,
        db_default=Value([], output_field=models.JSONField()),
        blank=True,
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.default_region = (self.default_region or "").upper()

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_webhook_token() -> str:
        return "sbw_" + secrets.token_urlsafe(32)


class AgentManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> "Agent":
        # Emails are stored lower-case; let people log in however they type theirs.
        return self.get(email__iexact=username)

    def _create(self, email: str, password: str | None, **extra) -> "Agent":
        if not email:
            raise ValueError("An agent needs an email address.")
        agent = self.model(email=email, **extra)
        agent.set_password(password)
        agent.save(using=self._db)
        return agent

    def create_user(self, email: str, password: str | None = None, **extra) -> "Agent":
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "Agent":
        extra["is_superuser"] = True
        extra.setdefault("access_level", AccessLevel.ADMIN)
        return self._create(email, password, **extra)


class Agent(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: admin, supervisor, agent or leads agent of one or more companies."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    access_level = models.CharField(
        max_length=20, choices=AccessLevel.choices, default=AccessLevel.AGENT
    )
    companies = models.ManyToManyField(Company, related_name="agents", blank=True)
    presence = models.CharField(max_length=10, choices=Presence.choices, default=Presence.OFFLINE)
    presence_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(
        default=True,
        help_text="Inactive agents cannot log in and are not offered work. Deactivate "
        "instead of deleting: an agent's history stays.",
    )
    can_manage_routing = models.BooleanField(
        "contact routing rule management",
        default=False,
        help_text="May create and edit routing rules and reassignment groups.",
    )
    is_staff = models.BooleanField(
        default=False,
        editable=False,
        help_text="Set from the access level: admins (and superusers) use the Django admin.",
    )
    date_joined = models.DateTimeField(default=timezone.now, editable=False)
    working_hours = working_hours_field("Blank: the company's hours.")
    capacity = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Open items at once, all channels together. Blank: the company's default.",
    )
    text_capacity = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Open texts at once. Blank: no limit of its own."
    )
    form_capacity = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Open form submissions at once. Blank: no limit of its own.",
    )
    chat_capacity = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Chats taken at once. Blank: no limit of its own."
    )

    objects = AgentManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        indexes = [
            models.Index(fields=["access_level", "is_active"]),
            # Who has a capacity of their own that a text or form counts against: the
            # webhook's lock statement asks whether anyone of the company does on every text
            # (``contacts.locks``), which without it reads every agent of every company.
            models.Index(
                fields=["id"],
                name="agent_text_form_capacity",
                condition=models.Q(is_active=True)
                & (
                    models.Q(capacity__isnull=False)
                    | models.Q(text_capacity__isnull=False)
                    | models.Q(form_capacity__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        # Groups and rules are edited in the Django admin, which only Admins reach: the
        # permission would give anyone else nothing.
        if self.can_manage_routing and not is_company_admin(self):
            raise ValidationError(
                {
                    "can_manage_routing": "Only Admins can hold Contact Routing Rule Management: "
                    "groups and rules are edited in the admin, which only Admins reach. Make "
                    f"them an Admin, or untick it for this {self.get_access_level_display()}."
                }
            )

    def save(self, *args, **kwargs) -> None:
        self.email = (self.email or "").strip().lower()
        self.is_staff = is_company_admin(self)
        super().save(*args, **kwargs)
        sync_agent_groups(self)
        sync_routing_permission(self)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def effective_presence(self) -> str:
        """What the agent's presence means now: not seen for a while counts as offline."""
        if self.presence == Presence.OFFLINE or not self.is_active:
            return Presence.OFFLINE
        limit = timedelta(minutes=settings.PRESENCE_OFFLINE_AFTER_MINUTES)
        if self.last_seen_at is None or timezone.now() - self.last_seen_at > limit:
            return Presence.OFFLINE
        return self.presence

    def get_effective_presence_display(self) -> str:
        return Presence(self.effective_presence).label


# Contact centers live in agents/centers/models.py; importing them registers them here.
class OutboxEmail(models.Model):
    """The bookkeeping columns of an exactly-once email (``agents.outbox``): who it is for,
    who caused it, when, and each try. Concrete emails (``contacts.AssignmentEmail``,
    ``leads.LeadEmail``) add their ``status`` (with their own word for *cancelled*) and
    what the email is about."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True


from .availability.models import *  # noqa: E402, F403
from .centers.models import *  # noqa: E402, F403
