"""The searches' own table (``ContactSearch``), kept by the database's triggers.

One row per contact with its name, e-mail and phone: inserted with the contact, rewritten
when one of the three (or its company) changes, deleted with it. On PostgreSQL the insert
and the delete are statement triggers over a transition table (a list import or a bulk
delete is one ``INSERT … SELECT``), the update a row trigger that fires only when a listed
column is set and differs; the searches' trigram indexes are here. SQLite (the embedded
default) gets the same three triggers, row by row, and no trigram index.

SQLite rebuilds a table to alter it and drops its triggers then: a later migration that
alters ``contacts_contact`` must run ``create_triggers`` again there
(tests/contacts/test_contact_search.py fails if it does not).
"""

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = "company_id, name, email, phone"

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION contacts_search_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO contacts_contactsearch (contact_id, company_id, name, email, phone)
        SELECT id, company_id, name, email, phone FROM inserted;
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION contacts_search_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE contacts_contactsearch
        SET company_id = NEW.company_id, name = NEW.name, email = NEW.email, phone = NEW.phone
        WHERE contact_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION contacts_search_deleted() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM contacts_contactsearch s USING deleted d WHERE s.contact_id = d.id;
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS contacts_search_insert ON contacts_contact",
    """
    CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts_contact
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_search_inserted()
    """,
    "DROP TRIGGER IF EXISTS contacts_search_update ON contacts_contact",
    f"""
    CREATE TRIGGER contacts_search_update AFTER UPDATE OF {COLUMNS} ON contacts_contact
    FOR EACH ROW WHEN (
        OLD.company_id IS DISTINCT FROM NEW.company_id OR OLD.name IS DISTINCT FROM NEW.name
        OR OLD.email IS DISTINCT FROM NEW.email OR OLD.phone IS DISTINCT FROM NEW.phone
    ) EXECUTE FUNCTION contacts_search_updated()
    """,
    "DROP TRIGGER IF EXISTS contacts_search_delete ON contacts_contact",
    """
    CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts_contact
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_search_deleted()
    """,
]

SQLITE = [
    "DROP TRIGGER IF EXISTS contacts_search_insert",
    f"""
    CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts_contact BEGIN
        INSERT INTO contacts_contactsearch (contact_id, {COLUMNS})
        VALUES (NEW.id, NEW.company_id, NEW.name, NEW.email, NEW.phone);
    END
    """,
    "DROP TRIGGER IF EXISTS contacts_search_update",
    f"""
    CREATE TRIGGER contacts_search_update AFTER UPDATE OF {COLUMNS} ON contacts_contact BEGIN
        UPDATE contacts_contactsearch
        SET company_id = NEW.company_id, name = NEW.name, email = NEW.email, phone = NEW.phone
        WHERE contact_id = NEW.id;
    END
    """,
    "DROP TRIGGER IF EXISTS contacts_search_delete",
    """
    CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts_contact BEGIN
        DELETE FROM contacts_contactsearch WHERE contact_id = OLD.id;
    END
    """,
]

# Django's icontains compares UPPER(column::text), contains column::text: the expressions
# the indexes are on. The phone is searched by its digits (``contains``), not folded.
TRIGRAM_INDEXES = {
    "contacts_search_name_trgm": "UPPER((name)::text)",
    "contacts_search_email_trgm": "UPPER((email)::text)",
    "contacts_search_phone_trgm": "((phone)::text)",
}


def create_triggers(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in statements:
        schema_editor.execute(statement)


def fill(apps, schema_editor):
    """Every contact there is, once (the triggers take the ones written from now on). On
    PostgreSQL the contacts are locked against writes first, until the migration commits:
    none is written between this copy and the triggers."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("LOCK TABLE contacts_contact IN SHARE ROW EXCLUSIVE MODE")
    schema_editor.execute(
        f"INSERT INTO contacts_contactsearch (contact_id, {COLUMNS}) "
        f"SELECT id, {COLUMNS} FROM contacts_contact"
    )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expression in TRIGRAM_INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON contacts_contactsearch "
                f"USING gin ({expression} gin_trgm_ops)"
            )


def drop_triggers(apps, schema_editor):
    for trigger in ("contacts_search_insert", "contacts_search_update", "contacts_search_delete"):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON contacts_contact")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    if schema_editor.connection.vendor == "postgresql":
        for function in ("inserted", "updated", "deleted"):
            schema_editor.execute(f"DROP FUNCTION IF EXISTS contacts_search_{function}()")


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0009_agent_text_form_capacity'),
        ('contacts', '0013_company_is_the_contacts'),
    ]

    operations = [
        migrations.CreateModel(
            name='ContactSearch',
            fields=[
                ('contact', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='search', serialize=False, to='contacts.contact')),
                ('name', models.CharField(blank=True, max_length=200)),
                ('email', models.CharField(blank=True, max_length=254)),
                ('phone', models.CharField(blank=True, max_length=20)),
                ('company', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='agents.company')),
            ],
            options={
                'verbose_name_plural': 'contact searches',
            },
        ),
        # The rows first, then the indexes over them (one build, not a million inserts into
        # a GIN index), then the triggers; reversed, the triggers go first.
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
