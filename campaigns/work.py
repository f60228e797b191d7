"""An agent working their own queue: next record, Call, Skip, disposition, callback.

Every action locks the entry and checks it is the agent's; handling a record writes a row on
its contact's timeline (worded by ``contacts.timeline``) in the same transaction,
creating the contact first if the company has none with the record's phone.

**Covering an absent owner.** Records stay their owner's during an absence (the entry's agent
never changes). When the campaign lets a cover work them (``cover_works_absent_owner``), an
agent named as cover of an absence covering now gets the absent owner's next records once
their own queue has none (their own first: they are the cover's own work, and the hot path
stays one statement while it has records); each action checks the cover still covers, and
the timeline row names the cover and says whom they covered.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists
from django.utils import timezone

from agents.availability.models import Absence
from agents.centers.models import CenterMembership, Disposition
from agents.models import Agent
from contacts import timeline
from contacts.locks import lock_contacts
from contacts.models import Contact
from contacts.services import DuplicatePhone, contact_create
from contacts.timeline import timeline_write
from events import payloads
from events.emit import event_emit, heard
from events.models import EventType
from events.payloads import Method

from .distribution import campaign_changed
from .locks import lock_entry, reserve_next_entry
from .models import Campaign, Entry, Record, RecordContact

# How long a record shown to one tab stays away from the agent's other tabs.
RESERVATION = timedelta(minutes=15)
# How far ahead a callback may be (a year 9999 typed by mistake cannot be read back).
CALLBACK_AHEAD = timedelta(days=365)
NAME_COLUMNS = ("name", "full name", "full_name", "contact", "contact name", "customer")


def entry_next(*, campaign: Campaign, agent: Agent) -> Entry | None:
    """Reserve the agent's next record (never one another tab holds) and return it."""
    if campaign.status != Campaign.Status.RUNNING:
        return None
    return entry_next_by_id(campaign_id=campaign.pk, company_id=campaign.company_id, agent=agent)


def entry_next_by_id(*, campaign_id: int, company_id: int, agent: Agent) -> Entry | None:
    """``entry_next`` without loading the campaign (the agents' hot path): None unless it is
    a running campaign of ``company_id`` with a record for the agent. One statement
    (``reserve_next_entry``), atomic on its own: no transaction around it. Only when the
    agent's own queue has nothing: one query for the owners they cover (if the campaign lets
    covers work them), then the same statement for each, until one has a record."""
    if not agent.is_active:  # a deactivated agent never gets a record (their page is gone too)
        return None
    now = timezone.now()
    reserve = dict(campaign_id=campaign_id, company_id=company_id, now=now, until=now + RESERVATION)
    entry = reserve_next_entry(agent_id=agent.pk, **reserve)
    if entry is not None:
        return entry
    # Own queue empty: the next record of an owner this agent covers, if the campaign lets
    # covers work them (one more query, only once the agent's own records ran out).
    for owner_id in covered_owners(
        cover=agent, company_id=company_id, campaign_id=campaign_id, at=now
    ):
        entry = reserve_next_entry(agent_id=owner_id, **reserve)
        if entry is not None:
            return entry
    return None


def covering_absences(
    *,
    cover: Agent,
    company_id: int,
    at: datetime,
    campaign_id: int | None = None,
    queue_id: int | None = None,
) -> dict[int, Absence]:
    """The absences of the company covering ``at`` that name ``cover``, by absent owner (the
    one ending last when several overlap), owner loaded. With ``campaign_id``: none unless
    that campaign lets a cover work an absent owner's records and the cover is a member of its
    queue; with ``queue_id``: none unless the cover is a member of that queue (a campaign's
    records are only ever its queue members' — the same one query either way)."""
    absences = Absence.objects.filter(
        company_id=company_id, cover_id=cover.pk, starts_at__lte=at, ends_at__gt=at
    ).exclude(agent_id=cover.pk)
    if campaign_id is not None:
        lets_cover = Campaign.objects.filter(
            pk=campaign_id,
            company_id=company_id,
            cover_works_absent_owner=True,
            queue__members__agent_id=cover.pk,
        )
        absences = absences.filter(Exists(lets_cover))
    if queue_id is not None:
        member = CenterMembership.objects.filter(center_id=queue_id, agent_id=cover.pk)
        absences = absences.filter(Exists(member))
    found: dict[int, Absence] = {}
    for absence in absences.select_related("agent").order_by("ends_at", "pk"):
        found[absence.agent_id] = absence
    return found


def covered_owners(*, cover: Agent, company_id: int, campaign_id: int, at: datetime) -> list[int]:
    """The absent owners whose records ``cover`` may work now in the campaign."""
    return list(
        covering_absences(cover=cover, company_id=company_id, at=at, campaign_id=campaign_id)
    )


def _own(entry_id: int, agent: Agent, states: tuple[str, ...]) -> tuple[Entry, Absence | None]:
    """The entry locked, if ``agent`` may act on it in ``states``: their own, or an absent
    owner's they cover now in a campaign that lets covers work them (then with the absence:
    once it ends, the record is its owner's alone again)."""
    entry = lock_entry(entry_id)
    if entry is None or not agent.is_active:
        raise ValidationError("This record is not in your queue.")
    campaign = Campaign.objects.only(
        "status", "company_id", "cover_works_absent_owner", "queue_id"
    ).get(pk=entry.campaign_id)
    covering = None
    if entry.agent_id != agent.pk:
        if campaign.cover_works_absent_owner:
            absences = covering_absences(
                cover=agent,
                company_id=campaign.company_id,
                at=timezone.now(),
                queue_id=campaign.queue_id,
            )
            covering = absences.get(entry.agent_id)
        if covering is None:
            raise ValidationError("This record is not in your queue.")
    if entry.state not in states:
        raise ValidationError(f"This record is {entry.get_state_display().lower()} already.")
    if campaign.status != Campaign.Status.RUNNING:
        raise ValidationError("The campaign is not running.")
    return entry, covering


def record_contact(*, record: Record, company_id: int, actor: Agent) -> Contact:
    """The company's contact with the record's phone: the linked one (``Record.contact``
    reads a link to a deleted contact as none), else found by phone or created now."""
    if (contact := record.contact) is not None:
        return contact
    contact = Contact.objects.filter(company_id=company_id, phone=record.phone).first()
    if contact is None:
        columns = [c.lower() for c in record.contact_list.columns]
        name = next((record.cells[columns.index(n)] for n in NAME_COLUMNS if n in columns), "")
        try:
            contact = contact_create(
                company=record.contact_list.company,
                actor=actor,
                name=name[:200],
                phone=record.phone,
                source=f"campaign list {record.contact_list.name}"[:100],
                method=Method.CAMPAIGN,
            )
        except DuplicatePhone:  # created a moment ago by someone else
            contact = Contact.objects.get(company_id=company_id, phone=record.phone)
    # Two campaigns on one list may handle the record at once: the last link stands.
    RecordContact.objects.bulk_create(
        [RecordContact(record_id=record.pk, contact=contact)],
        update_conflicts=True,
        unique_fields=["record"],
        update_fields=["contact"],
    )
    return contact


def _locked_version(*, company_id: int, contact_id: int) -> int:
    """The contact's ownership version, read under its row lock (held until commit)."""
    for rows in lock_contacts(company_id=company_id, ids=[contact_id]):
        for row in rows:
            return row.ownership_version
    raise ValidationError("This record's contact was deleted a moment ago; try again.")


def _history(
    entry: Entry, agent: Agent, build, action: str, covering: Absence | None, **values
) -> None:
    """Write the handled record's row on its contact's timeline: ``build`` is the
    ``contacts.timeline`` builder of the row's kind, given the contact, campaign and entry;
    and its ``campaign.record_handled`` event (``action``: called, skipped, dispositioned).
    ``covering``: the absence of the owner ``agent`` covered (the row says so).

    When someone hears the event, the contact is locked (after the entry, in the lock order)
    before its version is read: an ownership change committing in between would otherwise
    carry a higher version than this event, written after it."""
    record = Record.objects.select_related("contact_list__company", "contact_link__contact").get(
        pk=entry.record_id
    )
    campaign = Campaign.objects.only("name", "company_id").get(pk=entry.campaign_id)
    contact = record_contact(record=record, company_id=campaign.company_id, actor=agent)
    company = record.contact_list.company
    listening = heard(company, EventType.CAMPAIGN_RECORD_HANDLED)
    if listening:
        version = _locked_version(company_id=campaign.company_id, contact_id=contact.pk)
    row = build(
        contact=contact,
        agent=agent,
        campaign_id=campaign.pk,
        campaign_name=campaign.name,
        entry_id=entry.pk,
        covering_for=covering.agent if covering is not None else None,
        **values,
    )
    timeline_write(row)
    if action != "called":  # (a call leaves the record open: no count changes)
        campaign_changed(campaign)
    if listening:
        event_emit(
            company=company,
            type=EventType.CAMPAIGN_RECORD_HANDLED,
            data=payloads.campaign_record_handled(
                contact=payloads.contact_ref_of(contact),
                campaign_id=campaign.pk,
                campaign_name=campaign.name,
                entry_id=entry.pk,
                record_id=record.pk,
                agent=agent,
                action=action,
                method=Method.MANUAL,
                disposition=values.get("disposition"),
                callback_at=values.get("callback_at"),
            ),
            actor=agent,
            contact_id=contact.pk,
            version=version,
        )


@transaction.atomic
def entry_call(*, entry_id: int, agent: Agent) -> Entry:
    entry, covering = _own(entry_id, agent, (Entry.State.RESERVED,))
    entry.state = Entry.State.CALLED
    entry.called_at = timezone.now()
    entry.save(update_fields=["state", "called_at"])
    _history(entry, agent, timeline.campaign_called, "called", covering)
    return entry


@transaction.atomic
def entry_skip(*, entry_id: int, agent: Agent) -> Entry:
    entry, covering = _own(entry_id, agent, (Entry.State.RESERVED, Entry.State.CALLED))
    entry.state = Entry.State.SKIPPED
    entry.reserved_until = None
    entry.save(update_fields=["state", "reserved_until"])
    _history(entry, agent, timeline.campaign_skipped, "skipped", covering)
    return entry


@transaction.atomic
def entry_disposition(
    *,
    entry_id: int,
    agent: Agent,
    disposition: Disposition,
    callback_at: datetime | None = None,
) -> Entry:
    """Close a called record with one of the queue's dispositions. With ``callback_at`` the
    record goes back to the top of the same agent's queue at that time (never to anyone else;
    a cover's callback is the owner's)."""
    entry, covering = _own(entry_id, agent, (Entry.State.CALLED,))
    campaign = Campaign.objects.only("queue_id").get(pk=entry.campaign_id)
    if disposition.center_id != campaign.queue_id or not disposition.is_active:
        raise ValidationError("Pick one of the queue's dispositions.")
    now = timezone.now()
    if callback_at is not None and callback_at <= now:
        raise ValidationError({"callback_at": ["A callback is scheduled in the future."]})
    if callback_at is not None and callback_at > now + CALLBACK_AHEAD:
        latest = timezone.localtime(now + CALLBACK_AHEAD).strftime("%Y-%m-%d")
        raise ValidationError(
            {"callback_at": [f"A callback is at most a year ahead (on {latest} at the latest)."]}
        )
    entry.disposition = disposition
    entry.handled_at = now
    entry.reserved_until = None
    entry.callback_at = callback_at
    entry.state = Entry.State.QUEUED if callback_at else Entry.State.HANDLED
    entry.save(
        update_fields=["disposition", "handled_at", "reserved_until", "callback_at", "state"]
    )
    _history(
        entry,
        agent,
        timeline.campaign_dispositioned,
        "dispositioned",
        covering,
        disposition=disposition,
        callback_at=callback_at,
    )
    return entry
