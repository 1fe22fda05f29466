"""Flow cytometry acquisitions, FCS files and population statistics (issue 9)."""

import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0011_elisa_plates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FlowAcquisition",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("source_name", models.CharField(blank=True, max_length=255)),
                ("fcs_version", models.CharField(blank=True, max_length=10)),
                ("cytometer", models.CharField(blank=True, max_length=200)),
                ("acquisition_date", models.DateField(blank=True, null=True)),
                ("start_time_text", models.CharField(blank=True, max_length=40)),
                ("event_count", models.PositiveBigIntegerField(blank=True, null=True)),
                ("channels", models.JSONField(blank=True, default=list)),
                ("spillover", models.JSONField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "fcs_file",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="flow_acquisitions",
                        to="labnotes.storedfile",
                    ),
                ),
                (
                    "sample",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="flow_acquisitions",
                        to="labnotes.sample",
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
                "ordering": ["panel_id", "sample_id", "pk"],
            },
        ),
        migrations.CreateModel(
            name="FlowPanel",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("populations", models.JSONField(default=list)),
                ("derived_statistics", models.JSONField(default=list)),
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
                    "protocol_version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="flow_panels",
                        to="planner.protocolversion",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="flow_panels",
                        to="labnotes.studyrun",
                    ),
                ),
            ],
            options={
                "ordering": ["run_id", "pk"],
            },
        ),
        migrations.CreateModel(
            name="FlowImport",
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
                            ("flowjo_table", "FlowJo table (CSV/TSV)"),
                            ("flowjo_workspace", "FlowJo workspace (.wsp)"),
                        ],
                        max_length=20,
                    ),
                ),
                ("mapping_snapshot", models.JSONField(default=dict)),
                ("sample_count", models.PositiveIntegerField()),
                ("value_count", models.PositiveIntegerField()),
                ("imported_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
                (
                    "imported_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "stored_file",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="flow_imports",
                        to="labnotes.storedfile",
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
                (
                    "panel",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="imports",
                        to="labnotes.flowpanel",
                    ),
                ),
            ],
            options={
                "ordering": ["panel_id", "-imported_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="FlowAcquisitionEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("source_name", models.CharField(blank=True, max_length=255)),
                ("fcs_version", models.CharField(blank=True, max_length=10)),
                ("cytometer", models.CharField(blank=True, max_length=200)),
                ("acquisition_date", models.DateField(blank=True, null=True)),
                ("start_time_text", models.CharField(blank=True, max_length=40)),
                ("event_count", models.PositiveBigIntegerField(blank=True, null=True)),
                ("channels", models.JSONField(blank=True, default=list)),
                ("spillover", models.JSONField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
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
                    "fcs_file",
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
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.flowacquisition",
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
                (
                    "panel",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.flowpanel",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddField(
            model_name="flowacquisition",
            name="panel",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="acquisitions",
                to="labnotes.flowpanel",
            ),
        ),
        migrations.CreateModel(
            name="FlowPanelEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("populations", models.JSONField(default=list)),
                ("derived_statistics", models.JSONField(default=list)),
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
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.flowpanel",
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
            name="FlowPopulationValue",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "population",
                    models.CharField(
                        blank=True,
                        help_text="Panel gating path; empty for the whole sample.",
                        max_length=300,
                    ),
                ),
                ("source_path", models.CharField(blank=True, max_length=500)),
                (
                    "statistic",
                    models.CharField(
                        choices=[
                            ("count", "Count"),
                            ("frequency_of_parent", "Freq. of parent (%)"),
                            ("frequency_of_total", "Freq. of total (%)"),
                        ],
                        max_length=30,
                    ),
                ),
                ("value", models.FloatField()),
                (
                    "acquisition",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="population_values",
                        to="labnotes.flowacquisition",
                    ),
                ),
                (
                    "flow_import",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="population_values",
                        to="labnotes.flowimport",
                    ),
                ),
            ],
            options={
                "ordering": ["acquisition_id", "population", "statistic"],
            },
        ),
        migrations.CreateModel(
            name="FlowPopulationValueEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                (
                    "population",
                    models.CharField(
                        blank=True,
                        help_text="Panel gating path; empty for the whole sample.",
                        max_length=300,
                    ),
                ),
                ("source_path", models.CharField(blank=True, max_length=500)),
                (
                    "statistic",
                    models.CharField(
                        choices=[
                            ("count", "Count"),
                            ("frequency_of_parent", "Freq. of parent (%)"),
                            ("frequency_of_total", "Freq. of total (%)"),
                        ],
                        max_length=30,
                    ),
                ),
                ("value", models.FloatField()),
                (
                    "acquisition",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.flowacquisition",
                    ),
                ),
                (
                    "flow_import",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.flowimport",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.flowpopulationvalue",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="FlowSampleMapping",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("name", models.CharField(max_length=120)),
                ("pattern", models.CharField(max_length=300)),
                ("tissue_aliases", models.JSONField(blank=True, default=dict)),
                ("population_columns", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
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
                        related_name="flow_sample_mappings",
                        to="planner.lab",
                    ),
                ),
            ],
            options={
                "ordering": ["lab", "name"],
            },
        ),
        migrations.CreateModel(
            name="FlowImportEvent",
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
                            ("flowjo_table", "FlowJo table (CSV/TSV)"),
                            ("flowjo_workspace", "FlowJo workspace (.wsp)"),
                        ],
                        max_length=20,
                    ),
                ),
                ("mapping_snapshot", models.JSONField(default=dict)),
                ("sample_count", models.PositiveIntegerField()),
                ("value_count", models.PositiveIntegerField()),
                ("imported_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
                (
                    "imported_by",
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
                        to="labnotes.flowimport",
                    ),
                ),
                (
                    "stored_file",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.storedfile",
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
                (
                    "panel",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.flowpanel",
                    ),
                ),
                (
                    "mapping",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.flowsamplemapping",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddField(
            model_name="flowimport",
            name="mapping",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="imports",
                to="labnotes.flowsamplemapping",
            ),
        ),
        migrations.CreateModel(
            name="FlowSampleMappingEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("name", models.CharField(max_length=120)),
                ("pattern", models.CharField(max_length=300)),
                ("tissue_aliases", models.JSONField(blank=True, default=dict)),
                ("population_columns", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
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
                        to="labnotes.flowsamplemapping",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddConstraint(
            model_name="flowpanel",
            constraint=models.UniqueConstraint(
                fields=("run", "protocol_version"), name="flow_panel_once_per_run_and_version"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowpanel",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_flowpanelevent" ("created_at", "created_by_id", "derived_statistics", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "populations", "protocol_version_id", "row_version", "run_id") VALUES (NEW."created_at", NEW."created_by_id", NEW."derived_statistics", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."populations", NEW."protocol_version_id", NEW."row_version", NEW."run_id"); RETURN NULL;',
                    hash="d087ed6a2ab62bc9c841c36e6e55716cee2aae8f",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_202af",
                    table="labnotes_flowpanel",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowpanel",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_flowpanelevent" ("created_at", "created_by_id", "derived_statistics", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "populations", "protocol_version_id", "row_version", "run_id") VALUES (NEW."created_at", NEW."created_by_id", NEW."derived_statistics", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."populations", NEW."protocol_version_id", NEW."row_version", NEW."run_id"); RETURN NULL;',
                    hash="d8ce9807b10b9fff2f2b965e6ced0103c4410bf7",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_430c8",
                    table="labnotes_flowpanel",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowpanel",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_flowpanelevent" ("created_at", "created_by_id", "derived_statistics", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "populations", "protocol_version_id", "row_version", "run_id") VALUES (OLD."created_at", OLD."created_by_id", OLD."derived_statistics", OLD."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."populations", OLD."protocol_version_id", OLD."row_version", OLD."run_id"); RETURN NULL;',
                    hash="3922923526118546027a557820976c3046fba40f",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_d1641",
                    table="labnotes_flowpanel",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowacquisitionevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="d5755e6be8ed5bd206e889c7b6a87216f6262924",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_9f2bd",
                    table="labnotes_flowacquisitionevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="flowacquisition",
            constraint=models.UniqueConstraint(
                condition=models.Q(("voided_at__isnull", True)),
                fields=("panel", "sample"),
                name="flow_acquisition_one_per_sample",
            ),
        ),
        migrations.AddConstraint(
            model_name="flowacquisition",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("voided_at__isnull", True),
                    models.Q(
                        ("voided_by__isnull", False), models.Q(("void_reason", ""), _negated=True)
                    ),
                    _connector="OR",
                ),
                name="flow_acquisition_void_has_who_and_why",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowacquisition",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_flowacquisitionevent" ("acquisition_date", "channels", "created_at", "created_by_id", "cytometer", "event_count", "fcs_file_id", "fcs_version", "id", "panel_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "row_version", "sample_id", "source_name", "spillover", "start_time_text", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."acquisition_date", NEW."channels", NEW."created_at", NEW."created_by_id", NEW."cytometer", NEW."event_count", NEW."fcs_file_id", NEW."fcs_version", NEW."id", NEW."panel_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."row_version", NEW."sample_id", NEW."source_name", NEW."spillover", NEW."start_time_text", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="635662c4c77c2fc3133a902c1c8e85a83261473e",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_4be9a",
                    table="labnotes_flowacquisition",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowacquisition",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_flowacquisitionevent" ("acquisition_date", "channels", "created_at", "created_by_id", "cytometer", "event_count", "fcs_file_id", "fcs_version", "id", "panel_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "row_version", "sample_id", "source_name", "spillover", "start_time_text", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."acquisition_date", NEW."channels", NEW."created_at", NEW."created_by_id", NEW."cytometer", NEW."event_count", NEW."fcs_file_id", NEW."fcs_version", NEW."id", NEW."panel_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."row_version", NEW."sample_id", NEW."source_name", NEW."spillover", NEW."start_time_text", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="e8a308f3ccad6b1f1e233f958e491a50a7fb87fc",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_c36b8",
                    table="labnotes_flowacquisition",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowacquisition",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_flowacquisitionevent" ("acquisition_date", "channels", "created_at", "created_by_id", "cytometer", "event_count", "fcs_file_id", "fcs_version", "id", "panel_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "row_version", "sample_id", "source_name", "spillover", "start_time_text", "void_reason", "voided_at", "voided_by_id") VALUES (OLD."acquisition_date", OLD."channels", OLD."created_at", OLD."created_by_id", OLD."cytometer", OLD."event_count", OLD."fcs_file_id", OLD."fcs_version", OLD."id", OLD."panel_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."row_version", OLD."sample_id", OLD."source_name", OLD."spillover", OLD."start_time_text", OLD."void_reason", OLD."voided_at", OLD."voided_by_id"); RETURN NULL;',
                    hash="39d35730d9e2e9bf346bd6c6b12c405cb6627037",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_93360",
                    table="labnotes_flowacquisition",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowpanelevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="a9890f632ec3fb6a3e21c43a64a4a01f6279a1d6",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_7dc03",
                    table="labnotes_flowpanelevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="flowpopulationvalue",
            constraint=models.UniqueConstraint(
                fields=("acquisition", "flow_import", "population", "statistic"),
                name="flow_value_once_per_import",
            ),
        ),
        migrations.AddConstraint(
            model_name="flowpopulationvalue",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("statistic__in", ["count", "frequency_of_parent", "frequency_of_total"])
                ),
                name="flow_value_statistic_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="flowpopulationvalue",
            constraint=models.CheckConstraint(
                condition=models.Q(("value__gte", 0)), name="flow_value_not_negative"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowpopulationvalue",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_flowpopulationvalueevent" ("acquisition_id", "flow_import_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "population", "source_path", "statistic", "value") VALUES (NEW."acquisition_id", NEW."flow_import_id", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."population", NEW."source_path", NEW."statistic", NEW."value"); RETURN NULL;',
                    hash="1b918c95efa06f86fd12f78cd36f2de07af4328c",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_d26a0",
                    table="labnotes_flowpopulationvalue",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowpopulationvalue",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_flowpopulationvalueevent" ("acquisition_id", "flow_import_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "population", "source_path", "statistic", "value") VALUES (NEW."acquisition_id", NEW."flow_import_id", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."population", NEW."source_path", NEW."statistic", NEW."value"); RETURN NULL;',
                    hash="c875db8178f84012f88108419f6d9dbdcd898c4e",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_2e74e",
                    table="labnotes_flowpopulationvalue",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowpopulationvalue",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_flowpopulationvalueevent" ("acquisition_id", "flow_import_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "population", "source_path", "statistic", "value") VALUES (OLD."acquisition_id", OLD."flow_import_id", OLD."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."population", OLD."source_path", OLD."statistic", OLD."value"); RETURN NULL;',
                    hash="92754f0597e15cbfe9fc3592c8e54263d9ba2119",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_697e3",
                    table="labnotes_flowpopulationvalue",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowpopulationvalueevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="00d76724268cee2c45aba4f3a1178475ecea2bfc",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_89347",
                    table="labnotes_flowpopulationvalueevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="flowsamplemapping",
            constraint=models.UniqueConstraint(
                fields=("lab", "name"), name="flow_mapping_name_unique_in_lab"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowsamplemapping",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_flowsamplemappingevent" ("created_at", "created_by_id", "id", "lab_id", "last_used_at", "name", "pattern", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "population_columns", "row_version", "tissue_aliases") VALUES (NEW."created_at", NEW."created_by_id", NEW."id", NEW."lab_id", NEW."last_used_at", NEW."name", NEW."pattern", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."population_columns", NEW."row_version", NEW."tissue_aliases"); RETURN NULL;',
                    hash="928599f3f26913b2ae63f6ea9e0d5b599e8c2035",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_b4360",
                    table="labnotes_flowsamplemapping",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowsamplemapping",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_flowsamplemappingevent" ("created_at", "created_by_id", "id", "lab_id", "last_used_at", "name", "pattern", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "population_columns", "row_version", "tissue_aliases") VALUES (NEW."created_at", NEW."created_by_id", NEW."id", NEW."lab_id", NEW."last_used_at", NEW."name", NEW."pattern", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."population_columns", NEW."row_version", NEW."tissue_aliases"); RETURN NULL;',
                    hash="2947e11ac38499855bba8d45ab93992f6e860872",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_2dcfe",
                    table="labnotes_flowsamplemapping",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowsamplemapping",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_flowsamplemappingevent" ("created_at", "created_by_id", "id", "lab_id", "last_used_at", "name", "pattern", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "population_columns", "row_version", "tissue_aliases") VALUES (OLD."created_at", OLD."created_by_id", OLD."id", OLD."lab_id", OLD."last_used_at", OLD."name", OLD."pattern", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."population_columns", OLD."row_version", OLD."tissue_aliases"); RETURN NULL;',
                    hash="748e0c8ac121869a6305fb0d60d00a9379f3b593",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_0f869",
                    table="labnotes_flowsamplemapping",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowimportevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="2e5d150a5edf4a7d54ec33cc12da8162a9f061cb",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_367f1",
                    table="labnotes_flowimportevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="flowimport",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["flowjo_table", "flowjo_workspace"])),
                name="flow_import_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="flowimport",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("voided_at__isnull", True),
                    models.Q(
                        ("voided_by__isnull", False), models.Q(("void_reason", ""), _negated=True)
                    ),
                    _connector="OR",
                ),
                name="flow_import_void_has_who_and_why",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowimport",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_flowimportevent" ("id", "imported_at", "imported_by_id", "kind", "mapping_id", "mapping_snapshot", "panel_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "sample_count", "stored_file_id", "value_count", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."id", NEW."imported_at", NEW."imported_by_id", NEW."kind", NEW."mapping_id", NEW."mapping_snapshot", NEW."panel_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."sample_count", NEW."stored_file_id", NEW."value_count", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="0a87c861ca5b1c1c4155d6e1e89ad8b285b30159",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_c80c7",
                    table="labnotes_flowimport",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowimport",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_flowimportevent" ("id", "imported_at", "imported_by_id", "kind", "mapping_id", "mapping_snapshot", "panel_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "sample_count", "stored_file_id", "value_count", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."id", NEW."imported_at", NEW."imported_by_id", NEW."kind", NEW."mapping_id", NEW."mapping_snapshot", NEW."panel_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."sample_count", NEW."stored_file_id", NEW."value_count", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="2ac1a35e5c75c079b998a58b38e1559acc69b4e3",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_077b5",
                    table="labnotes_flowimport",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowimport",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_flowimportevent" ("id", "imported_at", "imported_by_id", "kind", "mapping_id", "mapping_snapshot", "panel_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "sample_count", "stored_file_id", "value_count", "void_reason", "voided_at", "voided_by_id") VALUES (OLD."id", OLD."imported_at", OLD."imported_by_id", OLD."kind", OLD."mapping_id", OLD."mapping_snapshot", OLD."panel_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."sample_count", OLD."stored_file_id", OLD."value_count", OLD."void_reason", OLD."voided_at", OLD."voided_by_id"); RETURN NULL;',
                    hash="387b3210bfa2ae05a54ba925a849bf06279adc10",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_0b57f",
                    table="labnotes_flowimport",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="flowsamplemappingevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="24958f1a40bd9b1c8eec5a41f0836e50df362c47",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_64d98",
                    table="labnotes_flowsamplemappingevent",
                    when="BEFORE",
                ),
            ),
        ),
    ]
