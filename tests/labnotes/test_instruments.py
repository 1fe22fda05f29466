"""The instrument register: registration, daily checks (pass/fail arithmetic), calibration,
qualification (overdue, no check, retired; flagged or refused), audit, and the instrument API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from labnotes.models import Instrument, InstrumentCheck
from labnotes.services.instruments import (
    create_instrument,
    instrument_status,
    record_calibration,
    record_daily_check,
    retire_instrument,
    set_unqualified_policy,
)
from planner.models import Membership, Role
from tests.labnotes.api.conftest import client_for
from tests.labnotes.builders import Design

pytestmark = pytest.mark.django_db


def _balance(design: Design, **options: Any) -> Instrument:
    values: dict[str, Any] = {
        "lab": design.lab,
        "kind": "balance",
        "name": "Balance 1",
        "serial_number": "BAL-1",
        "created_by": design.scientist,
        "calibration_due_on": timezone.localdate() + dt.timedelta(days=30),
        "check_expected": Decimal("20"),
        "check_tolerance": Decimal("0.010"),
        "check_unit": "g",
    }
    values.update(options)
    return create_instrument(**values)


def test_register_is_audited_and_serial_is_unique_in_the_lab(design: Design) -> None:
    balance = _balance(design)
    assert balance.events.filter(pgh_label="insert").count() == 1  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as error:
        _balance(design, name="Another")
    assert "serial_number" in error.value.message_dict
    assert Instrument.objects.count() == 1


def test_technician_may_not_register_an_instrument(design: Design) -> None:
    with pytest.raises(PermissionDenied):
        _balance(design, created_by=design.technician)
    assert Instrument.objects.count() == 0


@pytest.mark.parametrize(
    ("observed", "passed"),
    [("20.010", True), ("19.990", True), ("20.011", False), ("19.9899", False)],
)
def test_daily_check_passes_within_tolerance_only(
    design: Design, observed: str, passed: bool
) -> None:
    balance = _balance(design)
    check = record_daily_check(
        instrument=balance, observed_value=Decimal(observed), checked_by=design.technician
    )
    assert check.passed is passed
    assert (check.expected_value, check.tolerance, check.unit) == (
        Decimal("20"),
        Decimal("0.010"),
        "g",
    )
    assert check.checked_on == design.lab.local_date(check.checked_at)


def test_check_without_a_standard_is_refused(design: Design) -> None:
    caliper = create_instrument(
        lab=design.lab,
        kind="caliper",
        name="Caliper 1",
        serial_number="CAL-1",
        created_by=design.scientist,
    )
    with pytest.raises(ValidationError) as error:
        record_daily_check(
            instrument=caliper, observed_value=Decimal(10), checked_by=design.technician
        )
    assert set(error.value.message_dict) == {"expected_value", "tolerance"}
    assert InstrumentCheck.objects.count() == 0


def test_status_names_overdue_calibration_and_missing_check(design: Design) -> None:
    balance = _balance(design, calibration_due_on=timezone.localdate() - dt.timedelta(days=1))
    status = instrument_status(lab=design.lab, identifier="BAL-1")
    assert status is not None
    assert status.issues == ("calibration_overdue", "no_daily_check")
    assert not status.refused and "flagged" in status.message
    record_daily_check(
        instrument=balance, observed_value=Decimal("20.02"), checked_by=design.technician
    )  # failed: qualifies nothing
    status = instrument_status(lab=design.lab, identifier="BAL-1")
    assert status is not None and "no_daily_check" in status.issues
    record_daily_check(
        instrument=balance, observed_value=Decimal("20.001"), checked_by=design.technician
    )
    status = instrument_status(lab=design.lab, identifier="BAL-1")
    assert status is not None and status.issues == ("calibration_overdue",)
    updated = record_calibration(
        instrument=balance,
        calibrated_on=timezone.localdate(),
        next_due_on=timezone.localdate() + dt.timedelta(days=365),
        recorded_by=design.scientist,
        expected_version=balance.row_version,
    )
    assert updated.row_version == 2
    status = instrument_status(lab=design.lab, identifier="BAL-1")
    assert status is not None and status.qualified
    assert instrument_status(lab=design.lab, identifier="NOPE") is None


def test_refuse_policy_and_retired_instruments_refuse(design: Design) -> None:
    balance = _balance(design)
    Membership.objects.filter(user=design.director, lab=design.lab).update(role=Role.LAB_ADMIN)
    set_unqualified_policy(
        lab=design.lab,
        policy="refuse",
        require_registered=False,
        changed_by=design.director,
        reason="SOP",
    )
    status = instrument_status(lab=design.lab, identifier="BAL-1")
    assert status is not None and status.refused
    retire_instrument(
        instrument=balance,
        retired_by=design.scientist,
        reason="Dropped",
        expected_version=balance.row_version,
    )
    status = instrument_status(lab=design.lab, identifier="BAL-1")
    assert status is not None and "retired" in status.issues and status.refused


def test_instrument_api_registers_checks_and_reports_status(design: Design) -> None:
    client = client_for(design.scientist)
    response = client.post(
        "/api/v1/instruments/",
        {
            "lab": design.lab.pk,
            "kind": "caliper",
            "name": "Caliper 2",
            "serial_number": "CAL-0042",
            "calibration_due_on": (timezone.localdate() - dt.timedelta(days=2)).isoformat(),
            "check_expected": "10",
            "check_tolerance": "0.02",
            "check_unit": "mm",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    check = client_for(design.technician).post(
        f"/api/v1/instruments/{pk}/checks/", {"observed_value": "10.01"}, format="json"
    )
    assert check.status_code == 201 and check.json()["passed"] is True
    status = client.get(f"/api/v1/instruments/{pk}/status/").json()
    assert status["issues"] == ["calibration_overdue"] and status["refused"] is False
    outsider = client_for(design.viewer).post(
        f"/api/v1/instruments/{pk}/checks/", {"observed_value": "10.01"}, format="json"
    )
    assert outsider.status_code == 403
    assert InstrumentCheck.objects.count() == 1


def test_demo_registers_two_instruments_and_shows_the_token_once(
    design: Design, run: Any, capsys: Any
) -> None:
    from labnotes.demo_instruments import record_demo_instruments
    from labnotes.models import DeviceToken

    users = {"director": design.director, "tech_measure": design.technician}
    secret = record_demo_instruments(run, users)
    assert secret is not None and secret in capsys.readouterr().out
    assert sorted(Instrument.objects.values_list("kind", flat=True)) == [
        "balance",
        "balance",
        "caliper",
    ]
    spare = instrument_status(lab=design.lab, identifier="BAL-0907")
    assert spare is not None and "calibration_overdue" in spare.issues
    for serial in ("CAL-0042", "BAL-1138"):
        status = instrument_status(lab=design.lab, identifier=serial)
        assert status is not None and status.qualified
    assert record_demo_instruments(run, users) is None  # idempotent: no second token
    assert DeviceToken.objects.count() == 1 and InstrumentCheck.objects.count() == 3


def test_grid_helpers_flag_or_refuse_one_reading(design: Design, run: Any) -> None:
    from labnotes.models import ReadingFlag
    from labnotes.services.instruments import flag_reading, qualify_reading
    from labnotes.services.measurements import record_measurement
    from tests.labnotes.api.device_support import animals_with_tumours

    animal = animals_with_tumours(design, run, 1)[0]
    _balance(design, calibration_due_on=timezone.localdate() - dt.timedelta(days=1))
    taken_at = timezone.now() - dt.timedelta(minutes=1)
    status = qualify_reading(lab=design.lab, identifier="BAL-1", taken_at=taken_at)
    reading = record_measurement(
        animal=animal, weight_g="20.2", taken_at=taken_at, operator=design.technician
    )
    flag = flag_reading(measurement=reading, status=status)
    assert flag is not None and flag.issues == ["calibration_overdue", "no_daily_check"]
    assert qualify_reading(lab=design.lab, identifier="UNKNOWN", taken_at=taken_at) is None
    Membership.objects.filter(user=design.director, lab=design.lab).update(role=Role.LAB_ADMIN)
    set_unqualified_policy(
        lab=design.lab,
        policy="refuse",
        require_registered=False,
        changed_by=design.director,
        reason="SOP",
    )
    with pytest.raises(ValidationError) as error:
        qualify_reading(lab=design.lab, identifier="BAL-1", taken_at=taken_at)
    assert "refused" in error.value.message_dict["instrument"][0]
    assert ReadingFlag.objects.count() == 1
