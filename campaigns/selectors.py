"""Reads for the campaign pages, the workload page and the import progress."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from agents.availability.models import Absence
from agents.availability.rules import covering_text
from agents.centers.models import CenterMembership
from agents.models import Agent, Company
from agents.phone import format_phone

from .models import (
    OWNER_LEFT_ERRORS,
    OWNER_LEFT_REASON,
    AgentKey,
    Campaign,
    Entry,
    ListImport,
    OwnerChange,
    RejectedRow,
)
from .progress import progress_file
from .work import NAME_COLUMNS, covering_absences

S = Entry.State
# Entries whose record never reached an agent's queue: in error, or in error and fixed by an
# append (whose own entry is the one delivered).
NOT_DELIVERED = (S.ERROR, S.FIXED)
OPEN = [S.QUEUED, S.RESERVED, S.CALLED]
ACTIVE = [Campaign.Status.RUNNING, Campaign.Status.PAUSED]


def pending_records_by_agent(company: Company) -> dict[int, int]:
    """Records still to work in each agent's queues (running or paused campaigns)."""
    rows = (
        Entry.objects.filter(campaign__company=company, campaign__status__in=ACTIVE, state__in=OPEN)
        .values("agent_id")
        .annotate(n=Count("*"))
        .order_by()
    )
    return {row["agent_id"]: row["n"] for row in rows if row["agent_id"] is not None}


def import_progress(list_import: ListImport) -> int:
    """Bytes read so far: from the row (PostgreSQL) or the progress file (SQLite)."""
    if list_import.is_finished or connection.vendor == "postgresql":
        return list_import.bytes_read
    try:
        return int(progress_file(list_import.pk).read_text() or 0)
    except (OSError, ValueError):
        return list_import.bytes_read


def import_status(list_import: ListImport) -> dict:
    done = import_progress(list_import)
    percent = (
        100
        if list_import.is_finished
        else min(99, int(100 * done / list_import.file_size))
        if list_import.file_size
        else 0
    )
    return {
        "status": list_import.status,
        "status_label": list_import.get_status_display(),
        "finished": list_import.is_finished,
        "percent": percent,
        "bytes_read": done,
        "file_size": list_import.file_size,
        "rows_loaded": list_import.rows_loaded,
        "rows_rejected": list_import.rows_rejected,
        "message": list_import.message,
    }


def rejected_rows(list_import: ListImport) -> QuerySet[RejectedRow]:
    return list_import.rejected.order_by("line", "pk")


def campaigns_for_company(company: Company) -> QuerySet[Campaign]:
    return Campaign.objects.filter(company=company).select_related("queue", "contact_list")


def progress_counts(now=None) -> dict:
    """The one definition of a queue's progress, as aggregates over entries (the agent's
    queue page, the campaign list and the dashboard all count with it):

    - **total**: the records delivered (every entry but those not delivered: errors, and
      errors fixed by an append, whose record is counted by the appended entry);
    - **handled**: closed with a disposition and no callback pending (state *handled*);
    - **skipped**: skipped in this cycle;
    - **done** = handled + skipped (``progress_finish``); **remaining** = total − done:
      queued, being previewed or called. A record with a callback pending is *not* done (it
      comes back at its time) and is counted under **callbacks**;
    - after a recycle the counts are the current cycle's: a restarted record is remaining
      again, even if it was handled before (**handled_before**, shown as such).
    """
    now = now or timezone.now()
    return {
        "total": Count("pk", filter=~Q(state__in=NOT_DELIVERED)),
        "handled": Count("pk", filter=Q(state=S.HANDLED)),
        "skipped": Count("pk", filter=Q(state=S.SKIPPED)),
        "remaining": Count("pk", filter=Q(state__in=OPEN)),
        "callbacks": Count("pk", filter=Q(state=S.QUEUED, callback_at__isnull=False)),
        "callbacks_due": Count("pk", filter=Q(state=S.QUEUED, callback_at__lte=now)),
        "handled_before": Count(
            "pk",
            filter=Q(state__in=OPEN, handled_at__isnull=False, callback_at__isnull=True),
        ),
    }


def progress_finish(row: dict) -> dict:
    """Add ``done`` (total − remaining, i.e. handled + skipped) and ``percent`` to a row of
    ``progress_counts``."""
    total = row.get("total") or 0
    row["done"] = total - (row.get("remaining") or 0)
    row["percent"] = round(100 * row["done"] / total) if total else 0
    return row


def agent_campaigns(*, agent: Agent, company: Company) -> list[dict]:
    """The running campaigns with records in the agent's queue, with their progress. A
    record in error names the agent but never reached their queue (they are not in the
    campaign's queue, say): it lists nothing for them (the admin sees it on the errors page)."""
    counts = (
        Entry.objects.filter(agent=agent, campaign__company=company, campaign__status__in=ACTIVE)
        .exclude(state__in=NOT_DELIVERED)
        .values("campaign_id")
        .annotate(**progress_counts())
        .order_by()
    )
    by_id = {row["campaign_id"]: progress_finish(row) for row in counts}
    campaigns = Campaign.objects.filter(pk__in=by_id).order_by("name")
    return [{"campaign": c, **by_id[c.pk]} for c in campaigns]


def agent_progress(*, campaign: Campaign, agent: Agent) -> dict:
    row = Entry.objects.filter(campaign=campaign, agent=agent).aggregate(**progress_counts())
    return progress_finish(row)


@dataclass
class DashboardRow:
    agent: Agent | None
    total: int = 0
    handled: int = 0
    skipped: int = 0
    remaining: int = 0
    callbacks: int = 0
    callbacks_due: int = 0
    handled_before: int = 0
    done: int = 0
    percent: int = 0
    errors: int = 0
    in_queue: bool = True

    @property
    def label(self) -> str:
        return f"{self.done} of {self.total} done"


COUNTED = ("total", "handled", "skipped", "remaining", "callbacks", "callbacks_due",
           "handled_before")  # fmt: skip


def dashboard(campaign: Campaign) -> dict:
    """Per agent and for the campaign: the counts of ``progress_counts`` and the errors.
    One grouped query over the entries (one index), one for the queue's members, one for the
    agents, one for the orphaned callbacks and one for the pending changes."""
    counts = (
        Entry.objects.filter(campaign=campaign)
        .values("agent_id")
        .annotate(**progress_counts(), errors=Count("pk", filter=Q(state=S.ERROR)))
        .order_by()
    )
    members = set(
        CenterMembership.objects.filter(center_id=campaign.queue_id).values_list(
            "agent_id", flat=True
        )
    )
    agents = Agent.objects.in_bulk([r["agent_id"] for r in counts if r["agent_id"]])
    rows = []
    unassigned_errors = 0
    for r in counts:
        if r["agent_id"] is None:
            unassigned_errors += r["errors"]
            continue
        progress_finish(r)
        rows.append(
            DashboardRow(
                agent=agents[r["agent_id"]],
                **{k: r[k] for k in (*COUNTED, "done", "percent", "errors")},
                in_queue=r["agent_id"] in members,
            )
        )
    rows.sort(key=lambda r: (r.agent.full_name or r.agent.email).lower())
    totals = progress_finish({key: sum(getattr(r, key) for r in rows) for key in COUNTED})
    totals["errors"] = sum(r.errors for r in rows) + unassigned_errors
    totals["errors"] += orphaned_callbacks(campaign).count()
    totals["pending_changes"] = OwnerChange.objects.filter(
        campaign=campaign, applied_at__isnull=True
    ).count()
    return {"rows": rows, "totals": totals}


# The error page lists records by their line in the file (the list's first file, then each
# append), not by their place in the queues (the sorting's order: lines 13, 15, 14…).
BY_LINE = ("record__list_import_id", "record__line", "pk")


def orphaned_callbacks(campaign: Campaign) -> QuerySet[Entry]:
    """Callbacks whose owner has left the queue: listed as errors, never given to others."""
    member = CenterMembership.objects.filter(center_id=campaign.queue_id, agent=OuterRef("agent"))
    return (
        Entry.objects.filter(
            campaign=campaign, state=S.QUEUED, callback_at__isnull=False, agent__isnull=False
        )
        .filter(~Exists(member))
        .select_related("agent", "record")
        .order_by(*BY_LINE)
    )


def error_entries(campaign: Campaign) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(campaign=campaign, state=S.ERROR)
        .select_related("record", "agent")
        .order_by(*BY_LINE)
    )


def fixed_entries(campaign: Campaign) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(campaign=campaign, state=S.FIXED)
        .select_related("record", "fixed_by__record", "fixed_by__agent")
        .order_by(*BY_LINE)
    )


def error_counts(campaign: Campaign) -> list[tuple[str, int]]:
    """Errors per reason, most first; a deactivated owner's (``Entry.owner_left``) apart."""
    labels = dict(AgentKey.Error.choices)
    left = Q(agent__isnull=False, error__in=OWNER_LEFT_ERRORS)
    rows = (
        Entry.objects.filter(campaign=campaign, state=S.ERROR)
        .values("error")
        .annotate(n=Count("*"), left=Count("pk", filter=left))
        .order_by()
    )
    counts: dict[str, int] = {}
    for r in rows:
        if r["left"]:
            counts[OWNER_LEFT_REASON] = counts.get(OWNER_LEFT_REASON, 0) + r["left"]
        if r["n"] - r["left"]:
            label = labels.get(r["error"], r["error"])
            counts[label] = counts.get(label, 0) + r["n"] - r["left"]
    return sorted(counts.items(), key=lambda item: -item[1])


def pending_owner_changes(campaign: Campaign) -> QuerySet[OwnerChange]:
    return OwnerChange.objects.filter(campaign=campaign, applied_at__isnull=True).select_related(
        "record", "requested_by"
    )


def entry_for_agent(
    *, campaign: Campaign, agent: Agent, pk: int, covering: Iterable[int] = ()
) -> Entry | None:
    """The agent's entry, or one of an owner they cover (``covering``: owner ids)."""
    return (
        Entry.objects.filter(campaign=campaign, agent_id__in=[agent.pk, *covering], pk=pk)
        .select_related("record__contact_list", "record__contact_link__contact", "disposition")
        .first()
    )


@dataclass
class Covering:
    """An absent owner ``cover`` covers now, as the cover's queue page shows it."""

    absence: Absence
    text: str  # "covering for Ava Patel until Fri 17:00"
    works: bool  # the campaign lets the cover work the owner's records
    remaining: int = 0  # the owner's records still to work (shown when ``works``)
    callbacks: list["CallbackRow"] = field(default_factory=list)

    @property
    def owner(self) -> Agent:
        return self.absence.agent


@dataclass
class CallbackRow:
    entry: Entry
    title: str  # the record's name (``record_title``)
    due: bool  # its time has come


# The callbacks listed for a cover, per absent owner, at most.
CALLBACKS_SHOWN = 50


def covering_for(*, campaign: Campaign, company: Company, cover: Agent, at=None) -> list[Covering]:
    """The absent owners ``cover`` covers now, each with the callbacks due before the
    absence ends (those already due included: they wait during it too), in time order, and
    (when the campaign lets the cover work them) their records still to work. Three queries
    when covering anyone (absences, callbacks, counts), one otherwise."""
    at = at or timezone.now()
    absences = covering_absences(
        cover=cover, company_id=campaign.company_id, at=at, queue_id=campaign.queue_id
    )
    if not absences:
        return []
    zone = company.time_zone
    works = campaign.cover_works_absent_owner
    rows = {
        owner_id: Covering(
            absence=absence,
            text=covering_text(str(absence.agent), absence.ends_at, zone),
            works=works,
        )
        for owner_id, absence in absences.items()
    }
    due = Q()
    for owner_id, absence in absences.items():
        due |= Q(agent_id=owner_id, callback_at__lt=absence.ends_at)
    callbacks = (
        Entry.objects.filter(campaign=campaign, state=S.QUEUED, callback_at__isnull=False)
        .filter(due)
        .select_related("record__contact_list")
        .order_by("callback_at", "pk")[: CALLBACKS_SHOWN * len(absences)]
    )
    for entry in callbacks:
        if len(rows[entry.agent_id].callbacks) < CALLBACKS_SHOWN:
            row = CallbackRow(entry, record_title(entry.record), entry.callback_at <= at)
            rows[entry.agent_id].callbacks.append(row)
    if works:
        counts = (
            Entry.objects.filter(campaign=campaign, agent_id__in=list(absences), state__in=OPEN)
            .values("agent_id")
            .annotate(n=Count("*"))
            .order_by()
        )
        for row in counts:
            rows[row["agent_id"]].remaining = row["n"]
    return list(rows.values())


def covering_campaigns(*, cover: Agent, company: Company, at=None) -> list[dict]:
    """The running or paused campaigns with records of an owner ``cover`` covers now (for
    the campaign list): the campaign, whose records, and whether the cover may work them.
    Two queries when covering anyone, one otherwise."""
    at = at or timezone.now()
    absences = covering_absences(cover=cover, company_id=company.pk, at=at)
    if not absences:
        return []
    rows = (
        Entry.objects.filter(
            campaign__company=company,
            campaign__status__in=ACTIVE,
            # (only campaigns whose queue the cover is in: records are its members')
            campaign__queue__members__agent_id=cover.pk,
            agent_id__in=list(absences),
            state__in=OPEN,
        )
        .values("campaign_id", "campaign__name", "campaign__cover_works_absent_owner", "agent_id")
        .annotate(
            remaining=Count("pk"),
            callbacks=Count("pk", filter=Q(state=S.QUEUED, callback_at__isnull=False)),
        )
        .order_by("campaign__name", "campaign_id", "agent_id")
    )
    return [
        {
            "campaign_id": row["campaign_id"],
            "name": row["campaign__name"],
            "works": row["campaign__cover_works_absent_owner"],
            "remaining": row["remaining"],
            "callbacks": row["callbacks"],
            "text": covering_text(
                str(absences[row["agent_id"]].agent),
                absences[row["agent_id"]].ends_at,
                company.time_zone,
            ),
        }
        for row in rows
    ]


def record_cells(entry: Entry) -> list[tuple[str, str]]:
    """The record's cells under their column names; phone columns (stored in E.164) read
    as people write them."""
    contact_list = entry.record.contact_list
    phones = set(contact_list.phone_columns)
    return [
        (name, format_phone(value) if n in phones and value else value)
        for n, (name, value) in enumerate(
            zip(contact_list.columns, entry.record.cells, strict=False)
        )
    ]


def record_title(record) -> str:
    """How a record is named to the agent: its name cell (the first column called like a
    name), else its phone, formatted."""
    columns = [c.lower() for c in record.contact_list.columns]
    cells = record.cells
    for name in NAME_COLUMNS:
        at = columns.index(name) if name in columns else len(cells)
        if at < len(cells) and (value := cells[at].strip()):
            return value
    return format_phone(record.phone)
