"""record_measurement: volume formula, longer axis, study day in the lab's zone, refusals."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from labnotes.models import Measurement
from labnotes.services.animals import record_implantation, register_animals
from labnotes.services.measurements import record_measurement, void_measurement
from labnotes.services.runs import start_study_run
from tests.labnotes.builders import build_design, tag_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def tumour(design, run):
    [animal] = register_animals(run=run, rows=tag_rows(1), registered_by=design.technician)
    return record_implantation(
        animal=animal,
        site="right flank",
        implanted_on=run.day0,
        cells=500000,
        operator=design.technician,
    ).tumour


def test_record_measurement_computes_half_length_width_squared_with_longer_axis(design, tumour):
    reading = record_measurement(
        tumour=tumour,
        length_mm="5.0",
        width_mm="8.0",
        taken_at=timezone.now(),
        operator=design.technician,
        instrument="caliper #3",
    )
    assert (reading.length_mm, reading.width_mm) == (Decimal("8.00"), Decimal("5.00"))
    assert reading.volume_mm3 == Decimal("100.00")
    assert reading.formula == "half_length_width_squared"
    assert reading.formula_protocol_version is not None
    assert reading.animal == tumour.animal and reading.received_at is not None


def test_record_measurement_uses_ellipsoid_formula_when_protocol_says_so(lab):
    design = build_design(lab=lab, formula="ellipsoid")
    run = start_study_run(
        study=design.study, code="R", day0=timezone.localdate(), started_by=design.director
    )
    [animal] = register_animals(run=run, rows=tag_rows(1), registered_by=design.technician)
    tumour = record_implantation(
        animal=animal, site="flank", implanted_on=run.day0, cells=1, operator=design.technician
    ).tumour
    with pytest.raises(ValidationError, match="needs the height"):
        record_measurement(
            tumour=tumour,
            length_mm=10,
            width_mm=6,
            taken_at=timezone.now(),
            operator=design.technician,
        )
    reading = record_measurement(
        tumour=tumour,
        length_mm=10,
        width_mm=6,
        height_mm=4,
        taken_at=timezone.now(),
        operator=design.technician,
    )
    assert reading.volume_mm3 == Decimal("125.66")  # π/6 · 10 · 6 · 4


def test_record_measurement_study_day_follows_lab_time_zone_at_half_past_midnight(
    design, run, tumour
):
    zone = zoneinfo.ZoneInfo(design.lab.time_zone)
    local = dt.datetime.combine(run.day0 + dt.timedelta(days=3), dt.time(0, 30), tzinfo=zone)
    reading = record_measurement(
        tumour=tumour, length_mm=6, width_mm=5, taken_at=local, operator=design.technician
    )
    assert local.astimezone(dt.UTC).date() == run.day0 + dt.timedelta(days=2)
    assert reading.study_day == 3


def test_record_measurement_refused_when_taken_in_the_future(design, tumour):
    with pytest.raises(ValidationError, match="future"):
        record_measurement(
            tumour=tumour,
            length_mm=6,
            width_mm=5,
            taken_at=timezone.now() + dt.timedelta(hours=1),
            operator=design.technician,
        )
    assert Measurement.objects.count() == 0


def test_record_measurement_requires_reason_when_same_day_reading_exists(design, tumour):
    now = timezone.now()
    record_measurement(
        tumour=tumour, length_mm=6, width_mm=5, taken_at=now, operator=design.technician
    )
    with pytest.raises(ValidationError, match="reason"):
        record_measurement(
            tumour=tumour, length_mm=6.5, width_mm=5, taken_at=now, operator=design.technician
        )
    record_measurement(
        tumour=tumour,
        length_mm=6.5,
        width_mm=5,
        taken_at=now,
        operator=design.technician,
        reason="first reading slipped",
    )
    assert Measurement.objects.count() == 2


def test_record_measurement_writes_once_when_client_id_is_resent(design, tumour):
    first = record_measurement(
        tumour=tumour,
        length_mm=6,
        width_mm=5,
        taken_at=timezone.now(),
        operator=design.technician,
        client_id="dev-1:0001",
    )
    again = record_measurement(
        tumour=tumour,
        length_mm=6,
        width_mm=5,
        taken_at=timezone.now(),
        operator=design.technician,
        client_id="dev-1:0001",
    )
    assert first.pk == again.pk and Measurement.objects.count() == 1


def test_record_measurement_weight_belongs_to_animal(design, tumour):
    reading = record_measurement(
        animal=tumour.animal,
        weight_g="19.87",
        taken_at=timezone.now(),
        operator=design.technician,
        entry_method="instrument",
    )
    assert (reading.kind, reading.weight_g, reading.tumour) == ("weight", Decimal("19.87"), None)
    with pytest.raises(ValidationError):
        record_measurement(
            tumour=tumour, weight_g=19, taken_at=timezone.now(), operator=design.technician
        )
    with pytest.raises(ValidationError):
        record_measurement(
            animal=tumour.animal, weight_g=-1, taken_at=timezone.now(), operator=design.technician
        )


def test_void_measurement_keeps_reading_with_reason(design, tumour):
    reading = record_measurement(
        tumour=tumour, length_mm=6, width_mm=5, taken_at=timezone.now(), operator=design.technician
    )
    with pytest.raises(ValidationError, match="reason"):
        void_measurement(measurement=reading, voided_by=design.technician, reason="")
    voided = void_measurement(
        measurement=reading, voided_by=design.technician, reason="wrong animal"
    )
    assert voided.is_voided and voided.void_reason == "wrong animal"
    assert voided.row_version == 2
    assert Measurement.objects.count() == 1


# -- codes, repeats, corrections, counted readings ----------------------------------------------


def test_codes_np_nm_nd_are_stored_without_values(design, tumour):
    now = timezone.now()
    np_reading = record_measurement(
        tumour=tumour, code="np", taken_at=now, operator=design.technician
    )
    assert (np_reading.reading_code, np_reading.volume_mm3, np_reading.length_mm) == (
        "NP",
        Decimal("0"),
        None,
    )
    with pytest.raises(ValidationError, match="needs a reason"):
        record_measurement(tumour=tumour, code="NM", taken_at=now, operator=design.technician)
    with pytest.raises(ValidationError, match="for tumours"):
        record_measurement(
            animal=tumour.animal,
            code="NP",
            code_reason="x",
            taken_at=now,
            operator=design.technician,
        )
    nd = record_measurement(
        animal=tumour.animal,
        code="ND",
        code_reason="in procedure room",
        taken_at=now,
        operator=design.technician,
    )
    assert (nd.kind, nd.weight_g, nd.code_reason) == ("weight", None, "in procedure room")


def test_same_day_repeat_links_to_the_days_latest_and_counts_by_policy(design, tumour):
    from labnotes.services.measurements import counted_readings

    now = timezone.now()
    first = record_measurement(
        tumour=tumour,
        length_mm=10,
        width_mm=8,
        taken_at=now - dt.timedelta(minutes=5),
        operator=design.technician,
    )
    repeat = record_measurement(
        tumour=tumour,
        length_mm=10,
        width_mm=6,
        taken_at=now,
        operator=design.technician,
        as_repeat=True,
    )
    assert repeat.repeat_of == first and first.voided_at is None
    readings = Measurement.objects.filter(tumour=tumour)
    last = counted_readings(readings, policy="last")
    mean = counted_readings(readings, policy="mean")
    key = (tumour.animal_id, tumour.pk, first.study_day)
    assert last[key].value == Decimal("180.00")  # 10 × 6² / 2
    assert mean[key].value == Decimal("250.00")  # (320 + 180) / 2
    assert mean[key].readings == 2


def test_correction_with_a_stale_version_is_refused_and_writes_nothing(design, tumour):
    from labnotes.services.common import StaleWrite
    from labnotes.services.measurements import correct_measurement

    reading = record_measurement(
        tumour=tumour, length_mm=10, width_mm=8, taken_at=timezone.now(), operator=design.technician
    )
    with pytest.raises(ValidationError, match="reason"):
        correct_measurement(
            measurement=reading, corrected_by=design.technician, reason="", length_mm=11, width_mm=8
        )
    with pytest.raises(StaleWrite):
        correct_measurement(
            measurement=reading,
            corrected_by=design.technician,
            reason="typo",
            expected_version=reading.row_version + 1,
            length_mm=11,
            width_mm=8,
        )
    assert Measurement.objects.count() == 1 and Measurement.objects.get().voided_at is None
    fixed = correct_measurement(
        measurement=reading,
        corrected_by=design.technician,
        reason="typo",
        expected_version=reading.row_version,
        length_mm=11,
        width_mm=8,
    )
    reading.refresh_from_db()
    assert reading.void_reason == "Corrected: Typo" and fixed.correction_of == reading
    assert fixed.taken_at == reading.taken_at and fixed.volume_mm3 == Decimal("352.00")


def test_api_codes_corrections_with_if_match_and_grid_cells_for_instruments(design, run, tumour):
    from django.urls import reverse
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(design.technician)
    now = timezone.now().isoformat()
    created = client.post(
        reverse("measurement-list"),
        {"tumour": tumour.pk, "length_mm": "10", "width_mm": "8", "taken_at": now},
        format="json",
    )
    assert created.status_code == 201, created.content
    etag = created["ETag"]
    url = reverse("measurement-correct", kwargs={"pk": created.json()["id"]})
    stale = client.post(
        url,
        {"length_mm": "11", "width_mm": "8", "reason": "typo"},
        format="json",
        HTTP_IF_MATCH='"labnotes.measurement-999-v1"',
    )
    assert stale.status_code == 412
    fixed = client.post(
        url,
        {"length_mm": "11", "width_mm": "8", "reason": "typo"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert fixed.status_code == 201, fixed.content
    assert fixed.json()["correction_of"] == created.json()["id"]
    again = client.post(
        url,
        {"length_mm": "12", "width_mm": "8", "reason": "typo"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert again.status_code == 412, "the corrected reading changed: the old ETag is stale"

    cell = {
        "run": run.pk,
        "client_id": "balance-2:0001",
        "animal": str(tumour.animal_id),
        "tumour": None,
        "field": "weight",
        "raw": "ST,+00021.37  g",
        "taken_at": now,
        "operator": str(design.technician.pk),
    }
    cells = reverse("measurement-cells")
    answers = [
        client.post(cells, cell, format="json", HTTP_IDEMPOTENCY_KEY="balance-2:0001")
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert answers[0].json()["display"] == "21.37"
    unstable = client.post(
        cells, {**cell, "client_id": "b:2", "raw": "US,+00021.37  g"}, format="json"
    )
    assert unstable.status_code == 400 and "Unstable" in unstable.json()["error"]
    weights = Measurement.objects.filter(kind="weight")
    assert weights.count() == 1 and weights.get().entry_method == "instrument"

    counted = client.get(reverse("measurement-counted"), {"run": run.pk})
    assert counted.status_code == 200
    values = {(row["tumour"], row["value"]) for row in counted.json()}
    assert values == {(tumour.pk, "352.00"), (None, "21.37")}
