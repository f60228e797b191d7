from smtplib import SMTPServerDisconnected
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from agents.models import AccessLevel
from contacts.emails import assignment_email_send
from contacts.models import AssignmentEmail, Contact, PrimaryLoad, TimelineEntry
from contacts.ownership import (
    Skip,
    contact_assign_primary_agent,
    contacts_assign_primary_agent_bulk,
    contacts_set_primary_agent,
)
from contacts.services import contact_create
from contacts.tasks import resend_stuck_assignment_emails, send_assignment_email
from routing.rounds import contacts_delete
from tests.factories import AgentFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ben(company):
    return AgentFactory(
        access_level=AccessLevel.AGENT,
        companies=[company],
        full_name="Ben Okafor",
        email="ben@acme.test",
    )


@pytest.fixture
def contact(company):
    return contact_create(
        company=company, actor=None, name="Olivia Nguyen", phone="+1 202 555 0142"
    )


def test_assigning_writes_a_timeline_row_and_emails_the_agent_after_commit(
    contact, agent, company_admin, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://sb.example.com"
    # when the admin makes Andy the primary agent
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        entry = contact_assign_primary_agent(
            contact=contact, agent=agent, actor=company_admin, reason="set in the admin"
        )
        assert mail.outbox == []  # nothing is sent before the commit
    # then the timeline says who, by whom and why
    assert entry.kind == TimelineEntry.Kind.PRIMARY_ASSIGNED
    assert entry.message == "Primary agent set to Andy Agent by Ada Admin — set in the admin."
    assert (entry.actor, entry.agent) == (company_admin, agent)
    # and Andy gets one email with the name, the phone, the link and the time
    assert len(callbacks) == 2  # the email, and the live pages' one message (agents.live)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["agent@acme.test"]
    assert message.subject == "New contact assigned to you: Olivia Nguyen"
    assert "Olivia Nguyen" in message.body
    assert "+1 202-555-0142" in message.body
    assert f"https://sb.example.com/lead-center/contacts/{contact.pk}/" in message.body
    assert "EST" in message.body or "EDT" in message.body  # company time zone: New York
    html = message.alternatives[0][0]
    assert f'href="https://sb.example.com/lead-center/contacts/{contact.pk}/"' in html


def test_changing_and_unassigning_write_their_rows(contact, agent, ben, company_admin):
    contact_assign_primary_agent(contact=contact, agent=agent, actor=company_admin)
    changed = contact_assign_primary_agent(
        contact=contact, agent=ben, actor=None, reason="rebalance"
    )
    gone = contact_assign_primary_agent(contact=contact, agent=None, actor=company_admin)
    assert changed.kind == TimelineEntry.Kind.PRIMARY_CHANGED
    assert changed.message == (
        "Primary agent changed from Andy Agent to Ben Okafor by Switchboard — rebalance."
    )
    assert changed.details["from"] == agent.pk and changed.details["to"] == ben.pk
    assert gone.kind == TimelineEntry.Kind.PRIMARY_UNASSIGNED
    assert gone.message == "Primary agent Ben Okafor unassigned by Ada Admin."
    contact.refresh_from_db()
    assert contact.primary_agent is None
    assert contact.ownership_version == 3


def test_setting_the_same_agent_again_changes_nothing(contact, agent):
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    assert contact_assign_primary_agent(contact=contact, agent=agent, actor=None) is None
    assert contact.timeline.filter(kind__startswith="primary").count() == 1


@pytest.mark.parametrize(
    "who",
    ["other_company_agent", "inactive_agent", "leads_agent"],
)
def test_only_active_lead_center_people_of_the_company_can_be_primary(
    request, contact, who, other_company, company
):
    candidates = {
        "other_company_agent": lambda: AgentFactory(companies=[other_company]),
        "inactive_agent": lambda: AgentFactory(companies=[company], is_active=False),
        "leads_agent": lambda: request.getfixturevalue("leads_agent"),
    }
    with pytest.raises(ValidationError) as error:
        contact_assign_primary_agent(contact=contact, agent=candidates[who](), actor=None)
    assert "can't be this contact's primary agent" in error.value.message_dict["primary_agent"][0]
    contact.refresh_from_db()
    assert contact.primary_agent is None
    assert not contact.timeline.filter(kind__startswith="primary").exists()


def test_email_is_sent_once_even_when_the_task_runs_twice(
    contact, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    email = AssignmentEmail.objects.get()
    # when the task is delivered again (acks_late redelivery, or the sweep)
    assert send_assignment_email.delay(email.pk).get() == "already-sent"
    assert assignment_email_send(email_id=email.pk) == "already-sent"
    # then still one email
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.status == AssignmentEmail.Status.SENT


def test_no_email_when_the_assignment_was_undone_before_the_task_ran(contact, agent, ben):
    # given an assignment whose email is still queued (no commit callbacks run)
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    contact_assign_primary_agent(contact=contact, agent=ben, actor=None)
    first, second = AssignmentEmail.objects.order_by("pk")
    # when the tasks run
    assert assignment_email_send(email_id=first.pk) == "cancelled"
    assert assignment_email_send(email_id=second.pk) == "sent"
    # then only Ben, the current owner, hears about it
    assert [m.to for m in mail.outbox] == [["ben@acme.test"]]


def test_smtp_failure_is_retried_with_backoff_and_sent_later(contact, agent):
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    email = AssignmentEmail.objects.get()
    with (
        mock.patch(
            "django.core.mail.backends.locmem.EmailBackend.send_messages",
            side_effect=SMTPServerDisconnected("gone"),
        ),
        mock.patch.object(
            send_assignment_email, "retry", side_effect=RuntimeError("retry")
        ) as retry,
        pytest.raises(RuntimeError, match="retry"),
    ):
        send_assignment_email.run(email.pk)
    assert retry.call_args.kwargs["countdown"] == 30
    email.refresh_from_db()
    assert (email.status, email.attempts) == (AssignmentEmail.Status.PENDING, 1)
    assert "gone" in email.last_error
    # and the next try goes through
    assert send_assignment_email.run(email.pk) == "sent"
    assert len(mail.outbox) == 1


def test_sweep_requeues_emails_whose_message_was_lost(contact, agent):
    from datetime import timedelta

    from django.utils import timezone

    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    # given an email queued 5 minutes ago that no worker ever ran
    AssignmentEmail.objects.update(assigned_at=timezone.now() - timedelta(minutes=5))
    # when the periodic sweep runs
    assert resend_stuck_assignment_emails() == 1
    # then it is sent, and a second sweep finds nothing
    assert len(mail.outbox) == 1
    assert resend_stuck_assignment_emails() == 0


def test_bulk_assignment_writes_a_row_per_contact_and_one_email(
    company, agent, ben, company_admin, django_capture_on_commit_callbacks
):
    contacts = ContactFactory.create_batch(30, company=company)
    contact_assign_primary_agent(contact=contacts[0], agent=ben, actor=None)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        changed = contacts_assign_primary_agent_bulk(
            company=company,
            contact_ids=[c.pk for c in contacts],
            agent=agent,
            actor=company_admin,
            reason="rebalance",
        )
    assert changed == 30
    assert (
        TimelineEntry.objects.filter(kind=TimelineEntry.Kind.PRIMARY_ASSIGNED, agent=agent).count()
        == 29
    )
    moved = TimelineEntry.objects.get(kind=TimelineEntry.Kind.PRIMARY_CHANGED)
    assert (
        moved.message
        == "Primary agent changed from Ben Okafor to Andy Agent by Ada Admin — rebalance."
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "30 contacts assigned to you"
    assert "...and" not in mail.outbox[0].body  # 30 are listed, under the 50 cap


def test_bulk_assignment_never_touches_another_companys_contacts(company, other_company, agent):
    mine = ContactFactory(company=company)
    theirs = ContactFactory(company=other_company)
    changed = contacts_assign_primary_agent_bulk(
        company=company, contact_ids=[mine.pk, theirs.pk], agent=agent, actor=None
    )
    assert changed == 1
    theirs.refresh_from_db()
    assert theirs.primary_agent is None


def test_primary_load_counts_follow_every_path_and_can_be_rebuilt(
    company, agent, ben, company_admin, login
):
    from django.core.management import call_command
    from django.db.models import Count

    def loads():
        return dict(
            PrimaryLoad.objects.filter(company=company, contacts__gt=0).values_list(
                "agent_id", "contacts"
            )
        )

    def real():
        return dict(
            Contact.objects.filter(company=company, primary_agent__isnull=False)
            .values_list("primary_agent")
            .annotate(n=Count("*"))
        )

    contacts = ContactFactory.create_batch(12, company=company)
    contacts_assign_primary_agent_bulk(
        company=company, contact_ids=[c.pk for c in contacts[:8]], agent=agent, actor=None
    )
    contacts_assign_primary_agent_bulk(
        company=company, contact_ids=[c.pk for c in contacts[4:12]], agent=ben, actor=None
    )
    contact_assign_primary_agent(contact=contacts[0], agent=ben, actor=None)
    contact_assign_primary_agent(contact=contacts[11], agent=None, actor=None)
    contacts_assign_primary_agent_bulk(
        company=company, contact_ids=[c.pk for c in contacts[9:]], agent=None, actor=None
    )
    login(company_admin).post(f"/admin/contacts/contact/{contacts[5].pk}/delete/", {"post": "yes"})
    assert loads() == real() == {agent.pk: 3, ben.pk: 5}
    # and the rebuild command agrees
    PrimaryLoad.objects.update(contacts=99)
    call_command("recount_primary_load")
    assert loads() == real()


def test_the_ownership_path_skips_a_contact_whose_owner_moved(company, contact, agent, ben):
    # given a contact that moved from Andy to Ben after a handover read Andy's book
    chloe = AgentFactory(companies=[company])
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    contact_assign_primary_agent(contact=contact, agent=ben, actor=None)

    # when the handover writes with Andy as the expected owner
    outcome = contacts_set_primary_agent(
        company=company, targets={contact.pk: chloe}, actor=None, expected_owner=agent
    )

    # then Ben keeps it
    assert outcome.skipped == {contact.pk: Skip.OWNER_MOVED}
    assert Contact.objects.get(pk=contact.pk).primary_agent == ben


def test_deleting_a_stale_contact_uncounts_its_current_owner(company, agent, other_admin):
    ben = AgentFactory(companies=[company])
    contact = contact_create(company=company, actor=None, phone="+12025550142")
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    stale = Contact.objects.get(pk=contact.pk)
    contact_assign_primary_agent(contact=contact, agent=ben, actor=None)
    # Deleting goes through the service (the admin's delete does too).
    contacts_delete(company=company, contact_ids=[stale.pk])
    loads = dict(PrimaryLoad.objects.values_list("agent_id", "contacts"))
    assert loads == {agent.pk: 0, ben.pk: 0}
