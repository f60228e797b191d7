"""The assignment email's subject says what happened: a new contact only when it is new."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from contacts.emails import assignment_email_send
from contacts.models import AssignmentEmail, Contact
from contacts.ownership import contact_assign_primary_agent, contacts_assign_primary_agent_bulk
from contacts.services import contact_create
from tests.factories import AgentFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def olivia(company):
    contact = contact_create(
        company=company, actor=None, name="Olivia Nguyen", phone="+12025550142"
    )
    # an existing contact: added last week
    Contact.objects.filter(pk=contact.pk).update(created_at=timezone.now() - timedelta(days=7))
    contact.refresh_from_db()
    return contact


def test_assigning_an_existing_contact_does_not_call_it_new(
    olivia, agent, company_admin, django_capture_on_commit_callbacks
):
    # when the admin makes Andy the primary agent of last week's contact
    with django_capture_on_commit_callbacks(execute=True):
        contact_assign_primary_agent(contact=olivia, agent=agent, actor=company_admin)
    # then the subject names the contact without calling it new
    assert [m.subject for m in mail.outbox] == ["Contact assigned to you: Olivia Nguyen"]


def test_a_contact_added_with_its_primary_agent_is_new(
    login, agent, company, django_capture_on_commit_callbacks
):
    ben = AgentFactory(companies=[company], full_name="Ben Okafor", email="ben@acme.test")
    # when Andy adds a contact in the Lead Center with Ben as its primary agent
    with django_capture_on_commit_callbacks(execute=True):
        response = login(agent).post(
            "/lead-center/contacts/new/",
            {"name": "Nina Park", "phone": "+12025550177", "primary_agent": ben.pk},
        )
    assert response.status_code == 302
    # then Ben's email says it is a new contact
    assert [m.subject for m in mail.outbox] == ["New contact assigned to you: Nina Park"]


def test_a_contact_passed_on_right_after_it_was_added_is_not_new_to_the_second_agent(
    company, agent, django_capture_on_commit_callbacks
):
    ben = AgentFactory(companies=[company], full_name="Ben Okafor", email="ben@acme.test")
    with django_capture_on_commit_callbacks(execute=True):
        contact = contact_create(
            company=company, actor=None, name="Nina Park", phone="+12025550177"
        )
        contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        contact_assign_primary_agent(contact=contact, agent=ben, actor=None)
    assert [m.subject for m in mail.outbox] == [
        "New contact assigned to you: Nina Park",
        "Contact assigned to you: Nina Park",
    ]


def test_a_bulk_assignment_counts_the_contacts(
    company, agent, company_admin, django_capture_on_commit_callbacks
):
    contacts = ContactFactory.create_batch(3, company=company)
    with django_capture_on_commit_callbacks(execute=True):
        contacts_assign_primary_agent_bulk(
            company=company,
            contact_ids=[c.pk for c in contacts],
            agent=agent,
            actor=company_admin,
            reason="rebalance",
        )
    assert [m.subject for m in mail.outbox] == ["3 contacts assigned to you"]


def test_names_are_kept_on_one_line_so_emails_can_carry_them(company, agent):
    contact = contact_create(
        company=company, actor=None, name="Eve\nBcc: x@evil", phone="+12025550142"
    )
    assert contact.name == "Eve Bcc: x@evil"
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    assert assignment_email_send(email_id=AssignmentEmail.objects.get().pk) == "sent"
    assert mail.outbox[0].subject == "New contact assigned to you: Eve Bcc: x@evil"
