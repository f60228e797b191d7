"""Every timeline row's wording and ``details``: one builder per kind (as Saleor's
``order/events.py``), and the two writers.

A builder returns the unsaved row; the change's transaction stores it with
``timeline_write`` (one row) or ``timeline_write_many`` (``COPY``, for batches). Builders only
format strings, so the bulk paths (a handover's 100,000 rows) call them per contact. Contacts,
routing, leads and campaigns all word their rows here, so this module imports nothing above
contacts: what it needs of a round, a lead or a campaign comes in as plain values.

The *reasons* below are the sentences that end a row of the timeline and routing's why-log
row of the same decision (``routing.why``): worded here once for both.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from agents.actors import current_key
from agents.bulk import copy_insert, copy_values
from agents.live import live_changed, stream_agent, stream_contact, stream_workload
from agents.models import Agent
from agents.rawsql import insert_one

from .models import Contact, TimelineEntry

Kind = TimelineEntry.Kind


def _who(actor: Agent | None) -> str:
    # No person: the API key of the request (agents.actors), else Switchboard itself.
    return str(actor or current_key() or "Switchboard")


def _by(actor: Agent | None) -> str:
    who = actor or current_key()
    return f" by {who}" if who else ""


def _with_reason(text: str, reason: str) -> str:
    return f"{text} — {reason}" if reason else text


def _entry(
    *,
    contact: Contact,
    kind: str,
    message: str,
    details: dict[str, Any],
    actor: Agent | None = None,
    agent: Agent | None = None,
) -> TimelineEntry:
    return TimelineEntry(
        company_id=contact.company_id,
        contact=contact,
        kind=kind,
        actor=actor,
        agent=agent,
        message=message[:500],
        details=details,
    )


# --- Writers ----------------------------------------------------------------------------------
# Every change of a contact writes a row here, so the live pages hear of it here too
# (docs/live.md): the contact's page (its timeline, owner, Re-Assign in progress) and, for a
# change of primary agent, the *My contacts* of the agents it left and reached and the
# workload page's counts. Sent after the transaction commits, one message per stream.
_OWNERSHIP = frozenset({Kind.PRIMARY_ASSIGNED, Kind.PRIMARY_CHANGED, Kind.PRIMARY_UNASSIGNED})


def _tell(rows: Iterable[tuple[int, int | None, str, Any]]) -> None:
    """The pages of written rows, (company id, contact id, kind, details) each, told after
    commit: one ``live_changed`` per company."""
    by_company: dict[int, dict[str, None]] = {}
    for company_id, contact_id, kind, details in rows:
        streams = by_company.setdefault(company_id, {})
        if contact_id is not None:
            streams[stream_contact(contact_id)] = None
        if kind in _OWNERSHIP:
            details = details or {}
            for agent_id in (details.get("from"), details.get("to")):
                if agent_id is not None:
                    streams[stream_agent(agent_id)] = None
            streams[stream_workload(company_id)] = None
    for company_id, streams in by_company.items():
        # (a mass change's contact pages are not told one by one: agents.live.CONTACTS_MAX)
        live_changed(company_id=company_id, streams=streams)


def timeline_write(entry: TimelineEntry | Mapping[str, Any]) -> TimelineEntry:
    """Store one built row (or its values). Call it inside the transaction of the change."""
    written = insert_one(entry if isinstance(entry, TimelineEntry) else TimelineEntry(**entry))
    _tell([(written.company_id, written.contact_id, written.kind, written.details)])
    return written


def timeline_write_many(entries: Iterable[TimelineEntry]) -> None:
    """Store many built rows at once (``COPY`` from a couple of hundred rows on). Call it
    inside the transaction of the change."""
    rows = list(entries)
    copy_insert(rows)
    _tell((row.company_id, row.contact_id, row.kind, row.details) for row in rows)


def timeline_write_values(rows: Sequence[Mapping[str, Any]]) -> None:
    """``timeline_write_many`` of rows given as field values ({"company_id": …, "kind": …}),
    as the sweeps that write a thousand rows a batch build them (``agents.bulk.copy_values``:
    no model instance each)."""
    copy_values(TimelineEntry, rows)
    _tell(
        (row["company_id"], row.get("contact_id"), row["kind"], row.get("details")) for row in rows
    )


# --- Contacts ---------------------------------------------------------------------------------
def contact_created(*, contact: Contact, actor: Agent | None) -> TimelineEntry:
    """*Contact created* (the contact may not be stored yet: then the caller links it)."""
    source = contact.source
    return TimelineEntry(
        company_id=contact.company_id,
        contact=contact if contact.pk else None,
        kind=Kind.CONTACT_CREATED,
        actor=actor,
        message=f"Contact created{' from ' + source if source else ''}{_by(actor)}."[:500],
        details={"source": source},
    )


def contact_updated(
    *, contact: Contact, actor: Agent | None, changed: Mapping[str, dict[str, str]]
) -> TimelineEntry:
    """*Contact updated*: ``changed`` is {field: {"from", "to"}}."""
    fields = ", ".join(name.capitalize() for name in changed)
    return _entry(
        contact=contact,
        kind=Kind.CONTACT_UPDATED,
        actor=actor,
        message=f"{fields} changed{_by(actor)}.",
        details={"changed": dict(changed)},
    )


# --- Primary agent (the ownership path) -------------------------------------------------------
def primary_agent_changed(
    *,
    company_id: int,
    contact_id: int,
    old: Agent | None,
    new: Agent | None,
    actor: Agent | None,
    reason: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One change of primary agent: *assigned* (none before), *unassigned* (none after) or
    *changed*, at ``at`` (now by default). Takes ids, not the contact: the bulk path has only
    its locked rows. The row's values, for ``timeline_write_values`` (the ownership path
    writes a whole book's handover of them at once, through ``PrimaryAgentChanges``)."""
    names = {agent.pk: agent for agent in (old, new) if agent is not None}
    return PrimaryAgentChanges(company_id=company_id, actor=actor, names=names).row(
        contact_id=contact_id,
        old_id=old.pk if old else None,
        new_id=new.pk if new else None,
        reason=reason,
        at=at or timezone.now(),
    )


class PrimaryAgentChanges:
    """``primary_agent_changed`` for the many contacts of one change by one actor (a book's
    handover is 100,000 of them), the owners by id (``names``: id -> agent): what depends
    only on the old and the new owner (the kind, the sentence, the names) is worded once per
    pair of them, not once per contact."""

    def __init__(self, *, company_id: int, actor: Agent | None, names: Mapping[int, Agent]):
        self._company_id = company_id
        self._actor_id = actor.pk if actor is not None else None
        self._who = _who(actor)
        self._names = names
        # (old id, new id) -> (kind, sentence, agent id, details before the reason)
        self._pairs: dict[tuple[int | None, int | None], tuple] = {}

    def _pair(self, old_id: int | None, new_id: int | None) -> tuple:
        old = self._names[old_id] if old_id else None
        new = self._names[new_id] if new_id else None
        if old is None:
            kind = Kind.PRIMARY_ASSIGNED
            text = f"Primary agent set to {new} by {self._who}"
        elif new is None:
            kind = Kind.PRIMARY_UNASSIGNED
            text = f"Primary agent {old} unassigned by {self._who}"
        else:
            kind = Kind.PRIMARY_CHANGED
            text = f"Primary agent changed from {old} to {new} by {self._who}"
        details = {
            "from": old_id or None,
            "from_name": str(old) if old else None,
            "to": new_id or None,
            "to_name": str(new) if new else None,
        }
        return kind, text, new_id or old_id or None, details

    def row(
        self, *, contact_id: int, old_id: int | None, new_id: int | None, reason: str, at: datetime
    ) -> dict[str, Any]:
        pair = self._pairs.get((old_id, new_id))
        if pair is None:
            pair = self._pairs[(old_id, new_id)] = self._pair(old_id, new_id)
        kind, text, agent_id, details = pair
        return {
            "company_id": self._company_id,
            "contact_id": contact_id,
            "kind": kind,
            "actor_id": self._actor_id,
            "agent_id": agent_id,
            "message": (_with_reason(text, reason) + ".")[:500],
            "details": {**details, "reason": reason},
            "created_at": at,
        }


# --- Re-assign (routing's rounds) -------------------------------------------------------------
def reassign_started(
    *,
    company_id: int,
    contact_id: int,
    owner: Agent | None,
    actor: Agent | None,
    source_label: str,
    round_id: int,
    group_id: int,
) -> dict[str, Any]:
    """A contact (owned by ``owner``) sent through a reassignment group (``source_label``:
    ``group “Closers” (round robin)``). The row's values: the admin's re-assign of a
    selection writes 10,000 of them at once (``timeline_write_values``), a single round one
    (``timeline_write``)."""
    return {
        "company_id": company_id,
        "contact_id": contact_id,
        "kind": Kind.REASSIGN_STARTED,
        "actor_id": actor.pk if actor is not None else None,
        "agent_id": owner.pk if owner is not None else None,
        "message": f"Re-assign through {source_label} started by {_who(actor)}."[:500],
        "details": {"round": round_id, "group": group_id},
    }


def reassign_finished(*, contact: Contact, round_id: int, reason: str) -> TimelineEntry:
    """A round ended without changing the primary agent (nobody took it, no default)."""
    stays = contact.primary_agent
    outcome = f"{stays} stays primary agent." if stays else "the contact has no primary agent."
    return _entry(
        contact=contact,
        kind=Kind.REASSIGN_FINISHED,
        agent=stays,
        message=f"Re-assign finished — {reason}; {outcome}",
        details={"round": round_id},
    )


# --- Response deadlines (routing's deadline sweep) --------------------------------------------
def reason_response_missed(
    *,
    channel_label: str,
    agent: Agent | str,
    covering_for: Agent | str | None,
    minutes: int | None,
    due: str,
) -> str:
    """The move of a missed item to Active: "Text not answered by Ava Patel within 15 working
    minutes (due 09:10): moved to Active" (``due`` already in the company's zone). Ends the
    timeline row and is the why-log row's reason."""
    who = f"{agent} (covering for {covering_for})" if covering_for else str(agent)
    if minutes:
        within = f"within {minutes} working minute{'s' if minutes != 1 else ''} "
    else:
        within = "by its deadline "
    return f"{channel_label} not answered by {who} {within}(due {due}): moved to Active"


def response_missed(
    *,
    company_id: int,
    contact_id: int,
    interaction_id: int,
    agent: Agent,
    reason: str,
    due_at: datetime,
    at: datetime | None = None,
) -> dict[str, Any]:
    """An item routed to its owner (or cover) and not handled by its deadline moved to Active
    (``reason``: ``reason_response_missed``) at ``at`` (the sweep's moment): the row's values,
    for ``timeline_write_values`` (the sweep writes a batch of them, from its locked rows'
    ids)."""
    return {
        "company_id": company_id,
        "contact_id": contact_id,
        "kind": Kind.RESPONSE_MISSED,
        "agent_id": agent.pk,
        "message": (reason + ".")[:500],
        "details": {
            "interaction": interaction_id,
            "missed_by": agent.pk,
            "missed_by_name": str(agent),
            "due_at": due_at.isoformat(),
            "reason": reason,
        },
        "created_at": at or timezone.now(),
    }


def reason_repeated_misses(*, owner: Agent | str, misses: int, days: int) -> str:
    """Why a contact is handed on: "after 3 missed response deadlines in 7 days by Ava
    Patel"."""
    deadlines = "deadline" if misses == 1 else "deadlines"
    return (
        f"after {misses} missed response {deadlines} in {days} day{'s' if days != 1 else ''} "
        f"by {owner}"
    )


def handed_on_after_misses(
    *,
    contact: Contact,
    owner: Agent,
    misses: int,
    days: int,
    source_label: str | None,
    round_id: int | None,
    group_id: int | None,
    at: datetime | None = None,
) -> TimelineEntry:
    """Repeated misses moved ownership itself: a re-assign through ``source_label`` started
    (None: no group takes such contacts, the owner stays). ``at``: the moment of the miss
    that decided it, so the row sorts below the round's own rows (the cause before them)."""
    why = reason_repeated_misses(owner=owner, misses=misses, days=days)
    if source_label:
        text = f"Re-assign through {source_label} started {why}."
    else:
        text = (
            f"Not handed on {why}: no reassignment group takes contacts after missed "
            f"deadlines, so {owner} stays primary agent."
        )
    entry = _entry(
        contact=contact,
        kind=Kind.RESPONSE_MISSED,
        agent=owner,
        message=text,
        details={
            "handover": source_label is not None,
            "misses": misses,
            "days": days,
            "round": round_id,
            "group": group_id,
        },
    )
    if at is not None:
        entry.created_at = at
    return entry


# --- Reasons (end a timeline row and the why-log row of the same decision) -------------------
def reason_picked(*, source_label: str, pick_reason: str, passed_over: str = "") -> str:
    """The method chose someone: ``group “Closers” (round robin): next in turn; passed over:
    …``."""
    reason = f"{source_label}: {pick_reason.rstrip('.').lower()}"
    return f"{reason}; {passed_over}" if passed_over else reason


def reason_offered(*, source_label: str, pick_reason: str) -> str:
    """The contact was offered (first to claim, next up)."""
    return f"{source_label}: {pick_reason}"


def reason_nobody_available(*, source_label: str) -> str:
    return f"nobody in {source_label} was available"


def reason_not_claimed(*, source_label: str, minutes: int) -> str:
    return f"nobody in {source_label} claimed it within {minutes} minute(s)"


def reason_claimed(*, source_label: str, agent: Agent) -> str:
    return f"{source_label}: claimed by {agent}"


REASON_GROUP_DELETED = "its group was deleted"
DELETED_GROUP_LABEL = "a deleted group"


def reason_fell_to_default(*, why: str, default: Agent | None) -> str:
    """Nobody took it (``why``): the default assignee gets it, or nobody does."""
    if default is not None:
        return f"{why}; went to the default assignee, {default}"
    return f"{why} and there is no default assignee"


def reason_handover(
    *, source_label: str, leaver: Agent, pick_reason: str | None, default: Agent | None
) -> str:
    """One contact of a whole-book handover: chosen by the method (``pick_reason``), else the
    default assignee or nobody."""
    head = f"{source_label}: handover of {leaver}'s contacts, "
    if pick_reason is not None:
        return head + pick_reason.rstrip(".").lower()
    return (
        head
        + "nobody available; "
        + (f"went to the default assignee, {default}" if default else "no default assignee")
    )


def reason_left_alone(*, reason: str, why: str) -> str:
    """A planned change the ownership path skipped (``why``: its ``Skip``)."""
    return f"{reason}; left alone: {why}"


# --- Leads ------------------------------------------------------------------------------------
def lead_assigned(
    *, contact: Contact, lead_id: int, agent: Agent, actor: Agent | None, reason: str = ""
) -> TimelineEntry:
    return _entry(
        contact=contact,
        kind=Kind.LEAD_ASSIGNED,
        actor=actor,
        agent=agent,
        message=_with_reason(f"Lead assigned to {agent} by {_who(actor)}", reason) + ".",
        details={"lead": lead_id, "agent": agent.pk, "reason": reason},
    )


def _lead_closed(
    contact, kind, verb, text, lead_id, agent, actor, reason, disposition=None, order=None
) -> TimelineEntry:
    return _entry(
        contact=contact,
        kind=kind,
        actor=actor,
        agent=agent,
        message=_with_reason(text, reason) + ".",
        details={
            "lead": lead_id,
            "agent": agent.pk if agent else None,
            "disposition": disposition.pk if disposition else None,
            "disposition_name": str(disposition) if disposition else None,
            "order": order.pk if order else None,
            "reason": reason,
            "change": verb,
        },
    )


def lead_unassigned(
    *, contact: Contact, lead_id: int, agent: Agent | None, actor: Agent | None, reason: str = ""
) -> TimelineEntry:
    text = f"Lead of {agent} unassigned by {_who(actor)}"
    return _lead_closed(
        contact, Kind.LEAD_UNASSIGNED, "unassigned", text, lead_id, agent, actor, reason
    )


def resolved_with(disposition: Any) -> str:
    """How a resolve names its disposition, in the timeline row and the page's message."""
    return f"with disposition “{disposition}”"


def lead_resolved(
    *,
    contact: Contact,
    lead_id: int,
    agent: Agent | None,
    actor: Agent | None,
    disposition: Any,
    reason: str = "",
) -> TimelineEntry:
    """Closed by Resolve with a sales disposition (``agents.centers.Disposition``): no order
    was entered, whatever the disposition says (it may be "Sold"), so the row names the
    disposition and never claims there was no sale."""
    text = f"Lead resolved by {_who(actor)} {resolved_with(disposition)}"
    return _lead_closed(
        contact, Kind.LEAD_RESOLVED, "resolved", text, lead_id, agent, actor, reason, disposition
    )


def lead_won(
    *,
    contact: Contact,
    lead_id: int,
    agent: Agent | None,
    actor: Agent | None,
    order: Any,
    reason: str = "",
) -> TimelineEntry:
    """Won by a Complete order (``order``: has ``pk`` and ``number``)."""
    text = f"Lead of {agent} won: order {order.number if order else ''} is Complete"
    return _lead_closed(
        contact, Kind.LEAD_WON, "won", text, lead_id, agent, actor, reason, order=order
    )


def order_created(
    *,
    contact: Contact,
    actor: Agent | None,
    order_id: int,
    number: str,
    status: str,
    status_label: str,
    total: Any,
    currency: str,
) -> TimelineEntry:
    return _entry(
        contact=contact,
        kind=Kind.ORDER_CREATED,
        actor=actor,
        message=f"Order {number} entered by {_who(actor)}: {status_label}, "
        f"{total:,.2f} {currency}.",
        details={"order": order_id, "number": number, "status": status, "total": str(total)},
    )


# --- Campaign records -------------------------------------------------------------------------
def _campaign_row(
    contact, kind, text, agent, campaign_id, campaign_name, entry_id, extra=None, covering_for=None
):
    # A cover working an absent owner's record says so (the record stays the owner's).
    covering = f", covering for {covering_for}" if covering_for is not None else ""
    return _entry(
        contact=contact,
        kind=kind,
        actor=agent,
        agent=agent,
        message=f"{text} in campaign “{campaign_name}”{covering}.",
        details={
            "campaign": campaign_id,
            "entry": entry_id,
            **(extra or {}),
            **({"covering_for": covering_for.pk} if covering_for is not None else {}),
        },
    )


def _campaign_action(
    kind,
    text: str,
    *,
    contact: Contact,
    agent: Agent,
    campaign_id: int,
    campaign_name: str,
    entry_id: int,
    covering_for: Agent | None = None,
) -> TimelineEntry:
    return _campaign_row(
        contact, kind, text, agent, campaign_id, campaign_name, entry_id, covering_for=covering_for
    )


def campaign_called(*, agent: Agent, **record) -> TimelineEntry:
    """``record``: contact, campaign_id, campaign_name, entry_id, covering_for (optional)."""
    return _campaign_action(Kind.CAMPAIGN_CALLED, f"Called by {agent}", agent=agent, **record)


def campaign_skipped(*, agent: Agent, **record) -> TimelineEntry:
    """``record``: contact, campaign_id, campaign_name, entry_id, covering_for (optional)."""
    return _campaign_action(Kind.CAMPAIGN_SKIPPED, f"Skipped by {agent}", agent=agent, **record)


def campaign_dispositioned(
    *,
    contact: Contact,
    agent: Agent,
    campaign_id: int,
    campaign_name: str,
    entry_id: int,
    disposition: Any,
    callback_at: datetime | None,
    covering_for: Agent | None = None,
) -> TimelineEntry:
    """A record closed with a disposition (``agents.centers.Disposition``), maybe with a
    callback (shown in the current time zone)."""
    text = f"{disposition} (by {agent})"
    if callback_at:
        text += f", callback at {timezone.localtime(callback_at):%Y-%m-%d %H:%M}"
    return _campaign_row(
        contact,
        Kind.CAMPAIGN_DISPOSITIONED,
        text,
        agent,
        campaign_id,
        campaign_name,
        entry_id,
        extra={
            "disposition": disposition.name,
            "sales": disposition.is_sales,
            "callback_at": callback_at.isoformat() if callback_at else None,
        },
        covering_for=covering_for,
    )
