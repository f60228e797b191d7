"""Orders, leads and the leads settings of a company.

A *customer* is a ``contacts.Contact``; a *lead* is a customer assigned to a Leads Agent.
Leads change only through ``leads.services.leads_change`` (assign, unassign, resolve, win),
orders are entered only through ``leads.orders.order_create``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from agents.centers.models import Disposition
from agents.models import Company, OutboxEmail
from contacts.models import Contact


class LeadsSettings(models.Model):
    """The leads options of one company (a missing row means both are off)."""

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, related_name="leads_settings", primary_key=True
    )
    show_non_partial_orders = models.BooleanField(
        "leads agents see non-partial orders",
        default=False,
        help_text="By default Leads Agents see only Partial orders in reports. Turn on to let "
        "them see every order, e.g. to upsell a customer whose order is Complete.",
    )
    restrict_to_assigned = models.BooleanField(
        "restrict leads agents to their assigned customers",
        default=False,
        help_text="Leads Agents see only the customers assigned to them in reports and the "
        "Customer Search; any other customer, or one resolved more than an hour ago, sends "
        "them back to the Customer Search.",
    )

    class Meta:
        verbose_name = "leads settings"
        verbose_name_plural = "leads settings"

    def __str__(self) -> str:
        return f"Leads settings of {self.company}"


class Product(models.Model):
    """What an order line sells (a catalogue per company)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    sku = models.CharField("SKU", max_length=40, blank=True)
    price = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="product_name_per_company")
        ]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    class Status(models.TextChoices):
        PARTIAL = "partial", "Partial"
        COMPLETE = "complete", "Complete"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    # First column of the composite indexes below; no index of its own.
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="orders", verbose_name="customer"
    )
    number = models.CharField(max_length=30)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PARTIAL)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    # The customer's most recent order: kept by order_create under the customer's lock, so
    # "customers whose most recent order is Partial" is an index lookup, not a window query.
    is_latest = models.BooleanField(default=False, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="order_number_per_company"),
            models.UniqueConstraint(
                fields=["contact"], condition=Q(is_latest=True), name="one_latest_order"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "-created_at", "-id"], name="order_company_recent"),
            models.Index(
                fields=["company", "status", "-created_at", "-id"], name="order_company_status"
            ),
            # Customers whose most recent order is Partial (assign lists, the gate).
            models.Index(
                fields=["company", "contact"],
                condition=Q(is_latest=True, status="partial"),
                name="order_latest_partial",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["product", "order"], name="orderitem_product")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"

    @property
    def line_total(self) -> Decimal:
        return self.quantity * self.unit_price


class Lead(models.Model):
    """A customer assigned to a Leads Agent. One open lead per customer (database-enforced)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved without a sale"
        WON = "won", "Won"
        UNASSIGNED = "unassigned", "Unassigned"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="leads", verbose_name="customer"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="leads",
        verbose_name="leads agent",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    disposition = models.ForeignKey(
        Disposition, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The order that won it (auto-win on a Complete order).
    won_order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-assigned_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(status="open"),
                name="one_open_lead_per_customer",
                violation_error_message="This customer already has an open lead.",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "status", "-assigned_at"], name="lead_agent_status"),
            models.Index(fields=["company", "status", "agent"], name="lead_company_status"),
            models.Index(fields=["contact", "-resolved_at"], name="lead_contact_resolved"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} → {self.agent} ({self.get_status_display()})"


class LeadEmail(OutboxEmail):
    """The email telling a Leads Agent about new leads (one per assignment call and agent).

    Sent exactly once: the task locks this row (``leads.locks.lock_lead_email``) and marks it
    sent in the same transaction."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled (leads closed before sending)"

    leads = models.JSONField(default=list)  # lead ids
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)

    class Meta:
        indexes = [models.Index(fields=["status", "assigned_at"], name="lead_email_pending")]

    def __str__(self) -> str:
        return f"Lead email to {self.agent} ({self.get_status_display()})"
