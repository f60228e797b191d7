"""The one ownership path: every change of a contact's primary agent goes through
``contacts_set_primary_agent`` (1..N contacts); ``contact_assign_primary_agent`` is its
single-contact wrapper.

In one transaction it locks the contacts in pk order (``contacts.locks``), honours the
*Re-Assign in progress* hold, optionally requires the expected current owner (a
compare-and-set, for handovers), bumps the ownership version, writes one timeline row per
change, keeps the per-agent counters and queues one email per receiving agent after commit.
"""

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from agents.actors import current_key
from agents.bulk import int_array
from agents.models import Agent, Company
from agents.selectors import eligible_primary_agents
from events import payloads
from events.emit import event_emit_many, heard
from events.models import EventType
from events.payloads import Mass, OwnerMethod, owner_method

from . import timeline
from .locks import LockedContact, lock_contacts, lock_primary_load, lock_primary_load_table
from .models import AssignmentEmail, Contact, PrimaryLoad, TimelineEntry
from .tasks import send_assignment_email


class _Anyone(enum.Enum):
    ANYONE = "anyone"


# ``expected_owner=ANYONE``: change the contact whoever owns it now.
ANYONE: Final = _Anyone.ANYONE


class Skip(enum.StrEnum):
    """Why a contact was left as it was."""

    UNCHANGED = "already has that primary agent"
    HELD = "Re-Assign in progress"
    OWNER_MOVED = "its primary agent changed in the meantime"
    MISSING = "no longer exists"


@dataclass
class Outcome:
    """What one call changed, and what it left out and why."""

    # The timeline rows written, as field values (``timeline.primary_agent_changed``).
    entries: list[dict] = field(default_factory=list)
    skipped: dict[int, Skip] = field(default_factory=dict)
    # The hold's label per contact skipped for it ("group “Closers”"), for messages.
    held_by: dict[int, str] = field(default_factory=dict)
    # The new ownership version of each changed contact.
    versions: dict[int, int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return len(self.entries)

    def refused(self) -> dict[int, str]:
        """The contacts left out for a reason a person should hear (not "unchanged")."""
        return {
            pk: (f"{why} through {self.held_by[pk]}" if pk in self.held_by else str(why))
            for pk, why in self.skipped.items()
            if why is not Skip.UNCHANGED
        }


def primary_agents_check(*, company: Company, agents: Iterable[Agent | None]) -> None:
    """Refuse (ValidationError on ``primary_agent``) anyone who can't own the company's
    contacts: only its active agents, supervisors and admins can."""
    wanted = {a.pk: a for a in agents if a is not None}
    if not wanted:
        return
    allowed = set(eligible_primary_agents(company=company).filter(pk__in=wanted).values_list("pk"))
    allowed = {pk for (pk,) in allowed}
    for pk, agent in sorted(wanted.items()):
        if pk not in allowed:
            raise ValidationError(
                {
                    "primary_agent": [
                        f"{agent} can't be this contact's primary agent: only active agents, "
                        f"supervisors and admins of {company} can."
                    ]
                }
            )


def primary_load_apply(*, company_id: int, deltas: Mapping[int, int]) -> None:
    """Add ``deltas`` (agent id -> +/- contacts) to the agents' primary-contact counts.

    One upsert statement, in agent order (the last level of ``agents.lockorder.ORDER``);
    called inside the transaction of the change it counts."""
    rows = sorted((company_id, agent_id, n) for agent_id, n in deltas.items() if agent_id and n)
    if not rows:
        return
    lock_primary_load(agent_id for _, agent_id, _ in rows)
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
    lock_primary_load_table()
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


def _schedule_assignment_email(
    *, company_id: int, agent: Agent, actor: Agent | None, contacts: list[tuple[int, int]]
) -> AssignmentEmail:
    """Record the email for (contact id, ownership version) pairs; queue it after commit."""
    key = None if actor is not None else current_key()
    email = AssignmentEmail.objects.create(
        company_id=company_id,
        agent=agent,
        actor=actor,
        actor_label=str(key) if key else "",
        contacts=[list(c) for c in contacts],
    )
    send_assignment_email.delay_on_commit(email.pk)
    return email


def _contacts_update(
    changes: list[tuple[int, int | None, int | None, int]], *, released: list[int], now
) -> None:
    """Write the changes (contact id, old, new owner id, new version) of locked contacts,
    and end the hold of ``released`` ones: on PostgreSQL one ``UPDATE … FROM unnest(…)``
    statement per 20,000 contacts; elsewhere one statement per new owner."""
    if released:
        Contact.objects.filter(pk__in=released).update(reassign_hold=None, reassign_hold_label="")
    if not changes:
        return
    if connection.vendor != "postgresql":
        by_target: dict[int | None, list[int]] = {}
        for pk, _, new_id, _ in changes:
            by_target.setdefault(new_id, []).append(pk)
        for new_id, pks in by_target.items():
            for start in range(0, len(pks), 500):
                Contact.objects.filter(pk__in=pks[start : start + 500]).update(
                    primary_agent_id=new_id,
                    ownership_version=F("ownership_version") + 1,
                    updated_at=now,
                )
        return
    table = connection.ops.quote_name(Contact._meta.db_table)
    column = {
        name: connection.ops.quote_name(Contact._meta.get_field(name).column)
        for name in ("primary_agent", "ownership_version", "updated_at")
    }
    sql = (
        f"UPDATE {table} AS c SET {column['primary_agent']} = v.agent, "  # noqa: S608 - names
        f"{column['ownership_version']} = v.version, {column['updated_at']} = %s "
        "FROM unnest(%s::bigint[], %s::bigint[], %s::integer[]) AS v(id, agent, version) "
        "WHERE c.id = v.id"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(changes), 20_000):
            part = changes[start : start + 20_000]
            cursor.execute(
                sql,
                [
                    now,
                    int_array([pk for pk, _, _, _ in part]),
                    int_array([new for _, _, new, _ in part]),
                    int_array([version for _, _, _, version in part]),
                ],
            )


@transaction.atomic
def contacts_set_primary_agent(
    *,
    company: Company,
    targets: Mapping[int, Agent | None],
    actor: Agent | None,
    reason: str | Mapping[int, str] = "",
    expected_owner: Agent | None | _Anyone | Mapping[int, int | None | _Anyone] = ANYONE,
    hold: int | None = None,
    method: OwnerMethod | str | None = None,
    mass: Mass | str = "",
    locked: Sequence[LockedContact] | None = None,
) -> Outcome:
    """Give each contact of ``targets`` (contact id -> new primary agent, or None to clear)
    its new primary agent.

    - ``reason``: one for all, or one per contact id; it ends each timeline row.
    - ``expected_owner``: change only contacts still owned by that agent (None: unowned);
      the others are skipped as ``OWNER_MOVED`` (a handover never overwrites a change that
      committed after it read the book). Or one per contact id (an agent id, None or
      ``ANYONE``; a contact left out: ``ANYONE``), as the API's bulk set takes them.
    - ``hold``: the id of the distribution holding the contacts (*Re-Assign in progress*):
      only it may change them, and it releases its hold here. Contacts held by another are
      skipped as ``HELD``.
    - ``method``: how the change is made, said by its ``contact.owner_changed`` events
      (``events.payloads.OwnerMethod``): "rule", "group", "handover" from routing; none
      given, "api" when an API key makes it, else "manual".
    - ``mass``: the mass change this is ("handover"); a change of more than one contact is
      a "bulk_assign" otherwise. Its events are written in one ``COPY`` and sent in batches.

    - ``locked``: the rows of ``targets``, in pk order, as the caller locked them in this
      transaction (``contacts.locks.lock_book``, ``lock_contacts``): read as they are, not
      locked and read again (a handover's book is 100,000 of them). A target left out of
      them is skipped as ``MISSING``.

    Writes one ``contact.owner_changed`` event per changed contact (none for a skipped one)
    when some endpoint of the company hears it, in this transaction.

    Raises ``ValidationError`` when a target agent cannot own the company's contacts.
    """
    primary_agents_check(company=company, agents=targets.values())
    if isinstance(expected_owner, Mapping):
        expected_of = {pk: expected_owner.get(pk, ANYONE) for pk in targets}
    else:
        expected = expected_owner.pk if isinstance(expected_owner, Agent) else expected_owner
        expected_of = dict.fromkeys(targets, expected)
    method = owner_method(method)
    outcome = Outcome()
    names: dict[int, Agent] = {a.pk: a for a in targets.values() if a is not None}
    now = timezone.now()
    seen: set[int] = set()
    released: list[int] = []
    # (contact id, old owner id, new owner id, new version), in pk order: the order of the
    # timeline rows, and of single changes made one after another.
    changes: list[tuple[int, int | None, int | None, int]] = []
    chunks = [locked] if locked is not None else lock_contacts(company_id=company.pk, ids=targets)
    for rows in chunks:
        for row in rows:
            seen.add(row.pk)
            agent = targets[row.pk]
            new_id = agent.pk if agent else None
            if hold is not None and row.reassign_hold == hold:
                released.append(row.pk)
            if row.primary_agent_id == new_id:
                outcome.skipped[row.pk] = Skip.UNCHANGED
                continue
            if row.reassign_hold is not None and row.reassign_hold != hold:
                outcome.skipped[row.pk] = Skip.HELD
                outcome.held_by[row.pk] = row.reassign_hold_label
                continue
            expected = expected_of[row.pk]
            if expected is not ANYONE and row.primary_agent_id != expected:
                outcome.skipped[row.pk] = Skip.OWNER_MOVED
                continue
            changes.append((row.pk, row.primary_agent_id, new_id, row.ownership_version + 1))
    for pk in set(targets) - seen:
        outcome.skipped[pk] = Skip.MISSING
    _contacts_update(changes, released=released, now=now)
    missing = {old for _, old, _, _ in changes if old is not None} - set(names)
    if missing:
        names |= {a.pk: a for a in Agent.objects.filter(pk__in=missing)}
    deltas: dict[int, int] = {}
    emails: dict[int, list[tuple[int, int]]] = {}
    single = reason if isinstance(reason, str) else None
    step = timedelta(microseconds=1)
    worded = timeline.PrimaryAgentChanges(company_id=company.pk, actor=actor, names=names)
    for n, (pk, old_id, new_id, version) in enumerate(changes):
        entry = worded.row(
            contact_id=pk,
            old_id=old_id,
            new_id=new_id,
            reason=single if single is not None else reason.get(pk, ""),
            # One microsecond apart, in pk order: "last assigned" (least loaded's tie-break)
            # reads the same order as had they been changed one at a time.
            at=now + n * step,
        )
        outcome.entries.append(entry)
        outcome.versions[pk] = version
        if old_id:
            deltas[old_id] = deltas.get(old_id, 0) - 1
        if new_id:
            deltas[new_id] = deltas.get(new_id, 0) + 1
            emails.setdefault(new_id, []).append((pk, version))
    timeline.timeline_write_values(outcome.entries)
    primary_load_apply(company_id=company.pk, deltas=deltas)
    for agent_id, contacts in sorted(emails.items()):
        _schedule_assignment_email(
            company_id=company.pk, agent=names[agent_id], actor=actor, contacts=contacts
        )
    _emit_owner_changed(
        company=company, outcome=outcome, names=names, actor=actor, method=method, mass=mass
    )
    return outcome


def _emit_owner_changed(
    *,
    company: Company,
    outcome: Outcome,
    names: Mapping[int, Agent],
    actor: Agent | None,
    method: OwnerMethod,
    mass: str,
) -> None:
    """One ``contact.owner_changed`` per timeline row of the change (nothing, and no query,
    when nobody hears it)."""
    if not outcome.entries or not heard(company, EventType.CONTACT_OWNER_CHANGED):
        return
    ids = [entry["contact_id"] for entry in outcome.entries]
    contacts: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), 2000):
        rows = Contact.objects.filter(pk__in=ids[start : start + 2000]).values_list(
            "pk", "name", "phone"
        )
        contacts.update((pk, (name, phone)) for pk, name, phone in rows)
    items = []
    for entry in outcome.entries:
        pk, details = entry["contact_id"], entry["details"]
        name, phone = contacts[pk]
        version = outcome.versions[pk]
        data = payloads.owner_changed(
            contact=payloads.contact_ref(id=pk, name=name, phone=phone),
            old=names.get(details["from"]) if details["from"] else None,
            new=names.get(details["to"]) if details["to"] else None,
            method=method,
            reason=details["reason"],
            version=version,
        )
        items.append((pk, version, data))
    event_emit_many(
        company=company,
        type=EventType.CONTACT_OWNER_CHANGED,
        items=items,
        actor=actor,
        mass=mass or Mass.BULK_ASSIGN,
        one_is_mass=bool(mass),
    )


def _refusal(outcome: Outcome, pk: int) -> ValidationError:
    why = outcome.skipped[pk]
    if why is Skip.HELD:
        message = (
            f"Re-Assign in progress through {outcome.held_by[pk]}: the primary agent can't be "
            "changed until it finishes."
        )
    elif why is Skip.OWNER_MOVED:
        message = "Someone changed this contact's primary agent in the meantime; look again."
    else:
        message = "This contact no longer exists."
    return ValidationError({"primary_agent": [message]}, code=why.name.lower())


def contact_assign_primary_agent(
    *,
    contact: Contact,
    agent: Agent | None,
    actor: Agent | None,
    reason: str = "",
    expected_owner: Agent | None | _Anyone = ANYONE,
    hold: int | None = None,
    method: OwnerMethod | str | None = None,
) -> TimelineEntry | None:
    """Set (or, with ``agent=None``, clear) one contact's primary agent.

    Returns the timeline row written (built from its values: no primary key), or None when
    the contact already had that primary agent; raises ``ValidationError`` when the change
    is refused (hold, owner moved, ineligible)."""
    outcome = contacts_set_primary_agent(
        company=contact.company,
        targets={contact.pk: agent},
        actor=actor,
        reason=reason,
        expected_owner=expected_owner,
        hold=hold,
        method=method,
    )
    if outcome.entries:
        contact.primary_agent = agent
        contact.ownership_version = outcome.versions[contact.pk]
        return TimelineEntry(**outcome.entries[0])
    if outcome.skipped.get(contact.pk, Skip.UNCHANGED) is not Skip.UNCHANGED:
        raise _refusal(outcome, contact.pk)
    return None


@transaction.atomic
def contacts_assign_primary_agent_bulk(
    *,
    company: Company,
    contact_ids: Iterable[int],
    agent: Agent | None,
    actor: Agent | None,
    reason: str = "",
    method: OwnerMethod | str | None = None,
) -> int:
    """Give many contacts one primary agent (or none), all or nothing: refused (and nothing
    changed) when any of them is being re-assigned. Returns how many changed. (The admin's
    actions call ``contacts_set_primary_agent`` instead, to change the others and say which
    were left out.)"""
    outcome = contacts_set_primary_agent(
        company=company,
        targets=dict.fromkeys(contact_ids, agent),
        actor=actor,
        reason=reason,
        method=method,
    )
    held = [pk for pk, why in outcome.skipped.items() if why is Skip.HELD]
    if held:
        raise ValidationError(
            {
                "primary_agent": [
                    f"{len(held)} of the selected contacts are being re-assigned (Re-Assign in "
                    "progress); leave them out or wait until they are assigned."
                ]
            }
        )
    return outcome.changed


def contact_hold_set(*, contact: Contact, hold: int, label: str) -> None:
    """Mark a locked contact *Re-Assign in progress* by distribution ``hold`` (a round id):
    from now on only that distribution may change its primary agent."""
    Contact.objects.filter(pk=contact.pk).update(reassign_hold=hold, reassign_hold_label=label)
    contact.reassign_hold, contact.reassign_hold_label = hold, label


def contact_hold_release(*, contact_id: int, hold: int) -> None:
    """End the hold of distribution ``hold`` on a contact (no-op if it holds none)."""
    Contact.objects.filter(pk=contact_id, reassign_hold=hold).update(
        reassign_hold=None, reassign_hold_label=""
    )
