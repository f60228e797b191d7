"""A user's devices (*Ring this device*) and the company's phone numbers, normalised and unique."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agents.phone import normalise_phone

from ..models import Agent
from .models import (
    Device,
    PhoneNumber,
)


# --- Devices and numbers ---------------------------------------------------------------------
def _clean_number(raw: str, company) -> str:
    region = getattr(company, "default_region", "US") if company else "US"
    return normalise_phone(raw, region=region)


def device_save(
    *,
    agent: Agent,
    kind: str,
    label: str = "",
    number: str = "",
    ring: bool = True,
    device: Device | None = None,
) -> Device:
    kind = Device.Kind(kind)
    company = agent.companies.first()
    number = _clean_number(number, company) if number else ""
    if kind == Device.Kind.FORWARDING and not number:
        raise ValidationError({"number": "A forwarding number needs the number to forward to."})
    device = device or Device(agent=agent)
    device.kind, device.label, device.number, device.ring = kind, label.strip(), number, ring
    device.full_clean()
    device.save()
    return device


def device_set_ring(*, device: Device, ring: bool) -> Device:
    device.ring = ring
    device.save(update_fields=["ring"])
    return device


def _number_taken(number: str) -> ValidationError:
    return ValidationError({"number": f"{number} is already taken."}, code="number_taken")


def phone_number_clean(*, company, number: str, phone_number: PhoneNumber | None = None) -> str:
    """``number`` in E.164, or a ``ValidationError`` keyed by ``number``: unreadable, or
    held already (in any spelling, by any company: a number rings in one place). Saving
    ``phone_number`` again under its own number is not a clash."""
    try:
        number = _clean_number(number, company)
    except ValidationError as error:
        raise ValidationError({"number": error.messages}) from None
    if not number:
        raise ValidationError({"number": "Enter the number."}, code="required")
    taken = PhoneNumber.objects.filter(number=number)
    if phone_number is not None and phone_number.pk is not None:
        taken = taken.exclude(pk=phone_number.pk)
    if taken.exists():
        raise _number_taken(number)
    return number


def _phone_number_save(phone_number: PhoneNumber, *, company, number: str) -> PhoneNumber:
    phone_number.number = phone_number_clean(
        company=company, number=number, phone_number=phone_number
    )
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction goes on
            phone_number.save()
    except IntegrityError:  # taken a moment ago, by someone else
        raise _number_taken(phone_number.number) from None
    return phone_number


def phone_number_add(*, company, number: str, agent: Agent | None = None) -> PhoneNumber:
    return _phone_number_save(
        PhoneNumber(company=company, agent=agent), company=company, number=number
    )


def phone_number_update(
    *, phone_number: PhoneNumber, number: str, agent: Agent | None
) -> PhoneNumber:
    phone_number.agent = agent
    return _phone_number_save(phone_number, company=phone_number.company, number=number)
