"""The timeline's builders: one per kind of row, each with the wording and details people see
on a contact's history (no database: builders only format)."""

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from agents.models import Agent
from contacts import timeline
from contacts.models import Contact, TimelineEntry

Kind = TimelineEntry.Kind


class Named(SimpleNamespace):
    """A stand-in for a disposition: shown by its name."""

    def __str__(self) -> str:
        return self.name


@pytest.fixture
def ava():
    return Agent(pk=11, full_name="Ava Patel", email="ava@acme.test")


@pytest.fixture
def ben():
    return Agent(pk=12, full_name="Ben Okafor", email="ben@acme.test")


@pytest.fixture
def admin():
    return Agent(pk=1, full_name="Ada Admin", email="ada@acme.test")


@pytest.fixture
def olivia(ava):
    return Contact(pk=7, company_id=3, name="Olivia Nguyen", source="website form")


def test_contact_created_says_where_from_and_by_whom(olivia, admin):
    entry = timeline.contact_created(contact=olivia, actor=admin)
    assert (entry.kind, entry.company_id, entry.contact_id) == (Kind.CONTACT_CREATED, 3, 7)
    assert entry.message == "Contact created from website form by Ada Admin."
    assert entry.details == {"source": "website form"}


def test_a_contact_not_stored_yet_is_left_for_the_caller_to_link():
    new = Contact(company_id=3, source="")
    entry = timeline.contact_created(contact=new, actor=None)
    assert entry.contact_id is None and entry.message == "Contact created."


def test_contact_updated_lists_the_changed_fields(olivia, admin):
    changed = {"email": {"from": "", "to": "jo@example.com"}, "name": {"from": "O", "to": "Jo"}}
    entry = timeline.contact_updated(contact=olivia, actor=admin, changed=changed)
    assert entry.kind == Kind.CONTACT_UPDATED
    assert entry.message == "Email, Name changed by Ada Admin."
    assert entry.details == {"changed": changed}


@pytest.mark.parametrize(
    ("old", "new", "kind", "message"),
    [
        (None, "ava", Kind.PRIMARY_ASSIGNED, "Primary agent set to Ava Patel by Ada Admin"),
        ("ava", "ben", Kind.PRIMARY_CHANGED, "Primary agent changed from Ava Patel to Ben Okafor"),
        ("ben", None, Kind.PRIMARY_UNASSIGNED, "Primary agent Ben Okafor unassigned by Ada Admin"),
    ],
)
def test_a_change_of_primary_agent_is_worded_by_what_changed(
    request, admin, old, new, kind, message
):
    old_agent = request.getfixturevalue(old) if old else None
    new_agent = request.getfixturevalue(new) if new else None
    entry = timeline.primary_agent_changed(
        company_id=3, contact_id=7, old=old_agent, new=new_agent, actor=admin, reason="by hand"
    )
    assert entry["kind"] == kind and entry["message"].startswith(message)
    assert entry["message"].endswith(" — by hand.")
    assert entry["agent_id"] == (new_agent or old_agent).pk and entry["actor_id"] == admin.pk
    assert entry["details"] == {
        "from": old_agent.pk if old_agent else None,
        "from_name": str(old_agent) if old_agent else None,
        "to": new_agent.pk if new_agent else None,
        "to_name": str(new_agent) if new_agent else None,
        "reason": "by hand",
    }


def test_the_system_is_named_switchboard_and_a_long_reason_is_cut_to_the_column(ava):
    entry = timeline.primary_agent_changed(
        company_id=3, contact_id=7, old=None, new=ava, actor=None, reason="x" * 600
    )
    assert entry["message"].startswith("Primary agent set to Ava Patel by Switchboard — x")
    assert len(entry["message"]) == 500


def test_reassign_started_and_finished(olivia, ava, admin):
    olivia.primary_agent = ava
    started = timeline.reassign_started(
        company_id=olivia.company_id,
        contact_id=olivia.pk,
        owner=ava,
        actor=admin,
        source_label="group “Closers” (round robin)",
        round_id=5,
        group_id=2,
    )
    assert started["kind"] == Kind.REASSIGN_STARTED and started["agent_id"] == ava.pk
    assert started["actor_id"] == admin.pk and started["contact_id"] == olivia.pk
    assert started["message"] == (
        "Re-assign through group “Closers” (round robin) started by Ada Admin."
    )
    assert started["details"] == {"round": 5, "group": 2}

    finished = timeline.reassign_finished(contact=olivia, round_id=5, reason="nobody claimed it")
    assert finished.kind == Kind.REASSIGN_FINISHED and finished.actor is None
    assert finished.message == (
        "Re-assign finished — nobody claimed it; Ava Patel stays primary agent."
    )
    olivia.primary_agent = None
    assert timeline.reassign_finished(contact=olivia, round_id=5, reason="r").message == (
        "Re-assign finished — r; the contact has no primary agent."
    )


def test_the_reasons_that_end_a_row_and_its_why_log_entry(ava, ben):
    label = "group “Closers” (round robin)"
    assert (
        timeline.reason_picked(
            source_label=label, pick_reason="Next in turn.", passed_over="passed over: Ben (away)"
        )
        == f"{label}: next in turn; passed over: Ben (away)"
    )
    assert timeline.reason_picked(source_label=label, pick_reason="Next in turn.") == (
        f"{label}: next in turn"
    )
    nobody = timeline.reason_nobody_available(source_label=label)
    assert nobody == f"nobody in {label} was available"
    assert timeline.reason_fell_to_default(why=nobody, default=ava) == (
        f"{nobody}; went to the default assignee, Ava Patel"
    )
    assert timeline.reason_fell_to_default(why=nobody, default=None) == (
        f"{nobody} and there is no default assignee"
    )
    assert (
        timeline.reason_claimed(source_label=label, agent=ben) == f"{label}: claimed by Ben Okafor"
    )
    assert timeline.reason_not_claimed(source_label=label, minutes=5) == (
        f"nobody in {label} claimed it within 5 minute(s)"
    )
    assert (
        timeline.reason_handover(
            source_label=label, leaver=ava, pick_reason="Least loaded.", default=None
        )
        == f"{label}: handover of Ava Patel's contacts, least loaded"
    )
    handed = timeline.reason_handover(source_label=label, leaver=ava, pick_reason=None, default=ben)
    assert handed == (
        f"{label}: handover of Ava Patel's contacts, nobody available; "
        "went to the default assignee, Ben Okafor"
    )
    assert timeline.reason_left_alone(reason="r", why="Re-Assign in progress") == (
        "r; left alone: Re-Assign in progress"
    )


def test_lead_rows(olivia, ava, admin):
    assigned = timeline.lead_assigned(contact=olivia, lead_id=9, agent=ava, actor=admin)
    assert assigned.kind == Kind.LEAD_ASSIGNED
    assert assigned.message == "Lead assigned to Ava Patel by Ada Admin."
    assert assigned.details == {"lead": 9, "agent": 11, "reason": ""}

    unassigned = timeline.lead_unassigned(
        contact=olivia, lead_id=9, agent=ava, actor=None, reason="left"
    )
    assert unassigned.message == "Lead of Ava Patel unassigned by Switchboard — left."
    assert unassigned.details["change"] == "unassigned" and unassigned.details["order"] is None

    disposition = Named(pk=4, name="Sold", is_sales=True)
    resolved = timeline.lead_resolved(
        contact=olivia, lead_id=9, agent=ava, actor=admin, disposition=disposition
    )
    assert resolved.kind == Kind.LEAD_RESOLVED
    assert resolved.message == "Lead resolved by Ada Admin with disposition “Sold”."
    assert (resolved.details["disposition"], resolved.details["disposition_name"]) == (4, "Sold")

    order = SimpleNamespace(pk=5, number="SO-000005")
    won = timeline.lead_won(contact=olivia, lead_id=9, agent=ava, actor=None, order=order)
    assert won.kind == Kind.LEAD_WON
    assert won.message == "Lead of Ava Patel won: order SO-000005 is Complete."
    assert won.details == {
        "lead": 9,
        "agent": 11,
        "disposition": None,
        "disposition_name": None,
        "order": 5,
        "reason": "",
        "change": "won",
    }


def test_order_created(olivia, admin):
    entry = timeline.order_created(
        contact=olivia,
        actor=admin,
        order_id=5,
        number="SO-000005",
        status="partial",
        status_label="Partial",
        total=Decimal("1234.5"),
        currency="USD",
    )
    assert entry.kind == Kind.ORDER_CREATED
    assert entry.message == "Order SO-000005 entered by Ada Admin: Partial, 1,234.50 USD."
    assert entry.details == {
        "order": 5,
        "number": "SO-000005",
        "status": "partial",
        "total": "1234.5",
    }


def test_campaign_record_rows(olivia, ava):
    where = {"campaign_id": 2, "campaign_name": "Spring", "entry_id": 8}
    called = timeline.campaign_called(contact=olivia, agent=ava, **where)
    assert (called.kind, called.actor, called.agent) == (Kind.CAMPAIGN_CALLED, ava, ava)
    assert called.message == "Called by Ava Patel in campaign “Spring”."
    assert called.details == {"campaign": 2, "entry": 8}
    skipped = timeline.campaign_skipped(contact=olivia, agent=ava, **where)
    assert skipped.message == "Skipped by Ava Patel in campaign “Spring”."

    disposition = Named(pk=6, name="Call back", is_sales=False)
    with timezone.override("UTC"):  # the callback is shown in the current time zone
        done = timeline.campaign_dispositioned(
            contact=olivia,
            agent=ava,
            disposition=disposition,
            callback_at=datetime(2026, 3, 2, 15, 30, tzinfo=UTC),
            **where,
        )
    assert done.kind == Kind.CAMPAIGN_DISPOSITIONED
    assert done.message == (
        "Call back (by Ava Patel), callback at 2026-03-02 15:30 in campaign “Spring”."
    )
    assert done.details == {
        "campaign": 2,
        "entry": 8,
        "disposition": "Call back",
        "sales": False,
        "callback_at": "2026-03-02T15:30:00+00:00",
    }
