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
