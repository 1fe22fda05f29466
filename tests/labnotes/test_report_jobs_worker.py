"""Report jobs with real Celery workers on the configured broker and real PostgreSQL.

* request from the page → the worker builds it → succeeded: the PDF's text holds the TGI and
  log-rank numbers of results.json, the XLSX opens with the expected sheets, and every command
  of the bundle's manifest re-run with ``python -m labnotes.analysis`` prints results.json's
  numbers;
* SIGKILL the worker mid-job, start another: the sweeper re-queues the job (the message of a
  killed worker is not redelivered in time — never on the serverless broker) and it completes
  exactly once; a duplicate message afterwards changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.test import Client

from labnotes.models import Report, ReportArtifact, ReportStatus
from labnotes.reports import formatting as fmt
from labnotes.reports.html import TGI_KEYS
from labnotes.services import reports as report_services
from labnotes.services.files import read_file
from planner.models import OutboundMessage
from tests.conftest import _database_url_for_current_test_db, wait_for
from tests.factories import TEST_PASSWORD
from tests.labnotes.reports.report_run import build_report_run
from tests.labnotes.reports.test_report import pdf_text, squash
from tests.labnotes.reports.worker_support import REPO_ROOT, WorkerPool


@pytest.fixture
def worker_pool(transactional_db: None, tmp_path: Path) -> Iterator[WorkerPool]:
    from config.celery import app

    queue = f"vivolog-report-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    pool = WorkerPool(
        queue=queue,
        database_url=_database_url_for_current_test_db(),
        broker_url=str(app.conf.broker_url),
        log_dir=tmp_path,
    )
    try:
        yield pool
    finally:
        app.conf.task_default_queue = previous
        pool.stop_all()


def _finished(report_id: int) -> Report | None:
    report = Report.objects.get(pk=report_id)
    return report if report.is_finished else None


def _bytes(report: Report, name: str) -> bytes:
    return read_file(ReportArtifact.objects.get(report=report, name=name).stored_file)


@pytest.mark.worker
def test_final_report_built_by_real_worker_when_requested_from_page(
    worker_pool: WorkerPool, lab: Any, tmp_path: Path
) -> None:
    report_run = build_report_run(lab=lab)
    worker_pool.start("a")
    client = Client()
    assert client.login(username=report_run.design.scientist.username, password=TEST_PASSWORD)
    response = client.post(
        f"/runs/{report_run.run.pk}/reports/",
        {
            "kind": "final",
            "variant": "unblinded",
            "follow_plan": "on",
            "tgi_definition": "delta",
            "dropout": "drop",
            "synergy_model": "bliss",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    report = Report.objects.get(run=report_run.run)
    assert response["Location"] == f"/reports/{report.pk}/"
    # The page answers at once; the fragment the page polls (htmx) shows progress meanwhile.
    fragment = client.get(f"/reports/{report.pk}/", HTTP_HX_REQUEST="true")
    assert b'id="report-status"' in fragment.content and b"<html" not in fragment.content
    done = wait_for(lambda: _finished(report.pk), timeout=300, interval=1)
    assert done.status == ReportStatus.SUCCEEDED, (done.message, worker_pool.logs()[-3000:])
    assert done.progress_percent == 100 and done.attempts == 1 and not done.exploratory
    assert done.worker and done.heartbeat_at is not None and done.finished_at >= done.started_at
    results = done.results
    for artifact in ReportArtifact.objects.filter(report=done):
        data = read_file(artifact.stored_file)
        assert hashlib.sha256(data).hexdigest() == artifact.sha256 == artifact.stored_file.sha256
        assert artifact.software_version == done.software_version != ""
    # PDF: the TGI and log-rank numbers of results.json, as printed.
    text = squash(pdf_text(_bytes(done, "report.pdf"), tmp_path))
    definition = results["options"]["tgi_definition"]
    assert definition == "delta"  # the design's default plan
    groups = results["growth"]["groups"]
    assert len(groups) == 4
    for group in groups:
        assert fmt.number(group[TGI_KEYS[definition]]) in text, group["group"]
    logrank = results["survival"]["logrank"]
    assert (
        f"χ² = {fmt.number(logrank['chi2'], 2)}, df = {logrank['df']}, "
        f"p = {fmt.p_value(logrank['p'])}" in text
    )
    assert "ARMLBL-7f3a" in text  # the unblinded variant names the arms
    assert "EXPLORATORY" not in text
    # XLSX: the data sheets and Prism layouts.
    book = openpyxl.load_workbook(io.BytesIO(_bytes(done, "report.xlsx")))
    for sheet in ("Animals", "Growth data", "Prism volume XY", "Survival data", "TGI summary"):
        assert sheet in book.sheetnames
    # Bundle: every manifest command reproduces its results.json entry without a database.
    with zipfile.ZipFile(io.BytesIO(_bytes(done, "bundle.zip"))) as archive:
        archive.extractall(tmp_path / "bundle")
        folder = tmp_path / "bundle" / archive.namelist()[0].split("/")[0]
    bundled = json.loads((folder / "results.json").read_text())
    assert bundled == results
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["data_hash"] == done.built_data_hash
    assert {"growth", "survival"} <= {entry["key"] for entry in manifest["commands"]}
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env["PYTHONPATH"] = str(REPO_ROOT)
    for entry in manifest["commands"]:
        completed = subprocess.run(
            [sys.executable, *entry["argv"][1:]],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert json.loads(completed.stdout) == bundled[entry["key"]], entry["command"]
    # The person who asked is told, and the page offers the downloads.
    assert OutboundMessage.objects.filter(
        related_object=f"report:{done.pk}", recipient=report_run.design.scientist
    ).exists()
    page = client.get(f"/reports/{done.pk}/")
    assert b"Succeeded" in page.content and b"report.pdf" in page.content
    download = client.get(f"/reports/{done.pk}/files/report.pdf")
    assert download.status_code == 200
    assert (
        hashlib.sha256(b"".join(download.streaming_content)).hexdigest()
        == (download["X-Content-SHA256"])
    )


def _wait_running_mid_build(report_id: int) -> Report:
    def mid_build() -> Report | None:
        report = Report.objects.get(pk=report_id)
        if report.status == ReportStatus.RUNNING and report.progress_percent >= 15:
            return report
        assert not report.is_finished, "the job finished before the worker could be killed"
        return None

    return wait_for(mid_build, timeout=240, interval=0.1)  # type: ignore[no-any-return]


@pytest.mark.worker
def test_job_completes_exactly_once_when_worker_is_sigkilled_mid_job(
    worker_pool: WorkerPool, lab: Any
) -> None:
    report_run = build_report_run(lab=lab)
    first = worker_pool.start("a")
    report, created = report_services.request_report(
        run=report_run.run, kind="final", requested_by=report_run.design.scientist
    )
    assert created
    running = _wait_running_mid_build(report.pk)
    first_token = running.claim_token
    WorkerPool.kill(first)
    time.sleep(1.0)
    frozen = Report.objects.get(pk=report.pk)
    assert frozen.status == ReportStatus.RUNNING and frozen.claim_token == first_token
    assert not ReportArtifact.objects.filter(report=report).exists()
    worker_pool.start("b")
    # The heartbeat stopped with the worker: once it is older than the threshold (seconds in
    # tests), the sweeper (beat's task, called here) re-queues the job and sends a new message.
    time.sleep(3.0)
    swept = report_services.sweep_stale_reports(stale_after=dt.timedelta(seconds=2))
    assert swept.requeued == (report.pk,), worker_pool.logs()[-3000:]
    done = wait_for(lambda: _finished(report.pk), timeout=300, interval=1)
    assert done.status == ReportStatus.SUCCEEDED, (done.message, worker_pool.logs()[-3000:])
    assert done.attempts == 2 and done.losses == 1 and done.claim_token != first_token
    assert ReportArtifact.objects.filter(report=done).count() == 4
    assert OutboundMessage.objects.filter(related_object=f"report:{done.pk}").count() == 1
    succeeded_events = [
        event for event in done.events.order_by("pgh_id") if event.status == "succeeded"
    ]
    assert len({e.finished_at for e in succeeded_events}) == 1
    # A late duplicate message (the broker redelivering the killed worker's) is a no-op.
    from labnotes.tasks import build_report

    build_report.delay(report.pk)
    log = worker_pool.processes[-1].log_path  # type: ignore[attr-defined]
    wait_for(lambda: log.read_text(errors="replace").count("succeeded in") >= 2, timeout=60)
    again = Report.objects.get(pk=report.pk)
    assert (again.status, again.attempts, again.finished_at) == (
        done.status,
        done.attempts,
        done.finished_at,
    )
    assert ReportArtifact.objects.filter(report=done).count() == 4


@pytest.fixture
def embedded_broker(worker_pool: WorkerPool) -> Iterator[str]:
    """Point this test process and its workers at kombu's SQLAlchemy transport on the test
    database: the broker of the embedded mode (``make run`` without CELERY_BROKER_URL)."""
    pytest.importorskip("sqlalchemy")
    from django.db import connection

    from config.celery import app
    from config.env import sqlalchemy_broker_url

    url = sqlalchemy_broker_url(connection.settings_dict)
    keys = ("broker_url", "broker_write_url", "broker_read_url")
    previous = {key: app.conf[key] for key in (*keys, "broker_transport_options")}
    app.conf.update(dict.fromkeys(keys, url))
    # Redis's visibility timeout would go to SQLAlchemy's create_engine (a TypeError there).
    app.conf.broker_transport_options = {}
    app._pool = None  # the producer pools are cached per broker connection
    app.amqp._producer_pool = None
    worker_pool.broker_url = url
    try:
        yield url
    finally:
        app.conf.update(previous)
        app._pool = None
        app.amqp._producer_pool = None


@pytest.mark.worker
def test_job_recovered_by_sweeper_in_embedded_mode_when_worker_is_sigkilled(
    worker_pool: WorkerPool, embedded_broker: str, lab: Any
) -> None:
    report_run = build_report_run(lab=lab)
    first = worker_pool.start("embedded-a")
    report, _ = report_services.request_report(
        run=report_run.run, kind="interim", requested_by=report_run.design.scientist
    )
    running = _wait_running_mid_build(report.pk)
    WorkerPool.kill(first)
    worker_pool.start("embedded-b")
    # The serverless broker never hands the killed worker's message to anyone else.
    time.sleep(8.0)
    stuck = Report.objects.get(pk=report.pk)
    assert stuck.status == ReportStatus.RUNNING and stuck.claim_token == running.claim_token
    swept = report_services.sweep_stale_reports(stale_after=dt.timedelta(seconds=3))
    assert swept.requeued == (report.pk,)
    done = wait_for(lambda: _finished(report.pk), timeout=300, interval=1)
    assert done.status == ReportStatus.SUCCEEDED, (done.message, worker_pool.logs()[-3000:])
    assert done.attempts == 2 and done.losses == 1
    assert ReportArtifact.objects.filter(report=done).count() == 4
    assert "embedded-b" in (worker_pool.processes[-1].log_path.name)  # type: ignore[attr-defined]
