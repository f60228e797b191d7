"""Idempotency-Key answers are kept per API key, not per company: another key of the same
company runs its own request instead of replaying this key's answer (or learning from a 422
which key strings this one used).

The answers kept so far name no key, so they are forgotten (they are replay copies kept
``API_IDEMPOTENCY_HOURS``, not data): a retry of a write sent before this migration runs
again instead of replaying."""

import django.db.models.deletion
from django.db import migrations, models


def forget_answers_without_a_key(apps, schema_editor):
    apps.get_model("api", "IdempotencyRecord").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="idempotencyrecord",
            name="api_idempotency_unique",
        ),
        migrations.RunPython(forget_answers_without_a_key, forget_answers_without_a_key),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="api_key",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="api.apikey",
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="idempotencyrecord",
            constraint=models.UniqueConstraint(
                fields=("company", "api_key", "key"), name="api_idempotency_unique_per_key"
            ),
        ),
    ]
