"""Background jobs: a row per piece of work the worker does, claimed exactly once."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class JobKind(models.TextChoices):
    SELF_TEST = "self_test", "Self-test (database and worker round trip)"
    STUDY_ARCHIVE = "study_archive", "Study archive package"


@audit_trail()
class BackgroundJob(models.Model):
    """One unit of background work. The worker claims it with a conditional UPDATE.

    Cancelling is a database flag (``cancel_requested``), never a broker ``revoke``: the
    serverless broker has no broadcast channel.
    """

    lab = models.ForeignKey("planner.Lab", on_delete=models.PROTECT, related_name="jobs")
    kind = models.CharField(max_length=30, choices=JobKind.choices)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="background_jobs"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    cancel_requested = models.BooleanField(default=False)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in JobStatus]),
                name="background_job_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(progress_percent__lte=100), name="background_job_progress_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"
