"""The searches' own table (``ContactSearch``) is kept by the database's triggers, on SQLite
and on PostgreSQL: every way a contact is written leaves its row right, and an owner change
leaves it alone (which is what moving the trigram indexes there was for)."""

import pytest
from django.db import connection

from contacts import search_triggers
from contacts.apps import _search_triggers_install
from contacts.models import Contact, ContactSearch
from contacts.selectors import contact_search, search_matches, text_query
from contacts.services import contact_create, contact_update
from tests.factories import AgentFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _row(contact: Contact) -> tuple:
    return ContactSearch.objects.filter(pk=contact.pk).values_list(
        "company_id", "name", "email", "phone"
    )[0]


def test_a_new_contact_and_its_changes_are_in_the_search_table(company, company_admin):
    contact = contact_create(
        company=company, actor=company_admin, name="Ines Duarte", phone="(202) 555-0143"
    )
    assert _row(contact) == (company.pk, "Ines Duarte", "", "+12025550143")

    contact_update(contact=contact, actor=company_admin, email="ines@example.com")
    assert _row(contact) == (company.pk, "Ines Duarte", "ines@example.com", "+12025550143")
    assert [c.pk for c in contact_search(company=company, term="duart")] == [contact.pk]
    assert [c.pk for c in contact_search(company=company, term="5550143")] == [contact.pk]
    assert [c.pk for c in contact_search(company=company, term="INES@EXAMPLE")] == [contact.pk]


def test_rows_written_in_bulk_and_in_sql_are_there_and_leave_with_their_contacts(company, agent):
    made = Contact.objects.bulk_create(
        [Contact(company=company, name=f"Bulk {i}", phone=f"+1202555{i:04d}") for i in range(5)]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contacts_contact (company_id, name, phone, email, source, tags, "
            "ownership_version, reassign_hold_label, created_at, updated_at) "
            "VALUES (%s, 'By SQL', '', 'sql@example.com', '', '', 0, '', %s, %s)",
            [company.pk, "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z"],
        )
    assert ContactSearch.objects.count() == Contact.objects.count() == 6
    assert set(ContactSearch.objects.values_list("name", flat=True)) == {
        *(f"Bulk {i}" for i in range(5)),
        "By SQL",
    }

    Contact.objects.filter(name="Bulk 1").update(name="Renamed")
    assert ContactSearch.objects.filter(name="Renamed").count() == 1

    Contact.objects.filter(name__startswith="Bulk").delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM contacts_contact WHERE name = 'By SQL'")
    assert list(ContactSearch.objects.values_list("name", flat=True)) == ["Renamed"]
    assert all(c.pk for c in made)  # the ORM still got the bulk rows' ids back


def test_one_search_row_per_contact_whatever_the_company(company, other_company):
    mine = ContactFactory(company=company, name="Same Name")
    theirs = ContactFactory(company=other_company, name="Same Name")
    assert [c.pk for c in contact_search(company=company, term="same")] == [mine.pk]
    assert [c.pk for c in contact_search(company=other_company, term="same")] == [theirs.pk]


@pytest.mark.postgres
def test_an_owner_change_does_not_rewrite_the_search_row(company, agent):
    """On PostgreSQL: the row stays where it is (its ctid) after the contact's owner, version
    and hold changed, and new after its name did."""
    contact = ContactFactory(company=company, name="Owner Moves")

    def version() -> str:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ctid::text FROM contacts_contactsearch WHERE contact_id = %s", [contact.pk]
            )
            return cursor.fetchone()[0]

    before = version()
    Contact.objects.filter(pk=contact.pk).update(primary_agent=agent, ownership_version=7)
    contact.refresh_from_db()
    contact.save()  # every column set again, none of the three changed
    assert version() == before
    Contact.objects.filter(pk=contact.pk).update(name="Owner Moved")
    assert version() != before


@pytest.mark.postgres
def test_the_searches_use_the_trigram_indexes(company):
    ContactFactory(company=company, name="Trigram Person", email="tri@example.com")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for term, index in [
            ("igram", "contacts_search_name_trgm"),
            ("tri@exa", "contacts_search_email_trgm"),
            ("5550", "contacts_search_phone_trgm"),
        ]:
            query = search_matches(company=company, query=text_query(term))
            sql, params = query.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert index in plan, plan


def test_the_triggers_are_there_after_migrate_and_put_back_by_the_next(company):
    assert search_triggers.installed(connection) == set(search_triggers.TRIGGERS)
    # as after SQLite rebuilt the contacts table for a later migration
    search_triggers.uninstall(connection)
    assert search_triggers.installed(connection) == set()
    _search_triggers_install(sender=None, using="default")
    assert search_triggers.installed(connection) == set(search_triggers.TRIGGERS)
    assert ContactFactory(company=company, name="After").search.name == "After"


def test_a_missing_search_row_is_put_back_by_the_next_change(company):
    contact = ContactFactory(company=company, name="Lost Row")
    ContactSearch.objects.filter(pk=contact.pk).delete()
    Contact.objects.filter(pk=contact.pk).update(name="Found Row")
    assert _row(contact)[1] == "Found Row"


def test_the_admin_search_is_scoped_as_its_list(client, company, other_company, company_admin):
    mine = ContactFactory(company=company, name="Scoped Person")
    theirs = ContactFactory(company=other_company, name="Scoped Person")
    client.force_login(company_admin)
    page = client.get("/admin/contacts/contact/", {"q": "scoped pers"})
    assert page.status_code == 200
    assert [c.pk for c in page.context["cl"].result_list] == [mine.pk]
    boss = AgentFactory(is_superuser=True, is_staff=True, companies=[company])
    client.force_login(boss)
    page = client.get("/admin/contacts/contact/", {"q": '"scoped person"'})
    assert {c.pk for c in page.context["cl"].result_list} == {mine.pk, theirs.pk}
