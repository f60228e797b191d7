"""A recycle that leaves the records handled before closed (the API's ``skip_handled``).

``services.campaign_recycle`` starts an unfinished agent's list again from the beginning,
handled records included: the agent sees "Handled before the recycle" on each and may skip
it. ``campaign_recycle_skipping_handled`` does the same recycle and then keeps those records
handled instead of queueing them again, so the agents get only the records nobody closed.
A record whose callback is pending is not handled (``selectors.progress_counts``): it stays
in the queue."""

from django.db import transaction

from agents.models import Agent

from .distribution import campaign_changed
from .models import Campaign, Entry
from .services import campaign_recycle

S = Entry.State


@transaction.atomic
def campaign_recycle_skipping_handled(
    *, campaign: Campaign, actor: Agent | None = None
) -> tuple[int, int]:
    """Recycle (``services.campaign_recycle``: locks the list, then the campaign), then close
    again the records it queued that had been handled. Returns (owner changes applied,
    records kept handled)."""
    applied = campaign_recycle(campaign=campaign, actor=actor)
    kept = Entry.objects.filter(
        campaign_id=campaign.pk,
        state=S.QUEUED,
        handled_at__isnull=False,
        disposition__isnull=False,
        callback_at__isnull=True,
    ).update(state=S.HANDLED, reserved_until=None)
    if kept:  # (the recycle itself published: this joins the same message)
        campaign_changed(campaign)
    return applied, kept
