"""The triggers that keep ``contacts.ContactSearch`` (the searches' table) in step with
``contacts_contact``: its row is written with the contact, rewritten when its name, e-mail,
phone or company changes, and deleted with it. No Python writes that table.

On PostgreSQL the insert and the delete are statement triggers over a transition table (a
list import or a bulk delete is one statement here too), the update a row trigger that fires
only when one of the four is set and differs (an owner change never fires it). Inserts and
updates are upserts, so a missing or a leftover row is put right by the next write. SQLite
(the embedded default) gets the same three, row by row.

``install`` runs in contacts' migration 0014 and again after every ``migrate``
(``contacts.apps``): SQLite drops a table's triggers when Django rebuilds the table to alter
it, and a later migration of ``contacts_contact`` must not leave the searches stale.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

TRIGGERS = ("contacts_search_insert", "contacts_search_update", "contacts_search_delete")
COLUMNS = "company_id, name, email, phone"
UPSERT = (
    "ON CONFLICT (contact_id) DO UPDATE SET company_id = EXCLUDED.company_id, "
    "name = EXCLUDED.name, email = EXCLUDED.email, phone = EXCLUDED.phone"
)

POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION contacts_search_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO contacts_contactsearch (contact_id, {COLUMNS})
        SELECT id, {COLUMNS} FROM inserted
        {UPSERT};
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION contacts_search_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO contacts_contactsearch (contact_id, {COLUMNS})
        VALUES (NEW.id, NEW.company_id, NEW.name, NEW.email, NEW.phone)
        {UPSERT};
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
        VALUES (NEW.id, NEW.company_id, NEW.name, NEW.email, NEW.phone)
        {UPSERT};
    END
    """,
    "DROP TRIGGER IF EXISTS contacts_search_update",
    f"""
    CREATE TRIGGER contacts_search_update AFTER UPDATE OF {COLUMNS} ON contacts_contact BEGIN
        INSERT INTO contacts_contactsearch (contact_id, {COLUMNS})
        VALUES (NEW.id, NEW.company_id, NEW.name, NEW.email, NEW.phone)
        {UPSERT};
    END
    """,
    "DROP TRIGGER IF EXISTS contacts_search_delete",
    """
    CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts_contact BEGIN
        DELETE FROM contacts_contactsearch WHERE contact_id = OLD.id;
    END
    """,
]


def install(connection: BaseDatabaseWrapper) -> None:
    """Create (or create again) the three triggers and their functions."""
    with connection.cursor() as cursor:
        for statement in POSTGRES if connection.vendor == "postgresql" else SQLITE:
            cursor.execute(statement)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for trigger in TRIGGERS:
            on = " ON contacts_contact" if connection.vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}{on}")
        if connection.vendor == "postgresql":
            for function in ("inserted", "updated", "deleted"):
                cursor.execute(f"DROP FUNCTION IF EXISTS contacts_search_{function}()")


def installed(connection: BaseDatabaseWrapper) -> set[str]:
    """The names of those triggers the database has."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'contacts_contact'::regclass "
                "AND NOT tgisinternal"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'contacts_contact'"
            )
        return {row[0] for row in cursor.fetchall()} & set(TRIGGERS)
