"""Welfare and endpoints: observations with ulceration per tumour, escalation checks,
endpoint episodes and endpoint records (the survival data), with their audit events."""

import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0007_dosing"),
        ("planner", "0003_add_audit_chain_security_log_ethics_reference"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EndpointRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "cause",
                    models.CharField(
                        choices=[
                            ("tumour_volume", "Tumour volume limit"),
                            ("tumour_diameter", "Tumour diameter limit"),
                            ("weight_loss", "Weight loss limit"),
                            ("clinical_score", "Clinical score limit"),
                            ("ulceration", "Ulceration"),
                            ("moribund", "Moribund"),
                            ("found_dead", "Found dead"),
                            ("treatment_toxicity", "Treatment toxicity"),
                            ("accident", "Accident"),
                            ("scheduled_sacrifice", "Scheduled sacrifice"),
                            ("missing", "Missing"),
                        ],
                        max_length=30,
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[("event", "Event"), ("censored", "Censored")], max_length=10
                    ),
                ),
                ("occurred_at", models.DateTimeField()),
                ("study_day", models.IntegerField()),
                ("last_seen_alive_at", models.DateTimeField(blank=True, null=True)),
                (
                    "actual_severity",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("non_recovery", "Non-recovery"),
                            ("mild", "Mild"),
                            ("moderate", "Moderate"),
                            ("severe", "Severe"),
                        ],
                        max_length=20,
                    ),
                ),
                ("notes", models.TextField(blank=True)),
                (
                    "excluded_readings",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Caliper readings voided for lying after the last time seen alive.",
                    ),
                ),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
                (
                    "animal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="endpoint_records",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="endpoint_records",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "voided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["animal", "occurred_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="EndpointEpisode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("awaiting_repeat", "Awaiting the repeat reading"),
                            ("open", "Open: endpoint reached"),
                            ("closed", "Closed by an endpoint record"),
                            ("dismissed", "Dismissed: the repeat did not confirm it"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "cause",
                    models.CharField(
                        choices=[
                            ("tumour_volume", "Tumour volume limit"),
                            ("tumour_diameter", "Tumour diameter limit"),
                            ("weight_loss", "Weight loss limit"),
                            ("clinical_score", "Clinical score limit"),
                            ("ulceration", "Ulceration"),
                            ("moribund", "Moribund"),
                            ("found_dead", "Found dead"),
                            ("treatment_toxicity", "Treatment toxicity"),
                            ("accident", "Accident"),
                            ("scheduled_sacrifice", "Scheduled sacrifice"),
                            ("missing", "Missing"),
                        ],
                        help_text="The limit reached first, as an endpoint cause of the survival definition.",
                        max_length=30,
                    ),
                ),
                (
                    "findings",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text="What reached or approached which limit.",
                    ),
                ),
                ("first_reached_at", models.DateTimeField()),
                ("opened_at", models.DateTimeField(auto_now_add=True)),
                ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                ("alerted_at", models.DateTimeField(blank=True, null=True)),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "hours_to_endpoint",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        help_text="Hours from the first reading at the limit to the euthanasia (or death).",
                        max_digits=8,
                        null=True,
                    ),
                ),
                ("over_24_hours", models.BooleanField(default=False)),
                ("status_reason", models.CharField(blank=True, max_length=300)),
                (
                    "animal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="endpoint_episodes",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "confirmed_by",
                    models.ForeignKey(
                        blank=True,
                        help_text="The repeat reading that confirmed a grid crossing.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="labnotes.measurement",
                    ),
                ),
                (
                    "first_measurement",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="labnotes.measurement",
                    ),
                ),
                (
                    "endpoint_record",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="episodes",
                        to="labnotes.endpointrecord",
                    ),
                ),
            ],
            options={
                "ordering": ["-first_reached_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="EndpointRecordEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "cause",
                    models.CharField(
                        choices=[
                            ("tumour_volume", "Tumour volume limit"),
                            ("tumour_diameter", "Tumour diameter limit"),
                            ("weight_loss", "Weight loss limit"),
                            ("clinical_score", "Clinical score limit"),
                            ("ulceration", "Ulceration"),
                            ("moribund", "Moribund"),
                            ("found_dead", "Found dead"),
                            ("treatment_toxicity", "Treatment toxicity"),
                            ("accident", "Accident"),
                            ("scheduled_sacrifice", "Scheduled sacrifice"),
                            ("missing", "Missing"),
                        ],
                        max_length=30,
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[("event", "Event"), ("censored", "Censored")], max_length=10
                    ),
                ),
                ("occurred_at", models.DateTimeField()),
                ("study_day", models.IntegerField()),
                ("last_seen_alive_at", models.DateTimeField(blank=True, null=True)),
                (
                    "actual_severity",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("non_recovery", "Non-recovery"),
                            ("mild", "Mild"),
                            ("moderate", "Moderate"),
                            ("severe", "Severe"),
                        ],
                        max_length=20,
                    ),
                ),
                ("notes", models.TextField(blank=True)),
                (
                    "excluded_readings",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Caliper readings voided for lying after the last time seen alive.",
                    ),
                ),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
                (
                    "animal",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.endpointrecord",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "voided_by",
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
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="Observation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("observed_at", models.DateTimeField()),
                ("study_day", models.IntegerField()),
                ("scores", models.JSONField(blank=True, default=dict)),
                ("total_score", models.PositiveSmallIntegerField(default=0)),
                ("notes", models.TextField(blank=True)),
                (
                    "endpoint_level",
                    models.CharField(
                        choices=[
                            ("ok", "OK"),
                            ("approaching", "Approaching a limit"),
                            ("reached", "Endpoint reached"),
                        ],
                        default="ok",
                        max_length=12,
                    ),
                ),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "client_id",
                    models.CharField(
                        blank=True,
                        help_text="The client's own id: a resend with the same id is not stored twice.",
                        max_length=100,
                    ),
                ),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
                (
                    "animal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="observations",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "observer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="observations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "protocol_version",
                    models.ForeignKey(
                        blank=True,
                        help_text="The clinical observation protocol version whose score sheet was used.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="planner.protocolversion",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "voided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["animal", "observed_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="EndpointEpisodeEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("awaiting_repeat", "Awaiting the repeat reading"),
                            ("open", "Open: endpoint reached"),
                            ("closed", "Closed by an endpoint record"),
                            ("dismissed", "Dismissed: the repeat did not confirm it"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "cause",
                    models.CharField(
                        choices=[
                            ("tumour_volume", "Tumour volume limit"),
                            ("tumour_diameter", "Tumour diameter limit"),
                            ("weight_loss", "Weight loss limit"),
                            ("clinical_score", "Clinical score limit"),
                            ("ulceration", "Ulceration"),
                            ("moribund", "Moribund"),
                            ("found_dead", "Found dead"),
                            ("treatment_toxicity", "Treatment toxicity"),
                            ("accident", "Accident"),
                            ("scheduled_sacrifice", "Scheduled sacrifice"),
                            ("missing", "Missing"),
                        ],
                        help_text="The limit reached first, as an endpoint cause of the survival definition.",
                        max_length=30,
                    ),
                ),
                (
                    "findings",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text="What reached or approached which limit.",
                    ),
                ),
                ("first_reached_at", models.DateTimeField()),
                ("opened_at", models.DateTimeField(auto_now_add=True)),
                ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                ("alerted_at", models.DateTimeField(blank=True, null=True)),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "hours_to_endpoint",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        help_text="Hours from the first reading at the limit to the euthanasia (or death).",
                        max_digits=8,
                        null=True,
                    ),
                ),
                ("over_24_hours", models.BooleanField(default=False)),
                ("status_reason", models.CharField(blank=True, max_length=300)),
                (
                    "animal",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "confirmed_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The repeat reading that confirmed a grid crossing.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.measurement",
                    ),
                ),
                (
                    "first_measurement",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
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
                        to="labnotes.endpointepisode",
                    ),
                ),
                (
                    "endpoint_record",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.endpointrecord",
                    ),
                ),
                (
                    "first_observation",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.observation",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddField(
            model_name="endpointepisode",
            name="first_observation",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="labnotes.observation",
            ),
        ),
        migrations.CreateModel(
            name="ObservationEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("observed_at", models.DateTimeField()),
                ("study_day", models.IntegerField()),
                ("scores", models.JSONField(blank=True, default=dict)),
                ("total_score", models.PositiveSmallIntegerField(default=0)),
                ("notes", models.TextField(blank=True)),
                (
                    "endpoint_level",
                    models.CharField(
                        choices=[
                            ("ok", "OK"),
                            ("approaching", "Approaching a limit"),
                            ("reached", "Endpoint reached"),
                        ],
                        default="ok",
                        max_length=12,
                    ),
                ),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "client_id",
                    models.CharField(
                        blank=True,
                        help_text="The client's own id: a resend with the same id is not stored twice.",
                        max_length=100,
                    ),
                ),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
                (
                    "animal",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "observer",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.observation",
                    ),
                ),
                (
                    "protocol_version",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The clinical observation protocol version whose score sheet was used.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="planner.protocolversion",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "voided_by",
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
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="UlcerationScore",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("score", models.PositiveSmallIntegerField()),
                (
                    "diameter_mm",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True),
                ),
                (
                    "observation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ulcerations",
                        to="labnotes.observation",
                    ),
                ),
                (
                    "tumour",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ulcerations",
                        to="labnotes.tumour",
                    ),
                ),
            ],
            options={
                "ordering": ["observation", "tumour"],
            },
        ),
        migrations.CreateModel(
            name="UlcerationScoreEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("score", models.PositiveSmallIntegerField()),
                (
                    "diameter_mm",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True),
                ),
                (
                    "observation",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.observation",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.ulcerationscore",
                    ),
                ),
                (
                    "tumour",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.tumour",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="WelfareCheck",
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
                            ("daily_check", "Daily welfare check"),
                            ("veterinary_review", "Veterinary review"),
                        ],
                        max_length=20,
                    ),
                ),
                ("due_date", models.DateField()),
                (
                    "rule",
                    models.CharField(
                        help_text="The escalation rule that asked for it.", max_length=200
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("due", "Due"), ("done", "Done"), ("cancelled", "Cancelled")],
                        default="due",
                        max_length=10,
                    ),
                ),
                ("status_reason", models.CharField(blank=True, max_length=300)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "animal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="welfare_checks",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "done_by_observation",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="checks_done",
                        to="labnotes.observation",
                    ),
                ),
                (
                    "triggered_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="checks_triggered",
                        to="labnotes.observation",
                    ),
                ),
            ],
            options={
                "ordering": ["due_date", "animal", "kind", "pk"],
            },
        ),
        migrations.CreateModel(
            name="WelfareCheckEvent",
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
                            ("daily_check", "Daily welfare check"),
                            ("veterinary_review", "Veterinary review"),
                        ],
                        max_length=20,
                    ),
                ),
                ("due_date", models.DateField()),
                (
                    "rule",
                    models.CharField(
                        help_text="The escalation rule that asked for it.", max_length=200
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("due", "Due"), ("done", "Done"), ("cancelled", "Cancelled")],
                        default="due",
                        max_length=10,
                    ),
                ),
                ("status_reason", models.CharField(blank=True, max_length=300)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "animal",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "done_by_observation",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.observation",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.welfarecheck",
                    ),
                ),
                (
                    "triggered_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.observation",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddConstraint(
            model_name="endpointrecord",
            constraint=models.UniqueConstraint(
                condition=models.Q(("voided_at__isnull", True)),
                fields=("animal",),
                name="endpoint_record_one_per_animal",
            ),
        ),
        migrations.AddConstraint(
            model_name="endpointrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("cause", "found_dead"), _negated=True),
                    ("last_seen_alive_at__isnull", False),
                    _connector="OR",
                ),
                name="endpoint_found_dead_has_last_seen_alive",
            ),
        ),
        migrations.AddConstraint(
            model_name="endpointrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("last_seen_alive_at__isnull", True),
                    ("last_seen_alive_at__lte", models.F("occurred_at")),
                    _connector="OR",
                ),
                name="endpoint_last_seen_alive_before_death",
            ),
        ),
        migrations.AddConstraint(
            model_name="endpointrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(("outcome__in", ["event", "censored"])),
                name="endpoint_outcome_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="endpointrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("voided_at__isnull", True),
                    models.Q(
                        ("voided_by__isnull", False), models.Q(("void_reason", ""), _negated=True)
                    ),
                    _connector="OR",
                ),
                name="endpoint_void_has_who_and_why",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="endpointrecord",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_endpointrecordevent" ("actual_severity", "animal_id", "cause", "excluded_readings", "id", "last_seen_alive_at", "notes", "occurred_at", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_at", "recorded_by_id", "row_version", "study_day", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."actual_severity", NEW."animal_id", NEW."cause", NEW."excluded_readings", NEW."id", NEW."last_seen_alive_at", NEW."notes", NEW."occurred_at", NEW."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."recorded_at", NEW."recorded_by_id", NEW."row_version", NEW."study_day", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="91a17dab7b44ed8499b5e59286ff5156ff9ad5ea",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_f9091",
                    table="labnotes_endpointrecord",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="endpointrecord",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_endpointrecordevent" ("actual_severity", "animal_id", "cause", "excluded_readings", "id", "last_seen_alive_at", "notes", "occurred_at", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_at", "recorded_by_id", "row_version", "study_day", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."actual_severity", NEW."animal_id", NEW."cause", NEW."excluded_readings", NEW."id", NEW."last_seen_alive_at", NEW."notes", NEW."occurred_at", NEW."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."recorded_at", NEW."recorded_by_id", NEW."row_version", NEW."study_day", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="49f17f709464b5d019b71f1aa65c236d576fd451",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_3845b",
                    table="labnotes_endpointrecord",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="endpointrecord",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_endpointrecordevent" ("actual_severity", "animal_id", "cause", "excluded_readings", "id", "last_seen_alive_at", "notes", "occurred_at", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_at", "recorded_by_id", "row_version", "study_day", "void_reason", "voided_at", "voided_by_id") VALUES (OLD."actual_severity", OLD."animal_id", OLD."cause", OLD."excluded_readings", OLD."id", OLD."last_seen_alive_at", OLD."notes", OLD."occurred_at", OLD."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."recorded_at", OLD."recorded_by_id", OLD."row_version", OLD."study_day", OLD."void_reason", OLD."voided_at", OLD."voided_by_id"); RETURN NULL;',
                    hash="e63bd3621d9f1b5c7e6d72ee05c1ea727855b0cf",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_e67b6",
                    table="labnotes_endpointrecord",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="endpointrecordevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="d2b34ecfb9ada22247f9d4fc417b6383356782c8",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_99b12",
                    table="labnotes_endpointrecordevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="observation",
            index=models.Index(fields=["animal", "observed_at"], name="observation_animal_time"),
        ),
        migrations.AddConstraint(
            model_name="observation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("voided_at__isnull", True),
                    models.Q(
                        ("voided_by__isnull", False), models.Q(("void_reason", ""), _negated=True)
                    ),
                    _connector="OR",
                ),
                name="observation_void_has_who_and_why",
            ),
        ),
        migrations.AddConstraint(
            model_name="observation",
            constraint=models.CheckConstraint(
                condition=models.Q(("endpoint_level__in", ["ok", "approaching", "reached"])),
                name="observation_endpoint_level_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="observation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("client_id", ""), _negated=True),
                fields=("animal", "client_id"),
                name="observation_client_id_unique",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="observation",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_observationevent" ("animal_id", "client_id", "endpoint_level", "id", "notes", "observed_at", "observer_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "recorded_at", "recorded_by_id", "row_version", "scores", "study_day", "total_score", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."animal_id", NEW."client_id", NEW."endpoint_level", NEW."id", NEW."notes", NEW."observed_at", NEW."observer_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."protocol_version_id", NEW."recorded_at", NEW."recorded_by_id", NEW."row_version", NEW."scores", NEW."study_day", NEW."total_score", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="280b9701e9662b171bc3ed060481acdfab1cb008",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_8486c",
                    table="labnotes_observation",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="observation",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_observationevent" ("animal_id", "client_id", "endpoint_level", "id", "notes", "observed_at", "observer_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "recorded_at", "recorded_by_id", "row_version", "scores", "study_day", "total_score", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."animal_id", NEW."client_id", NEW."endpoint_level", NEW."id", NEW."notes", NEW."observed_at", NEW."observer_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."protocol_version_id", NEW."recorded_at", NEW."recorded_by_id", NEW."row_version", NEW."scores", NEW."study_day", NEW."total_score", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="37c2f0d3cf20fd97b889562045f0733acef2aa50",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_3ab42",
                    table="labnotes_observation",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="observation",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_observationevent" ("animal_id", "client_id", "endpoint_level", "id", "notes", "observed_at", "observer_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "recorded_at", "recorded_by_id", "row_version", "scores", "study_day", "total_score", "void_reason", "voided_at", "voided_by_id") VALUES (OLD."animal_id", OLD."client_id", OLD."endpoint_level", OLD."id", OLD."notes", OLD."observed_at", OLD."observer_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."protocol_version_id", OLD."recorded_at", OLD."recorded_by_id", OLD."row_version", OLD."scores", OLD."study_day", OLD."total_score", OLD."void_reason", OLD."voided_at", OLD."voided_by_id"); RETURN NULL;',
                    hash="2918b4c2c055f99274193df466003f32c92bda4a",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_d71b2",
                    table="labnotes_observation",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="endpointepisodeevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="f94bb356290a19f1ef0cf4de166dbac26a3af283",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_3df35",
                    table="labnotes_endpointepisodeevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="endpointepisode",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["awaiting_repeat", "open"])),
                fields=("animal",),
                name="endpoint_episode_one_open_per_animal",
            ),
        ),
        migrations.AddConstraint(
            model_name="endpointepisode",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["awaiting_repeat", "open", "closed", "dismissed"])
                ),
                name="endpoint_episode_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="endpointepisode",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "closed"), _negated=True),
                    models.Q(("closed_at__isnull", False), ("endpoint_record__isnull", False)),
                    _connector="OR",
                ),
                name="endpoint_episode_closed_by_record",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="endpointepisode",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_endpointepisodeevent" ("alerted_at", "animal_id", "cause", "closed_at", "confirmed_at", "confirmed_by_id", "endpoint_record_id", "findings", "first_measurement_id", "first_observation_id", "first_reached_at", "hours_to_endpoint", "id", "opened_at", "over_24_hours", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "row_version", "status", "status_reason") VALUES (NEW."alerted_at", NEW."animal_id", NEW."cause", NEW."closed_at", NEW."confirmed_at", NEW."confirmed_by_id", NEW."endpoint_record_id", NEW."findings", NEW."first_measurement_id", NEW."first_observation_id", NEW."first_reached_at", NEW."hours_to_endpoint", NEW."id", NEW."opened_at", NEW."over_24_hours", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."row_version", NEW."status", NEW."status_reason"); RETURN NULL;',
                    hash="1bdff0f191efe77f4d4d3c0879042ea549a7bf1a",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_48b86",
                    table="labnotes_endpointepisode",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="endpointepisode",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_endpointepisodeevent" ("alerted_at", "animal_id", "cause", "closed_at", "confirmed_at", "confirmed_by_id", "endpoint_record_id", "findings", "first_measurement_id", "first_observation_id", "first_reached_at", "hours_to_endpoint", "id", "opened_at", "over_24_hours", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "row_version", "status", "status_reason") VALUES (NEW."alerted_at", NEW."animal_id", NEW."cause", NEW."closed_at", NEW."confirmed_at", NEW."confirmed_by_id", NEW."endpoint_record_id", NEW."findings", NEW."first_measurement_id", NEW."first_observation_id", NEW."first_reached_at", NEW."hours_to_endpoint", NEW."id", NEW."opened_at", NEW."over_24_hours", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."row_version", NEW."status", NEW."status_reason"); RETURN NULL;',
                    hash="b538d93f23b875e79247d2ef14c8d56bb5479472",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_c4d34",
                    table="labnotes_endpointepisode",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="endpointepisode",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_endpointepisodeevent" ("alerted_at", "animal_id", "cause", "closed_at", "confirmed_at", "confirmed_by_id", "endpoint_record_id", "findings", "first_measurement_id", "first_observation_id", "first_reached_at", "hours_to_endpoint", "id", "opened_at", "over_24_hours", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "row_version", "status", "status_reason") VALUES (OLD."alerted_at", OLD."animal_id", OLD."cause", OLD."closed_at", OLD."confirmed_at", OLD."confirmed_by_id", OLD."endpoint_record_id", OLD."findings", OLD."first_measurement_id", OLD."first_observation_id", OLD."first_reached_at", OLD."hours_to_endpoint", OLD."id", OLD."opened_at", OLD."over_24_hours", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."row_version", OLD."status", OLD."status_reason"); RETURN NULL;',
                    hash="84b9b15add1828d51c571fcf862ca09a1e0c371a",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_0a5b8",
                    table="labnotes_endpointepisode",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="observationevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="5944deebac2e8c2182b51442e5fd68d988b87362",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_61004",
                    table="labnotes_observationevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="ulcerationscore",
            constraint=models.UniqueConstraint(
                fields=("observation", "tumour"), name="ulceration_once_per_tumour"
            ),
        ),
        migrations.AddConstraint(
            model_name="ulcerationscore",
            constraint=models.CheckConstraint(
                condition=models.Q(("score__gte", 0), ("score__lte", 3)),
                name="ulceration_score_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="ulcerationscore",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("diameter_mm__isnull", True), ("diameter_mm__gte", 0), _connector="OR"
                ),
                name="ulceration_diameter_not_negative",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ulcerationscore",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_ulcerationscoreevent" ("diameter_mm", "id", "observation_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "score", "tumour_id") VALUES (NEW."diameter_mm", NEW."id", NEW."observation_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."score", NEW."tumour_id"); RETURN NULL;',
                    hash="c50f3be620904662325d4c853fca721ffe39c7d7",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_ec336",
                    table="labnotes_ulcerationscore",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ulcerationscore",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_ulcerationscoreevent" ("diameter_mm", "id", "observation_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "score", "tumour_id") VALUES (NEW."diameter_mm", NEW."id", NEW."observation_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."score", NEW."tumour_id"); RETURN NULL;',
                    hash="a62359f4bdb81919196076b5756fa0e10ae9cb73",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_1dc87",
                    table="labnotes_ulcerationscore",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ulcerationscore",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_ulcerationscoreevent" ("diameter_mm", "id", "observation_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "score", "tumour_id") VALUES (OLD."diameter_mm", OLD."id", OLD."observation_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."score", OLD."tumour_id"); RETURN NULL;',
                    hash="c5c2217d8ead5a3419f6b0786318ea56233f7935",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_6ac7f",
                    table="labnotes_ulcerationscore",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ulcerationscoreevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="c9d14eacfe47514b2a66cde6c2c653ac8e8169c9",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_05387",
                    table="labnotes_ulcerationscoreevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="welfarecheck",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "cancelled"), _negated=True),
                fields=("animal", "kind", "due_date"),
                name="welfare_check_once_per_day",
            ),
        ),
        migrations.AddConstraint(
            model_name="welfarecheck",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["due", "done", "cancelled"])),
                name="welfare_check_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="welfarecheck",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "done"), _negated=True),
                    ("done_by_observation__isnull", False),
                    _connector="OR",
                ),
                name="welfare_check_done_by_observation",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="welfarecheck",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_welfarecheckevent" ("animal_id", "created_at", "done_by_observation_id", "due_date", "id", "kind", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "row_version", "rule", "status", "status_reason", "triggered_by_id") VALUES (NEW."animal_id", NEW."created_at", NEW."done_by_observation_id", NEW."due_date", NEW."id", NEW."kind", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."row_version", NEW."rule", NEW."status", NEW."status_reason", NEW."triggered_by_id"); RETURN NULL;',
                    hash="64b4faae5e672fef7c9dc2f7e9288b66e5153906",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_06ba2",
                    table="labnotes_welfarecheck",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="welfarecheck",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_welfarecheckevent" ("animal_id", "created_at", "done_by_observation_id", "due_date", "id", "kind", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "row_version", "rule", "status", "status_reason", "triggered_by_id") VALUES (NEW."animal_id", NEW."created_at", NEW."done_by_observation_id", NEW."due_date", NEW."id", NEW."kind", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."row_version", NEW."rule", NEW."status", NEW."status_reason", NEW."triggered_by_id"); RETURN NULL;',
                    hash="58d092df81ce231492cb16059ed91f4e3845f973",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_51d5e",
                    table="labnotes_welfarecheck",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="welfarecheck",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_welfarecheckevent" ("animal_id", "created_at", "done_by_observation_id", "due_date", "id", "kind", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "row_version", "rule", "status", "status_reason", "triggered_by_id") VALUES (OLD."animal_id", OLD."created_at", OLD."done_by_observation_id", OLD."due_date", OLD."id", OLD."kind", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."row_version", OLD."rule", OLD."status", OLD."status_reason", OLD."triggered_by_id"); RETURN NULL;',
                    hash="51f28021e2eab83e772a77cd3e79dce52afa3dcb",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_71a65",
                    table="labnotes_welfarecheck",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="welfarecheckevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="489b5cd9a3a8e3c1ac172272c21fbdccd6679c34",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_414f9",
                    table="labnotes_welfarecheckevent",
                    when="BEFORE",
                ),
            ),
        ),
    ]
