"""Study reports: a background job per (run, kind, variant, options, data hash) and its files.

A :class:`Report` row is both the request and the job: it is claimed by exactly one worker with
a conditional UPDATE (``status`` queued → running, a fresh ``claim_token``), sends a heartbeat
while it builds, and is published in one transaction that only succeeds while the claim is still
its own. The artifacts (HTML, PDF, XLSX, ZIP bundle) are content-addressed stored files
(:class:`labnotes.models.StoredFile`), each recorded with its SHA-256 and the software version
that made it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail


class ReportKind(models.TextChoices):
    INTERIM = "interim", "Interim"
    FINAL = "final", "Final"


class ReportVariant(models.TextChoices):
    UNBLINDED = "unblinded", "Unblinded (arm labels and regimens)"
    BLINDED = "blinded", "Blinded (arm codes only)"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


@audit_trail()
class Report(models.Model):
    """One report of one run: what was asked (kind, variant, options), on which data (hash),
    and how building it went (status, progress, heartbeat, message).

    ``options`` holds the analysis options in the report engine's terms (analysis day in days
    since treatment start or None for the plan's rule, TGI definition, dropout policy, synergy
    model); ``options_key`` is the SHA-256 of their canonical JSON, so the same request maps to
    the same row. ``exploratory`` is set when the options differ from the design's approved
    analysis plan, and ``plan_differences`` says how. ``losses`` counts the times a worker
    stopped while holding the job (heartbeat gone stale): the sweeper re-queues after the first
    and fails the job after the second.
    """

    lab = models.ForeignKey("planner.Lab", on_delete=models.PROTECT, related_name="reports")
    run = models.ForeignKey(
        "labnotes.StudyRun",
        on_delete=models.PROTECT,
        related_name="reports",
        null=True,
        blank=True,
        help_text="The run of a run report; empty for a report pooling runs of a study.",
    )
    study = models.ForeignKey(
        "planner.Study",
        on_delete=models.PROTECT,
        related_name="pooled_reports",
        null=True,
        blank=True,
        help_text="The study of a report pooling several of its runs; empty for a run report.",
    )
    pooled_runs = models.JSONField(
        default=list,
        blank=True,
        help_text="Primary keys of the runs a study report pools (ascending); [] for a run report.",
    )
    kind = models.CharField(max_length=10, choices=ReportKind.choices)
    variant = models.CharField(
        max_length=10, choices=ReportVariant.choices, default=ReportVariant.UNBLINDED
    )
    options = models.JSONField(default=dict)
    options_key = models.CharField(max_length=64)
    exploratory = models.BooleanField(default=False)
    plan_differences = models.JSONField(default=list, blank=True)
    data_hash = models.CharField(
        max_length=71, help_text="sha256:<hex> of the counted data when the report was asked for."
    )
    built_data_hash = models.CharField(
        max_length=71,
        blank=True,
        help_text="sha256:<hex> of the counted data the report was built from.",
    )
    status = models.CharField(
        max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress_percent = models.PositiveSmallIntegerField(default=0)
    current_step = models.CharField(max_length=120, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_reports"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker message for this job was last sent."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    losses = models.PositiveSmallIntegerField(default=0)
    claim_token = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True, help_text="What went wrong, for the scientist.")
    error_detail = models.TextField(blank=True, help_text="Technical detail for the admin.")
    software_version = models.CharField(max_length=40, blank=True)
    results = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in ReportStatus]),
                name="report_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=[choice.value for choice in ReportKind]),
                name="report_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(variant__in=[choice.value for choice in ReportVariant]),
                name="report_variant_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(progress_percent__lte=100), name="report_progress_range"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="failed") | ~models.Q(message=""),
                name="report_failure_has_message",
            ),
            # Asking again for the same report of the same data returns the existing job; a
            # failed one does not block a new attempt.
            models.UniqueConstraint(
                fields=["run", "kind", "variant", "options_key", "data_hash"],
                condition=~models.Q(status="failed"),
                name="report_one_job_per_request",
            ),
            # A pooled report's options_key covers the pooled runs too.
            models.UniqueConstraint(
                fields=["study", "kind", "variant", "options_key", "data_hash"],
                condition=~models.Q(status="failed") & models.Q(run__isnull=True),
                name="report_one_pooled_job_per_request",
            ),
            models.CheckConstraint(
                condition=(models.Q(run__isnull=False) & models.Q(study__isnull=True))
                | (models.Q(run__isnull=True) & models.Q(study__isnull=False)),
                name="report_of_a_run_or_a_study",
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="report_status_heartbeat")]

    def __str__(self) -> str:
        subject = self.run if self.run_id is not None else f"{self.study} (pooled runs)"
        return f"{self.get_kind_display()} report #{self.pk} of {subject} ({self.status})"

    @property
    def is_pooled(self) -> bool:
        return self.run_id is None

    @property
    def is_finished(self) -> bool:
        return self.status in (ReportStatus.SUCCEEDED, ReportStatus.FAILED)


@audit_trail()
class ReportArtifact(models.Model):
    """One file of a succeeded report, with its SHA-256 and the software that made it."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="artifacts")
    name = models.CharField(max_length=60, help_text="report.html, report.pdf, …")
    stored_file = models.ForeignKey(
        "labnotes.StoredFile", on_delete=models.PROTECT, related_name="report_artifacts"
    )
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    software_version = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report", "name"]
        constraints = [
            models.UniqueConstraint(fields=["report", "name"], name="report_artifact_name_unique"),
            models.CheckConstraint(
                condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"),
                name="report_artifact_sha256_is_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} of report #{self.report_id} (sha256 {self.sha256[:12]}…)"
