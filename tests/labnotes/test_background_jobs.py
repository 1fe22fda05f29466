"""A task enqueued from a request runs in a separate worker process and writes its row."""

from __future__ import annotations

import pytest
from django.test import Client

from labnotes.models import BackgroundJob, JobStatus
from tests.conftest import wait_for
from tests.factories import TEST_PASSWORD


@pytest.mark.worker
def test_self_test_job_runs_in_real_worker_when_requested_from_page(
    celery_worker_process, lab, scientist
):
    client = Client()
    assert client.login(username=scientist.username, password=TEST_PASSWORD)
    response = client.post("/system/self-test/")
    assert response.status_code == 302
    # The page answers at once; the job row exists (the worker may already have taken it).
    job = BackgroundJob.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/"

    def finished() -> BackgroundJob | None:
        current = BackgroundJob.objects.get(pk=job.pk)
        return current if current.status in {JobStatus.SUCCEEDED, JobStatus.FAILED} else None

    done = wait_for(finished, timeout=60)
    assert done.status == JobStatus.SUCCEEDED, done.message
    assert done.result["database"].startswith("test_")
    assert done.started_at is not None and done.finished_at >= done.started_at
    assert done.worker
    # The worker's writes are attributed to the task and the person who asked.
    from planner.audit.history import history_for

    claimed = [
        entry
        for entry in history_for(done)
        if any(c.field == "status" and c.new == "running" for c in entry.changes)
    ]
    assert claimed and claimed[0].client == "task"

    page = client.get(f"/jobs/{job.pk}/")
    assert b"Succeeded" in page.content
