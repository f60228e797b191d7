"""Races between a change and its event's version, with real threads on PostgreSQL: an event
is written under its contact's row lock, so a contact's events follow its ownership versions
in id order even when another transaction changes the owner meanwhile."""

import threading
import time

import pytest
from django.db import connection

from agents.centers.models import Disposition
from campaigns import work
from campaigns.services import campaign_start
from campaigns.work import entry_call, entry_disposition, entry_next
from contacts.ownership import contacts_set_primary_agent
from events.models import Event, EventType
from tests.campaigns.helpers import make_campaign, queue_with
from tests.factories import AgentFactory
from tests.lockwait import backend_pid

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

_BLOCKED_BY = """
    SELECT EXISTS (
        SELECT 1 FROM pg_locks l WHERE NOT l.granted AND %s = ANY(pg_blocking_pids(l.pid))
    )
"""


def _until_it_waits_for_us_or_ends(thread: threading.Thread, pid: int, timeout=15.0) -> bool:
    """True once ``thread``'s transaction waits for a lock of backend ``pid``; False if the
    thread ended first (it never needed our lock)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(_BLOCKED_BY, [pid])
            if cursor.fetchone()[0]:
                return True
            if not thread.is_alive():
                return False
            time.sleep(0.02)
    pytest.fail("the other change neither waited nor finished")


def test_an_owner_change_during_a_campaign_disposition_keeps_the_versions_in_order(
    company, monkeypatch
):
    # given a campaign record Ava called (its contact at version 0), everything heard
    monkeypatch.setattr("events.emit._dispatch_after_commit", lambda company_id: None)
    company.outbound_event_types = [t.value for t in EventType]
    company.save()
    ava = AgentFactory(email="ava@acme.test", full_name="Ava", companies=[company])
    ben = AgentFactory(companies=[company])
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    promise = Disposition.objects.get(center=queue, name="Promise to pay")
    entry = entry_next(campaign=campaign, agent=ava)
    entry_call(entry_id=entry.pk, agent=ava)
    contact_id = Event.objects.get(type=EventType.CAMPAIGN_RECORD_HANDLED).contact_id

    # when, while her disposition's transaction is under way, an admin gives the contact to
    # Ben in another transaction
    errors: list[BaseException] = []

    def give_to_ben():
        try:
            contacts_set_primary_agent(company=company, targets={contact_id: ben}, actor=None)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    other = threading.Thread(target=give_to_ben)
    waited: list[bool] = []
    real = work.timeline_write

    def meanwhile(entry_row):
        if not waited:
            other.start()
            waited.append(_until_it_waits_for_us_or_ends(other, backend_pid()))
        return real(entry_row)

    monkeypatch.setattr(work, "timeline_write", meanwhile)
    entry_disposition(entry_id=entry.pk, agent=ava, disposition=promise)
    other.join(15)

    # then Ben's change waited for the disposition, and the contact's events go up in
    # version in id order: called 0, dispositioned 0, owner changed 1
    assert not errors
    assert waited == [True]
    rows = list(
        Event.objects.filter(contact_id=contact_id)
        .exclude(type=EventType.CONTACT_CREATED)
        .order_by("pk")
        .values_list("type", "version")
    )
    assert rows == [
        (EventType.CAMPAIGN_RECORD_HANDLED, 0),
        (EventType.CAMPAIGN_RECORD_HANDLED, 0),
        (EventType.CONTACT_OWNER_CHANGED, 1),
    ]
