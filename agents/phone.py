"""Phone numbers are stored in E.164 (+14155550123): one spelling per number, so the
per-company uniqueness and searches by number both hold.

``phonenumbers`` reads a number in ~30 µs (a general parse, then a validity check against
every region sharing the country code); the inbound webhook reads one on every call and a
contact list on every row. The common North American spellings take a short path that
gives the same answer:

- ``+1 212 555 0123`` (any of `` .-`` and parentheses around the area code), or, when the
  region is US or CA, ``(212) 555-0123``: the parse of these is known (country code 1, the
  ten digits as the national number: no national prefix or extension to strip);
- valid for the US (the first region of country code 1, without leading digits) means valid:
  ``phonenumbers.is_valid_number`` picks the US for such a number and checks the same thing.
  That check is phonenumbers' own (the general pattern, then any number type's pattern of
  the US metadata), compiled here into one expression instead of ten calls.

Everything else, including every number the short path does not accept, is read by
phonenumbers (so its error messages are the usual ones). ``tests/agents/test_phone.py``
checks that both give the same result.
"""

import functools
import re

import phonenumbers
from django.core.exceptions import ValidationError
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

_SEP = r"[ .\-]?"
_AREA = r"(?:\(([2-9]\d\d)\)|([2-9]\d\d))"
_INTERNATIONAL = re.compile(rf"\+1{_SEP}{_AREA}{_SEP}(\d{{3}}){_SEP}(\d{{4}})", re.ASCII)
_NATIONAL = re.compile(rf"{_AREA}{_SEP}(\d{{3}}){_SEP}(\d{{4}})", re.ASCII)
_NATIONAL_REGIONS = {"US", "CA"}

# The US number types phonenumbers tries (``_number_type_helper``); valid = any matches.
_TYPES = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail", "fixed_line", "mobile",
)  # fmt: skip


def _ten_digits(desc) -> bool:
    return bool(desc is not None and desc.national_number_pattern) and (
        not desc.possible_length or 10 in desc.possible_length
    )


def _us_valid_pattern() -> re.Pattern | None:
    metadata = PhoneMetadata.metadata_for_region("US")
    if metadata is None or not _ten_digits(metadata.general_desc):
        return None
    types = [getattr(metadata, name, None) for name in _TYPES]
    either = "|".join(f"(?:{d.national_number_pattern})" for d in types if _ten_digits(d))
    general = metadata.general_desc.national_number_pattern
    return re.compile(f"(?=(?:{general})$)(?:{either})$", re.ASCII) if either else None


_US_VALID = _us_valid_pattern()
# The short path's premise, checked against the installed metadata: if a new release of
# phonenumbers changes it, every number takes the general path.
_US = PhoneMetadata.metadata_for_region("US")
SHORT_PATH = (
    COUNTRY_CODE_TO_REGION_CODE.get(1, ("",))[0] == "US"
    and _US is not None
    and _US.leading_digits is None
    and _US_VALID is not None
)


def normalise_phone(raw: str, *, region: str = "US") -> str:
    """Return ``raw`` in E.164, or raise ``ValidationError`` saying what is wrong with it."""
    text = (raw or "").strip()
    if not text:
        return ""
    if SHORT_PATH:
        match = _INTERNATIONAL.fullmatch(text)
        if match is None and (region or "US").upper() in _NATIONAL_REGIONS:
            match = _NATIONAL.fullmatch(text)
        if match is not None:
            area, area_bare, exchange, line = match.groups()
            digits = (area or area_bare) + exchange + line
            if _US_VALID.match(digits):
                return "+1" + digits
    return read_with_phonenumbers(text, region=region)


def read_with_phonenumbers(raw: str, *, region: str = "US") -> str:
    """``normalise_phone`` without the short path (the reference its tests compare with)."""
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


@functools.lru_cache(maxsize=4096)
def format_phone_cached(e164: str) -> str:
    """``format_phone``, remembered per number (a list page shows the same numbers on every
    render; phonenumbers takes ~50 µs to read and format one)."""
    return format_phone(e164)
