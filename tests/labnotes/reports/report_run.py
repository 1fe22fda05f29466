"""A randomized run with two weeks of history, written through the services, for report tests.

Four arms of six animals (the builder design: Vehicle control, IL-12, cyclophosphamide and the
sentinel arm ``ARMLBL-7f3a``, whose agent and dose are sentinels too). Day 0 was 30 days ago;
animals were staged on day 9 and randomized on day 10 (treatment start); calipers and weights on
treatment days 0, 3, 5, 7, 10, 12 and 14 (all in the past). Vehicle tumours double in about
three days and reach the 2,000 mm³ endpoint (recorded through the endpoint service), the
sentinel arm regresses. Seeded: the same call gives the same data.

Django is imported inside the functions: this folder's pure tests run with ``-p no:django``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

TREATMENT_DAYS = (0, 3, 5, 7, 10, 12, 14)
RATES = (0.24, 0.15, 0.17, -0.08)
ENDPOINT_MM3 = 2000.0


@dataclass
class ReportRun:
    design: Any
    run: Any
    animals: list[Any]
    treatment_start: dt.date


def _at(lab: Any, day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=lab.zone)


def _caliper(volume: float) -> tuple[float, float]:
    """Length and width (mm, L = 1.3 W) whose L × W² / 2 is about ``volume``."""
    width = (2 * max(volume, 1.0) / 1.3) ** (1 / 3)
    return round(width * 1.3, 2), round(width, 2)


def build_report_run(
    *,
    lab: Any,
    planned_n: int = 6,
    seed: int = 11,
    design: Any = None,
    code: str = "RUN-R",
    days_ago: int = 30,
) -> ReportRun:
    """The run described above; ``design`` given: another run (cohort) of that design."""
    import numpy as np
    from django.utils import timezone

    from labnotes.services.animals import record_implantation, register_animals
    from labnotes.services.endpoints import record_endpoint
    from labnotes.services.measurements import record_measurement
    from labnotes.services.randomization import apply_randomization, preview_randomization
    from labnotes.services.runs import start_study_run
    from tests.labnotes.builders import build_design, tag_rows

    if design is None:
        design = build_design(lab=lab, planned_n=planned_n)
    today = timezone.localdate()
    run = start_study_run(
        study=design.study,
        code=code,
        day0=today - dt.timedelta(days=days_ago),
        started_by=design.director,
    )
    count = 4 * planned_n
    animals = register_animals(
        run=run,
        rows=tag_rows(count),
        registered_by=design.technician,
        received_on=run.day0 - dt.timedelta(days=7),
    )
    rng = np.random.default_rng(seed)
    staging_day = run.day0 + dt.timedelta(days=9)
    tumours: dict[int, Any] = {}
    start_volume: dict[int, float] = {}
    base_weight: dict[int, float] = {}
    for animal in animals:
        implantation = record_implantation(
            animal=animal,
            site="right flank",
            implanted_on=run.day0,
            cells=500_000,
            operator=design.technician,
            viability_percent=95,
        )
        tumours[animal.pk] = implantation.tumour
        start_volume[animal.pk] = float(rng.uniform(85, 115))
        base_weight[animal.pk] = float(rng.uniform(18.5, 21.0))
        length, width = _caliper(start_volume[animal.pk])
        record_measurement(
            tumour=implantation.tumour,
            length_mm=length,
            width_mm=width,
            taken_at=_at(lab, staging_day),
            operator=design.technician,
        )
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=seed)
    treatment_start = run.day0 + dt.timedelta(days=10)
    apply_randomization(batch=batch, applied_by=design.scientist, randomized_on=treatment_start)
    from labnotes.models import Animal

    animals = list(Animal.objects.filter(run=run).select_related("arm").order_by("tag"))
    arm_order = {arm.pk: index for index, arm in enumerate(design.arms)}
    for animal in animals:
        if animal.arm_id is None:
            continue
        rate = RATES[arm_order[animal.arm_id]] + float(rng.normal(0, 0.02))
        for day in TREATMENT_DAYS:
            date = treatment_start + dt.timedelta(days=day)
            volume = start_volume[animal.pk] * math.exp(rate * day + float(rng.normal(0, 0.08)))
            length, width = _caliper(volume)
            record_measurement(
                tumour=tumours[animal.pk],
                length_mm=length,
                width_mm=width,
                taken_at=_at(lab, date),
                operator=design.technician,
            )
            record_measurement(
                animal=animal,
                weight_g=round(base_weight[animal.pk] * (1 + 0.003 * day), 2),
                taken_at=_at(lab, date, 11),
                operator=design.technician,
            )
            if length * width * width / 2 >= ENDPOINT_MM3:
                record_endpoint(
                    animal=animal,
                    cause="tumour_volume",
                    occurred_at=_at(lab, date, 15),
                    recorded_by=design.technician,
                )
                break
    return ReportRun(design, run, animals, treatment_start)


def record_one_more_reading(report_run: ReportRun) -> Any:
    """A new caliper reading today of the first animal still on study (changes the data)."""
    from django.utils import timezone

    from labnotes.models import AnimalStatus
    from labnotes.services.measurements import record_measurement

    animal = next(
        a
        for a in report_run.animals
        if a.arm_id is not None and type(a).objects.get(pk=a.pk).status == AnimalStatus.ON_STUDY
    )
    return record_measurement(
        tumour=animal.tumours.first(),
        length_mm=9.1,
        width_mm=7.0,
        taken_at=timezone.now() - dt.timedelta(minutes=5),
        operator=report_run.design.technician,
    )


def final_report_input(report_run: ReportRun, *, blinded: bool) -> Any:
    """The final report's input for ``report_run``'s run as built now, blinded or not."""
    from django.utils import timezone

    from labnotes.services.report_input import ReportOptions, build_report_input, snapshot_run

    return build_report_input(
        run=report_run.run,
        snapshot=snapshot_run(report_run.run),
        kind="final",
        blinded=blinded,
        options=ReportOptions(),
        generated_by="t",
        generated_at=timezone.now(),
    )
