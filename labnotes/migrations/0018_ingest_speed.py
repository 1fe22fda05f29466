"""Bulk ingest speed (issue 11): the run-lock and archive checks and the audit events of
measurement INSERTs run once per statement instead of once per row.

Migrations 0013 (``vivolog_run_lock``) and 0014 (``labnotes_measurement_refuse_archived``) check
every inserted, updated or deleted measurement row by itself: a COPY of 5,000 readings of one run
looked the same lock and the same study up 10,000 times. Here the row triggers on
``labnotes_measurement`` keep UPDATE and DELETE, and INSERT (rows, multi-row INSERTs and COPY
alike) is checked by statement-level AFTER triggers over the transition table of the inserted
rows: the distinct animals' runs are looked up once. An insert into a locked run or an archived
study is refused with the same SQLSTATE (VL423, VL410) and the same message naming the study and
run as before; the statement (and its audit events) is rolled back by the error.

The new triggers are ``vivolog_run_lock_insert`` (ENABLE ALWAYS, like every ``vivolog_*``
trigger) and ``labnotes_measurement_insert_refuse_archived`` (``_refuse_archived`` suffix, as
the archive triggers of the other tables; ENABLE ALWAYS like them since 0017).

The audit trail's insert events of measurements are written the same way: pghistory's row
trigger (one plpgsql call and one single-row INSERT per reading) becomes a statement trigger of
the same name that writes every inserted reading's event with one INSERT ... SELECT from the
transition table: the same columns, audit context (who, token, request, why) and label, one
event per reading; each event row is still sealed into the hash chain at commit by its own
``vivolog_audit_chain`` trigger. UPDATE and DELETE events stay pghistory's row triggers.

Reversing restores the row triggers of 0002 (pghistory's function is left in place), 0013 and
0014 (ENABLE ALWAYS).
"""

from django.db import migrations

#: pghistory's insert trigger on the measurement table (pgtrigger's name for it, migration 0002).
#: Replaced by a statement trigger of the same name: a later pgtrigger migration that changes
#: it (RemoveTrigger + AddTrigger) drops this one by its name and puts back a row trigger, so
#: there is never a second insert event per reading.
AUDIT_INSERT_TRIGGER = "pgtrigger_insert_insert_7ea91"

REFUSE_LOCKED_INSERT_FUNCTION = """
CREATE OR REPLACE FUNCTION vivolog_refuse_locked_run_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    held record;
BEGIN
    -- Statement level, AFTER INSERT on labnotes_measurement: the inserted rows are the
    -- transition table vivolog_new_rows; their runs are found through their animals once.
    SELECT l.locked_at, l.locked_by_name, l.reason, r.code AS run_code,
           s.code AS study_code, lab.time_zone
      INTO held
      FROM (SELECT DISTINCT n.animal_id FROM vivolog_new_rows n) AS inserted
      JOIN labnotes_animal a ON a.id = inserted.animal_id
      JOIN labnotes_runlock l ON l.run_id = a.run_id AND l.released_at IS NULL
      JOIN labnotes_studyrun r ON r.id = l.run_id
      JOIN planner_study s ON s.id = r.study_id
      JOIN planner_lab lab ON lab.id = s.lab_id
     ORDER BY r.id
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
    RETURN NULL;
END;
$$;
"""

REFUSE_ARCHIVED_INSERT_FUNCTION = """
CREATE OR REPLACE FUNCTION labnotes_refuse_archived_study_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    study_code text;
BEGIN
    -- Statement level, AFTER INSERT on labnotes_measurement (transition table
    -- vivolog_new_rows): one look-up for the distinct animals inserted.
    SELECT s.code INTO study_code
      FROM (SELECT DISTINCT n.animal_id FROM vivolog_new_rows n) AS inserted
      JOIN labnotes_animal a ON a.id = inserted.animal_id
      JOIN labnotes_studyrun r ON r.id = a.run_id
      JOIN planner_study s ON s.id = r.study_id
     WHERE s.status = 'archived'
     ORDER BY s.id
     LIMIT 1;
    IF study_code IS NOT NULL THEN
        RAISE EXCEPTION 'Study % is archived: its records are read-only (% refused on %).',
            study_code, TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'VL410',
                  HINT = 'An archived study cannot be changed; its archive package holds '
                         'the records.';
    END IF;
    RETURN NULL;
END;
$$;
"""

AUDIT_INSERT_FUNCTION = """
CREATE OR REPLACE FUNCTION vivolog_measurement_insert_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- pghistory's insert event of every inserted reading, written by one INSERT for the
    -- statement: the same columns, context and label as pghistory's row trigger
    -- (pgtrigger_insert_insert_7ea91(), kept for the reverse migration), and the same
    -- pgtrigger.ignore switch, read once per statement.
    IF ("public"._pgtrigger_should_ignore(TG_NAME) IS TRUE) THEN
        RETURN NULL;
    END IF;
    INSERT INTO "labnotes_measurementevent" (
        "animal_id", "axes_swapped", "client_id", "code_reason", "correction_of_id",
        "entry_method", "formula", "formula_protocol_version_id", "height_mm", "id",
        "instrument", "is_late", "kind", "length_mm", "operator_id", "pgh_context",
        "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reading_code",
        "received_at", "recorded_by_id", "repeat_of_id", "row_version", "study_day",
        "taken_at", "transcription_id", "tumour_id", "void_reason", "voided_at",
        "voided_by_id", "volume_mm3", "weight_g", "width_mm"
    )
    SELECT n."animal_id", n."axes_swapped", n."client_id", n."code_reason",
           n."correction_of_id", n."entry_method", n."formula",
           n."formula_protocol_version_id", n."height_mm", n."id", n."instrument",
           n."is_late", n."kind", n."length_mm", n."operator_id",
           COALESCE(NULLIF(CURRENT_SETTING('pghistory.context_metadata', TRUE), ''), NULL)::JSONB,
           COALESCE(NULLIF(CURRENT_SETTING('pghistory.context_id', TRUE), ''), NULL)::UUID,
           CLOCK_TIMESTAMP(), 'insert', n."id", n."reading_code", n."received_at",
           n."recorded_by_id", n."repeat_of_id", n."row_version", n."study_day", n."taken_at",
           n."transcription_id", n."tumour_id", n."void_reason", n."voided_at",
           n."voided_by_id", n."volume_mm3", n."weight_g", n."width_mm"
      FROM vivolog_new_rows n
     ORDER BY n."id";
    RETURN NULL;
END;
$$;
"""

FORWARD = f"""
{REFUSE_LOCKED_INSERT_FUNCTION}
{REFUSE_ARCHIVED_INSERT_FUNCTION}
{AUDIT_INSERT_FUNCTION}
DROP TRIGGER IF EXISTS {AUDIT_INSERT_TRIGGER} ON labnotes_measurement;
CREATE TRIGGER {AUDIT_INSERT_TRIGGER} AFTER INSERT ON labnotes_measurement
    REFERENCING NEW TABLE AS vivolog_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION vivolog_measurement_insert_events();
ALTER TABLE labnotes_measurement ENABLE ALWAYS TRIGGER {AUDIT_INSERT_TRIGGER};
DROP TRIGGER IF EXISTS vivolog_run_lock ON labnotes_measurement;
CREATE TRIGGER vivolog_run_lock BEFORE UPDATE OR DELETE ON labnotes_measurement
    FOR EACH ROW EXECUTE FUNCTION vivolog_refuse_locked_run('animal', 'animal_id');
ALTER TABLE labnotes_measurement ENABLE ALWAYS TRIGGER vivolog_run_lock;
CREATE TRIGGER vivolog_run_lock_insert AFTER INSERT ON labnotes_measurement
    REFERENCING NEW TABLE AS vivolog_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION vivolog_refuse_locked_run_insert();
ALTER TABLE labnotes_measurement ENABLE ALWAYS TRIGGER vivolog_run_lock_insert;

DROP TRIGGER IF EXISTS labnotes_measurement_refuse_archived ON labnotes_measurement;
CREATE TRIGGER labnotes_measurement_refuse_archived BEFORE UPDATE OR DELETE
    ON labnotes_measurement
    FOR EACH ROW EXECUTE FUNCTION labnotes_refuse_archived_study('animal', 'animal_id');
CREATE TRIGGER labnotes_measurement_insert_refuse_archived AFTER INSERT ON labnotes_measurement
    REFERENCING NEW TABLE AS vivolog_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION labnotes_refuse_archived_study_insert();
ALTER TABLE labnotes_measurement ENABLE ALWAYS TRIGGER labnotes_measurement_refuse_archived;
ALTER TABLE labnotes_measurement
    ENABLE ALWAYS TRIGGER labnotes_measurement_insert_refuse_archived;
"""

BACKWARD = f"""
DROP TRIGGER IF EXISTS {AUDIT_INSERT_TRIGGER} ON labnotes_measurement;
CREATE TRIGGER {AUDIT_INSERT_TRIGGER} AFTER INSERT ON labnotes_measurement
    FOR EACH ROW EXECUTE FUNCTION {AUDIT_INSERT_TRIGGER}();
ALTER TABLE labnotes_measurement ENABLE ALWAYS TRIGGER {AUDIT_INSERT_TRIGGER};
DROP FUNCTION IF EXISTS vivolog_measurement_insert_events();
DROP TRIGGER IF EXISTS vivolog_run_lock_insert ON labnotes_measurement;
DROP TRIGGER IF EXISTS vivolog_run_lock ON labnotes_measurement;
CREATE TRIGGER vivolog_run_lock BEFORE INSERT OR UPDATE OR DELETE ON labnotes_measurement
    FOR EACH ROW EXECUTE FUNCTION vivolog_refuse_locked_run('animal', 'animal_id');
ALTER TABLE labnotes_measurement ENABLE ALWAYS TRIGGER vivolog_run_lock;
DROP FUNCTION IF EXISTS vivolog_refuse_locked_run_insert();

DROP TRIGGER IF EXISTS labnotes_measurement_insert_refuse_archived ON labnotes_measurement;
DROP TRIGGER IF EXISTS labnotes_measurement_refuse_archived ON labnotes_measurement;
CREATE TRIGGER labnotes_measurement_refuse_archived BEFORE INSERT OR UPDATE OR DELETE
    ON labnotes_measurement
    FOR EACH ROW EXECUTE FUNCTION labnotes_refuse_archived_study('animal', 'animal_id');
ALTER TABLE labnotes_measurement ENABLE ALWAYS TRIGGER labnotes_measurement_refuse_archived;
DROP FUNCTION IF EXISTS labnotes_refuse_archived_study_insert();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0017_archive_readonly"),
    ]

    operations: list[migrations.operations.base.Operation] = [
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
