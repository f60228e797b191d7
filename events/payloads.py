"""Every outbound event's ``data``: one builder per event type, in one module (as
``contacts/timeline.py`` words every timeline row), so the services of every app send the same
shapes and docs/api.md ("Events") describes one place.

Builders only shape plain values: the bulk paths (a handover's 100,000 events) call them per
contact. This module sits in ``events``, below contacts, so what it needs of a contact, a
round, a lead or a campaign comes in as plain values or duck-typed objects (``pk``, ``name``,
``phone``); agents are the ground floor's ``Agent``. ``events.emit`` adds the ``actor``.
"""

import enum
from datetime import datetime
from typing import Any

from agents.actors import current_key
from agents.models import Agent


class OwnerMethod(enum.StrEnum):
    """How a contact's primary agent changed (``contact.owner_changed``'s ``method``)."""

    MANUAL = "manual"  # a person in the admin or the Lead Center
    RULE = "rule"  # a routing rule's round for a new contact
    GROUP = "group"  # a reassignment group's round: picked, claimed, or the default assignee
    HANDOVER = "handover"  # the handover of a leaving agent's book (and their open items)
    DEADLINE = "deadline"  # an ownership deadline (reserved: no path sets it yet)
    API = "api"  # the public API (a key, no person)


def owner_method(method: OwnerMethod | str | None) -> OwnerMethod:
    """The method a change was given, else "api" when an API key makes it, else "manual"."""
    if method:
        return OwnerMethod(method)
    return OwnerMethod.API if current_key() is not None else OwnerMethod.MANUAL


class Method(enum.StrEnum):
    """How a change was made: every event's ``method`` (``contact.owner_changed`` uses the
    values of ``OwnerMethod``, which are among these).

    - ``contact.created``: manual, api, inbound, campaign
    - ``contact.deleted``, ``lead.*``: manual, api
    - ``contact.owner_changed``: manual, api, rule, group, handover (deadline reserved)
    - ``reassignment.started`` / ``.finished``: rule, group, handover (the round's)
    - ``interaction.routed``: inbound; queue (the capacity queue handing a waiting item to an
      agent with room), deadline (a missed response deadline moving the item to Active),
      handover (a leaving agent's open items moved to Active)
    - ``campaign.record_handled``: manual
    """

    MANUAL = "manual"  # a person in the pages or the admin
    API = "api"  # the public API (a key, no person)
    RULE = "rule"  # a routing rule's round for a new contact
    GROUP = "group"  # a reassignment group's round: picked, claimed, or the default assignee
    HANDOVER = "handover"  # the handover of a leaving agent's book (and their open items)
    # a response deadline missed: the item moved to Active (``interaction.routed``); for
    # ``contact.owner_changed`` reserved (no path sets it yet)
    DEADLINE = "deadline"
    QUEUE = "queue"  # the capacity queue handing a waiting item to an agent with room
    INBOUND = "inbound"  # an inbound interaction (the webhook, or the API's inbound endpoint)
    CAMPAIGN = "campaign"  # an agent handling a campaign list's record (its contact created)


def method_of(method: Method | str | None) -> Method:
    """The method a change was given, else "api" when an API key makes it, else "manual"
    (a person; Switchboard's own changes name their method)."""
    if method:
        return Method(method)
    return Method.API if current_key() is not None else Method.MANUAL


class Mass(enum.StrEnum):
    """The mass changes whose events are batched (``event_emit_many``'s ``mass``)."""

    HANDOVER = "handover"
    BULK_ASSIGN = "bulk_assign"  # many contacts' primary agent, or many leads assigned
    BULK_DELETE = "bulk_delete"  # many contacts deleted at once
    BULK_UNASSIGN = "bulk_unassign"  # many leads unassigned at once
    BULK_RESOLVE = "bulk_resolve"  # many leads resolved (or won) at once


# --- References -------------------------------------------------------------------------------
def agent_ref(agent: Agent | None) -> dict[str, Any] | None:
    if agent is None:
        return None
    return {"id": agent.pk, "email": agent.email, "name": str(agent)}


def contact_ref(*, id: int, name: str, phone: str) -> dict[str, Any]:
    return {"id": id, "name": name, "phone": phone}


def contact_ref_of(contact: Any) -> dict[str, Any]:
    """The reference of a contact (anything with ``pk``, ``name`` and ``phone``)."""
    return contact_ref(id=contact.pk, name=contact.name, phone=contact.phone)


def _when(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


# --- Contacts ---------------------------------------------------------------------------------
def owner_changed(
    *,
    contact: dict[str, Any],
    old: Agent | None,
    new: Agent | None,
    method: OwnerMethod,
    reason: str,
    version: int,
) -> dict[str, Any]:
    """``contact.owner_changed``: ``contact`` is a ``contact_ref``; ``reason`` the timeline
    row's; ``version`` the contact's ownership version after the change."""
    return {
        "contact": contact,
        "from": agent_ref(old),
        "to": agent_ref(new),
        "method": str(method),
        "reason": reason,
        "version": version,
    }


def contact_created(*, contact: Any, method: Method | str, reason: str = "") -> dict[str, Any]:
    """``contact.created``: the contact as stored (it has no primary agent yet, or the one
    the same change gives it, reported by its own ``contact.owner_changed``)."""
    return {
        "contact": {
            **contact_ref_of(contact),
            "email": contact.email,
            "source": contact.source,
        },
        "method": str(method),
        "reason": reason,
    }


def contact_deleted(
    *,
    contact: dict[str, Any],
    primary_agent: Agent | None,
    method: Method | str,
    reason: str = "",
) -> dict[str, Any]:
    """``contact.deleted``: who owned it when it went."""
    return {
        "contact": contact,
        "primary_agent": agent_ref(primary_agent),
        "method": str(method),
        "reason": reason,
    }


# --- Reassignment (routing's rounds) ----------------------------------------------------------
def round_source(*, kind: str, id: int | None, name: str, method: str) -> dict[str, Any]:
    """What distributes a round: ``kind`` "group" or "rule" (a deleted one: id None)."""
    return {"type": kind, "id": id, "name": name, "method": method}


def reassignment_started(
    *,
    contact: dict[str, Any],
    round_id: int,
    source: dict[str, Any],
    owner: Agent | None,
    handover: bool,
    method: Method | str,
    reason: str = "",
) -> dict[str, Any]:
    """``reassignment.started``: a round began for a contact (``owner``: its primary agent
    then; ``handover``: part of the handover of that agent's book; ``method``: the round's,
    "rule", "group" or "handover")."""
    return {
        "round": {"id": round_id},
        "contact": contact,
        "source": source,
        "from": agent_ref(owner),
        "handover": handover,
        "method": str(method),
        "reason": reason,
    }


def reassignment_finished(
    *,
    contact: dict[str, Any],
    round_id: int,
    source: dict[str, Any] | None,
    outcome: str,
    agent: Agent | None,
    reason: str,
    method: Method | str,
) -> dict[str, Any]:
    """``reassignment.finished``: ``outcome`` the round's status ("assigned", "claimed",
    "fallback": the default assignee, "unassigned": nobody); ``agent`` who got the contact
    (picked, claimed or the default), None when nobody did; ``reason`` why (the timeline's);
    ``method`` the round's, as its ``contact.owner_changed``."""
    return {
        "round": {"id": round_id},
        "contact": contact,
        "source": source,
        "outcome": outcome,
        "agent": agent_ref(agent),
        "default_assignee": outcome == "fallback",
        "method": str(method),
        "reason": reason,
    }


# --- Inbound interactions ---------------------------------------------------------------------
def routed_to_owner(agent: Agent | None, agent_id: int | None = None) -> dict[str, Any]:
    ref = agent_ref(agent) or {"id": agent_id}
    return {"type": "owner", "agent": ref}


def routed_to_pool(pool: str) -> dict[str, Any]:
    return {"type": "pool", "pool": pool}


def routed_to_ring_list(*, center_id: int, center_name: str, ring: list[dict]) -> dict[str, Any]:
    """A contact center's ring list (``ring``: the interaction's, agents by email in order;
    empty: nobody to ring, it waits in the center's queue)."""
    return {
        "type": "ring_list",
        "center": {"id": center_id, "name": center_name},
        "agents": [{"email": e["agent"], "name": e["name"], "order": e["order"]} for e in ring],
        "queued": not ring,
    }


def interaction_routed(
    *,
    interaction_id: int,
    contact: dict[str, Any],
    channel: str,
    to: dict[str, Any],
    reason: str,
    created_contact: bool,
    method: Method | str,
) -> dict[str, Any]:
    """``interaction.routed``: ``to`` is ``routed_to_owner`` / ``routed_to_pool`` /
    ``routed_to_ring_list``; ``method`` "inbound" (the webhook or the API's inbound
    endpoint: the actor tells them apart), or "queue" / "deadline" for an item that changed
    hands after it arrived (``contacts.interactions.interactions_routed_emit``)."""
    return {
        "interaction": {"id": interaction_id, "channel": channel},
        "contact": contact,
        "to": to,
        "new_contact": created_contact,
        "method": str(method),
        "reason": reason,
    }


# --- Leads ------------------------------------------------------------------------------------
def lead_assigned(
    *, contact: dict[str, Any], lead_id: int, agent: Agent, method: Method | str, reason: str
) -> dict[str, Any]:
    return {
        "lead": {"id": lead_id},
        "contact": contact,
        "agent": agent_ref(agent),
        "method": str(method),
        "reason": reason,
    }


def lead_unassigned(
    *,
    contact: dict[str, Any],
    lead_id: int,
    agent: Agent | None,
    method: Method | str,
    reason: str,
) -> dict[str, Any]:
    return {
        "lead": {"id": lead_id},
        "contact": contact,
        "agent": agent_ref(agent),
        "method": str(method),
        "reason": reason,
    }


def lead_resolved(
    *,
    contact: dict[str, Any],
    lead_id: int,
    agent: Agent | None,
    method: Method | str,
    reason: str,
    disposition: Any = None,
    order: Any = None,
) -> dict[str, Any]:
    """``lead.resolved``: ``outcome`` "resolved" (with a sales ``disposition``) or "won" (by a
    Complete ``order``)."""
    return {
        "lead": {"id": lead_id},
        "contact": contact,
        "agent": agent_ref(agent),
        "outcome": "won" if order is not None else "resolved",
        "disposition": (
            {"id": disposition.pk, "name": disposition.name} if disposition is not None else None
        ),
        "order": {"id": order.pk, "number": order.number} if order is not None else None,
        "method": str(method),
        "reason": reason,
    }


# --- Campaign records -------------------------------------------------------------------------
def campaign_record_handled(
    *,
    contact: dict[str, Any],
    campaign_id: int,
    campaign_name: str,
    entry_id: int,
    record_id: int,
    agent: Agent,
    action: str,
    method: Method | str,
    disposition: Any = None,
    callback_at: datetime | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """``campaign.record_handled``: ``action`` "called", "skipped" or "dispositioned" (then
    the ``disposition``, and the ``callback_at`` the record comes back at, if any)."""
    return {
        "campaign": {"id": campaign_id, "name": campaign_name},
        "record": {"id": record_id, "entry": entry_id},
        "contact": contact,
        "agent": agent_ref(agent),
        "action": action,
        "disposition": (
            {"id": disposition.pk, "name": disposition.name, "sales": disposition.is_sales}
            if disposition is not None
            else None
        ),
        "callback_at": _when(callback_at),
        "method": str(method),
        "reason": reason,
    }
