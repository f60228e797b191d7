# A record's cells move from one jsonb array (``data``) to text columns c0 … c49, and the
# record's import and contact lose their database constraints (see campaigns.models.Record).
# Existing rows are copied over in one UPDATE before ``data`` is dropped.

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = 50


class BrinOnPostgres(models.Index):
    """A BRIN index on PostgreSQL (a b-tree elsewhere); 0006 drops it for the imports' id
    ranges (it was campaigns.models.BrinOnPostgres)."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            using = " USING brin"
        return super().create_sql(model, schema_editor, using=using, **kwargs)


def copy_cells(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        cells = ", ".join(f"c{i} = data ->> {i}" for i in range(COLUMNS))
    else:
        cells = ", ".join(f"c{i} = json_extract(data, '$[{i}]')" for i in range(COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE campaigns_record SET {cells}")  # noqa: S608 - constants


def copy_cells_back(apps, schema_editor):
    connection = schema_editor.connection
    columns = [f"c{i}" for i in range(COLUMNS)]
    if connection.vendor == "postgresql":
        data = f"to_jsonb(array_remove(ARRAY[{', '.join(columns)}], NULL))"
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE campaigns_record SET data = {data}")  # noqa: S608
        return
    Record = apps.get_model("campaigns", "Record")
    for record in Record.objects.only("pk", *columns).iterator(chunk_size=2000):
        cells = [getattr(record, c) for c in columns]
        record.data = cells[: cells.index(None)] if None in cells else cells
        record.save(update_fields=["data"])


def cache_record_ids(apps, schema_editor):
    """Record ids come from the sequence 1,000 at a time per session: a million-row COPY
    asks it once per row otherwise (~0.25 s)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE campaigns_record ALTER COLUMN id SET CACHE 1000")


def uncache_record_ids(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE campaigns_record ALTER COLUMN id SET CACHE 1")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0004_entry_without_record_index_or_fk_triggers"),
        ("contacts", "0007_narrower_indexes_for_the_webhook"),
    ]

    operations = [
        *(
            migrations.AddField(
                model_name="record",
                name=f"c{i}",
                field=models.TextField(blank=True, editable=False, null=True),
            )
            for i in range(COLUMNS)
        ),
        migrations.RunPython(copy_cells, copy_cells_back),
        migrations.RemoveField(model_name="record", name="data"),
        migrations.AlterField(
            model_name="record",
            name="contact",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="campaign_records",
                to="contacts.contact",
            ),
        ),
        migrations.AlterField(
            model_name="record",
            name="list_import",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="records",
                to="campaigns.listimport",
            ),
        ),
        migrations.RemoveIndex(model_name="record", name="record_list_import"),
        migrations.AddIndex(
            model_name="record",
            index=BrinOnPostgres(
                fields=["contact_list", "list_import"], name="record_list_import"
            ),
        ),
        migrations.RunPython(cache_record_ids, uncache_record_ids),
    ]
