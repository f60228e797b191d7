"""Phone numbers are stored in E.164 (+14155550123): one spelling per number, so the
per-company uniqueness and searches by number both hold."""

import phonenumbers
from django.core.exceptions import ValidationError


def normalise_phone(raw: str, *, region: str = "US") -> str:
    """Return ``raw`` in E.164, or raise ``ValidationError`` saying what is wrong with it."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, (region or "US").upper())
    except phonenumbers.NumberParseException:
        raise ValidationError(
            f"“{text}” is not a phone number we can read. Write it with its country code, "
            "e.g. +1 415 555 0123.",
            code="invalid_phone",
        ) from None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            f"“{text}” is not a valid phone number. Check the digits and the country code.",
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalise_phone(raw: str, *, region: str = "US") -> str | None:
    """E.164 for ``raw`` if it reads as a number, else None (for searches)."""
    try:
        return normalise_phone(raw, region=region) or None
    except ValidationError:
        return None


def format_phone(e164: str) -> str:
    """A readable international form of a stored number, for pages and emails."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
