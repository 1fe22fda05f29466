"""Regimen items carry a row version, so that a stale edit of an item is refused (If-Match, 409)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("planner", "0006_add_veterinarian_role"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="regimenitem",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="regimenitem",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="regimenitem",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="regimenitem",
            name="row_version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.AddField(
            model_name="regimenitemevent",
            name="row_version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="regimenitem",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "planner_regimenitemevent" ("agent", "arm_id", "dose", "dose_basis", "id", "is_vehicle", "non_working_day_rule", "order", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "route", "row_version", "schedule", "window_days") VALUES (NEW."agent", NEW."arm_id", NEW."dose", NEW."dose_basis", NEW."id", NEW."is_vehicle", NEW."non_working_day_rule", NEW."order", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."protocol_version_id", NEW."route", NEW."row_version", NEW."schedule", NEW."window_days"); RETURN NULL;',
                    hash="dcdba046c6e029f29b38d3a406d45bf008eda97c",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_563cd",
                    table="planner_regimenitem",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="regimenitem",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "planner_regimenitemevent" ("agent", "arm_id", "dose", "dose_basis", "id", "is_vehicle", "non_working_day_rule", "order", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "route", "row_version", "schedule", "window_days") VALUES (NEW."agent", NEW."arm_id", NEW."dose", NEW."dose_basis", NEW."id", NEW."is_vehicle", NEW."non_working_day_rule", NEW."order", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."protocol_version_id", NEW."route", NEW."row_version", NEW."schedule", NEW."window_days"); RETURN NULL;',
                    hash="33f530f7c9968877686da766eee6c19fd377631e",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_6d778",
                    table="planner_regimenitem",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="regimenitem",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "planner_regimenitemevent" ("agent", "arm_id", "dose", "dose_basis", "id", "is_vehicle", "non_working_day_rule", "order", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "route", "row_version", "schedule", "window_days") VALUES (OLD."agent", OLD."arm_id", OLD."dose", OLD."dose_basis", OLD."id", OLD."is_vehicle", OLD."non_working_day_rule", OLD."order", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."protocol_version_id", OLD."route", OLD."row_version", OLD."schedule", OLD."window_days"); RETURN NULL;',
                    hash="34f4ad09a5aa860b458c40bf42238e30cd45e25a",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_b61f4",
                    table="planner_regimenitem",
                    when="AFTER",
                ),
            ),
        ),
    ]
