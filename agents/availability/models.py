"""The facts availability is decided from, beside presence (``agents.models``): company
holidays, agents' absences (out of office, with an optional cover), and each agent's open
items against their capacity. The rules that read them are ``agents.availability``."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

__all__ = ["Absence", "Holiday", "ItemLoad"]

NOTE_MAX = 200


class Holiday(models.Model):
    """A whole local day (in the company's zone) on which nobody of the company works."""

    company = models.ForeignKey("agents.Company", on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["company", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "date"],
                name="holiday_unique_per_day",
                violation_error_message="This company already has a holiday on that day.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.date:%a %d %b %Y}" + (f" ({self.name})" if self.name else "")


class Absence(models.Model):
    """Out of office: from – to, an optional note and an optional cover agent of the same
    company, who receives the absent agent's texts and forms meanwhile. Ownership itself does
    not change; the cover ends by itself at ``ends_at``."""

    company = models.ForeignKey("agents.Company", on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences"
    )
    starts_at = models.DateTimeField("from")
    ends_at = models.DateTimeField("until")
    note = models.CharField(max_length=NOTE_MAX, blank=True)
    cover = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="covering",
        help_text="Receives the absent agent's texts and forms while they are away.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="absence_ends_after_it_starts",
                violation_error_message="An absence must end after it starts.",
            ),
            models.CheckConstraint(
                condition=~Q(cover=F("agent")),
                name="absence_cover_is_someone_else",
                violation_error_message="An agent cannot cover for themselves.",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "ends_at"], name="absence_agent_ends"),
            models.Index(fields=["company", "ends_at"], name="absence_company_ends"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} out of office"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "An absence must end after it starts."})
        if self.cover_id is not None and self.cover_id == self.agent_id:
            raise ValidationError({"cover": "An agent cannot cover for themselves."})


class ItemLoad(models.Model):
    """An agent's open items in a company, per channel, against their capacity: kept by the
    services that route, take, hand out and close items (``agents.availability.capacity``),
    in the transaction of each change. Admission is a compare-and-set on this row
    (``UPDATE … WHERE open < capacity``), so concurrent routers never exceed a capacity."""

    company = models.ForeignKey("agents.Company", on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    total = models.IntegerField(default=0, db_default=0)
    text = models.IntegerField(default=0, db_default=0)
    form = models.IntegerField(default=0, db_default=0)
    chat = models.IntegerField(default=0, db_default=0)
    call = models.IntegerField(default=0, db_default=0)
    offers = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "agent"], name="item_load_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.agent}: {self.total} open"
