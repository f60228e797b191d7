from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.utils import timezone

from agents.centers.models import Disposition
from agents.centers.services import center_add_members, center_remove_member
from campaigns import selectors
from campaigns.contact_lists import contact_list_delete
from campaigns.models import (
    AgentKey,
    Campaign,
    Entry,
    ListImport,
    OwnerChange,
    Record,
    RecordContact,
)
from campaigns.services import (
    campaign_create,
    campaign_pause,
    campaign_recycle,
    campaign_resume,
    campaign_start,
    campaign_update,
    record_change_owner,
)
from campaigns.work import entry_call, entry_disposition, entry_next, entry_skip
from contacts.models import Contact, TimelineEntry
from tests.campaigns.helpers import load_list, make_campaign, phone, queue_with
from tests.factories import AgentFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ava(company):
    return AgentFactory(email="ava@acme.test", full_name="Ava", companies=[company])


@pytest.fixture
def ben(company):
    return AgentFactory(email="ben@acme.test", full_name="Ben", companies=[company])


def _queue(campaign, agent):
    return list(
        Entry.objects.filter(campaign=campaign, agent=agent)
        .exclude(state__in=[Entry.State.ERROR, Entry.State.FIXED])
        .order_by("position")
        .values_list("record__c0", flat=True)
    )


def _errors(campaign):
    return {
        e.record.c0: e.error
        for e in Entry.objects.filter(campaign=campaign, state=Entry.State.ERROR).select_related(
            "record"
        )
    }


def test_a_list_that_a_campaign_uses_is_not_deleted_nor_its_records(company, ava):
    campaign = make_campaign(company, queue_with(company, ava), [("ava@acme.test", "1")])
    with pytest.raises(ProtectedError):
        contact_list_delete(contact_list=campaign.contact_list)
    assert Record.objects.of_list(campaign.contact_list_id).count() == 1


def test_a_queue_without_preferred_agent_routing_is_refused_with_the_reason(company, ava):
    queue = queue_with(company, ava, preferred=False)
    with pytest.raises(ValidationError, match="does not use preferred agent routing"):
        make_campaign(company, queue, [("ava@acme.test", "1")])


def test_sorting_by_the_agent_column_is_refused(company, ava):
    queue = queue_with(company, ava)
    with pytest.raises(ValidationError, match="cannot be sorted by the agent column"):
        make_campaign(company, queue, [("ava@acme.test", "1")], sort=[["Agent", "asc"]])


def test_more_than_200_agents_is_refused(company):
    # given 201 agents of the company named in the agent column
    people = [AgentFactory(companies=[company]) for _ in range(201)]
    queue = queue_with(company, *people)
    rows = [(p.email, "1") for p in people]
    # when the campaign is created, then it is refused
    with pytest.raises(ValidationError, match="201 different agents; .* at most 200"):
        make_campaign(company, queue, rows)
    # and 200 are fine
    make_campaign(company, queue, rows[:200], name="Two hundred")


def test_queue_list_and_agent_column_cannot_change_after_creation(company, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    other = queue_with(company, ava, name="Other")
    for change in ({"queue": other}, {"agent_column": "Name"}, {"agent_owned": False},
                   {"dialing_mode": "progressive"}):  # fmt: skip
        with pytest.raises(ValidationError, match="cannot change"):
            campaign_update(campaign=campaign, **change)
    # the name can
    assert campaign_update(campaign=campaign, name="Renamed").name == "Renamed"


def test_start_queues_each_agents_records_in_the_sort_order(company, ava, ben):
    # given records for two agents, sorted by balance descending
    queue = queue_with(company, ava, ben)
    rows = [("ava@acme.test", "10"), ("ben@acme.test", "50"), ("ava@acme.test", "90"),
            ("AVA@acme.test ", "30")]  # fmt: skip
    campaign = make_campaign(company, queue, rows, sort=[["Balance", "desc"]])
    # when it starts
    campaign_start(campaign=campaign)
    # then each agent has their own records, highest balance first
    assert _queue(campaign, ava) == ["Person 2", "Person 3", "Person 0"]
    assert _queue(campaign, ben) == ["Person 1"]


def test_every_error_reason_is_listed_and_not_delivered(company, ava, ben):
    # given values that are invalid, unknown, empty, or an agent outside the queue
    outsider = AgentFactory(email="out@acme.test", companies=[company])
    stranger = AgentFactory(email="stranger@globex.test")  # not of this company
    queue = queue_with(company, ava)
    rows = [("ava@acme.test", "1"), ("not-an-email@", "1"), ("nobody@acme.test", "1"),
            ("999999", "1"), ("", "1"), ("out@acme.test", "1"), (str(outsider.pk), "1"),
            (stranger.email, "1")]  # fmt: skip
    campaign = make_campaign(company, queue, rows)
    # when it starts
    queued = campaign_start(campaign=campaign)
    # then only Ava's record is delivered (and counted); the rest are on the error page with
    # their reason
    assert queued == 1 and _queue(campaign, ava) == ["Person 0"]
    E = AgentKey.Error
    assert _errors(campaign) == {
        "Person 1": E.INVALID_EMAIL, "Person 2": E.UNKNOWN_EMAIL, "Person 3": E.UNKNOWN_ID,
        "Person 4": E.EMPTY, "Person 5": E.NOT_IN_QUEUE, "Person 6": E.NOT_IN_QUEUE,
        "Person 7": E.UNKNOWN_EMAIL,
    }  # fmt: skip
    assert (
        not Entry.objects.filter(campaign=campaign, state=Entry.State.ERROR)
        .exclude(disposition=None)
        .exists()
    )
    assert (
        dict(selectors.error_counts(campaign))["The agent is not a member of the campaign's queue"]
        == 2
    )


def test_with_emails_and_user_ids_the_email_records_are_queued_first(company, ava):
    # given Ava named by ID on the first rows and by email on the later ones
    queue = queue_with(company, ava)
    rows = [(str(ava.pk), "1"), (str(ava.pk), "2"), ("ava@acme.test", "3"), ("ava@acme.test", "4")]
    campaign = make_campaign(company, queue, rows, sort=[["Balance", "asc"]])
    # when it starts, then the email group comes first, each group in the sort order
    campaign_start(campaign=campaign)
    assert _queue(campaign, ava) == ["Person 2", "Person 3", "Person 0", "Person 1"]


def test_late_joiners_get_nothing_until_a_recycle(company, ava, ben):
    # given Ben's records while Ben is not in the queue
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), ("ben@acme.test", "2")])
    campaign_start(campaign=campaign)
    # when Ben joins the queue
    center_add_members(center=queue, agents=[ben], actor=None)
    # then he still has nothing (and the record stays an error) ...
    assert entry_next(campaign=campaign, agent=ben) is None
    assert _errors(campaign) == {"Person 1": AgentKey.Error.NOT_IN_QUEUE}
    # ... and his campaigns list nothing to open: the record never reached his queue
    assert selectors.agent_campaigns(agent=ben, company=company) == []
    # ... until the campaign is recycled
    campaign_recycle(campaign=campaign)
    assert _queue(campaign, ben) == ["Person 1"]
    assert _errors(campaign) == {}


def test_recycle_restarts_unfinished_lists_and_shows_handled_records(company, ava, ben):
    # given Ava handled one of three records, Ben finished his only one
    queue = queue_with(company, ava, ben)
    rows = [("ava@acme.test", "1"), ("ava@acme.test", "2"), ("ava@acme.test", "3"),
            ("ben@acme.test", "4")]  # fmt: skip
    campaign = make_campaign(company, queue, rows)
    campaign_start(campaign=campaign)
    disposition = Disposition.objects.get(center=queue, name="No answer")
    first = entry_next(campaign=campaign, agent=ava)
    entry_call(entry_id=first.pk, agent=ava)
    entry_disposition(entry_id=first.pk, agent=ava, disposition=disposition)
    entry_skip(entry_id=entry_next(campaign=campaign, agent=ava).pk, agent=ava)
    bens = entry_next(campaign=campaign, agent=ben)
    entry_skip(entry_id=bens.pk, agent=ben)
    # when the campaign is recycled
    campaign_recycle(campaign=campaign)
    # then Ava's unfinished list starts from the beginning, the handled record marked handled
    again = entry_next(campaign=campaign, agent=ava)
    assert again.pk == first.pk and again.was_handled
    # and Ben's finished list stays finished
    assert entry_next(campaign=campaign, agent=ben) is None


def test_owner_changes_while_running_wait_for_the_recycle(company, ava, ben):
    queue = queue_with(company, ava, ben)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2")])
    campaign_start(campaign=campaign)
    record = Record.objects.get(contact_list=campaign.contact_list, line=2)
    # when the owner of the first record changes to Ben while running
    change = record_change_owner(campaign=campaign, record=record, new_value="ben@acme.test")
    # then it is stored as pending and Ava keeps the record
    assert change.pending
    assert selectors.dashboard(campaign)["totals"]["pending_changes"] == 1
    assert _queue(campaign, ava) == ["Person 0", "Person 1"]
    # when the campaign is recycled, then Ben owns it
    campaign_recycle(campaign=campaign)
    assert _queue(campaign, ava) == ["Person 1"]
    assert _queue(campaign, ben) == ["Person 0"]
    assert not OwnerChange.objects.get(pk=change.pk).pending


def test_append_delivers_new_rows_and_fixes_errors_without_a_recycle(company, ava):
    # given a record whose agent email is mistyped
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), ("ava@acme", "2")])
    campaign_start(campaign=campaign)
    assert _errors(campaign) == {"Person 1": AgentKey.Error.INVALID_EMAIL}
    # when the corrected row (same phone) and a new one are appended to the list
    appended = load_list(
        company,
        f"Name,Phone,Agent,Balance\nPerson 1 fixed,{phone(101)},ava@acme.test,2\n"
        f"Person 9,{phone(109)},ava@acme.test,9\n",
        contact_list=campaign.contact_list,
        kind=ListImport.Kind.APPEND,
    )
    # then both reach Ava's queue at once and the error shows as fixed by the append
    assert appended.status == ListImport.Status.LOADED, appended.message
    assert _queue(campaign, ava) == ["Person 0", "Person 1 fixed", "Person 9"]
    assert _errors(campaign) == {}
    fixed = selectors.fixed_entries(campaign).get()
    assert fixed.record.c0 == "Person 1" and fixed.fixed_by.record.c0 == "Person 1 fixed"


def test_callbacks_return_to_the_top_of_the_owners_queue_only(company, ava, ben):
    queue = queue_with(company, ava, ben)
    campaign = make_campaign(
        company, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2"), ("ben@acme.test", "3")]
    )
    campaign_start(campaign=campaign)
    disposition = Disposition.objects.get(center=queue, name="No answer")
    first = entry_next(campaign=campaign, agent=ava)
    entry_call(entry_id=first.pk, agent=ava)
    # when Ava schedules a callback in an hour
    soon = timezone.now() + timedelta(hours=1)
    entry_disposition(entry_id=first.pk, agent=ava, disposition=disposition, callback_at=soon)
    # then before it is due she gets her next record, and Ben never gets it
    assert entry_next(campaign=campaign, agent=ava).record.c0 == "Person 1"
    assert entry_next(campaign=campaign, agent=ben).record.c0 == "Person 2"
    assert entry_next(campaign=campaign, agent=ben) is None
    # when it is due, it is the top of Ava's queue
    Entry.objects.filter(pk=first.pk).update(callback_at=timezone.now() - timedelta(minutes=1))
    assert entry_next(campaign=campaign, agent=ava).pk == first.pk


def test_a_callback_whose_owner_left_the_queue_is_an_error_never_given_away(company, ava, ben):
    queue = queue_with(company, ava, ben)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    entry = entry_next(campaign=campaign, agent=ava)
    entry_call(entry_id=entry.pk, agent=ava)
    entry_disposition(
        entry_id=entry.pk,
        agent=ava,
        disposition=Disposition.objects.get(center=queue, name="No answer"),
        callback_at=timezone.now() + timedelta(minutes=5),
    )
    # when Ava leaves the queue
    center_remove_member(center=queue, agent=ava)
    Entry.objects.filter(pk=entry.pk).update(callback_at=timezone.now())
    # then the callback is listed on the error page and Ben does not get it
    assert list(selectors.orphaned_callbacks(campaign)) == [entry]
    assert entry_next(campaign=campaign, agent=ben) is None


def test_handling_a_record_writes_the_contacts_timeline_creating_the_contact(company, ava):
    # given one record of a known contact and one of an unknown number
    known = ContactFactory(company=company, phone="+12125550100")
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2")])
    campaign_start(campaign=campaign)
    first = entry_next(campaign=campaign, agent=ava)
    # when Ava calls and dispositions the first, and skips the second
    entry_call(entry_id=first.pk, agent=ava)
    entry_disposition(
        entry_id=first.pk, agent=ava, disposition=Disposition.objects.get(name="Promise to pay")
    )
    entry_skip(entry_id=entry_next(campaign=campaign, agent=ava).pk, agent=ava)
    # then the known contact's timeline has the call and the disposition
    kinds = list(TimelineEntry.objects.filter(contact=known).values_list("kind", flat=True))
    assert TimelineEntry.Kind.CAMPAIGN_CALLED in kinds
    assert TimelineEntry.Kind.CAMPAIGN_DISPOSITIONED in kinds
    # and the unknown number became a contact with the skip on its timeline
    created = Contact.objects.get(company=company, phone="+12125550101")
    assert created.name == "Person 1"
    assert created.timeline.filter(kind=TimelineEntry.Kind.CAMPAIGN_SKIPPED).exists()
    # and both records are linked to their contacts now
    links = dict(RecordContact.objects.values_list("record__c0", "contact_id"))
    assert links == {"Person 0": known.pk, "Person 1": created.pk}


def test_a_link_to_another_companys_contact_is_never_shown(company, other_company, ava):
    campaign = make_campaign(company, queue_with(company, ava), [("ava@acme.test", "1")])
    record = Record.objects.of_list(campaign.contact_list_id).get()
    theirs = ContactFactory(company=other_company, phone=record.phone)
    RecordContact.objects.create(record=record, contact=theirs)
    assert Record.objects.get(pk=record.pk).contact is None


def test_a_link_to_a_contact_that_is_gone_is_read_as_no_link_and_replaced(company, ava):
    # given a record linked to a contact id that no longer exists (deleted mid-import)
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    record = Record.objects.of_list(campaign.contact_list_id).get()
    RecordContact.objects.create(record=record, contact_id=987654)
    campaign_start(campaign=campaign)
    # when Ava handles it
    entry = entry_next(campaign=campaign, agent=ava)
    entry_skip(entry_id=entry.pk, agent=ava)
    # then a contact with its phone is made and the link points at it
    contact = Contact.objects.get(company=company, phone=record.phone)
    assert RecordContact.objects.get(record=record).contact == contact
    assert contact.timeline.filter(kind=TimelineEntry.Kind.CAMPAIGN_SKIPPED).exists()


def test_only_the_owner_works_a_record_and_only_while_running(company, ava, ben):
    queue = queue_with(company, ava, ben)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    entry = entry_next(campaign=campaign, agent=ava)
    with pytest.raises(ValidationError, match="not in your queue"):
        entry_call(entry_id=entry.pk, agent=ben)
    campaign_pause(campaign=campaign)
    with pytest.raises(ValidationError, match="not running"):
        entry_call(entry_id=entry.pk, agent=ava)
    assert entry_next(campaign=Campaign.objects.get(pk=campaign.pk), agent=ava) is None
    campaign_resume(campaign=campaign)


def test_pending_records_by_agent_counts_open_records(company, ava, ben):
    queue = queue_with(company, ava, ben)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2")])
    assert selectors.pending_records_by_agent(company) == {}
    campaign_start(campaign=campaign)
    assert selectors.pending_records_by_agent(company) == {ava.pk: 2}


def test_campaign_create_checks_the_list_belongs_to_the_company(company, other_company, ava):
    queue = queue_with(company, ava)
    imported = load_list(other_company, f"Phone,Agent\n{phone(1)},ava@acme.test\n")
    with pytest.raises(ValidationError):
        campaign_create(company=company, name="X", queue=queue,
                        contact_list=imported.contact_list, agent_column="Agent")  # fmt: skip


def test_a_reservation_that_ran_out_comes_back_to_its_agent_before_the_queue(company, ava, ben):
    queue = queue_with(company, ava, ben)
    campaign = make_campaign(
        company, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2"), ("ben@acme.test", "3")]
    )
    campaign_start(campaign=campaign)
    first = entry_next(campaign=campaign, agent=ava)
    # when Ava's reservation of her first record runs out (a tab closed)
    Entry.objects.filter(pk=first.pk).update(reserved_until=timezone.now() - timedelta(minutes=1))
    # then her next record is that one again, reserved anew, and never Ben's
    again = entry_next(campaign=campaign, agent=ava)
    assert again.pk == first.pk and again.state == Entry.State.RESERVED
    assert again.reserved_until == Entry.objects.get(pk=first.pk).reserved_until
    assert again.reserved_until > timezone.now()
    assert entry_next(campaign=campaign, agent=ava).record.c0 == "Person 1"
    assert entry_next(campaign=campaign, agent=ben).record.c0 == "Person 2"


def test_next_record_checks_the_campaign_as_stored_not_as_the_caller_last_read_it(company, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    stale = Campaign.objects.get(pk=campaign.pk)
    # when the campaign is paused after the caller read it as running
    campaign_pause(campaign=campaign)
    # then nothing is reserved
    assert stale.status == Campaign.Status.RUNNING
    assert entry_next(campaign=stale, agent=ava) is None
    assert not Entry.objects.filter(state=Entry.State.RESERVED).exists()
