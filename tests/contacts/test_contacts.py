import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from contacts.models import Contact, TimelineEntry
from contacts.services import contact_create, contact_update
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_phone_is_stored_in_e164(company, company_admin):
    contact = contact_create(
        company=company, actor=company_admin, name="Jo", phone="(202) 555-0143"
    )
    assert contact.phone == "+12025550143"
    assert contact.display_phone == "+1 202-555-0143"


def test_same_number_twice_in_one_company_is_refused_with_a_message(company):
    contact_create(company=company, actor=None, name="First", phone="+1 202 555 0143")
    with pytest.raises(ValidationError) as error:
        contact_create(company=company, actor=None, name="Second", phone="202.555.0143")
    assert "already belongs to First" in error.value.message_dict["phone"][0]
    assert Contact.objects.count() == 1


def test_same_number_in_two_companies_is_fine(company, other_company):
    contact_create(company=company, actor=None, phone="+12025550143")
    contact_create(company=other_company, actor=None, phone="+12025550143")
    assert Contact.objects.filter(phone="+12025550143").count() == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"phone": "12345"}, "phone", "not a valid phone number"),
        ({"phone": "call me"}, "phone", "not a phone number we can read"),
        ({"name": "No Way To Reach"}, "phone", "phone number or an email"),
        ({"email": "not-an-email"}, "email", "valid email"),
    ],
)
def test_bad_contact_details_get_a_clear_error(company, fields, field, message):
    with pytest.raises(ValidationError) as error:
        contact_create(company=company, actor=None, **fields)
    assert message in error.value.message_dict[field][0]
    assert not Contact.objects.exists()


def test_creating_and_updating_write_timeline_rows(company, company_admin):
    # given a new contact
    contact = contact_create(
        company=company, actor=company_admin, name="Jo", phone="+12025550143", source="website"
    )
    # when its email changes
    contact_update(contact=contact, actor=company_admin, email="jo@example.com")
    # then the history says both, newest first, with who did it
    entries = list(contact.timeline.all())
    assert [e.kind for e in entries] == [
        TimelineEntry.Kind.CONTACT_UPDATED,
        TimelineEntry.Kind.CONTACT_CREATED,
    ]
    assert entries[0].message == "Email changed by Ada Admin."
    assert entries[0].details["changed"]["email"] == {"from": "", "to": "jo@example.com"}
    assert entries[1].actor == company_admin
    assert "from website" in entries[1].message


def test_update_without_change_writes_no_row(company):
    contact = contact_create(company=company, actor=None, phone="+12025550143")
    contact_update(contact=contact, actor=None, phone="202-555-0143")
    assert contact.timeline.count() == 1


def test_admin_add_with_duplicate_number_shows_the_error_on_the_field(
    login, company_admin, company
):
    # given an existing contact
    ContactFactory(company=company, name="Existing", phone="+12025550143")
    # when the admin adds another with the same number spelled differently
    response = login(company_admin).post(
        "/admin/contacts/contact/add/", {"name": "Dup", "phone": "(202) 555-0143"}
    )
    # then the form comes back with the message, and nothing was written
    assert response.status_code == 200
    assert "already belongs to Existing" in response.content.decode()
    assert Contact.objects.count() == 1


def test_admin_edit_writes_the_timeline_through_the_service(login, company_admin, company):
    contact = contact_create(company=company, actor=None, name="Jo", phone="+12025550143")
    response = login(company_admin).post(
        f"/admin/contacts/contact/{contact.pk}/change/",
        {"name": "Joanna", "phone": "+12025550143", "email": "", "source": ""},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.name == "Joanna"
    assert contact.timeline.first().message == "Name changed by Ada Admin."


@pytest.mark.parametrize("term", ["(202) 555-0143", "+1 202 555 0143", "Jo Ann", "joann@ex"])
def test_admin_search_finds_a_contact_by_any_spelling_of_the_number_or_by_name(
    login, company_admin, company, term
):
    ContactFactory(company=company, name="Jo Ann", phone="+12025550143", email="joann@example.com")
    ContactFactory(
        company=company, name="Someone Else", phone="+12025550199", email="else@example.com"
    )
    body = login(company_admin).get("/admin/contacts/contact/", {"q": term}).content.decode()
    assert "Jo Ann" in body
    assert "Someone Else" not in body


def test_timeline_is_read_only_in_the_admin(login, company_admin, company):
    contact = contact_create(company=company, actor=None, phone="+12025550143")
    entry = contact.timeline.get()
    client = login(company_admin)
    assert client.get("/admin/contacts/timelineentry/").status_code == 200
    assert client.get("/admin/contacts/timelineentry/add/").status_code == 403
    assert (
        client.post(
            f"/admin/contacts/timelineentry/{entry.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )


def test_contact_list_makes_a_constant_number_of_queries(
    login, company_admin, company, django_assert_num_queries
):
    client = login(company_admin)
    ContactFactory.create_batch(5, company=company)
    client.get("/admin/contacts/contact/")  # warm the session and content types
    ContactFactory.create_batch(40, company=company)
    # 1 session, 2 user, 3 current company, 4-5 user and group permissions, 6 count of the
    # company's contacts for the paginator, 7 the page of contacts with their primary agents,
    # 8 the companies for the company picker, 9 the agents of the primary-agent filter,
    # 10 the choices of the source filter; on PostgreSQL 11: the planner's estimate first
    # (exact counts only below 10,000 rows)
    with django_assert_num_queries(11 if connection.vendor == "postgresql" else 10):
        response = client.get("/admin/contacts/contact/")
    assert response.status_code == 200
