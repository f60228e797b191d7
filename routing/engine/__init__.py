"""The distribution engine: pure functions that decide who gets what, from plain data.

No Django, no I/O, no clock: the services load the facts, call a function here, and store
the decision with its reason. The import-linter contracts in pyproject.toml keep it so. The map is
``routing/README.md``.

- ``inbound``  — where an inbound text, form, call or chat goes;
- ``methods``  — round robin, least loaded, first to claim, next up (one ``decide``);
- ``rotation`` — the stored state of a group's rounds;
- ``plan``     — several decisions ahead (simulate, whole-book handover), next up's next offer;
- ``rules``    — which routing rule a new contact matches;
- ``centers``  — a contact center's ring list (skills, idle, round robin, fixed, all at once).
"""

from .centers import RingList, ring_list
from .inbound import (
    REAL_TIME_CHANNELS,
    AgentSnapshot,
    InteractionRoute,
    route_interaction,
    route_to_center,
)
from .methods import (
    ALWAYS_SKIPPED,
    CURRENT_OWNER,
    FIRST_TO_CLAIM,
    FULL,
    HAD_TURN,
    LEAST_LOADED,
    NEXT_UP,
    OFF_HOURS,
    OUT_OF_OFFICE,
    ROUND_ROBIN,
    Member,
    Pick,
    decide,
    first_to_claim,
    least_loaded,
    next_up,
    round_robin,
    unavailable_reason,
)
from .plan import NextOffer, Plan, next_up_next, plan, simulate
from .rotation import Rotation, new_round, next_up_claimed
from .rules import ContactFacts, RuleFacts, csv_set, first_match, rule_matches
from .vocabulary import ACTIVE_POOL, AVAILABLE, AWAY, OFFLINE, QUEUE_POOL

__all__ = [
    "ACTIVE_POOL",
    "ALWAYS_SKIPPED",
    "QUEUE_POOL",
    "AVAILABLE",
    "AWAY",
    "CURRENT_OWNER",
    "FIRST_TO_CLAIM",
    "FULL",
    "HAD_TURN",
    "LEAST_LOADED",
    "NEXT_UP",
    "OFFLINE",
    "OFF_HOURS",
    "OUT_OF_OFFICE",
    "REAL_TIME_CHANNELS",
    "ROUND_ROBIN",
    "AgentSnapshot",
    "ContactFacts",
    "InteractionRoute",
    "Member",
    "NextOffer",
    "Pick",
    "Plan",
    "Rotation",
    "RuleFacts",
    "csv_set",
    "decide",
    "first_match",
    "first_to_claim",
    "least_loaded",
    "new_round",
    "next_up",
    "next_up_claimed",
    "next_up_next",
    "plan",
    "round_robin",
    "RingList",
    "ring_list",
    "route_interaction",
    "route_to_center",
    "rule_matches",
    "simulate",
    "unavailable_reason",
]
