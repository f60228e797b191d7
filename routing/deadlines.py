"""Owners' response deadlines (docs/availability.md): a text or form routed to its owner (or
their cover) carries ``response_due_at`` and ``response_warn_at`` (stamped by
``routing.inbound``, counted in working hours). This module sweeps them:

- **Warnings** (``deadlines_warn``): an item still open with its agent at its warning time is
  marked warned and its agent emailed ("Reply to Jane Doe's text by 09:10 or it moves to
  Active").
- **Misses** (``deadlines_sweep``): an item still open with its agent at its deadline moves to
  *Active* (``routed_to`` cleared, pool "active", ``response_missed_at`` / ``_by`` set), its
  capacity is released, and it gets a timeline row, a why-log ``Decision`` (method blank), an
  email to the agent and an ``interaction.routed`` event (method deadline, for endpoints
  that hear it) — all in one transaction, a batch at a time (bulk UPDATEs and
  ``COPY``, never a save per item).
- **After the miss's commit**, each in a transaction of its own: the agent set *Away* (the
  company's ``away_after_missed_deadline``) and told; a contact whose owner has missed
  ``handover_after_misses`` deadlines on it within ``handover_misses_days`` days handed to the
  company's group that ``takes_missed_deadlines`` (``rounds.reassignment_start``: it locks the
  group before the contact, so it cannot run inside the sweep's transaction, which holds
  interactions and load counters, further down the lock order).

An item handled at the last moment never also moves: the sweep locks the due rows
(``contacts.locks.lock_interactions``, ``SKIP LOCKED``) and moves them by a compare-and-set
(``UPDATE … WHERE status='open' AND routed_to_id=<agent>``), and the handled mark is the same
kind of compare-and-set (``contacts.interactions.interaction_mark_handled``): whichever
commits first wins, the other changes nothing.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from agents.availability.capacity import load_release
from agents.availability.rules import capacity_of, when_text
from agents.bulk import rows_source
from agents.choices import Presence
from agents.live import live_changed, stream_active, stream_agent, stream_workload
from agents.models import Agent, Company
from agents.services import agent_set_presence
from contacts import timeline
from contacts.interactions import Rerouted, interactions_routed_emit
from contacts.locks import lock_interactions
from contacts.models import Channel, Contact, Interaction
from events import payloads

from .models import DeadlineEmail, Decision, ReassignmentGroup
from .rounds import reassignment_start, source_label
from .tasks import send_deadline_email
from .why import decisions_write_values, why_no_distribution_values

logger = logging.getLogger(__name__)

# Items moved (or warned) per transaction; one run of the periodic sweep takes at most
# MAX_BATCHES of them and leaves the rest to the next run, 5 s later.
BATCH = 500
MAX_BATCHES = 40

OPEN = Interaction.Status.OPEN
# What the sweep reads of the items it locks.
LOCKED = (
    "id",
    "company_id",
    "contact_id",
    "channel",
    "routed_to_id",
    "covering_for_id",
    "response_due_at",
)
PENDING = DeadlineEmail.Status.PENDING


@dataclass(frozen=True)
class Missed:
    """One item the sweep moved, as the steps after its commit need it."""

    interaction_id: int
    contact_id: int
    company_id: int
    agent_id: int
    channel: str


def _due(now: datetime) -> Q:
    return Q(
        status=OPEN,
        routed_to__isnull=False,
        response_missed_at__isnull=True,
        response_due_at__lte=now,
    )


def _warn_due(now: datetime) -> Q:
    return Q(
        status=OPEN,
        routed_to__isnull=False,
        response_missed_at__isnull=True,
        response_warned_at__isnull=True,
        response_warn_at__lte=now,
        response_due_at__gt=now,
    )


def _deadline_minutes(company: Company, channel: str) -> int | None:
    if channel == "text":
        return company.text_deadline_minutes
    if channel == "form":
        return company.form_deadline_minutes
    return None


def _compare_and_set(
    rows: list, *, sets: str, params: list, reasons: list[str] | None = None
) -> list:
    """Apply ``sets`` to the locked ``rows`` still open with the agent each was read with, in
    one statement: ``UPDATE … FROM <(id, agent[, reason]) rows> WHERE id = v.column1 AND
    routed_to_id = v.column2 AND status = 'open' … RETURNING id`` (``agents.bulk.rows_source``:
    arrays on PostgreSQL); returns the rows changed. Under the rows' locks every one is, but
    the condition is what makes a handled mark that committed first win (and SQLite, which
    locks no rows, equally safe). In ``sets`` the old ``routed_to_id`` is still read (an
    UPDATE's expressions see the row as it was), and ``v.column3`` is each row's reason when
    ``reasons`` are given (in ``rows``' order)."""
    table = connection.ops.quote_name(Interaction._meta.db_table)
    columns: list[list] = [[row.id for row in rows], [row.routed_to_id for row in rows]]
    types = ["bigint", "bigint"]
    if reasons is not None:
        columns.append(reasons)
        types.append("text")
    source, source_params = rows_source(columns, types)
    # Names are the model's; every value is a parameter.
    sql = (
        f"UPDATE {table} SET {sets} FROM {source} "  # noqa: S608
        f"WHERE {table}.id = v.column1 AND {table}.routed_to_id = v.column2 "
        "AND status = %s AND response_missed_at IS NULL RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *source_params, OPEN])
        won = {pk for (pk,) in cursor.fetchall()}
    return [row for row in rows if row.id in won]


def _stamp(moment: datetime):
    return connection.ops.adapt_datetimefield_value(moment)


def deadlines_sweep(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Move up to ``limit`` items past their response deadline to Active (one transaction),
    then set their agents Away and hand on contacts with repeated misses (each in its own
    transaction, after that commit). Returns how many moved; call again while it returns
    ``limit``."""
    now = now or timezone.now()
    with transaction.atomic():
        missed = _move_due(now=now, limit=limit)
    if missed:
        _after_misses(missed, now=now)
    return len(missed)


def _move_due(*, now: datetime, limit: int) -> list[Missed]:
    rows = lock_interactions(
        filters=_due(now),
        order_by=("response_due_at", "pk"),
        limit=limit,
        skip_locked=True,
        fields=LOCKED,
    )
    if not rows:
        return []
    companies = Company.objects.in_bulk({row.company_id for row in rows})
    people = Agent.objects.in_bulk(
        {row.routed_to_id for row in rows} | ({row.covering_for_id for row in rows} - {None})
    )
    labels = dict(Channel.choices)
    # Each item's reason says where it is now (the pages show it), set by the move itself.
    dues, reasons = {}, {}
    for row in rows:
        company = companies[row.company_id]
        dues[row.id] = due = when_text(row.response_due_at, company.time_zone, now=now)
        reasons[row.id] = timeline.reason_response_missed(
            channel_label=labels.get(row.channel, row.channel),
            agent=people[row.routed_to_id],
            covering_for=people.get(row.covering_for_id),
            minutes=_deadline_minutes(company, row.channel),
            due=due,
        )
    # Active for everyone: no longer anyone's, nor marked as covering for anyone.
    moved = _compare_and_set(
        rows,
        sets="routed_to_id = NULL, pool = %s, response_missed_at = %s, "
        "response_missed_by_id = routed_to_id, covering_for_id = NULL, cover_until = NULL, "
        "route_reason = v.column3",
        params=[Interaction.Pool.ACTIVE, _stamp(now)],
        reasons=[reasons[row.id][:300] for row in rows],
    )
    if not moved:
        return []
    _release_capacity(moved, companies, people)
    entries, decisions, emails = [], [], []
    for row in moved:
        agent, reason = people[row.routed_to_id], reasons[row.id]
        entries.append(
            timeline.response_missed(
                company_id=row.company_id,
                contact_id=row.contact_id,
                interaction_id=row.id,
                agent=agent,
                reason=reason,
                due_at=row.response_due_at,
                at=now,
            )
        )
        decisions.append(
            why_no_distribution_values(
                company_id=row.company_id,
                contact_id=row.contact_id,
                reason=reason,
                passed_over={agent.pk: f"did not answer by {dues[row.id]}"},
                at=now,
            )
        )
        emails.append((row.company_id, agent.pk, row.id, DeadlineEmail.Kind.MISSED))
    timeline.timeline_write_values(entries)
    decisions_write_values(decisions)
    _queue_emails(emails)
    by_company: dict[int, list] = defaultdict(list)
    for row in moved:
        by_company[row.company_id].append(row)
    active = payloads.routed_to_pool(Interaction.Pool.ACTIVE)
    for company_id, theirs in sorted(by_company.items()):
        # (the contacts' pages hear of it by their timeline rows)
        live_changed(
            company_id=company_id,
            streams=[
                stream_active(company_id),
                stream_workload(company_id),
                *(stream_agent(row.routed_to_id) for row in theirs),
            ],
        )
        interactions_routed_emit(
            company=companies[company_id],
            items=[
                Rerouted(row.id, row.contact_id, row.channel, active, reasons[row.id][:300])
                for row in theirs
            ],
            method=payloads.Method.DEADLINE,
        )
    return [
        Missed(
            interaction_id=row.id,
            contact_id=row.contact_id,
            company_id=row.company_id,
            agent_id=row.routed_to_id,
            channel=row.channel,
        )
        for row in moved
    ]


def _release_capacity(moved: list, companies: dict[int, Company], people: dict[int, Agent]) -> None:
    """One release per agent and channel, in agent order (the counters' lock order), for
    agents who have a capacity (nobody else is counted)."""
    counts: dict[tuple[int, int, str], int] = defaultdict(int)
    for row in moved:
        counts[(row.routed_to_id, row.company_id, row.channel)] += 1
    for (agent_id, company_id, channel), count in sorted(counts.items()):
        if capacity_of(companies[company_id], people[agent_id]).unlimited:
            continue
        load_release(company_id=company_id, agent_id=agent_id, kind=channel, count=count)


def _queue_emails(emails: list[tuple[int, int, int, str]]) -> None:
    """Store the email rows, (company id, agent id, interaction id, kind) each, in one
    ``INSERT … SELECT … RETURNING id`` (``bulk_create`` spends more time preparing 500 rows
    than the database storing them), and send each after the commit (``agents.outbox``),
    all from one commit hook."""
    if not emails:
        return
    table = connection.ops.quote_name(DeadlineEmail._meta.db_table)
    columns = (
        "company_id, agent_id, interaction_id, kind, status, assigned_at, attempts, last_error"
    )
    source, source_params = rows_source(
        list(zip(*emails, strict=True)), ("bigint", "bigint", "bigint", "text")
    )
    with connection.cursor() as cursor:
        # Names are the model's; every value is a parameter.
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608
            f"SELECT v.column1, v.column2, v.column3, v.column4, %s, %s, 0, '' FROM {source} "
            "RETURNING id",
            [PENDING, _stamp(timezone.now()), *source_params],
        )
        ids = sorted(pk for (pk,) in cursor.fetchall())
    send_deadline_email.delay_each_on_commit((pk,) for pk in ids)


# --- Warnings ---------------------------------------------------------------------------------
def deadlines_warn(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Email the agents of up to ``limit`` items whose warning time has come (still open with
    them, deadline not yet reached), marking them warned in the same transaction; returns
    how many."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = lock_interactions(
            filters=_warn_due(now),
            order_by=("response_warn_at", "pk"),
            limit=limit,
            fields=("id", "company_id", "routed_to_id"),
        )
        if not rows:
            return 0
        warned = _compare_and_set(rows, sets="response_warned_at = %s", params=[_stamp(now)])
        _queue_emails(
            [
                (row.company_id, row.routed_to_id, row.id, DeadlineEmail.Kind.WARNING)
                for row in warned
            ]
        )
    return len(warned)


def deadlines_run(*, now: datetime | None = None) -> int:
    """The periodic sweep's body: misses first (an item past its deadline needs no warning),
    a batch at a time, then warnings. A batch that fails is logged and left for the next run
    (its transaction rolled back: nothing half done). Returns how many items moved."""
    moved = _batches(deadlines_sweep, now, "move items past their response deadline")
    warned = _batches(deadlines_warn, now, "send response deadline warnings")
    if moved or warned:
        logger.info(
            "Deadline sweep: %d item(s) moved to Active, %d warning(s) queued.", moved, warned
        )
    return moved


def _batches(step, now: datetime | None, what: str) -> int:
    total = 0
    for _ in range(MAX_BATCHES):
        try:
            done = step(now=now, limit=BATCH)
        except Exception:
            logger.exception("Could not %s; the next sweep tries again.", what)
            break
        total += done
        if done < BATCH:
            break
    return total


# --- After a miss: Away, repeated misses ------------------------------------------------------
def _after_misses(missed: list[Missed], *, now: datetime) -> None:
    companies = Company.objects.in_bulk({m.company_id for m in missed})
    away = [m for m in missed if companies[m.company_id].away_after_missed_deadline]
    if away:
        _set_away(away)
    counted = [m for m in missed if companies[m.company_id].handover_after_misses]
    if counted:
        _hand_on_repeated(counted, companies, now=now)


def _set_away(missed: list[Missed]) -> None:
    """Each agent who missed (and is still Available) is set Away and told, once per sweep."""
    first: dict[int, Missed] = {}
    for m in missed:
        first.setdefault(m.agent_id, m)
    for agent_id, m in sorted(first.items()):
        try:
            with transaction.atomic():
                agent = Agent.objects.filter(pk=agent_id, is_active=True).first()
                if agent is None or agent.presence != Presence.AVAILABLE:
                    continue
                agent_set_presence(agent=agent, presence=Presence.AWAY)
                _queue_emails([(m.company_id, agent_id, m.interaction_id, DeadlineEmail.Kind.AWAY)])
        except Exception:
            logger.exception("Could not set agent %s Away after a missed deadline.", agent_id)


def misses_by_owner(*, contact_ids: Iterable[int], since: datetime) -> dict[tuple[int, int], int]:
    """{(contact id, agent id): deadlines that agent missed on that contact since ``since``}."""
    rows = (
        Interaction.objects.filter(
            contact_id__in=list(contact_ids),
            response_missed_at__gte=since,
            response_missed_by__isnull=False,
        )
        .values("contact_id", "response_missed_by_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(r["contact_id"], r["response_missed_by_id"]): r["n"] for r in rows}


def _hand_on_repeated(
    missed: list[Missed], companies: dict[int, Company], *, now: datetime
) -> None:
    """A contact whose owner missed its company's number of deadlines on it within its
    days goes through the group that takes such contacts (one round; none while one is in
    progress). The misses that count are the owner's own: a cover's miss is not theirs."""
    contacts = Contact.objects.select_related("company", "primary_agent").in_bulk(
        {m.contact_id for m in missed}
    )
    owned = [
        m
        for m in missed
        if m.contact_id in contacts and contacts[m.contact_id].primary_agent_id == m.agent_id
    ]
    by_company: dict[int, set[int]] = defaultdict(set)
    for m in owned:
        by_company[m.company_id].add(m.contact_id)
    for company_id, contact_ids in sorted(by_company.items()):
        company = companies[company_id]
        days = company.handover_misses_days or 7
        counts = misses_by_owner(contact_ids=contact_ids, since=now - timedelta(days=days))
        group = ReassignmentGroup.objects.filter(
            company_id=company_id, takes_missed_deadlines=True
        ).first()
        for contact_id in sorted(contact_ids):
            contact = contacts[contact_id]
            misses = counts.get((contact_id, contact.primary_agent_id), 0)
            if misses < company.handover_after_misses:
                continue
            try:
                _hand_on(contact, group=group, misses=misses, days=days, now=now)
            except Exception:
                logger.exception("Could not hand on contact %s after missed deadlines.", contact_id)


def _hand_on(
    contact: Contact, *, group: ReassignmentGroup | None, misses: int, days: int, now: datetime
) -> None:
    owner = contact.primary_agent
    why = timeline.reason_repeated_misses(owner=owner, misses=misses, days=days)
    if group is None:
        # Nothing changes; the why log says why (a contact page shows no row for it).
        logger.info(
            "Contact %s: %s, but no reassignment group takes contacts after missed deadlines.",
            contact.pk,
            why,
        )
        Decision.objects.create(
            **why_no_distribution_values(
                company_id=contact.company_id,
                contact_id=contact.pk,
                reason=f"Not handed on {why}: no reassignment group of the company takes "
                f"contacts after missed deadlines, so {owner} stays primary agent",
                passed_over={owner.pk: f"missed {misses} deadlines in {days} days"},
            )
        )
        return
    if contact.reassign_hold is not None:
        return  # already held by a round: its outcome stands
    try:
        with transaction.atomic():
            round_ = reassignment_start(contact=contact, group=group, actor=None)
            timeline.timeline_write(
                timeline.handed_on_after_misses(
                    contact=contact,
                    owner=owner,
                    misses=misses,
                    days=days,
                    source_label=source_label(group),
                    round_id=round_.pk,
                    group_id=group.pk,
                    at=now,
                )
            )
    except ValidationError as error:
        # A round started meanwhile (Re-Assign already in progress): nothing to add.
        logger.info("Contact %s not handed on: %s", contact.pk, " ".join(error.messages))
