"""The Customer Search's trigram indexes move off ``contacts_contact``: they are on the
searches' own table now (``contacts.ContactSearch``, contacts' migration 0014), where an owner
change does not rewrite them. Dropped ``CONCURRENTLY`` (no transaction around this
migration), after the new ones are built (contacts' 0015)."""

from django.db import migrations


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ("leads_contact_name_trgm", "leads_contact_email_trgm", "leads_contact_phone_trgm"):
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def restore(apps, schema_editor):
    from importlib import import_module

    import_module("leads.migrations.0002_customer_search_trigram").create(apps, schema_editor)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leads", "0002_customer_search_trigram"),
        ("contacts", "0015_contact_search_trigram"),
    ]

    operations = [migrations.RunPython(drop, restore, elidable=False)]
