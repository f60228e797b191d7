"""A call's ring list (``Interaction.ring``, 50 KB of JSON for a 500-member center)
compressed by lz4 instead of pglz on PostgreSQL: 0.58 → 0.35 ms to store one (the bench's
ring list, inserted 500 times each way, docs/performance.md). Only new rows are compressed
so; nothing is rewritten. A PostgreSQL built without lz4 keeps pglz. Elsewhere (SQLite)
nothing to do."""

import contextlib

from django.db import DatabaseError, migrations, transaction

TABLE_COLUMN = ("contacts_interaction", "ring")


def _compression(apps, schema_editor, method: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    table, column = (schema_editor.quote_name(name) for name in TABLE_COLUMN)
    sql = f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}"
    # (a server built without lz4 refuses it: pglz, as before)
    with (
        contextlib.suppress(DatabaseError),
        transaction.atomic(using=schema_editor.connection.alias),
    ):
        schema_editor.execute(sql)


def lz4(apps, schema_editor):
    _compression(apps, schema_editor, "lz4")


def pglz(apps, schema_editor):
    _compression(apps, schema_editor, "pglz")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0016_timeline_agent_not_checked_again")]

    operations = [migrations.RunPython(lz4, pglz, elidable=False)]
