"""Writes to contacts, their ownership, interactions and timeline.

Views, the admin, the webhook and tasks call these; they hold no business logic themselves.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.bulk import copy_insert
from agents.centers.models import CenterMembership, ContactCenter, QueueItem
from agents.centers.services import center_record_ring_outcome
from agents.models import Agent, Company
from agents.phone import normalise_phone
from agents.rawsql import insert_one, insert_pair

from .locks import lock_contact, lock_contacts
from .models import (
    EMAIL_MAX,
    NAME_MAX,
    PHONE_INPUT_MAX,
    SOURCE_MAX,
    Contact,
    Interaction,
    TimelineEntry,
)
from .ownership import contact_assign_primary_agent, primary_load_apply
from .selectors import visible_to

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
    return insert_one(
        TimelineEntry(
            company_id=contact.company_id,
            contact=contact,
            kind=kind,
            actor=actor,
            agent=agent,
            message=message[:500],
            details=details or {},
        )
    )


def timeline_record_many(*, rows: list[dict[str, Any]]) -> None:
    """``timeline_record`` for many contacts at once (``COPY`` from a couple of hundred rows
    on): each row has the same keywords (``contact``, ``kind``, ``message``, ``actor``,
    ``agent``, ``details``). Call it inside the transaction of the change."""
    copy_insert(
        [
            TimelineEntry(
                company_id=row["contact"].company_id,
                contact=row["contact"],
                kind=row["kind"],
                actor=row.get("actor"),
                agent=row.get("agent"),
                message=row["message"][:500],
                details=row.get("details") or {},
            )
            for row in rows
        ]
    )


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
) -> dict[str, str]:
    """Normalise and check a contact's fields; raise ``ValidationError`` keyed by field
    (``DuplicatePhone`` when the number is another contact's, unless ``check_duplicate`` is
    off: then the unique constraint is the check)."""
    errors: dict[str, list[str]] = {}
    cleaned = {
        # One line each: names go into email subjects and list rows.
        "name": " ".join((name or "").split()),
        "email": (email or "").strip().lower(),
        "source": " ".join((source or "").split()),
        "phone": "",
    }
    for field, limit in (("name", NAME_MAX), ("email", EMAIL_MAX), ("source", SOURCE_MAX)):
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
) -> Contact:
    cleaned = contact_clean(company=company, name=name, phone=phone, email=email, source=source)
    try:
        # A savepoint, so a lost race on the phone number leaves the caller's
        # transaction usable and turns into a message, not a 500.
        with transaction.atomic():
            contact = Contact.objects.create(company=company, **cleaned)
    except IntegrityError:
        raise _duplicate_phone_error() from None
    _record_created(contact=contact, actor=actor)
    return contact


def contact_create_in_retried_transaction(
    *, company: Company, name: str = "", phone: str = "", email: str = "", source: str = ""
) -> Contact:
    """``contact_create`` for a caller that runs its whole transaction again when it fails
    (the inbound webhook): no duplicate check and no savepoint. A number another request
    created meanwhile makes the insert raise ``IntegrityError``, which spoils the
    transaction; the caller rolls back and runs again, and then finds that contact."""
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
    insert_pair(contact, _created_entry(contact=contact, actor=None), link="contact")
    return contact


def _record_created(*, contact: Contact, actor: Agent | None) -> None:
    entry = _created_entry(contact=contact, actor=actor)
    entry.contact = contact
    insert_one(entry)


def _created_entry(*, contact: Contact, actor: Agent | None) -> TimelineEntry:
    """The *Contact created* row (its ``contact`` is set by the caller: the contact may not
    be stored yet)."""
    source = contact.source
    return TimelineEntry(
        company_id=contact.company_id,
        kind=TimelineEntry.Kind.CONTACT_CREATED,
        actor=actor,
        message=(
            f"Contact created{' from ' + source if source else ''}"
            f"{' by ' + str(actor) if actor else ''}."
        )[:500],
        details={"source": source},
    )


@transaction.atomic
def contact_update(*, contact: Contact, actor: Agent | None, **fields: str) -> Contact:
    """Change a contact's details; one timeline row lists what changed."""
    unknown = set(fields) - set(CONTACT_FIELDS)
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
    timeline_record(
        contact=contact,
        kind=TimelineEntry.Kind.CONTACT_UPDATED,
        actor=actor,
        message=f"{', '.join(name.capitalize() for name in changed)} changed"
        f"{' by ' + str(actor) if actor else ''}.",
        details={"changed": changed},
    )
    return contact


# --- Inbound interactions -------------------------------------------------------------------
MAX_BODY_CHARS = 5000


def interaction_record(
    *,
    contact: Contact,
    channel: str,
    body: str,
    source: str,
    contact_center: str,
    routed_to_id: int | None,
    pool: str,
    reason: str,
    details: dict,
    idempotency_key: str,
    request_hash: str = "",
    center: ContactCenter | None = None,
    ring: list | None = None,
) -> Interaction:
    """Store an inbound interaction where routing decided it goes (inside its transaction).
    A call or chat for a contact center also waits in the center's queue until taken."""
    queue_item = None
    if center is not None:
        queue_item = insert_one(QueueItem(center=center, label=f"{channel} from {contact}"[:120]))
    return insert_one(
        Interaction(
            center=center,
            ring=ring or [],
            queue_item=queue_item,
            company_id=contact.company_id,
            contact=contact,
            channel=channel,
            body=body,
            source=source,
            contact_center=contact_center,
            routed_to_id=routed_to_id,
            pool=pool,
            route_reason=reason[:300],
            route_details=details,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
    )


def _interaction_problem(
    *, company: Company, interaction_id: int, agent: Agent | None = None
) -> ValidationError:
    current = (
        Interaction.objects.filter(company=company, pk=interaction_id)
        .select_related("taken_by", "routed_to", "center")
        .first()
    )
    if current is None:
        return ValidationError("This item no longer exists.", code="missing")
    if (
        agent is not None
        and current.center is not None
        and not current.taken_by_id
        and not CenterMembership.objects.filter(center=current.center, agent=agent).exists()
    ):
        return ValidationError(
            f"This call is for the {current.center} contact center; only its members take it.",
            code="not_member",
        )
    if current.status == Interaction.Status.HANDLED:
        return ValidationError("This item was already handled.", code="handled")
    if current.taken_by is not None:
        return ValidationError(f"{current.taken_by} took this one first.", code="taken")
    if current.routed_to is not None:
        return ValidationError(f"This is in {current.routed_to}'s inbox.", code="routed")
    return ValidationError("This item can't be taken.", code="invalid")


@transaction.atomic
def interaction_take(*, company: Company, interaction_id: int, agent: Agent) -> Interaction:
    """Take an item from the Active pool. Of several agents taking it at once exactly one
    wins (compare-and-set on the row); the others get a ValidationError saying who won."""
    if agent.effective_presence != "available":
        raise ValidationError("Set yourself Available to take items from Active.", code="away")
    now = timezone.now()
    won = (
        Interaction.objects.filter(
            company=company,
            pk=interaction_id,
            pool=Interaction.Pool.ACTIVE,
            routed_to__isnull=True,
            status=Interaction.Status.OPEN,
        )
        .filter(visible_to(agent))
        .update(routed_to=agent, taken_by=agent, taken_at=now)
    )
    if won != 1:
        raise _interaction_problem(company=company, interaction_id=interaction_id, agent=agent)
    interaction = Interaction.objects.select_related("center").get(pk=interaction_id)
    if interaction.center is not None:
        # Answered: it leaves the center's queue, and round robin / longest idle move on.
        if interaction.queue_item_id:
            QueueItem.objects.filter(pk=interaction.queue_item_id).update(answered_at=now)
        center_record_ring_outcome(
            center=interaction.center, agent=agent, outcome="answered", at=now
        )
    return interaction


def interaction_mark_handled(*, company: Company, interaction_id: int, agent: Agent) -> None:
    done = Interaction.objects.filter(
        company=company, pk=interaction_id, routed_to=agent, status=Interaction.Status.OPEN
    ).update(status=Interaction.Status.HANDLED, handled_by=agent, handled_at=timezone.now())
    if done != 1:
        raise _interaction_problem(company=company, interaction_id=interaction_id)


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
def contacts_delete(
    *, company: Company, contact_ids: list[int], holds: set[int] | None = None
) -> int:
    """Delete contacts of the company, taking them off their primary agents' counts.

    Locks the contacts (and then the counters), in the lock order. A contact that is being
    re-assigned must have its round locked by the caller first (``routing.rounds
    .contacts_delete``), which passes the round ids as ``holds``: a hold outside them raises
    ``HoldsChanged``."""
    owners: dict[int, int] = {}
    ids: list[int] = []
    for rows in lock_contacts(company_id=company.pk, ids=contact_ids):
        for row in rows:
            if row.reassign_hold is not None and row.reassign_hold not in (holds or set()):
                raise HoldsChanged(row.pk)
            ids.append(row.pk)
            if row.primary_agent_id:
                owners[row.primary_agent_id] = owners.get(row.primary_agent_id, 0) - 1
    Contact.objects.filter(pk__in=ids).delete()
    primary_load_apply(company_id=company.pk, deltas=owners)
    return len(ids)
