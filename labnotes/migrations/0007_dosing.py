"""Dosing (issue #6, part 4): formulation batches, dose records with deviations, permitted
dose modifications."""

import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0006_transcription_import"),
        ("planner", "0003_add_audit_chain_security_log_ethics_reference"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DoseDeviation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("missed", "Missed"),
                            ("late", "Late (after the permitted window)"),
                            ("early", "Early (before the permitted window)"),
                            ("amount_off", "More than 10 % off the computed amount"),
                            ("wrong_route", "Wrong route"),
                        ],
                        max_length=12,
                    ),
                ),
                ("detail", models.CharField(max_length=300)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["dose", "kind"],
            },
        ),
        migrations.CreateModel(
            name="DoseDeviationEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("missed", "Missed"),
                            ("late", "Late (after the permitted window)"),
                            ("early", "Early (before the permitted window)"),
                            ("amount_off", "More than 10 % off the computed amount"),
                            ("wrong_route", "Wrong route"),
                        ],
                        max_length=12,
                    ),
                ),
                ("detail", models.CharField(max_length=300)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="DoseModification",
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
                            ("hold", "Hold"),
                            ("resume", "Resume"),
                            ("reduce", "Reduce"),
                            ("skip", "Skip one dose"),
                        ],
                        max_length=8,
                    ),
                ),
                ("effective_from", models.DateField()),
                (
                    "occurrence",
                    models.PositiveSmallIntegerField(
                        blank=True, help_text="The occurrence a skip leaves out.", null=True
                    ),
                ),
                (
                    "reduced_to_percent",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True),
                ),
                (
                    "trigger_weight_g",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True),
                ),
                (
                    "baseline_weight_g",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True),
                ),
                (
                    "weight_loss_percent",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True),
                ),
                (
                    "rule",
                    models.CharField(
                        help_text="The protocol rule that permits it.", max_length=300
                    ),
                ),
                ("reason", models.TextField()),
                ("tasks_changed", models.PositiveIntegerField(default=0)),
                ("decided_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["animal", "effective_from", "pk"],
            },
        ),
        migrations.CreateModel(
            name="DoseModificationEvent",
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
                            ("hold", "Hold"),
                            ("resume", "Resume"),
                            ("reduce", "Reduce"),
                            ("skip", "Skip one dose"),
                        ],
                        max_length=8,
                    ),
                ),
                ("effective_from", models.DateField()),
                (
                    "occurrence",
                    models.PositiveSmallIntegerField(
                        blank=True, help_text="The occurrence a skip leaves out.", null=True
                    ),
                ),
                (
                    "reduced_to_percent",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True),
                ),
                (
                    "trigger_weight_g",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True),
                ),
                (
                    "baseline_weight_g",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True),
                ),
                (
                    "weight_loss_percent",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True),
                ),
                (
                    "rule",
                    models.CharField(
                        help_text="The protocol rule that permits it.", max_length=300
                    ),
                ),
                ("reason", models.TextField()),
                ("tasks_changed", models.PositiveIntegerField(default=0)),
                ("decided_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="DoseRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("occurrence", models.PositiveSmallIntegerField()),
                ("scheduled_for", models.DateField(help_text="The task's date.")),
                (
                    "outcome",
                    models.CharField(
                        choices=[("given", "Given"), ("missed", "Missed")], max_length=8
                    ),
                ),
                ("route", models.CharField(blank=True, max_length=4)),
                ("dose_basis", models.CharField(max_length=30)),
                (
                    "dose",
                    models.DecimalField(
                        decimal_places=4,
                        help_text="The dose asked for (mg/kg, or µg for fixed bases), after any reduction.",
                        max_digits=12,
                    ),
                ),
                (
                    "reduced_to_percent",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True),
                ),
                (
                    "weight_g",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        help_text="The weight the amount was computed from (own or arm mean).",
                        max_digits=6,
                        null=True,
                    ),
                ),
                ("weight_taken_at", models.DateTimeField(blank=True, null=True)),
                ("tumour_count", models.PositiveSmallIntegerField(blank=True, null=True)),
                (
                    "planned_amount_mg",
                    models.DecimalField(blank=True, decimal_places=6, max_digits=14, null=True),
                ),
                (
                    "planned_volume_ul",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=10, null=True),
                ),
                (
                    "amount_mg",
                    models.DecimalField(blank=True, decimal_places=6, max_digits=14, null=True),
                ),
                (
                    "volume_ul",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=10, null=True),
                ),
                ("given_at", models.DateTimeField(blank=True, null=True)),
                ("notes", models.TextField(blank=True)),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
            ],
            options={
                "ordering": ["animal", "scheduled_for", "regimen_item", "pk"],
            },
        ),
        migrations.CreateModel(
            name="DoseRecordEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("occurrence", models.PositiveSmallIntegerField()),
                ("scheduled_for", models.DateField(help_text="The task's date.")),
                (
                    "outcome",
                    models.CharField(
                        choices=[("given", "Given"), ("missed", "Missed")], max_length=8
                    ),
                ),
                ("route", models.CharField(blank=True, max_length=4)),
                ("dose_basis", models.CharField(max_length=30)),
                (
                    "dose",
                    models.DecimalField(
                        decimal_places=4,
                        help_text="The dose asked for (mg/kg, or µg for fixed bases), after any reduction.",
                        max_digits=12,
                    ),
                ),
                (
                    "reduced_to_percent",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True),
                ),
                (
                    "weight_g",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        help_text="The weight the amount was computed from (own or arm mean).",
                        max_digits=6,
                        null=True,
                    ),
                ),
                ("weight_taken_at", models.DateTimeField(blank=True, null=True)),
                ("tumour_count", models.PositiveSmallIntegerField(blank=True, null=True)),
                (
                    "planned_amount_mg",
                    models.DecimalField(blank=True, decimal_places=6, max_digits=14, null=True),
                ),
                (
                    "planned_volume_ul",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=10, null=True),
                ),
                (
                    "amount_mg",
                    models.DecimalField(blank=True, decimal_places=6, max_digits=14, null=True),
                ),
                (
                    "volume_ul",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=10, null=True),
                ),
                ("given_at", models.DateTimeField(blank=True, null=True)),
                ("notes", models.TextField(blank=True)),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="FormulationBatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("agent", models.CharField(max_length=200)),
                ("lot", models.CharField(max_length=60)),
                ("concentration_mg_per_ml", models.DecimalField(decimal_places=4, max_digits=12)),
                ("vehicle", models.CharField(max_length=200)),
                (
                    "coded_label",
                    models.CharField(
                        blank=True,
                        help_text="Code on the vial for double-blind dosing.",
                        max_length=40,
                    ),
                ),
                ("prepared_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField()),
                ("notes", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
            ],
            options={
                "ordering": ["study", "agent", "expires_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="FormulationBatchEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("agent", models.CharField(max_length=200)),
                ("lot", models.CharField(max_length=60)),
                ("concentration_mg_per_ml", models.DecimalField(decimal_places=4, max_digits=12)),
                ("vehicle", models.CharField(max_length=200)),
                (
                    "coded_label",
                    models.CharField(
                        blank=True,
                        help_text="Code on the vial for double-blind dosing.",
                        max_length=40,
                    ),
                ),
                ("prepared_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField()),
                ("notes", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddField(
            model_name="dosedeviationevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="labnotes.dosedeviation",
            ),
        ),
        migrations.AddField(
            model_name="dosemodification",
            name="animal",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="dose_modifications",
                to="labnotes.animal",
            ),
        ),
        migrations.AddField(
            model_name="dosemodification",
            name="decided_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="dose_modifications",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="dosemodification",
            name="regimen_item",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="dose_modifications",
                to="planner.regimenitem",
            ),
        ),
        migrations.AddField(
            model_name="dosemodification",
            name="run",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="dose_modifications",
                to="labnotes.studyrun",
            ),
        ),
        migrations.AddField(
            model_name="dosemodification",
            name="trigger_measurement",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="dose_modifications",
                to="labnotes.measurement",
            ),
        ),
        migrations.AddField(
            model_name="dosemodificationevent",
            name="animal",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.animal",
            ),
        ),
        migrations.AddField(
            model_name="dosemodificationevent",
            name="decided_by",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="dosemodificationevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="labnotes.dosemodification",
            ),
        ),
        migrations.AddField(
            model_name="dosemodificationevent",
            name="regimen_item",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="planner.regimenitem",
            ),
        ),
        migrations.AddField(
            model_name="dosemodificationevent",
            name="run",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.studyrun",
            ),
        ),
        migrations.AddField(
            model_name="dosemodificationevent",
            name="trigger_measurement",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.measurement",
            ),
        ),
        migrations.AddField(
            model_name="doserecord",
            name="animal",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="doses",
                to="labnotes.animal",
            ),
        ),
        migrations.AddField(
            model_name="doserecord",
            name="modification",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="doses",
                to="labnotes.dosemodification",
            ),
        ),
        migrations.AddField(
            model_name="doserecord",
            name="operator",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="doses_given",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="doserecord",
            name="recorded_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="doserecord",
            name="regimen_item",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="doses",
                to="planner.regimenitem",
            ),
        ),
        migrations.AddField(
            model_name="doserecord",
            name="run",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="doses",
                to="labnotes.studyrun",
            ),
        ),
        migrations.AddField(
            model_name="doserecord",
            name="task",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="doses",
                to="labnotes.task",
            ),
        ),
        migrations.AddField(
            model_name="doserecord",
            name="voided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="dosedeviationevent",
            name="dose",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.doserecord",
            ),
        ),
        migrations.AddField(
            model_name="dosedeviation",
            name="dose",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deviations",
                to="labnotes.doserecord",
            ),
        ),
        migrations.AddField(
            model_name="doserecordevent",
            name="animal",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.animal",
            ),
        ),
        migrations.AddField(
            model_name="doserecordevent",
            name="modification",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.dosemodification",
            ),
        ),
        migrations.AddField(
            model_name="doserecordevent",
            name="operator",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="doserecordevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="labnotes.doserecord",
            ),
        ),
        migrations.AddField(
            model_name="doserecordevent",
            name="recorded_by",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="doserecordevent",
            name="regimen_item",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="planner.regimenitem",
            ),
        ),
        migrations.AddField(
            model_name="doserecordevent",
            name="run",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.studyrun",
            ),
        ),
        migrations.AddField(
            model_name="doserecordevent",
            name="task",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.task",
            ),
        ),
        migrations.AddField(
            model_name="doserecordevent",
            name="voided_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="formulationbatch",
            name="prepared_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="prepared_batches",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="formulationbatch",
            name="recorded_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="formulationbatch",
            name="regimen_item",
            field=models.ForeignKey(
                blank=True,
                help_text="Only for this regimen item (empty: every item giving the agent).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="formulation_batches",
                to="planner.regimenitem",
            ),
        ),
        migrations.AddField(
            model_name="formulationbatch",
            name="study",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="formulation_batches",
                to="planner.study",
            ),
        ),
        migrations.AddField(
            model_name="formulationbatch",
            name="voided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="doserecordevent",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.formulationbatch",
            ),
        ),
        migrations.AddField(
            model_name="doserecord",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="doses",
                to="labnotes.formulationbatch",
            ),
        ),
        migrations.AddField(
            model_name="formulationbatchevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="labnotes.formulationbatch",
            ),
        ),
        migrations.AddField(
            model_name="formulationbatchevent",
            name="prepared_by",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="formulationbatchevent",
            name="recorded_by",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="formulationbatchevent",
            name="regimen_item",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Only for this regimen item (empty: every item giving the agent).",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="planner.regimenitem",
            ),
        ),
        migrations.AddField(
            model_name="formulationbatchevent",
            name="study",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="planner.study",
            ),
        ),
        migrations.AddField(
            model_name="formulationbatchevent",
            name="voided_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="dosemodification",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["hold", "resume", "reduce", "skip"])),
                name="dose_modification_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="dosemodification",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "skip"), _negated=True),
                    ("occurrence__isnull", False),
                    _connector="OR",
                ),
                name="dose_modification_skip_names_occurrence",
            ),
        ),
        migrations.AddConstraint(
            model_name="dosemodification",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "reduce"), _negated=True),
                    models.Q(("reduced_to_percent__gt", 0), ("reduced_to_percent__lt", 100)),
                    _connector="OR",
                ),
                name="dose_modification_reduce_has_percent",
            ),
        ),
        migrations.AddConstraint(
            model_name="dosemodification",
            constraint=models.CheckConstraint(
                condition=models.Q(("reason", ""), _negated=True),
                name="dose_modification_reason_required",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="dosemodification",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_dosemodificationevent" ("animal_id", "baseline_weight_g", "decided_at", "decided_by_id", "effective_from", "id", "kind", "occurrence", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "reduced_to_percent", "regimen_item_id", "row_version", "rule", "run_id", "tasks_changed", "trigger_measurement_id", "trigger_weight_g", "weight_loss_percent") VALUES (NEW."animal_id", NEW."baseline_weight_g", NEW."decided_at", NEW."decided_by_id", NEW."effective_from", NEW."id", NEW."kind", NEW."occurrence", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reason", NEW."reduced_to_percent", NEW."regimen_item_id", NEW."row_version", NEW."rule", NEW."run_id", NEW."tasks_changed", NEW."trigger_measurement_id", NEW."trigger_weight_g", NEW."weight_loss_percent"); RETURN NULL;',
                    hash="d1153dc50f0efd5f361a93aed5b480694d3caea8",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_e773e",
                    table="labnotes_dosemodification",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="dosemodification",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_dosemodificationevent" ("animal_id", "baseline_weight_g", "decided_at", "decided_by_id", "effective_from", "id", "kind", "occurrence", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "reduced_to_percent", "regimen_item_id", "row_version", "rule", "run_id", "tasks_changed", "trigger_measurement_id", "trigger_weight_g", "weight_loss_percent") VALUES (NEW."animal_id", NEW."baseline_weight_g", NEW."decided_at", NEW."decided_by_id", NEW."effective_from", NEW."id", NEW."kind", NEW."occurrence", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reason", NEW."reduced_to_percent", NEW."regimen_item_id", NEW."row_version", NEW."rule", NEW."run_id", NEW."tasks_changed", NEW."trigger_measurement_id", NEW."trigger_weight_g", NEW."weight_loss_percent"); RETURN NULL;',
                    hash="a4bb82c3145165e91b20c4de408a801922f327bf",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_e602e",
                    table="labnotes_dosemodification",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="dosemodification",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_dosemodificationevent" ("animal_id", "baseline_weight_g", "decided_at", "decided_by_id", "effective_from", "id", "kind", "occurrence", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "reduced_to_percent", "regimen_item_id", "row_version", "rule", "run_id", "tasks_changed", "trigger_measurement_id", "trigger_weight_g", "weight_loss_percent") VALUES (OLD."animal_id", OLD."baseline_weight_g", OLD."decided_at", OLD."decided_by_id", OLD."effective_from", OLD."id", OLD."kind", OLD."occurrence", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reason", OLD."reduced_to_percent", OLD."regimen_item_id", OLD."row_version", OLD."rule", OLD."run_id", OLD."tasks_changed", OLD."trigger_measurement_id", OLD."trigger_weight_g", OLD."weight_loss_percent"); RETURN NULL;',
                    hash="9d069a684c47510f52874134d909bfe471be01a7",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_5df95",
                    table="labnotes_dosemodification",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="dosemodificationevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="a9dedb0e356da9f9d8f9c10431503cb180cf53e8",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_18515",
                    table="labnotes_dosemodificationevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="dosedeviationevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="a36af1e6f0e93e5bf8b90f10a76e9fcaede1f512",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_3f298",
                    table="labnotes_dosedeviationevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="dosedeviation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("kind__in", ["missed", "late", "early", "amount_off", "wrong_route"])
                ),
                name="dose_deviation_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="dosedeviation",
            constraint=models.UniqueConstraint(
                fields=("dose", "kind"), name="dose_deviation_once_per_kind"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="dosedeviation",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_dosedeviationevent" ("created_at", "detail", "dose_id", "id", "kind", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."created_at", NEW."detail", NEW."dose_id", NEW."id", NEW."kind", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id"); RETURN NULL;',
                    hash="e6d9d8c51a84a1750f68a0f763c6672643ae85c4",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_6db78",
                    table="labnotes_dosedeviation",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="dosedeviation",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_dosedeviationevent" ("created_at", "detail", "dose_id", "id", "kind", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."created_at", NEW."detail", NEW."dose_id", NEW."id", NEW."kind", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id"); RETURN NULL;',
                    hash="4570a728fc2b6ff47ea9e7c7301b1a6e4b1778c8",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_de8f5",
                    table="labnotes_dosedeviation",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="dosedeviation",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_dosedeviationevent" ("created_at", "detail", "dose_id", "id", "kind", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (OLD."created_at", OLD."detail", OLD."dose_id", OLD."id", OLD."kind", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id"); RETURN NULL;',
                    hash="c2d1971cd287f34ff871902b05f4bbc21c907fc9",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_52510",
                    table="labnotes_dosedeviation",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="formulationbatch",
            constraint=models.UniqueConstraint(
                fields=("study", "lot"), name="formulation_lot_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="formulationbatch",
            constraint=models.UniqueConstraint(
                condition=models.Q(("coded_label", ""), _negated=True),
                fields=("study", "coded_label"),
                name="formulation_code_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="formulationbatch",
            constraint=models.CheckConstraint(
                condition=models.Q(("concentration_mg_per_ml__gte", 0)),
                name="formulation_concentration_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="formulationbatch",
            constraint=models.CheckConstraint(
                condition=models.Q(("expires_at__gt", models.F("prepared_at"))),
                name="formulation_expires_after_preparation",
            ),
        ),
        migrations.AddConstraint(
            model_name="formulationbatch",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("voided_at__isnull", True),
                    models.Q(
                        ("voided_by__isnull", False), models.Q(("void_reason", ""), _negated=True)
                    ),
                    _connector="OR",
                ),
                name="formulation_void_has_who_and_why",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="formulationbatch",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_formulationbatchevent" ("agent", "coded_label", "concentration_mg_per_ml", "created_at", "expires_at", "id", "lot", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "prepared_at", "prepared_by_id", "recorded_by_id", "regimen_item_id", "row_version", "study_id", "vehicle", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."agent", NEW."coded_label", NEW."concentration_mg_per_ml", NEW."created_at", NEW."expires_at", NEW."id", NEW."lot", NEW."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."prepared_at", NEW."prepared_by_id", NEW."recorded_by_id", NEW."regimen_item_id", NEW."row_version", NEW."study_id", NEW."vehicle", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="7502bea427154b0b269ebcefbe02549b242d44b0",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_e60d2",
                    table="labnotes_formulationbatch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="formulationbatch",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_formulationbatchevent" ("agent", "coded_label", "concentration_mg_per_ml", "created_at", "expires_at", "id", "lot", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "prepared_at", "prepared_by_id", "recorded_by_id", "regimen_item_id", "row_version", "study_id", "vehicle", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."agent", NEW."coded_label", NEW."concentration_mg_per_ml", NEW."created_at", NEW."expires_at", NEW."id", NEW."lot", NEW."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."prepared_at", NEW."prepared_by_id", NEW."recorded_by_id", NEW."regimen_item_id", NEW."row_version", NEW."study_id", NEW."vehicle", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="97679b30ba0b7e92331d47afcf650b8c5f958c1f",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_3813d",
                    table="labnotes_formulationbatch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="formulationbatch",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_formulationbatchevent" ("agent", "coded_label", "concentration_mg_per_ml", "created_at", "expires_at", "id", "lot", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "prepared_at", "prepared_by_id", "recorded_by_id", "regimen_item_id", "row_version", "study_id", "vehicle", "void_reason", "voided_at", "voided_by_id") VALUES (OLD."agent", OLD."coded_label", OLD."concentration_mg_per_ml", OLD."created_at", OLD."expires_at", OLD."id", OLD."lot", OLD."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."prepared_at", OLD."prepared_by_id", OLD."recorded_by_id", OLD."regimen_item_id", OLD."row_version", OLD."study_id", OLD."vehicle", OLD."void_reason", OLD."voided_at", OLD."voided_by_id"); RETURN NULL;',
                    hash="34b8ebc67a3f52d03e8e94062e4edf585047013a",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_82103",
                    table="labnotes_formulationbatch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="doserecordevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="26f0dc399a3a4a91915d051a5e1196497f99a38b",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_378a3",
                    table="labnotes_doserecordevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="doserecord",
            index=models.Index(fields=["run", "scheduled_for"], name="dose_run_day"),
        ),
        migrations.AddConstraint(
            model_name="doserecord",
            constraint=models.CheckConstraint(
                condition=models.Q(("outcome__in", ["given", "missed"])), name="dose_outcome_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="doserecord",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("outcome", "missed"),
                    models.Q(
                        ("batch__isnull", False),
                        ("given_at__isnull", False),
                        ("operator__isnull", False),
                        ("volume_ul__isnull", False),
                        models.Q(("route", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="dose_given_is_complete",
            ),
        ),
        migrations.AddConstraint(
            model_name="doserecord",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("volume_ul__isnull", True), ("volume_ul__gte", 0), _connector="OR"
                ),
                name="dose_volume_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="doserecord",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("voided_at__isnull", True),
                    models.Q(
                        ("voided_by__isnull", False), models.Q(("void_reason", ""), _negated=True)
                    ),
                    _connector="OR",
                ),
                name="dose_void_has_who_and_why",
            ),
        ),
        migrations.AddConstraint(
            model_name="doserecord",
            constraint=models.UniqueConstraint(
                condition=models.Q(("task__isnull", False), ("voided_at__isnull", True)),
                fields=("task",),
                name="dose_one_per_task",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="doserecord",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_doserecordevent" ("amount_mg", "animal_id", "batch_id", "dose", "dose_basis", "given_at", "id", "modification_id", "notes", "occurrence", "operator_id", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_amount_mg", "planned_volume_ul", "recorded_at", "recorded_by_id", "reduced_to_percent", "regimen_item_id", "route", "row_version", "run_id", "scheduled_for", "task_id", "tumour_count", "void_reason", "voided_at", "voided_by_id", "volume_ul", "weight_g", "weight_taken_at") VALUES (NEW."amount_mg", NEW."animal_id", NEW."batch_id", NEW."dose", NEW."dose_basis", NEW."given_at", NEW."id", NEW."modification_id", NEW."notes", NEW."occurrence", NEW."operator_id", NEW."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."planned_amount_mg", NEW."planned_volume_ul", NEW."recorded_at", NEW."recorded_by_id", NEW."reduced_to_percent", NEW."regimen_item_id", NEW."route", NEW."row_version", NEW."run_id", NEW."scheduled_for", NEW."task_id", NEW."tumour_count", NEW."void_reason", NEW."voided_at", NEW."voided_by_id", NEW."volume_ul", NEW."weight_g", NEW."weight_taken_at"); RETURN NULL;',
                    hash="46e83441fb102d902dd17da063af5fa35336bf71",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_75dda",
                    table="labnotes_doserecord",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="doserecord",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_doserecordevent" ("amount_mg", "animal_id", "batch_id", "dose", "dose_basis", "given_at", "id", "modification_id", "notes", "occurrence", "operator_id", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_amount_mg", "planned_volume_ul", "recorded_at", "recorded_by_id", "reduced_to_percent", "regimen_item_id", "route", "row_version", "run_id", "scheduled_for", "task_id", "tumour_count", "void_reason", "voided_at", "voided_by_id", "volume_ul", "weight_g", "weight_taken_at") VALUES (NEW."amount_mg", NEW."animal_id", NEW."batch_id", NEW."dose", NEW."dose_basis", NEW."given_at", NEW."id", NEW."modification_id", NEW."notes", NEW."occurrence", NEW."operator_id", NEW."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."planned_amount_mg", NEW."planned_volume_ul", NEW."recorded_at", NEW."recorded_by_id", NEW."reduced_to_percent", NEW."regimen_item_id", NEW."route", NEW."row_version", NEW."run_id", NEW."scheduled_for", NEW."task_id", NEW."tumour_count", NEW."void_reason", NEW."voided_at", NEW."voided_by_id", NEW."volume_ul", NEW."weight_g", NEW."weight_taken_at"); RETURN NULL;',
                    hash="84a2dde304816cd10d8d8144a9996204fc6e10d5",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_c9642",
                    table="labnotes_doserecord",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="doserecord",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_doserecordevent" ("amount_mg", "animal_id", "batch_id", "dose", "dose_basis", "given_at", "id", "modification_id", "notes", "occurrence", "operator_id", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_amount_mg", "planned_volume_ul", "recorded_at", "recorded_by_id", "reduced_to_percent", "regimen_item_id", "route", "row_version", "run_id", "scheduled_for", "task_id", "tumour_count", "void_reason", "voided_at", "voided_by_id", "volume_ul", "weight_g", "weight_taken_at") VALUES (OLD."amount_mg", OLD."animal_id", OLD."batch_id", OLD."dose", OLD."dose_basis", OLD."given_at", OLD."id", OLD."modification_id", OLD."notes", OLD."occurrence", OLD."operator_id", OLD."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."planned_amount_mg", OLD."planned_volume_ul", OLD."recorded_at", OLD."recorded_by_id", OLD."reduced_to_percent", OLD."regimen_item_id", OLD."route", OLD."row_version", OLD."run_id", OLD."scheduled_for", OLD."task_id", OLD."tumour_count", OLD."void_reason", OLD."voided_at", OLD."voided_by_id", OLD."volume_ul", OLD."weight_g", OLD."weight_taken_at"); RETURN NULL;',
                    hash="478c1cbaf6534da8683daa44e7c303c2ba7b711e",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_bff35",
                    table="labnotes_doserecord",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="formulationbatchevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="76fa4c4c3a5bf5b819cbf3fd6673f1875db10ecd",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_70293",
                    table="labnotes_formulationbatchevent",
                    when="BEFORE",
                ),
            ),
        ),
    ]
