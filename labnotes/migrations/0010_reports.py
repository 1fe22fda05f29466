"""Study reports: report jobs (one per run, kind, variant, options and data hash) and their
stored artifacts (issue 8)."""

import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0009_samples_notebook"),
        ("planner", "0003_add_audit_chain_security_log_ethics_reference"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Report",
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
                        choices=[("interim", "Interim"), ("final", "Final")], max_length=10
                    ),
                ),
                (
                    "variant",
                    models.CharField(
                        choices=[
                            ("unblinded", "Unblinded (arm labels and regimens)"),
                            ("blinded", "Blinded (arm codes only)"),
                        ],
                        default="unblinded",
                        max_length=10,
                    ),
                ),
                ("options", models.JSONField(default=dict)),
                ("options_key", models.CharField(max_length=64)),
                ("exploratory", models.BooleanField(default=False)),
                ("plan_differences", models.JSONField(blank=True, default=list)),
                (
                    "data_hash",
                    models.CharField(
                        help_text="sha256:<hex> of the counted data when the report was asked for.",
                        max_length=71,
                    ),
                ),
                (
                    "built_data_hash",
                    models.CharField(
                        blank=True,
                        help_text="sha256:<hex> of the counted data the report was built from.",
                        max_length=71,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("succeeded", "Succeeded"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=10,
                    ),
                ),
                ("progress_percent", models.PositiveSmallIntegerField(default=0)),
                ("current_step", models.CharField(blank=True, max_length=120)),
                ("requested_at", models.DateTimeField(auto_now_add=True)),
                (
                    "enqueued_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="When a worker message for this job was last sent.",
                        null=True,
                    ),
                ),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("losses", models.PositiveSmallIntegerField(default=0)),
                ("claim_token", models.CharField(blank=True, max_length=64)),
                ("worker", models.CharField(blank=True, max_length=200)),
                (
                    "message",
                    models.TextField(blank=True, help_text="What went wrong, for the scientist."),
                ),
                (
                    "error_detail",
                    models.TextField(blank=True, help_text="Technical detail for the admin."),
                ),
                ("software_version", models.CharField(blank=True, max_length=40)),
                ("results", models.JSONField(blank=True, default=dict)),
                (
                    "lab",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reports",
                        to="planner.lab",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="requested_reports",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reports",
                        to="labnotes.studyrun",
                    ),
                ),
            ],
            options={
                "ordering": ["-requested_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="ReportArtifact",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(help_text="report.html, report.pdf, …", max_length=60)),
                ("sha256", models.CharField(max_length=64)),
                ("size_bytes", models.PositiveBigIntegerField()),
                ("content_type", models.CharField(max_length=100)),
                ("software_version", models.CharField(max_length=40)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "report",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="artifacts",
                        to="labnotes.report",
                    ),
                ),
                (
                    "stored_file",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="report_artifacts",
                        to="labnotes.storedfile",
                    ),
                ),
            ],
            options={
                "ordering": ["report", "name"],
            },
        ),
        migrations.CreateModel(
            name="ReportArtifactEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("name", models.CharField(help_text="report.html, report.pdf, …", max_length=60)),
                ("sha256", models.CharField(max_length=64)),
                ("size_bytes", models.PositiveBigIntegerField()),
                ("content_type", models.CharField(max_length=100)),
                ("software_version", models.CharField(max_length=40)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.reportartifact",
                    ),
                ),
                (
                    "report",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.report",
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
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="ReportEvent",
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
                        choices=[("interim", "Interim"), ("final", "Final")], max_length=10
                    ),
                ),
                (
                    "variant",
                    models.CharField(
                        choices=[
                            ("unblinded", "Unblinded (arm labels and regimens)"),
                            ("blinded", "Blinded (arm codes only)"),
                        ],
                        default="unblinded",
                        max_length=10,
                    ),
                ),
                ("options", models.JSONField(default=dict)),
                ("options_key", models.CharField(max_length=64)),
                ("exploratory", models.BooleanField(default=False)),
                ("plan_differences", models.JSONField(blank=True, default=list)),
                (
                    "data_hash",
                    models.CharField(
                        help_text="sha256:<hex> of the counted data when the report was asked for.",
                        max_length=71,
                    ),
                ),
                (
                    "built_data_hash",
                    models.CharField(
                        blank=True,
                        help_text="sha256:<hex> of the counted data the report was built from.",
                        max_length=71,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("succeeded", "Succeeded"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=10,
                    ),
                ),
                ("progress_percent", models.PositiveSmallIntegerField(default=0)),
                ("current_step", models.CharField(blank=True, max_length=120)),
                ("requested_at", models.DateTimeField(auto_now_add=True)),
                (
                    "enqueued_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="When a worker message for this job was last sent.",
                        null=True,
                    ),
                ),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("losses", models.PositiveSmallIntegerField(default=0)),
                ("claim_token", models.CharField(blank=True, max_length=64)),
                ("worker", models.CharField(blank=True, max_length=200)),
                (
                    "message",
                    models.TextField(blank=True, help_text="What went wrong, for the scientist."),
                ),
                (
                    "error_detail",
                    models.TextField(blank=True, help_text="Technical detail for the admin."),
                ),
                ("software_version", models.CharField(blank=True, max_length=40)),
                ("results", models.JSONField(blank=True, default=dict)),
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
                        to="labnotes.report",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
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
        migrations.AddIndex(
            model_name="report",
            index=models.Index(fields=["status", "heartbeat_at"], name="report_status_heartbeat"),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["queued", "running", "succeeded", "failed"])),
                name="report_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["interim", "final"])), name="report_kind_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.CheckConstraint(
                condition=models.Q(("variant__in", ["unblinded", "blinded"])),
                name="report_variant_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.CheckConstraint(
                condition=models.Q(("progress_percent__lte", 100)), name="report_progress_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "failed"), _negated=True),
                    models.Q(("message", ""), _negated=True),
                    _connector="OR",
                ),
                name="report_failure_has_message",
            ),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "failed"), _negated=True),
                fields=("run", "kind", "variant", "options_key", "data_hash"),
                name="report_one_job_per_request",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="report",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_reportevent" ("attempts", "built_data_hash", "claim_token", "current_step", "data_hash", "enqueued_at", "error_detail", "exploratory", "finished_at", "heartbeat_at", "id", "kind", "lab_id", "losses", "message", "options", "options_key", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plan_differences", "progress_percent", "requested_at", "requested_by_id", "results", "run_id", "software_version", "started_at", "status", "variant", "worker") VALUES (NEW."attempts", NEW."built_data_hash", NEW."claim_token", NEW."current_step", NEW."data_hash", NEW."enqueued_at", NEW."error_detail", NEW."exploratory", NEW."finished_at", NEW."heartbeat_at", NEW."id", NEW."kind", NEW."lab_id", NEW."losses", NEW."message", NEW."options", NEW."options_key", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."plan_differences", NEW."progress_percent", NEW."requested_at", NEW."requested_by_id", NEW."results", NEW."run_id", NEW."software_version", NEW."started_at", NEW."status", NEW."variant", NEW."worker"); RETURN NULL;',
                    hash="3d4e8aae99b6a86b719eac33b754d8a9547f236f",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_31202",
                    table="labnotes_report",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="report",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_reportevent" ("attempts", "built_data_hash", "claim_token", "current_step", "data_hash", "enqueued_at", "error_detail", "exploratory", "finished_at", "heartbeat_at", "id", "kind", "lab_id", "losses", "message", "options", "options_key", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plan_differences", "progress_percent", "requested_at", "requested_by_id", "results", "run_id", "software_version", "started_at", "status", "variant", "worker") VALUES (NEW."attempts", NEW."built_data_hash", NEW."claim_token", NEW."current_step", NEW."data_hash", NEW."enqueued_at", NEW."error_detail", NEW."exploratory", NEW."finished_at", NEW."heartbeat_at", NEW."id", NEW."kind", NEW."lab_id", NEW."losses", NEW."message", NEW."options", NEW."options_key", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."plan_differences", NEW."progress_percent", NEW."requested_at", NEW."requested_by_id", NEW."results", NEW."run_id", NEW."software_version", NEW."started_at", NEW."status", NEW."variant", NEW."worker"); RETURN NULL;',
                    hash="5c8dabf4086caf8340451cd3d0fbfca4f053c8ce",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_d2a41",
                    table="labnotes_report",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="report",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_reportevent" ("attempts", "built_data_hash", "claim_token", "current_step", "data_hash", "enqueued_at", "error_detail", "exploratory", "finished_at", "heartbeat_at", "id", "kind", "lab_id", "losses", "message", "options", "options_key", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plan_differences", "progress_percent", "requested_at", "requested_by_id", "results", "run_id", "software_version", "started_at", "status", "variant", "worker") VALUES (OLD."attempts", OLD."built_data_hash", OLD."claim_token", OLD."current_step", OLD."data_hash", OLD."enqueued_at", OLD."error_detail", OLD."exploratory", OLD."finished_at", OLD."heartbeat_at", OLD."id", OLD."kind", OLD."lab_id", OLD."losses", OLD."message", OLD."options", OLD."options_key", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."plan_differences", OLD."progress_percent", OLD."requested_at", OLD."requested_by_id", OLD."results", OLD."run_id", OLD."software_version", OLD."started_at", OLD."status", OLD."variant", OLD."worker"); RETURN NULL;',
                    hash="8352917d4c0a235cb47eb3b6181ba2a873f44785",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_7d22b",
                    table="labnotes_report",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="reportartifact",
            constraint=models.UniqueConstraint(
                fields=("report", "name"), name="report_artifact_name_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="reportartifact",
            constraint=models.CheckConstraint(
                condition=models.Q(("sha256__regex", "^[0-9a-f]{64}$")),
                name="report_artifact_sha256_is_hex",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="reportartifact",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_reportartifactevent" ("content_type", "created_at", "id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "report_id", "sha256", "size_bytes", "software_version", "stored_file_id") VALUES (NEW."content_type", NEW."created_at", NEW."id", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."report_id", NEW."sha256", NEW."size_bytes", NEW."software_version", NEW."stored_file_id"); RETURN NULL;',
                    hash="d7fb0d7373c9fade12cb621d0d9c5c7ad1fe828e",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_20247",
                    table="labnotes_reportartifact",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="reportartifact",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_reportartifactevent" ("content_type", "created_at", "id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "report_id", "sha256", "size_bytes", "software_version", "stored_file_id") VALUES (NEW."content_type", NEW."created_at", NEW."id", NEW."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."report_id", NEW."sha256", NEW."size_bytes", NEW."software_version", NEW."stored_file_id"); RETURN NULL;',
                    hash="fe6bdfdec2b2d47a62dbea8e7e9bc8fd07b084d0",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_6db91",
                    table="labnotes_reportartifact",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="reportartifact",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_reportartifactevent" ("content_type", "created_at", "id", "name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "report_id", "sha256", "size_bytes", "software_version", "stored_file_id") VALUES (OLD."content_type", OLD."created_at", OLD."id", OLD."name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."report_id", OLD."sha256", OLD."size_bytes", OLD."software_version", OLD."stored_file_id"); RETURN NULL;',
                    hash="baf44558dff4a2b746cedb66db625c65289b1975",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_3de64",
                    table="labnotes_reportartifact",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="reportartifactevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="a6ab4c130ed9a217cb9b8a4d14720a3cef57165f",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_c3ed4",
                    table="labnotes_reportartifactevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="reportevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="cb6636c7efe827c5bb8542fd82409442c30d674f",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_f2803",
                    table="labnotes_reportevent",
                    when="BEFORE",
                ),
            ),
        ),
    ]
