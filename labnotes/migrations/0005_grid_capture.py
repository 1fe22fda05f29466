"""The measurement grid (issue #6, part 1): reading codes (NP, NM, ND), repeats, corrections,
the late flag and axis swap on measurements; the pending first axis of a caliper reading; a
lab's capture settings (scanned tags, grid order, repeat policy, plausible ranges)."""

import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0004_runs_followups"),
        ("planner", "0003_add_audit_chain_security_log_ethics_reference"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CaptureSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "tag_prefix",
                    models.CharField(
                        blank=True,
                        help_text="What the scanner sends before a tag, e.g. '#'.",
                        max_length=10,
                    ),
                ),
                ("tag_suffix", models.CharField(blank=True, max_length=10)),
                (
                    "tag_pattern",
                    models.CharField(
                        blank=True,
                        help_text="A regular expression the whole tag must match (group 1 is the tag); the syntax common to Python and JavaScript.",
                        max_length=200,
                    ),
                ),
                (
                    "grid_order",
                    models.CharField(
                        choices=[
                            ("row", "Row by row (L, W, then the weight, then the next animal)"),
                            (
                                "column",
                                "Column by column (all lengths, then all widths, then all weights)",
                            ),
                        ],
                        default="row",
                        max_length=6,
                    ),
                ),
                (
                    "repeat_policy",
                    models.CharField(
                        choices=[
                            ("last", "The last reading of the day"),
                            ("mean", "The mean of the day's readings"),
                        ],
                        default="last",
                        max_length=4,
                    ),
                ),
                (
                    "trend_max_fold_per_day",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("1.50"),
                        help_text="A volume further off the tumour's recent log-linear trend than this factor per day since the last reading is flagged.",
                        max_digits=4,
                    ),
                ),
                (
                    "axis_min_mm",
                    models.DecimalField(decimal_places=2, default=Decimal("1"), max_digits=6),
                ),
                (
                    "axis_max_mm",
                    models.DecimalField(decimal_places=2, default=Decimal("40"), max_digits=6),
                ),
                (
                    "weight_min_g",
                    models.DecimalField(decimal_places=2, default=Decimal("5"), max_digits=6),
                ),
                (
                    "weight_max_g",
                    models.DecimalField(decimal_places=2, default=Decimal("60"), max_digits=6),
                ),
            ],
            options={
                "verbose_name_plural": "capture settings",
            },
        ),
        migrations.CreateModel(
            name="CaptureSettingsEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "tag_prefix",
                    models.CharField(
                        blank=True,
                        help_text="What the scanner sends before a tag, e.g. '#'.",
                        max_length=10,
                    ),
                ),
                ("tag_suffix", models.CharField(blank=True, max_length=10)),
                (
                    "tag_pattern",
                    models.CharField(
                        blank=True,
                        help_text="A regular expression the whole tag must match (group 1 is the tag); the syntax common to Python and JavaScript.",
                        max_length=200,
                    ),
                ),
                (
                    "grid_order",
                    models.CharField(
                        choices=[
                            ("row", "Row by row (L, W, then the weight, then the next animal)"),
                            (
                                "column",
                                "Column by column (all lengths, then all widths, then all weights)",
                            ),
                        ],
                        default="row",
                        max_length=6,
                    ),
                ),
                (
                    "repeat_policy",
                    models.CharField(
                        choices=[
                            ("last", "The last reading of the day"),
                            ("mean", "The mean of the day's readings"),
                        ],
                        default="last",
                        max_length=4,
                    ),
                ),
                (
                    "trend_max_fold_per_day",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("1.50"),
                        help_text="A volume further off the tumour's recent log-linear trend than this factor per day since the last reading is flagged.",
                        max_digits=4,
                    ),
                ),
                (
                    "axis_min_mm",
                    models.DecimalField(decimal_places=2, default=Decimal("1"), max_digits=6),
                ),
                (
                    "axis_max_mm",
                    models.DecimalField(decimal_places=2, default=Decimal("40"), max_digits=6),
                ),
                (
                    "weight_min_g",
                    models.DecimalField(decimal_places=2, default=Decimal("5"), max_digits=6),
                ),
                (
                    "weight_max_g",
                    models.DecimalField(decimal_places=2, default=Decimal("60"), max_digits=6),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="PendingAxis",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "axis",
                    models.CharField(
                        choices=[("length", "length"), ("width", "width"), ("height", "height")],
                        max_length=6,
                    ),
                ),
                ("value_mm", models.DecimalField(decimal_places=2, max_digits=6)),
                ("study_day", models.IntegerField()),
                ("taken_at", models.DateTimeField()),
                ("received_at", models.DateTimeField(auto_now_add=True)),
                ("instrument", models.CharField(blank=True, max_length=100)),
                (
                    "entry_method",
                    models.CharField(
                        choices=[
                            ("form", "Entry form"),
                            ("grid", "Entry grid"),
                            ("api", "API"),
                            ("instrument", "Instrument (USB caliper or balance)"),
                            ("import", "File import"),
                            ("transcribed", "Transcribed from a paper worksheet"),
                        ],
                        default="grid",
                        max_length=12,
                    ),
                ),
                ("client_id", models.CharField(blank=True, max_length=100)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Waiting for the other axis"),
                            ("combined", "Combined into a reading"),
                            ("replaced", "Replaced (repeat, correction or code)"),
                        ],
                        default="open",
                        max_length=8,
                    ),
                ),
                ("status_reason", models.CharField(blank=True, max_length=300)),
            ],
            options={
                "ordering": ["tumour", "taken_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="PendingAxisEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                (
                    "axis",
                    models.CharField(
                        choices=[("length", "length"), ("width", "width"), ("height", "height")],
                        max_length=6,
                    ),
                ),
                ("value_mm", models.DecimalField(decimal_places=2, max_digits=6)),
                ("study_day", models.IntegerField()),
                ("taken_at", models.DateTimeField()),
                ("received_at", models.DateTimeField(auto_now_add=True)),
                ("instrument", models.CharField(blank=True, max_length=100)),
                (
                    "entry_method",
                    models.CharField(
                        choices=[
                            ("form", "Entry form"),
                            ("grid", "Entry grid"),
                            ("api", "API"),
                            ("instrument", "Instrument (USB caliper or balance)"),
                            ("import", "File import"),
                            ("transcribed", "Transcribed from a paper worksheet"),
                        ],
                        default="grid",
                        max_length=12,
                    ),
                ),
                ("client_id", models.CharField(blank=True, max_length=100)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Waiting for the other axis"),
                            ("combined", "Combined into a reading"),
                            ("replaced", "Replaced (repeat, correction or code)"),
                        ],
                        default="open",
                        max_length=8,
                    ),
                ),
                ("status_reason", models.CharField(blank=True, max_length=300)),
            ],
            options={
                "abstract": False,
            },
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="measurement",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="measurement",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="measurement",
            name="delete_delete",
        ),
        migrations.RemoveConstraint(
            model_name="measurement",
            name="measurement_kind_fields",
        ),
        migrations.AddField(
            model_name="measurement",
            name="axes_swapped",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Width was entered longer than length: stored swapped.",
            ),
        ),
        migrations.AddField(
            model_name="measurement",
            name="code_reason",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="Why NM (not measurable) or ND (not done).",
                max_length=300,
            ),
        ),
        migrations.AddField(
            model_name="measurement",
            name="correction_of",
            field=models.ForeignKey(
                blank=True,
                help_text="The reading this one corrects (voided with the reason, kept).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="corrections",
                to="labnotes.measurement",
            ),
        ),
        migrations.AddField(
            model_name="measurement",
            name="is_late",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Entered more than 24 h after it was taken.",
            ),
        ),
        migrations.AddField(
            model_name="measurement",
            name="reading_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Measured value"),
                    ("NP", "Not palpable (volume 0)"),
                    ("NM", "Present but not measurable"),
                    ("ND", "Not done"),
                ],
                db_default="",
                default="",
                max_length=2,
            ),
        ),
        migrations.AddField(
            model_name="measurement",
            name="repeat_of",
            field=models.ForeignKey(
                blank=True,
                help_text="The same-day reading this one repeats (both stay valid).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="repeats",
                to="labnotes.measurement",
            ),
        ),
        migrations.AddField(
            model_name="measurementevent",
            name="axes_swapped",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Width was entered longer than length: stored swapped.",
            ),
        ),
        migrations.AddField(
            model_name="measurementevent",
            name="code_reason",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="Why NM (not measurable) or ND (not done).",
                max_length=300,
            ),
        ),
        migrations.AddField(
            model_name="measurementevent",
            name="correction_of",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The reading this one corrects (voided with the reason, kept).",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.measurement",
            ),
        ),
        migrations.AddField(
            model_name="measurementevent",
            name="is_late",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Entered more than 24 h after it was taken.",
            ),
        ),
        migrations.AddField(
            model_name="measurementevent",
            name="reading_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Measured value"),
                    ("NP", "Not palpable (volume 0)"),
                    ("NM", "Present but not measurable"),
                    ("ND", "Not done"),
                ],
                db_default="",
                default="",
                max_length=2,
            ),
        ),
        migrations.AddField(
            model_name="measurementevent",
            name="repeat_of",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The same-day reading this one repeats (both stay valid).",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.measurement",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="measurement",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_measurementevent" ("animal_id", "axes_swapped", "client_id", "code_reason", "correction_of_id", "entry_method", "formula", "formula_protocol_version_id", "height_mm", "id", "instrument", "is_late", "kind", "length_mm", "operator_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reading_code", "received_at", "recorded_by_id", "repeat_of_id", "row_version", "study_day", "taken_at", "tumour_id", "void_reason", "voided_at", "voided_by_id", "volume_mm3", "weight_g", "width_mm") VALUES (NEW."animal_id", NEW."axes_swapped", NEW."client_id", NEW."code_reason", NEW."correction_of_id", NEW."entry_method", NEW."formula", NEW."formula_protocol_version_id", NEW."height_mm", NEW."id", NEW."instrument", NEW."is_late", NEW."kind", NEW."length_mm", NEW."operator_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reading_code", NEW."received_at", NEW."recorded_by_id", NEW."repeat_of_id", NEW."row_version", NEW."study_day", NEW."taken_at", NEW.NEW."tumour_id", NEW."void_reason", NEW."voided_at", NEW."voided_by_id", NEW."volume_mm3", NEW."weight_g", NEW."width_mm"); RETURN NULL;',
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_7ea91",
                    table="labnotes_measurement",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="measurement",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_measurementevent" ("animal_id", "axes_swapped", "client_id", "code_reason", "correction_of_id", "entry_method", "formula", "formula_protocol_version_id", "height_mm", "id", "instrument", "is_late", "kind", "length_mm", "operator_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reading_code", "received_at", "recorded_by_id", "repeat_of_id", "row_version", "study_day", "taken_at", "tumour_id", "void_reason", "voided_at", "voided_by_id", "volume_mm3", "weight_g", "width_mm") VALUES (NEW."animal_id", NEW."axes_swapped", NEW."client_id", NEW."code_reason", NEW."correction_of_id", NEW."entry_method", NEW."formula", NEW."formula_protocol_version_id", NEW."height_mm", NEW."id", NEW."instrument", NEW."is_late", NEW."kind", NEW."length_mm", NEW."operator_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reading_code", NEW."received_at", NEW."recorded_by_id", NEW."repeat_of_id", NEW."row_version", NEW."study_day", NEW."taken_at", NEW.NEW."tumour_id", NEW."void_reason", NEW."voided_at", NEW."voided_by_id", NEW."volume_mm3", NEW."weight_g", NEW."width_mm"); RETURN NULL;',
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_93427",
                    table="labnotes_measurement",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="measurement",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_measurementevent" ("animal_id", "axes_swapped", "client_id", "code_reason", "correction_of_id", "entry_method", "formula", "formula_protocol_version_id", "height_mm", "id", "instrument", "is_late", "kind", "length_mm", "operator_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reading_code", "received_at", "recorded_by_id", "repeat_of_id", "row_version", "study_day", "taken_at", "tumour_id", "void_reason", "voided_at", "voided_by_id", "volume_mm3", "weight_g", "width_mm") VALUES (OLD."animal_id", OLD."axes_swapped", OLD."client_id", OLD."code_reason", OLD."correction_of_id", OLD."entry_method", OLD."formula", OLD."formula_protocol_version_id", OLD."height_mm", OLD."id", OLD."instrument", OLD."is_late", OLD."kind", OLD."length_mm", OLD."operator_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reading_code", OLD."received_at", OLD."recorded_by_id", OLD."repeat_of_id", OLD."row_version", OLD."study_day", OLD."taken_at", OLD.OLD."tumour_id", OLD."void_reason", OLD."voided_at", OLD."voided_by_id", OLD."volume_mm3", OLD."weight_g", OLD."width_mm"); RETURN NULL;',
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_28556",
                    table="labnotes_measurement",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="measurement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("kind", "caliper"),
                        ("length_mm__isnull", False),
                        ("reading_code", ""),
                        ("tumour__isnull", False),
                        ("volume_mm3__isnull", False),
                        ("weight_g__isnull", True),
                        ("width_mm__isnull", False),
                    ),
                    models.Q(
                        ("height_mm__isnull", True),
                        ("kind", "caliper"),
                        ("length_mm__isnull", True),
                        ("reading_code", "NP"),
                        ("tumour__isnull", False),
                        ("volume_mm3", 0),
                        ("weight_g__isnull", True),
                        ("width_mm__isnull", True),
                    ),
                    models.Q(
                        ("height_mm__isnull", True),
                        ("kind", "caliper"),
                        ("length_mm__isnull", True),
                        ("reading_code__in", ["NM", "ND"]),
                        ("tumour__isnull", False),
                        ("volume_mm3__isnull", True),
                        ("weight_g__isnull", True),
                        ("width_mm__isnull", True),
                        models.Q(("code_reason", ""), _negated=True),
                    ),
                    models.Q(
                        ("height_mm__isnull", True),
                        ("kind", "weight"),
                        ("length_mm__isnull", True),
                        ("reading_code", ""),
                        ("tumour__isnull", True),
                        ("volume_mm3__isnull", True),
                        ("weight_g__isnull", False),
                        ("width_mm__isnull", True),
                    ),
                    models.Q(
                        ("height_mm__isnull", True),
                        ("kind", "weight"),
                        ("length_mm__isnull", True),
                        ("reading_code", "ND"),
                        ("tumour__isnull", True),
                        ("volume_mm3__isnull", True),
                        ("weight_g__isnull", True),
                        ("width_mm__isnull", True),
                        models.Q(("code_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="measurement_kind_fields",
            ),
        ),
        migrations.AddConstraint(
            model_name="measurement",
            constraint=models.UniqueConstraint(
                condition=models.Q(("correction_of__isnull", False)),
                fields=("correction_of",),
                name="measurement_corrected_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="measurement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("repeat_of__isnull", True), ("correction_of__isnull", True), _connector="OR"
                ),
                name="measurement_repeat_or_correction",
            ),
        ),
        migrations.AddField(
            model_name="capturesettings",
            name="lab",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="capture_settings",
                to="planner.lab",
            ),
        ),
        migrations.AddField(
            model_name="capturesettingsevent",
            name="lab",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="planner.lab",
            ),
        ),
        migrations.AddField(
            model_name="capturesettingsevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="labnotes.capturesettings",
            ),
        ),
        migrations.AddField(
            model_name="pendingaxis",
            name="animal",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="pending_axes",
                to="labnotes.animal",
            ),
        ),
        migrations.AddField(
            model_name="pendingaxis",
            name="measurement",
            field=models.ForeignKey(
                blank=True,
                help_text="The reading this axis became part of.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="axis_halves",
                to="labnotes.measurement",
            ),
        ),
        migrations.AddField(
            model_name="pendingaxis",
            name="operator",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="pendingaxis",
            name="recorded_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="pendingaxis",
            name="tumour",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="pending_axes",
                to="labnotes.tumour",
            ),
        ),
        migrations.AddField(
            model_name="pendingaxisevent",
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
            model_name="pendingaxisevent",
            name="measurement",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The reading this axis became part of.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.measurement",
            ),
        ),
        migrations.AddField(
            model_name="pendingaxisevent",
            name="operator",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="pendingaxisevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="labnotes.pendingaxis",
            ),
        ),
        migrations.AddField(
            model_name="pendingaxisevent",
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
            model_name="pendingaxisevent",
            name="tumour",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.tumour",
            ),
        ),
        migrations.AddConstraint(
            model_name="capturesettings",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("axis_max_mm__gte", models.F("axis_min_mm")), ("axis_min_mm__gt", 0)
                ),
                name="capture_settings_axis_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="capturesettings",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("weight_max_g__gte", models.F("weight_min_g")), ("weight_min_g__gt", 0)
                ),
                name="capture_settings_weight_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="capturesettings",
            constraint=models.CheckConstraint(
                condition=models.Q(("trend_max_fold_per_day__gt", 1)),
                name="capture_settings_trend_factor_above_one",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="capturesettings",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_capturesettingsevent" ("axis_max_mm", "axis_min_mm", "grid_order", "id", "lab_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "repeat_policy", "row_version", "tag_pattern", "tag_prefix", "tag_suffix", "trend_max_fold_per_day", "weight_max_g", "weight_min_g") VALUES (NEW."axis_max_mm", NEW."axis_min_mm", NEW."grid_order", NEW."id", NEW."lab_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."repeat_policy", NEW."row_version", NEW."tag_pattern", NEW."tag_prefix", NEW."tag_suffix", NEW."trend_max_fold_per_day", NEW."weight_max_g", NEW."weight_min_g"); RETURN NULL;',
                    hash="1ec2c3ae1b841f96c3aa7e7940996234f51f6bbd",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_e9651",
                    table="labnotes_capturesettings",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="capturesettings",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_capturesettingsevent" ("axis_max_mm", "axis_min_mm", "grid_order", "id", "lab_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "repeat_policy", "row_version", "tag_pattern", "tag_prefix", "tag_suffix", "trend_max_fold_per_day", "weight_max_g", "weight_min_g") VALUES (NEW."axis_max_mm", NEW."axis_min_mm", NEW."grid_order", NEW."id", NEW."lab_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."repeat_policy", NEW."row_version", NEW."tag_pattern", NEW."tag_prefix", NEW."tag_suffix", NEW."trend_max_fold_per_day", NEW."weight_max_g", NEW."weight_min_g"); RETURN NULL;',
                    hash="c629db3b74e0f875c1007a3f66734cdc45c7391e",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_24da2",
                    table="labnotes_capturesettings",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="capturesettings",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_capturesettingsevent" ("axis_max_mm", "axis_min_mm", "grid_order", "id", "lab_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "repeat_policy", "row_version", "tag_pattern", "tag_prefix", "tag_suffix", "trend_max_fold_per_day", "weight_max_g", "weight_min_g") VALUES (OLD."axis_max_mm", OLD."axis_min_mm", OLD."grid_order", OLD."id", OLD."lab_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."repeat_policy", OLD."row_version", OLD."tag_pattern", OLD."tag_prefix", OLD."tag_suffix", OLD."trend_max_fold_per_day", OLD."weight_max_g", OLD."weight_min_g"); RETURN NULL;',
                    hash="27b33d0985074c769d896a18f69417063d552e05",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_3e9d1",
                    table="labnotes_capturesettings",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="capturesettingsevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="9a1a97e5c69dd9847402d114dbbb6bf04e373cde",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_d31dd",
                    table="labnotes_capturesettingsevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="pendingaxis",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "open")),
                fields=("tumour", "study_day", "axis"),
                name="pending_axis_one_open_per_axis",
            ),
        ),
        migrations.AddConstraint(
            model_name="pendingaxis",
            constraint=models.UniqueConstraint(
                condition=models.Q(("client_id", ""), _negated=True),
                fields=("animal", "client_id"),
                name="pending_axis_client_id_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="pendingaxis",
            constraint=models.CheckConstraint(
                condition=models.Q(("value_mm__gt", 0)), name="pending_axis_value_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="pendingaxis",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "combined"), _negated=True),
                    ("measurement__isnull", False),
                    _connector="OR",
                ),
                name="pending_axis_combined_has_measurement",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="pendingaxis",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_pendingaxisevent" ("animal_id", "axis", "client_id", "entry_method", "id", "instrument", "measurement_id", "operator_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "received_at", "recorded_by_id", "status", "status_reason", "study_day", "taken_at", "tumour_id", "value_mm") VALUES (NEW."animal_id", NEW."axis", NEW."client_id", NEW."entry_method", NEW."id", NEW."instrument", NEW."measurement_id", NEW."operator_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."received_at", NEW."recorded_by_id", NEW."status", NEW."status_reason", NEW."study_day", NEW."taken_at", NEW."tumour_id", NEW."value_mm"); RETURN NULL;',
                    hash="83ef44e17887748284c2899474a666d2347f68cc",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_0c1fc",
                    table="labnotes_pendingaxis",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="pendingaxis",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_pendingaxisevent" ("animal_id", "axis", "client_id", "entry_method", "id", "instrument", "measurement_id", "operator_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "received_at", "recorded_by_id", "status", "status_reason", "study_day", "taken_at", "tumour_id", "value_mm") VALUES (NEW."animal_id", NEW."axis", NEW."client_id", NEW."entry_method", NEW."id", NEW."instrument", NEW."measurement_id", NEW."operator_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."received_at", NEW."recorded_by_id", NEW."status", NEW."status_reason", NEW."study_day", NEW."taken_at", NEW."tumour_id", NEW."value_mm"); RETURN NULL;',
                    hash="cc489d3ffd29911ac6e90f2fa8aeed2cd392beac",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_0b26e",
                    table="labnotes_pendingaxis",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="pendingaxis",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_pendingaxisevent" ("animal_id", "axis", "client_id", "entry_method", "id", "instrument", "measurement_id", "operator_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "received_at", "recorded_by_id", "status", "status_reason", "study_day", "taken_at", "tumour_id", "value_mm") VALUES (OLD."animal_id", OLD."axis", OLD."client_id", OLD."entry_method", OLD."id", OLD."instrument", OLD."measurement_id", OLD."operator_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."received_at", OLD."recorded_by_id", OLD."status", OLD."status_reason", OLD."study_day", OLD."taken_at", OLD."tumour_id", OLD."value_mm"); RETURN NULL;',
                    hash="19fd1a3f0712e7686132eeaf6777224f2b4deb39",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_d1f2e",
                    table="labnotes_pendingaxis",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="pendingaxisevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="cadabec4752e66d162671671650fd4ddca9fa7f1",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_020d3",
                    table="labnotes_pendingaxisevent",
                    when="BEFORE",
                ),
            ),
        ),
    ]
