"""The searches' own table (``ContactSearch``), filled once and kept by the database's
triggers from then on (``contacts/search_triggers.py``: what they do, and why they are
installed again after every migrate). The trigram indexes over it: migration 0015, built
without blocking writes.
"""

import django.db.models.deletion
from django.db import migrations, models

from contacts import search_triggers

COLUMNS = search_triggers.COLUMNS


def fill(apps, schema_editor):
    """Every contact there is, once, then the triggers for the ones written from now on. On
    PostgreSQL the contacts are locked against writes first, until the migration commits (a
    copy of the rows, no index build): none is written between this copy and the triggers."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("LOCK TABLE contacts_contact IN SHARE ROW EXCLUSIVE MODE")
    schema_editor.execute(
        f"INSERT INTO contacts_contactsearch (contact_id, {COLUMNS}) "
        f"SELECT id, {COLUMNS} FROM contacts_contact"
    )
    search_triggers.install(schema_editor.connection)


def unfill(apps, schema_editor):
    search_triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0009_agent_text_form_capacity'),
        ('contacts', '0013_company_is_the_contacts'),
    ]

    operations = [
        migrations.CreateModel(
            name='ContactSearch',
            fields=[
                ('contact', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='search', serialize=False, to='contacts.contact')),
                ('name', models.CharField(blank=True, max_length=200)),
                ('email', models.CharField(blank=True, max_length=254)),
                ('phone', models.CharField(blank=True, max_length=20)),
                ('company', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='agents.company')),
            ],
            options={
                'verbose_name_plural': 'contact searches',
            },
        ),
        migrations.RunPython(fill, unfill, elidable=False),
    ]
