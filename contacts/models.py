from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from agents.models import Company

from .phone import format_phone


class Contact(models.Model):
    """A person the company talks to (also the *customer* of the leads feature)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="contacts")
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
        ]

    def __str__(self) -> str:
        return self.name or self.display_phone or self.email or f"Contact #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("admin:contacts_contact_change", args=[self.pk])

    @property
    def display_phone(self) -> str:
        return format_phone(self.phone)


class TimelineEntry(models.Model):
    """One row of a contact's history. Written only by ``contacts.services.timeline_record``,
    in the same transaction as the change it describes."""

    class Kind(models.TextChoices):
        CONTACT_CREATED = "contact_created", "Contact created"
        CONTACT_UPDATED = "contact_updated", "Contact updated"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who made the change; empty for the system (webhook, routing, tasks).",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The agent the change is about, if any.",
    )
    message = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "timeline entry"
        verbose_name_plural = "timeline entries"
        indexes = [models.Index(fields=["contact", "-created_at"], name="timeline_contact_recent")]

    def __str__(self) -> str:
        return self.message
