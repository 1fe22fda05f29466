"""A write to a locked run or an archived study, submitted through a page, comes back as the
page with a readable error (who locked the run, since when, why, who can unlock it; or that the
study is archived) and writes nothing; the API answers 423 problem+json; a report of a locked
run (the "lock before final analysis" case) still works."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from labnotes.models import (
    Animal,
    DoseRecord,
    ElisaPlate,
    Measurement,
    NotebookEntry,
    Observation,
    PendingAxis,
    PlateWell,
    Report,
    ReportArtifact,
    RunLock,
    Sample,
    StoredFile,
)
from labnotes.models.locks import LOCKED_TABLES
from labnotes.services import locks as lock_services
from labnotes.services.archive import request_archive
from planner.models import Study, StudyStatus
from tests.labnotes.conftest import stage
from tests.labnotes.elisa_support import (
    ElisaSetup,
    elisa_setup,
    expected_ods,
    grid_csv,
    laid_out_plate,
)
from tests.labnotes.samples_support import SmallRun, small_run
from tests.labnotes.test_dosing_pages import dr  # noqa: F401 (fixture)
from tests.labnotes.test_dosing_support import DosingRun, lab_today
from tests.labnotes.test_welfare_services import welfare_run

pytestmark = pytest.mark.django_db

REASON = "before unblinding for the final analysis"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _lock(run: Any, director: Any) -> RunLock:
    return lock_services.lock_run(run=run, by=director, reason=REASON)


def _assert_lock_message(text: str, run: Any, lock: RunLock) -> None:
    assert f"Run {run.code} of study {run.study.code} is locked by" in text, text
    assert lock.locked_by_name in text and REASON in text
    assert "unlocking needs the study director and QA" in text
    assert "labnotes_" not in text  # no table names for people


def _archive(study: Study, director: Any, callbacks: Any) -> None:
    Study.objects.filter(pk=study.pk).update(status=StudyStatus.COMPLETED)
    study.refresh_from_db()
    with callbacks(execute=False):
        request_archive(study=study, requested_by=director, reason="Study completed.")


def test_a_bulk_update_of_a_locked_run_is_refused_with_the_readable_message(
    design: Any, run: Any
) -> None:
    stage(design, run, 1)
    lock = _lock(run, design.director)
    with pytest.raises(lock_services.WriteRefused) as refused:
        with lock_services.refusals_as_errors():
            Animal.objects.filter(run=run).update(status_reason="edited")
    _assert_lock_message(refused.value.messages[0], run, lock)
    assert not Animal.objects.filter(run=run, status_reason="edited").exists()


def test_grid_cell_on_a_locked_run_shows_why_in_the_cell(design: Any, run: Any) -> None:
    animal = stage(design, run, 1)[0]
    lock = _lock(run, design.director)
    readings, halves = Measurement.objects.count(), PendingAxis.objects.count()
    body = {
        "client_id": str(uuid.uuid4()),
        "animal": str(animal.pk),
        "tumour": None,
        "field": "weight",
        "raw": "21.5",
        "taken_at": timezone.now().isoformat(),
        "operator": str(design.technician.pk),
        "correction_of": None,
        "reason": None,
        "repeat_of": None,
    }
    response = _client(design.technician).post(
        reverse("grid_cell_save", kwargs={"pk": run.pk}),
        data=json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": body["client_id"]},
    )
    assert response.status_code == 423
    _assert_lock_message(response.json()["error"], run, lock)
    assert (Measurement.objects.count(), PendingAxis.objects.count()) == (readings, halves)


def test_measurement_entry_form_on_a_locked_run(design: Any, run: Any) -> None:
    stage(design, run, 2)
    lock = _lock(run, design.director)
    before = Measurement.objects.count()
    response = _client(design.technician).post(
        reverse("run_staging", kwargs={"pk": run.pk}),
        {"tag": "0002", "length_mm": "8", "width_mm": "5", "weight_g": "20.5", "reason": "x"},
    )
    assert response.status_code == 200
    _assert_lock_message(response.content.decode(), run, lock)
    assert response.context["form"].non_field_errors()
    assert Measurement.objects.count() == before


def test_dose_record_on_a_locked_run(dr: DosingRun) -> None:  # noqa: F811
    lock = _lock(dr.run, dr.design.director)
    task = dr.today_task(dr.animals("G2")[0])
    doses = DoseRecord.objects.count()
    response = _client(dr.design.doser).post(
        reverse("dose_task_record", args=[task.pk]),
        {
            "volume_ul": "200",
            "route": "IP",
            "batch": str(dr.batches["G2"].pk),
            "time": (timezone.now() - dt.timedelta(minutes=2))
            .astimezone(dr.run.study.lab.zone)
            .strftime("%H:%M"),
            "day": lab_today().isoformat(),
            "row_version": str(task.row_version),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    _assert_lock_message(html, dr.run, lock)
    assert DoseRecord.objects.count() == doses


def test_observation_sheet_on_a_locked_run(lab: Any) -> None:
    w = welfare_run(lab)
    lock = _lock(w.run, w.design.director)
    first = w.animals[0]
    response = _client(w.technician).post(
        reverse("run_observations", kwargs={"pk": w.run.pk}),
        {"day": lab.local_date(timezone.now()).isoformat(), f"a{first.pk}-normal": "on"},
    )
    assert response.status_code == 400
    _assert_lock_message(response.content.decode(), w.run, lock)
    assert not Observation.objects.exists()


@pytest.fixture
def small(lab: Any) -> SmallRun:
    return small_run(lab)


def test_sample_form_on_a_locked_run(small: SmallRun) -> None:
    lock = _lock(small.run, small.design.director)
    animal = small.animals[0]
    response = _client(small.design.technician).post(
        reverse("sample_new", kwargs={"pk": small.run.pk}),
        {
            "animal": animal.pk,
            "tissue": "serum",
            "collected_at": timezone.localtime(timezone.now() - dt.timedelta(minutes=5))
            .astimezone(small.run.study.lab.zone)
            .strftime("%Y-%m-%dT%H:%M"),
            "barcode": "SER-LOCKED",
            "volume_ul": "100",
        },
    )
    assert response.status_code == 200
    _assert_lock_message(response.content.decode(), small.run, lock)
    assert not Sample.objects.filter(barcode="SER-LOCKED").exists()


def test_notebook_entry_on_an_archived_study(
    small: SmallRun, django_capture_on_commit_callbacks: Any
) -> None:
    _archive(small.design.study, small.design.director, django_capture_on_commit_callbacks)
    entries = NotebookEntry.objects.count()
    response = _client(small.design.technician).post(
        reverse("notebook_new"),
        {
            "title": "Late note",
            "entry_date": timezone.localdate().isoformat(),
            "runs": [small.run.pk],
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert f"Study {small.design.study.code} is archived: read-only." in text
    assert "Nothing was saved" in text
    assert NotebookEntry.objects.count() == entries


@pytest.fixture
def setup(lab: Any) -> ElisaSetup:
    return elisa_setup(lab)


def test_elisa_upload_on_a_locked_run(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    lock = _lock(setup.small.run, setup.small.design.director)
    response = _client(setup.small.design.technician).post(
        reverse("elisa_plate_import", args=[plate.pk]),
        {"file": SimpleUploadedFile("r.csv", grid_csv(expected_ods(setup)), "text/csv")},
    )
    assert response.status_code == 400
    _assert_lock_message(response.content.decode(), setup.small.run, lock)
    assert ElisaPlate.objects.get(pk=plate.pk).status == "draft"
    assert not PlateWell.objects.filter(plate=plate, od__isnull=False).exists()


def test_api_write_on_a_locked_run_answers_423_problem_json(small: SmallRun) -> None:
    lock = _lock(small.run, small.design.director)
    tumour = small.animals[0].tumours.first()
    assert tumour is not None
    readings = Measurement.objects.count()
    client = APIClient()
    client.force_authenticate(small.design.technician)
    response = client.post(
        reverse("measurement-list"),
        {
            "tumour": tumour.pk,
            "length_mm": "10",
            "width_mm": "8",
            "taken_at": (timezone.now() - dt.timedelta(minutes=5)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 423, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Run locked" and lock.locked_by_name in body["detail"]
    assert Measurement.objects.count() == readings


def test_report_of_a_locked_run_is_requested_and_its_tables_are_not_lock_guarded(
    small: SmallRun,
) -> None:
    guarded = {table for table, _via, _column in LOCKED_TABLES}
    for model in (Report, ReportArtifact, StoredFile):
        assert model._meta.db_table not in guarded
    _lock(small.run, small.design.director)
    response = _client(small.design.director).post(
        reverse("run_reports", kwargs={"pk": small.run.pk}),
        {
            "kind": "interim",
            "variant": "unblinded",
            "follow_plan": "on",
            "tgi_definition": "delta",
            "dropout": "locf",
            "synergy_model": "bliss",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Report.objects.filter(run=small.run).count() == 1
