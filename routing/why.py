"""The why log: one ``Decision`` row per automatic decision, in one JSON shape.

Stored by agent id only (the names are read when the entry is shown: ``shown``):
- ``candidates``: ``[id, …]`` — who could have had the contact, in the engine's order
  (members who already had their turn this round are counted, not listed);
- ``excluded``: ``{"passed_over": {"<id>": "why"}, "had_their_turn": n}``;
- ``chosen``: who got the contact (None for an offer, or when nobody got it);
- ``reason``: the sentence that also ends the timeline row.

Shown (the API, the admin), an entry names its agents as they are called now:
``[{"id", "name"}]`` and ``{"<id>": {"name", "why"}}``. Entries written before 2026-12-03
stored those names themselves and are shown with them. Ids and not names because a 50-member
rotation lists up to 49 waiting members per contact: a handover of 100,000 wrote 100 MB of
names (1,088 characters a row) where the ids are 153 (docs/routing-bulk.md).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agents.bulk import copy_values
from agents.models import Agent

from . import engine
from .models import Decision, ReassignmentGroup, Round, RoutingRule


def _name(names: Mapping[int, Agent | str], agent_id: int) -> str:
    return str(names[agent_id]) if agent_id in names else f"agent #{agent_id}"


def _shape(pick: engine.Pick | None) -> tuple[list, dict]:
    """The ``candidates`` and ``excluded`` of a pick, in the why log's stored shape."""
    excluded = dict(pick.excluded) if pick else {}
    had_turn = sum(1 for why in excluded.values() if why == engine.HAD_TURN)
    candidates = [
        i for i in (pick.candidates if pick else ()) if excluded.get(i) != engine.HAD_TURN
    ]
    return candidates, {
        "passed_over": {str(i): why for i, why in excluded.items() if why != engine.HAD_TURN},
        "had_their_turn": had_turn,
    }


def why_values(
    *,
    company_id: int,
    contact_id: int,
    source: ReassignmentGroup | RoutingRule | None,
    method: str,
    pick: engine.Pick | None,
    chosen: Agent | None,
    reason: str,
    round_: Round | int | None = None,
    shapes: dict | None = None,
) -> dict:
    """The why-log row of one decision, as field values (``decisions_write_values`` stores
    a batch of them; ``why_decision`` makes one the model's instance).

    ``shapes``: a dict the caller keeps for many rows of one plan; picks with the same
    candidates and exclusions (a rotation's position, repeated round after round) then share
    one JSON value, which ``agents.bulk.copy_values`` encodes once."""
    if shapes is not None and pick is not None:
        # First by the objects themselves (a rotation's repeated picks share them: one
        # lookup, no tuple of 50 candidates built per row), then by their values.
        same = shapes.get((id(pick.candidates), id(pick.excluded)))
        if same is not None and same[0] is pick.candidates and same[1] is pick.excluded:
            known = same[2]
        else:
            key = (tuple(pick.candidates), tuple(pick.excluded.items()))
            known = shapes.get(key)
            if known is None:
                known = shapes[key] = _shape(pick)
            shapes[(id(pick.candidates), id(pick.excluded))] = (
                pick.candidates,
                pick.excluded,
                known,
            )
        candidates, excluded = known
    else:
        candidates, excluded = _shape(pick)
    return {
        "company_id": company_id,
        "contact_id": contact_id,
        "round_id": round_.pk if isinstance(round_, Round) else round_,
        "group_id": source.pk if isinstance(source, ReassignmentGroup) else None,
        "rule_id": source.pk if isinstance(source, RoutingRule) else None,
        "method": method,
        "candidates": candidates,
        "excluded": excluded,
        "chosen_id": chosen.pk if chosen is not None else None,
        "reason": reason[:300],
    }


def why_decision(**kwargs) -> Decision:
    """The (unsaved) why-log row of one decision (``why_values``'s arguments)."""
    return Decision(**why_values(**kwargs))


def why_no_distribution_values(
    *,
    company_id: int,
    contact_id: int,
    reason: str,
    passed_over: Mapping[int, str] | None = None,
    at=None,
) -> dict:
    """The why-log row, as field values, of an automatic decision that is no distribution
    (``method`` blank): a missed response deadline moving an item to Active (the sweep
    writes a batch of them: ``decisions_write_values``), repeated misses that could not hand
    a contact on (``Decision(**values)``). ``passed_over``: {agent id: why} — who lost the
    item."""
    values = {
        "company_id": company_id,
        "contact_id": contact_id,
        "method": "",
        "candidates": [],
        "excluded": {
            "passed_over": {str(i): why for i, why in (passed_over or {}).items()},
            "had_their_turn": 0,
        },
        "chosen_id": None,
        "reason": reason[:300],
    }
    if at is not None:
        values["created_at"] = at
    return values


def passed_over_text(pick: engine.Pick, names: Mapping[int, Agent | str]) -> str:
    """ "passed over: Ava Patel (away), …" for the timeline, or ""."""
    parts = [f"{_name(names, i)} ({why})" for i, why in pick.excluded.items()]
    return ("passed over: " + ", ".join(parts)) if parts else ""


def decisions_write_values(rows: list[dict]) -> None:
    """Store many why-log rows at once, given as field values (``why_values``,
    ``why_no_distribution_values``): a whole book's handover writes 100,000 of them."""
    copy_values(Decision, rows)


# --- Shown ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shown:
    """A why-log entry with its agents named: ``candidates`` ``[{"id", "name"}]``,
    ``passed_over`` ``{"<id>": {"name", "why"}}``."""

    candidates: list[dict]
    passed_over: dict[str, dict]
    had_their_turn: int

    @property
    def excluded(self) -> dict:
        return {"passed_over": self.passed_over, "had_their_turn": self.had_their_turn}

    @property
    def candidates_text(self) -> str:
        """ "Ava Patel, Ben Okafor", or "—"."""
        return ", ".join(c["name"] for c in self.candidates) or "—"

    @property
    def passed_over_text(self) -> str:
        """ "Ava Patel (away); 2 who had their turn this round", or "—"."""
        parts = [f"{v['name']} ({v['why']})" for v in self.passed_over.values()]
        if self.had_their_turn:
            parts.append(f"{self.had_their_turn} who had their turn this round")
        return "; ".join(parts) or "—"


def _ids(decision: Decision) -> set[int]:
    ids = {c for c in decision.candidates if isinstance(c, int)}
    passed = (decision.excluded or {}).get("passed_over", {})
    return ids | {int(i) for i, why in passed.items() if isinstance(why, str)}


def agent_names(decisions: Iterable[Decision], known: dict[int, str] | None = None) -> dict:
    """{agent id: name} for every agent the entries name by id, ``known`` (a cache the caller
    keeps across calls) filled in place: one query for those not in it."""
    names = {} if known is None else known
    missing = set().union(*(_ids(d) for d in decisions)) - names.keys()
    if missing:
        names.update((a.pk, str(a)) for a in Agent.objects.filter(pk__in=missing))
        # One no longer there is named by id, and not asked for again.
        names.update((i, f"agent #{i}") for i in missing - names.keys())
    return names


def shown(decision: Decision, names: Mapping[int, str]) -> Shown:
    """``decision`` with its agents named from ``names`` (``agent_names``); an agent no
    longer there is "agent #id". Entries that stored names (before ids) keep theirs."""
    candidates = [
        {"id": c, "name": _name(names, c)} if isinstance(c, int) else c for c in decision.candidates
    ]
    excluded = decision.excluded or {}
    passed_over = {
        i: {"name": _name(names, int(i)), "why": why} if isinstance(why, str) else why
        for i, why in excluded.get("passed_over", {}).items()
    }
    return Shown(candidates, passed_over, excluded.get("had_their_turn", 0))
