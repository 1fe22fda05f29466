"""Lab-record background tasks. Thin: load, claim with a conditional UPDATE, call a service."""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task

from labnotes.models import BackgroundJob
from labnotes.models.jobs import JobKind
from planner.audit.tasks import AuditedTask


@shared_task(base=AuditedTask, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]  # celery is untyped
def run_background_job(job_id: int, requested_by_user_id: int | None = None) -> None:
    from labnotes.services import jobs

    job = BackgroundJob.objects.filter(pk=job_id).first()
    if job is None or not jobs.claim_job(job_id=job_id):
        return
    job.refresh_from_db()
    if job.kind == JobKind.SELF_TEST:
        jobs.finish_job(job_id=job_id, result=jobs.run_self_test(job=job))
    else:
        jobs.finish_job(job_id=job_id, result=None, error=f"Unknown job kind {job.kind!r}.")


# -- study reports (issue 8) -----------------------------------------------------------------


@shared_task(  # type: ignore[untyped-decorator]  # celery is untyped
    base=AuditedTask,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
)
def build_report(self: Any, report_id: int, requested_by_user_id: int | None = None) -> str:
    """Build one report job exactly once (the service claims it with a conditional UPDATE).

    Late acknowledgement and rejection on worker loss let the broker hand the message to
    another worker; the claim makes any second delivery a no-op. The soft and hard time limits
    (settings ``CELERY_TASK_SOFT_TIME_LIMIT``/``CELERY_TASK_TIME_LIMIT``) sit below the Redis
    visibility timeout. Retries only the named transient errors (database unreachable), with
    exponential backoff and jitter; after the last retry the job fails with a message.
    """
    from labnotes.services import reports

    try:
        return reports.run_report_job(report_id=report_id, worker=str(self.request.hostname))
    except reports.TransientReportError as exc:
        if self.request.retries >= self.max_retries:
            reports.fail_report(
                report_id=report_id,
                message=(
                    "The database could not be reached while building the report "
                    f"({self.max_retries + 1} attempts). Ask for the report again later."
                ),
                detail=str(exc),
            )
            return "failed"
        countdown = 2 ** (self.request.retries + 1) + random.uniform(0, 1)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(base=AuditedTask)  # type: ignore[untyped-decorator]  # celery is untyped
def sweep_report_jobs() -> dict[str, list[int]]:
    """Beat: re-queue report jobs whose worker died, fail them after a second loss."""
    from labnotes.services.reports import sweep_stale_reports

    result = sweep_stale_reports()
    return {
        "requeued": list(result.requeued),
        "failed": list(result.failed),
        "resent": list(result.resent),
    }


# -- study archives (issue 10) ---------------------------------------------------------------


@shared_task(base=AuditedTask, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]  # celery is untyped
def build_study_archive(archive_id: int, requested_by_user_id: int | None = None) -> str:
    """Build one study archive package; the job claim makes a second delivery a no-op."""
    from labnotes.services.archive import run_archive_job

    return run_archive_job(archive_id=archive_id)
