"""The searches' trigram indexes on ``contacts_contactsearch`` (PostgreSQL only), built
``CONCURRENTLY``: writes to contacts go on while a million rows are indexed (hence no
transaction around this migration).

Django's icontains compares ``UPPER(column::text)``: the expression the indexes are on (the
phone too, which the old index also was, though the searches did not use it then: they asked
``contains``).
"""

from django.db import migrations

TRIGRAM_INDEXES = {
    "contacts_search_name_trgm": "UPPER((name)::text)",
    "contacts_search_email_trgm": "UPPER((email)::text)",
    "contacts_search_phone_trgm": "UPPER((phone)::text)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON contacts_contactsearch "
            f"USING gin ({expression} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("contacts", "0014_contact_search")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
