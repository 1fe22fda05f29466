"""The demo's instruments and device token, written through the services.

A registered caliper and balance of the demo lab, each with its calibration dates, a passed
daily check today (and the balance one yesterday), and a device token for the demo run that may
post caliper readings and weights and read the task list. The token's secret exists only here:
it is printed once, when it is created (``load_demo``'s output), and only its hash is kept.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from labnotes.models import DeviceAction, DeviceToken, Instrument, StudyRun
from labnotes.services.common import lab_today
from labnotes.services.instruments import (
    create_device_token,
    create_instrument,
    record_daily_check,
)

DEMO_TOKEN_NAME = "Demo bridge (caliper and balance, room R101)"  # noqa: S105 (a name)


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
    ]
    for spec in specs:
        instrument = Instrument.objects.filter(lab=lab, serial_number=spec["serial_number"]).first()
        if instrument is None:
            instrument = create_instrument(lab=lab, created_by=director, **spec)
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
