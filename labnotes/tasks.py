"""Lab-record background tasks. Thin: load, claim with a conditional UPDATE, call a service."""

from __future__ import annotations

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
