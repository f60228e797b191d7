"""The campaigns app's row locks, in the one lock order (``agents/lockorder.py``: after the
ground floor's, before routing's and contacts'):

    contact list → campaign → entry

A list import locks its list (an append and a campaign start on the same list take turns);
a campaign's state changes lock the campaign; an agent's actions lock one entry. Handling an
entry may create its contact afterwards (``contacts.services.contact_create``), which comes
later in the order. Rows of one level are locked in pk order.
"""

from datetime import datetime

from django.db import connection

from agents.lockorder import Level, lock_taken
from agents.rawsql import instance_from_row

from .models import Campaign, ContactList, Entry


def lock_contact_list(pk: int) -> ContactList:
    lock_taken(Level.CONTACT_LIST, [pk])
    return ContactList.objects.select_for_update(of=("self",)).get(pk=pk)


def lock_contact_list_unless_loading(pk: int) -> ContactList | None:
    """The list locked, or None if another transaction holds its lock (PostgreSQL's SKIP
    LOCKED): a load holds its list's lock from before it reads the file until it ends, so a
    list that is free has no load running on it (the import sweep's test of a worker that
    died: its connection closed, and its lock went with it). None also for a list gone.
    SQLite has no row locks: always the list."""
    lock_taken(Level.CONTACT_LIST, [pk])
    return (
        ContactList.objects.select_for_update(of=("self",), skip_locked=True).filter(pk=pk).first()
    )


def lock_campaign(pk: int) -> Campaign:
    lock_taken(Level.CAMPAIGN, [pk])
    return (
        Campaign.objects.select_for_update(of=("self",)).select_related("contact_list").get(pk=pk)
    )


def lock_campaigns_of_list(list_id: int, statuses: list[str]) -> list[Campaign]:
    lock_taken(Level.CAMPAIGN)
    campaigns = list(
        Campaign.objects.select_for_update(of=("self",))
        .filter(contact_list_id=list_id, status__in=statuses)
        .order_by("pk")
    )
    lock_taken(Level.CAMPAIGN, [campaign.pk for campaign in campaigns])
    return campaigns


def lock_entry(pk: int) -> Entry | None:
    lock_taken(Level.ENTRY, [pk])
    return Entry.objects.select_for_update(of=("self",)).filter(pk=pk).first()


def reserve_next_entry(
    *, campaign_id: int, company_id: int, agent_id: int, now: datetime, until: datetime
) -> Entry | None:
    """Reserve the agent's next record until ``until`` and return it, in one statement:
    a due callback first, then a reservation that ran out, then the queue in order, each
    locked with ``FOR UPDATE SKIP LOCKED`` so two tabs never get the same record. Nothing
    (None) unless the campaign is a running one of ``company_id``: that condition is a
    one-time filter PostgreSQL checks before it looks at any entry.

    The three candidates are uncorrelated subqueries under ``COALESCE``: PostgreSQL runs
    one only when the ones before it found nothing, so only the chosen row is locked. Each
    is one indexed probe (``entry_callbacks``; ``entry_agent_queue`` for the other two). One
    statement instead of three SELECTs and an UPDATE: "next record" is the agents' hot path.
    """
    lock_taken(Level.ENTRY)
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    S = Entry.State
    mine = "campaign_id = %s AND agent_id = %s"
    columns = ", ".join(connection.ops.quote_name(f.column) for f in Entry._meta.concrete_fields)
    sql = f"""
        UPDATE campaigns_entry SET state = '{S.RESERVED}', reserved_until = %s
        WHERE id = COALESCE(
            (SELECT id FROM campaigns_entry
             WHERE {mine} AND state = '{S.QUEUED}' AND callback_at <= %s
             ORDER BY callback_at, id LIMIT 1{skip_locked}),
            (SELECT id FROM campaigns_entry
             WHERE {mine} AND state = '{S.RESERVED}' AND reserved_until < %s
             ORDER BY position LIMIT 1{skip_locked}),
            (SELECT id FROM campaigns_entry
             WHERE {mine} AND state = '{S.QUEUED}' AND callback_at IS NULL
             ORDER BY position LIMIT 1{skip_locked})
        )
        AND EXISTS (SELECT 1 FROM campaigns_campaign
                    WHERE id = %s AND company_id = %s AND status = '{Campaign.Status.RUNNING}')
        RETURNING {columns}
    """  # noqa: S608 - our own constants and column names only
    stamp = connection.ops.adapt_datetimefield_value
    params = [stamp(until), campaign_id, agent_id, stamp(now), campaign_id, agent_id]
    params += [stamp(now), campaign_id, agent_id, campaign_id, company_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    # (the ORM's converters applied, as the ORM would: SQLite's datetimes are text)
    return None if row is None else instance_from_row(Entry, row)
