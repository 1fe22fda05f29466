"""Electronic signatures on planner records (issue 10)."""

import django.db.models.deletion
import django.db.models.functions.datetime
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("planner", "0007_version_regimen_items"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Signature",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("object_id", models.PositiveBigIntegerField()),
                ("record_label", models.CharField(max_length=300)),
                (
                    "meaning",
                    models.CharField(
                        choices=[
                            ("authored", "Authored"),
                            ("reviewed", "Reviewed"),
                            ("approved", "Approved"),
                            ("qa_inspected", "QA inspected"),
                        ],
                        max_length=20,
                    ),
                ),
                ("signer_name", models.CharField(max_length=300)),
                ("signer_role", models.CharField(blank=True, max_length=20)),
                (
                    "signed_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                ("content_sha256", models.CharField(max_length=64)),
                (
                    "canonical",
                    models.TextField(help_text="The canonical serialization that was hashed."),
                ),
                (
                    "policy",
                    models.CharField(
                        choices=[
                            ("invalidate", "A later change invalidates the signature"),
                            ("refuse", "The database refuses any later change"),
                        ],
                        max_length=12,
                    ),
                ),
                ("second_factor", models.BooleanField(default=False)),
            ],
            options={
                "ordering": ["signed_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="SignatureEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("object_id", models.PositiveBigIntegerField()),
                ("record_label", models.CharField(max_length=300)),
                (
                    "meaning",
                    models.CharField(
                        choices=[
                            ("authored", "Authored"),
                            ("reviewed", "Reviewed"),
                            ("approved", "Approved"),
                            ("qa_inspected", "QA inspected"),
                        ],
                        max_length=20,
                    ),
                ),
                ("signer_name", models.CharField(max_length=300)),
                ("signer_role", models.CharField(blank=True, max_length=20)),
                (
                    "signed_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                ("content_sha256", models.CharField(max_length=64)),
                (
                    "canonical",
                    models.TextField(help_text="The canonical serialization that was hashed."),
                ),
                (
                    "policy",
                    models.CharField(
                        choices=[
                            ("invalidate", "A later change invalidates the signature"),
                            ("refuse", "The database refuses any later change"),
                        ],
                        max_length=12,
                    ),
                ),
                ("second_factor", models.BooleanField(default=False)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.RemoveConstraint(
            model_name="securityevent",
            name="securityevent_kind_valid",
        ),
        migrations.AlterField(
            model_name="securityevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("login", "Logged in"),
                    ("login_failed", "Login failed"),
                    ("lockout", "Locked out after repeated failures"),
                    ("logout", "Logged out"),
                    ("session_expired", "Session expired"),
                    ("otp_enrolled", "Second factor enrolled"),
                    ("otp_verified", "Second factor verified"),
                    ("otp_failed", "Second factor code refused"),
                    ("role_granted", "Role granted"),
                    ("role_changed", "Role changed"),
                    ("role_revoked", "Role revoked"),
                    ("token_created", "API token created"),
                    ("token_revoked", "API token revoked"),
                    ("user_deactivated", "User deactivated"),
                    ("unblinded", "Allocation unblinded"),
                    ("audit_verified", "Audit trail verified"),
                    ("audit_problem", "Audit trail verification found problems"),
                    ("signed", "Record signed"),
                    ("signing_refused", "Signing refused (password or code)"),
                    ("run_locked", "Run data locked"),
                    ("run_unlock_step", "Run unlock step signed"),
                    ("run_unlocked", "Run data unlocked"),
                ],
                max_length=30,
            ),
        ),
        migrations.AddConstraint(
            model_name="securityevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "login",
                            "login_failed",
                            "lockout",
                            "logout",
                            "session_expired",
                            "otp_enrolled",
                            "otp_verified",
                            "otp_failed",
                            "role_granted",
                            "role_changed",
                            "role_revoked",
                            "token_created",
                            "token_revoked",
                            "user_deactivated",
                            "unblinded",
                            "audit_verified",
                            "audit_problem",
                            "signed",
                            "signing_refused",
                            "run_locked",
                            "run_unlock_step",
                            "run_unlocked",
                        ],
                    )
                ),
                name="securityevent_kind_valid",
            ),
        ),
        migrations.AddField(
            model_name="signature",
            name="content_type",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contenttypes.contenttype",
            ),
        ),
        migrations.AddField(
            model_name="signature",
            name="lab",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="signatures",
                to="planner.lab",
            ),
        ),
        migrations.AddField(
            model_name="signature",
            name="signer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="signatures",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="signatureevent",
            name="content_type",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="contenttypes.contenttype",
            ),
        ),
        migrations.AddField(
            model_name="signatureevent",
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
            model_name="signatureevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="planner.signature",
            ),
        ),
        migrations.AddField(
            model_name="signatureevent",
            name="signer",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="signature",
            index=models.Index(fields=["content_type", "object_id"], name="signature_record"),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("meaning__in", ["authored", "reviewed", "approved", "qa_inspected"])
                ),
                name="signature_meaning_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(("policy__in", ["invalidate", "refuse"])),
                name="signature_policy_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("content_sha256__regex", "^[0-9a-f]{64}$"),
                    models.Q(("signer_name", ""), _negated=True),
                ),
                name="signature_hash_and_name_present",
            ),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.UniqueConstraint(
                fields=("content_type", "object_id", "signer", "meaning", "content_sha256"),
                name="signature_once_per_version_and_meaning",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="signature",
            trigger=pgtrigger.compiler.Trigger(
                name="signature_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="a5e0ef32981de8b3123056b6435ece29d046f70a",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_signature_append_only_fe64b",
                    table="planner_signature",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="signature",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "planner_signatureevent" ("canonical", "content_sha256", "content_type_id", "id", "lab_id", "meaning", "object_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "policy", "record_label", "second_factor", "signed_at", "signer_id", "signer_name", "signer_role") VALUES (NEW."canonical", NEW."content_sha256", NEW."content_type_id", NEW."id", NEW."lab_id", NEW."meaning", NEW."object_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."policy", NEW."record_label", NEW."second_factor", NEW."signed_at", NEW."signer_id", NEW."signer_name", NEW."signer_role"); RETURN NULL;',
                    hash="fbf47966d369019508a75756ee64161d339abef4",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_ef466",
                    table="planner_signature",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="signature",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "planner_signatureevent" ("canonical", "content_sha256", "content_type_id", "id", "lab_id", "meaning", "object_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "policy", "record_label", "second_factor", "signed_at", "signer_id", "signer_name", "signer_role") VALUES (NEW."canonical", NEW."content_sha256", NEW."content_type_id", NEW."id", NEW."lab_id", NEW."meaning", NEW."object_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."policy", NEW."record_label", NEW."second_factor", NEW."signed_at", NEW."signer_id", NEW."signer_name", NEW."signer_role"); RETURN NULL;',
                    hash="211514d74b77fab611c5c35856a5e5d18c0464e2",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_6b58b",
                    table="planner_signature",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="signature",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "planner_signatureevent" ("canonical", "content_sha256", "content_type_id", "id", "lab_id", "meaning", "object_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "policy", "record_label", "second_factor", "signed_at", "signer_id", "signer_name", "signer_role") VALUES (OLD."canonical", OLD."content_sha256", OLD."content_type_id", OLD."id", OLD."lab_id", OLD."meaning", OLD."object_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."policy", OLD."record_label", OLD."second_factor", OLD."signed_at", OLD."signer_id", OLD."signer_name", OLD."signer_role"); RETURN NULL;',
                    hash="6112e01d119fb7e531a539e70cc9037460ff2d29",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_26a8e",
                    table="planner_signature",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="signatureevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="19857c79a9a241c512a23c2f080c33311fec6e45",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_e6816",
                    table="planner_signatureevent",
                    when="BEFORE",
                ),
            ),
        ),
    ]
