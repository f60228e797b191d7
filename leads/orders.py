"""Writes of the leads feature's orders and catalogue: order entry and products.

An order becomes its customer's most recent one; a Complete order wins the customer's open
lead through the one lead path, ``leads.services.leads_change``, in the same transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import Agent, Company
from agents.unique import refuse_taken, taken_as
from contacts import timeline
from contacts.models import Contact
from contacts.timeline import timeline_write

from .locks import lock_customers
from .models import Order, OrderItem, Product
from .services import Change, leads_change


# --- Orders -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    product: Product
    quantity: int
    unit_price: Decimal | None = None  # the product's price when None


def _clean_lines(company: Company, lines: Sequence[Line]) -> list[tuple[Product, int, Decimal]]:
    cleaned = []
    for n, line in enumerate(lines, start=1):
        if line.product.company_id != company.pk or not line.product.is_active:
            raise ValidationError(
                {"items": f"Line {n}: {line.product} is not one of your products."}
            )
        if not isinstance(line.quantity, int) or line.quantity < 1 or line.quantity > 100_000:
            raise ValidationError({"items": f"Line {n}: the quantity must be 1 to 100,000."})
        price = line.product.price if line.unit_price is None else line.unit_price
        try:
            price = Decimal(price).quantize(Decimal("0.01"))
        except (InvalidOperation, TypeError):
            raise ValidationError({"items": f"Line {n}: the price is not a number."}) from None
        if price < 0 or price >= Decimal("1e9"):
            raise ValidationError({"items": f"Line {n}: the price must be 0 to 999,999,999."})
        cleaned.append((line.product, line.quantity, price))
    if not cleaned:
        raise ValidationError({"items": "Add at least one product to the order."})
    return cleaned


@transaction.atomic
def order_create(
    *,
    company: Company,
    contact: Contact,
    actor: Agent | None,
    status: str,
    lines: Sequence[Line],
    currency: str = "USD",
    number: str = "",
) -> Order:
    """Enter an order for a customer. It becomes their most recent order; a Complete order
    wins their open lead (through ``leads_change``, in this transaction)."""
    if status not in Order.Status.values:
        raise ValidationError(
            {"status": "Choose Partial, Complete, Declined, Cancelled or Refunded."}
        )
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise ValidationError({"currency": "A currency is three letters, e.g. USD."})
    number = (number or "").strip()
    if len(number) > 30:
        raise ValidationError({"number": "An order number has at most 30 characters."})
    items = _clean_lines(company, lines)
    if contact.company_id != company.pk or not lock_customers(
        company_id=company.pk, ids=[contact.pk]
    ):
        raise ValidationError("This customer no longer exists.")
    if number and Order.objects.filter(company=company, number=number).exists():
        raise ValidationError({"number": f"Order number {number} is taken."})
    Order.objects.filter(contact=contact, is_latest=True).update(is_latest=False)
    total = sum((quantity * price for _, quantity, price in items), Decimal("0"))
    try:
        with transaction.atomic():
            order = Order.objects.create(
                company=company,
                contact=contact,
                number=number or f"tmp-{timezone.now().timestamp()}-{contact.pk}",
                status=status,
                total=total,
                currency=currency,
                is_latest=True,
                created_by=actor,
            )
    except IntegrityError:
        raise ValidationError({"number": f"Order number {number} is taken."}) from None
    if not number:
        order.number = f"SO-{order.pk:06d}"
        order.save(update_fields=["number"])
    OrderItem.objects.bulk_create(
        OrderItem(order=order, product=product, quantity=quantity, unit_price=price)
        for product, quantity, price in items
    )
    timeline_write(
        timeline.order_created(
            contact=contact,
            actor=actor,
            order_id=order.pk,
            number=order.number,
            status=status,
            status_label=order.get_status_display(),
            total=total,
            currency=currency,
        )
    )
    if status == Order.Status.COMPLETE:
        leads_change(
            company=company,
            contact_ids=[contact.pk],
            change=Change.WIN,
            order=order,
            actor=actor,
        )
    return order


# --- Products ---------------------------------------------------------------------------------
def product_clean(*, company: Company, name: str, product: Product | None = None) -> None:
    """Refuse (by the name field) a product name the company's catalogue already has."""
    refuse_taken(
        Product.objects.filter(company=company),
        field="name",
        value=name,
        instance=product,
        message=f"A product named {name} already exists.",
    )


def product_save(*, product: Product) -> Product:
    """Store a product of its company's catalogue, refusing a name it has already (also one
    another admin saved a moment ago: the database's constraint, said the same way)."""
    product_clean(company=product.company, name=product.name, product=product)
    with taken_as(field="name", message=f"A product named {product.name} already exists."):
        product.save()
    return product
