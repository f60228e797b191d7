"""The campaigns app's row locks, in one order (after the ground floor's, before contacts'):

    contact list → campaign → entry

A list import locks its list (an append and a campaign start on the same list take turns);
a campaign's state changes lock the campaign; an agent's actions lock one entry. Handling an
entry may create its contact afterwards (``contacts.services.contact_create``), which comes
later in the order. Rows of one level are locked in pk order.
"""

from datetime import datetime

from django.db.models import Q

from .models import Campaign, ContactList, Entry

LOCK_ORDER = ("contact_list", "campaign", "entry")


def lock_contact_list(pk: int) -> ContactList:
    return ContactList.objects.select_for_update(of=("self",)).get(pk=pk)


def lock_campaign(pk: int) -> Campaign:
    return (
        Campaign.objects.select_for_update(of=("self",)).select_related("contact_list").get(pk=pk)
    )


def lock_campaigns_of_list(list_id: int, statuses: list[str]) -> list[Campaign]:
    return list(
        Campaign.objects.select_for_update(of=("self",))
        .filter(contact_list_id=list_id, status__in=statuses)
        .order_by("pk")
    )


def lock_entry(pk: int) -> Entry | None:
    return Entry.objects.select_for_update(of=("self",)).filter(pk=pk).first()


def lock_next_entry(*, campaign_id: int, agent_id: int, now: datetime) -> Entry | None:
    """The agent's next record, locked, skipping rows another session holds right now
    (``FOR UPDATE SKIP LOCKED``): a due callback first, then a reservation that ran out,
    then the queue in order. Each is one indexed query."""
    mine = Entry.objects.select_for_update(of=("self",), skip_locked=True).filter(
        campaign_id=campaign_id, agent_id=agent_id
    )
    for candidates in (
        mine.filter(state=Entry.State.QUEUED, callback_at__lte=now).order_by("callback_at", "pk"),
        mine.filter(state=Entry.State.RESERVED, reserved_until__lt=now).order_by("position"),
        mine.filter(Q(callback_at__isnull=True), state=Entry.State.QUEUED).order_by("position"),
    ):
        entry = candidates.first()
        if entry is not None:
            return entry
    return None
