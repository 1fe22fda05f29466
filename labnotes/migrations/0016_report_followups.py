"""Report follow-ups: per-study pooled reports (issue 8)."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0015_instruments"),
        ("planner", "0001_initial_tenancy_and_studies"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="report",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="report",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="report",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="report",
            name="pooled_runs",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Primary keys of the runs a study report pools (ascending); [] for a run report.",
            ),
        ),
        migrations.AddField(
            model_name="report",
            name="study",
            field=models.ForeignKey(
                blank=True,
                help_text="The study of a report pooling several of its runs; empty for a run report.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="pooled_reports",
                to="planner.study",
            ),
        ),
        migrations.AddField(
            model_name="reportevent",
            name="pooled_runs",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Primary keys of the runs a study report pools (ascending); [] for a run report.",
            ),
        ),
        migrations.AddField(
            model_name="reportevent",
            name="study",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The study of a report pooling several of its runs; empty for a run report.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="planner.study",
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="run",
            field=models.ForeignKey(
                blank=True,
                help_text="The run of a run report; empty for a report pooling runs of a study.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reports",
                to="labnotes.studyrun",
            ),
        ),
        migrations.AlterField(
            model_name="reportevent",
            name="run",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The run of a run report; empty for a report pooling runs of a study.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.studyrun",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="report",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_reportevent" ("attempts", "built_data_hash", "claim_token", "current_step", "data_hash", "enqueued_at", "error_detail", "exploratory", "finished_at", "heartbeat_at", "id", "kind", "lab_id", "losses", "message", "options", "options_key", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plan_differences", "pooled_runs", "progress_percent", "requested_at", "requested_by_id", "results", "run_id", "software_version", "started_at", "status", "study_id", "variant", "worker") VALUES (NEW."attempts", NEW."built_data_hash", NEW."claim_token", NEW."current_step", NEW."data_hash", NEW."enqueued_at", NEW."error_detail", NEW."exploratory", NEW."finished_at", NEW."heartbeat_at", NEW."id", NEW."kind", NEW."lab_id", NEW."losses", NEW."message", NEW."options", NEW."options_key", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."plan_differences", NEW."pooled_runs", NEW."progress_percent", NEW."requested_at", NEW."requested_by_id", NEW."results", NEW."run_id", NEW."software_version", NEW."started_at", NEW."status", NEW."study_id", NEW."variant", NEW."worker"); RETURN NULL;',
                    hash="140516ce5365645b34ae8286fe51b4d9a9351dfe",
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
                    func='INSERT INTO "labnotes_reportevent" ("attempts", "built_data_hash", "claim_token", "current_step", "data_hash", "enqueued_at", "error_detail", "exploratory", "finished_at", "heartbeat_at", "id", "kind", "lab_id", "losses", "message", "options", "options_key", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plan_differences", "pooled_runs", "progress_percent", "requested_at", "requested_by_id", "results", "run_id", "software_version", "started_at", "status", "study_id", "variant", "worker") VALUES (NEW."attempts", NEW."built_data_hash", NEW."claim_token", NEW."current_step", NEW."data_hash", NEW."enqueued_at", NEW."error_detail", NEW."exploratory", NEW."finished_at", NEW."heartbeat_at", NEW."id", NEW."kind", NEW."lab_id", NEW."losses", NEW."message", NEW."options", NEW."options_key", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."plan_differences", NEW."pooled_runs", NEW."progress_percent", NEW."requested_at", NEW."requested_by_id", NEW."results", NEW."run_id", NEW."software_version", NEW."started_at", NEW."status", NEW."study_id", NEW."variant", NEW."worker"); RETURN NULL;',
                    hash="3a07b90aebebea1e94d8537a418bb01f48ebaadb",
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
                    func='INSERT INTO "labnotes_reportevent" ("attempts", "built_data_hash", "claim_token", "current_step", "data_hash", "enqueued_at", "error_detail", "exploratory", "finished_at", "heartbeat_at", "id", "kind", "lab_id", "losses", "message", "options", "options_key", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plan_differences", "pooled_runs", "progress_percent", "requested_at", "requested_by_id", "results", "run_id", "software_version", "started_at", "status", "study_id", "variant", "worker") VALUES (OLD."attempts", OLD."built_data_hash", OLD."claim_token", OLD."current_step", OLD."data_hash", OLD."enqueued_at", OLD."error_detail", OLD."exploratory", OLD."finished_at", OLD."heartbeat_at", OLD."id", OLD."kind", OLD."lab_id", OLD."losses", OLD."message", OLD."options", OLD."options_key", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."plan_differences", OLD."pooled_runs", OLD."progress_percent", OLD."requested_at", OLD."requested_by_id", OLD."results", OLD."run_id", OLD."software_version", OLD."started_at", OLD."status", OLD."study_id", OLD."variant", OLD."worker"); RETURN NULL;',
                    hash="baacd19aced96724dde7a90cd629913281a1e832",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_7d22b",
                    table="labnotes_report",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    models.Q(("status", "failed"), _negated=True), ("run__isnull", True)
                ),
                fields=("study", "kind", "variant", "options_key", "data_hash"),
                name="report_one_pooled_job_per_request",
            ),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("run__isnull", False), ("study__isnull", True)),
                    models.Q(("run__isnull", True), ("study__isnull", False)),
                    _connector="OR",
                ),
                name="report_of_a_run_or_a_study",
            ),
        ),
    ]
