"""A call's ring list (``Interaction.ring``, 50 KB of JSON for a 500-member center)
compressed by lz4 instead of pglz on PostgreSQL: 0.58 → 0.35 ms to store one (the bench's
ring list, inserted 500 times each way, docs/performance.md). Only new rows are compressed
so; nothing is rewritten. A PostgreSQL built without lz4 keeps its default. Elsewhere
(SQLite) nothing to do.

Setting a column's compression changes the catalog only, under an ACCESS EXCLUSIVE lock on
the webhook's busiest table: it waits at most 5 s for that lock (then the migration fails,
to be run again at a quieter moment) rather than holding every insert behind it."""

from django.db import migrations

TABLE_COLUMN = ("contacts_interaction", "ring")


def _compression(schema_editor, method: str) -> None:
    table, column = (schema_editor.quote_name(name) for name in TABLE_COLUMN)
    schema_editor.execute("SET LOCAL lock_timeout = '5s'")
    schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def lz4(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        # (the values this server accepts: lz4 only where it was built with it)
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        if not cursor.fetchone()[0]:
            return
    _compression(schema_editor, "lz4")


def back_to_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _compression(schema_editor, "DEFAULT")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0016_timeline_agent_not_checked_again")]

    operations = [migrations.RunPython(lz4, back_to_default, elidable=False)]
