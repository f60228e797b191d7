# A record's link to its contact moves from a column of the record to a narrow table of its
# own (see campaigns.models.RecordContact): linking a list of known customers no longer
# rewrites every linked record. Existing links are copied over, and back.

import django.db.models.deletion
from django.db import migrations, models


def copy_links(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_recordcontact (record_id, contact_id) "
            "SELECT id, contact_id FROM campaigns_record WHERE contact_id IS NOT NULL"
        )


def copy_links_back(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE campaigns_record SET contact_id = (SELECT l.contact_id "
            "FROM campaigns_recordcontact l WHERE l.record_id = campaigns_record.id) "
            "WHERE id IN (SELECT record_id FROM campaigns_recordcontact)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_record_ids_by_import"),
        ("contacts", "0007_narrower_indexes_for_the_webhook"),
    ]

    operations = [
        migrations.CreateModel(
            name="RecordContact",
            fields=[
                (
                    "record",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="contact_link",
                        serialize=False,
                        to="campaigns.record",
                    ),
                ),
                (
                    "contact",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="contacts.contact",
                    ),
                ),
            ],
        ),
        migrations.RunPython(copy_links, copy_links_back),
        migrations.RemoveIndex(model_name="record", name="record_contact"),
        migrations.RemoveField(model_name="record", name="contact"),
    ]
