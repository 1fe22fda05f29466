"""Reports pooling several runs of a study: one job per request, built with the run as a stratum
of the log-rank test and a random effect of the mixed model; pages, API, staleness, refusals.

Builds run in the test process (the worker's code); the real-worker paths are covered for run
reports in ``test_report_jobs_worker.py`` and take the same service path.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from labnotes.analysis.survival import stratified_logrank_test
from labnotes.models import Report, ReportArtifact, ReportStatus
from labnotes.services import reports as report_services
from labnotes.services.files import read_file
from labnotes.services.report_input import ReportOptions
from tests.factories import TEST_PASSWORD
from tests.labnotes.builders import SENTINEL_LABEL
from tests.labnotes.reports.report_run import ReportRun, build_report_run, record_one_more_reading


@pytest.fixture
def two_runs(lab: Any, settings: Any) -> tuple[ReportRun, ReportRun]:
    settings.VIVOLOG_REPORT_HEARTBEAT_SECONDS = 3600
    first = build_report_run(lab=lab, seed=11)
    second = build_report_run(lab=lab, seed=23, design=first.design, code="RUN-S", days_ago=27)
    return first, second


def _client(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def _artifact(report: Report, name: str) -> bytes:
    return read_file(ReportArtifact.objects.get(report=report, name=name).stored_file)


@pytest.mark.django_db
def test_pooled_report_built_once_with_run_strata_when_two_runs_requested(
    two_runs: tuple[ReportRun, ReportRun],
) -> None:
    first, second = two_runs
    design = first.design
    pks = [second.run.pk, first.run.pk]
    report, created = report_services.request_study_report(
        study=design.study, run_pks=pks, kind="final", requested_by=design.scientist
    )
    again, created_again = report_services.request_study_report(
        study=design.study, run_pks=list(reversed(pks)), kind="final", requested_by=design.scientist
    )
    assert created and not created_again and again.pk == report.pk
    assert report.run is None and report.study == design.study
    assert report.pooled_runs == sorted(pks) and not report.exploratory
    assert Report.objects.filter(study=design.study).count() == 1
    # A run report of one of the runs is another job.
    assert Report.objects.filter(run=first.run).count() == 0
    assert report_services.run_report_job(report_id=report.pk, worker="test") == "built"
    report.refresh_from_db()
    assert report.status == ReportStatus.SUCCEEDED, report.message
    pooled = report.results["pooled"]
    assert pooled["runs"] == ["RUN-R", "RUN-S"]
    stratified = pooled["survival_stratified"]
    assert stratified["strata"] == ["RUN-R", "RUN-S"]
    # Recompute from the bundle's own CSVs: survival rows and each animal's run.
    with zipfile.ZipFile(io.BytesIO(_artifact(report, "bundle.zip"))) as archive:
        folder = archive.namelist()[0].split("/")[0]
        survival = list(
            csv.DictReader(io.StringIO(archive.read(f"{folder}/survival.csv").decode()))
        )
        animals = list(csv.DictReader(io.StringIO(archive.read(f"{folder}/animals.csv").decode())))
    run_of = {row["animal"]: row["run"] for row in animals}
    assert {row["run"] for row in animals} == {"RUN-R", "RUN-S"}
    assert len(animals) == 2 * 24
    direct = stratified_logrank_test(
        [float(r["time_days"]) for r in survival],
        [int(r["event"]) for r in survival],
        [r["group"] for r in survival],
        [run_of[r["animal"]] for r in survival],
    )
    assert stratified["chi2"] == pytest.approx(direct.chi2, rel=1e-12)
    assert stratified["p"] == pytest.approx(direct.p, rel=1e-12)
    model = pooled.get("growth_run_effect")
    assert model is not None, report.results.get("warnings")
    assert model["random_effects"].startswith("run (intercept)")
    html = _artifact(report, "report.html").decode()
    assert "This report pools the runs RUN-R, RUN-S" in html
    assert "Log-rank test stratified by run" in html
    # Stale once either run's counted data change; the pages and API say so.
    assert not report_services.is_stale(report, report_services.current_report_data_hash(report))
    record_one_more_reading(second)
    assert report_services.is_stale(report, report_services.current_report_data_hash(report))
    client = _client(design.scientist)
    page = client.get(f"/studies/{design.study.pk}/reports/")
    assert page.status_code == 200
    assert f"Report {report.pk}".encode() in page.content
    assert b"RUN-R + RUN-S" in page.content and b"badge--stale" in page.content
    detail = client.get(f"/reports/{report.pk}/")
    assert detail.status_code == 200 and b"RUN-R + RUN-S (pooled)" in detail.content
    api = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert api["stale"] is True and api["run"] is None and api["study"] == design.study.pk
    download = client.get(f"/reports/{report.pk}/files/report.xlsx")
    assert download.status_code == 200
    assert "RUN-R-RUN-S" in download["Content-Disposition"]


@pytest.mark.django_db
def test_pooled_blinded_variant_holds_no_arm_label_when_built(
    two_runs: tuple[ReportRun, ReportRun],
) -> None:
    first, second = two_runs
    design = first.design
    report, _ = report_services.request_study_report(
        study=design.study,
        run_pks=[first.run.pk, second.run.pk],
        kind="interim",
        variant="blinded",
        options=ReportOptions(tgi_definition="volume", synergy_model="lmm"),
        requested_by=design.scientist,
    )
    assert report.exploratory and report.options["synergy_model"] == "lmm"
    assert report_services.run_report_job(report_id=report.pk, worker="test") == "built"
    report.refresh_from_db()
    assert report.status == ReportStatus.SUCCEEDED, report.message
    html = _artifact(report, "report.html").decode()
    assert "G4" in html
    assert SENTINEL_LABEL not in html
    with zipfile.ZipFile(io.BytesIO(_artifact(report, "bundle.zip"))) as archive:
        for name in archive.namelist():
            assert SENTINEL_LABEL not in archive.read(name).decode("utf-8"), name


@pytest.mark.django_db
def test_pooled_request_refused_naming_runs_when_fewer_than_two_or_foreign(
    two_runs: tuple[ReportRun, ReportRun],
) -> None:
    first, second = two_runs
    design = first.design
    missing_pk = max(first.run.pk, second.run.pk) + 1000  # no such run of this study
    before = Report.objects.count()
    with pytest.raises(ValidationError) as one:
        report_services.request_study_report(
            study=design.study, run_pks=[first.run.pk], kind="final", requested_by=design.scientist
        )
    assert "at least two runs" in str(one.value.message_dict["runs"])
    with pytest.raises(ValidationError) as foreign:
        report_services.request_study_report(
            study=design.study,
            run_pks=[first.run.pk, missing_pk],
            kind="final",
            requested_by=design.scientist,
        )
    assert f"{missing_pk} are not runs of study {design.study.code}" in str(
        foreign.value.message_dict["runs"]
    )
    with pytest.raises(PermissionDenied):
        report_services.request_study_report(
            study=design.study,
            run_pks=[first.run.pk, second.run.pk],
            kind="final",
            variant="blinded",
            requested_by=design.technician,
        )
    assert Report.objects.count() == before
    page = _client(design.technician).get(f"/studies/{design.study.pk}/reports/")
    assert page.status_code == 200 and b"not shown to blinded members" in page.content


@pytest.mark.django_db
def test_api_pooled_request_returns_201_then_200_and_refuses_bad_runs(
    two_runs: tuple[ReportRun, ReportRun],
) -> None:
    first, second = two_runs
    client = _client(first.design.scientist)
    body = {
        "study": first.design.study.pk,
        "runs": [first.run.pk, second.run.pk],
        "kind": "interim",
        "options": {"tgi_definition": "delta", "dropout": "drop", "synergy_model": "auc"},
    }
    created = client.post("/api/v1/reports/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["pooled_runs"] == sorted([first.run.pk, second.run.pk])
    assert created.json()["options"]["synergy_model"] == "auc"
    again = client.post("/api/v1/reports/", body, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    both = client.post(
        "/api/v1/reports/", {**body, "run": first.run.pk}, content_type="application/json"
    )
    assert both.status_code == 400 and "either run" in both.content.decode()
    one = client.post(
        "/api/v1/reports/", {**body, "runs": [first.run.pk]}, content_type="application/json"
    )
    assert one.status_code == 400 and "at least two runs" in one.content.decode()
    listing = client.get(f"/api/v1/reports/?study={first.design.study.pk}").json()
    assert [r["id"] for r in listing["results"]] == [created.json()["id"]]
    assert Report.objects.filter(study=first.design.study).count() == 1
