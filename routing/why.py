"""The why log: one ``Decision`` row per automatic decision, in one JSON shape.

- ``candidates``: ``[{"id", "name"}]`` — who could have had the contact, in the engine's order
  (members who already had their turn this round are counted, not listed);
- ``excluded``: ``{"passed_over": {"<id>": {"name", "why"}}, "had_their_turn": n}``;
- ``chosen``: who got the contact (None for an offer, or when nobody got it);
- ``reason``: the sentence that also ends the timeline row.
"""

from collections.abc import Mapping

from agents.bulk import copy_insert
from agents.models import Agent

from . import engine
from .models import Decision, ReassignmentGroup, Round, RoutingRule


def _name(names: Mapping[int, Agent | str], agent_id: int) -> str:
    return str(names[agent_id]) if agent_id in names else f"agent #{agent_id}"


def why_decision(
    *,
    company_id: int,
    contact_id: int,
    source: ReassignmentGroup | RoutingRule | None,
    method: str,
    pick: engine.Pick | None,
    chosen: Agent | None,
    reason: str,
    names: Mapping[int, Agent | str],
    round_: Round | None = None,
) -> Decision:
    """The (unsaved) why-log row of one decision."""
    excluded = dict(pick.excluded) if pick else {}
    had_turn = sum(1 for why in excluded.values() if why == engine.HAD_TURN)
    return Decision(
        company_id=company_id,
        contact_id=contact_id,
        round=round_,
        group=source if isinstance(source, ReassignmentGroup) else None,
        rule=source if isinstance(source, RoutingRule) else None,
        method=method,
        candidates=[
            {"id": i, "name": _name(names, i)}
            for i in (pick.candidates if pick else ())
            if excluded.get(i) != engine.HAD_TURN
        ],
        excluded={
            "passed_over": {
                str(i): {"name": _name(names, i), "why": why}
                for i, why in excluded.items()
                if why != engine.HAD_TURN
            },
            "had_their_turn": had_turn,
        },
        chosen=chosen,
        reason=reason[:300],
    )


def why_no_distribution(
    *,
    company_id: int,
    contact_id: int,
    reason: str,
    passed_over: Mapping[int, tuple[Agent | str, str]] | None = None,
    group: ReassignmentGroup | None = None,
    at=None,
) -> Decision:
    """The (unsaved) why-log row of an automatic decision that is no distribution (``method``
    blank): a missed response deadline moving an item to Active, repeated misses that could
    not hand a contact on. ``passed_over``: {agent id: (agent, why)} — who lost the item."""
    decision = Decision(
        company_id=company_id,
        contact_id=contact_id,
        group=group,
        method="",
        candidates=[],
        excluded={
            "passed_over": {
                str(i): {"name": str(agent), "why": why}
                for i, (agent, why) in (passed_over or {}).items()
            },
            "had_their_turn": 0,
        },
        chosen=None,
        reason=reason[:300],
    )
    if at is not None:
        decision.created_at = at
    return decision


def passed_over_text(pick: engine.Pick, names: Mapping[int, Agent | str]) -> str:
    """ "passed over: Ava Patel (away), …" for the timeline, or ""."""
    parts = [f"{_name(names, i)} ({why})" for i, why in pick.excluded.items()]
    return ("passed over: " + ", ".join(parts)) if parts else ""


def decisions_write(decisions: list[Decision]) -> None:
    """Store many why-log rows at once (a whole book's handover: 100,000 of them)."""
    copy_insert(decisions)
