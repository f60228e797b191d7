# An import keeps the id range of its records, and records lose their index by list and
# import (a BRIN index the load had to summarise): a list's records are found through the
# primary key by their imports' ranges (see campaigns.models.Record). The ranges of imports
# loaded before are read from their records while the old index is still there.

import django.db.models.deletion
from django.db import migrations, models


def fill_ranges(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE campaigns_listimport SET
                first_record_id = (SELECT MIN(r.id) FROM campaigns_record r
                                   WHERE r.list_import_id = campaigns_listimport.id),
                last_record_id = (SELECT MAX(r.id) FROM campaigns_record r
                                  WHERE r.list_import_id = campaigns_listimport.id)
            WHERE status = 'loaded'
            """
        )


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0005_record_cells_as_columns")]

    operations = [
        migrations.AddField(
            model_name="listimport",
            name="first_record_id",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="listimport",
            name="last_record_id",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_ranges, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="record", name="record_list_import"),
        migrations.AlterField(
            model_name="record",
            name="contact_list",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="records",
                to="campaigns.contactlist",
            ),
        ),
        migrations.AlterField(
            model_name="record",
            name="list_import",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="records",
                to="campaigns.listimport",
            ),
        ),
    ]
