"""ELISA plates, layouts, readings and fits (issue 9)."""

import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0010_reports"),
        ("planner", "0007_version_regimen_items"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ElisaPlate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("name", models.CharField(max_length=80)),
                ("analyte", models.CharField(max_length=80)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Layout in progress"),
                            ("read", "Read, awaiting review"),
                            ("accepted", "Accepted"),
                            ("rejected", "Rejected"),
                        ],
                        default="draft",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("reading_format", models.CharField(blank=True, max_length=40)),
                (
                    "reading_grid",
                    models.CharField(
                        blank=True,
                        help_text="The export's plate and read label used.",
                        max_length=200,
                    ),
                ),
                ("reading_metadata", models.JSONField(blank=True, default=dict)),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                ("fit", models.JSONField(blank=True, default=dict)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("decision_reason", models.TextField(blank=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "protocol_version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="elisa_plates",
                        to="planner.protocolversion",
                    ),
                ),
                (
                    "read_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "reading_file",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="elisa_plates",
                        to="labnotes.storedfile",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="plates",
                        to="labnotes.studyrun",
                    ),
                ),
            ],
            options={
                "ordering": ["run", "created_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="ElisaPlateEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("name", models.CharField(max_length=80)),
                ("analyte", models.CharField(max_length=80)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Layout in progress"),
                            ("read", "Read, awaiting review"),
                            ("accepted", "Accepted"),
                            ("rejected", "Rejected"),
                        ],
                        default="draft",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("reading_format", models.CharField(blank=True, max_length=40)),
                (
                    "reading_grid",
                    models.CharField(
                        blank=True,
                        help_text="The export's plate and read label used.",
                        max_length=200,
                    ),
                ),
                ("reading_metadata", models.JSONField(blank=True, default=dict)),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                ("fit", models.JSONField(blank=True, default=dict)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("decision_reason", models.TextField(blank=True)),
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
                    "decided_by",
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
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.elisaplate",
                    ),
                ),
                (
                    "protocol_version",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="planner.protocolversion",
                    ),
                ),
                (
                    "read_by",
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
                    "reading_file",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.storedfile",
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
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="ElisaResult",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("replicate_group", models.CharField(max_length=80)),
                ("dilution", models.FloatField()),
                ("n_wells", models.PositiveSmallIntegerField()),
                ("mean_od", models.FloatField(blank=True, null=True)),
                ("cv_percent", models.FloatField(blank=True, null=True)),
                ("cv_exceeds_limit", models.BooleanField(default=False)),
                ("concentration_in_well_pg_per_ml", models.FloatField(blank=True, null=True)),
                ("concentration_pg_per_ml", models.FloatField(blank=True, null=True)),
                (
                    "flag",
                    models.CharField(
                        choices=[
                            ("ok", "In range"),
                            ("below_lloq", "Below LLOQ"),
                            ("above_uloq", "Above ULOQ"),
                            ("not_quantifiable", "Not quantifiable (no range)"),
                            ("no_reading", "No numeric reading"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "plate",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="results",
                        to="labnotes.elisaplate",
                    ),
                ),
                (
                    "sample",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="elisa_results",
                        to="labnotes.sample",
                    ),
                ),
            ],
            options={
                "ordering": ["plate", "pk"],
            },
        ),
        migrations.CreateModel(
            name="ElisaResultEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("replicate_group", models.CharField(max_length=80)),
                ("dilution", models.FloatField()),
                ("n_wells", models.PositiveSmallIntegerField()),
                ("mean_od", models.FloatField(blank=True, null=True)),
                ("cv_percent", models.FloatField(blank=True, null=True)),
                ("cv_exceeds_limit", models.BooleanField(default=False)),
                ("concentration_in_well_pg_per_ml", models.FloatField(blank=True, null=True)),
                ("concentration_pg_per_ml", models.FloatField(blank=True, null=True)),
                (
                    "flag",
                    models.CharField(
                        choices=[
                            ("ok", "In range"),
                            ("below_lloq", "Below LLOQ"),
                            ("above_uloq", "Above ULOQ"),
                            ("not_quantifiable", "Not quantifiable (no range)"),
                            ("no_reading", "No numeric reading"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.elisaresult",
                    ),
                ),
                (
                    "plate",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.elisaplate",
                    ),
                ),
                (
                    "sample",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.sample",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="PlateLayoutTemplate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=120)),
                ("wells", models.JSONField(default=list)),
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
                        related_name="plate_layout_templates",
                        to="planner.lab",
                    ),
                ),
            ],
            options={
                "ordering": ["lab", "name"],
            },
        ),
        migrations.CreateModel(
            name="PlateLayoutTemplateEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("name", models.CharField(max_length=120)),
                ("wells", models.JSONField(default=list)),
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
                        to="labnotes.platelayouttemplate",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="PlateWell",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("well", models.CharField(max_length=3)),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("standard", "Standard"),
                            ("blank", "Blank"),
                            ("sample", "Sample"),
                            ("empty", "Empty"),
                        ],
                        max_length=10,
                    ),
                ),
                ("concentration_pg_per_ml", models.FloatField(blank=True, null=True)),
                ("dilution", models.FloatField(default=1.0)),
                ("replicate_group", models.CharField(blank=True, max_length=80)),
                ("od", models.FloatField(blank=True, null=True)),
                ("od_flag", models.CharField(blank=True, max_length=40)),
                (
                    "flag",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "—"),
                            ("instrument_flag", "Instrument flag (not a number)"),
                            ("not_read", "Not in the export"),
                        ],
                        default="",
                        max_length=20,
                    ),
                ),
                (
                    "plate",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="wells",
                        to="labnotes.elisaplate",
                    ),
                ),
                (
                    "sample",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="plate_wells",
                        to="labnotes.sample",
                    ),
                ),
            ],
            options={
                "ordering": ["plate", "pk"],
            },
        ),
        migrations.CreateModel(
            name="PlateWellEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("well", models.CharField(max_length=3)),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("standard", "Standard"),
                            ("blank", "Blank"),
                            ("sample", "Sample"),
                            ("empty", "Empty"),
                        ],
                        max_length=10,
                    ),
                ),
                ("concentration_pg_per_ml", models.FloatField(blank=True, null=True)),
                ("dilution", models.FloatField(default=1.0)),
                ("replicate_group", models.CharField(blank=True, max_length=80)),
                ("od", models.FloatField(blank=True, null=True)),
                ("od_flag", models.CharField(blank=True, max_length=40)),
                (
                    "flag",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "—"),
                            ("instrument_flag", "Instrument flag (not a number)"),
                            ("not_read", "Not in the export"),
                        ],
                        default="",
                        max_length=20,
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.platewell",
                    ),
                ),
                (
                    "plate",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.elisaplate",
                    ),
                ),
                (
                    "sample",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.sample",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddConstraint(
            model_name="elisaplate",
            constraint=models.UniqueConstraint(
                fields=("run", "name"), name="elisa_plate_name_unique_in_run"
            ),
        ),
        migrations.AddConstraint(
            model_name="elisaplate",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["draft", "read", "accepted", "rejected"])),
                name="elisa_plate_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="elisaplate",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status__in", ["accepted", "rejected"]), _negated=True),
                    models.Q(
                        ("decided_at__isnull", False),
                        ("decided_by__isnull", False),
                        models.Q(("decision_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="elisa_plate_decision_has_who_and_why",
            ),
        ),
        migrations.AddConstraint(
            model_name="elisaplate",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "draft"), ("reading_file__isnull", False), _connector="OR"
                ),
                name="elisa_plate_read_has_file",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="elisaplate",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_elisaplateevent" ("analyte", "created_at", "created_by_id", "decided_at", "decided_by_id", "decision_reason", "fit", "id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "read_at", "read_by_id", "reading_file_id", "reading_format", "reading_grid", "reading_metadata", "row_version", "run_id", "status") VALUES (NEW."analyte", NEW."created_at", NEW."created_by_id", NEW."decided_at", NEW."decided_by_id", NEW."decision_reason", NEW."fit", NEW."id", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."protocol_version_id", NEW."read_at", NEW."read_by_id", NEW."reading_file_id", NEW."reading_format", NEW."reading_grid", NEW."reading_metadata", NEW."row_version", NEW."run_id", NEW."status"); RETURN NULL;',
                    hash="499d648c496ab18d190e668a0b27ca85612e424f",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_0428c",
                    table="labnotes_elisaplate",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="elisaplate",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_elisaplateevent" ("analyte", "created_at", "created_by_id", "decided_at", "decided_by_id", "decision_reason", "fit", "id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "read_at", "read_by_id", "reading_file_id", "reading_format", "reading_grid", "reading_metadata", "row_version", "run_id", "status") VALUES (NEW."analyte", NEW."created_at", NEW."created_by_id", NEW."decided_at", NEW."decided_by_id", NEW."decision_reason", NEW."fit", NEW."id", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."protocol_version_id", NEW."read_at", NEW."read_by_id", NEW."reading_file_id", NEW."reading_format", NEW."reading_grid", NEW."reading_metadata", NEW."row_version", NEW."run_id", NEW."status"); RETURN NULL;',
                    hash="908acabc1a067df9c993b94fb8be4e9e64e712e9",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_f3251",
                    table="labnotes_elisaplate",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="elisaplate",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_elisaplateevent" ("analyte", "created_at", "created_by_id", "decided_at", "decided_by_id", "decision_reason", "fit", "id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "read_at", "read_by_id", "reading_file_id", "reading_format", "reading_grid", "reading_metadata", "row_version", "run_id", "status") VALUES (OLD."analyte", OLD."created_at", OLD."created_by_id", OLD."decided_at", OLD."decided_by_id", OLD."decision_reason", OLD."fit", OLD."id", OLD."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."protocol_version_id", OLD."read_at", OLD."read_by_id", OLD."reading_file_id", OLD."reading_format", OLD."reading_grid", OLD."reading_metadata", OLD."row_version", OLD."run_id", OLD."status"); RETURN NULL;',
                    hash="43d21492fa3aa8bc8761cd4589235051ff0d8652",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_7a558",
                    table="labnotes_elisaplate",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="elisaplateevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="8ba2399a831bc1f91cdf37b3ab29660aa5ce3f54",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_13230",
                    table="labnotes_elisaplateevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="elisaresult",
            constraint=models.UniqueConstraint(
                fields=("plate", "replicate_group"), name="elisa_result_group_once"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="elisaresult",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_elisaresultevent" ("concentration_in_well_pg_per_ml", "concentration_pg_per_ml", "cv_exceeds_limit", "cv_percent", "dilution", "flag", "id", "mean_od", "n_wells", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plate_id", "replicate_group", "sample_id") VALUES (NEW."concentration_in_well_pg_per_ml", NEW."concentration_pg_per_ml", NEW."cv_exceeds_limit", NEW."cv_percent", NEW."dilution", NEW."flag", NEW."id", NEW."mean_od", NEW."n_wells", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."plate_id", NEW."replicate_group", NEW."sample_id"); RETURN NULL;',
                    hash="7fc8d059f61f0cd9b0b0f3fb3f41c1ea76300fa2",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_7f310",
                    table="labnotes_elisaresult",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="elisaresult",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_elisaresultevent" ("concentration_in_well_pg_per_ml", "concentration_pg_per_ml", "cv_exceeds_limit", "cv_percent", "dilution", "flag", "id", "mean_od", "n_wells", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plate_id", "replicate_group", "sample_id") VALUES (NEW."concentration_in_well_pg_per_ml", NEW."concentration_pg_per_ml", NEW."cv_exceeds_limit", NEW."cv_percent", NEW."dilution", NEW."flag", NEW."id", NEW."mean_od", NEW."n_wells", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."plate_id", NEW."replicate_group", NEW."sample_id"); RETURN NULL;',
                    hash="265270d397547d4a093a0020c640efaf2df1163a",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_db654",
                    table="labnotes_elisaresult",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="elisaresult",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_elisaresultevent" ("concentration_in_well_pg_per_ml", "concentration_pg_per_ml", "cv_exceeds_limit", "cv_percent", "dilution", "flag", "id", "mean_od", "n_wells", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plate_id", "replicate_group", "sample_id") VALUES (OLD."concentration_in_well_pg_per_ml", OLD."concentration_pg_per_ml", OLD."cv_exceeds_limit", OLD."cv_percent", OLD."dilution", OLD."flag", OLD."id", OLD."mean_od", OLD."n_wells", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."plate_id", OLD."replicate_group", OLD."sample_id"); RETURN NULL;',
                    hash="e15b9ab93c3efd2492270a27f945f8dae20d2b5a",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_b6f70",
                    table="labnotes_elisaresult",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="elisaresultevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="2deeaf7628e3a3cb248c5174a9800208aee11ede",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_0dd50",
                    table="labnotes_elisaresultevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="platelayouttemplate",
            constraint=models.UniqueConstraint(
                fields=("lab", "name"), name="plate_layout_name_unique_in_lab"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="platelayouttemplate",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_platelayouttemplateevent" ("created_at", "created_by_id", "id", "lab_id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "wells") VALUES (NEW."created_at", NEW."created_by_id", NEW."id", NEW."lab_id", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."wells"); RETURN NULL;',
                    hash="67c9c951ed3f0f300ba4adb7329798bedc731ef6",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_fcaff",
                    table="labnotes_platelayouttemplate",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="platelayouttemplate",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_platelayouttemplateevent" ("created_at", "created_by_id", "id", "lab_id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "wells") VALUES (NEW."created_at", NEW."created_by_id", NEW."id", NEW."lab_id", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."wells"); RETURN NULL;',
                    hash="cf494cc963ecf7b48b256c2cd9590841f9ee5e26",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_116a3",
                    table="labnotes_platelayouttemplate",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="platelayouttemplate",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_platelayouttemplateevent" ("created_at", "created_by_id", "id", "lab_id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "wells") VALUES (OLD."created_at", OLD."created_by_id", OLD."id", OLD."lab_id", OLD."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."wells"); RETURN NULL;',
                    hash="b73672739b93eaa04d074dcd45e041db065888f9",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_0ce88",
                    table="labnotes_platelayouttemplate",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="platelayouttemplateevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="04935a5f7f84a108d584431f3727de91d4d8bfc7",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_17a1d",
                    table="labnotes_platelayouttemplateevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="platewell",
            constraint=models.UniqueConstraint(fields=("plate", "well"), name="plate_well_once"),
        ),
        migrations.AddConstraint(
            model_name="platewell",
            constraint=models.CheckConstraint(
                condition=models.Q(("well__regex", "^[A-H](1[0-2]|[1-9])$")),
                name="plate_well_position_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="platewell",
            constraint=models.CheckConstraint(
                condition=models.Q(("role__in", ["standard", "blank", "sample", "empty"])),
                name="plate_well_role_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="platewell",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("role", "standard"), _negated=True),
                    models.Q(
                        ("concentration_pg_per_ml__gte", 0),
                        ("concentration_pg_per_ml__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="plate_well_standard_has_concentration",
            ),
        ),
        migrations.AddConstraint(
            model_name="platewell",
            constraint=models.CheckConstraint(
                condition=models.Q(("dilution__gte", 1)), name="plate_well_dilution_at_least_1"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="platewell",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_platewellevent" ("concentration_pg_per_ml", "dilution", "flag", "id", "od", "od_flag", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plate_id", "replicate_group", "role", "sample_id", "well") VALUES (NEW."concentration_pg_per_ml", NEW."dilution", NEW."flag", NEW."id", NEW."od", NEW."od_flag", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."plate_id", NEW."replicate_group", NEW."role", NEW."sample_id", NEW."well"); RETURN NULL;',
                    hash="08db2b4c00f069e219b5b194a33f3a2592bdb7bd",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_245c7",
                    table="labnotes_platewell",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="platewell",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_platewellevent" ("concentration_pg_per_ml", "dilution", "flag", "id", "od", "od_flag", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plate_id", "replicate_group", "role", "sample_id", "well") VALUES (NEW."concentration_pg_per_ml", NEW."dilution", NEW."flag", NEW."id", NEW."od", NEW."od_flag", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."plate_id", NEW."replicate_group", NEW."role", NEW."sample_id", NEW."well"); RETURN NULL;',
                    hash="1cfcc0964db54b90c4d275bd02f3d13ebdbf5a56",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_bd950",
                    table="labnotes_platewell",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="platewell",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_platewellevent" ("concentration_pg_per_ml", "dilution", "flag", "id", "od", "od_flag", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plate_id", "replicate_group", "role", "sample_id", "well") VALUES (OLD."concentration_pg_per_ml", OLD."dilution", OLD."flag", OLD."id", OLD."od", OLD."od_flag", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."plate_id", OLD."replicate_group", OLD."role", OLD."sample_id", OLD."well"); RETURN NULL;',
                    hash="55a0638444cb6577e1a3932fda14dab381ca2b5c",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_9087c",
                    table="labnotes_platewell",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="platewellevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="098ede21b55f1eeab58aee3bb7e11707a7506ffc",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_81a20",
                    table="labnotes_platewellevent",
                    when="BEFORE",
                ),
            ),
        ),
    ]
