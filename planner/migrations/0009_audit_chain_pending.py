"""The audit chain's pending events (issue 11): which events a transaction inserted, until
its commit seals them all in one pass (``planner.security.audit_chain``; its triggers are put
on by ``install_chain`` after migrate)."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("planner", "0008_signatures"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainPending",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("txid", models.BigIntegerField()),
                ("event_table", models.CharField(max_length=63)),
                (
                    "event_ids",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.BigIntegerField(), size=None
                    ),
                ),
                ("opens", models.BooleanField()),
            ],
            options={
                "indexes": [models.Index(fields=["txid"], name="auditchainpending_txid")],
            },
        ),
    ]
