"""Electronic signatures and run data locks (issue 10).

The run lock: ``vivolog_refuse_locked_run`` refuses INSERT, UPDATE and DELETE of a row whose
run has an active ``RunLock`` (found through the row's run, animal, tumour, observation or
dose), on every write path, with a message a scientist can read. The triggers are named
``vivolog_*`` and set ENABLE ALWAYS, like the audit triggers (``install_chain`` keeps them so).
"""

import django.db.models.deletion
import django.db.models.functions.datetime
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

RUN_OF_FUNCTION = """
CREATE OR REPLACE FUNCTION vivolog_run_of(via text, key_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT CASE via
        WHEN 'run' THEN key_id
        WHEN 'animal' THEN (SELECT a.run_id FROM labnotes_animal a WHERE a.id = key_id)
        WHEN 'tumour' THEN (SELECT a.run_id FROM labnotes_tumour t
                              JOIN labnotes_animal a ON a.id = t.animal_id WHERE t.id = key_id)
        WHEN 'observation' THEN (SELECT a.run_id FROM labnotes_observation o
                                   JOIN labnotes_animal a ON a.id = o.animal_id
                                  WHERE o.id = key_id)
        WHEN 'dose' THEN (SELECT d.run_id FROM labnotes_doserecord d WHERE d.id = key_id)
        WHEN 'plate' THEN (SELECT p.run_id FROM labnotes_elisaplate p WHERE p.id = key_id)
        WHEN 'panel' THEN (SELECT f.run_id FROM labnotes_flowpanel f WHERE f.id = key_id)
        WHEN 'acquisition' THEN (SELECT f.run_id FROM labnotes_flowacquisition q
                                   JOIN labnotes_flowpanel f ON f.id = q.panel_id
                                  WHERE q.id = key_id)
    END
$$;
"""

REFUSE_LOCKED_FUNCTION = """
CREATE OR REPLACE FUNCTION vivolog_refuse_locked_run() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    row_data jsonb;
    key_id bigint;
    target_run bigint;
    held record;
BEGIN
    -- TG_ARGV[0]: what the key column points at (run, animal, tumour, observation, dose,
    -- plate, panel, acquisition);
    -- TG_ARGV[1]: the column. Both the old and the new row are checked: moving a row out of
    -- or into a locked run is refused too.
    FOR row_data IN
        SELECT value FROM (VALUES
            (CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END),
            (CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END)
        ) AS rows(value) WHERE value IS NOT NULL
    LOOP
        key_id := (row_data ->> TG_ARGV[1])::bigint;
        CONTINUE WHEN key_id IS NULL;
        target_run := vivolog_run_of(TG_ARGV[0], key_id);
        CONTINUE WHEN target_run IS NULL;
        SELECT l.locked_at, l.locked_by_name, l.reason, r.code AS run_code,
               s.code AS study_code, lab.time_zone
          INTO held
          FROM labnotes_runlock l
          JOIN labnotes_studyrun r ON r.id = l.run_id
          JOIN planner_study s ON s.id = r.study_id
          JOIN planner_lab lab ON lab.id = s.lab_id
         WHERE l.run_id = target_run AND l.released_at IS NULL
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'run % / % is locked since % by % (reason: %): % on % refused',
                held.study_code, held.run_code,
                to_char(held.locked_at AT TIME ZONE held.time_zone, 'YYYY-MM-DD HH24:MI')
                    || ' ' || held.time_zone,
                held.locked_by_name, left(held.reason, 200), TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'VL423',
                      HINT = 'Unlocking the run needs the study director and QA, each with a '
                             'reason.';
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
"""

#: (table, what the key column points at, the key column); mirrors
#: ``labnotes.models.locks.LOCKED_TABLES`` as it was when this migration was written.
LOCKED_TABLES = (
    ("labnotes_animal", "run", "run_id"),
    ("labnotes_cage", "run", "run_id"),
    ("labnotes_cageassignment", "animal", "animal_id"),
    ("labnotes_tumour", "animal", "animal_id"),
    ("labnotes_implantation", "tumour", "tumour_id"),
    ("labnotes_measurement", "animal", "animal_id"),
    ("labnotes_pendingaxis", "animal", "animal_id"),
    ("labnotes_doserecord", "run", "run_id"),
    ("labnotes_dosedeviation", "dose", "dose_id"),
    ("labnotes_dosemodification", "run", "run_id"),
    ("labnotes_observation", "animal", "animal_id"),
    ("labnotes_ulcerationscore", "observation", "observation_id"),
    ("labnotes_welfarecheck", "animal", "animal_id"),
    ("labnotes_endpointepisode", "animal", "animal_id"),
    ("labnotes_endpointrecord", "animal", "animal_id"),
    ("labnotes_sample", "animal", "animal_id"),
    ("labnotes_necropsy", "animal", "animal_id"),
    ("labnotes_randomizationbatch", "run", "run_id"),
    ("labnotes_transcriptionsheet", "run", "run_id"),
    ("labnotes_elisaplate", "run", "run_id"),
    ("labnotes_platewell", "plate", "plate_id"),
    ("labnotes_elisaresult", "plate", "plate_id"),
    ("labnotes_flowpanel", "run", "run_id"),
    ("labnotes_flowimport", "panel", "panel_id"),
    ("labnotes_flowacquisition", "panel", "panel_id"),
    ("labnotes_flowpopulationvalue", "acquisition", "acquisition_id"),
)


def _create_lock_triggers() -> str:
    statements = [RUN_OF_FUNCTION, REFUSE_LOCKED_FUNCTION]
    for table, via, column in LOCKED_TABLES:
        statements.append(
            f"CREATE TRIGGER vivolog_run_lock BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION vivolog_refuse_locked_run('{via}', '{column}');"
        )
        statements.append(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER vivolog_run_lock;")
    # The run itself: its day 0 (every study day) and its design cannot move while locked.
    statements.append(
        "CREATE TRIGGER vivolog_run_lock BEFORE UPDATE ON labnotes_studyrun FOR EACH ROW "
        "WHEN (OLD.day0 IS DISTINCT FROM NEW.day0 OR OLD.study_id IS DISTINCT FROM NEW.study_id "
        "OR OLD.code IS DISTINCT FROM NEW.code) "
        "EXECUTE FUNCTION vivolog_refuse_locked_run('run', 'id');"
    )
    statements.append("ALTER TABLE labnotes_studyrun ENABLE ALWAYS TRIGGER vivolog_run_lock;")
    return "\n".join(statements)


def _drop_lock_triggers() -> str:
    tables = [table for table, _, _ in LOCKED_TABLES] + ["labnotes_studyrun"]
    statements = [f"DROP TRIGGER IF EXISTS vivolog_run_lock ON {table};" for table in tables]
    statements.append("DROP FUNCTION IF EXISTS vivolog_refuse_locked_run();")
    statements.append("DROP FUNCTION IF EXISTS vivolog_run_of(text, bigint);")
    return "\n".join(statements)


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0012_flow_cytometry"),
        ("planner", "0008_signatures"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RunLock",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.TextField()),
                ("locked_by_name", models.CharField(max_length=300)),
                (
                    "locked_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                ("director_release_reason", models.TextField(blank=True)),
                ("director_release_at", models.DateTimeField(blank=True, null=True)),
                ("qa_release_reason", models.TextField(blank=True)),
                ("qa_release_at", models.DateTimeField(blank=True, null=True)),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                (
                    "director_release_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "locked_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="run_locks",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "qa_release_by",
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
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="locks",
                        to="labnotes.studyrun",
                    ),
                ),
            ],
            options={
                "ordering": ["run", "-locked_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="RunLockEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("reason", models.TextField()),
                ("locked_by_name", models.CharField(max_length=300)),
                (
                    "locked_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                ("director_release_reason", models.TextField(blank=True)),
                ("director_release_at", models.DateTimeField(blank=True, null=True)),
                ("qa_release_reason", models.TextField(blank=True)),
                ("qa_release_at", models.DateTimeField(blank=True, null=True)),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                (
                    "director_release_by",
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
                    "locked_by",
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
                        to="labnotes.runlock",
                    ),
                ),
                (
                    "qa_release_by",
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
        migrations.AddConstraint(
            model_name="runlock",
            constraint=models.UniqueConstraint(
                condition=models.Q(("released_at__isnull", True)),
                fields=("run",),
                name="run_lock_one_active_per_run",
            ),
        ),
        migrations.AddConstraint(
            model_name="runlock",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("reason", ""), _negated=True),
                    models.Q(("locked_by_name", ""), _negated=True),
                ),
                name="run_lock_has_reason_and_name",
            ),
        ),
        migrations.AddConstraint(
            model_name="runlock",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("director_release_by__isnull", True),
                    models.Q(
                        models.Q(("director_release_reason", ""), _negated=True),
                        ("director_release_at__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="run_lock_director_release_has_why_when",
            ),
        ),
        migrations.AddConstraint(
            model_name="runlock",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("qa_release_by__isnull", True),
                    models.Q(
                        models.Q(("qa_release_reason", ""), _negated=True),
                        ("qa_release_at__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="run_lock_qa_release_has_why_when",
            ),
        ),
        migrations.AddConstraint(
            model_name="runlock",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("released_at__isnull", True),
                    models.Q(
                        ("director_release_by__isnull", False), ("qa_release_by__isnull", False)
                    ),
                    _connector="OR",
                ),
                name="run_lock_release_needs_both",
            ),
        ),
        migrations.AddConstraint(
            model_name="runlock",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("director_release_by__isnull", True),
                    ("qa_release_by__isnull", True),
                    models.Q(("director_release_by", models.F("qa_release_by")), _negated=True),
                    _connector="OR",
                ),
                name="run_lock_release_two_people",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="runlock",
            trigger=pgtrigger.compiler.Trigger(
                name="run_lock_never_deleted",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table', TG_TABLE_NAME;",
                    hash="80674ef272548605138ca82da38d2d6cb1861dd4",
                    operation="DELETE",
                    pgid="pgtrigger_run_lock_never_deleted_a6236",
                    table="labnotes_runlock",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="runlock",
            trigger=pgtrigger.compiler.Trigger(
                name="run_lock_history_frozen",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."released_at" IS NOT NULL OR OLD."run_id" IS DISTINCT FROM (NEW."run_id") OR OLD."reason" IS DISTINCT FROM (NEW."reason") OR OLD."locked_by_id" IS DISTINCT FROM (NEW."locked_by_id") OR OLD."locked_by_name" IS DISTINCT FROM (NEW."locked_by_name") OR OLD."locked_at" IS DISTINCT FROM (NEW."locked_at") OR (OLD."director_release_by_id" IS NOT NULL AND (OLD."director_release_by_id" IS DISTINCT FROM (NEW."director_release_by_id") OR OLD."director_release_reason" IS DISTINCT FROM (NEW."director_release_reason"))) OR (OLD."qa_release_by_id" IS NOT NULL AND (OLD."qa_release_by_id" IS DISTINCT FROM (NEW."qa_release_by_id") OR OLD."qa_release_reason" IS DISTINCT FROM (NEW."qa_release_reason"))))',
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;",
                    hash="f076ce6206e97d1123d9701578d8ff64be88f052",
                    operation="UPDATE",
                    pgid="pgtrigger_run_lock_history_frozen_345d6",
                    table="labnotes_runlock",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="runlock",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_runlockevent" ("director_release_at", "director_release_by_id", "director_release_reason", "id", "locked_at", "locked_by_id", "locked_by_name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "qa_release_at", "qa_release_by_id", "qa_release_reason", "reason", "released_at", "run_id") VALUES (NEW."director_release_at", NEW."director_release_by_id", NEW."director_release_reason", NEW."id", NEW."locked_at", NEW."locked_by_id", NEW."locked_by_name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."qa_release_at", NEW."qa_release_by_id", NEW."qa_release_reason", NEW."reason", NEW."released_at", NEW."run_id"); RETURN NULL;',
                    hash="8de277b23565da986c581ef021beab595f87b819",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_ce60e",
                    table="labnotes_runlock",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="runlock",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_runlockevent" ("director_release_at", "director_release_by_id", "director_release_reason", "id", "locked_at", "locked_by_id", "locked_by_name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "qa_release_at", "qa_release_by_id", "qa_release_reason", "reason", "released_at", "run_id") VALUES (NEW."director_release_at", NEW."director_release_by_id", NEW."director_release_reason", NEW."id", NEW."locked_at", NEW."locked_by_id", NEW."locked_by_name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."qa_release_at", NEW."qa_release_by_id", NEW."qa_release_reason", NEW."reason", NEW."released_at", NEW."run_id"); RETURN NULL;',
                    hash="8c70f01d8bd6277610d229a6265945beb323bdd6",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_f3334",
                    table="labnotes_runlock",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="runlock",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_runlockevent" ("director_release_at", "director_release_by_id", "director_release_reason", "id", "locked_at", "locked_by_id", "locked_by_name", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "qa_release_at", "qa_release_by_id", "qa_release_reason", "reason", "released_at", "run_id") VALUES (OLD."director_release_at", OLD."director_release_by_id", OLD."director_release_reason", OLD."id", OLD."locked_at", OLD."locked_by_id", OLD."locked_by_name", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."qa_release_at", OLD."qa_release_by_id", OLD."qa_release_reason", OLD."reason", OLD."released_at", OLD."run_id"); RETURN NULL;',
                    hash="002c47d68c471ea4dc53ba3a9e9927e5882e02cb",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_e37f9",
                    table="labnotes_runlock",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="runlockevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="39b3a01d8d676cba50657bf83c12f3f8974ad91e",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_53e03",
                    table="labnotes_runlockevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunSQL(_create_lock_triggers(), _drop_lock_triggers()),
    ]
