"""Instrument register, daily checks and device-token ingest (issue 11)."""

import django.contrib.postgres.fields
import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0014_deviations_inspections"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DeviceToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="e.g. 'Balance 1 bridge, room R101'.", max_length=100
                    ),
                ),
                (
                    "actions",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(
                            choices=[
                                ("post_measurements", "Post caliper measurements"),
                                ("post_weights", "Post body weights"),
                                ("upload_plate_reader", "Upload plate-reader files"),
                                ("upload_flow", "Upload flow cytometry results"),
                                ("read_tasks", "Read the task list"),
                            ],
                            max_length=24,
                        ),
                        help_text="What the token may do.",
                        size=None,
                    ),
                ),
                ("prefix", models.CharField(max_length=12, unique=True)),
                ("key_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField()),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("revoke_reason", models.TextField(blank=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "rate_limit_per_minute",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="Requests per minute; empty: VIVOLOG_DEVICE_RATE_PER_MINUTE.",
                        null=True,
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="device_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "lab",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="device_tokens",
                        to="planner.lab",
                    ),
                ),
                (
                    "revoked_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="device_tokens",
                        to="labnotes.studyrun",
                    ),
                ),
                (
                    "study",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="device_tokens",
                        to="planner.study",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="DeviceTokenWindow",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("window_start", models.DateTimeField()),
                ("requests", models.PositiveIntegerField(default=0)),
                (
                    "token",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="labnotes.devicetoken",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="IngestBatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("received_at", models.DateTimeField(auto_now_add=True)),
                ("content_type", models.CharField(max_length=100)),
                ("body_sha256", models.CharField(max_length=64)),
                ("body", models.BinaryField()),
                ("row_count", models.PositiveIntegerField()),
                ("written_count", models.PositiveIntegerField()),
                (
                    "replayed_count",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Rows whose client_id was stored before (an instrument resend).",
                    ),
                ),
                ("flagged_count", models.PositiveIntegerField(default=0)),
                (
                    "measurement_ids",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.BigIntegerField(), default=list, size=None
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ingest_batches",
                        to="labnotes.studyrun",
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "token",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="batches",
                        to="labnotes.devicetoken",
                    ),
                ),
            ],
            options={
                "ordering": ["-received_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="IngestBatchEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("received_at", models.DateTimeField(auto_now_add=True)),
                ("content_type", models.CharField(max_length=100)),
                ("body_sha256", models.CharField(max_length=64)),
                ("row_count", models.PositiveIntegerField()),
                ("written_count", models.PositiveIntegerField()),
                (
                    "replayed_count",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Rows whose client_id was stored before (an instrument resend).",
                    ),
                ),
                ("flagged_count", models.PositiveIntegerField(default=0)),
                (
                    "measurement_ids",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.BigIntegerField(), default=list, size=None
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.ingestbatch",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.studyrun",
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "token",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.devicetoken",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="Instrument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("balance", "Balance"),
                            ("caliper", "Caliper"),
                            ("plate_reader", "Plate reader"),
                            ("cytometer", "Flow cytometer"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "name",
                    models.CharField(help_text="e.g. 'Caliper 2, room R101'.", max_length=100),
                ),
                ("manufacturer", models.CharField(blank=True, max_length=100)),
                ("model_name", models.CharField(blank=True, max_length=100)),
                ("serial_number", models.CharField(max_length=60)),
                ("location", models.CharField(blank=True, max_length=100)),
                (
                    "calibration_due_on",
                    models.DateField(
                        blank=True,
                        help_text="Readings after this date are flagged (or refused).",
                        null=True,
                    ),
                ),
                ("last_calibrated_on", models.DateField(blank=True, null=True)),
                (
                    "daily_check_required",
                    models.BooleanField(
                        default=True,
                        help_text="Readings need a passed check on the same lab-local day.",
                    ),
                ),
                (
                    "check_expected",
                    models.DecimalField(
                        blank=True,
                        decimal_places=4,
                        help_text="The check standard's value, e.g. a 20 g check weight or a 10 mm gauge block.",
                        max_digits=10,
                        null=True,
                    ),
                ),
                (
                    "check_tolerance",
                    models.DecimalField(blank=True, decimal_places=4, max_digits=10, null=True),
                ),
                (
                    "check_unit",
                    models.CharField(blank=True, help_text="e.g. g, mm, OD.", max_length=10),
                ),
                ("retired_at", models.DateTimeField(blank=True, null=True)),
                ("retire_reason", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "lab",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="instruments",
                        to="planner.lab",
                    ),
                ),
            ],
            options={
                "ordering": ["lab", "kind", "name"],
            },
        ),
        migrations.CreateModel(
            name="DeviceTokenEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                (
                    "name",
                    models.CharField(
                        help_text="e.g. 'Balance 1 bridge, room R101'.", max_length=100
                    ),
                ),
                (
                    "actions",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(
                            choices=[
                                ("post_measurements", "Post caliper measurements"),
                                ("post_weights", "Post body weights"),
                                ("upload_plate_reader", "Upload plate-reader files"),
                                ("upload_flow", "Upload flow cytometry results"),
                                ("read_tasks", "Read the task list"),
                            ],
                            max_length=24,
                        ),
                        help_text="What the token may do.",
                        size=None,
                    ),
                ),
                ("prefix", models.CharField(max_length=12)),
                ("key_hash", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField()),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("revoke_reason", models.TextField(blank=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "rate_limit_per_minute",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="Requests per minute; empty: VIVOLOG_DEVICE_RATE_PER_MINUTE.",
                        null=True,
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "lab",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="planner.lab",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.devicetoken",
                    ),
                ),
                (
                    "revoked_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.studyrun",
                    ),
                ),
                (
                    "study",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="planner.study",
                    ),
                ),
                (
                    "instrument",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The default instrument of readings that name none.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.instrument",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddField(
            model_name="devicetoken",
            name="instrument",
            field=models.ForeignKey(
                blank=True,
                help_text="The default instrument of readings that name none.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="device_tokens",
                to="labnotes.instrument",
            ),
        ),
        migrations.CreateModel(
            name="InstrumentCheck",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("checked_on", models.DateField(help_text="The lab-local date of the check.")),
                ("checked_at", models.DateTimeField()),
                ("expected_value", models.DecimalField(decimal_places=4, max_digits=10)),
                ("observed_value", models.DecimalField(decimal_places=4, max_digits=10)),
                ("tolerance", models.DecimalField(decimal_places=4, max_digits=10)),
                ("unit", models.CharField(max_length=10)),
                ("passed", models.BooleanField()),
                ("note", models.TextField(blank=True)),
                (
                    "checked_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "instrument",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="checks",
                        to="labnotes.instrument",
                    ),
                ),
            ],
            options={
                "ordering": ["instrument", "-checked_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="InstrumentCheckEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("checked_on", models.DateField(help_text="The lab-local date of the check.")),
                ("checked_at", models.DateTimeField()),
                ("expected_value", models.DecimalField(decimal_places=4, max_digits=10)),
                ("observed_value", models.DecimalField(decimal_places=4, max_digits=10)),
                ("tolerance", models.DecimalField(decimal_places=4, max_digits=10)),
                ("unit", models.CharField(max_length=10)),
                ("passed", models.BooleanField()),
                ("note", models.TextField(blank=True)),
                (
                    "checked_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "instrument",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.instrument",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.instrumentcheck",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="InstrumentEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("balance", "Balance"),
                            ("caliper", "Caliper"),
                            ("plate_reader", "Plate reader"),
                            ("cytometer", "Flow cytometer"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "name",
                    models.CharField(help_text="e.g. 'Caliper 2, room R101'.", max_length=100),
                ),
                ("manufacturer", models.CharField(blank=True, max_length=100)),
                ("model_name", models.CharField(blank=True, max_length=100)),
                ("serial_number", models.CharField(max_length=60)),
                ("location", models.CharField(blank=True, max_length=100)),
                (
                    "calibration_due_on",
                    models.DateField(
                        blank=True,
                        help_text="Readings after this date are flagged (or refused).",
                        null=True,
                    ),
                ),
                ("last_calibrated_on", models.DateField(blank=True, null=True)),
                (
                    "daily_check_required",
                    models.BooleanField(
                        default=True,
                        help_text="Readings need a passed check on the same lab-local day.",
                    ),
                ),
                (
                    "check_expected",
                    models.DecimalField(
                        blank=True,
                        decimal_places=4,
                        help_text="The check standard's value, e.g. a 20 g check weight or a 10 mm gauge block.",
                        max_digits=10,
                        null=True,
                    ),
                ),
                (
                    "check_tolerance",
                    models.DecimalField(blank=True, decimal_places=4, max_digits=10, null=True),
                ),
                (
                    "check_unit",
                    models.CharField(blank=True, help_text="e.g. g, mm, OD.", max_length=10),
                ),
                ("retired_at", models.DateTimeField(blank=True, null=True)),
                ("retire_reason", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "lab",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="planner.lab",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.instrument",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="InstrumentSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "unqualified_readings",
                    models.CharField(
                        choices=[("flag", "Record it, flagged"), ("refuse", "Refuse it")],
                        default="flag",
                        max_length=6,
                    ),
                ),
                (
                    "require_registered_instrument",
                    models.BooleanField(
                        default=False,
                        help_text="Refuse device readings that name no registered instrument.",
                    ),
                ),
                (
                    "lab",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="instrument_settings",
                        to="planner.lab",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "instrument settings",
            },
        ),
        migrations.CreateModel(
            name="InstrumentSettingsEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "unqualified_readings",
                    models.CharField(
                        choices=[("flag", "Record it, flagged"), ("refuse", "Refuse it")],
                        default="flag",
                        max_length=6,
                    ),
                ),
                (
                    "require_registered_instrument",
                    models.BooleanField(
                        default=False,
                        help_text="Refuse device readings that name no registered instrument.",
                    ),
                ),
                (
                    "lab",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="planner.lab",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.instrumentsettings",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="ReadingFlag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "issues",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(
                            choices=[
                                ("calibration_overdue", "Calibration overdue"),
                                ("no_daily_check", "No passed daily check today"),
                                ("retired", "Instrument retired"),
                            ],
                            max_length=24,
                        ),
                        size=None,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "instrument",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reading_flags",
                        to="labnotes.instrument",
                    ),
                ),
                (
                    "measurement",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="instrument_flag",
                        to="labnotes.measurement",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ReadingFlagEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                (
                    "issues",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(
                            choices=[
                                ("calibration_overdue", "Calibration overdue"),
                                ("no_daily_check", "No passed daily check today"),
                                ("retired", "Instrument retired"),
                            ],
                            max_length=24,
                        ),
                        size=None,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "instrument",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.instrument",
                    ),
                ),
                (
                    "measurement",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.measurement",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.readingflag",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddConstraint(
            model_name="devicetokenwindow",
            constraint=models.UniqueConstraint(
                fields=("token", "window_start"), name="device_token_window_unique"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ingestbatch",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_ingestbatchevent" ("body_sha256", "content_type", "flagged_count", "id", "measurement_ids", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "received_at", "replayed_count", "row_count", "run_id", "submitted_by_id", "token_id", "written_count") VALUES (NEW."body_sha256", NEW."content_type", NEW."flagged_count", NEW."id", NEW."measurement_ids", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."received_at", NEW."replayed_count", NEW."row_count", NEW."run_id", NEW."submitted_by_id", NEW."token_id", NEW."written_count"); RETURN NULL;',
                    hash="54b04146e20c6c9a28b50860fad649fcda391557",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_16f14",
                    table="labnotes_ingestbatch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ingestbatch",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."body_sha256" IS DISTINCT FROM (NEW."body_sha256") OR OLD."content_type" IS DISTINCT FROM (NEW."content_type") OR OLD."flagged_count" IS DISTINCT FROM (NEW."flagged_count") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."measurement_ids" IS DISTINCT FROM (NEW."measurement_ids") OR OLD."received_at" IS DISTINCT FROM (NEW."received_at") OR OLD."replayed_count" IS DISTINCT FROM (NEW."replayed_count") OR OLD."row_count" IS DISTINCT FROM (NEW."row_count") OR OLD."run_id" IS DISTINCT FROM (NEW."run_id") OR OLD."submitted_by_id" IS DISTINCT FROM (NEW."submitted_by_id") OR OLD."token_id" IS DISTINCT FROM (NEW."token_id") OR OLD."written_count" IS DISTINCT FROM (NEW."written_count"))',
                    func='INSERT INTO "labnotes_ingestbatchevent" ("body_sha256", "content_type", "flagged_count", "id", "measurement_ids", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "received_at", "replayed_count", "row_count", "run_id", "submitted_by_id", "token_id", "written_count") VALUES (NEW."body_sha256", NEW."content_type", NEW."flagged_count", NEW."id", NEW."measurement_ids", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."received_at", NEW."replayed_count", NEW."row_count", NEW."run_id", NEW."submitted_by_id", NEW."token_id", NEW."written_count"); RETURN NULL;',
                    hash="3fbdbb15b8da8bd13ac4309ad9d68f907d0ed381",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_d4f61",
                    table="labnotes_ingestbatch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ingestbatch",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_ingestbatchevent" ("body_sha256", "content_type", "flagged_count", "id", "measurement_ids", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "received_at", "replayed_count", "row_count", "run_id", "submitted_by_id", "token_id", "written_count") VALUES (OLD."body_sha256", OLD."content_type", OLD."flagged_count", OLD."id", OLD."measurement_ids", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."received_at", OLD."replayed_count", OLD."row_count", OLD."run_id", OLD."submitted_by_id", OLD."token_id", OLD."written_count"); RETURN NULL;',
                    hash="3afc8b2d06012f002786baf3e2b281ef57c85799",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_883cb",
                    table="labnotes_ingestbatch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ingestbatchevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="74ffe4305fbbf7d0ff54aa1ab69ff76ba31d5e8f",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_4ded0",
                    table="labnotes_ingestbatchevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="instrument",
            constraint=models.UniqueConstraint(
                fields=("lab", "serial_number"), name="instrument_serial_unique_in_lab"
            ),
        ),
        migrations.AddConstraint(
            model_name="instrument",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("kind__in", ["balance", "caliper", "plate_reader", "cytometer"])
                ),
                name="instrument_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="instrument",
            constraint=models.CheckConstraint(
                condition=models.Q(("serial_number", ""), _negated=True),
                name="instrument_serial_not_blank",
            ),
        ),
        migrations.AddConstraint(
            model_name="instrument",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("check_tolerance__isnull", True), ("check_tolerance__gte", 0), _connector="OR"
                ),
                name="instrument_check_tolerance_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="instrument",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("retired_at__isnull", True),
                    models.Q(("retire_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="instrument_retired_has_reason",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrument",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_instrumentevent" ("calibration_due_on", "check_expected", "check_tolerance", "check_unit", "created_at", "created_by_id", "daily_check_required", "id", "kind", "lab_id", "last_calibrated_on", "location", "manufacturer", "model_name", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "retire_reason", "retired_at", "row_version", "serial_number") VALUES (NEW."calibration_due_on", NEW."check_expected", NEW."check_tolerance", NEW."check_unit", NEW."created_at", NEW."created_by_id", NEW."daily_check_required", NEW."id", NEW."kind", NEW."lab_id", NEW."last_calibrated_on", NEW."location", NEW."manufacturer", NEW."model_name", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."retire_reason", NEW."retired_at", NEW."row_version", NEW."serial_number"); RETURN NULL;',
                    hash="74695d1a77291232005abef6720eee0d928e05d5",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_e4edb",
                    table="labnotes_instrument",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrument",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_instrumentevent" ("calibration_due_on", "check_expected", "check_tolerance", "check_unit", "created_at", "created_by_id", "daily_check_required", "id", "kind", "lab_id", "last_calibrated_on", "location", "manufacturer", "model_name", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "retire_reason", "retired_at", "row_version", "serial_number") VALUES (NEW."calibration_due_on", NEW."check_expected", NEW."check_tolerance", NEW."check_unit", NEW."created_at", NEW."created_by_id", NEW."daily_check_required", NEW."id", NEW."kind", NEW."lab_id", NEW."last_calibrated_on", NEW."location", NEW."manufacturer", NEW."model_name", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."retire_reason", NEW."retired_at", NEW."row_version", NEW."serial_number"); RETURN NULL;',
                    hash="c228eaef99960266340d563a2af7f3ff8592e2a4",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_90343",
                    table="labnotes_instrument",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrument",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_instrumentevent" ("calibration_due_on", "check_expected", "check_tolerance", "check_unit", "created_at", "created_by_id", "daily_check_required", "id", "kind", "lab_id", "last_calibrated_on", "location", "manufacturer", "model_name", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "retire_reason", "retired_at", "row_version", "serial_number") VALUES (OLD."calibration_due_on", OLD."check_expected", OLD."check_tolerance", OLD."check_unit", OLD."created_at", OLD."created_by_id", OLD."daily_check_required", OLD."id", OLD."kind", OLD."lab_id", OLD."last_calibrated_on", OLD."location", OLD."manufacturer", OLD."model_name", OLD."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."retire_reason", OLD."retired_at", OLD."row_version", OLD."serial_number"); RETURN NULL;',
                    hash="8ba6ad5d56dd076258f042372e855e69b2b49c9a",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_5c65b",
                    table="labnotes_instrument",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="devicetokenevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="bb300e2d5241c1bf127df2cca9ee1a8418091fdb",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_a0e75",
                    table="labnotes_devicetokenevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="devicetoken",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("run__isnull", False), ("study__isnull", True)),
                    models.Q(("run__isnull", True), ("study__isnull", False)),
                    _connector="OR",
                ),
                name="device_token_one_run_or_one_study",
            ),
        ),
        migrations.AddConstraint(
            model_name="devicetoken",
            constraint=models.CheckConstraint(
                condition=models.Q(("actions", []), _negated=True), name="device_token_has_actions"
            ),
        ),
        migrations.AddConstraint(
            model_name="devicetoken",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("revoked_at__isnull", True),
                    models.Q(
                        ("revoked_by__isnull", False),
                        models.Q(("revoke_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="device_token_revocation_has_who_and_why",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="devicetoken",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_devicetokenevent" ("actions", "created_at", "created_by_id", "expires_at", "id", "instrument_id", "key_hash", "lab_id", "last_used_at", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "prefix", "rate_limit_per_minute", "revoke_reason", "revoked_at", "revoked_by_id", "run_id", "study_id") VALUES (NEW."actions", NEW."created_at", NEW."created_by_id", NEW."expires_at", NEW."id", NEW."instrument_id", NEW."key_hash", NEW."lab_id", NEW."last_used_at", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."prefix", NEW."rate_limit_per_minute", NEW."revoke_reason", NEW."revoked_at", NEW."revoked_by_id", NEW."run_id", NEW."study_id"); RETURN NULL;',
                    hash="987769a073395665be2c54407043954b7ad1cb1c",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_99636",
                    table="labnotes_devicetoken",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="devicetoken",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."actions" IS DISTINCT FROM (NEW."actions") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."created_by_id" IS DISTINCT FROM (NEW."created_by_id") OR OLD."expires_at" IS DISTINCT FROM (NEW."expires_at") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."instrument_id" IS DISTINCT FROM (NEW."instrument_id") OR OLD."key_hash" IS DISTINCT FROM (NEW."key_hash") OR OLD."lab_id" IS DISTINCT FROM (NEW."lab_id") OR OLD."name" IS DISTINCT FROM (NEW."name") OR OLD."prefix" IS DISTINCT FROM (NEW."prefix") OR OLD."rate_limit_per_minute" IS DISTINCT FROM (NEW."rate_limit_per_minute") OR OLD."revoke_reason" IS DISTINCT FROM (NEW."revoke_reason") OR OLD."revoked_at" IS DISTINCT FROM (NEW."revoked_at") OR OLD."revoked_by_id" IS DISTINCT FROM (NEW."revoked_by_id") OR OLD."run_id" IS DISTINCT FROM (NEW."run_id") OR OLD."study_id" IS DISTINCT FROM (NEW."study_id"))',
                    func='INSERT INTO "labnotes_devicetokenevent" ("actions", "created_at", "created_by_id", "expires_at", "id", "instrument_id", "key_hash", "lab_id", "last_used_at", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "prefix", "rate_limit_per_minute", "revoke_reason", "revoked_at", "revoked_by_id", "run_id", "study_id") VALUES (NEW."actions", NEW."created_at", NEW."created_by_id", NEW."expires_at", NEW."id", NEW."instrument_id", NEW."key_hash", NEW."lab_id", NEW."last_used_at", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."prefix", NEW."rate_limit_per_minute", NEW."revoke_reason", NEW."revoked_at", NEW."revoked_by_id", NEW."run_id", NEW."study_id"); RETURN NULL;',
                    hash="0624618bacdf2487fa14c6a5459096e0e9831204",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_d99b8",
                    table="labnotes_devicetoken",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="devicetoken",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_devicetokenevent" ("actions", "created_at", "created_by_id", "expires_at", "id", "instrument_id", "key_hash", "lab_id", "last_used_at", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "prefix", "rate_limit_per_minute", "revoke_reason", "revoked_at", "revoked_by_id", "run_id", "study_id") VALUES (OLD."actions", OLD."created_at", OLD."created_by_id", OLD."expires_at", OLD."id", OLD."instrument_id", OLD."key_hash", OLD."lab_id", OLD."last_used_at", OLD."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."prefix", OLD."rate_limit_per_minute", OLD."revoke_reason", OLD."revoked_at", OLD."revoked_by_id", OLD."run_id", OLD."study_id"); RETURN NULL;',
                    hash="b1a7888ca56bc51d6c3d330931ad3df6740f8f55",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_201c6",
                    table="labnotes_devicetoken",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="instrumentcheck",
            index=models.Index(fields=["instrument", "checked_on"], name="instrumentcheck_day"),
        ),
        migrations.AddConstraint(
            model_name="instrumentcheck",
            constraint=models.CheckConstraint(
                condition=models.Q(("tolerance__gte", 0)), name="instrument_check_tolerance_valid"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentcheck",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_instrumentcheckevent" ("checked_at", "checked_by_id", "checked_on", "expected_value", "id", "instrument_id", "note", "observed_value", "passed", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "tolerance", "unit") VALUES (NEW."checked_at", NEW."checked_by_id", NEW."checked_on", NEW."expected_value", NEW."id", NEW."instrument_id", NEW."note", NEW."observed_value", NEW."passed", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."tolerance", NEW."unit"); RETURN NULL;',
                    hash="13902c6728bf7fda8e121ad32868418b0b04b554",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_e6091",
                    table="labnotes_instrumentcheck",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentcheck",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_instrumentcheckevent" ("checked_at", "checked_by_id", "checked_on", "expected_value", "id", "instrument_id", "note", "observed_value", "passed", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "tolerance", "unit") VALUES (NEW."checked_at", NEW."checked_by_id", NEW."checked_on", NEW."expected_value", NEW."id", NEW."instrument_id", NEW."note", NEW."observed_value", NEW."passed", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."tolerance", NEW."unit"); RETURN NULL;',
                    hash="d24525362e33e6e85ad3c69de6eb24cc5cde9ee2",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_da9a8",
                    table="labnotes_instrumentcheck",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentcheck",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_instrumentcheckevent" ("checked_at", "checked_by_id", "checked_on", "expected_value", "id", "instrument_id", "note", "observed_value", "passed", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "tolerance", "unit") VALUES (OLD."checked_at", OLD."checked_by_id", OLD."checked_on", OLD."expected_value", OLD."id", OLD."instrument_id", OLD."note", OLD."observed_value", OLD."passed", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."tolerance", OLD."unit"); RETURN NULL;',
                    hash="ba76729893e8a8a8b90569a0440b1e59fc2f1aee",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_e58b6",
                    table="labnotes_instrumentcheck",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentcheckevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="632d7d8a7e10cd3a0a1b710b620b3f2c21ef4e0c",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_e29c1",
                    table="labnotes_instrumentcheckevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="749bcd1aaa4566985ff28e914ad2476bd401a882",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_3a225",
                    table="labnotes_instrumentevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentsettings",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_instrumentsettingsevent" ("id", "lab_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "require_registered_instrument", "row_version", "unqualified_readings") VALUES (NEW."id", NEW."lab_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."require_registered_instrument", NEW."row_version", NEW."unqualified_readings"); RETURN NULL;',
                    hash="907e02edaf9e36e2715f30677d65b5cc901b1972",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_25616",
                    table="labnotes_instrumentsettings",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentsettings",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_instrumentsettingsevent" ("id", "lab_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "require_registered_instrument", "row_version", "unqualified_readings") VALUES (NEW."id", NEW."lab_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."require_registered_instrument", NEW."row_version", NEW."unqualified_readings"); RETURN NULL;',
                    hash="c4bacc7f763caf69f74ba18d94e6f9bb8b5eabe0",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_923ee",
                    table="labnotes_instrumentsettings",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentsettings",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_instrumentsettingsevent" ("id", "lab_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "require_registered_instrument", "row_version", "unqualified_readings") VALUES (OLD."id", OLD."lab_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."require_registered_instrument", OLD."row_version", OLD."unqualified_readings"); RETURN NULL;',
                    hash="f380bba7cca48c6ab1aad87c4b4ffc77ab714888",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_06df2",
                    table="labnotes_instrumentsettings",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentsettingsevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="3f880991b28e5494ceabfd24b93390bd633b5a90",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_d5345",
                    table="labnotes_instrumentsettingsevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="readingflag",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_readingflagevent" ("created_at", "id", "instrument_id", "issues", "measurement_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."created_at", NEW."id", NEW."instrument_id", NEW."issues", NEW."measurement_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id"); RETURN NULL;',
                    hash="ff8d2aaa4e15b4670bda80c56ddba9729e5a77df",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_a7694",
                    table="labnotes_readingflag",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="readingflag",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_readingflagevent" ("created_at", "id", "instrument_id", "issues", "measurement_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."created_at", NEW."id", NEW."instrument_id", NEW."issues", NEW."measurement_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id"); RETURN NULL;',
                    hash="23eb9432ad59c4fa230f51fa08a2d2aa8870c6e5",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_043eb",
                    table="labnotes_readingflag",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="readingflag",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_readingflagevent" ("created_at", "id", "instrument_id", "issues", "measurement_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (OLD."created_at", OLD."id", OLD."instrument_id", OLD."issues", OLD."measurement_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id"); RETURN NULL;',
                    hash="362c8d93928b46c2647ef93659b6b0868303beb1",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_226d5",
                    table="labnotes_readingflag",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="readingflagevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="19180e293b839fb1a58e7367c539c8eb62d32747",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_c6958",
                    table="labnotes_readingflagevent",
                    when="BEFORE",
                ),
            ),
        ),
    ]
