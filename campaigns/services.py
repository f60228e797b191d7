"""A campaign's life: create, change what may change, start (distribute), pause, resume,
recycle, complete; owner changes stored while it runs and honoured at the next recycle.
Contact lists (uploads, names, deletion): ``contact_lists.py``."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.centers.models import ContactCenter
from agents.models import Agent, Company
from agents.unique import refuse_taken, taken_as

from .distribution import (
    agents_named,
    campaign_changed,
    distribute,
    redistribute,
    too_many_agents,
    unfinished_agents,
)
from .locks import lock_campaign, lock_contact_list
from .models import (
    MAX_SORT_COLUMNS,
    AgentKey,
    Campaign,
    ContactList,
    Entry,
    OwnerChange,
    Record,
    cell_field,
)

# Fixed when the campaign is created (the anchor product's rule): a change would move
# records between queues behind the agents' backs.
IMMUTABLE = ("dialing_mode", "agent_owned", "queue", "contact_list", "agent_column")
EDITABLE = ("name", "sort", "cover_works_absent_owner")
S = Campaign.Status
NAME_TAKEN = "Another campaign already has this name."


def campaign_clean(
    *,
    company: Company,
    queue: ContactCenter,
    contact_list: ContactList,
    agent_column: str,
    sort: list,
) -> list[list[str]]:
    """Check a campaign's settings; return the sorting in its stored form.

    Errors are keyed by the form's fields: ``queue``, ``contact_list``, ``agent_column``, and
    ``sort_<n>`` for the n-th item of ``sort`` (1-based; empty items count, so a form passes
    its four sort fields as they are and each error lands by its own field)."""
    errors: dict[str, list[str]] = {}
    if queue.company_id != company.pk:
        errors["queue"] = ["Pick a contact center of this company."]
    elif not queue.preferred_agent_routing:
        errors["queue"] = [
            f"“{queue}” does not use preferred agent routing: turn it on in the center's "
            "settings first, or records cannot go to their own agents."
        ]
    if contact_list.company_id != company.pk:
        errors["contact_list"] = ["Pick a contact list of this company."]
    elif not contact_list.columns:
        errors["contact_list"] = ["This list is not loaded yet: wait for its import to finish."]
    elif agent_column not in contact_list.columns:
        errors["agent_column"] = [f"“{agent_column}” is not a column of “{contact_list}”."]
    cleaned = []
    seen: set[str] = set()
    for n, item in enumerate(sort or [], start=1):
        column, direction = (list(item) + ["asc"])[:2]
        if not column:
            continue
        key = f"sort_{n}"
        if column == agent_column:
            errors.setdefault(key, []).append(
                "Records cannot be sorted by the agent column: each agent gets their own "
                "records in the order of the other columns."
            )
        elif column not in (contact_list.columns or []):
            errors.setdefault(key, []).append(f"“{column}” is not a column of the list.")
        elif column in seen:
            errors.setdefault(key, []).append("Each column can be used once in the sorting.")
        seen.add(column)
        cleaned.append([column, "desc" if direction == "desc" else "asc"])
    if len(cleaned) > MAX_SORT_COLUMNS:
        errors.setdefault("sort", []).append(f"Sort by at most {MAX_SORT_COLUMNS} columns.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def campaign_create_clean(
    *,
    company: Company,
    name: str,
    queue: ContactCenter,
    contact_list: ContactList,
    agent_column: str,
    sort: list,
) -> tuple[str, list[list[str]]]:
    """Every check of ``campaign_create``, keyed by field (the admin's form runs it in its
    ``clean``, so an error stands by its field with the rest of the form kept): the name
    (given, free in the company), the settings (``campaign_clean``) and the 200 agents
    (``agent_column``). Returns the stripped name and the stored sorting."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the campaign a name."]
    elif Campaign.objects.filter(company=company, name=name).exists():
        errors["name"] = [NAME_TAKEN]
    cleaned: list[list[str]] = []
    try:
        cleaned = campaign_clean(
            company=company,
            queue=queue,
            contact_list=contact_list,
            agent_column=agent_column,
            sort=sort,
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    if not errors:
        probe = Campaign(
            company=company, queue=queue, contact_list=contact_list, agent_column=agent_column
        )
        try:
            too_many_agents(agents_named(probe))
        except ValidationError as error:
            errors["agent_column"] = error.messages
    if errors:
        raise ValidationError(errors)
    return name, cleaned


@transaction.atomic
def campaign_create(
    *,
    company: Company,
    name: str,
    queue: ContactCenter,
    contact_list: ContactList,
    agent_column: str,
    sort: list | None = None,
    actor: Agent | None = None,
    cover_works_absent_owner: bool = False,
) -> Campaign:
    name, cleaned = campaign_create_clean(
        company=company,
        name=name,
        queue=queue,
        contact_list=contact_list,
        agent_column=agent_column,
        sort=sort or [],
    )
    campaign = Campaign(
        company=company,
        name=name,
        queue=queue,
        contact_list=contact_list,
        agent_column=agent_column,
        sort=cleaned,
        cover_works_absent_owner=cover_works_absent_owner,
        created_by=actor,
    )
    with taken_as(field="name", message=NAME_TAKEN):
        campaign.save()
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, actor: Agent | None = None, **fields) -> Campaign:
    """Change a campaign's name, whether a cover works an absent owner's records (at any
    time: it decides only who may take the next ones) or (in draft) sorting; the rest is
    fixed at creation."""
    locked = lock_campaign(campaign.pk)
    fixed = [name for name in fields if name in IMMUTABLE]
    changed_fixed = [
        name
        for name in fixed
        if getattr(locked, name + ("_id" if name in ("queue", "contact_list") else ""))
        != _raw(fields[name])
    ]
    if changed_fixed:
        raise ValidationError(
            "After a campaign is created its dialing mode, queue, contact list and "
            "agent-owned column cannot change, and it stays agent-owned "
            f"(asked to change: {', '.join(changed_fixed)})."
        )
    unknown = set(fields) - set(IMMUTABLE) - set(EDITABLE)
    if unknown:
        raise TypeError(f"campaign_update() got unexpected fields {sorted(unknown)}")
    if "sort" in fields:
        if locked.status != S.DRAFT and fields["sort"] != locked.sort:
            raise ValidationError({"sort": ["The sorting can change only before the start."]})
        locked.sort = campaign_clean(
            company=locked.company,
            queue=locked.queue,
            contact_list=locked.contact_list,
            agent_column=locked.agent_column,
            sort=fields["sort"],
        )
    if "name" in fields:
        name = fields["name"].strip()
        refuse_taken(
            Campaign.objects.filter(company=locked.company),
            field="name",
            value=name,
            instance=locked,
            message=NAME_TAKEN,
        )
        locked.name = name
    if "cover_works_absent_owner" in fields:
        locked.cover_works_absent_owner = bool(fields["cover_works_absent_owner"])
    locked.save(update_fields=["name", "sort", "cover_works_absent_owner"])
    return locked


def _raw(value):
    return getattr(value, "pk", value)


def _transition(campaign: Campaign, allowed: tuple[str, ...], verb: str) -> Campaign:
    locked = lock_campaign(campaign.pk)
    if locked.status not in allowed:
        raise ValidationError(f"A {locked.get_status_display().lower()} campaign cannot be {verb}.")
    return locked


@transaction.atomic
def campaign_start(*, campaign: Campaign, actor: Agent | None = None) -> int:
    """Draft → running: build every agent's queue. Returns the records queued."""
    lock_contact_list(campaign.contact_list_id)
    locked = _transition(campaign, (S.DRAFT,), "started")
    queued = distribute(locked)
    locked.status = S.RUNNING
    locked.started_at = timezone.now()
    locked.save(update_fields=["status", "started_at"])
    campaign_changed(locked)
    campaign.refresh_from_db()
    return queued


def _move(
    campaign: Campaign, allowed: tuple[str, ...], verb: str, to: str, *, stamp: str = ""
) -> Campaign:
    """A state change that is only a state change (and the time it happened, in ``stamp``)."""
    locked = _transition(campaign, allowed, verb)
    locked.status = to
    fields = ["status"]
    if stamp:
        setattr(locked, stamp, timezone.now())
        fields.append(stamp)
    locked.save(update_fields=fields)
    # The status on its dashboard; records pending count for running and paused campaigns
    # alike, so only leaving them (complete) changes the workload page.
    campaign_changed(locked, queues=to not in (S.RUNNING, S.PAUSED))
    campaign.refresh_from_db()
    return locked


@transaction.atomic
def campaign_pause(*, campaign: Campaign, actor: Agent | None = None) -> Campaign:
    return _move(campaign, (S.RUNNING,), "paused", S.PAUSED)


@transaction.atomic
def campaign_resume(*, campaign: Campaign, actor: Agent | None = None) -> Campaign:
    return _move(campaign, (S.PAUSED,), "resumed", S.RUNNING)


@transaction.atomic
def campaign_complete(*, campaign: Campaign, actor: Agent | None = None) -> Campaign:
    return _move(campaign, (S.RUNNING, S.PAUSED), "completed", S.COMPLETE, stamp="completed_at")


@transaction.atomic
def campaign_recycle(*, campaign: Campaign, actor: Agent | None = None) -> int:
    """Start unfinished per-agent lists again from the beginning (handled records stay
    marked handled; the agent may skip them), give records to agents who joined the queue
    since, and apply the owner changes stored meanwhile. Returns the owner changes applied."""
    lock_contact_list(campaign.contact_list_id)
    locked = _transition(campaign, (S.RUNNING, S.PAUSED), "recycled")
    restart = unfinished_agents(locked)
    applied = _apply_owner_changes(locked)
    redistribute(locked, restart_agents=restart)
    locked.recycle_count += 1
    locked.recycled_at = timezone.now()
    locked.save(update_fields=["recycle_count", "recycled_at"])
    campaign_changed(locked)
    return applied


def _apply_owner_changes(campaign: Campaign) -> int:
    index = campaign.agent_column_index
    pending = list(
        OwnerChange.objects.filter(campaign=campaign, applied_at__isnull=True)
        .select_related("record")
        .order_by("created_at", "pk")
    )
    now = timezone.now()
    for change in pending:  # the latest change of a record wins
        record = change.record
        setattr(record, cell_field(index), change.new_value)
        record.save(update_fields=[cell_field(index)])
        change.applied_at = now
        change.save(update_fields=["applied_at"])
    return len(pending)


@transaction.atomic
def record_change_owner(
    *, campaign: Campaign, record: Record, new_value: str, actor: Agent | None = None
) -> OwnerChange | None:
    """Give a record to another agent (email or user ID). In a draft it changes at once;
    while the campaign runs it is stored, shown as pending, and honoured at the next recycle."""
    locked = lock_campaign(campaign.pk)
    new_value = (new_value or "").strip()
    if record.contact_list_id != locked.contact_list_id:
        raise ValidationError("This record is not in the campaign's list.")
    if not new_value:
        raise ValidationError("Give the new owner's email or user ID.")
    if len(new_value) > 512:
        raise ValidationError("An agent's email or user ID has at most 512 characters.")
    if locked.status == S.COMPLETE:
        raise ValidationError("The campaign is complete.")
    if locked.status == S.DRAFT:
        setattr(record, cell_field(locked.agent_column_index), new_value)
        record.save(update_fields=[cell_field(locked.agent_column_index)])
        return None
    # The dashboard counts the owner changes pending until the recycle.
    campaign_changed(locked, queues=False)
    return OwnerChange.objects.create(
        campaign=locked, record=record, new_value=new_value, requested_by=actor
    )


# A deactivated owner's records are errors with the code a resolution of their value gives
# now (only active agents count: an unknown email or user ID), the agent kept on the entry:
# ``Entry.error_reason`` words such an error "Owner deactivated (Ava Patel)". A recycle
# resolves the value again (the same error, without the agent) and delivers the record once
# its owner was changed; an append of the row with a new owner fixes it, as for any error.
# (A code of its own, "owner_left", would need a migration of the choices.)
OWNER_LEFT = {AgentKey.Kind.USER_ID: AgentKey.Error.UNKNOWN_ID,
              AgentKey.Kind.EMAIL: AgentKey.Error.UNKNOWN_EMAIL}  # fmt: skip
NOT_HANDLED = [Entry.State.QUEUED, Entry.State.RESERVED, Entry.State.CALLED]


@transaction.atomic
def campaign_records_owner_left(*, company: Company, agent: Agent) -> int:
    """The records of ``agent`` (being deactivated) not handled yet in every running or
    paused campaign of ``company`` become errors, listed on each campaign's error page as
    "Owner deactivated"; their values no longer name them (an append naming them is not
    delivered to them). Returns the records moved.

    Locks the campaigns (pk order: the campaign level comes before contacts and routing's
    levels, so call it before anything that locks those, or in a transaction of its own).
    Handled and skipped records, drafts (resolved when they start) and complete campaigns
    stay as they are."""
    ids = list(
        Campaign.objects.filter(company=company, status__in=[S.RUNNING, S.PAUSED])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    moved = 0
    for pk in ids:
        locked = lock_campaign(pk)
        if locked.status not in (S.RUNNING, S.PAUSED):
            continue  # completed meanwhile
        for kind, error in OWNER_LEFT.items():
            AgentKey.objects.filter(campaign_id=pk, agent_id=agent.pk, kind=kind).update(
                agent=None, error=error
            )
        key_error = AgentKey.objects.filter(campaign_id=pk, value=OuterRef("agent_value"))
        moved_here = Entry.objects.filter(
            campaign_id=pk, agent_id=agent.pk, state__in=NOT_HANDLED
        ).update(
            state=Entry.State.ERROR,
            error=Coalesce(
                Subquery(key_error.values("error")[:1]), Value(AgentKey.Error.UNKNOWN_EMAIL)
            ),
            reserved_until=None,
        )
        if moved_here:
            campaign_changed(locked)
        moved += moved_here
    return moved
