"""A callback saved before callbacks were bounded may lie past year 9999 in UTC (typed as
9999-12-31 in a time zone west of UTC): PostgreSQL holds it, but it cannot be read back
into Python, and every page reading the entry answered 500. Bring any such callback to the
latest one allowed now (a year ahead). Only PostgreSQL could store one."""

from django.db import migrations


def bound_callbacks(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    entry = apps.get_model("campaigns", "Entry")
    table = entry._meta.db_table
    column = entry._meta.get_field("callback_at").column
    schema_editor.execute(
        f"UPDATE {table} SET {column} = now() + interval '365 days' "  # noqa: S608 - our names
        f"WHERE {column} > now() + interval '365 days'"
    )


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0008_import_heartbeat_and_warning")]

    operations = [migrations.RunPython(bound_callbacks, migrations.RunPython.noop)]
