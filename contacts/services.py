"""Writes to contacts, their ownership, interactions and timeline.

Views, the admin, the webhook and tasks call these; they hold no business logic themselves.
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from agents.models import Agent, Company
from agents.selectors import eligible_primary_agents
from routing.engine import AgentSnapshot, route_interaction

from .models import AssignmentEmail, Contact, Interaction, PrimaryLoad, TimelineEntry
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
) -> dict[str, str]:
    """Normalise and check a contact's fields; raise ``ValidationError`` keyed by field."""
    errors: dict[str, list[str]] = {}
    cleaned = {
        # One line each: names go into email subjects and list rows.
        "name": " ".join((name or "").split()),
        "email": (email or "").strip().lower(),
        "source": " ".join((source or "").split()),
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


# --- Primary agent ------------------------------------------------------------------------
def _who(actor: Agent | None) -> str:
    return str(actor) if actor else "Switchboard"


def _ownership_entry(
    *, contact: Contact, old: Agent | None, new: Agent | None, actor: Agent | None, reason: str
) -> TimelineEntry:
    """The timeline row for one change of primary agent (unsaved)."""
    if old is None:
        kind = TimelineEntry.Kind.PRIMARY_ASSIGNED
        text = f"Primary agent set to {new} by {_who(actor)}"
    elif new is None:
        kind = TimelineEntry.Kind.PRIMARY_UNASSIGNED
        text = f"Primary agent {old} unassigned by {_who(actor)}"
    else:
        kind = TimelineEntry.Kind.PRIMARY_CHANGED
        text = f"Primary agent changed from {old} to {new} by {_who(actor)}"
    if reason:
        text += f" — {reason}"
    return TimelineEntry(
        company_id=contact.company_id,
        contact=contact,
        kind=kind,
        actor=actor,
        agent=new or old,
        message=(text + ".")[:500],
        details={
            "from": old.pk if old else None,
            "from_name": str(old) if old else None,
            "to": new.pk if new else None,
            "to_name": str(new) if new else None,
            "reason": reason,
        },
    )


def primary_agent_check(*, company: Company, agent: Agent | None) -> None:
    """Refuse (ValidationError on ``primary_agent``) an agent who can't own the company's
    contacts: only its active agents, supervisors and admins can."""
    if agent is None:
        return
    if not eligible_primary_agents(company=company).filter(pk=agent.pk).exists():
        raise ValidationError(
            {
                "primary_agent": [
                    f"{agent} can't be this contact's primary agent: only active agents, "
                    f"supervisors and admins of {company} can."
                ]
            }
        )


def _schedule_assignment_email(
    *, company_id: int, agent: Agent, actor: Agent | None, contacts: list[tuple[int, int]]
) -> AssignmentEmail:
    """Record the email for (contact id, ownership version) pairs; queue it after commit."""
    email = AssignmentEmail.objects.create(
        company_id=company_id, agent=agent, actor=actor, contacts=[list(c) for c in contacts]
    )
    from .tasks import send_assignment_email

    send_assignment_email.delay_on_commit(email.pk)
    return email


def primary_load_apply(*, company_id: int, deltas: dict[int, int]) -> None:
    """Add ``deltas`` (agent id -> +/- contacts) to the agents' primary-contact counts.

    One upsert statement; called inside the transaction of the change it counts."""
    # In agent order, so two transactions never lock the same counters in opposite orders.
    rows = sorted((company_id, agent_id, n) for agent_id, n in deltas.items() if agent_id and n)
    if not rows:
        return
    table = PrimaryLoad._meta.db_table
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (company_id, agent_id, contacts) VALUES {values} "  # noqa: S608
            f"ON CONFLICT (company_id, agent_id) "
            f"DO UPDATE SET contacts = {table}.contacts + EXCLUDED.contacts",
            [value for row in rows for value in row],
        )


@transaction.atomic
def contacts_recount_primary_load(*, company: Company) -> int:
    """Rebuild the company's primary-contact counts from the contacts themselves."""
    from django.db.models import Count

    counts = (
        Contact.objects.filter(company=company, primary_agent__isnull=False)
        .values_list("primary_agent")
        .annotate(n=Count("*"))
    )
    PrimaryLoad.objects.filter(company=company).delete()
    PrimaryLoad.objects.bulk_create(
        PrimaryLoad(company=company, agent_id=agent_id, contacts=n) for agent_id, n in counts
    )
    return len(counts)


def _refuse_during_reassignment(contact_ids: list[int], *, allowed_round=None) -> None:
    from routing.models import Round

    busy = Round.objects.filter(contact_id__in=contact_ids, status=Round.Status.OPEN)
    if allowed_round is not None:
        busy = busy.exclude(pk=allowed_round.pk)
    count = busy.count()
    if not count:
        return
    if len(contact_ids) == 1:
        message = (
            f"Re-Assign in progress through {busy.first().source_name}: the primary agent "
            "can't be changed until it finishes."
        )
    else:
        message = (
            f"{count} of the selected contacts are being re-assigned (Re-Assign in progress); "
            "leave them out or wait until they are assigned."
        )
    raise ValidationError({"primary_agent": [message]})


@transaction.atomic
def contact_assign_primary_agent(
    *,
    contact: Contact,
    agent: Agent | None,
    actor: Agent | None,
    reason: str = "",
    round_=None,
) -> TimelineEntry | None:
    """Set (or, with ``agent=None``, clear) the contact's primary agent.

    Locks the contact, writes the timeline row in the same transaction and, for a new agent,
    queues their email once the change has committed. Returns the timeline row, or None when
    the contact already had that primary agent.
    """
    locked = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("primary_agent", "company")
        .get(pk=contact.pk)
    )
    old = locked.primary_agent
    if (old.pk if old else None) == (agent.pk if agent else None):
        return None
    # While a round distributes the contact, only that round may set its primary agent.
    _refuse_during_reassignment([locked.pk], allowed_round=round_)
    primary_agent_check(company=locked.company, agent=agent)
    locked.primary_agent = agent
    locked.ownership_version += 1
    locked.save(update_fields=["primary_agent", "ownership_version", "updated_at"])
    entry = _ownership_entry(contact=locked, old=old, new=agent, actor=actor, reason=reason)
    entry.save()
    primary_load_apply(
        company_id=locked.company_id,
        deltas={(old.pk if old else 0): -1, (agent.pk if agent else 0): 1},
    )
    if agent is not None:
        _schedule_assignment_email(
            company_id=locked.company_id,
            agent=agent,
            actor=actor,
            contacts=[(locked.pk, locked.ownership_version)],
        )
    contact.primary_agent = agent
    contact.ownership_version = locked.ownership_version
    return entry


BULK_CHUNK = 2000


@transaction.atomic
def contacts_assign_primary_agent_bulk(
    *,
    company: Company,
    contact_ids: Iterable[int],
    agent: Agent | None,
    actor: Agent | None,
    reason: str = "",
) -> int:
    """Set (or clear) the primary agent of many contacts of one company at once.

    One timeline row per changed contact and, for a new agent, one email listing them all,
    queued after commit (so the request does not wait for it). Returns how many changed.
    """
    primary_agent_check(company=company, agent=agent)
    ids = sorted(set(contact_ids))
    changed: list[tuple[int, int]] = []
    entries: list[TimelineEntry] = []
    deltas: dict[int, int] = {}
    agents_by_id: dict[int, Agent] = {}
    now = timezone.now()
    for start in range(0, len(ids), BULK_CHUNK):
        locked = (
            Contact.objects.select_for_update()
            .filter(company=company, pk__in=ids[start : start + BULK_CHUNK])
            .exclude(primary_agent=agent)
            .order_by("pk")
        )
        if agent is None:
            locked = locked.filter(primary_agent__isnull=False)
        rows = list(locked.values_list("pk", "primary_agent_id", "ownership_version"))
        if not rows:
            continue
        # Checked with the rows locked: a round starting now waits for us, or we see it.
        _refuse_during_reassignment([pk for pk, _, _ in rows])
        missing = {old for _, old, _ in rows} - set(agents_by_id) - {None}
        agents_by_id |= {a.pk: a for a in Agent.objects.filter(pk__in=missing)}
        Contact.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
            primary_agent=agent, ownership_version=F("ownership_version") + 1, updated_at=now
        )
        for pk, old_id, version in rows:
            contact = Contact(pk=pk, company_id=company.pk)
            entry = _ownership_entry(
                contact=contact,
                old=agents_by_id.get(old_id),
                new=agent,
                actor=actor,
                reason=reason,
            )
            entry.created_at = now
            entries.append(entry)
            changed.append((pk, version + 1))
            deltas[old_id] = deltas.get(old_id, 0) - 1
    TimelineEntry.objects.bulk_create(entries, batch_size=BULK_CHUNK)
    if agent is not None:
        deltas[agent.pk] = deltas.get(agent.pk, 0) + len(changed)
    primary_load_apply(company_id=company.pk, deltas=deltas)
    if agent is not None and changed:
        _schedule_assignment_email(
            company_id=company.pk, agent=agent, actor=actor, contacts=changed
        )
    return len(changed)


# --- Inbound interactions -------------------------------------------------------------------
MAX_BODY_CHARS = 5000


def _snapshot(agent: Agent | None, company: Company) -> AgentSnapshot | None:
    if agent is None:
        return None
    works_here = eligible_primary_agents(company=company).filter(pk=agent.pk).exists()
    return AgentSnapshot(
        id=agent.pk,
        name=str(agent),
        presence=agent.effective_presence,
        works_here=works_here,
    )


def inbound_receive(
    *,
    company: Company,
    channel: str,
    phone: str,
    name: str = "",
    email: str = "",
    body: str = "",
    source: str = "",
    contact_center: str = "",
    idempotency_key: str = "",
) -> tuple[Interaction, bool]:
    """Record an inbound text, form, call or chat and route it. Returns (interaction, replayed).

    An unknown number creates the contact. With an idempotency key, a retry returns the
    interaction the first call created (``replayed=True``) and creates nothing.
    Raises ``ValidationError`` (keyed by field) for input that can't be accepted.
    """
    try:
        e164 = normalise_phone(phone, region=company.default_region)
    except ValidationError as error:
        raise ValidationError({"phone": error.messages}) from None
    if not e164:
        raise ValidationError({"phone": ["A phone number is required."]})
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _inbound_once(
                    company=company,
                    channel=channel,
                    phone=e164,
                    name=name,
                    email=email,
                    body=body,
                    source=source,
                    contact_center=contact_center,
                    idempotency_key=idempotency_key,
                )
        except (IntegrityError, DuplicatePhone):
            # A parallel request created the contact or used the key first; run again and
            # find what it committed.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _replay(company: Company, idempotency_key: str) -> Interaction | None:
    if not idempotency_key:
        return None
    return (
        Interaction.objects.filter(company=company, idempotency_key=idempotency_key)
        .select_related("routed_to")
        .first()
    )


def _inbound_once(
    *, company, channel, phone, name, email, body, source, contact_center, idempotency_key
) -> tuple[Interaction, bool]:
    if (existing := _replay(company, idempotency_key)) is not None:
        return existing, True
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("primary_agent")
        .filter(company=company, phone=phone)
        .first()
    )
    # A parallel retry of the same event may have committed while we waited for the lock.
    if contact is not None and (existing := _replay(company, idempotency_key)) is not None:
        return existing, True
    if contact is None:
        contact = contact_create(
            company=company,
            actor=None,
            name=name,
            phone=phone,
            email=email,
            source=source or f"inbound {channel}",
        )
        # A new contact: the routing rules decide its primary agent (if any rule matches).
        from routing.services import contact_route_new

        contact_route_new(contact=contact, channel=channel)
        contact = Contact.objects.select_related("primary_agent").get(pk=contact.pk)
    else:
        # Fill in what we did not know; never overwrite what people typed.
        blanks = {
            field: value
            for field, value in (("name", name.strip()), ("email", email.strip()))
            if value and not getattr(contact, field)
        }
        if blanks:
            contact = contact_update(contact=contact, actor=None, **blanks)
    decision = route_interaction(channel=channel, primary=_snapshot(contact.primary_agent, company))
    with transaction.atomic():
        interaction = Interaction.objects.create(
            company=company,
            contact=contact,
            channel=channel,
            body=body,
            source=source,
            contact_center=contact_center,
            routed_to_id=decision.agent_id,
            pool=decision.pool,
            route_reason=decision.reason[:300],
            route_details=decision.details,
            idempotency_key=idempotency_key,
        )
    return interaction, False


def _interaction_problem(*, company: Company, interaction_id: int) -> ValidationError:
    current = (
        Interaction.objects.filter(company=company, pk=interaction_id)
        .select_related("taken_by", "routed_to")
        .first()
    )
    if current is None:
        return ValidationError("This item no longer exists.", code="missing")
    if current.status == Interaction.Status.HANDLED:
        return ValidationError("This item was already handled.", code="handled")
    if current.taken_by is not None:
        return ValidationError(f"{current.taken_by} took this one first.", code="taken")
    if current.routed_to is not None:
        return ValidationError(f"This is in {current.routed_to}'s inbox.", code="routed")
    return ValidationError("This item can't be taken.", code="invalid")


def interaction_take(*, company: Company, interaction_id: int, agent: Agent) -> Interaction:
    """Take an item from the Active pool. Of several agents taking it at once exactly one
    wins (compare-and-set on the row); the others get a ValidationError saying who won."""
    if agent.effective_presence != "available":
        raise ValidationError("Set yourself Available to take items from Active.", code="away")
    won = Interaction.objects.filter(
        company=company,
        pk=interaction_id,
        pool=Interaction.Pool.ACTIVE,
        routed_to__isnull=True,
        status=Interaction.Status.OPEN,
    ).update(routed_to=agent, taken_by=agent, taken_at=timezone.now())
    if won != 1:
        raise _interaction_problem(company=company, interaction_id=interaction_id)
    return Interaction.objects.get(pk=interaction_id)


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
    primary agent. A new contact nobody chose an agent for goes through the routing rules."""
    if contact is None:
        contact = contact_create(company=company, actor=actor, **values)
        if primary_agent is None:
            from routing.services import contact_route_new

            contact_route_new(contact=contact)
            return contact
    else:
        contact = contact_update(contact=contact, actor=actor, **values)
        if not primary_agent_changed:
            return contact
    contact_assign_primary_agent(contact=contact, agent=primary_agent, actor=actor, reason=reason)
    return contact
