"""The demo's instruments and device token, written through the services.

A registered caliper and balance of the demo lab, each with its calibration dates, a passed
daily check today (and the balance one yesterday); a spare balance past its calibration due date
with one weight of today taken on it, saved under the lab's default rule (flag) with its
:class:`ReadingFlag`, so the grid opens on a flagged cell; and a device token for the demo run
that may post caliper readings and weights and read the task list. The token's secret exists
only here: it is printed once, when it is created (``load_demo``'s output), and only its hash
is kept.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from labnotes.models import (
    AnimalStatus,
    DeviceAction,
    DeviceToken,
    EntryMethod,
    Instrument,
    Measurement,
    MeasurementKind,
    ReadingFlag,
    StudyRun,
)
from labnotes.services.common import lab_today
from labnotes.services.instruments import (
    create_device_token,
    create_instrument,
    flag_reading,
    qualify_instrument,
    record_daily_check,
)
from labnotes.services.measurements import record_measurement

DEMO_TOKEN_NAME = "Demo bridge (caliper and balance, room R101)"  # noqa: S105 (a name)
#: The spare balance past its calibration due date: one demo weight of today is flagged.
PAST_DUE_SERIAL = "BAL-0907"


def record_demo_instruments(run: StudyRun, users: dict[str, Any]) -> str | None:
    """Register the demo caliper and balance and issue the demo run's device token (once).

    Returns the token's secret when it was created now (and prints it), else ``None``.
    """
    lab = run.study.lab
    director, technician = users["director"], users["tech_measure"]
    today = lab_today(lab)
    now = timezone.now()
    specs: list[dict[str, Any]] = [
        {
            "kind": "caliper",
            "name": "Caliper 2 (digital, IP67)",
            "serial_number": "CAL-0042",
            "manufacturer": "Mitutoyo",
            "model_name": "CD-15APX",
            "location": "Room R101, bench 2",
            "last_calibrated_on": today - dt.timedelta(days=300),
            "calibration_due_on": today + dt.timedelta(days=65),
            "check_expected": Decimal("10.00"),
            "check_tolerance": Decimal("0.02"),
            "check_unit": "mm",
        },
        {
            "kind": "balance",
            "name": "Balance 1 (animal room)",
            "serial_number": "BAL-1138",
            "manufacturer": "Sartorius",
            "model_name": "Quintix 224",
            "location": "Room R101, weighing station",
            "last_calibrated_on": today - dt.timedelta(days=150),
            "calibration_due_on": today + dt.timedelta(days=215),
            "check_expected": Decimal("20.000"),
            "check_tolerance": Decimal("0.010"),
            "check_unit": "g",
        },
        {
            "kind": "balance",
            "name": "Balance 3 (spare, past due)",
            "serial_number": PAST_DUE_SERIAL,
            "manufacturer": "Ohaus",
            "model_name": "Scout SPX222",
            "location": "Room R101, shelf",
            "last_calibrated_on": today - dt.timedelta(days=377),
            "calibration_due_on": today - dt.timedelta(days=12),
            "check_expected": Decimal("20.000"),
            "check_tolerance": Decimal("0.010"),
            "check_unit": "g",
        },
    ]
    for spec in specs:
        instrument = Instrument.objects.filter(lab=lab, serial_number=spec["serial_number"]).first()
        if instrument is None:
            instrument = create_instrument(lab=lab, created_by=director, **spec)
        if instrument.serial_number == PAST_DUE_SERIAL:
            continue  # no daily check either: it is the one to be flagged
        if not instrument.checks.filter(checked_on=today).exists():
            if instrument.kind == "balance":
                record_daily_check(
                    instrument=instrument,
                    observed_value=Decimal("20.003"),
                    checked_by=technician,
                    checked_at=now - dt.timedelta(days=1),
                    note="Yesterday's check weight",
                )
            record_daily_check(
                instrument=instrument,
                observed_value=spec["check_expected"] + Decimal("0.004"),
                checked_by=technician,
                checked_at=now - dt.timedelta(minutes=5),
            )
    _record_flagged_weight(run, technician)
    if DeviceToken.objects.filter(run=run, name=DEMO_TOKEN_NAME).exists():
        return None
    issued = create_device_token(
        created_by=director,
        name=DEMO_TOKEN_NAME,
        run=run,
        actions=[
            DeviceAction.POST_MEASUREMENTS,
            DeviceAction.POST_WEIGHTS,
            DeviceAction.READ_TASKS,
        ],
    )
    # Shown once, as the device-token page does.
    print(
        f"demo device token for run {run.study.code}/{run.code} (shown once, only its hash "
        f"is stored): {issued.secret}"
    )
    return issued.secret


def _record_flagged_weight(run: StudyRun, technician: Any) -> None:
    """One weight of today taken on the past-due spare balance, as the grid saves it: the
    value recorded with its instrument and flagged (once; nothing under a "refuse" rule)."""
    lab = run.study.lab
    spare = Instrument.objects.select_related("lab").get(lab=lab, serial_number=PAST_DUE_SERIAL)
    if ReadingFlag.objects.filter(instrument=spare).exists():
        return
    taken_at = timezone.now() - dt.timedelta(minutes=15)
    today = run.study.lab.study_day(run.day0, taken_at)
    weighed_today = Measurement.objects.filter(
        animal__run=run, kind=MeasurementKind.WEIGHT, study_day=today
    ).values("animal_id")
    latest = (
        Measurement.objects.filter(
            animal__run=run,
            animal__status=AnimalStatus.ON_STUDY,
            kind=MeasurementKind.WEIGHT,
            weight_g__isnull=False,
            voided_at__isnull=True,
        )
        .exclude(animal_id__in=weighed_today)
        .select_related("animal")
        .order_by("animal__tag", "-taken_at")
        .first()
    )
    if latest is None:
        return
    try:
        status = qualify_instrument(instrument=spare, taken_at=taken_at)
    except ValidationError:
        return  # the lab refuses unqualified readings: nothing to show
    reading = record_measurement(
        animal=latest.animal,
        weight_g=latest.weight_g,  # the same weight: no welfare alert from the demo's flag
        taken_at=taken_at,
        operator=technician,
        instrument=spare.serial_number,
        entry_method=EntryMethod.GRID,
        client_id="demo-flagged-weight",
    )
    flag_reading(measurement=reading, status=status)
