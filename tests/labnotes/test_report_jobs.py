"""Report jobs on the database: one job per request, blinded variant, staleness, sweeper, pages.

The builds here run the report service in the test process (the same code the worker runs); the
real-worker paths — request → succeeded, SIGKILL and recovery — are in
``test_report_jobs_worker.py``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from labnotes.models import Report, ReportArtifact, ReportStatus
from labnotes.services import reports as report_services
from labnotes.services.files import read_file
from labnotes.services.report_input import (
    ReportOptions,
    build_report_input,
    current_data_hash,
    snapshot_run,
)
from planner.models import OutboundMessage
from tests.factories import TEST_PASSWORD
from tests.labnotes.builders import SENTINEL_AGENT, SENTINEL_DOSE, SENTINEL_LABEL
from tests.labnotes.reports.report_run import ReportRun, build_report_run, record_one_more_reading

SENTINELS = (SENTINEL_LABEL, SENTINEL_AGENT, SENTINEL_DOSE)


@pytest.fixture
def report_run(lab: Any, settings: Any) -> ReportRun:
    # A build inside the test transaction: the heartbeat thread (another connection) would wait
    # on the claimed row's lock, so it must not beat during these in-process builds.
    settings.VIVOLOG_REPORT_HEARTBEAT_SECONDS = 3600
    return build_report_run(lab=lab)


def _client(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def _artifact_bytes(report: Report, name: str) -> bytes:
    artifact = ReportArtifact.objects.get(report=report, name=name)
    return read_file(artifact.stored_file)


@pytest.mark.django_db
def test_same_request_twice_gives_one_job_when_data_unchanged(report_run: ReportRun) -> None:
    run, scientist = report_run.run, report_run.design.scientist
    first, created = report_services.request_report(run=run, kind="final", requested_by=scientist)
    again, created_again = report_services.request_report(
        run=run, kind="final", requested_by=scientist
    )
    assert created and not created_again
    assert again.pk == first.pk
    assert Report.objects.filter(run=run).count() == 1
    assert first.status == ReportStatus.QUEUED and not first.exploratory
    # Other options are another report, exploratory, listing how they differ from the plan.
    other, created_other = report_services.request_report(
        run=run,
        kind="final",
        requested_by=scientist,
        options=ReportOptions(tgi_definition="volume", dropout="drop", synergy_model="none"),
    )
    assert created_other and other.pk != first.pk and other.exploratory
    assert any(d.startswith("TGI definition: plan ΔTGI") for d in other.plan_differences)
    # New data → a new job for the same request.
    record_one_more_reading(report_run)
    newer, created_newer = report_services.request_report(
        run=run, kind="final", requested_by=scientist
    )
    assert created_newer and newer.pk != first.pk and newer.data_hash != first.data_hash


@pytest.mark.django_db
def test_blinded_member_cannot_request_or_see_reports_when_study_blinded(
    report_run: ReportRun,
) -> None:
    from django.core.exceptions import PermissionDenied

    design = report_run.design
    report, _ = report_services.request_report(
        run=report_run.run, kind="final", requested_by=design.scientist
    )
    with pytest.raises(PermissionDenied):
        report_services.request_report(
            run=report_run.run, kind="final", requested_by=design.technician, variant="blinded"
        )
    page = _client(design.technician).get(f"/runs/{report_run.run.pk}/reports/")
    assert page.status_code == 200
    assert b"not shown to blinded members" in page.content
    assert f"Report {report.pk}".encode() not in page.content
    assert _client(design.technician).get(f"/reports/{report.pk}/").status_code == 404
    api = _client(design.technician).get(f"/api/v1/reports/{report.pk}/")
    assert api.status_code == 404
    assert _client(design.technician).get("/api/v1/reports/").json()["count"] == 0


@pytest.mark.django_db
def test_blinded_variant_holds_no_sentinel_and_goes_stale_after_a_new_reading(
    report_run: ReportRun,
) -> None:
    design = report_run.design
    report, _ = report_services.request_report(
        run=report_run.run, kind="final", requested_by=design.scientist, variant="blinded"
    )
    assert report_services.run_report_job(report_id=report.pk, worker="test") == "built"
    report.refresh_from_db()
    assert report.status == ReportStatus.SUCCEEDED, report.message
    assert report.built_data_hash == report.data_hash == current_data_hash(report_run.run)
    names = set(ReportArtifact.objects.filter(report=report).values_list("name", flat=True))
    assert names == {"report.html", "report.pdf", "report.xlsx", "bundle.zip"}
    html = _artifact_bytes(report, "report.html").decode()
    assert "G4" in html and "withheld in the blinded variant" in html
    texts = [html, json.dumps(report.results, ensure_ascii=False)]
    with zipfile.ZipFile(io.BytesIO(_artifact_bytes(report, "bundle.zip"))) as archive:
        texts += [archive.read(name).decode("utf-8") for name in archive.namelist()]
    book = openpyxl.load_workbook(io.BytesIO(_artifact_bytes(report, "report.xlsx")))
    texts += [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row]
    from tests.labnotes.reports.test_report import pdf_text

    texts.append(pdf_text(_artifact_bytes(report, "report.pdf"), _tmp()))
    for sentinel in SENTINELS:
        assert not [t for t in texts if sentinel in t], sentinel
    # The unblinded input of the same data does carry the label: the absence above is real.
    snapshot = snapshot_run(report_run.run)
    unblinded = build_report_input(
        run=report_run.run,
        snapshot=snapshot,
        kind="final",
        blinded=False,
        options=ReportOptions(),
        generated_by="t",
        generated_at=timezone.now(),
    )
    assert SENTINEL_LABEL in unblinded.arm_names
    page = _client(design.scientist).get(f"/runs/{report_run.run.pk}/reports/")
    assert b"badge--stale" not in page.content
    # The HTML report opens sandboxed: no script, nothing fetched.
    opened = _client(design.scientist).get(f"/reports/{report.pk}/files/report.html")
    assert opened.status_code == 200
    assert "sandbox" in opened["Content-Security-Policy"]
    assert "script-src" not in opened["Content-Security-Policy"]
    record_one_more_reading(report_run)
    assert report_services.is_stale(report, current_data_hash(report_run.run))
    page = _client(design.scientist).get(f"/runs/{report_run.run.pk}/reports/")
    assert b"badge--stale" in page.content
    api = _client(design.scientist).get(f"/api/v1/reports/{report.pk}/").json()
    assert api["stale"] is True and api["status"] == "succeeded"
    assert {a["name"] for a in api["artifacts"]} == names
    # The person who asked is told (an outbound message, sent by the worker after commit).
    message = OutboundMessage.objects.get(related_object=f"report:{report.pk}")
    assert message.recipient == design.scientist and "Report ready" in message.subject


def _tmp() -> Any:
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="vivolog-report-test-"))


@pytest.mark.django_db
def test_report_fails_with_a_scientists_message_when_run_has_no_randomized_animals(
    lab: Any, settings: Any
) -> None:
    from labnotes.services.runs import start_study_run
    from tests.labnotes.builders import build_design

    settings.VIVOLOG_REPORT_HEARTBEAT_SECONDS = 3600
    design = build_design(lab=lab)
    run = start_study_run(
        study=design.study, code="EMPTY", day0=timezone.localdate(), started_by=design.director
    )
    report, _ = report_services.request_report(
        run=run, kind="interim", requested_by=design.scientist
    )
    assert report_services.run_report_job(report_id=report.pk, worker="test") == "failed"
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "no randomized animals yet" in report.message
    assert "Randomize the run first" in report.message
    assert not ReportArtifact.objects.filter(report=report).exists()
    # A failed job does not block asking again.
    again, created = report_services.request_report(
        run=run, kind="interim", requested_by=design.scientist
    )
    assert created and again.pk != report.pk


@pytest.mark.django_db
def test_sweeper_requeues_a_lost_job_once_then_fails_it_after_the_second_loss(
    report_run: ReportRun,
) -> None:
    report, _ = report_services.request_report(
        run=report_run.run, kind="final", requested_by=report_run.design.scientist
    )
    token = report_services.claim_report(report_id=report.pk, worker="worker-a")
    assert token is not None
    assert report_services.claim_report(report_id=report.pk, worker="worker-b") is None
    later = timezone.now() + dt.timedelta(seconds=30)
    assert (
        report_services.sweep_stale_reports(
            stale_after=dt.timedelta(seconds=60), now=later
        ).requeued
        == ()
    )
    first = report_services.sweep_stale_reports(stale_after=dt.timedelta(seconds=5), now=later)
    assert first.requeued == (report.pk,) and first.failed == ()
    report.refresh_from_db()
    assert report.status == ReportStatus.QUEUED and report.losses == 1
    # The first worker's claim is gone: its progress and publication are refused.
    with pytest.raises(report_services.ClaimLost):
        report_services.record_progress(report_id=report.pk, token=token, percent=50, step="x")
    second_token = report_services.claim_report(report_id=report.pk, worker="worker-b")
    assert second_token is not None and second_token != token
    second = report_services.sweep_stale_reports(
        stale_after=dt.timedelta(seconds=5), now=later + dt.timedelta(seconds=30)
    )
    assert second.failed == (report.pk,) and second.requeued == ()
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.losses == 2
    assert report.attempts == 2
    assert "stopped twice" in report.message


@pytest.mark.django_db
def test_dashboard_shows_curves_and_tgi_to_unblinded_and_nothing_per_arm_to_blinded(
    report_run: ReportRun,
) -> None:
    design, run = report_run.design, report_run.run
    page = _client(design.scientist).get(f"/runs/{run.pk}/dashboard/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "Tumour volume" in body
    assert SENTINEL_LABEL in body and "Current TGI" in body
    assert "Survival so far" in body
    individual = _client(design.scientist).get(
        f"/runs/{run.pk}/dashboard/individual/", HTTP_HX_REQUEST="true"
    )
    assert individual.status_code == 200 and b"<svg" in individual.content
    blinded = _client(design.technician).get(f"/runs/{run.pk}/dashboard/")
    assert blinded.status_code == 200
    text = blinded.content.decode()
    for sentinel in SENTINELS:
        assert sentinel not in text
    assert "<svg" not in text and "Current TGI" not in text
    assert "Your latest readings on this run" in text
    assert (
        _client(design.technician).get(f"/runs/{run.pk}/dashboard/individual/").status_code == 404
    )


@pytest.mark.django_db
def test_api_request_returns_201_then_200_for_the_same_report(report_run: ReportRun) -> None:
    client = _client(report_run.design.scientist)
    body = {"run": report_run.run.pk, "kind": "interim", "variant": "unblinded"}
    first = client.post("/api/v1/reports/", body, content_type="application/json")
    assert first.status_code == 201, first.content
    second = client.post("/api/v1/reports/", body, content_type="application/json")
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert first.json()["status"] == "queued" and first.json()["progress_percent"] == 0
    bad = client.post(
        "/api/v1/reports/",
        {
            **body,
            "options": {"tgi_definition": "median", "dropout": "drop", "synergy_model": "none"},
        },
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "tgi_definition" in bad.content.decode()
    listing = client.get(f"/api/v1/reports/?run={report_run.run.pk}").json()
    assert [r["id"] for r in listing["results"]] == [first.json()["id"]]
