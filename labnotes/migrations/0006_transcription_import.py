"""Transcription from paper, study import and stored files (issue #6, parts 2 and 3)."""

import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0005_grid_capture"),
        ("planner", "0003_add_audit_chain_security_log_ethics_reference"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StoredFile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sha256", models.CharField(max_length=64)),
                ("size_bytes", models.PositiveBigIntegerField()),
                ("content_type", models.CharField(max_length=100)),
                ("original_filename", models.CharField(max_length=255)),
                ("stored_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["-stored_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="StoredFileEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("sha256", models.CharField(max_length=64)),
                ("size_bytes", models.PositiveBigIntegerField()),
                ("content_type", models.CharField(max_length=100)),
                ("original_filename", models.CharField(max_length=255)),
                ("stored_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="TranscriptionSheet",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "sheet_date",
                    models.DateField(help_text="The day written on the worksheet (lab-local)."),
                ),
                (
                    "sheet_time",
                    models.TimeField(help_text="The time written on the worksheet (lab-local)."),
                ),
                ("taken_at", models.DateTimeField()),
                ("notes", models.TextField(blank=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("awaiting", "Awaiting verification"),
                            ("returned", "Sent back with corrections"),
                            ("verified", "Verified"),
                        ],
                        default="awaiting",
                        max_length=10,
                    ),
                ),
                ("transcribed_at", models.DateTimeField(auto_now_add=True)),
                ("returned_at", models.DateTimeField(blank=True, null=True)),
                ("return_reason", models.TextField(blank=True)),
                ("corrections", models.JSONField(blank=True, default=list)),
                ("verified_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["run", "-sheet_date", "-sheet_time", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="TranscriptionSheetEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "sheet_date",
                    models.DateField(help_text="The day written on the worksheet (lab-local)."),
                ),
                (
                    "sheet_time",
                    models.TimeField(help_text="The time written on the worksheet (lab-local)."),
                ),
                ("taken_at", models.DateTimeField()),
                ("notes", models.TextField(blank=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("awaiting", "Awaiting verification"),
                            ("returned", "Sent back with corrections"),
                            ("verified", "Verified"),
                        ],
                        default="awaiting",
                        max_length=10,
                    ),
                ),
                ("transcribed_at", models.DateTimeField(auto_now_add=True)),
                ("returned_at", models.DateTimeField(blank=True, null=True)),
                ("return_reason", models.TextField(blank=True)),
                ("corrections", models.JSONField(blank=True, default=list)),
                ("verified_at", models.DateTimeField(blank=True, null=True)),
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
        migrations.AlterField(
            model_name="measurement",
            name="entry_method",
            field=models.CharField(
                choices=[
                    ("form", "Entry form"),
                    ("grid", "Entry grid"),
                    ("api", "API"),
                    ("instrument", "Instrument (USB caliper or balance)"),
                    ("import", "File import"),
                    ("transcribed", "Transcribed from a paper worksheet"),
                ],
                default="form",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="measurementevent",
            name="entry_method",
            field=models.CharField(
                choices=[
                    ("form", "Entry form"),
                    ("grid", "Entry grid"),
                    ("api", "API"),
                    ("instrument", "Instrument (USB caliper or balance)"),
                    ("import", "File import"),
                    ("transcribed", "Transcribed from a paper worksheet"),
                ],
                default="form",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="randomizationbatch",
            name="method",
            field=models.CharField(
                choices=[
                    ("simple", "Simple (seeded)"),
                    ("stratified", "Stratified on tumour volume"),
                    ("balance", "Multi-covariate balance"),
                    ("imported", "Imported (allocation from a past or running study)"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="randomizationbatchevent",
            name="method",
            field=models.CharField(
                choices=[
                    ("simple", "Simple (seeded)"),
                    ("stratified", "Stratified on tumour volume"),
                    ("balance", "Multi-covariate balance"),
                    ("imported", "Imported (allocation from a past or running study)"),
                ],
                max_length=12,
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="measurement",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_measurementevent" ("animal_id", "axes_swapped", "client_id", "code_reason", "correction_of_id", "entry_method", "formula", "formula_protocol_version_id", "height_mm", "id", "instrument", "is_late", "kind", "length_mm", "operator_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reading_code", "received_at", "recorded_by_id", "repeat_of_id", "row_version", "study_day", "taken_at", "transcription_id", "tumour_id", "void_reason", "voided_at", "voided_by_id", "volume_mm3", "weight_g", "width_mm") VALUES (NEW."animal_id", NEW."axes_swapped", NEW."client_id", NEW."code_reason", NEW."correction_of_id", NEW."entry_method", NEW."formula", NEW."formula_protocol_version_id", NEW."height_mm", NEW."id", NEW."instrument", NEW."is_late", NEW."kind", NEW."length_mm", NEW."operator_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reading_code", NEW."received_at", NEW."recorded_by_id", NEW."repeat_of_id", NEW."row_version", NEW."study_day", NEW."taken_at", NEW."transcription_id", NEW."tumour_id", NEW."void_reason", NEW."voided_at", NEW."voided_by_id", NEW."volume_mm3", NEW."weight_g", NEW."width_mm"); RETURN NULL;',
                    hash="5cec082392042dbb62174d50a02ce43ddfa87e93",
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
                    func='INSERT INTO "labnotes_measurementevent" ("animal_id", "axes_swapped", "client_id", "code_reason", "correction_of_id", "entry_method", "formula", "formula_protocol_version_id", "height_mm", "id", "instrument", "is_late", "kind", "length_mm", "operator_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reading_code", "received_at", "recorded_by_id", "repeat_of_id", "row_version", "study_day", "taken_at", "transcription_id", "tumour_id", "void_reason", "voided_at", "voided_by_id", "volume_mm3", "weight_g", "width_mm") VALUES (NEW."animal_id", NEW."axes_swapped", NEW."client_id", NEW."code_reason", NEW."correction_of_id", NEW."entry_method", NEW."formula", NEW."formula_protocol_version_id", NEW."height_mm", NEW."id", NEW."instrument", NEW."is_late", NEW."kind", NEW."length_mm", NEW."operator_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reading_code", NEW."received_at", NEW."recorded_by_id", NEW."repeat_of_id", NEW."row_version", NEW."study_day", NEW."taken_at", NEW."transcription_id", NEW."tumour_id", NEW."void_reason", NEW."voided_at", NEW."voided_by_id", NEW."volume_mm3", NEW."weight_g", NEW."width_mm"); RETURN NULL;',
                    hash="3ad74bacd4acd2755980f86454dda4afa6584f06",
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
                    func='INSERT INTO "labnotes_measurementevent" ("animal_id", "axes_swapped", "client_id", "code_reason", "correction_of_id", "entry_method", "formula", "formula_protocol_version_id", "height_mm", "id", "instrument", "is_late", "kind", "length_mm", "operator_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reading_code", "received_at", "recorded_by_id", "repeat_of_id", "row_version", "study_day", "taken_at", "transcription_id", "tumour_id", "void_reason", "voided_at", "voided_by_id", "volume_mm3", "weight_g", "width_mm") VALUES (OLD."animal_id", OLD."axes_swapped", OLD."client_id", OLD."code_reason", OLD."correction_of_id", OLD."entry_method", OLD."formula", OLD."formula_protocol_version_id", OLD."height_mm", OLD."id", OLD."instrument", OLD."is_late", OLD."kind", OLD."length_mm", OLD."operator_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reading_code", OLD."received_at", OLD."recorded_by_id", OLD."repeat_of_id", OLD."row_version", OLD."study_day", OLD."taken_at", OLD."transcription_id", OLD."tumour_id", OLD."void_reason", OLD."voided_at", OLD."voided_by_id", OLD."volume_mm3", OLD."weight_g", OLD."width_mm"); RETURN NULL;',
                    hash="e9a2c5186c05ca4da054d4d37f939726f8691f81",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_28556",
                    table="labnotes_measurement",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="storedfile",
            name="lab",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="stored_files",
                to="planner.lab",
            ),
        ),
        migrations.AddField(
            model_name="storedfile",
            name="stored_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="stored_files",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="storedfileevent",
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
            model_name="storedfileevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="labnotes.storedfile",
            ),
        ),
        migrations.AddField(
            model_name="storedfileevent",
            name="stored_by",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheet",
            name="measured_by",
            field=models.ForeignKey(
                help_text="Who took the readings on the paper (the operator of every reading).",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheet",
            name="returned_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheet",
            name="run",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transcription_sheets",
                to="labnotes.studyrun",
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheet",
            name="scan",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transcription_sheets",
                to="labnotes.storedfile",
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheet",
            name="transcribed_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transcribed_sheets",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheet",
            name="verified_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="verified_sheets",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="measurement",
            name="transcription",
            field=models.ForeignKey(
                blank=True,
                help_text="The paper worksheet this reading was transcribed from: it counts only once that sheet is verified.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="measurements",
                to="labnotes.transcriptionsheet",
            ),
        ),
        migrations.AddField(
            model_name="measurementevent",
            name="transcription",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The paper worksheet this reading was transcribed from: it counts only once that sheet is verified.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.transcriptionsheet",
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheetevent",
            name="measured_by",
            field=models.ForeignKey(
                db_constraint=False,
                help_text="Who took the readings on the paper (the operator of every reading).",
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheetevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="labnotes.transcriptionsheet",
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheetevent",
            name="returned_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheetevent",
            name="run",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.studyrun",
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheetevent",
            name="scan",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="labnotes.storedfile",
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheetevent",
            name="transcribed_by",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="transcriptionsheetevent",
            name="verified_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="storedfile",
            constraint=models.UniqueConstraint(
                fields=("lab", "sha256"), name="stored_file_once_per_lab"
            ),
        ),
        migrations.AddConstraint(
            model_name="storedfile",
            constraint=models.CheckConstraint(
                condition=models.Q(("sha256__regex", "^[0-9a-f]{64}$")),
                name="stored_file_sha256_is_hex",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="storedfile",
            trigger=pgtrigger.compiler.Trigger(
                name="stored_file_immutable",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="46a23bf2e0bad0343f34df1176648bba3810c369",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_stored_file_immutable_2c43a",
                    table="labnotes_storedfile",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="storedfile",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_storedfileevent" ("content_type", "id", "lab_id", "original_filename", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "sha256", "size_bytes", "stored_at", "stored_by_id") VALUES (NEW."content_type", NEW."id", NEW."lab_id", NEW."original_filename", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."sha256", NEW."size_bytes", NEW."stored_at", NEW."stored_by_id"); RETURN NULL;',
                    hash="92c524152e9401d5410f0f52548f72562a5f80e8",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_61252",
                    table="labnotes_storedfile",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="storedfile",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_storedfileevent" ("content_type", "id", "lab_id", "original_filename", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "sha256", "size_bytes", "stored_at", "stored_by_id") VALUES (NEW."content_type", NEW."id", NEW."lab_id", NEW."original_filename", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."sha256", NEW."size_bytes", NEW."stored_at", NEW."stored_by_id"); RETURN NULL;',
                    hash="e09ba6bd9a6a00d7095601fcf362af925f004917",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_ddce5",
                    table="labnotes_storedfile",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="storedfile",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_storedfileevent" ("content_type", "id", "lab_id", "original_filename", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "sha256", "size_bytes", "stored_at", "stored_by_id") VALUES (OLD."content_type", OLD."id", OLD."lab_id", OLD."original_filename", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."sha256", OLD."size_bytes", OLD."stored_at", OLD."stored_by_id"); RETURN NULL;',
                    hash="682c81512088067dd2f3ee8ad5d7670ca8d06f42",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_bf845",
                    table="labnotes_storedfile",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="storedfileevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="fc24c642ca702d43c6fe6fae8eee0a8417bd1d39",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_2611a",
                    table="labnotes_storedfileevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="transcriptionsheet",
            index=models.Index(fields=["run", "status"], name="transcription_run_status"),
        ),
        migrations.AddConstraint(
            model_name="transcriptionsheet",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("verified_by__isnull", True),
                    models.Q(("verified_by", models.F("transcribed_by")), _negated=True),
                    _connector="OR",
                ),
                name="transcription_verifier_is_second_person",
            ),
        ),
        migrations.AddConstraint(
            model_name="transcriptionsheet",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "verified"), _negated=True),
                    models.Q(
                        ("scan__isnull", False),
                        ("verified_at__isnull", False),
                        ("verified_by__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="transcription_verified_has_who_when_scan",
            ),
        ),
        migrations.AddConstraint(
            model_name="transcriptionsheet",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "returned"), _negated=True),
                    models.Q(
                        ("returned_by__isnull", False),
                        models.Q(("return_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="transcription_returned_has_who_why",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="transcriptionsheet",
            trigger=pgtrigger.compiler.Trigger(
                name="transcription_never_deleted",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table', TG_TABLE_NAME;",
                    hash="39361ab9a3b31a279cbd398ed5d3da54cfd34107",
                    operation="DELETE",
                    pgid="pgtrigger_transcription_never_deleted_5ad5f",
                    table="labnotes_transcriptionsheet",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="transcriptionsheet",
            trigger=pgtrigger.compiler.Trigger(
                name="transcription_verified_frozen",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.\"status\" = 'verified')",
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;",
                    hash="521ebb8cd709cd86a6423c3438199d50219eaa18",
                    operation="UPDATE",
                    pgid="pgtrigger_transcription_verified_frozen_5ad7d",
                    table="labnotes_transcriptionsheet",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="transcriptionsheet",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_transcriptionsheetevent" ("corrections", "id", "measured_by_id", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "return_reason", "returned_at", "returned_by_id", "row_version", "run_id", "scan_id", "sheet_date", "sheet_time", "status", "taken_at", "transcribed_at", "transcribed_by_id", "verified_at", "verified_by_id") VALUES (NEW."corrections", NEW."id", NEW."measured_by_id", NEW."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."return_reason", NEW."returned_at", NEW."returned_by_id", NEW."row_version", NEW."run_id", NEW."scan_id", NEW."sheet_date", NEW."sheet_time", NEW."status", NEW."taken_at", NEW."transcribed_at", NEW."transcribed_by_id", NEW."verified_at", NEW."verified_by_id"); RETURN NULL;',
                    hash="ac087272506ee6a2393f88fd11c4e753fd7d96c1",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_eeadf",
                    table="labnotes_transcriptionsheet",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="transcriptionsheet",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_transcriptionsheetevent" ("corrections", "id", "measured_by_id", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "return_reason", "returned_at", "returned_by_id", "row_version", "run_id", "scan_id", "sheet_date", "sheet_time", "status", "taken_at", "transcribed_at", "transcribed_by_id", "verified_at", "verified_by_id") VALUES (NEW."corrections", NEW."id", NEW."measured_by_id", NEW."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."return_reason", NEW."returned_at", NEW."returned_by_id", NEW."row_version", NEW."run_id", NEW."scan_id", NEW."sheet_date", NEW."sheet_time", NEW."status", NEW."taken_at", NEW."transcribed_at", NEW."transcribed_by_id", NEW."verified_at", NEW."verified_by_id"); RETURN NULL;',
                    hash="d012c274110365b3a2b61af026810379ab3eee57",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_09cc4",
                    table="labnotes_transcriptionsheet",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="transcriptionsheet",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_transcriptionsheetevent" ("corrections", "id", "measured_by_id", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "return_reason", "returned_at", "returned_by_id", "row_version", "run_id", "scan_id", "sheet_date", "sheet_time", "status", "taken_at", "transcribed_at", "transcribed_by_id", "verified_at", "verified_by_id") VALUES (OLD."corrections", OLD."id", OLD."measured_by_id", OLD."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."return_reason", OLD."returned_at", OLD."returned_by_id", OLD."row_version", OLD."run_id", OLD."scan_id", OLD."sheet_date", OLD."sheet_time", OLD."status", OLD."taken_at", OLD."transcribed_at", OLD."transcribed_by_id", OLD."verified_at", OLD."verified_by_id"); RETURN NULL;',
                    hash="96d636443816368a782af0e57a9ac911372566b0",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_33587",
                    table="labnotes_transcriptionsheet",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="transcriptionsheetevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="20034f8972cb148c919f63577bec22927fc8b5fa",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_0f44b",
                    table="labnotes_transcriptionsheetevent",
                    when="BEFORE",
                ),
            ),
        ),
    ]
