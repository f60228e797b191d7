"""Writes to contacts: create, update, the contact forms' save, delete. (Ownership:
``contacts.ownership``; interactions: ``contacts.interactions``; timeline rows:
``contacts.timeline``.)

Views, the admin, the webhook and tasks call these; they hold no business logic themselves.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count

from agents.availability.capacity import load_release_many
from agents.models import Agent, Company
from agents.phone import normalise_phone
from agents.rawsql import insert_pair
from events import payloads
from events.emit import event_emit, event_emit_many, heard
from events.models import EventType
from events.payloads import Mass, Method, method_of

from . import timeline
from .locks import lock_contact, lock_contacts
from .models import (
    EMAIL_MAX,
    NAME_MAX,
    PHONE_INPUT_MAX,
    SOURCE_MAX,
    Contact,
    Interaction,
)
from .ownership import contact_assign_primary_agent, primary_load_apply
from .timeline import timeline_write

CONTACT_FIELDS = ("name", "phone", "email", "source")
TAGS_MAX = Contact._meta.get_field("tags").max_length
# Changed only when given (the forms have no tags field; the API sets them).
OPTIONAL_FIELDS = ("tags",)


class DuplicatePhone(ValidationError):
    """The number belongs to another contact of the company (maybe created a moment ago
    by a parallel request: callers that race, like the webhook, retry on it)."""


def contact_clean(
    *,
    company: Company,
    name: str = "",
    phone: str = "",
    email: str = "",
    source: str = "",
    exclude_pk: int | None = None,
    check_duplicate: bool = True,
    tags: str | None = None,
) -> dict[str, str]:
    """Normalise and check a contact's fields; raise ``ValidationError`` keyed by field
    (``DuplicatePhone`` when the number is another contact's, unless ``check_duplicate`` is
    off: then the unique constraint is the check). ``tags`` (comma-separated) is cleaned and
    returned only when given."""
    errors: dict[str, list[str]] = {}
    cleaned = {
        # One line each: names go into email subjects and list rows.
        "name": " ".join((name or "").split()),
        "email": (email or "").strip().lower(),
        "source": " ".join((source or "").split()),
        "phone": "",
    }
    if tags is not None:
        cleaned["tags"] = tags_clean(tags)
    for field, limit in (
        ("name", NAME_MAX),
        ("email", EMAIL_MAX),
        ("source", SOURCE_MAX),
        ("tags", TAGS_MAX),
    ):
        if field not in cleaned:
            continue
        if len(cleaned[field]) > limit:
            errors[field] = [f"At most {limit} characters (this has {len(cleaned[field])})."]
    raw_phone = (phone or "").strip()
    if len(raw_phone) > PHONE_INPUT_MAX:
        errors["phone"] = [
            f"A phone number has at most {PHONE_INPUT_MAX} characters (this has "
            f"{len(raw_phone)}). Write it with its country code, e.g. +1 415 555 0123."
        ]
    else:
        try:
            cleaned["phone"] = normalise_phone(phone, region=company.default_region)
        except ValidationError as error:
            errors["phone"] = error.messages
    if cleaned["email"] and "email" not in errors:
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            errors["email"] = ["Enter a valid email address, e.g. jane@example.com."]
    if not (cleaned["phone"] or cleaned["email"]) and "phone" not in errors:
        errors["phone"] = ["Give the contact a phone number or an email address."]
    if check_duplicate and cleaned["phone"] and "phone" not in errors:
        taken = Contact.objects.filter(company=company, phone=cleaned["phone"])
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        other = taken.only("pk", "name").first()
        if other is not None:
            errors["phone"] = [
                f"This number already belongs to {other.name or 'another contact'} "
                f"(contact #{other.pk})."
            ]
            if len(errors) == 1:
                raise DuplicatePhone(errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


def tags_clean(tags: str) -> str:
    """Tags as stored: each one trimmed and on one line, empty ones and repeats (in any case)
    dropped, joined by ", "."""
    kept: dict[str, str] = {}
    for tag in tags.split(","):
        tag = " ".join(tag.split())
        if tag and tag.lower() not in kept:
            kept[tag.lower()] = tag
    return ", ".join(kept.values())


def _duplicate_phone_error() -> ValidationError:
    return DuplicatePhone({"phone": ["Another contact of this company already has this number."]})


@transaction.atomic
def contact_create(
    *,
    company: Company,
    actor: Agent | None,
    name: str = "",
    phone: str = "",
    email: str = "",
    source: str = "",
    tags: str = "",
    method: Method | str | None = None,
) -> Contact:
    """Create a contact (and its *Contact created* row). ``method`` (its ``contact.created``
    event's): "campaign" from a campaign's record; none given, "api" when an API key makes
    it, else "manual"."""
    method = method_of(method)
    cleaned = contact_clean(
        company=company, name=name, phone=phone, email=email, source=source, tags=tags
    )
    try:
        # A savepoint, so a lost race on the phone number leaves the caller's
        # transaction usable and turns into a message, not a 500.
        with transaction.atomic():
            contact = Contact.objects.create(company=company, **cleaned)
    except IntegrityError:
        raise _duplicate_phone_error() from None
    _record_created(contact=contact, actor=actor, method=method)
    return contact


def contact_create_in_retried_transaction(
    *, company: Company, name: str = "", phone: str = "", email: str = "", source: str = ""
) -> Contact:
    """``contact_create`` for a caller that runs its whole transaction again when it fails
    (an inbound interaction: method "inbound"): no duplicate check and no savepoint. A number
    another request created meanwhile makes the insert raise ``IntegrityError``, which spoils
    the transaction; the caller rolls back and runs again, and then finds that contact."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("contact_create_in_retried_transaction needs the caller's transaction")
    cleaned = contact_clean(
        company=company,
        name=name,
        phone=phone,
        email=email,
        source=source,
        check_duplicate=False,
    )
    contact = Contact(company=company, **cleaned)
    # The contact and its first timeline row in one statement (on PostgreSQL).
    insert_pair(contact, timeline.contact_created(contact=contact, actor=None), link="contact")
    _emit_created(contact=contact, actor=None, method=Method.INBOUND)
    return contact


def _record_created(*, contact: Contact, actor: Agent | None, method: Method) -> None:
    timeline_write(timeline.contact_created(contact=contact, actor=actor))
    _emit_created(contact=contact, actor=actor, method=method)


def _emit_created(*, contact: Contact, actor: Agent | None, method: Method) -> None:
    # (nothing, not even a payload, when nobody hears it: the webhook's hot path creates
    # contacts)
    if not heard(contact.company, EventType.CONTACT_CREATED):
        return
    event_emit(
        company=contact.company,
        type=EventType.CONTACT_CREATED,
        data=payloads.contact_created(contact=contact, method=method),
        actor=actor,
        contact_id=contact.pk,
        version=contact.ownership_version,
    )


@transaction.atomic
def contact_update(*, contact: Contact, actor: Agent | None, **fields: str) -> Contact:
    """Change a contact's details (and its tags, when given); one timeline row lists what
    changed."""
    unknown = set(fields) - set(CONTACT_FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        raise TypeError(f"contact_update() got unexpected fields {sorted(unknown)}")
    contact = lock_contact(contact.pk)
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
    timeline_write(timeline.contact_updated(contact=contact, actor=actor, changed=changed))
    return contact


@transaction.atomic
def contact_save(
    *,
    company: Company,
    contact: Contact | None,
    actor: Agent | None,
    values: dict[str, str],
    primary_agent: Agent | None,
    primary_agent_changed: bool,
    reason: str,
) -> Contact:
    """What the admin's and the Lead Center's contact forms save: the details, then the
    primary agent (a new contact without one is left for the routing rules, which
    ``routing.rules.contact_save_routed`` applies)."""
    if contact is None:
        contact = contact_create(company=company, actor=actor, **values)
        if primary_agent is None:
            return contact
    else:
        contact = contact_update(contact=contact, actor=actor, **values)
        if not primary_agent_changed:
            return contact
    contact_assign_primary_agent(contact=contact, agent=primary_agent, actor=actor, reason=reason)
    return contact


class HoldsChanged(Exception):
    """A contact about to be deleted got a hold the caller did not lock (a round started
    meanwhile): roll back and look again."""


@transaction.atomic
def contacts_delete_without_rounds(
    *,
    company: Company,
    contact_ids: list[int],
    holds: set[int] | None = None,
    actor: Agent | None = None,
    method: Method | str | None = None,
) -> int:
    """Delete contacts of the company, taking them off their primary agents' counts — without
    touching their rounds. Call ``routing.rounds.contacts_delete`` instead: it locks the open
    rounds first and calls this.

    Locks the contacts (and then the counters), in the lock order. A contact that is being
    re-assigned must have its round locked by the caller first, which passes the round ids as
    ``holds``: a hold outside them raises ``HoldsChanged``. Writes a ``contact.deleted``
    event per contact (if some endpoint hears it), by ``actor``, with ``method`` (none given:
    "api" when an API key makes it, else "manual"); several are one mass change,
    "bulk_delete"."""
    method = method_of(method)
    owners: dict[int, int] = {}
    ids: list[int] = []
    for rows in lock_contacts(company_id=company.pk, ids=contact_ids):
        for row in rows:
            if row.reassign_hold is not None and row.reassign_hold not in (holds or set()):
                raise HoldsChanged(row.pk)
            ids.append(row.pk)
            if row.primary_agent_id:
                owners[row.primary_agent_id] = owners.get(row.primary_agent_id, 0) - 1
    _emit_deleted(company=company, ids=ids, actor=actor, method=method)
    # Their open items go with them (cascade): what they counted against their agents'
    # capacity is released, last in the lock order.
    open_items = _open_items_by_agent(ids)
    Contact.objects.filter(pk__in=ids).delete()
    primary_load_apply(company_id=company.pk, deltas=owners)
    load_release_many(company_id=company.pk, counts=open_items)
    return len(ids)


def _open_items_by_agent(ids: list[int]) -> dict[tuple[int, str], int]:
    counts: dict[tuple[int, str], int] = {}
    for start in range(0, len(ids), 2000):
        rows = (
            Interaction.objects.filter(
                contact_id__in=ids[start : start + 2000],
                status=Interaction.Status.OPEN,
                routed_to__isnull=False,
            )
            .values_list("routed_to_id", "channel")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for agent_id, channel, n in rows:
            counts[(agent_id, channel)] = counts.get((agent_id, channel), 0) + n
    return counts


def _emit_deleted(*, company: Company, ids: list[int], actor: Agent | None, method: Method) -> None:
    """``contact.deleted`` for the locked contacts about to go (read before they do)."""
    if not ids or not heard(company, EventType.CONTACT_DELETED):
        return
    items = []
    for start in range(0, len(ids), 2000):
        rows = (
            Contact.objects.filter(pk__in=ids[start : start + 2000])
            .select_related("primary_agent")
            .only("pk", "name", "phone", "ownership_version", "primary_agent")
            .order_by("pk")
        )
        items.extend(
            (
                row.pk,
                row.ownership_version,
                payloads.contact_deleted(
                    contact=payloads.contact_ref_of(row),
                    primary_agent=row.primary_agent,
                    method=method,
                ),
            )
            for row in rows
        )
    event_emit_many(
        company=company,
        type=EventType.CONTACT_DELETED,
        items=items,
        actor=actor,
        mass=Mass.BULK_DELETE,
    )
