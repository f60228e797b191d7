from django.db import migrations

GROUPS = ["Admin", "Supervisor", "Agent", "Leads Agent"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    """Create one group per access level. Their permissions are set after every migrate by
    ``agents.access.sync_access_level_groups``, once every model's permissions exist."""

    dependencies = [
        ("agents", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
