"""Importing a running or past study: preview row by row, all rows or none, labelled as imported."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pghistory.models
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from labnotes.models import (
    Animal,
    BatchMethod,
    BatchStatus,
    EntryMethod,
    Measurement,
    MeasurementKind,
    RandomizationBatch,
    StoredFile,
    Tumour,
)
from labnotes.services.study_import import import_study, preview_study_import
from tests.factories import TEST_PASSWORD
from tests.labnotes.builders import Design

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


HEADER = ["tag", "sex", "cage", "arm", "treatment start", "tumour", "date", "time", "L", "W",
          "weight", "endpoint", "endpoint date"]  # fmt: skip


def _rows(run: Any) -> list[list[str]]:
    day = run.day0
    d = [(day + dt.timedelta(days=n)).isoformat() for n in range(11)]
    rf = "right flank"
    # fmt: off
    return [
        ["0001", "F", "IMP-1", "G1", d[2], rf, d[2], "09:00", "6.0", "5.0", "19.8", "", ""],
        ["0001", "", "", "", "", rf, d[5], "09:10", "8.0", "6.0", "20.1", "", ""],
        ["0002", "F", "IMP-1", "IL-12", d[2], rf, d[2], "09:05", "7.0", "4.0", "20.5", "", ""],
        ["0002", "", "", "", "", rf, d[5], "", "9,5", "7,5", "20,2", "", ""],
        ["0003", "F", "IMP-2", "G1", d[2], "", d[2], "09:20", "NP", "", "ND scale broken", "", ""],
        ["0003", "", "", "", "", "", "", "", "", "", "", "tumour_volume", d[8]],
    ]
    # fmt: on


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(";".join(row) for row in [HEADER, *rows]).encode() + b"\n"


def _xlsx(rows: list[list[str]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _volume(length: str, width: str) -> Decimal:
    # L·W²/2 (Tomayko & Reynolds), computed here independently, rounded to 0.01 mm³
    value = Decimal(length.replace(",", ".")) * Decimal(width.replace(",", ".")) ** 2 / 2
    return value.quantize(Decimal("0.01"))


def _check_imported(design: Design, run: Any, label: str) -> None:
    animals = {a.tag: a for a in Animal.objects.filter(run=run)}
    assert set(animals) == {"0001", "0002", "0003"}
    assert animals["0001"].arm == design.arms[0]
    assert animals["0002"].arm == design.arms[1]  # matched by its label, IL-12
    assert animals["0001"].treatment_start_date == run.day0 + dt.timedelta(days=2)
    batch = RandomizationBatch.objects.get(run=run)
    assert (batch.method, batch.status) == (BatchMethod.IMPORTED, BatchStatus.APPLIED)
    assert batch.randomized_on == run.day0 + dt.timedelta(days=2)
    assert Tumour.objects.filter(animal__run=run).count() == 3
    calipers = Measurement.objects.filter(animal__run=run, kind=MeasurementKind.CALIPER)
    assert calipers.count() == 5
    assert set(calipers.values_list("entry_method", flat=True)) == {EntryMethod.IMPORT}
    second = calipers.get(animal=animals["0002"], study_day=5)
    assert (second.length_mm, second.width_mm) == (Decimal("9.50"), Decimal("7.50"))
    assert second.volume_mm3 == _volume("9.5", "7.5")
    local = second.taken_at.astimezone(design.lab.zone)
    assert local.time() == dt.time(12, 0)  # no time in the row: noon
    first = calipers.get(animal=animals["0001"], study_day=2)
    assert first.volume_mm3 == _volume("6.0", "5.0")
    assert first.taken_at.astimezone(design.lab.zone).time() == dt.time(9, 0)
    coded = calipers.get(animal=animals["0003"])
    assert coded.reading_code == "NP"
    weights = Measurement.objects.filter(animal__run=run, kind=MeasurementKind.WEIGHT)
    assert weights.count() == 5
    assert weights.get(animal=animals["0003"]).reading_code == "ND"
    animals["0003"].refresh_from_db()
    assert animals["0003"].status == "endpoint_reached"
    events = pghistory.models.Events.objects.filter(
        pgh_model="labnotes.MeasurementEvent", pgh_label="insert"
    )
    assert events.count() == 10
    assert all(event.pgh_context["imported_from"] == label for event in events)
    assert all(event.pgh_context["reason"] == label for event in events)
    animal_events = pghistory.models.Events.objects.filter(pgh_model="labnotes.AnimalEvent")
    assert animal_events.exists()
    assert all(event.pgh_context["imported_from"] == label for event in animal_events)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_good_import_gives_the_expected_animals_and_readings(
    design: Design, run: Any, kind: str
) -> None:
    content = _csv(_rows(run)) if kind == "csv" else _xlsx(_rows(run))
    filename = f"past-study.{kind}"
    result = import_study(run=run, content=content, filename=filename, imported_by=design.director)
    assert result.is_valid
    assert result.counts["animals"] == 3
    label = f"import of {filename} sha256 {hashlib.sha256(content).hexdigest()}"
    _check_imported(design, run, label)
    kept = StoredFile.objects.get()
    assert kept.sha256 == hashlib.sha256(content).hexdigest()


def test_import_with_one_bad_row_saves_nothing_and_names_the_row(design: Design, run: Any) -> None:
    rows = _rows(run)
    rows[3][8] = "95"  # row 5 of the file: 95 mm is not a caliper reading
    with pytest.raises(ValidationError) as error:
        import_study(run=run, content=_csv(rows), filename="s.csv", imported_by=design.director)
    assert "row 5, length_mm" in str(error.value)
    assert Animal.objects.filter(run=run).count() == 0
    assert Measurement.objects.count() == 0
    assert StoredFile.objects.count() == 0


def test_row_refused_by_a_service_rolls_back_every_other_row(design: Design, run: Any) -> None:
    rows = _rows(run)
    rows[5][11] = "found dead"  # found dead needs the last time seen alive
    preview = preview_study_import(
        run=run, content=_csv(rows), filename="s.csv", imported_by=design.director
    )
    assert not preview.is_valid
    assert [(e.row, e.field) for e in preview.errors] == [(7, "last_seen_alive")]
    assert preview.rows[0].actions  # the good rows were tried and would have been imported
    with pytest.raises(ValidationError):
        import_study(run=run, content=_csv(rows), filename="s.csv", imported_by=design.director)
    assert Animal.objects.filter(run=run).count() == 0
    assert RandomizationBatch.objects.count() == 0
    assert Tumour.objects.count() == 0


def test_unknown_arm_is_named_with_the_arms_of_the_study(design: Design, run: Any) -> None:
    rows = _rows(run)
    rows[0][3] = "G9"
    preview = preview_study_import(
        run=run, content=_csv(rows), filename="s.csv", imported_by=design.director
    )
    assert [(e.row, e.field) for e in preview.errors] == [(2, "arm")], preview.errors
    (error,) = preview.errors
    assert "G1 (Vehicle)" in error.message


def test_preview_keeps_nothing(design: Design, run: Any) -> None:
    before = pghistory.models.Events.objects.count()
    preview = preview_study_import(
        run=run, content=_csv(_rows(run)), filename="s.csv", imported_by=design.director
    )
    assert preview.is_valid, preview.errors
    assert preview.counts == {
        "cages": 2,
        "animals": 3,
        "allocation batches": 1,
        "tumours": 3,
        "caliper readings": 5,
        "weights": 5,
        "endpoints": 1,
    }
    assert any("9.5 × 7.5 mm" in action for row in preview.rows for action in row.actions)
    assert Animal.objects.count() == 0
    assert pghistory.models.Events.objects.count() == before


def test_blinded_member_cannot_import_arms_but_can_import_readings(
    design: Design, run: Any
) -> None:
    preview = preview_study_import(
        run=run, content=_csv(_rows(run)), filename="s.csv", imported_by=design.technician
    )
    assert [(e.row, e.field) for e in preview.errors] == [(0, "arm")]
    assert not any("Vehicle" in str(e) or "IL-12" in str(e) for e in preview.errors)
    rows = [[*row[:3], "", "", *row[5:]] for row in _rows(run)]
    result = import_study(
        run=run, content=_csv(rows), filename="s.csv", imported_by=design.technician
    )
    assert result.counts["animals"] == 3
    assert not Animal.objects.filter(run=run, arm__isnull=False).exists()


def test_import_page_previews_then_imports(design: Design, run: Any) -> None:
    client = Client()
    assert client.login(username=design.director.username, password=TEST_PASSWORD)
    url = reverse("run_import", kwargs={"pk": run.pk})
    assert client.get(url).status_code == 200
    rows = _rows(run)
    rows[1][10] = "heavy"
    bad = client.post(
        url, {"action": "preview", "file": SimpleUploadedFile("s.csv", _csv(rows), "text/csv")}
    )
    assert bad.status_code == 422
    page = bad.content.decode()
    assert "nothing was saved" in page and "weight_g" in page and ">3<" in page
    good = client.post(
        url,
        {"action": "preview", "file": SimpleUploadedFile("s.csv", _csv(_rows(run)), "text/csv")},
    )
    assert good.status_code == 200
    assert Animal.objects.filter(run=run).count() == 0
    stored = good.context["stored_id"]
    done = client.post(url, {"action": "import", "stored_file": stored})
    assert done.status_code == 302
    assert Animal.objects.filter(run=run).count() == 3


def test_api_previews_refuses_and_imports(design: Design, run: Any) -> None:
    client = APIClient()
    client.force_authenticate(design.director)
    url = reverse("study_import-list")
    rows = _rows(run)
    rows[2][6] = "31.02.2026"
    bad = client.post(
        url,
        {"run": run.pk, "file": SimpleUploadedFile("s.csv", _csv(rows), "text/csv")},
        format="multipart",
    )
    assert bad.status_code == 422
    assert [(e["row"], e["field"]) for e in bad.json()["errors"]] == [(4, "date")]
    preview = client.post(
        url,
        {"run": run.pk, "file": SimpleUploadedFile("s.csv", _csv(_rows(run)), "text/csv")},
        format="multipart",
    )
    assert preview.status_code == 200 and preview.json()["valid"]
    assert Animal.objects.count() == 0
    done = client.post(
        url,
        {
            "run": run.pk,
            "confirm": "true",
            "file": SimpleUploadedFile("s.csv", _csv(_rows(run)), "text/csv"),
        },
        format="multipart",
    )
    assert done.status_code == 201, done.content
    assert Animal.objects.filter(run=run).count() == 3
