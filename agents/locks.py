"""The ground floor's row locks (the rest of the order is in ``contacts/locks.py``).

Contact-center paths lock agents (in pk order) and then a center; alert states stand alone.
None of these paths takes a routing or contact lock, so they never meet the ownership order;
a path that ever needs both takes these first."""

from collections.abc import Iterable

from .centers.models import CenterAlertState, ContactCenter
from .models import Agent


def lock_agents(agent_ids: Iterable[int]) -> dict[int, Agent]:
    """Lock agents, in pk order (their center count is checked under this lock)."""
    ids = sorted(set(agent_ids))
    rows = Agent.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    return {a.pk: a for a in rows}


def lock_center(pk: int) -> ContactCenter:
    return ContactCenter.objects.select_for_update(of=("self",)).get(pk=pk)


def lock_alert_state(*, center: ContactCenter, kind: str) -> CenterAlertState:
    state, _ = CenterAlertState.objects.select_for_update(of=("self",)).get_or_create(
        center=center, kind=kind
    )
    return state
