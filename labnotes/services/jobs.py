"""Background jobs: request, claim, run, finish."""

from __future__ import annotations

import socket

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from labnotes.models import BackgroundJob, JobStatus
from labnotes.models.jobs import JobKind
from planner.audit import audited_change
from planner.models import Lab, Role
from planner.services.permissions import require_role


def request_self_test(*, lab: Lab, requested_by: User) -> BackgroundJob:
    """Queue a job that proves the worker reaches the database; enqueued after commit."""
    require_role(requested_by, lab, list(Role), action="run a self-test")
    with transaction.atomic(), audited_change(reason=None, required=False):
        job = BackgroundJob.objects.create(
            lab=lab, kind=JobKind.SELF_TEST, requested_by=requested_by
        )
        from labnotes.tasks import run_background_job

        transaction.on_commit(
            lambda: run_background_job.delay(job.pk, requested_by_user_id=requested_by.pk)
        )
    return job


def claim_job(*, job_id: int) -> bool:
    """Move a queued job to running. True for exactly one caller."""
    now = timezone.now()
    with audited_change(reason=None, required=False):
        claimed = BackgroundJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            worker=socket.gethostname()[:200],
        )
    return claimed == 1


def run_self_test(*, job: BackgroundJob) -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), current_database()")
        version, database = cursor.fetchone()
    return {"postgresql": version.split(",")[0], "database": database}


def finish_job(*, job_id: int, result: dict[str, object] | None, error: str = "") -> None:
    status = JobStatus.FAILED if error else JobStatus.SUCCEEDED
    with transaction.atomic(), audited_change(reason=None, required=False):
        BackgroundJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=status,
            finished_at=timezone.now(),
            result=result or {},
            message=error,
            progress_percent=100,
        )
