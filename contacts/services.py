"""Writes to contacts and their timeline. Views, admin, webhooks and tasks call these."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from agents.models import Agent, Company

from .models import Contact, TimelineEntry
from .phone import normalise_phone

CONTACT_FIELDS = ("name", "phone", "email", "source")


def timeline_record(
    *,
    contact: Contact,
    kind: str,
    message: str,
    actor: Agent | None = None,
    agent: Agent | None = None,
    details: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Append one row to the contact's history. Call it inside the transaction of the change."""
    return TimelineEntry.objects.create(
        company_id=contact.company_id,
        contact=contact,
        kind=kind,
        actor=actor,
        agent=agent,
        message=message[:500],
        details=details or {},
    )


def contact_clean(
    *,
    company: Company,
    name: str = "",
    phone: str = "",
    email: str = "",
    source: str = "",
    exclude_pk: int | None = None,
) -> dict[str, str]:
    """Normalise and check a contact's fields; raise ``ValidationError`` keyed by field."""
    errors: dict[str, list[str]] = {}
    cleaned = {
        "name": (name or "").strip(),
        "email": (email or "").strip().lower(),
        "source": (source or "").strip(),
        "phone": "",
    }
    try:
        cleaned["phone"] = normalise_phone(phone, region=company.default_region)
    except ValidationError as error:
        errors["phone"] = error.messages
    if cleaned["email"]:
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            errors["email"] = ["Enter a valid email address, e.g. jane@example.com."]
    if not (cleaned["phone"] or cleaned["email"]) and "phone" not in errors:
        errors["phone"] = ["Give the contact a phone number or an email address."]
    if cleaned["phone"] and "phone" not in errors:
        taken = Contact.objects.filter(company=company, phone=cleaned["phone"])
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        other = taken.only("pk", "name").first()
        if other is not None:
            errors["phone"] = [
                f"This number already belongs to {other.name or 'another contact'} "
                f"(contact #{other.pk})."
            ]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _duplicate_phone_error() -> ValidationError:
    return ValidationError({"phone": ["Another contact of this company already has this number."]})


@transaction.atomic
def contact_create(
    *,
    company: Company,
    actor: Agent | None,
    name: str = "",
    phone: str = "",
    email: str = "",
    source: str = "",
) -> Contact:
    cleaned = contact_clean(company=company, name=name, phone=phone, email=email, source=source)
    try:
        # A savepoint, so a lost race on the phone number leaves the caller's
        # transaction usable and turns into a message, not a 500.
        with transaction.atomic():
            contact = Contact.objects.create(company=company, **cleaned)
    except IntegrityError:
        raise _duplicate_phone_error() from None
    timeline_record(
        contact=contact,
        kind=TimelineEntry.Kind.CONTACT_CREATED,
        actor=actor,
        message=f"Contact created{' from ' + cleaned['source'] if cleaned['source'] else ''}"
        f"{' by ' + str(actor) if actor else ''}.",
        details={"source": cleaned["source"]},
    )
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor: Agent | None, **fields: str) -> Contact:
    """Change a contact's details; one timeline row lists what changed."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"contact_update() got unexpected fields {sorted(unknown)}")
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    values = {name: getattr(contact, name) for name in CONTACT_FIELDS} | fields
    cleaned = contact_clean(company=contact.company, exclude_pk=contact.pk, **values)
    changed = {
        name: {"from": getattr(contact, name), "to": value}
        for name, value in cleaned.items()
        if getattr(contact, name) != value
    }
    if not changed:
        return contact
    for name, change in changed.items():
        setattr(contact, name, change["to"])
    try:
        with transaction.atomic():
            contact.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:
        raise _duplicate_phone_error() from None
    timeline_record(
        contact=contact,
        kind=TimelineEntry.Kind.CONTACT_UPDATED,
        actor=actor,
        message=f"{', '.join(name.capitalize() for name in changed)} changed"
        f"{' by ' + str(actor) if actor else ''}.",
        details={"changed": changed},
    )
    return contact
