"""Sample records: dose timing and its window flag, barcodes, tumour resolution, task
completion, corrections and voiding, the label PDF read back, the API."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from labnotes.documents.sample_labels import SampleLabel, render_sample_labels_pdf
from labnotes.models import Sample, Task, TaskKind, TaskStatus, Tumour
from labnotes.services.common import StaleWrite
from labnotes.services.samples import (
    build_sample_labels,
    correct_sample,
    default_window_minutes,
    record_sample,
    void_sample,
)
from planner.models import ProcedureRole, StudyProcedure
from tests.factories import LabFactory, MembershipFactory, UserFactory
from tests.labnotes.builders import SENTINELS, released_version
from tests.labnotes.samples_support import SmallRun, give_dose, small_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(lab: Any) -> SmallRun:
    return small_run(lab)


def _ago(**kwargs: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(**kwargs)


# -- dose timing and the window flag ---------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "expected"),
    [("2", 12), ("0.5", 5), ("24", 144), ("-1", 6), ("0.25", 5), ("1.5", 9)],
)
def test_default_window_is_ten_percent_of_the_offset_at_least_five_minutes(
    hours: str, expected: int
) -> None:
    # Hand-derived: 2 h = 120 min → 12; 0.5 h = 30 min → 3 → 5 (floor of 5); 24 h → 144;
    # 1 h before the dose → 6; 15 min → 1.5 → 5; 90 min → 9.
    assert default_window_minutes(Decimal(hours)) == expected


def test_sample_inside_window_when_taken_seven_minutes_late_for_a_two_hour_point(
    small: SmallRun,
) -> None:
    animal = small.animals[0]
    given = _ago(hours=5)
    dose = give_dose(small, animal, given_at=given)
    sample = record_sample(
        animal=animal,
        tissue="serum",
        collected_at=given + dt.timedelta(hours=2, minutes=7),
        collected_by=small.design.scientist,
        dose=dose,
        nominal_hours_after_dose="2",
        volume_ul="50",
    )
    assert sample.window_minutes == 12
    assert sample.actual_minutes_after_dose == Decimal("127.0")
    assert sample.dose_given_at == given
    assert sample.outside_window is False


def test_sample_flagged_outside_window_when_taken_twenty_minutes_late(small: SmallRun) -> None:
    animal = small.animals[0]
    given = _ago(hours=5)
    dose = give_dose(small, animal, given_at=given)
    sample = record_sample(
        animal=animal,
        tissue="serum",
        collected_at=given + dt.timedelta(hours=2, minutes=20),
        collected_by=small.design.scientist,
        dose=dose,
        nominal_hours_after_dose="2",
    )
    assert sample.actual_minutes_after_dose == Decimal("140.0")
    assert sample.outside_window is True
    assert Sample.objects.filter(outside_window=True).count() == 1


def test_window_edge_counts_as_inside_and_a_given_window_overrides_the_default(
    small: SmallRun,
) -> None:
    animal = small.animals[0]
    given = _ago(hours=6)
    dose = give_dose(small, animal, given_at=given)
    edge = record_sample(
        animal=animal,
        tissue="serum",
        collected_at=given + dt.timedelta(minutes=108),  # 120 - 12
        collected_by=small.design.scientist,
        dose=dose,
        nominal_hours_after_dose="2",
    )
    strict = record_sample(
        animal=animal,
        tissue="plasma",
        collected_at=given + dt.timedelta(minutes=108),
        collected_by=small.design.scientist,
        dose=dose,
        nominal_hours_after_dose="2",
        window_minutes=5,
    )
    before = record_sample(
        animal=animal,
        tissue="whole_blood",
        collected_at=given - dt.timedelta(minutes=40),
        collected_by=small.design.scientist,
        dose=dose,
        nominal_hours_after_dose="-0.5",
    )
    assert (edge.outside_window, strict.outside_window) == (False, True)
    assert before.actual_minutes_after_dose == Decimal("-40.0")
    assert before.window_minutes == 5 and before.outside_window is True


def test_correcting_the_collection_time_recomputes_the_window_flag(small: SmallRun) -> None:
    animal = small.animals[0]
    given = _ago(hours=5)
    dose = give_dose(small, animal, given_at=given)
    sample = record_sample(
        animal=animal,
        tissue="serum",
        collected_at=given + dt.timedelta(hours=2, minutes=40),
        collected_by=small.design.scientist,
        dose=dose,
        nominal_hours_after_dose="2",
    )
    assert sample.outside_window
    with pytest.raises(ValidationError, match="reason"):
        correct_sample(
            sample=sample, changed_by=small.design.scientist, reason="", collected_at=given
        )
    fixed = correct_sample(
        sample=sample,
        changed_by=small.design.scientist,
        reason="time misread from the tube",
        expected_version=sample.row_version,
        collected_at=given + dt.timedelta(hours=2, minutes=4),
    )
    assert fixed.outside_window is False
    assert fixed.actual_minutes_after_dose == Decimal("124.0")
    assert fixed.row_version == sample.row_version + 1
    with pytest.raises(StaleWrite):
        correct_sample(
            sample=sample,
            changed_by=small.design.scientist,
            reason="again",
            expected_version=sample.row_version,
            freezer="F2",
        )


def test_dose_timing_refused_to_a_blinded_member_who_may_not_dose(small: SmallRun) -> None:
    animal = small.animals[0]
    dose = give_dose(small, animal, given_at=_ago(hours=4))
    with pytest.raises(ValidationError, match="may see dosing"):
        record_sample(
            animal=animal,
            tissue="serum",
            collected_at=_ago(hours=2),
            collected_by=small.design.technician,
            dose=dose,
            nominal_hours_after_dose="2",
        )
    doser_sample = record_sample(
        animal=animal,
        tissue="serum",
        collected_at=_ago(hours=2),
        collected_by=small.design.doser,
        dose=dose,
        nominal_hours_after_dose="2",
    )
    assert doser_sample.dose_id == dose.pk
    assert Sample.objects.count() == 1


def test_dose_of_another_animal_or_without_hours_is_refused(small: SmallRun) -> None:
    first, second = small.animals[0], small.animals[1]
    dose = give_dose(small, first, given_at=_ago(hours=4))
    with pytest.raises(ValidationError, match="not given to animal"):
        record_sample(
            animal=second,
            tissue="serum",
            collected_at=_ago(hours=2),
            collected_by=small.design.scientist,
            dose=dose,
            nominal_hours_after_dose="2",
        )
    with pytest.raises(ValidationError, match="both the dose and the nominal time"):
        record_sample(
            animal=first,
            tissue="serum",
            collected_at=_ago(hours=2),
            collected_by=small.design.scientist,
            dose=dose,
        )
    assert Sample.objects.count() == 0


# -- barcodes --------------------------------------------------------------------------------


def test_generated_barcodes_count_up_and_skip_past_scanned_ones(small: SmallRun) -> None:
    animal = small.animals[0]
    who = small.design.technician
    first = record_sample(
        animal=animal, tissue="serum", collected_at=_ago(hours=1), collected_by=who
    )
    second = record_sample(
        animal=animal, tissue="spleen", collected_at=_ago(hours=1), collected_by=who
    )
    scanned = record_sample(
        animal=animal,
        tissue="lymph_node",
        collected_at=_ago(hours=1),
        collected_by=who,
        barcode="  VS-000041\r\n",
    )
    after = record_sample(
        animal=animal, tissue="liver", collected_at=_ago(hours=1), collected_by=who
    )
    assert [first.barcode, second.barcode, scanned.barcode, after.barcode] == [
        "VS-000001",
        "VS-000002",
        "VS-000041",
        "VS-000042",
    ]
    assert (first.barcode_generated, scanned.barcode_generated) == (True, False)


def test_duplicate_barcode_refused_in_the_lab_and_allowed_in_another_lab(
    small: SmallRun, other_lab: Any
) -> None:
    animal = small.animals[0]
    who = small.design.technician
    record_sample(
        animal=animal,
        tissue="serum",
        collected_at=_ago(hours=1),
        collected_by=who,
        barcode="TUBE-7",
    )
    with pytest.raises(ValidationError) as refused:
        record_sample(
            animal=small.animals[1],
            tissue="serum",
            collected_at=_ago(hours=1),
            collected_by=who,
            barcode="TUBE-7",
        )
    assert "Barcode TUBE-7 is already used" in str(refused.value)
    assert f"animal {animal.tag}" in str(refused.value)
    assert Sample.objects.filter(barcode="TUBE-7").count() == 1
    other = small_run(other_lab)
    elsewhere = record_sample(
        animal=other.animals[0],
        tissue="serum",
        collected_at=_ago(hours=1),
        collected_by=other.design.technician,
        barcode="TUBE-7",
    )
    assert elsewhere.lab_id != animal.run.study.lab_id
    # The database refuses a duplicate too, whatever wrote it.
    with pytest.raises(IntegrityError), transaction.atomic():
        Sample.objects.create(
            lab=small.design.lab,
            animal=animal,
            tissue="serum",
            collected_at=_ago(hours=1),
            study_day=9,
            barcode="TUBE-7",
            collected_by=who,
            recorded_by=who,
        )


def test_barcode_with_spaces_refused(small: SmallRun) -> None:
    with pytest.raises(ValidationError, match="not a barcode"):
        record_sample(
            animal=small.animals[0],
            tissue="serum",
            collected_at=_ago(hours=1),
            collected_by=small.design.technician,
            barcode="TUBE 7",
        )
    assert not Sample.objects.exists()


# -- what is recorded --------------------------------------------------------------------------


def test_tumour_sample_takes_the_only_tumour_and_refuses_a_tumour_on_serum(small: SmallRun) -> None:
    animal = small.animals[0]
    tumour = Tumour.objects.get(animal=animal)
    sample = record_sample(
        animal=animal,
        tissue="tumour",
        collected_at=_ago(hours=1),
        collected_by=small.design.technician,
        mass_mg="85,5",
    )
    assert sample.tumour_id == tumour.pk
    assert sample.mass_mg == Decimal("85.5")
    with pytest.raises(ValidationError, match="has no tumour"):
        record_sample(
            animal=animal,
            tissue="serum",
            tumour=tumour,
            collected_at=_ago(hours=1),
            collected_by=small.design.technician,
        )
    second = Tumour.objects.create(animal=animal, site="left flank", role="contralateral")
    with pytest.raises(ValidationError, match="2 tumours"):
        record_sample(
            animal=animal,
            tissue="tumour",
            collected_at=_ago(hours=1),
            collected_by=small.design.technician,
        )
    assert Sample.objects.filter(tumour=second).count() == 0


def test_future_time_zero_volume_and_viewer_are_refused(small: SmallRun) -> None:
    animal = small.animals[0]
    with pytest.raises(ValidationError, match="future"):
        record_sample(
            animal=animal,
            tissue="serum",
            collected_at=timezone.now() + dt.timedelta(hours=1),
            collected_by=small.design.technician,
        )
    with pytest.raises(ValidationError, match="above 0"):
        record_sample(
            animal=animal,
            tissue="serum",
            collected_at=_ago(hours=1),
            collected_by=small.design.technician,
            volume_ul="0",
        )
    with pytest.raises(PermissionDenied):
        record_sample(
            animal=animal,
            tissue="serum",
            collected_at=_ago(hours=1),
            collected_by=small.design.viewer,
        )
    assert not Sample.objects.exists()


def test_sample_marks_its_collection_task_done_and_follows_its_procedure(small: SmallRun) -> None:
    design = small.design
    version = released_version(
        design.lab,
        design.director,
        "sample_collection",
        "Serum day 9",
        {"tissue": "serum", "timing": "fixed_day", "study_day": 9, "volume_ul": 100,
         "processing": "clot, spin", "label_fields": ["barcode", "animal_tag", "tissue"]},
    )  # fmt: skip
    procedure = StudyProcedure.objects.create(
        study=design.study, role=ProcedureRole.SAMPLE_COLLECTION, protocol_version=version
    )
    animal = small.animals[0]
    task = Task.objects.create(
        run=small.run,
        animal=animal,
        kind=TaskKind.SAMPLE,
        procedure=procedure,
        occurrence=1,
        study_day=9,
        nominal_date=small.run.day0 + dt.timedelta(days=9),
    )
    with pytest.raises(ValidationError, match="collects serum, not spleen"):
        record_sample(
            animal=animal,
            tissue="spleen",
            task=task,
            collected_at=_ago(hours=1),
            collected_by=design.technician,
        )
    sample = record_sample(
        animal=animal,
        tissue="serum",
        task=task,
        collected_at=_ago(hours=1),
        collected_by=design.technician,
    )
    task.refresh_from_db()
    assert sample.procedure_id == procedure.pk
    assert task.status == TaskStatus.DONE and task.completed_by == design.technician
    labels = build_sample_labels([sample])
    assert labels[0].lines == (("Animal", animal.tag), ("Tissue", "Serum"))


def test_void_keeps_the_sample_and_its_barcode(small: SmallRun) -> None:
    sample = record_sample(
        animal=small.animals[0],
        tissue="serum",
        collected_at=_ago(hours=1),
        collected_by=small.design.technician,
    )
    with pytest.raises(ValidationError, match="reason"):
        void_sample(sample=sample, voided_by=small.design.technician, reason=" ")
    voided = void_sample(sample=sample, voided_by=small.design.technician, reason="wrong animal")
    assert voided.is_voided and voided.void_reason == "wrong animal"
    assert Sample.objects.filter(pk=sample.pk).exists()
    again = record_sample(
        animal=small.animals[0],
        tissue="serum",
        collected_at=_ago(hours=1),
        collected_by=small.design.technician,
    )
    assert again.barcode == "VS-000002"


# -- labels ------------------------------------------------------------------------------------


def _pdftotext(pdf: bytes, tmp_path: Any) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "labels.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_label_pdf_reads_back_barcode_animal_tissue_and_arm_code_only(
    small: SmallRun, tmp_path: Any
) -> None:
    small.design.study.arms.filter(code="G2").update(label=SENTINELS[0])
    animal = next(a for a in small.animals if a.arm is not None and a.arm.code == "G2")
    sample = record_sample(
        animal=animal,
        tissue="tumour",
        collected_at=_ago(hours=1),
        collected_by=small.design.technician,
    )
    sample = Sample.objects.select_related("animal__run__study__lab", "animal__arm", "tumour").get(
        pk=sample.pk
    )
    labels = build_sample_labels([sample])
    thermal = _pdftotext(render_sample_labels_pdf(labels, size="thermal_label"), tmp_path)
    sheet = _pdftotext(render_sample_labels_pdf(labels * 11, size="cage_card"), tmp_path)
    for text in (thermal, sheet):
        assert sample.barcode in text
        assert animal.tag in text
        assert "Tumour, right flank" in text
        assert f"Day {sample.study_day}" in text
        assert SENTINELS[0] not in text
    assert sheet.count(sample.barcode) == 11
    assert thermal.count("\f") == 1  # one thermal label, one page


def test_label_with_too_many_lines_or_no_barcode_refused() -> None:
    with pytest.raises(ValueError, match="holds 6"):
        SampleLabel("X1", tuple(("k", "v") for _ in range(7)))
    with pytest.raises(ValueError, match="needs a barcode"):
        SampleLabel(" ", ())
    with pytest.raises(ValueError, match="nothing to print"):
        render_sample_labels_pdf([])


# -- pages and API -------------------------------------------------------------------------------


def test_api_creates_with_idempotency_key_and_hides_the_dose_from_blinded_readers(
    small: SmallRun,
) -> None:
    animal = small.animals[0]
    given = _ago(hours=5)
    dose = give_dose(small, animal, given_at=given)
    client = APIClient()
    client.force_authenticate(small.design.scientist)
    body = {
        "animal": animal.pk,
        "tissue": "serum",
        "collected_at": (given + dt.timedelta(hours=2, minutes=30)).isoformat(),
        "dose": dose.pk,
        "nominal_hours_after_dose": "2",
        "volume_ul": "40",
        "freezer": "F-80-1",
        "box": "B3",
    }
    first = client.post(reverse("sample-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(reverse("sample-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert Sample.objects.count() == 1
    data = first.json()
    assert data["barcode"] == "VS-000001"
    assert data["outside_window"] is True
    assert data["actual_minutes_after_dose"] == "150.0"
    assert data["dose"]["occurrence"] == 1
    pk = data["id"]
    technician = APIClient()
    technician.force_authenticate(small.design.technician)
    seen = technician.get(reverse("sample-detail", args=[pk])).json()
    assert seen["dose"] is None
    assert seen["outside_window"] is True
    assert "agent" not in str(seen)


def test_api_correction_needs_if_match_and_a_reason(small: SmallRun) -> None:
    sample = record_sample(
        animal=small.animals[0],
        tissue="serum",
        collected_at=_ago(hours=1),
        collected_by=small.design.technician,
    )
    client = APIClient()
    client.force_authenticate(small.design.technician)
    url = reverse("sample-detail", args=[sample.pk])
    etag = client.get(url).headers["ETag"]
    assert client.patch(url, {"freezer": "F2", "reason": "moved"}, format="json").status_code == 428
    no_reason = client.patch(url, {"freezer": "F2"}, format="json", HTTP_IF_MATCH=etag)
    assert no_reason.status_code == 400
    moved = client.patch(
        url, {"freezer": "F2", "box": "B9", "reason": "freezer 1 defrosted"}, format="json",
        HTTP_IF_MATCH=etag,
    )  # fmt: skip
    assert moved.status_code == 200, moved.content
    assert moved.json()["storage_location"] == "freezer F2, box B9"
    stale = client.patch(url, {"freezer": "F3", "reason": "x"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    sample.refresh_from_db()
    assert sample.freezer == "F2"


def test_outsider_never_reaches_a_sample(small: SmallRun) -> None:
    sample = record_sample(
        animal=small.animals[0],
        tissue="serum",
        collected_at=_ago(hours=1),
        collected_by=small.design.technician,
    )
    outsider = UserFactory()
    MembershipFactory(user=outsider, lab=LabFactory(), role="scientist")
    client = APIClient()
    client.force_authenticate(outsider)
    assert client.get(reverse("sample-detail", args=[sample.pk])).status_code == 404
    assert client.get(reverse("sample-list")).json()["count"] == 0
