"""Archived studies read-only everywhere (issue 10): the archive guard on every table that holds
data of a study or a run, not only the 20 of migration 0014.

``labnotes_refuse_archived_study_v2`` takes pairs of trigger arguments ``(via, column)`` and
refuses INSERT, UPDATE and DELETE of a row when any of its keys leads to an archived study
(SQLSTATE ``VL410``, the same message as the first version). ``vivolog_studies_of(via, id)``
finds the studies a key belongs to: through a run (``vivolog_run_of`` of migration 0013 and a
few more record kinds), a design arm, a QA inspection, a report, a device token, or a notebook
entry (the studies its links reach). A signature (generic content type + object id) is followed
to the signed record through ``SIGNED_RECORDS``.

``tests/labnotes/qa/test_archive_guard_coverage.py`` walks the model graph and ``pg_trigger`` so
that a table added later without the guard fails the suite.
"""

from django.db import migrations

#: The signable record types (``planner.services.signatures.SIGNABLE``): model → (table, via,
#: column of the record that leads to its study).
SIGNED_RECORDS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("planner", "study"): ("planner_study", "study", "id"),
    ("labnotes", "randomizationbatch"): ("labnotes_randomizationbatch", "run", "run_id"),
    ("labnotes", "transcriptionsheet"): ("labnotes_transcriptionsheet", "run", "run_id"),
    ("labnotes", "report"): ("labnotes_report", "report", "id"),
    ("labnotes", "measurement"): ("labnotes_measurement", "animal", "animal_id"),
    ("labnotes", "doserecord"): ("labnotes_doserecord", "run", "run_id"),
    ("labnotes", "observation"): ("labnotes_observation", "animal", "animal_id"),
    ("labnotes", "endpointrecord"): ("labnotes_endpointrecord", "animal", "animal_id"),
    ("labnotes", "sample"): ("labnotes_sample", "animal", "animal_id"),
    ("labnotes", "necropsy"): ("labnotes_necropsy", "animal", "animal_id"),
    ("labnotes", "notebookentry"): ("labnotes_notebookentry", "entry", "id"),
}

STUDIES_OF_FUNCTION = """
CREATE OR REPLACE FUNCTION vivolog_studies_of(via text, key_id bigint) RETURNS SETOF bigint
LANGUAGE sql STABLE AS $$
    SELECT study_id FROM (
        SELECT CASE via
            WHEN 'study' THEN key_id
            WHEN 'arm' THEN (SELECT a.study_id FROM planner_arm a WHERE a.id = key_id)
            WHEN 'inspection' THEN (SELECT i.study_id FROM labnotes_qainspection i
                                     WHERE i.id = key_id)
            WHEN 'report' THEN (SELECT COALESCE(p.study_id, r.study_id) FROM labnotes_report p
                                  LEFT JOIN labnotes_studyrun r ON r.id = p.run_id
                                 WHERE p.id = key_id)
            WHEN 'token' THEN (SELECT COALESCE(t.study_id, r.study_id) FROM labnotes_devicetoken t
                                 LEFT JOIN labnotes_studyrun r ON r.id = t.run_id
                                WHERE t.id = key_id)
            ELSE (SELECT r.study_id FROM labnotes_studyrun r WHERE r.id = CASE via
                    WHEN 'deviation' THEN (SELECT d.run_id FROM labnotes_deviation d
                                            WHERE d.id = key_id)
                    WHEN 'measurement' THEN (SELECT a.run_id FROM labnotes_measurement m
                                               JOIN labnotes_animal a ON a.id = m.animal_id
                                              WHERE m.id = key_id)
                    WHEN 'sample' THEN (SELECT a.run_id FROM labnotes_sample s
                                          JOIN labnotes_animal a ON a.id = s.animal_id
                                         WHERE s.id = key_id)
                    ELSE vivolog_run_of(via, key_id)
                  END)
        END AS study_id
        WHERE via <> 'entry'
        UNION ALL
        SELECT r.study_id FROM labnotes_notebooklink l
          JOIN labnotes_studyrun r ON r.id = COALESCE(
                l.run_id,
                vivolog_run_of('animal', l.animal_id),
                vivolog_run_of('tumour', l.tumour_id),
                (SELECT a.run_id FROM labnotes_sample s JOIN labnotes_animal a ON a.id = s.animal_id
                  WHERE s.id = l.sample_id))
         WHERE via = 'entry' AND l.entry_id = key_id
    ) AS found WHERE study_id IS NOT NULL
$$;
"""


def _signed_records_sql() -> str:
    return ",\n".join(
        f"('{app}', '{model}', '{table}', '{via}', '{column}')"
        for (app, model), (table, via, column) in SIGNED_RECORDS.items()
    )


REFUSE_ARCHIVED_V2_FUNCTION = """
CREATE OR REPLACE FUNCTION labnotes_refuse_archived_study_v2() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    row_data jsonb;
    position integer;
    via text;
    key_id bigint;
    record_table text;
    record_column text;
    study_code text;
BEGIN
    -- TG_ARGV: pairs (via, column); via 'signature' reads content_type_id and object_id.
    FOR row_data IN
        SELECT value FROM (VALUES
            (CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END),
            (CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END)
        ) AS rows(value) WHERE value IS NOT NULL
    LOOP
        position := 0;
        WHILE position < TG_NARGS LOOP
            via := TG_ARGV[position];
            key_id := (row_data ->> TG_ARGV[position + 1])::bigint;
            position := position + 2;
            CONTINUE WHEN key_id IS NULL;
            IF via = 'signature' THEN
                SELECT signed.record_table, signed.via, signed.record_column
                  INTO record_table, via, record_column
                  FROM django_content_type c
                  JOIN (VALUES SIGNED_RECORDS_VALUES)
                       AS signed(app_label, model, record_table, via, record_column)
                    ON signed.app_label = c.app_label AND signed.model = c.model
                 WHERE c.id = (row_data ->> 'content_type_id')::bigint;
                CONTINUE WHEN record_table IS NULL;
                EXECUTE format('SELECT (%I)::bigint FROM %I WHERE id = $1',
                               record_column, record_table)
                   INTO key_id USING key_id;
                CONTINUE WHEN key_id IS NULL;
            END IF;
            SELECT s.code INTO study_code FROM planner_study s
             WHERE s.status = 'archived' AND s.id IN (SELECT vivolog_studies_of(via, key_id))
             LIMIT 1;
            IF study_code IS NOT NULL THEN
                RAISE EXCEPTION 'Study % is archived: its records are read-only (% refused on %).',
                    study_code, TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'VL410',
                          HINT = 'An archived study cannot be changed; its archive package '
                                 'holds the records.';
            END IF;
        END LOOP;
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
""".replace("SIGNED_RECORDS_VALUES", _signed_records_sql())

#: table → the (via, column) pairs that lead from a row to its study (in addition to the
#: tables of migration 0014, which keep their first-version trigger).
ARCHIVE_GUARDED_TABLES_V2: dict[str, tuple[tuple[str, str], ...]] = {
    # the design (fixed once approved except by amendments; frozen entirely once archived)
    "planner_study": (("study", "id"),),
    "planner_arm": (("study", "study_id"),),
    "planner_regimenitem": (("arm", "arm_id"),),
    "planner_satellitecohort": (("arm", "arm_id"),),
    "planner_studyprocedure": (("study", "study_id"),),
    "planner_amendment": (("study", "study_id"),),
    "planner_signature": (("signature", "object_id"),),
    # animals, tumours, dosing, welfare
    "labnotes_implantation": (("tumour", "tumour_id"),),
    "labnotes_pendingaxis": (("animal", "animal_id"),),
    "labnotes_dosedeviation": (("dose", "dose_id"),),
    "labnotes_formulationbatch": (("study", "study_id"),),
    "labnotes_unblinding": (("study", "study_id"),),
    "labnotes_ulcerationscore": (("observation", "observation_id"),),
    "labnotes_runlock": (("run", "run_id"),),
    "labnotes_deviationanimal": (("deviation", "deviation_id"), ("animal", "animal_id")),
    "labnotes_inspectionfinding": (("inspection", "inspection_id"),),
    # assays
    "labnotes_elisaplate": (("run", "run_id"),),
    "labnotes_platewell": (("plate", "plate_id"),),
    "labnotes_elisaresult": (("plate", "plate_id"),),
    "labnotes_flowpanel": (("run", "run_id"),),
    "labnotes_flowimport": (("panel", "panel_id"),),
    "labnotes_flowacquisition": (("panel", "panel_id"),),
    "labnotes_flowpopulationvalue": (("acquisition", "acquisition_id"),),
    # instruments
    "labnotes_ingestbatch": (("run", "run_id"),),
    "labnotes_readingflag": (("measurement", "measurement_id"),),
    # reports
    "labnotes_report": (("run", "run_id"), ("study", "study_id")),
    "labnotes_reportartifact": (("report", "report_id"),),
    # notebook (an entry belongs to the studies its links reach)
    "labnotes_notebookentry": (("entry", "id"),),
    "labnotes_notebookentryversion": (("entry", "entry_id"),),
    "labnotes_notebookattachment": (("entry", "entry_id"),),
    "labnotes_notebooklink": (
        ("entry", "entry_id"),
        ("run", "run_id"),
        ("animal", "animal_id"),
        ("tumour", "tumour_id"),
        ("sample", "sample_id"),
    ),
    "labnotes_notebookrestriction": (("study", "study_id"), ("entry", "entry_id")),
}

#: The tables guarded by migration 0014 (first-version function), set ENABLE ALWAYS here.
ARCHIVE_GUARDED_TABLES_V1 = (
    "labnotes_animal",
    "labnotes_cage",
    "labnotes_doserecord",
    "labnotes_dosemodification",
    "labnotes_randomizationbatch",
    "labnotes_task",
    "labnotes_transcriptionsheet",
    "labnotes_deviation",
    "labnotes_audittrailreview",
    "labnotes_measurement",
    "labnotes_sample",
    "labnotes_observation",
    "labnotes_welfarecheck",
    "labnotes_endpointepisode",
    "labnotes_endpointrecord",
    "labnotes_necropsy",
    "labnotes_cageassignment",
    "labnotes_tumour",
    "labnotes_studyrun",
    "labnotes_qainspection",
)

#: Device tokens: a new token for an archived study, a deletion or a change of what it may do
#: is refused; revoking it (and the last-use stamp) stays possible after archiving.
DEVICE_GUARD_TRIGGERS = """
CREATE TRIGGER labnotes_devicetoken_refuse_archived
    BEFORE INSERT OR DELETE ON labnotes_devicetoken
    FOR EACH ROW EXECUTE FUNCTION labnotes_refuse_archived_study_v2(
        'run', 'run_id', 'study', 'study_id');
CREATE TRIGGER labnotes_devicetoken_refuse_archived_update
    BEFORE UPDATE ON labnotes_devicetoken FOR EACH ROW
    WHEN ((OLD.run_id, OLD.study_id, OLD.actions, OLD.instrument_id, OLD.expires_at,
           OLD.rate_limit_per_minute, OLD.lab_id, OLD.key_hash, OLD.prefix)
          IS DISTINCT FROM
          (NEW.run_id, NEW.study_id, NEW.actions, NEW.instrument_id, NEW.expires_at,
           NEW.rate_limit_per_minute, NEW.lab_id, NEW.key_hash, NEW.prefix))
    EXECUTE FUNCTION labnotes_refuse_archived_study_v2('run', 'run_id', 'study', 'study_id');
"""


def _create() -> str:
    statements = [STUDIES_OF_FUNCTION, REFUSE_ARCHIVED_V2_FUNCTION]
    for table, pairs in ARCHIVE_GUARDED_TABLES_V2.items():
        arguments = ", ".join(f"'{via}', '{column}'" for via, column in pairs)
        statements.append(
            f"CREATE TRIGGER {table}_refuse_archived BEFORE INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION "
            f"labnotes_refuse_archived_study_v2({arguments});"
        )
    statements.append(DEVICE_GUARD_TRIGGERS)
    # Like the run-lock triggers: ENABLE ALWAYS, so session_replication_role cannot skip them.
    always = [
        *((table, f"{table}_refuse_archived") for table in ARCHIVE_GUARDED_TABLES_V2),
        *((table, f"{table}_refuse_archived") for table in ARCHIVE_GUARDED_TABLES_V1),
        ("labnotes_devicetoken", "labnotes_devicetoken_refuse_archived"),
        ("labnotes_devicetoken", "labnotes_devicetoken_refuse_archived_update"),
    ]
    statements += [f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name};" for table, name in always]
    return "\n".join(statements)


def _drop() -> str:
    statements = [
        f"ALTER TABLE {table} ENABLE TRIGGER {table}_refuse_archived;"
        for table in ARCHIVE_GUARDED_TABLES_V1
    ]
    statements += [
        f"DROP TRIGGER IF EXISTS {table}_refuse_archived ON {table};"
        for table in ARCHIVE_GUARDED_TABLES_V2
    ]
    statements += [
        "DROP TRIGGER IF EXISTS labnotes_devicetoken_refuse_archived ON labnotes_devicetoken;",
        "DROP TRIGGER IF EXISTS labnotes_devicetoken_refuse_archived_update "
        "ON labnotes_devicetoken;",
        "DROP FUNCTION IF EXISTS labnotes_refuse_archived_study_v2();",
        "DROP FUNCTION IF EXISTS vivolog_studies_of(text, bigint);",
    ]
    return "\n".join(statements)


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0016_report_followups"),
    ]

    operations: list[migrations.operations.base.Operation] = [
        migrations.RunSQL(sql=_create(), reverse_sql=_drop()),
    ]
