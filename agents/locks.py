"""The ground floor's row locks, first in the one order (``agents/lockorder.py``).

Contact-center paths lock agents (in pk order) and then a center; an alert state stands
alone in its transaction. None of these paths takes a routing or contact lock; a path that
ever needs both takes these first, as the order says."""

from collections.abc import Iterable
from typing import TypeVar

from django.db import connection
from django.db.models import Model

from .centers.models import CenterAlertState, ContactCenter
from .lockorder import Level, lock_taken
from .models import Agent

M = TypeVar("M", bound=Model)


def lock_agents(agent_ids: Iterable[int]) -> dict[int, Agent]:
    """Lock agents, in pk order (their center count is checked under this lock)."""
    ids = sorted(set(agent_ids))
    lock_taken(Level.AGENT, ids)
    rows = Agent.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    return {a.pk: a for a in rows}


def lock_center(pk: int) -> ContactCenter:
    lock_taken(Level.CENTER, [pk])
    return ContactCenter.objects.select_for_update(of=("self",)).get(pk=pk)


def lock_alert_state(*, center: ContactCenter, kind: str) -> CenterAlertState:
    lock_taken(Level.ALERT_STATE)
    state, _ = CenterAlertState.objects.select_for_update(of=("self",)).get_or_create(
        center=center, kind=kind
    )
    return state


def lock_email_row(model: type[M], *, level: Level, pk: int) -> M | None:
    """An outbox email row (``agents.outbox``), locked with its agent, company and actor;
    None when another worker holds it (or it is gone). It stands alone: the sending
    transaction takes no other lock."""
    lock_taken(level)
    queryset = model.objects.select_related("agent", "company", "actor")
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.filter(pk=pk).first()


def lock_item_loads(agent_ids: Iterable[int]) -> None:
    """Record the open-items counters' row locks (``agents.availability.models.ItemLoad``),
    the last level: ``agents.availability.capacity`` takes them by its compare-and-set
    updates, in agent order."""
    lock_taken(Level.ITEM_LOAD, agent_ids)
