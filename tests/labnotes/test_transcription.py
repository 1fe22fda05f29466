"""Paper worksheets: entered with the sheet's time, counted only after a second person verified
them, sent back with corrections, and the per-arm growth summary built from counted readings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import ProgrammingError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from scipy import stats

from labnotes.models import (
    EntryMethod,
    Measurement,
    MeasurementKind,
    TranscriptionSheet,
    TranscriptionStatus,
)
from labnotes.selectors_measurements import counted_measurements, growth_summary
from labnotes.services import transcription as services
from labnotes.services.files import store_file
from labnotes.services.measurements import record_measurement
from tests.factories import TEST_PASSWORD
from tests.labnotes.builders import Design

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def _allocated(design: Design, run: Any, count: int = 6) -> list[Any]:
    """``count`` animals with one tumour each, half in arm G1, half in G2 (written directly:
    these tests are about transcription, not randomization)."""
    from labnotes.models import Animal, Tumour

    animals = []
    for index in range(count):
        arm = design.arms[index % 2]
        animal = Animal.objects.create(
            run=run,
            tag=f"{index + 1:04d}",
            sex="female",
            received_on=run.day0,
            registered_by=design.technician,
            arm=arm,
            treatment_start_date=run.day0,
        )
        Tumour.objects.create(animal=animal, site="right flank")
        animals.append(animal)
    return animals


def _scan(design: Design) -> Any:
    return store_file(
        content=b"%PDF-1.4 scanned worksheet",
        filename="sheet.pdf",
        content_type="application/pdf",
        stored_by=design.technician,
        lab=design.lab,
    )


def _entries(animals: list[Any], axes: list[tuple[str, str]]) -> list[services.SheetEntry]:
    entries = []
    for animal, (length, width) in zip(animals, axes, strict=True):
        entries.append(
            services.SheetEntry(
                animal=animal,
                tumour=animal.tumours.get(),
                length_mm=Decimal(length),
                width_mm=Decimal(width),
            )
        )
        entries.append(services.SheetEntry(animal=animal, weight_g=Decimal("20.5")))
    return entries


def _sheet_day(run: Any) -> dt.date:
    day: dt.date = run.day0 + dt.timedelta(days=3)
    return day


def test_transcribed_values_are_excluded_from_growth_summary_until_verified(
    design: Design, run: Any
) -> None:
    animals = _allocated(design, run, 4)
    axes = [("8.0", "6.0"), ("10.0", "7.0"), ("9.0", "5.0"), ("12.0", "8.0")]
    sheet = services.create_transcription_sheet(
        run=run,
        sheet_date=_sheet_day(run),
        sheet_time=dt.time(9, 30),
        entries=_entries(animals, axes),
        transcribed_by=design.technician,
        scan=_scan(design),
    )
    readings = Measurement.objects.filter(transcription=sheet)
    assert readings.count() == 8
    assert set(readings.values_list("entry_method", flat=True)) == {EntryMethod.TRANSCRIPTION}
    local = sheet.taken_at.astimezone(design.lab.zone)
    assert (local.date(), local.time()) == (_sheet_day(run), dt.time(9, 30))

    before = growth_summary(run, design.director)
    assert before is not None
    assert all(not arm.points for arm in before)
    assert counted_measurements(Measurement.objects.filter(animal__run=run)).count() == 0

    services.verify_transcription_sheet(sheet=sheet, verified_by=design.scientist)

    after = growth_summary(run, design.director)
    assert after is not None
    volumes = {arm.arm_code: arm for arm in after}
    # L·W²/2 computed here from the typed axes; mean and SEM by numpy and scipy
    g1 = [float(Decimal(length) * Decimal(w) ** 2 / 2) for (length, w) in axes[0::2]]
    g2 = [float(Decimal(length) * Decimal(w) ** 2 / 2) for (length, w) in axes[1::2]]
    for code, expected in (("G1", g1), ("G2", g2)):
        (point,) = volumes[code].points
        assert point.study_day == 3
        assert point.n == 2
        assert point.mean_volume_mm3 == pytest.approx(np.mean(expected))
        assert point.sem_volume_mm3 == pytest.approx(stats.sem(expected))
    assert counted_measurements(Measurement.objects.filter(animal__run=run)).count() == 8


def test_transcriber_cannot_verify_their_own_sheet(design: Design, run: Any) -> None:
    animals = _allocated(design, run, 2)
    sheet = services.create_transcription_sheet(
        run=run,
        sheet_date=_sheet_day(run),
        sheet_time=dt.time(10, 0),
        entries=_entries(animals, [("8", "6"), ("9", "7")]),
        transcribed_by=design.technician,
        scan=_scan(design),
    )
    with pytest.raises(PermissionDenied, match="second person"):
        services.verify_transcription_sheet(sheet=sheet, verified_by=design.technician)
    sheet.refresh_from_db()
    assert sheet.status == TranscriptionStatus.AWAITING_VERIFICATION
    # ... and the database refuses it too, whatever path writes.
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 (IntegrityError)
        TranscriptionSheet.objects.filter(pk=sheet.pk).update(
            verified_by=design.technician, verified_at=timezone.now(), status="verified"
        )


def test_verification_needs_the_scan(design: Design, run: Any) -> None:
    animals = _allocated(design, run, 1)
    sheet = services.create_transcription_sheet(
        run=run,
        sheet_date=_sheet_day(run),
        sheet_time=dt.time(10, 0),
        entries=_entries(animals, [("8", "6")]),
        transcribed_by=design.technician,
    )
    with pytest.raises(ValidationError, match="scan"):
        services.verify_transcription_sheet(sheet=sheet, verified_by=design.scientist)


def test_one_bad_value_saves_nothing_and_names_the_animal(design: Design, run: Any) -> None:
    animals = _allocated(design, run, 2)
    entries = _entries(animals, [("8", "6"), ("9", "7")])
    entries[-1] = services.SheetEntry(animal=animals[1], weight_g=Decimal("0"))  # 0 g: refused
    with pytest.raises(ValidationError) as error:
        services.create_transcription_sheet(
            run=run,
            sheet_date=_sheet_day(run),
            sheet_time=dt.time(10, 0),
            entries=entries,
            transcribed_by=design.technician,
        )
    assert f"a{animals[1].pk}_weight_g" in error.value.message_dict
    assert f"Animal {animals[1].tag}" in str(error.value)
    assert TranscriptionSheet.objects.count() == 0
    assert Measurement.objects.count() == 0


def test_length_without_width_is_refused_naming_the_cell(design: Design, run: Any) -> None:
    (animal,) = _allocated(design, run, 1)
    tumour = animal.tumours.get()
    with pytest.raises(ValidationError) as error:
        services.create_transcription_sheet(
            run=run,
            sheet_date=_sheet_day(run),
            sheet_time=dt.time(10, 0),
            entries=[services.SheetEntry(animal=animal, tumour=tumour, length_mm=Decimal("8"))],
            transcribed_by=design.technician,
        )
    assert f"t{tumour.pk}_width_mm" in error.value.message_dict
    assert Measurement.objects.count() == 0


def test_future_sheet_time_is_refused(design: Design, run: Any) -> None:
    (animal,) = _allocated(design, run, 1)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="future"):
        services.create_transcription_sheet(
            run=run,
            sheet_date=tomorrow,
            sheet_time=dt.time(9, 0),
            entries=_entries([animal], [("8", "6")]),
            transcribed_by=design.technician,
        )


def test_send_back_then_correct_then_verify(design: Design, run: Any) -> None:
    animals = _allocated(design, run, 2)
    sheet = services.create_transcription_sheet(
        run=run,
        sheet_date=_sheet_day(run),
        sheet_time=dt.time(9, 0),
        entries=_entries(animals, [("8", "6"), ("9", "7")]),
        transcribed_by=design.technician,
        scan=_scan(design),
    )
    tumour = animals[0].tumours.get()
    with pytest.raises(ValidationError, match="why"):
        services.return_transcription_sheet(
            sheet=sheet,
            returned_by=design.scientist,
            reason="",
            corrections=[services.Correction(f"t{tumour.pk}", "length_mm", "6.8")],
        )
    returned = services.return_transcription_sheet(
        sheet=sheet,
        returned_by=design.scientist,
        reason="8 read as 6.8 on the scan",
        corrections=[services.Correction(f"t{tumour.pk}", "length_mm", "6.8")],
    )
    assert returned.status == TranscriptionStatus.RETURNED
    assert returned.corrections[0]["entered"] == "8.00"
    with pytest.raises(ValidationError, match="corrects it first"):
        services.verify_transcription_sheet(sheet=returned, verified_by=design.scientist)
    with pytest.raises(PermissionDenied):
        services.correct_transcription_sheet(
            sheet=returned,
            entries=[],
            corrected_by=design.scientist,
            reason="not mine",
        )
    entries = _entries(animals, [("6.8", "6"), ("9", "7")])
    with pytest.raises(ValidationError, match="reason"):
        services.correct_transcription_sheet(
            sheet=returned, entries=entries, corrected_by=design.technician, reason=""
        )
    corrected = services.correct_transcription_sheet(
        sheet=returned,
        entries=entries,
        corrected_by=design.technician,
        reason="verifier: 6.8 on the paper",
        expected_version=returned.row_version,
    )
    assert corrected.status == TranscriptionStatus.AWAITING_VERIFICATION
    old = Measurement.objects.get(transcription=sheet, tumour=tumour, voided_at__isnull=False)
    new = Measurement.objects.get(transcription=sheet, tumour=tumour, voided_at__isnull=True)
    assert old.length_mm == Decimal("8.00") and "6.8" in old.void_reason
    assert new.length_mm == Decimal("6.80")
    # only the changed value was replaced
    assert Measurement.objects.filter(transcription=sheet).count() == 5
    verified = services.verify_transcription_sheet(sheet=corrected, verified_by=design.scientist)
    assert verified.verified_by == design.scientist
    counted = counted_measurements(Measurement.objects.filter(tumour=tumour))
    assert list(counted.values_list("length_mm", flat=True)) == [Decimal("6.80")]


def test_verified_sheet_is_frozen_in_the_database(design: Design, run: Any) -> None:
    animals = _allocated(design, run, 1)
    sheet = services.create_transcription_sheet(
        run=run,
        sheet_date=_sheet_day(run),
        sheet_time=dt.time(9, 0),
        entries=_entries(animals, [("8", "6")]),
        transcribed_by=design.technician,
        scan=_scan(design),
    )
    services.verify_transcription_sheet(sheet=sheet, verified_by=design.scientist)
    with pytest.raises(ProgrammingError), transaction.atomic():
        TranscriptionSheet.objects.filter(pk=sheet.pk).update(status="awaiting")
    with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
        with connection.cursor() as cursor:  # below the ORM's own PROTECT check
            cursor.execute("DELETE FROM labnotes_transcriptionsheet WHERE id = %s", [sheet.pk])


def test_counted_measurements_leave_out_voided_readings(design: Design, run: Any) -> None:
    (animal,) = _allocated(design, run, 1)
    from labnotes.services.measurements import void_measurement

    reading = record_measurement(
        tumour=animal.tumours.get(),
        length_mm="8",
        width_mm="6",
        taken_at=timezone.now() - dt.timedelta(hours=1),
        operator=design.technician,
    )
    assert counted_measurements(Measurement.objects.all()).count() == 1
    void_measurement(measurement=reading, voided_by=design.technician, reason="wrong animal")
    assert counted_measurements(Measurement.objects.all()).count() == 0


def test_growth_summary_is_none_for_blinded_members(design: Design, run: Any) -> None:
    _allocated(design, run, 2)
    assert growth_summary(run, design.technician) is None
    assert growth_summary(run, design.director) is not None


def test_run_page_shows_growth_to_unblinded_and_hides_it_from_blinded(
    design: Design, run: Any
) -> None:
    animals = _allocated(design, run, 2)
    for animal in animals:
        record_measurement(
            tumour=animal.tumours.get(),
            length_mm="8",
            width_mm="6",
            taken_at=timezone.now() - dt.timedelta(hours=1),
            operator=design.technician,
        )
    url = reverse("run_detail", kwargs={"pk": run.pk})
    unblinded = Client()
    assert unblinded.login(username=design.director.username, password=TEST_PASSWORD)
    page = unblinded.get(url).content.decode()
    assert "Tumour growth by arm" in page and "144.0" in page  # 8·6²/2 = 144
    blinded = Client()
    assert blinded.login(username=design.technician.username, password=TEST_PASSWORD)
    page = blinded.get(url).content.decode()
    assert "Tumour growth by arm" not in page


def test_entry_page_saves_a_sheet_and_verify_page_counts_it(design: Design, run: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    animals = _allocated(design, run, 2)
    technician = Client()
    assert technician.login(username=design.technician.username, password=TEST_PASSWORD)
    url = reverse("transcription_new", kwargs={"pk": run.pk})
    assert technician.get(url).status_code == 200
    form: dict[str, Any] = {
        "sheet_date": _sheet_day(run).isoformat(),
        "sheet_time": "08:45",
        "measured_by": design.technician.pk,
        "scan": SimpleUploadedFile("scan.pdf", b"%PDF-1.4 scan", "application/pdf"),
    }
    t0, t1 = (animal.tumours.get() for animal in animals)
    form[f"t{t0.pk}_length_mm"] = "8,5"
    form[f"t{t0.pk}_width_mm"] = "6,0"
    form[f"a{animals[0].pk}_weight_g"] = "21.3 g"
    form[f"t{t1.pk}_length_mm"] = "NP"
    form[f"a{animals[1].pk}_weight_g"] = "+ 19.9 ?"  # unstable balance reading: refused
    response = technician.post(url, form)
    assert response.status_code == 200
    assert "Unstable" in response.content.decode()
    assert TranscriptionSheet.objects.count() == 0
    form[f"a{animals[1].pk}_weight_g"] = "19.9"
    form["scan"] = SimpleUploadedFile("scan.pdf", b"%PDF-1.4 scan", "application/pdf")
    response = technician.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    sheet = TranscriptionSheet.objects.get()
    assert sheet.scan is not None
    values = {(m.kind, m.animal_id): m for m in Measurement.objects.filter(transcription=sheet)}
    assert values[(MeasurementKind.CALIPER, animals[0].pk)].length_mm == Decimal("8.50")
    assert values[(MeasurementKind.CALIPER, animals[1].pk)].reading_code == "NP"
    assert values[(MeasurementKind.WEIGHT, animals[0].pk)].weight_g == Decimal("21.30")

    detail = reverse("transcription_detail", kwargs={"pk": sheet.pk})
    own = technician.post(reverse("transcription_verify", kwargs={"pk": sheet.pk}), follow=True)
    assert "second person" in own.content.decode()
    sheet.refresh_from_db()
    assert sheet.status == TranscriptionStatus.AWAITING_VERIFICATION
    scientist = Client()
    assert scientist.login(username=design.scientist.username, password=TEST_PASSWORD)
    page = scientist.get(detail).content.decode()
    assert "8.5" in page and reverse("file_download", kwargs={"pk": sheet.scan.pk}) in page
    scientist.post(
        reverse("transcription_verify", kwargs={"pk": sheet.pk}),
        {"row_version": sheet.row_version},
    )
    sheet.refresh_from_db()
    assert sheet.status == TranscriptionStatus.VERIFIED


def test_api_creates_and_verifies_a_sheet_with_stale_write_refused(
    design: Design, run: Any
) -> None:
    from rest_framework.test import APIClient

    animals = _allocated(design, run, 1)
    scan = _scan(design)
    technician = APIClient()
    technician.force_authenticate(design.technician)
    tumour = animals[0].tumours.get()
    response = technician.post(
        reverse("transcription_sheet-list"),
        {
            "run": run.pk,
            "sheet_date": _sheet_day(run).isoformat(),
            "sheet_time": "09:15",
            "scan": scan.pk,
            "entries": [
                {"tumour": tumour.pk, "length_mm": "7.5", "width_mm": "5.5"},
                {"animal": animals[0].pk, "weight_g": "20.1"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    sheet_id = response.json()["id"]
    etag = response["ETag"]
    assert len(response.json()["readings"]) == 2
    own = technician.post(reverse("transcription_sheet-verify", kwargs={"pk": sheet_id}))
    assert own.status_code == 403
    scientist = APIClient()
    scientist.force_authenticate(design.scientist)
    stale = scientist.post(
        reverse("transcription_sheet-verify", kwargs={"pk": sheet_id}),
        HTTP_IF_MATCH=etag.replace("-v1", "-v0"),
    )
    assert stale.status_code == 412
    ok = scientist.post(
        reverse("transcription_sheet-verify", kwargs={"pk": sheet_id}), HTTP_IF_MATCH=etag
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["status"] == "verified"
    assert ok.json()["verified_by"] == design.scientist.username
