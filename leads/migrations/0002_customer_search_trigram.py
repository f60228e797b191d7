"""Trigram indexes for the Customer Search (name, email, phone fragments) on PostgreSQL.

The index is on ``contacts_contact`` but owned here: the leads' Customer Search is what
needs it. Django's ``icontains`` compares ``UPPER(column::text)``, so the indexes are on
that expression. Other databases (SQLite, the embedded default) get nothing: the
operation checks the vendor.
"""

from django.db import migrations

INDEXES = {
    "leads_contact_name_trgm": "name",
    "leads_contact_email_trgm": "email",
    "leads_contact_phone_trgm": "phone",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON contacts_contact "
            f"USING gin (UPPER(({column})::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0001_initial"),
        ("contacts", "__first__"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
