"""Deviation log, QA inspections, audit trail reviews and archives (issue 10).

Also the read-only rule of archived studies: a trigger on the tables that hold a run's records
refuses every INSERT, UPDATE and DELETE of a row whose run belongs to an archived study, on every
write path (pages, API, admin, bulk updates, raw SQL).
"""

import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

REFUSE_ARCHIVED_FUNCTION = """
CREATE OR REPLACE FUNCTION labnotes_refuse_archived_study() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    row_data jsonb;
    key_id bigint;
    study_code text;
BEGIN
    -- TG_ARGV[0]: what the key column points at (study, run, animal); TG_ARGV[1]: the column.
    FOR row_data IN
        SELECT value FROM (VALUES
            (CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END),
            (CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END)
        ) AS rows(value) WHERE value IS NOT NULL
    LOOP
        key_id := (row_data ->> TG_ARGV[1])::bigint;
        CONTINUE WHEN key_id IS NULL;
        study_code := NULL;
        IF TG_ARGV[0] = 'study' THEN
            SELECT s.code INTO study_code FROM planner_study s
             WHERE s.id = key_id AND s.status = 'archived';
        ELSIF TG_ARGV[0] = 'run' THEN
            SELECT s.code INTO study_code FROM labnotes_studyrun r
              JOIN planner_study s ON s.id = r.study_id
             WHERE r.id = key_id AND s.status = 'archived';
        ELSE
            SELECT s.code INTO study_code FROM labnotes_animal a
              JOIN labnotes_studyrun r ON r.id = a.run_id
              JOIN planner_study s ON s.id = r.study_id
             WHERE a.id = key_id AND s.status = 'archived';
        END IF;
        IF study_code IS NOT NULL THEN
            RAISE EXCEPTION 'Study % is archived: its records are read-only (% refused on %).',
                study_code, TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'VL410',
                      HINT = 'An archived study cannot be changed; its archive package holds '
                             'the records.';
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
"""

#: table → (what its key points at, the key column)
ARCHIVE_GUARDED_TABLES = {
    "labnotes_animal": ("run", "run_id"),
    "labnotes_cage": ("run", "run_id"),
    "labnotes_doserecord": ("run", "run_id"),
    "labnotes_dosemodification": ("run", "run_id"),
    "labnotes_randomizationbatch": ("run", "run_id"),
    "labnotes_task": ("run", "run_id"),
    "labnotes_transcriptionsheet": ("run", "run_id"),
    "labnotes_deviation": ("run", "run_id"),
    "labnotes_audittrailreview": ("run", "run_id"),
    "labnotes_measurement": ("animal", "animal_id"),
    "labnotes_sample": ("animal", "animal_id"),
    "labnotes_observation": ("animal", "animal_id"),
    "labnotes_welfarecheck": ("animal", "animal_id"),
    "labnotes_endpointepisode": ("animal", "animal_id"),
    "labnotes_endpointrecord": ("animal", "animal_id"),
    "labnotes_necropsy": ("animal", "animal_id"),
    "labnotes_cageassignment": ("animal", "animal_id"),
    "labnotes_tumour": ("animal", "animal_id"),
    "labnotes_studyrun": ("study", "study_id"),
    "labnotes_qainspection": ("study", "study_id"),
}


def _create_triggers() -> str:
    statements = [REFUSE_ARCHIVED_FUNCTION]
    for table, (kind, column) in ARCHIVE_GUARDED_TABLES.items():
        statements.append(
            f"CREATE TRIGGER {table}_refuse_archived BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION labnotes_refuse_archived_study('{kind}', '{column}');"
        )
    return "\n".join(statements)


def _drop_triggers() -> str:
    statements = [
        f"DROP TRIGGER IF EXISTS {table}_refuse_archived ON {table};"
        for table in ARCHIVE_GUARDED_TABLES
    ]
    statements.append("DROP FUNCTION IF EXISTS labnotes_refuse_archived_study();")
    return "\n".join(statements)


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0013_signatures_locks"),
        ("planner", "0008_signatures"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="backgroundjob",
            name="kind",
            field=models.CharField(
                choices=[
                    ("self_test", "Self-test (database and worker round trip)"),
                    ("study_archive", "Study archive package"),
                ],
                max_length=30,
            ),
        ),
        migrations.AlterField(
            model_name="backgroundjobevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("self_test", "Self-test (database and worker round trip)"),
                    ("study_archive", "Study archive package"),
                ],
                max_length=30,
            ),
        ),
        migrations.CreateModel(
            name="AuditTrailReview",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("period_start", models.DateField()),
                ("period_end", models.DateField()),
                ("reviewed_on", models.DateField()),
                (
                    "events_reviewed",
                    models.PositiveIntegerField(
                        help_text="Audit events of the run's records in the period, counted when marked."
                    ),
                ),
                ("conclusion", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "reviewer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="audit_trail_reviews",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="audit_trail_reviews",
                        to="labnotes.studyrun",
                    ),
                ),
            ],
            options={
                "ordering": ["run", "-period_end", "pk"],
            },
        ),
        migrations.CreateModel(
            name="AuditTrailReviewEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("period_start", models.DateField()),
                ("period_end", models.DateField()),
                ("reviewed_on", models.DateField()),
                (
                    "events_reviewed",
                    models.PositiveIntegerField(
                        help_text="Audit events of the run's records in the period, counted when marked."
                    ),
                ),
                ("conclusion", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.audittrailreview",
                    ),
                ),
                (
                    "reviewer",
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
        migrations.CreateModel(
            name="Deviation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "number",
                    models.PositiveIntegerField(help_text="Numbered per run: DEV-001, DEV-002 …"),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("manual", "Reported by hand"),
                            ("dose", "Dose deviation (dosing record)"),
                            ("late_measurement", "Reading entered more than 24 h late"),
                            ("corrected_measurement", "Reading corrected after entry"),
                            ("endpoint_overrun", "Humane endpoint passed by more than 24 h"),
                            ("sample_window", "Sample taken outside its timing window"),
                        ],
                        default="manual",
                        max_length=24,
                    ),
                ),
                (
                    "source_key",
                    models.CharField(
                        blank=True,
                        help_text="The capture flag this entry was raised from, e.g. dose_deviation:42.",
                        max_length=80,
                    ),
                ),
                (
                    "category",
                    models.CharField(
                        choices=[
                            ("dosing", "Dosing"),
                            ("measurement", "Measurement"),
                            ("welfare", "Welfare / humane endpoint"),
                            ("sampling", "Sampling"),
                            ("housing", "Housing / environment"),
                            ("procedure", "Other procedure"),
                            ("documentation", "Documentation"),
                        ],
                        max_length=16,
                    ),
                ),
                ("description", models.TextField(help_text="What happened.")),
                ("occurred_on", models.DateField(help_text="When it happened (lab-local date).")),
                ("study_day", models.IntegerField()),
                ("detected_at", models.DateTimeField()),
                ("impact_assessment", models.TextField(blank=True)),
                ("assessed_at", models.DateTimeField(blank=True, null=True)),
                ("corrective_action", models.TextField(blank=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open: awaiting the study director's assessment"),
                            ("assessed", "Assessed: corrective action pending"),
                            ("closed", "Closed"),
                        ],
                        default="open",
                        max_length=10,
                    ),
                ),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "assessed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assessed_deviations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "detected_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="detected_deviations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "dose_deviation",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="log_entries",
                        to="labnotes.dosedeviation",
                    ),
                ),
                (
                    "endpoint_episode",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deviations",
                        to="labnotes.endpointepisode",
                    ),
                ),
                (
                    "measurement",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deviations",
                        to="labnotes.measurement",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deviation_log",
                        to="labnotes.studyrun",
                    ),
                ),
                (
                    "sample",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deviations",
                        to="labnotes.sample",
                    ),
                ),
            ],
            options={
                "ordering": ["run", "number"],
            },
        ),
        migrations.CreateModel(
            name="DeviationAnimal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "animal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deviation_links",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "deviation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="animal_links",
                        to="labnotes.deviation",
                    ),
                ),
            ],
            options={
                "ordering": ["deviation", "animal"],
            },
        ),
        migrations.CreateModel(
            name="DeviationAnimalEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                (
                    "animal",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "deviation",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.deviation",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.deviationanimal",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="DeviationEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "number",
                    models.PositiveIntegerField(help_text="Numbered per run: DEV-001, DEV-002 …"),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("manual", "Reported by hand"),
                            ("dose", "Dose deviation (dosing record)"),
                            ("late_measurement", "Reading entered more than 24 h late"),
                            ("corrected_measurement", "Reading corrected after entry"),
                            ("endpoint_overrun", "Humane endpoint passed by more than 24 h"),
                            ("sample_window", "Sample taken outside its timing window"),
                        ],
                        default="manual",
                        max_length=24,
                    ),
                ),
                (
                    "source_key",
                    models.CharField(
                        blank=True,
                        help_text="The capture flag this entry was raised from, e.g. dose_deviation:42.",
                        max_length=80,
                    ),
                ),
                (
                    "category",
                    models.CharField(
                        choices=[
                            ("dosing", "Dosing"),
                            ("measurement", "Measurement"),
                            ("welfare", "Welfare / humane endpoint"),
                            ("sampling", "Sampling"),
                            ("housing", "Housing / environment"),
                            ("procedure", "Other procedure"),
                            ("documentation", "Documentation"),
                        ],
                        max_length=16,
                    ),
                ),
                ("description", models.TextField(help_text="What happened.")),
                ("occurred_on", models.DateField(help_text="When it happened (lab-local date).")),
                ("study_day", models.IntegerField()),
                ("detected_at", models.DateTimeField()),
                ("impact_assessment", models.TextField(blank=True)),
                ("assessed_at", models.DateTimeField(blank=True, null=True)),
                ("corrective_action", models.TextField(blank=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open: awaiting the study director's assessment"),
                            ("assessed", "Assessed: corrective action pending"),
                            ("closed", "Closed"),
                        ],
                        default="open",
                        max_length=10,
                    ),
                ),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "assessed_by",
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
                    "closed_by",
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
                    "detected_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "dose_deviation",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.dosedeviation",
                    ),
                ),
                (
                    "endpoint_episode",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.endpointepisode",
                    ),
                ),
                (
                    "measurement",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.measurement",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.deviation",
                    ),
                ),
                (
                    "recorded_by",
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
        migrations.CreateModel(
            name="InspectionFinding",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("number", models.PositiveSmallIntegerField()),
                (
                    "severity",
                    models.CharField(
                        choices=[
                            ("observation", "Observation"),
                            ("minor", "Minor"),
                            ("major", "Major"),
                            ("critical", "Critical"),
                        ],
                        max_length=12,
                    ),
                ),
                ("text", models.TextField()),
                ("response", models.TextField(blank=True)),
                ("responded_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "responded_by",
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
                "ordering": ["inspection", "number"],
            },
        ),
        migrations.CreateModel(
            name="QAInspection",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("inspected_on", models.DateField()),
                (
                    "phase",
                    models.CharField(
                        choices=[
                            ("protocol", "Study plan / protocol"),
                            ("animal_receipt", "Animal receipt and acclimatisation"),
                            ("implantation", "Tumour implantation"),
                            ("randomization", "Randomization"),
                            ("dosing", "Dosing"),
                            ("measurements", "In-life measurements"),
                            ("necropsy", "Necropsy and sampling"),
                            ("assays", "Assays"),
                            ("data", "Raw data and records"),
                            ("final_report", "Final report"),
                            ("facility", "Facility / process"),
                        ],
                        max_length=16,
                    ),
                ),
                ("scope", models.TextField(blank=True, help_text="What was inspected.")),
                ("reported_to_director_on", models.DateField(blank=True, null=True)),
                ("reported_to_management_on", models.DateField(blank=True, null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open: findings await responses"),
                            ("responded", "Responded: awaiting QA closure"),
                            ("closed", "Closed"),
                        ],
                        default="open",
                        max_length=10,
                    ),
                ),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "inspector",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="qa_inspections",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="qa_inspections",
                        to="labnotes.studyrun",
                    ),
                ),
                (
                    "study",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="qa_inspections",
                        to="planner.study",
                    ),
                ),
            ],
            options={
                "ordering": ["study", "inspected_on", "pk"],
            },
        ),
        migrations.CreateModel(
            name="InspectionFindingEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("number", models.PositiveSmallIntegerField()),
                (
                    "severity",
                    models.CharField(
                        choices=[
                            ("observation", "Observation"),
                            ("minor", "Minor"),
                            ("major", "Major"),
                            ("critical", "Critical"),
                        ],
                        max_length=12,
                    ),
                ),
                ("text", models.TextField()),
                ("response", models.TextField(blank=True)),
                ("responded_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.inspectionfinding",
                    ),
                ),
                (
                    "responded_by",
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
                    "inspection",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.qainspection",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddField(
            model_name="inspectionfinding",
            name="inspection",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="findings",
                to="labnotes.qainspection",
            ),
        ),
        migrations.CreateModel(
            name="QAInspectionEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("inspected_on", models.DateField()),
                (
                    "phase",
                    models.CharField(
                        choices=[
                            ("protocol", "Study plan / protocol"),
                            ("animal_receipt", "Animal receipt and acclimatisation"),
                            ("implantation", "Tumour implantation"),
                            ("randomization", "Randomization"),
                            ("dosing", "Dosing"),
                            ("measurements", "In-life measurements"),
                            ("necropsy", "Necropsy and sampling"),
                            ("assays", "Assays"),
                            ("data", "Raw data and records"),
                            ("final_report", "Final report"),
                            ("facility", "Facility / process"),
                        ],
                        max_length=16,
                    ),
                ),
                ("scope", models.TextField(blank=True, help_text="What was inspected.")),
                ("reported_to_director_on", models.DateField(blank=True, null=True)),
                ("reported_to_management_on", models.DateField(blank=True, null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open: findings await responses"),
                            ("responded", "Responded: awaiting QA closure"),
                            ("closed", "Closed"),
                        ],
                        default="open",
                        max_length=10,
                    ),
                ),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "closed_by",
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
                    "inspector",
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
                        to="labnotes.qainspection",
                    ),
                ),
                (
                    "recorded_by",
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
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.studyrun",
                    ),
                ),
                (
                    "study",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="planner.study",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="StudyArchive",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Building"),
                            ("succeeded", "Ready"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=10,
                    ),
                ),
                ("requested_at", models.DateTimeField(auto_now_add=True)),
                ("reason", models.TextField()),
                ("file_count", models.PositiveIntegerField(default=0)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("message", models.TextField(blank=True)),
                (
                    "job",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="study_archive",
                        to="labnotes.backgroundjob",
                    ),
                ),
                (
                    "package",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="labnotes.storedfile",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="study_archives",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "study",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="archives",
                        to="planner.study",
                    ),
                ),
            ],
            options={
                "ordering": ["study", "-requested_at"],
            },
        ),
        migrations.CreateModel(
            name="StudyArchiveEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Building"),
                            ("succeeded", "Ready"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=10,
                    ),
                ),
                ("requested_at", models.DateTimeField(auto_now_add=True)),
                ("reason", models.TextField()),
                ("file_count", models.PositiveIntegerField(default=0)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("message", models.TextField(blank=True)),
                (
                    "job",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.backgroundjob",
                    ),
                ),
                (
                    "package",
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
                        to="labnotes.studyarchive",
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
                    "study",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="planner.study",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddConstraint(
            model_name="audittrailreview",
            constraint=models.CheckConstraint(
                condition=models.Q(("period_end__gte", models.F("period_start"))),
                name="audit_review_period_ordered",
            ),
        ),
        migrations.AddConstraint(
            model_name="audittrailreview",
            constraint=models.CheckConstraint(
                condition=models.Q(("reviewed_on__gte", models.F("period_end"))),
                name="audit_review_after_period",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="audittrailreview",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_audittrailreviewevent" ("conclusion", "created_at", "events_reviewed", "id", "period_end", "period_start", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reviewed_on", "reviewer_id", "run_id") VALUES (NEW."conclusion", NEW."created_at", NEW."events_reviewed", NEW."id", NEW."period_end", NEW."period_start", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reviewed_on", NEW."reviewer_id", NEW."run_id"); RETURN NULL;',
                    hash="c4675b64cc384e5e583564638d5bf5a37d8b8a4d",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_a4689",
                    table="labnotes_audittrailreview",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="audittrailreview",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_audittrailreviewevent" ("conclusion", "created_at", "events_reviewed", "id", "period_end", "period_start", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reviewed_on", "reviewer_id", "run_id") VALUES (NEW."conclusion", NEW."created_at", NEW."events_reviewed", NEW."id", NEW."period_end", NEW."period_start", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reviewed_on", NEW."reviewer_id", NEW."run_id"); RETURN NULL;',
                    hash="b00ddeb97ba725490cc08c6ac486df79cb80c944",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_a6127",
                    table="labnotes_audittrailreview",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="audittrailreview",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_audittrailreviewevent" ("conclusion", "created_at", "events_reviewed", "id", "period_end", "period_start", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reviewed_on", "reviewer_id", "run_id") VALUES (OLD."conclusion", OLD."created_at", OLD."events_reviewed", OLD."id", OLD."period_end", OLD."period_start", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reviewed_on", OLD."reviewer_id", OLD."run_id"); RETURN NULL;',
                    hash="21ef93d1046aeff89f51184358c08a1ac58a3a12",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_2c34b",
                    table="labnotes_audittrailreview",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="audittrailreviewevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="8ac7e50f908fdb1ef88873b6d2605ad5b273b197",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_fcacf",
                    table="labnotes_audittrailreviewevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="deviation",
            constraint=models.UniqueConstraint(
                fields=("run", "number"), name="deviation_number_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="deviation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("source_key", ""), _negated=True),
                fields=("run", "source_key"),
                name="deviation_raised_once_per_flag",
            ),
        ),
        migrations.AddConstraint(
            model_name="deviation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "source__in",
                        [
                            "manual",
                            "dose",
                            "late_measurement",
                            "corrected_measurement",
                            "endpoint_overrun",
                            "sample_window",
                        ],
                    )
                ),
                name="deviation_source_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="deviation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "category__in",
                        [
                            "dosing",
                            "measurement",
                            "welfare",
                            "sampling",
                            "housing",
                            "procedure",
                            "documentation",
                        ],
                    )
                ),
                name="deviation_category_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="deviation",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["open", "assessed", "closed"])),
                name="deviation_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="deviation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "open"),
                    models.Q(
                        ("assessed_by__isnull", False),
                        models.Q(("impact_assessment", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="deviation_assessed_has_assessment",
            ),
        ),
        migrations.AddConstraint(
            model_name="deviation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "closed"), _negated=True),
                    models.Q(
                        ("closed_at__isnull", False),
                        models.Q(("corrective_action", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="deviation_closed_has_action",
            ),
        ),
        migrations.AddConstraint(
            model_name="deviation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("source", "manual"), ("source_key", "")),
                    models.Q(
                        models.Q(("source", "manual"), _negated=True),
                        models.Q(("source_key", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="deviation_flag_has_key",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="deviation",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_deviationevent" ("assessed_at", "assessed_by_id", "category", "closed_at", "closed_by_id", "corrective_action", "created_at", "description", "detected_at", "detected_by_id", "dose_deviation_id", "endpoint_episode_id", "id", "impact_assessment", "measurement_id", "number", "occurred_on", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_by_id", "row_version", "run_id", "sample_id", "source", "source_key", "status", "study_day") VALUES (NEW."assessed_at", NEW."assessed_by_id", NEW."category", NEW."closed_at", NEW."closed_by_id", NEW."corrective_action", NEW."created_at", NEW."description", NEW."detected_at", NEW."detected_by_id", NEW."dose_deviation_id", NEW."endpoint_episode_id", NEW."id", NEW."impact_assessment", NEW."measurement_id", NEW."number", NEW."occurred_on", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."recorded_by_id", NEW."row_version", NEW."run_id", NEW."sample_id", NEW."source", NEW."source_key", NEW."status", NEW."study_day"); RETURN NULL;',
                    hash="7da7f6e16c01108cc3b1a9b9d73e8beea1c454d6",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_d1ea7",
                    table="labnotes_deviation",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="deviation",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_deviationevent" ("assessed_at", "assessed_by_id", "category", "closed_at", "closed_by_id", "corrective_action", "created_at", "description", "detected_at", "detected_by_id", "dose_deviation_id", "endpoint_episode_id", "id", "impact_assessment", "measurement_id", "number", "occurred_on", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_by_id", "row_version", "run_id", "sample_id", "source", "source_key", "status", "study_day") VALUES (NEW."assessed_at", NEW."assessed_by_id", NEW."category", NEW."closed_at", NEW."closed_by_id", NEW."corrective_action", NEW."created_at", NEW."description", NEW."detected_at", NEW."detected_by_id", NEW."dose_deviation_id", NEW."endpoint_episode_id", NEW."id", NEW."impact_assessment", NEW."measurement_id", NEW."number", NEW."occurred_on", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."recorded_by_id", NEW."row_version", NEW."run_id", NEW."sample_id", NEW."source", NEW."source_key", NEW."status", NEW."study_day"); RETURN NULL;',
                    hash="7da5289797519474259db0439d7a4f926a4f5df8",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_58a1c",
                    table="labnotes_deviation",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="deviation",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_deviationevent" ("assessed_at", "assessed_by_id", "category", "closed_at", "closed_by_id", "corrective_action", "created_at", "description", "detected_at", "detected_by_id", "dose_deviation_id", "endpoint_episode_id", "id", "impact_assessment", "measurement_id", "number", "occurred_on", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_by_id", "row_version", "run_id", "sample_id", "source", "source_key", "status", "study_day") VALUES (OLD."assessed_at", OLD."assessed_by_id", OLD."category", OLD."closed_at", OLD."closed_by_id", OLD."corrective_action", OLD."created_at", OLD."description", OLD."detected_at", OLD."detected_by_id", OLD."dose_deviation_id", OLD."endpoint_episode_id", OLD."id", OLD."impact_assessment", OLD."measurement_id", OLD."number", OLD."occurred_on", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."recorded_by_id", OLD."row_version", OLD."run_id", OLD."sample_id", OLD."source", OLD."source_key", OLD."status", OLD."study_day"); RETURN NULL;',
                    hash="a391cbcd056f1f3efeecbe3980bd034a3db30685",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_0dabc",
                    table="labnotes_deviation",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="deviationanimal",
            constraint=models.UniqueConstraint(
                fields=("deviation", "animal"), name="deviation_animal_once"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="deviationanimal",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_deviationanimalevent" ("animal_id", "deviation_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."animal_id", NEW."deviation_id", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id"); RETURN NULL;',
                    hash="fdea513b8baa676d354c356fac6276dd5366b570",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_1e405",
                    table="labnotes_deviationanimal",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="deviationanimal",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_deviationanimalevent" ("animal_id", "deviation_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."animal_id", NEW."deviation_id", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id"); RETURN NULL;',
                    hash="662a75fb1a9ae25ab993c251c74f0d6d6644b52b",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_04408",
                    table="labnotes_deviationanimal",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="deviationanimal",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_deviationanimalevent" ("animal_id", "deviation_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (OLD."animal_id", OLD."deviation_id", OLD."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id"); RETURN NULL;',
                    hash="1ef17f715ba78fd5fbba52a84bb5506eb7d7516e",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_4e82d",
                    table="labnotes_deviationanimal",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="deviationanimalevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="7a8e0202b6adc7bf118ea26f6f13c76b9043d595",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_4b270",
                    table="labnotes_deviationanimalevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="deviationevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="d8fd12baf242f0e14217e74d7068734cdbdfa70e",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_79a7d",
                    table="labnotes_deviationevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="qainspection",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "phase__in",
                        [
                            "protocol",
                            "animal_receipt",
                            "implantation",
                            "randomization",
                            "dosing",
                            "measurements",
                            "necropsy",
                            "assays",
                            "data",
                            "final_report",
                            "facility",
                        ],
                    )
                ),
                name="qa_inspection_phase_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="qainspection",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["open", "responded", "closed"])),
                name="qa_inspection_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="qainspection",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reported_to_director_on__isnull", True),
                    ("reported_to_director_on__gte", models.F("inspected_on")),
                    _connector="OR",
                ),
                name="qa_inspection_reported_after_inspection",
            ),
        ),
        migrations.AddConstraint(
            model_name="qainspection",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reported_to_management_on__isnull", True),
                    ("reported_to_management_on__gte", models.F("inspected_on")),
                    _connector="OR",
                ),
                name="qa_inspection_management_after_inspection",
            ),
        ),
        migrations.AddConstraint(
            model_name="qainspection",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "closed"), _negated=True),
                    ("closed_at__isnull", False),
                    _connector="OR",
                ),
                name="qa_inspection_closed_has_time",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="qainspection",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_qainspectionevent" ("closed_at", "closed_by_id", "created_at", "id", "inspected_on", "inspector_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "phase", "recorded_by_id", "reported_to_director_on", "reported_to_management_on", "row_version", "run_id", "scope", "status", "study_id") VALUES (NEW."closed_at", NEW."closed_by_id", NEW."created_at", NEW."id", NEW."inspected_on", NEW."inspector_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."phase", NEW."recorded_by_id", NEW."reported_to_director_on", NEW."reported_to_management_on", NEW."row_version", NEW."run_id", NEW."scope", NEW."status", NEW."study_id"); RETURN NULL;',
                    hash="893153e8235180be6d09acee139834d19de477bd",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_d06f6",
                    table="labnotes_qainspection",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="qainspection",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_qainspectionevent" ("closed_at", "closed_by_id", "created_at", "id", "inspected_on", "inspector_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "phase", "recorded_by_id", "reported_to_director_on", "reported_to_management_on", "row_version", "run_id", "scope", "status", "study_id") VALUES (NEW."closed_at", NEW."closed_by_id", NEW."created_at", NEW."id", NEW."inspected_on", NEW."inspector_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."phase", NEW."recorded_by_id", NEW."reported_to_director_on", NEW."reported_to_management_on", NEW."row_version", NEW."run_id", NEW."scope", NEW."status", NEW."study_id"); RETURN NULL;',
                    hash="592063a48e0cdbf7c39f3cb62552db5098ecb5a1",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_eac6b",
                    table="labnotes_qainspection",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="qainspection",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_qainspectionevent" ("closed_at", "closed_by_id", "created_at", "id", "inspected_on", "inspector_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "phase", "recorded_by_id", "reported_to_director_on", "reported_to_management_on", "row_version", "run_id", "scope", "status", "study_id") VALUES (OLD."closed_at", OLD."closed_by_id", OLD."created_at", OLD."id", OLD."inspected_on", OLD."inspector_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."phase", OLD."recorded_by_id", OLD."reported_to_director_on", OLD."reported_to_management_on", OLD."row_version", OLD."run_id", OLD."scope", OLD."status", OLD."study_id"); RETURN NULL;',
                    hash="21c6af5c2d8fcee0dce127c6d100491288b2bb69",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_2ec16",
                    table="labnotes_qainspection",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="inspectionfindingevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="bdb99170dad18f92fded998a0c9056b299bcb510",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_cdc34",
                    table="labnotes_inspectionfindingevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="inspectionfinding",
            constraint=models.UniqueConstraint(
                fields=("inspection", "number"), name="inspection_finding_number_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="inspectionfinding",
            constraint=models.CheckConstraint(
                condition=models.Q(("severity__in", ["observation", "minor", "major", "critical"])),
                name="inspection_finding_severity_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="inspectionfinding",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("responded_at__isnull", True), ("response", "")),
                    models.Q(
                        models.Q(("response", ""), _negated=True), ("responded_at__isnull", False)
                    ),
                    _connector="OR",
                ),
                name="inspection_finding_response_complete",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="inspectionfinding",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_inspectionfindingevent" ("created_at", "id", "inspection_id", "number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "responded_at", "responded_by_id", "response", "row_version", "severity", "text") VALUES (NEW."created_at", NEW."id", NEW."inspection_id", NEW."number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."responded_at", NEW."responded_by_id", NEW."response", NEW."row_version", NEW."severity", NEW."text"); RETURN NULL;',
                    hash="b7a436ef3ec33e939c123cdb9de23d374f8c359d",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_8f324",
                    table="labnotes_inspectionfinding",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="inspectionfinding",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_inspectionfindingevent" ("created_at", "id", "inspection_id", "number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "responded_at", "responded_by_id", "response", "row_version", "severity", "text") VALUES (NEW."created_at", NEW."id", NEW."inspection_id", NEW."number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."responded_at", NEW."responded_by_id", NEW."response", NEW."row_version", NEW."severity", NEW."text"); RETURN NULL;',
                    hash="dbd7e11ed6b724fd1c469c5b7d3d584e73826946",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_87752",
                    table="labnotes_inspectionfinding",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="inspectionfinding",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_inspectionfindingevent" ("created_at", "id", "inspection_id", "number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "responded_at", "responded_by_id", "response", "row_version", "severity", "text") VALUES (OLD."created_at", OLD."id", OLD."inspection_id", OLD."number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."responded_at", OLD."responded_by_id", OLD."response", OLD."row_version", OLD."severity", OLD."text"); RETURN NULL;',
                    hash="cfe0c86658e4e2ada9525600ab7c10beb7c38cae",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_3e9a5",
                    table="labnotes_inspectionfinding",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="qainspectionevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="50fe159808881b2289adcb97d73192f8249f1bcd",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_104c0",
                    table="labnotes_qainspectionevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="studyarchive",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["queued", "running", "succeeded", "failed"])),
                name="study_archive_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="studyarchive",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "succeeded"), _negated=True),
                    ("package__isnull", False),
                    _connector="OR",
                ),
                name="study_archive_ready_has_package",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="studyarchive",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_studyarchiveevent" ("file_count", "finished_at", "id", "job_id", "message", "package_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "requested_at", "requested_by_id", "status", "study_id") VALUES (NEW."file_count", NEW."finished_at", NEW."id", NEW."job_id", NEW."message", NEW."package_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reason", NEW."requested_at", NEW."requested_by_id", NEW."status", NEW."study_id"); RETURN NULL;',
                    hash="d0185d659faa69e48d86abbeda1ebdbf812e642c",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_fea7a",
                    table="labnotes_studyarchive",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="studyarchive",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_studyarchiveevent" ("file_count", "finished_at", "id", "job_id", "message", "package_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "requested_at", "requested_by_id", "status", "study_id") VALUES (NEW."file_count", NEW."finished_at", NEW."id", NEW."job_id", NEW."message", NEW."package_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reason", NEW."requested_at", NEW."requested_by_id", NEW."status", NEW."study_id"); RETURN NULL;',
                    hash="c95670f0eaa9c618576f3a35957ecdcdc4877e7a",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_0d47d",
                    table="labnotes_studyarchive",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="studyarchive",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_studyarchiveevent" ("file_count", "finished_at", "id", "job_id", "message", "package_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "requested_at", "requested_by_id", "status", "study_id") VALUES (OLD."file_count", OLD."finished_at", OLD."id", OLD."job_id", OLD."message", OLD."package_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reason", OLD."requested_at", OLD."requested_by_id", OLD."status", OLD."study_id"); RETURN NULL;',
                    hash="268ea8ab52508b04f2f7cda8dbb1c1913159d98c",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_b154a",
                    table="labnotes_studyarchive",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="studyarchiveevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="5fa8b222e114d9b62e046942d14aef4125aafa6e",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_d7aed",
                    table="labnotes_studyarchiveevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunSQL(sql=_create_triggers(), reverse_sql=_drop_triggers()),
    ]
