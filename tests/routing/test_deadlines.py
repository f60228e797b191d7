"""Owners' response deadlines: a text or form routed to its owner (or cover) and not handled
by its deadline moves to Active, with a timeline row, a why-log entry and emails; warnings
before it; the owner optionally set Away; repeated misses hand the contact on."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from agents.availability.models import ItemLoad
from agents.models import AccessLevel, Presence
from contacts.interactions import interaction_mark_handled, interaction_take
from contacts.models import Interaction, TimelineEntry
from contacts.ownership import contact_assign_primary_agent
from contacts.queue import interactions_release
from contacts.services import contact_create
from routing import deadlines, tasks
from routing.deadlines import deadlines_sweep, deadlines_warn
from routing.models import DeadlineEmail, Decision, ReassignmentGroup, Round
from tests.factories import AgentFactory, online
from tests.routing.helpers import group_of

pytestmark = pytest.mark.django_db

# 09:10 in New York (the factories' company zone) on a Thursday.
DUE = datetime(2026, 12, 3, 14, 10, tzinfo=UTC)


@pytest.fixture
def ava(company):
    return online(AgentFactory(companies=[company], full_name="Ava Patel", email="ava@acme.test"))


@pytest.fixture
def ben(company):
    return online(AgentFactory(companies=[company], full_name="Ben Okafor", email="ben@acme.test"))


@pytest.fixture
def deadline_company(company):
    company.text_deadline_minutes = 15
    company.form_deadline_minutes = 30
    company.save()
    return company


_phones = iter(range(100, 10_000))


def jane(company, owner, name="Jane Doe"):
    contact = contact_create(
        company=company, actor=None, name=name, phone=f"+1202555{next(_phones):04d}"
    )
    contact_assign_primary_agent(contact=contact, agent=owner, actor=None)
    return contact


def routed_item(contact, agent, *, due=DUE, warn=None, channel="text", **extra):
    """An item routed to ``agent`` with a deadline, as the inbound path stamps it."""
    return Interaction.objects.create(
        company_id=contact.company_id,
        contact=contact,
        channel=channel,
        body="Is the flat still available?",
        routed_to=agent,
        route_reason="Sent to the primary agent.",
        response_due_at=due,
        response_warn_at=warn,
        **extra,
    )


def sweep(now, django_capture_on_commit_callbacks, **kwargs):
    """One sweep at ``now``, with the emails it queues sent (eager tasks, after commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        return deadlines_sweep(now=now, **kwargs)


def test_a_text_not_answered_by_its_deadline_moves_to_active_and_says_why(
    deadline_company, ava, django_capture_on_commit_callbacks
):
    # given Jane's text in Ava's inbox, due at 09:10
    contact = jane(deadline_company, ava)
    item = routed_item(contact, ava)
    # when the sweep runs a second after the deadline
    moved = sweep(DUE + timedelta(seconds=1), django_capture_on_commit_callbacks)
    # then it is in Active for everyone, marked as Ava's miss
    assert moved == 1
    item.refresh_from_db()
    assert item.routed_to is None
    assert item.pool == "active"
    assert item.status == "open"
    assert item.response_missed_at == DUE + timedelta(seconds=1)
    assert item.response_missed_by == ava
    sentence = (
        "Text not answered by Ava Patel within 15 working minutes (due 09:10): moved to Active"
    )
    # and the contact's timeline and the why log say so, in the same words
    row = TimelineEntry.objects.get(contact=contact, kind=TimelineEntry.Kind.RESPONSE_MISSED)
    assert row.message == sentence + "."
    assert row.agent == ava
    assert row.details["interaction"] == item.pk
    decision = Decision.objects.get(contact=contact)
    assert decision.method == ""
    assert decision.reason == sentence
    assert decision.chosen is None
    assert decision.excluded["passed_over"][str(ava.pk)] == "did not answer by 09:10"
    # and Ava is told by email
    assert [m.subject for m in mail.outbox] == ["Jane Doe's text moved to Active"]
    assert mail.outbox[0].to == ["ava@acme.test"]
    assert "was not answered by 09:10 EST" in mail.outbox[0].body
    assert DeadlineEmail.objects.get().status == "sent"


def test_an_item_not_yet_due_or_handled_or_without_a_deadline_stays(
    deadline_company, ava, django_capture_on_commit_callbacks
):
    # given a text not yet due, one handled, and one with no deadline
    contact = jane(deadline_company, ava)
    later = routed_item(contact, ava, due=DUE + timedelta(minutes=5))
    handled = routed_item(contact, ava)
    interaction_mark_handled(company=deadline_company, interaction_id=handled.pk, agent=ava)
    no_deadline = routed_item(contact, ava, due=None)
    # when the sweep runs at the deadline
    assert sweep(DUE, django_capture_on_commit_callbacks) == 0
    # then none of them moved, nobody was emailed
    for item in (later, handled, no_deadline):
        item.refresh_from_db()
        assert item.response_missed_at is None
    assert later.routed_to == ava
    assert handled.status == "handled"
    assert not mail.outbox


def test_a_second_sweep_moves_nothing_again(
    deadline_company, ava, django_capture_on_commit_callbacks
):
    contact = jane(deadline_company, ava)
    routed_item(contact, ava)
    assert sweep(DUE, django_capture_on_commit_callbacks) == 1
    assert sweep(DUE + timedelta(seconds=5), django_capture_on_commit_callbacks) == 0
    assert TimelineEntry.objects.filter(kind="response_missed").count() == 1
    assert len(mail.outbox) == 1


def test_a_cover_who_misses_is_named_with_whom_they_cover_for(
    deadline_company, ava, ben, django_capture_on_commit_callbacks
):
    # given Ava's contact's form, sent to Ben who covers for her
    contact = jane(deadline_company, ava)
    item = routed_item(
        contact,
        ben,
        channel="form",
        covering_for=ava,
        cover_until=DUE + timedelta(days=1),
    )
    # when it is missed
    sweep(DUE, django_capture_on_commit_callbacks)
    # then the miss is Ben's, and no longer marked as covering in Active
    item.refresh_from_db()
    assert item.response_missed_by == ben
    assert item.covering_for is None
    row = TimelineEntry.objects.get(contact=contact, kind="response_missed")
    assert row.message == (
        "Form submission not answered by Ben Okafor (covering for Ava Patel) within 30 "
        "working minutes (due 09:10): moved to Active."
    )
    assert mail.outbox[0].to == ["ben@acme.test"]


def test_a_moved_item_no_longer_counts_against_the_agents_capacity(
    deadline_company, ava, django_capture_on_commit_callbacks
):
    # given Ava at 2 open texts of her capacity of 3
    ava.capacity = 3
    ava.save()
    ItemLoad.objects.create(company=deadline_company, agent=ava, total=2, text=2)
    contact = jane(deadline_company, ava)
    routed_item(contact, ava)
    routed_item(contact, ava, due=DUE + timedelta(hours=1))
    # when one of them is missed
    sweep(DUE, django_capture_on_commit_callbacks)
    # then she has one open text left
    load = ItemLoad.objects.get(agent=ava)
    assert (load.total, load.text) == (1, 1)


def test_the_deadline_is_said_with_its_day_when_the_sweep_runs_on_another(
    deadline_company, ava, django_capture_on_commit_callbacks
):
    contact = jane(deadline_company, ava)
    routed_item(contact, ava)
    # when the sweep only runs the next morning (workers were down all night)
    sweep(DUE + timedelta(days=1), django_capture_on_commit_callbacks)
    row = TimelineEntry.objects.get(contact=contact, kind="response_missed")
    assert "(due Thu 03 Dec 09:10)" in row.message


def test_many_due_items_move_in_batches_and_each_once(
    deadline_company, ava, ben, django_capture_on_commit_callbacks
):
    # given 7 due items of two agents
    contact = jane(deadline_company, ava)
    for n in range(7):
        routed_item(contact, ava if n % 2 else ben, due=DUE - timedelta(minutes=n))
    # when the sweep moves 3 at a time
    with mock.patch.object(tasks.send_deadline_email, "delay"):
        counts = [deadlines_sweep(now=DUE, limit=3) for _ in range(4)]
    # then all 7 moved, the oldest deadline first, once each
    assert counts == [3, 3, 1, 0]
    assert Interaction.objects.filter(response_missed_at=DUE, routed_to=None).count() == 7
    assert TimelineEntry.objects.filter(kind="response_missed").count() == 7
    assert Decision.objects.filter(method="").count() == 7
    assert DeadlineEmail.objects.filter(kind="missed").count() == 7


# --- Warnings ---------------------------------------------------------------------------------
def test_the_agent_is_warned_once_before_the_deadline(
    deadline_company, ava, django_capture_on_commit_callbacks
):
    # given a text due at 09:10 with its warning at 09:05
    contact = jane(deadline_company, ava)
    item = routed_item(contact, ava, warn=DUE - timedelta(minutes=5))
    # when the warnings run at 09:06, twice
    now = DUE - timedelta(minutes=4)
    with mock.patch("django.utils.timezone.now", return_value=now):
        with django_capture_on_commit_callbacks(execute=True):
            assert deadlines_warn(now=now) == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert deadlines_warn(now=now) == 0
    # then Ava got one email naming the contact and the deadline in the company's zone
    assert [m.subject for m in mail.outbox] == [
        "Reply to Jane Doe by 09:10 EST or it moves to Active"
    ]
    assert "Reply to Jane Doe's text by 09:10 EST or it moves to Active" in mail.outbox[0].body
    assert contact.get_absolute_url() in mail.outbox[0].body
    item.refresh_from_db()
    assert item.response_warned_at == now
    assert item.routed_to == ava  # warned, not moved


def test_no_warning_before_its_time_nor_for_an_item_already_due(
    deadline_company, ava, django_capture_on_commit_callbacks
):
    contact = jane(deadline_company, ava)
    routed_item(contact, ava, warn=DUE - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines_warn(now=DUE - timedelta(minutes=6)) == 0
        # past the deadline the move says it all: no warning first
        assert deadlines_warn(now=DUE) == 0
    assert not mail.outbox


def test_a_warning_for_an_item_handled_before_it_was_sent_is_cancelled(deadline_company, ava):
    # given a warning queued (its task message not yet run)
    contact = jane(deadline_company, ava)
    item = routed_item(contact, ava, warn=DUE - timedelta(minutes=5))
    with mock.patch.object(tasks.send_deadline_email, "delay"):
        deadlines_warn(now=DUE - timedelta(minutes=1))
    email = DeadlineEmail.objects.get(kind="warning")
    # when Ava answers first, then the task runs
    interaction_mark_handled(company=deadline_company, interaction_id=item.pk, agent=ava)
    outcome = tasks.send_deadline_email(email.pk)
    # then nothing is sent
    assert outcome == "cancelled"
    assert not mail.outbox


# --- Away after a miss ------------------------------------------------------------------------
def test_an_owner_who_misses_is_set_away_and_told_when_the_company_says_so(
    deadline_company, ava, django_capture_on_commit_callbacks
):
    deadline_company.away_after_missed_deadline = True
    deadline_company.save()
    contact = jane(deadline_company, ava)
    routed_item(contact, ava)
    routed_item(contact, ava)
    sweep(DUE, django_capture_on_commit_callbacks)
    ava.refresh_from_db()
    assert ava.presence == Presence.AWAY
    away = [m for m in mail.outbox if "set Away" in m.subject]
    assert len(away) == 1  # once, though she missed two
    assert (
        "You were set Away after missing a response deadline (Jane Doe's text, due 09:10 EST); "
        "set yourself Available when you're back"
    ) in away[0].body


def test_without_the_setting_the_owner_stays_available(
    deadline_company, ava, django_capture_on_commit_callbacks
):
    contact = jane(deadline_company, ava)
    routed_item(contact, ava)
    sweep(DUE, django_capture_on_commit_callbacks)
    ava.refresh_from_db()
    assert ava.presence == Presence.AVAILABLE


# --- Repeated misses --------------------------------------------------------------------------
@pytest.fixture
def hands_on(deadline_company):
    deadline_company.handover_after_misses = 2
    deadline_company.handover_misses_days = 7
    deadline_company.save()
    return deadline_company


def test_repeated_misses_hand_the_contact_to_the_marked_group(
    hands_on, ava, ben, django_capture_on_commit_callbacks
):
    # given a round-robin group that takes contacts after missed deadlines
    group = group_of(hands_on, [ben], "round_robin", takes_missed_deadlines=True)
    contact = jane(hands_on, ava)
    # and Ava missed one deadline on Jane two days ago
    routed_item(contact, ava, due=DUE - timedelta(days=2))
    sweep(DUE - timedelta(days=2), django_capture_on_commit_callbacks)
    contact.refresh_from_db()
    assert contact.primary_agent == ava  # one is not enough
    # when she misses a second one
    routed_item(contact, ava)
    sweep(DUE, django_capture_on_commit_callbacks)
    # then Jane goes through the group: Ben is her primary agent now
    contact.refresh_from_db()
    assert contact.primary_agent == ben
    assert Round.objects.get(contact=contact).group == group
    # and her timeline names the misses
    row = TimelineEntry.objects.get(contact=contact, kind="response_missed", details__handover=True)
    assert row.message == (
        "Re-assign through group “round_robin group” (round robin) started after 2 missed "
        "response deadlines in 7 days by Ava Patel."
    )
    assert row.details["misses"] == 2


def test_a_claim_group_shows_reassign_in_progress_and_is_not_started_twice(
    hands_on, ava, ben, django_capture_on_commit_callbacks
):
    group_of(hands_on, [ben], "first_to_claim", takes_missed_deadlines=True)
    contact = jane(hands_on, ava)
    for _ in range(3):
        routed_item(contact, ava)
    # when three misses come in one sweep, then one more a minute later
    sweep(DUE, django_capture_on_commit_callbacks)
    routed_item(contact, ava, due=DUE + timedelta(minutes=1))
    sweep(DUE + timedelta(minutes=1), django_capture_on_commit_callbacks)
    # then one round is open and the contact shows Re-Assign in progress
    contact.refresh_from_db()
    assert contact.reassign_in_progress
    assert Round.objects.filter(contact=contact).count() == 1
    assert contact.primary_agent == ava  # until Ben claims


def test_misses_older_than_the_days_or_by_a_cover_do_not_count(
    hands_on, ava, ben, django_capture_on_commit_callbacks
):
    group_of(hands_on, [ben], "round_robin", takes_missed_deadlines=True)
    contact = jane(hands_on, ava)
    # a miss of Ava's 8 days ago, and a miss of Ben's while covering for her
    routed_item(contact, ava, due=DUE - timedelta(days=8))
    sweep(DUE - timedelta(days=8), django_capture_on_commit_callbacks)
    routed_item(contact, ben, covering_for=ava, due=DUE - timedelta(hours=1))
    sweep(DUE - timedelta(hours=1), django_capture_on_commit_callbacks)
    # when Ava misses one today
    routed_item(contact, ava)
    sweep(DUE, django_capture_on_commit_callbacks)
    # then only one counts within the 7 days: Jane stays Ava's
    contact.refresh_from_db()
    assert contact.primary_agent == ava
    assert not Round.objects.exists()


def test_with_no_group_marked_the_owner_stays_and_the_why_log_says_why(
    hands_on, ava, django_capture_on_commit_callbacks
):
    contact = jane(hands_on, ava)
    routed_item(contact, ava)
    routed_item(contact, ava)
    sweep(DUE, django_capture_on_commit_callbacks)
    contact.refresh_from_db()
    assert contact.primary_agent == ava
    assert not Round.objects.exists()
    decision = Decision.objects.get(reason__startswith="Not handed on")
    assert decision.reason == (
        "Not handed on after 2 missed response deadlines in 7 days by Ava Patel: no "
        "reassignment group of the company takes contacts after missed deadlines, so Ava "
        "Patel stays primary agent"
    )


# --- Tasks ------------------------------------------------------------------------------------
def test_the_periodic_task_moves_due_items_and_sends_warnings(
    deadline_company, ava, django_capture_on_commit_callbacks
):
    contact = jane(deadline_company, ava)
    now = timezone.now()
    due = routed_item(contact, ava, due=now - timedelta(seconds=1))
    warned = routed_item(
        contact, ava, due=now + timedelta(minutes=3), warn=now - timedelta(minutes=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_response_deadlines() == 1
    due.refresh_from_db()
    warned.refresh_from_db()
    assert due.routed_to is None and due.response_missed_by == ava
    assert warned.response_warned_at is not None and warned.routed_to == ava
    assert sorted(e.kind for e in DeadlineEmail.objects.all()) == ["missed", "warning"]
    assert len(mail.outbox) == 2


def test_a_batch_that_fails_is_left_for_the_next_sweep(
    deadline_company, ava, django_capture_on_commit_callbacks, caplog
):
    contact = jane(deadline_company, ava)
    item = routed_item(contact, ava, due=timezone.now() - timedelta(seconds=1))
    with mock.patch.object(
        deadlines, "decisions_write_values", side_effect=RuntimeError("disk full")
    ):
        assert tasks.sweep_response_deadlines() == 0
    item.refresh_from_db()
    assert item.routed_to == ava  # rolled back whole: not half moved
    assert "the next sweep tries again" in caplog.text
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_response_deadlines() == 1


def test_stuck_deadline_emails_are_sent_by_the_sweep_once(deadline_company, ava):
    contact = jane(deadline_company, ava)
    routed_item(contact, ava)
    with mock.patch.object(tasks.send_deadline_email, "delay"):
        deadlines_sweep(now=DUE)
    DeadlineEmail.objects.update(assigned_at=timezone.now() - timedelta(minutes=5))
    assert tasks.resend_stuck_deadline_emails() == 1
    assert tasks.resend_stuck_deadline_emails() == 0
    assert len(mail.outbox) == 1


# --- Admin ------------------------------------------------------------------------------------
@pytest.fixture
def routing_admin(company):
    return AgentFactory(
        companies=[company],
        access_level=AccessLevel.ADMIN,
        can_manage_routing=True,
        is_staff=True,
    )


def test_the_group_form_offers_the_checkbox_and_refuses_a_second_group(
    company, routing_admin, login
):
    first = ReassignmentGroup.objects.create(
        company=company, name="Closers", takes_missed_deadlines=True
    )
    second = ReassignmentGroup.objects.create(company=company, name="Openers")
    client = login(routing_admin)
    url = reverse("admin:routing_reassignmentgroup_change", args=[second.pk])
    page = client.get(url)
    assert "takes contacts after missed deadlines" in page.content.decode().lower()
    answer = client.post(
        url,
        {
            "name": "Openers",
            "method": "round_robin",
            "claim_window_minutes": 5,
            "skip_unavailable": "on",
            "takes_missed_deadlines": "on",
            "members-TOTAL_FORMS": 0,
            "members-INITIAL_FORMS": 0,
        },
    )
    assert answer.status_code == 200
    assert "Group “Closers” already takes contacts after missed deadlines" in (
        answer.content.decode()
    )
    second.refresh_from_db()
    assert not second.takes_missed_deadlines
    first.takes_missed_deadlines = False
    first.save()
    client.post(
        url,
        {
            "name": "Openers",
            "method": "round_robin",
            "claim_window_minutes": 5,
            "skip_unavailable": "on",
            "takes_missed_deadlines": "on",
            "members-TOTAL_FORMS": 0,
            "members-INITIAL_FORMS": 0,
        },
    )
    second.refresh_from_db()
    assert second.takes_missed_deadlines


def test_the_deadline_emails_are_listed_read_only(deadline_company, ava, routing_admin, login):
    # (the Admin level's permissions are agents/access.py's: granted here as it would)

    contact = jane(deadline_company, ava)
    routed_item(contact, ava)
    with mock.patch.object(tasks.send_deadline_email, "delay"):
        deadlines_sweep(now=DUE)
    client = login(routing_admin)
    listing = client.get(reverse("admin:routing_deadlineemail_changelist"))
    assert listing.status_code == 200
    assert "Deadline missed: moved to Active" in listing.content.decode()
    email = DeadlineEmail.objects.get()
    change = client.get(reverse("admin:routing_deadlineemail_change", args=[email.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content


def test_an_item_released_by_a_leaver_carries_no_deadline_for_whoever_takes_it(
    deadline_company, ava, ben
):
    # given Ava's text with a deadline, released to Active when she leaves
    item = routed_item(jane(deadline_company, ava), ava)
    interactions_release(company=deadline_company, agent=ava, reason="Ava Patel left.")
    # when Ben takes it from Active and the deadline passes
    interaction_take(company=deadline_company, interaction_id=item.pk, agent=ben)
    deadlines_sweep(now=DUE + timedelta(minutes=1))
    # then it stays with Ben: the deadline was Ava's, and nothing counts as a miss
    item.refresh_from_db()
    assert (item.routed_to_id, item.response_missed_at, item.response_due_at) == (
        ben.pk,
        None,
        None,
    )


def test_handling_an_item_that_moved_for_a_missed_deadline_says_so(deadline_company, ava):
    item = routed_item(jane(deadline_company, ava), ava)
    deadlines_sweep(now=DUE + timedelta(minutes=1))
    with pytest.raises(ValidationError, match="Its response deadline passed: it moved to Active"):
        interaction_mark_handled(company=deadline_company, interaction_id=item.pk, agent=ava)
