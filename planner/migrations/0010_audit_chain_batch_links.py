"""Batch links in the audit chain (issue 11): a statement's many events (a bulk ingest of
5,000 readings) are sealed as one link over their digests, and ``event_ids`` lists them. Links
sealed before keep ``event_ids`` empty (one event each). The seal function itself is replaced
by ``install_chain`` after migrate."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("planner", "0009_audit_chain_pending"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditchainlink",
            name="event_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(), blank=True, null=True, size=None
            ),
        ),
    ]
