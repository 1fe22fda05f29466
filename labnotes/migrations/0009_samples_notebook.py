"""Samples and necropsy (issue #6, part 7) and notebook entries (part 8): sample records with
barcodes and dose timing, necropsy records, notebook entries with links, versions, restrictions
and attachments, the full-text search index, and their audit events."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labnotes", "0008_welfare_endpoints"),
        ("planner", "0003_add_audit_chain_security_log_ethics_reference"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Necropsy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("performed_at", models.DateTimeField()),
                ("study_day", models.IntegerField()),
                (
                    "terminal_body_weight_g",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True),
                ),
                ("tumour_weights", models.JSONField(blank=True, default=list)),
                ("organ_weights", models.JSONField(blank=True, default=list)),
                ("metastasis_counts", models.JSONField(blank=True, default=list)),
                ("gross_findings", models.JSONField(blank=True, default=list)),
                ("gross_notes", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
                (
                    "animal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="necropsies",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "performed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="necropsies",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "protocol_version",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="necropsies",
                        to="planner.protocolversion",
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
                "verbose_name_plural": "necropsies",
                "ordering": ["animal", "performed_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="NecropsyEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                ("performed_at", models.DateTimeField()),
                ("study_day", models.IntegerField()),
                (
                    "terminal_body_weight_g",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True),
                ),
                ("tumour_weights", models.JSONField(blank=True, default=list)),
                ("organ_weights", models.JSONField(blank=True, default=list)),
                ("metastasis_counts", models.JSONField(blank=True, default=list)),
                ("gross_findings", models.JSONField(blank=True, default=list)),
                ("gross_notes", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
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
                    "performed_by",
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
                        to="labnotes.necropsy",
                    ),
                ),
                (
                    "protocol_version",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="planner.protocolversion",
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
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="NotebookAttachment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("filename", models.CharField(max_length=255)),
                ("version", models.PositiveIntegerField(default=1)),
                ("reason", models.TextField(blank=True)),
                ("added_at", models.DateTimeField(auto_now_add=True)),
                (
                    "added_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "replaces",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="replaced_by",
                        to="labnotes.notebookattachment",
                    ),
                ),
                (
                    "stored_file",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notebook_attachments",
                        to="labnotes.storedfile",
                    ),
                ),
            ],
            options={
                "ordering": ["entry", "filename", "-version"],
            },
        ),
        migrations.CreateModel(
            name="NotebookEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "entry_date",
                    models.DateField(help_text="The day the entry is about (lab-local)."),
                ),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(blank=True, help_text="Markdown.")),
                ("version", models.PositiveIntegerField(default=1)),
                (
                    "reveals_allocation",
                    models.BooleanField(
                        default=False,
                        help_text="The author says the entry reveals the allocation of its linked runs.",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notebook_entries",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "lab",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notebook_entries",
                        to="planner.lab",
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
                "verbose_name_plural": "notebook entries",
                "ordering": ["-entry_date", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="NotebookAttachmentEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("filename", models.CharField(max_length=255)),
                ("version", models.PositiveIntegerField(default=1)),
                ("reason", models.TextField(blank=True)),
                ("added_at", models.DateTimeField(auto_now_add=True)),
                (
                    "added_by",
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
                        to="labnotes.notebookattachment",
                    ),
                ),
                (
                    "replaces",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.notebookattachment",
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
                    "entry",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.notebookentry",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddField(
            model_name="notebookattachment",
            name="entry",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="attachments",
                to="labnotes.notebookentry",
            ),
        ),
        migrations.CreateModel(
            name="NotebookEntryEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "entry_date",
                    models.DateField(help_text="The day the entry is about (lab-local)."),
                ),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(blank=True, help_text="Markdown.")),
                ("version", models.PositiveIntegerField(default=1)),
                (
                    "reveals_allocation",
                    models.BooleanField(
                        default=False,
                        help_text="The author says the entry reveals the allocation of its linked runs.",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
                (
                    "author",
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
                        to="labnotes.notebookentry",
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
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="NotebookEntryVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("entry_date", models.DateField()),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(blank=True)),
                ("saved_at", models.DateTimeField(auto_now_add=True)),
                ("reason", models.TextField(blank=True)),
                (
                    "entry",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="versions",
                        to="labnotes.notebookentry",
                    ),
                ),
                (
                    "saved_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["entry", "-number"],
            },
        ),
        migrations.CreateModel(
            name="NotebookEntryVersionEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("number", models.PositiveIntegerField()),
                ("entry_date", models.DateField()),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(blank=True)),
                ("saved_at", models.DateTimeField(auto_now_add=True)),
                ("reason", models.TextField(blank=True)),
                (
                    "entry",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.notebookentry",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.notebookentryversion",
                    ),
                ),
                (
                    "saved_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="NotebookLink",
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
                            ("run", "Run"),
                            ("animal", "Animal"),
                            ("tumour", "Tumour"),
                            ("sample", "Sample"),
                        ],
                        max_length=8,
                    ),
                ),
                (
                    "animal",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notebook_links",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "entry",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="links",
                        to="labnotes.notebookentry",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notebook_links",
                        to="labnotes.studyrun",
                    ),
                ),
                (
                    "tumour",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notebook_links",
                        to="labnotes.tumour",
                    ),
                ),
            ],
            options={
                "ordering": ["entry", "kind", "pk"],
            },
        ),
        migrations.CreateModel(
            name="NotebookRestriction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "detected",
                    models.BooleanField(
                        default=False,
                        help_text="Found in the text (an arm label or agent), not only declared.",
                    ),
                ),
                (
                    "entry",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="restrictions",
                        to="labnotes.notebookentry",
                    ),
                ),
                (
                    "study",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="planner.study",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="notebookentry",
            name="restricted_studies",
            field=models.ManyToManyField(
                blank=True,
                related_name="+",
                through="labnotes.NotebookRestriction",
                to="planner.study",
            ),
        ),
        migrations.CreateModel(
            name="NotebookRestrictionEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                (
                    "detected",
                    models.BooleanField(
                        default=False,
                        help_text="Found in the text (an arm label or agent), not only declared.",
                    ),
                ),
                (
                    "entry",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.notebookentry",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.notebookrestriction",
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
            name="Sample",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "tissue",
                    models.CharField(
                        choices=[
                            ("serum", "Serum"),
                            ("plasma", "Plasma"),
                            ("whole_blood", "Whole blood"),
                            ("tumour", "Tumour"),
                            ("spleen", "Spleen"),
                            ("lymph_node", "Lymph node"),
                            ("lung", "Lung"),
                            ("liver", "Liver"),
                            ("kidney", "Kidney"),
                            ("bone_marrow", "Bone marrow"),
                            ("other", "Other (see detail)"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "tissue_detail",
                    models.CharField(
                        blank=True, help_text="e.g. inguinal lymph node, left lobe.", max_length=120
                    ),
                ),
                ("collected_at", models.DateTimeField()),
                ("study_day", models.IntegerField()),
                ("dose_given_at", models.DateTimeField(blank=True, null=True)),
                (
                    "nominal_hours_after_dose",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=7, null=True),
                ),
                ("window_minutes", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "actual_minutes_after_dose",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=9, null=True),
                ),
                ("outside_window", models.BooleanField(default=False)),
                (
                    "volume_ul",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=8, null=True),
                ),
                (
                    "mass_mg",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=8, null=True),
                ),
                ("barcode", models.CharField(max_length=64)),
                ("barcode_generated", models.BooleanField(default=False)),
                ("freezer", models.CharField(blank=True, max_length=60)),
                ("rack", models.CharField(blank=True, max_length=40)),
                ("box", models.CharField(blank=True, max_length=40)),
                (
                    "position",
                    models.CharField(
                        blank=True, help_text="Position in the box, e.g. A3.", max_length=20
                    ),
                ),
                ("notes", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
                (
                    "animal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="samples",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "collected_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="collected_samples",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "dose",
                    models.ForeignKey(
                        blank=True,
                        help_text="The dose given that this sample is timed against (e.g. dose 3 of IL-12).",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="timed_samples",
                        to="labnotes.doserecord",
                    ),
                ),
                (
                    "lab",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="samples",
                        to="planner.lab",
                    ),
                ),
                (
                    "necropsy",
                    models.ForeignKey(
                        blank=True,
                        help_text="Taken at this necropsy.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="samples",
                        to="labnotes.necropsy",
                    ),
                ),
                (
                    "procedure",
                    models.ForeignKey(
                        blank=True,
                        help_text="The design's sample-collection procedure this sample follows.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="samples",
                        to="planner.studyprocedure",
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
                    "task",
                    models.ForeignKey(
                        blank=True,
                        help_text="The planned collection task this sample fulfils.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="samples",
                        to="labnotes.task",
                    ),
                ),
                (
                    "tumour",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="samples",
                        to="labnotes.tumour",
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
                "ordering": ["animal", "collected_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="NotebookLinkEvent",
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
                            ("run", "Run"),
                            ("animal", "Animal"),
                            ("tumour", "Tumour"),
                            ("sample", "Sample"),
                        ],
                        max_length=8,
                    ),
                ),
                (
                    "animal",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.animal",
                    ),
                ),
                (
                    "entry",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.notebookentry",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.notebooklink",
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
                    "tumour",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.tumour",
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
        migrations.AddField(
            model_name="notebooklink",
            name="sample",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="notebook_links",
                to="labnotes.sample",
            ),
        ),
        migrations.CreateModel(
            name="SampleEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("row_version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "tissue",
                    models.CharField(
                        choices=[
                            ("serum", "Serum"),
                            ("plasma", "Plasma"),
                            ("whole_blood", "Whole blood"),
                            ("tumour", "Tumour"),
                            ("spleen", "Spleen"),
                            ("lymph_node", "Lymph node"),
                            ("lung", "Lung"),
                            ("liver", "Liver"),
                            ("kidney", "Kidney"),
                            ("bone_marrow", "Bone marrow"),
                            ("other", "Other (see detail)"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "tissue_detail",
                    models.CharField(
                        blank=True, help_text="e.g. inguinal lymph node, left lobe.", max_length=120
                    ),
                ),
                ("collected_at", models.DateTimeField()),
                ("study_day", models.IntegerField()),
                ("dose_given_at", models.DateTimeField(blank=True, null=True)),
                (
                    "nominal_hours_after_dose",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=7, null=True),
                ),
                ("window_minutes", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "actual_minutes_after_dose",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=9, null=True),
                ),
                ("outside_window", models.BooleanField(default=False)),
                (
                    "volume_ul",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=8, null=True),
                ),
                (
                    "mass_mg",
                    models.DecimalField(blank=True, decimal_places=1, max_digits=8, null=True),
                ),
                ("barcode", models.CharField(max_length=64)),
                ("barcode_generated", models.BooleanField(default=False)),
                ("freezer", models.CharField(blank=True, max_length=60)),
                ("rack", models.CharField(blank=True, max_length=40)),
                ("box", models.CharField(blank=True, max_length=40)),
                (
                    "position",
                    models.CharField(
                        blank=True, help_text="Position in the box, e.g. A3.", max_length=20
                    ),
                ),
                ("notes", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                ("void_reason", models.TextField(blank=True)),
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
                    "collected_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "dose",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The dose given that this sample is timed against (e.g. dose 3 of IL-12).",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.doserecord",
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
                    "necropsy",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="Taken at this necropsy.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.necropsy",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="labnotes.sample",
                    ),
                ),
                (
                    "procedure",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The design's sample-collection procedure this sample follows.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="planner.studyprocedure",
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
                    "task",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The planned collection task this sample fulfils.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.task",
                    ),
                ),
                (
                    "tumour",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="labnotes.tumour",
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
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddConstraint(
            model_name="necropsy",
            constraint=models.UniqueConstraint(
                condition=models.Q(("voided_at__isnull", True)),
                fields=("animal",),
                name="necropsy_one_per_animal",
            ),
        ),
        migrations.AddConstraint(
            model_name="necropsy",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("terminal_body_weight_g__isnull", True),
                    ("terminal_body_weight_g__gt", 0),
                    _connector="OR",
                ),
                name="necropsy_body_weight_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="necropsy",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("voided_at__isnull", True),
                    models.Q(
                        ("voided_by__isnull", False), models.Q(("void_reason", ""), _negated=True)
                    ),
                    _connector="OR",
                ),
                name="necropsy_void_has_who_and_why",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="necropsy",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_necropsyevent" ("animal_id", "created_at", "gross_findings", "gross_notes", "id", "metastasis_counts", "organ_weights", "performed_at", "performed_by_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "recorded_by_id", "row_version", "study_day", "terminal_body_weight_g", "tumour_weights", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."animal_id", NEW."created_at", NEW."gross_findings", NEW."gross_notes", NEW."id", NEW."metastasis_counts", NEW."organ_weights", NEW."performed_at", NEW."performed_by_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."protocol_version_id", NEW."recorded_by_id", NEW."row_version", NEW."study_day", NEW."terminal_body_weight_g", NEW."tumour_weights", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="70fbfaaa21fecf6bc29a5267f7ecdaec65f98462",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_a78a8",
                    table="labnotes_necropsy",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="necropsy",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_necropsyevent" ("animal_id", "created_at", "gross_findings", "gross_notes", "id", "metastasis_counts", "organ_weights", "performed_at", "performed_by_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "recorded_by_id", "row_version", "study_day", "terminal_body_weight_g", "tumour_weights", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."animal_id", NEW."created_at", NEW."gross_findings", NEW."gross_notes", NEW."id", NEW."metastasis_counts", NEW."organ_weights", NEW."performed_at", NEW."performed_by_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."protocol_version_id", NEW."recorded_by_id", NEW."row_version", NEW."study_day", NEW."terminal_body_weight_g", NEW."tumour_weights", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="2b62006ee75e3bc94b312f22e630c3eaa1d67fe4",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_fa46f",
                    table="labnotes_necropsy",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="necropsy",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_necropsyevent" ("animal_id", "created_at", "gross_findings", "gross_notes", "id", "metastasis_counts", "organ_weights", "performed_at", "performed_by_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "protocol_version_id", "recorded_by_id", "row_version", "study_day", "terminal_body_weight_g", "tumour_weights", "void_reason", "voided_at", "voided_by_id") VALUES (OLD."animal_id", OLD."created_at", OLD."gross_findings", OLD."gross_notes", OLD."id", OLD."metastasis_counts", OLD."organ_weights", OLD."performed_at", OLD."performed_by_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."protocol_version_id", OLD."recorded_by_id", OLD."row_version", OLD."study_day", OLD."terminal_body_weight_g", OLD."tumour_weights", OLD."void_reason", OLD."voided_at", OLD."voided_by_id"); RETURN NULL;',
                    hash="27b10ef9dc174de9fe961ac84adaf743c5b9e808",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_39803",
                    table="labnotes_necropsy",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="necropsyevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="f372f0cc2df55e45e58c0974bde49599e743cd12",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_f7b3a",
                    table="labnotes_necropsyevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookattachmentevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="ff31c9cbc85bdfc41164dc71a5ed8704d7a9bea3",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_006d6",
                    table="labnotes_notebookattachmentevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="notebookattachment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("replaces__isnull", True), ("version", 1)),
                    models.Q(
                        ("replaces__isnull", False),
                        ("version__gt", 1),
                        models.Q(("reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="notebook_attachment_version_chain",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookattachment",
            trigger=pgtrigger.compiler.Trigger(
                name="notebook_attachment_immutable",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="1ae233ab415282027463d24f7f46b2fe0058eaa8",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_notebook_attachment_immutable_94c8d",
                    table="labnotes_notebookattachment",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookattachment",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_notebookattachmentevent" ("added_at", "added_by_id", "entry_id", "filename", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "replaces_id", "stored_file_id", "version") VALUES (NEW."added_at", NEW."added_by_id", NEW."entry_id", NEW."filename", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reason", NEW."replaces_id", NEW."stored_file_id", NEW."version"); RETURN NULL;',
                    hash="dd026f0d9c3793b206a09db2baf4f9d0cc1c7567",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_a8875",
                    table="labnotes_notebookattachment",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookattachment",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_notebookattachmentevent" ("added_at", "added_by_id", "entry_id", "filename", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "replaces_id", "stored_file_id", "version") VALUES (NEW."added_at", NEW."added_by_id", NEW."entry_id", NEW."filename", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reason", NEW."replaces_id", NEW."stored_file_id", NEW."version"); RETURN NULL;',
                    hash="108e767c1278d22a69ce7aaa708b154fddf81e67",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_1a89b",
                    table="labnotes_notebookattachment",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookattachment",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_notebookattachmentevent" ("added_at", "added_by_id", "entry_id", "filename", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "replaces_id", "stored_file_id", "version") VALUES (OLD."added_at", OLD."added_by_id", OLD."entry_id", OLD."filename", OLD."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reason", OLD."replaces_id", OLD."stored_file_id", OLD."version"); RETURN NULL;',
                    hash="407579bbb8e1940a72d7e38b4b963f9f6a5a08df",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_82b36",
                    table="labnotes_notebookattachment",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookentryevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="e6bbfceb09625b7b7446cf203c40c08d41ed2749",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_d8701",
                    table="labnotes_notebookentryevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="notebookentryversion",
            constraint=models.UniqueConstraint(
                fields=("entry", "number"), name="notebook_version_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="notebookentryversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("number", 1), models.Q(("reason", ""), _negated=True), _connector="OR"
                ),
                name="notebook_version_edit_has_reason",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookentryversion",
            trigger=pgtrigger.compiler.Trigger(
                name="notebook_version_immutable",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="ebb45652908e3a70a2de937f8f6798f50f7de2d8",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_notebook_version_immutable_afa88",
                    table="labnotes_notebookentryversion",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookentryversion",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_notebookentryversionevent" ("body", "entry_date", "entry_id", "id", "number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "saved_at", "saved_by_id", "title") VALUES (NEW."body", NEW."entry_date", NEW."entry_id", NEW."id", NEW."number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reason", NEW."saved_at", NEW."saved_by_id", NEW."title"); RETURN NULL;',
                    hash="ecff54410083dc8e8f549f3ee8fb4a3e860b954f",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_d1fd9",
                    table="labnotes_notebookentryversion",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookentryversion",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_notebookentryversionevent" ("body", "entry_date", "entry_id", "id", "number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "saved_at", "saved_by_id", "title") VALUES (NEW."body", NEW."entry_date", NEW."entry_id", NEW."id", NEW."number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reason", NEW."saved_at", NEW."saved_by_id", NEW."title"); RETURN NULL;',
                    hash="66f33b795230957a314b6f6ed0590f12a02f7e9b",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_8f246",
                    table="labnotes_notebookentryversion",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookentryversion",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_notebookentryversionevent" ("body", "entry_date", "entry_id", "id", "number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "saved_at", "saved_by_id", "title") VALUES (OLD."body", OLD."entry_date", OLD."entry_id", OLD."id", OLD."number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reason", OLD."saved_at", OLD."saved_by_id", OLD."title"); RETURN NULL;',
                    hash="6460fa4f305c0d2cea854badb97090608a95ffd5",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_4703b",
                    table="labnotes_notebookentryversion",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookentryversionevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="dc2f56dd2ab2aac8a47ac114d4183f0e5d26b48c",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_2ff98",
                    table="labnotes_notebookentryversionevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="notebookrestriction",
            constraint=models.UniqueConstraint(
                fields=("entry", "study"), name="notebook_restriction_unique"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookrestriction",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_notebookrestrictionevent" ("detected", "entry_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "study_id") VALUES (NEW."detected", NEW."entry_id", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."study_id"); RETURN NULL;',
                    hash="862ca58da54586657d12efba66c28f19ffa0aa1a",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_b0978",
                    table="labnotes_notebookrestriction",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookrestriction",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_notebookrestrictionevent" ("detected", "entry_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "study_id") VALUES (NEW."detected", NEW."entry_id", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."study_id"); RETURN NULL;',
                    hash="1c765591634e14abf093f397967c283626f715d7",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_e7122",
                    table="labnotes_notebookrestriction",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookrestriction",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_notebookrestrictionevent" ("detected", "entry_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "study_id") VALUES (OLD."detected", OLD."entry_id", OLD."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."study_id"); RETURN NULL;',
                    hash="27796ffc69c81744f0c03a6ce5adba6f7f4dc300",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_6f626",
                    table="labnotes_notebookrestriction",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="notebookentry",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.search.CombinedSearchVector(
                    django.contrib.postgres.search.SearchVector(
                        "title", config="english", weight="A"
                    ),
                    "||",
                    django.contrib.postgres.search.SearchVector(
                        "body", config="english", weight="B"
                    ),
                    django.contrib.postgres.search.SearchConfig("english"),
                ),
                name="notebook_entry_search",
            ),
        ),
        migrations.AddIndex(
            model_name="notebookentry",
            index=models.Index(fields=["lab", "entry_date"], name="notebook_entry_lab_date"),
        ),
        migrations.AddConstraint(
            model_name="notebookentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("title", ""), _negated=True), name="notebook_title_not_blank"
            ),
        ),
        migrations.AddConstraint(
            model_name="notebookentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("voided_at__isnull", True),
                    models.Q(
                        ("voided_by__isnull", False), models.Q(("void_reason", ""), _negated=True)
                    ),
                    _connector="OR",
                ),
                name="notebook_void_has_who_and_why",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookentry",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_notebookentryevent" ("author_id", "body", "created_at", "entry_date", "id", "lab_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reveals_allocation", "row_version", "title", "updated_at", "version", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."author_id", NEW."body", NEW."created_at", NEW."entry_date", NEW."id", NEW."lab_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reveals_allocation", NEW."row_version", NEW."title", NEW."updated_at", NEW."version", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="db7b2921a5abaeedd187d0551c5242d4a915309e",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_c20d7",
                    table="labnotes_notebookentry",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookentry",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_notebookentryevent" ("author_id", "body", "created_at", "entry_date", "id", "lab_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reveals_allocation", "row_version", "title", "updated_at", "version", "void_reason", "voided_at", "voided_by_id") VALUES (NEW."author_id", NEW."body", NEW."created_at", NEW."entry_date", NEW."id", NEW."lab_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reveals_allocation", NEW."row_version", NEW."title", NEW."updated_at", NEW."version", NEW."void_reason", NEW."voided_at", NEW."voided_by_id"); RETURN NULL;',
                    hash="95247a167e82334ef9259bf79a26fa2bf8ba61a8",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_4ed33",
                    table="labnotes_notebookentry",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookentry",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_notebookentryevent" ("author_id", "body", "created_at", "entry_date", "id", "lab_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reveals_allocation", "row_version", "title", "updated_at", "version", "void_reason", "voided_at", "voided_by_id") VALUES (OLD."author_id", OLD."body", OLD."created_at", OLD."entry_date", OLD."id", OLD."lab_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reveals_allocation", OLD."row_version", OLD."title", OLD."updated_at", OLD."version", OLD."void_reason", OLD."voided_at", OLD."voided_by_id"); RETURN NULL;',
                    hash="2a7d2a47a2e92fd4a40fdfbcddf803aae08225fc",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_ab459",
                    table="labnotes_notebookentry",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebookrestrictionevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="b9fe66f3c4fc29a738f180dfabefa155bb3c7c87",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_0d7d7",
                    table="labnotes_notebookrestrictionevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="sample",
            index=models.Index(fields=["animal", "collected_at"], name="sample_animal_time"),
        ),
        migrations.AddConstraint(
            model_name="sample",
            constraint=models.UniqueConstraint(
                fields=("lab", "barcode"), name="sample_barcode_unique_in_lab"
            ),
        ),
        migrations.AddConstraint(
            model_name="sample",
            constraint=models.CheckConstraint(
                condition=models.Q(("barcode__regex", "^[A-Za-z0-9._\\-/]{1,64}$")),
                name="sample_barcode_printable",
            ),
        ),
        migrations.AddConstraint(
            model_name="sample",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "tissue__in",
                        [
                            "serum",
                            "plasma",
                            "whole_blood",
                            "tumour",
                            "spleen",
                            "lymph_node",
                            "lung",
                            "liver",
                            "kidney",
                            "bone_marrow",
                            "other",
                        ],
                    )
                ),
                name="sample_tissue_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="sample",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("volume_ul__isnull", True), ("volume_ul__gt", 0), _connector="OR"),
                    models.Q(("mass_mg__isnull", True), ("mass_mg__gt", 0), _connector="OR"),
                ),
                name="sample_amounts_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="sample",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("actual_minutes_after_dose__isnull", True),
                        ("dose__isnull", True),
                        ("dose_given_at__isnull", True),
                        ("nominal_hours_after_dose__isnull", True),
                        ("outside_window", False),
                        ("window_minutes__isnull", True),
                    ),
                    models.Q(
                        ("actual_minutes_after_dose__isnull", False),
                        ("dose__isnull", False),
                        ("dose_given_at__isnull", False),
                        ("nominal_hours_after_dose__isnull", False),
                        ("window_minutes__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="sample_dose_timing_complete",
            ),
        ),
        migrations.AddConstraint(
            model_name="sample",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("voided_at__isnull", True),
                    models.Q(
                        ("voided_by__isnull", False), models.Q(("void_reason", ""), _negated=True)
                    ),
                    _connector="OR",
                ),
                name="sample_void_has_who_and_why",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="sample",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_sampleevent" ("actual_minutes_after_dose", "animal_id", "barcode", "barcode_generated", "box", "collected_at", "collected_by_id", "created_at", "dose_given_at", "dose_id", "freezer", "id", "lab_id", "mass_mg", "necropsy_id", "nominal_hours_after_dose", "notes", "outside_window", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "position", "procedure_id", "rack", "recorded_by_id", "row_version", "study_day", "task_id", "tissue", "tissue_detail", "tumour_id", "void_reason", "voided_at", "voided_by_id", "volume_ul", "window_minutes") VALUES (NEW."actual_minutes_after_dose", NEW."animal_id", NEW."barcode", NEW."barcode_generated", NEW."box", NEW."collected_at", NEW."collected_by_id", NEW."created_at", NEW."dose_given_at", NEW."dose_id", NEW."freezer", NEW."id", NEW."lab_id", NEW."mass_mg", NEW."necropsy_id", NEW."nominal_hours_after_dose", NEW."notes", NEW."outside_window", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."position", NEW."procedure_id", NEW."rack", NEW."recorded_by_id", NEW."row_version", NEW."study_day", NEW."task_id", NEW."tissue", NEW."tissue_detail", NEW."tumour_id", NEW."void_reason", NEW."voided_at", NEW."voided_by_id", NEW."volume_ul", NEW."window_minutes"); RETURN NULL;',
                    hash="6e30ec447f3d3037f34abfac12a4ba5dd2d1a01f",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_3ed77",
                    table="labnotes_sample",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="sample",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_sampleevent" ("actual_minutes_after_dose", "animal_id", "barcode", "barcode_generated", "box", "collected_at", "collected_by_id", "created_at", "dose_given_at", "dose_id", "freezer", "id", "lab_id", "mass_mg", "necropsy_id", "nominal_hours_after_dose", "notes", "outside_window", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "position", "procedure_id", "rack", "recorded_by_id", "row_version", "study_day", "task_id", "tissue", "tissue_detail", "tumour_id", "void_reason", "voided_at", "voided_by_id", "volume_ul", "window_minutes") VALUES (NEW."actual_minutes_after_dose", NEW."animal_id", NEW."barcode", NEW."barcode_generated", NEW."box", NEW."collected_at", NEW."collected_by_id", NEW."created_at", NEW."dose_given_at", NEW."dose_id", NEW."freezer", NEW."id", NEW."lab_id", NEW."mass_mg", NEW."necropsy_id", NEW."nominal_hours_after_dose", NEW."notes", NEW."outside_window", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."position", NEW."procedure_id", NEW."rack", NEW."recorded_by_id", NEW."row_version", NEW."study_day", NEW."task_id", NEW."tissue", NEW."tissue_detail", NEW."tumour_id", NEW."void_reason", NEW."voided_at", NEW."voided_by_id", NEW."volume_ul", NEW."window_minutes"); RETURN NULL;',
                    hash="307eb7a70df24f0c070611322c2bc45d2e9595a3",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_1abc3",
                    table="labnotes_sample",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="sample",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_sampleevent" ("actual_minutes_after_dose", "animal_id", "barcode", "barcode_generated", "box", "collected_at", "collected_by_id", "created_at", "dose_given_at", "dose_id", "freezer", "id", "lab_id", "mass_mg", "necropsy_id", "nominal_hours_after_dose", "notes", "outside_window", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "position", "procedure_id", "rack", "recorded_by_id", "row_version", "study_day", "task_id", "tissue", "tissue_detail", "tumour_id", "void_reason", "voided_at", "voided_by_id", "volume_ul", "window_minutes") VALUES (OLD."actual_minutes_after_dose", OLD."animal_id", OLD."barcode", OLD."barcode_generated", OLD."box", OLD."collected_at", OLD."collected_by_id", OLD."created_at", OLD."dose_given_at", OLD."dose_id", OLD."freezer", OLD."id", OLD."lab_id", OLD."mass_mg", OLD."necropsy_id", OLD."nominal_hours_after_dose", OLD."notes", OLD."outside_window", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."position", OLD."procedure_id", OLD."rack", OLD."recorded_by_id", OLD."row_version", OLD."study_day", OLD."task_id", OLD."tissue", OLD."tissue_detail", OLD."tumour_id", OLD."void_reason", OLD."voided_at", OLD."voided_by_id", OLD."volume_ul", OLD."window_minutes"); RETURN NULL;',
                    hash="45bbd18abc58a71edccf7080d417629fb6bd0ede",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_4d07e",
                    table="labnotes_sample",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebooklinkevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="878ae1286f0dd432247d7fbf8bece10f4e2e34f1",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_3393a",
                    table="labnotes_notebooklinkevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="notebooklink",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("animal__isnull", True),
                        ("kind", "run"),
                        ("run__isnull", False),
                        ("sample__isnull", True),
                        ("tumour__isnull", True),
                    ),
                    models.Q(
                        ("animal__isnull", False),
                        ("kind", "animal"),
                        ("run__isnull", True),
                        ("sample__isnull", True),
                        ("tumour__isnull", True),
                    ),
                    models.Q(
                        ("animal__isnull", True),
                        ("kind", "tumour"),
                        ("run__isnull", True),
                        ("sample__isnull", True),
                        ("tumour__isnull", False),
                    ),
                    models.Q(
                        ("animal__isnull", True),
                        ("kind", "sample"),
                        ("run__isnull", True),
                        ("sample__isnull", False),
                        ("tumour__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="notebook_link_exactly_one_target",
            ),
        ),
        migrations.AddConstraint(
            model_name="notebooklink",
            constraint=models.UniqueConstraint(
                fields=("entry", "kind", "run", "animal", "tumour", "sample"),
                name="notebook_link_unique",
                nulls_distinct=False,
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebooklink",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_notebooklinkevent" ("animal_id", "entry_id", "id", "kind", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "run_id", "sample_id", "tumour_id") VALUES (NEW."animal_id", NEW."entry_id", NEW."id", NEW."kind", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."run_id", NEW."sample_id", NEW."tumour_id"); RETURN NULL;',
                    hash="0200678a1bd12a72f9704ae6364a9170fc56cf51",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_e63f8",
                    table="labnotes_notebooklink",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebooklink",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "labnotes_notebooklinkevent" ("animal_id", "entry_id", "id", "kind", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "run_id", "sample_id", "tumour_id") VALUES (NEW."animal_id", NEW."entry_id", NEW."id", NEW."kind", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."run_id", NEW."sample_id", NEW."tumour_id"); RETURN NULL;',
                    hash="12376d7ab238019f7f7494f701a042a84b6c444c",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_0e358",
                    table="labnotes_notebooklink",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="notebooklink",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "labnotes_notebooklinkevent" ("animal_id", "entry_id", "id", "kind", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "run_id", "sample_id", "tumour_id") VALUES (OLD."animal_id", OLD."entry_id", OLD."id", OLD."kind", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."run_id", OLD."sample_id", OLD."tumour_id"); RETURN NULL;',
                    hash="ad88bc63b19f37998b049aa119a7d361dbafb0c7",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_bbfe0",
                    table="labnotes_notebooklink",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="sampleevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="f79d63ca28c9ea399fd6c740d2b01b48c3325678",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_f5a10",
                    table="labnotes_sampleevent",
                    when="BEFORE",
                ),
            ),
        ),
    ]
