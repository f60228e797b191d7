"""A deactivated owner's agent-owned records: listed on each campaign's error page ("Owner
deactivated"), never left in a queue nobody can work, delivered again after a new owner and a
recycle; a deactivated agent is never given records by distribution or by *Next record*."""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone

from agents.availability.models import Absence
from agents.centers.models import Disposition
from campaigns import selectors
from campaigns.models import AgentKey, Campaign, Entry, ListImport, Record
from campaigns.services import (
    campaign_complete,
    campaign_pause,
    campaign_records_owner_left,
    campaign_recycle,
    campaign_start,
    campaign_update,
    record_change_owner,
)
from campaigns.work import entry_call, entry_disposition, entry_next, entry_skip
from tests.campaigns.helpers import load_list, make_campaign, phone, queue_with
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

OPEN = [Entry.State.QUEUED, Entry.State.RESERVED, Entry.State.CALLED]


@pytest.fixture
def ava(company):
    return AgentFactory(email="ava@acme.test", full_name="Ava Patel", companies=[company])


@pytest.fixture
def ben(company):
    return AgentFactory(email="ben@acme.test", full_name="Ben Okafor", companies=[company])


def _leaves(company, agent) -> int:
    """What the deactivation page does for the campaigns: the records, then is_active."""
    with transaction.atomic():
        moved = campaign_records_owner_left(company=company, agent=agent)
        agent.is_active = False
        agent.save(update_fields=["is_active"])
    return moved


def _started(company, queue, rows, name):
    campaign = make_campaign(company, queue, rows, name=name)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def test_the_leavers_open_records_become_errors_on_the_error_page(
    company, ava, ben, supervisor, login
):
    # given Ava with four records: one handled, one called, one being previewed, one queued
    # (the fourth named by her user ID), and Ben with one
    queue = queue_with(company, ava, ben)
    rows = [("ava@acme.test", "1")] * 3 + [(str(ava.pk), "4"), ("ben@acme.test", "5")]
    campaign = _started(company, queue, rows, "Q2")
    handled = entry_next(campaign=campaign, agent=ava)
    entry_skip(entry_id=handled.pk, agent=ava)
    called = entry_next(campaign=campaign, agent=ava)
    entry_call(entry_id=called.pk, agent=ava)
    entry_next(campaign=campaign, agent=ava)
    # when she is deactivated
    moved = _leaves(company, ava)
    # then her three open records are errors, her skip stays, Ben's record is his
    assert moved == 3
    assert not Entry.objects.filter(agent=ava, state__in=OPEN).exists()
    assert Entry.objects.get(pk=handled.pk).state == Entry.State.SKIPPED
    assert Entry.objects.get(agent=ben).state == Entry.State.QUEUED
    errors = list(selectors.error_entries(campaign))
    assert [e.record.c0 for e in errors] == ["Person 1", "Person 2", "Person 3"]
    assert {e.error_reason for e in errors} == {"Owner deactivated (Ava Patel)"}
    assert errors[-1].error == AgentKey.Error.UNKNOWN_ID  # named by her ID
    assert selectors.error_counts(campaign) == [("Owner deactivated", 3)]
    # and the error page says so, by line
    page = login(supervisor).get(reverse("campaigns:errors", args=[campaign.pk]))
    assert page.content.decode().count("Owner deactivated (Ava Patel)") == 3
    # and nobody is given them
    assert entry_next(campaign=campaign, agent=ben).record.c0 == "Person 4"
    assert entry_next(campaign=campaign, agent=ben) is None


def test_every_running_or_paused_campaign_of_the_company_only(company, other_company, ava):
    # given Ava's records in a running, a paused, a complete and a draft campaign, and in
    # another company's campaign
    queue = queue_with(company, ava)
    running = _started(company, queue, [("ava@acme.test", "1")], "Running")
    paused = _started(company, queue, [("ava@acme.test", "1")], "Paused")
    campaign_pause(campaign=paused)
    done = _started(company, queue, [("ava@acme.test", "1")], "Done")
    campaign_complete(campaign=done)
    draft = make_campaign(company, queue, [("ava@acme.test", "1")], name="Draft")
    ava.companies.add(other_company)
    elsewhere = _started(
        other_company, queue_with(other_company, ava), [("ava@acme.test", "1")], "Elsewhere"
    )
    # when one company deactivates her records
    moved = campaign_records_owner_left(company=company, agent=ava)
    # then the running and the paused campaign list them; the others are as they were
    assert moved == 2
    states = dict(Entry.objects.values_list("campaign__name", "state"))
    assert states == {
        "Running": Entry.State.ERROR,
        "Paused": Entry.State.ERROR,
        "Done": Entry.State.QUEUED,
        "Elsewhere": Entry.State.QUEUED,
    }
    assert Campaign.objects.get(pk=draft.pk).status == Campaign.Status.DRAFT
    assert running.pk and elsewhere.pk


def test_a_new_owner_and_a_recycle_deliver_the_leavers_records(company, ava, ben):
    # given Ava's two records listed as errors after she left, one with a callback pending
    queue = queue_with(company, ava, ben)
    campaign = _started(company, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2")], "Q2")
    first = entry_next(campaign=campaign, agent=ava)
    entry_call(entry_id=first.pk, agent=ava)
    entry_disposition(
        entry_id=first.pk,
        agent=ava,
        disposition=Disposition.objects.get(center=queue, name="No answer"),
        callback_at=timezone.now() + timedelta(hours=2),
    )
    _leaves(company, ava)
    # when a supervisor gives them to Ben and recycles
    for record in Record.objects.of_list(campaign.contact_list_id):
        record_change_owner(campaign=campaign, record=record, new_value="ben@acme.test")
    assert campaign_recycle(campaign=campaign) == 2
    # then both are in Ben's queue (the callback with him now), and no error is left
    assert set(Entry.objects.values_list("agent_id", "state")) == {(ben.pk, Entry.State.QUEUED)}
    assert Entry.objects.get(pk=first.pk).callback_at is not None
    assert not selectors.error_entries(campaign).exists()


def test_a_recycle_without_a_new_owner_keeps_them_errors(company, ava, ben):
    queue = queue_with(company, ava, ben)
    campaign = _started(company, queue, [("ava@acme.test", "1")], "Q2")
    _leaves(company, ava)
    campaign_recycle(campaign=campaign)
    entry = Entry.objects.get()
    # (resolved again: nobody active has the email; the page says why)
    assert entry.state == Entry.State.ERROR
    assert entry.error_reason == "No agent of the company has this email"


def test_rows_appended_for_the_leaver_are_not_delivered_to_them(company, ava, ben):
    queue = queue_with(company, ava, ben)
    campaign = _started(company, queue, [("ava@acme.test", "1")], "Q2")
    _leaves(company, ava)
    # when rows naming Ava (and one naming Ben) are appended to the running campaign's list
    appended = load_list(
        company,
        f"Name,Phone,Agent,Balance\nLate,{phone(900)},ava@acme.test,1\n"
        f"Later,{phone(901)},ben@acme.test,2\n",
        contact_list=campaign.contact_list,
        kind=ListImport.Kind.APPEND,
    )
    assert appended.status == ListImport.Status.LOADED, appended.message
    # then Ava's is an error, Ben's is his
    states = dict(Entry.objects.values_list("record__c0", "state"))
    assert states["Late"] == Entry.State.ERROR
    assert states["Later"] == Entry.State.QUEUED
    assert not Entry.objects.filter(agent=ava, state__in=OPEN).exists()


def test_distribution_gives_a_deactivated_agent_nothing(company, ava, ben):
    # given Ava deactivated (still a member of the queue) before the campaign starts
    queue = queue_with(company, ava, ben)
    ava.is_active = False
    ava.save(update_fields=["is_active"])
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), (str(ava.pk), "2")])
    # when it starts
    campaign_start(campaign=campaign)
    # then her records are errors (unknown email, unknown ID), queued for nobody
    assert set(Entry.objects.values_list("state", "error", "agent_id")) == {
        (Entry.State.ERROR, AgentKey.Error.UNKNOWN_EMAIL, None),
        (Entry.State.ERROR, AgentKey.Error.UNKNOWN_ID, None),
    }
    assert entry_next(campaign=campaign, agent=ava) is None


def test_a_deactivated_agent_gets_no_record_even_left_in_a_queue(company, ava):
    # given Ava deactivated without her records moved (a path that skipped the page)
    queue = queue_with(company, ava)
    campaign = _started(company, queue, [("ava@acme.test", "1")], "Q2")
    ava.is_active = False
    ava.save(update_fields=["is_active"])
    # then Next record gives her nothing, and her session is gone
    assert entry_next(campaign=campaign, agent=ava) is None
    assert Entry.objects.get().state == Entry.State.QUEUED


def test_a_deactivated_agents_session_reaches_no_campaign_page(company, ava, client):
    queue = queue_with(company, ava)
    campaign = _started(company, queue, [("ava@acme.test", "1")], "Q2")
    client.force_login(ava)
    ava.is_active = False
    ava.save(update_fields=["is_active"])
    response = client.post(reverse("campaigns:work", args=[campaign.pk]))
    assert response.status_code == 302 and "login" in response.url
    assert Entry.objects.get().state == Entry.State.QUEUED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cover_calling_while_the_owner_leaves_strands_nothing(company, ava, ben):
    """A cover's call holds the entry's lock; the leaver's update waits for it, then finds the
    record called and moves it: no record stays open for the leaver."""
    queue = queue_with(company, ava, ben)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2")])
    campaign_update(campaign=campaign, cover_works_absent_owner=True)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    now = timezone.now()
    Absence.objects.create(
        company=company, agent=ava, cover=ben, starts_at=now, ends_at=now + timedelta(days=1)
    )
    entry = entry_next(campaign=campaign, agent=ben)
    results: list = []

    def leave():
        try:
            results.append(_leaves(company, ava))
        finally:
            connections.close_all()

    with transaction.atomic():
        entry_call(entry_id=entry.pk, agent=ben)  # the entry's lock held until commit
        thread = threading.Thread(target=leave)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive()  # waiting for the cover's transaction
    thread.join(timeout=10)
    assert results == [2]
    assert not Entry.objects.filter(state__in=OPEN).exists()
