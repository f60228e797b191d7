"""Set-based distribution of a campaign's records into one queue per agent.

The distinct values of the agent column are resolved once (``AgentKey``: an agent, or the
reason their records are not delivered); then one ``INSERT … SELECT`` joins every record to
its key and numbers the records in the campaign's order. No row is handled in Python.

The order: records whose agent is given by **email first, then those given by user ID**
(then the undeliverable ones), each group in the campaign's contact sorting, then in file
order. Email is what people type and correct; IDs usually come from an export, so an agent
starts with the rows a person assigned. Sorting compares text byte by byte (``COLLATE "C"``
on PostgreSQL, SQLite's default): the same order on both.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.db.models import Count, Max

from agents.centers.models import CenterMembership
from agents.live import live_changed, stream_campaign, stream_workload
from agents.models import Agent

from .models import (
    MAX_AGENTS,
    AgentKey,
    Campaign,
    Entry,
    ListImport,
    cell_field,
    records_of_list_sql,
)

KIND_RANK = f"CASE k.kind WHEN '{AgentKey.Kind.EMAIL}' THEN 0 WHEN '{AgentKey.Kind.USER_ID}' THEN 1 ELSE 2 END"  # noqa: E501


def campaign_changed(campaign: Campaign, *, queues: bool = True) -> None:
    """Tell the campaign's open dashboards that its progress changed and, with ``queues``
    (records entered or left an agent's queue), the company's workload pages (records
    pending per agent). Once per stream per commit, however many records changed: a
    distribution of a million records publishes once."""
    streams = [stream_campaign(campaign.pk)]
    if queues:
        streams.append(stream_workload(campaign.company_id))
    live_changed(company_id=campaign.company_id, streams=streams)


def cell_sql(index: int, alias: str = "r") -> str:
    """The SQL of a record's cell (``index`` is a column number, never user text)."""
    column = f"{alias}.{cell_field(int(index))}"
    return f'{column} COLLATE "C"' if connection.vendor == "postgresql" else column


def _of_list(campaign: Campaign, list_import: ListImport | None) -> tuple[str, list]:
    """The WHERE of the campaign's records (all, or an import's)."""
    return records_of_list_sql(
        campaign.contact_list_id, list_import.pk if list_import is not None else None
    )


def _distinct_values(campaign: Campaign, list_import: ListImport | None) -> list[str]:
    where, params = _of_list(campaign, list_import)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT {cell_sql(campaign.agent_column_index)} "  # noqa: S608
            f"FROM campaigns_record r WHERE {where}",
            params,
        )
        return [row[0] or "" for row in cursor.fetchall()]


def resolve_values(campaign: Campaign, values: list[str]) -> list[AgentKey]:
    """What each value names: an active agent of the company in the campaign's queue, or why not."""
    cleaned = {v: v.strip() for v in values}
    emails = {c.lower() for c in cleaned.values() if "@" in c}
    ids = {int(c) for c in cleaned.values() if c.isascii() and c.isdigit() and len(c) <= 18}
    people = Agent.objects.filter(companies=campaign.company_id, is_active=True)
    by_email = {
        email.lower(): pk
        for pk, email in people.filter(email__in=emails).values_list("pk", "email")
    }
    by_id = set(people.filter(pk__in=ids).values_list("pk", flat=True))
    members = set(
        CenterMembership.objects.filter(center_id=campaign.queue_id).values_list(
            "agent_id", flat=True
        )
    )
    keys = []
    for value, text in cleaned.items():
        agent_id = None
        kind = AgentKey.Kind.OTHER
        if not text:
            error = AgentKey.Error.EMPTY
        elif text.isascii() and text.isdigit():
            kind = AgentKey.Kind.USER_ID
            agent_id = int(text) if len(text) <= 18 and int(text) in by_id else None
            error = AgentKey.Error.NONE if agent_id else AgentKey.Error.UNKNOWN_ID
        else:
            kind = AgentKey.Kind.EMAIL
            try:
                validate_email(text)
            except ValidationError:
                error = AgentKey.Error.INVALID_EMAIL
            else:
                agent_id = by_email.get(text.lower())
                error = AgentKey.Error.NONE if agent_id else AgentKey.Error.UNKNOWN_EMAIL
        if agent_id is not None and agent_id not in members:
            error = AgentKey.Error.NOT_IN_QUEUE
        keys.append(
            AgentKey(campaign=campaign, value=value, kind=kind, agent_id=agent_id, error=error)
        )
    return keys


def too_many_agents(agent_ids: set[int]) -> None:
    if len(agent_ids) > MAX_AGENTS:
        raise ValidationError(
            f"The agent column names {len(agent_ids)} different agents; a campaign with "
            f"agent-owned records has at most {MAX_AGENTS}."
        )


def agents_named(campaign: Campaign) -> set[int]:
    """The distinct agents the list names for this campaign (for the 200-agent limit)."""
    keys = resolve_values(campaign, _distinct_values(campaign, None))
    return {k.agent_id for k in keys if k.agent_id is not None}


def keys_rebuild(campaign: Campaign) -> None:
    """Resolve every value again (start, recycle): queue members and agents may have changed."""
    keys = resolve_values(campaign, _distinct_values(campaign, None))
    too_many_agents({k.agent_id for k in keys if k.agent_id is not None})
    AgentKey.objects.filter(campaign=campaign).delete()
    AgentKey.objects.bulk_create(keys, batch_size=2000)


def keys_add(campaign: Campaign, list_import: ListImport) -> None:
    """Resolve the values an append brings that the campaign has not seen yet."""
    known = set(AgentKey.objects.filter(campaign=campaign).values_list("value", flat=True))
    new = [v for v in _distinct_values(campaign, list_import) if v not in known]
    keys = resolve_values(campaign, new)
    named = set(
        AgentKey.objects.filter(campaign=campaign, agent__isnull=False).values_list(
            "agent_id", flat=True
        )
    )
    too_many_agents(named | {k.agent_id for k in keys if k.agent_id is not None})
    AgentKey.objects.bulk_create(keys, batch_size=2000)


def _sort_order(campaign: Campaign) -> list[str]:
    """The ORDER BY of a campaign's records: kind (emails, IDs, the rest), the contact
    sorting, file order. The kind is left out when every value of the column is of one kind:
    it is the same for every row then, and a sort whose first key is the first sort column's
    text compares abbreviated keys instead of falling through a constant on each comparison
    (a good part of the sort's CPU: docs/performance.md)."""
    kinds = AgentKey.objects.filter(campaign=campaign).values("kind").distinct().order_by()
    order = [KIND_RANK] if len(kinds) > 1 else []
    columns = campaign.contact_list.columns
    for column, direction in campaign.sort:
        order.append(
            f"{cell_sql(columns.index(column))} {'DESC' if direction == 'desc' else 'ASC'}"
        )
    return [*order, "r.list_import_id", "r.line"]


def _insert_entries(campaign: Campaign, list_import: ListImport | None, offset: int) -> int:
    """Number and insert the records (all, or an import's); returns the rows inserted."""
    where, params = _of_list(campaign, list_import)
    params = [campaign.pk, offset, campaign.pk, *params]
    sql = f"""
        INSERT INTO campaigns_entry (campaign_id, record_id, agent_id, agent_value, position,
                                     state, error)
        SELECT %s, r.id, k.agent_id, k.value,
               %s + ROW_NUMBER() OVER (ORDER BY {", ".join(_sort_order(campaign))}),
               CASE WHEN k.error = '' THEN '{Entry.State.QUEUED}' ELSE '{Entry.State.ERROR}' END,
               k.error
        FROM campaigns_record r
        JOIN campaigns_agentkey k
          ON k.campaign_id = %s AND k.value = {cell_sql(campaign.agent_column_index)}
        WHERE {where}
    """  # noqa: S608 - column numbers and our own constants only
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sort of a million records (keys and row ids, ~150 MB) stays in memory.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(sql, params)
        return cursor.rowcount


def distribute(campaign: Campaign) -> int:
    """Build every agent's queue for a campaign that starts (inside its transaction).
    Returns the records queued: those inserted less the errors (a small partial index),
    rather than counting a million queued rows again."""
    keys_rebuild(campaign)
    Entry.objects.filter(campaign=campaign).delete()
    inserted = _insert_entries(campaign, None, 0)
    campaign_changed(campaign)
    return inserted - Entry.objects.filter(campaign=campaign, state=Entry.State.ERROR).count()


def deliver_appended(*, campaign: Campaign, list_import: ListImport) -> int:
    """Queue an append's records for a running (or paused) campaign, without a recycle, and
    mark the errors they fix: a record not delivered whose phone an appended, delivered
    record has (e.g. the same row with a corrected email)."""
    keys_add(campaign, list_import)
    offset = Entry.objects.filter(campaign=campaign).aggregate(m=Max("position"))["m"] or 0
    added = _insert_entries(campaign, list_import, offset)
    with connection.cursor() as cursor:
        fixer = f"""
            SELECT MIN(n.id) FROM campaigns_entry n
            JOIN campaigns_record nr ON nr.id = n.record_id
            WHERE n.campaign_id = %s AND nr.contact_list_id = %s AND nr.list_import_id = %s
              AND n.state = '{Entry.State.QUEUED}'
              AND nr.phone = (SELECT o.phone FROM campaigns_record o
                              WHERE o.id = campaigns_entry.record_id)
        """  # noqa: S608
        ids = [campaign.pk, campaign.contact_list_id, list_import.pk]
        cursor.execute(
            f"""
            UPDATE campaigns_entry SET state = '{Entry.State.FIXED}', fixed_by_id = ({fixer})
            WHERE campaign_id = %s AND state = '{Entry.State.ERROR}'
              AND ({fixer}) IS NOT NULL
            """,  # noqa: S608
            [*ids, campaign.pk, *ids],
        )
    campaign_changed(campaign)
    return added


def redistribute(campaign: Campaign, *, restart_agents: set[int]) -> None:
    """Recycle: every record to the agent its value names now; lists of ``restart_agents``
    (unfinished ones) start again from the beginning, handled records included."""
    keys_rebuild(campaign)
    restart = ", ".join(str(int(pk)) for pk in sorted(restart_agents)) or "NULL"
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    S = Entry.State
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE campaigns_entry AS e
            SET state = CASE
                    WHEN e.state = '{S.FIXED}' THEN '{S.FIXED}'
                    WHEN k.error <> '' THEN '{S.ERROR}'
                    WHEN e.state = '{S.ERROR}' OR e.agent_id {differs} k.agent_id
                         OR e.agent_id IN ({restart}) THEN '{S.QUEUED}'
                    ELSE e.state END,
                agent_id = k.agent_id,
                agent_value = k.value,
                error = CASE WHEN e.state = '{S.FIXED}' THEN e.error ELSE k.error END,
                reserved_until = NULL
            FROM campaigns_record AS r, campaigns_agentkey AS k
            WHERE e.campaign_id = %s AND r.id = e.record_id
              AND k.campaign_id = %s AND k.value = {cell_sql(campaign.agent_column_index)}
            """,  # noqa: S608
            [campaign.pk, campaign.pk],
        )
    campaign_changed(campaign)


def unfinished_agents(campaign: Campaign) -> set[int]:
    return set(
        Entry.objects.filter(
            campaign=campaign,
            agent__isnull=False,
            state__in=[Entry.State.QUEUED, Entry.State.RESERVED, Entry.State.CALLED],
        )
        .values("agent_id")
        .annotate(n=Count("*"))
        .values_list("agent_id", flat=True)
    )
