"""E.164 for list imports at COPY speed, with exactly the rules of ``agents.phone``.

``agents.phone.normalise_phone`` costs ~30 µs a number (a general parse, then a validity check
against every region sharing the country code). A contact list has a phone on every row, so
the common North American spellings take a short path that gives the same answer:

- ``+1 212 555 0123`` (any of `` .-`` and parentheses around the area code), or, when the
  company's region is US or CA, ``(212) 555-0123``: the parse of these is known (country
  code 1, the ten digits as the national number: no national prefix or extension to strip);
- valid for the US (the first region of country code 1, without leading digits) means valid:
  ``phonenumbers.is_valid_number`` picks the US for such a number and checks the same thing.
  That check is phonenumbers' own (the general pattern, then any number type's pattern of
  the US metadata), compiled here into one expression instead of ten calls.

Everything else, including every number the short path does not accept, goes through
``normalise_phone`` itself (so its error messages are the usual ones).
``tests/campaigns/test_csv_import.py`` checks that both give the same result.
"""

import re

from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from agents.phone import normalise_phone

_SEP = r"[ .\-]?"
_AREA = r"(?:\(([2-9]\d\d)\)|([2-9]\d\d))"
_INTERNATIONAL = re.compile(rf"\+1{_SEP}{_AREA}{_SEP}(\d{{3}}){_SEP}(\d{{4}})")
_NATIONAL = re.compile(rf"{_AREA}{_SEP}(\d{{3}}){_SEP}(\d{{4}})")
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
    return re.compile(f"(?=(?:{general})$)(?:{either})$") if either else None


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


def normalise_list_phone(raw: str, *, region: str = "US") -> str:
    """E.164 for ``raw`` or ``ValidationError``: the same as ``agents.phone.normalise_phone``."""
    text = raw.strip()
    if SHORT_PATH:
        match = _INTERNATIONAL.fullmatch(text)
        if match is None and (region or "US").upper() in _NATIONAL_REGIONS:
            match = _NATIONAL.fullmatch(text)
        if match is not None:
            area, area_bare, exchange, line = match.groups()
            digits = (area or area_bare) + exchange + line
            if _US_VALID.match(digits):
                return "+1" + digits
    return normalise_phone(text, region=region)
