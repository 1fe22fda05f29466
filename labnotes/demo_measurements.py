"""The demo's measurements: three weeks of Monday/Wednesday/Friday caliper and weight readings
after randomization, written through the same services as the grid.

First in ``labnotes.demo._record_history``. CT26 growth per arm follows a Gompertz-shaped curve
between each animal's staging volume and its volume three weeks later, log-volume
``ln V(t) = ln V0 + (ln Vf - ln V0)·(1 - e^(-b·t)) / (1 - e^(-b·tf))`` with ``b = 0.08``/day:
vehicle tumours double about every 2.5 days at first and slow as they grow (Vf 900–1,800 mm³),
IL-12 and cyclophosphamide alone grow slower (Vf 350–1,100 mm³), the combination holds or
regresses (Vf 40–300 mm³; three animals regress to not palpable, recorded as ``NP``).

Designated animals (filled in when the history is recorded; the allocation is the seeded
randomization's):

- ``ENDPOINT_TAGS``: three vehicle animals whose tumours cross the 2,000 mm³ humane endpoint on
  the last measurement days, each crossing followed by an immediate repeat (as the grid asks).
  ``labnotes.demo_welfare`` euthanizes the first two at the endpoint.
- ``FOUND_DEAD_TAG``: a combination animal with a steady weight loss, found dead by
  ``labnotes.demo_welfare`` after its last reading.

Also: two same-day repeats with a reason, and one weight typed as 2.18 g and corrected to
21.8 g ("typo"). Readings carry the technician, the caliper or balance and ``entered_at`` =
``taken_at`` (entered at the cage: not late). The measure and weigh tasks whose readings exist
are then marked done through the task service (:func:`complete_measured_tasks`), so the Today
page shows no past round as overdue.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models.functions import Coalesce
from django.utils import timezone

from labnotes.models import (
    Animal,
    EntryMethod,
    Measurement,
    MeasurementKind,
    StudyRun,
    Task,
    TaskKind,
    TaskStatus,
)
from labnotes.services.measurements import correct_measurement, record_measurement
from labnotes.services.schedule import complete_task

logger = logging.getLogger(__name__)

DEMO_SEED = 20240611
GROWTH_B_PER_DAY = 0.08
NP_BELOW_MM3 = 12.0
MEASURE_WEEKDAYS = (0, 2, 4)
ROUND_START = dt.time(9, 0)
#: Filled in by :func:`record_demo_measurements` (see the module docstring).
ENDPOINT_TAGS: tuple[str, ...] = ()
FOUND_DEAD_TAG: str | None = None


def _final_volume(arm_label: str, rng: np.random.Generator, index: int) -> float:
    label = arm_label.lower()
    if "+" in label or "combination" in label:
        return 5.0 if index < 3 else float(rng.uniform(40, 300))
    if "il-12" in label:
        return float(rng.uniform(350, 1000))
    if "cyclophosphamide" in label or "cpa" in label:
        return float(rng.uniform(450, 1100))
    return float(rng.uniform(900, 1800))


def _volume(v0: float, vf: float, t: float, tf: float) -> float:
    shape = (1 - math.exp(-GROWTH_B_PER_DAY * t)) / (1 - math.exp(-GROWTH_B_PER_DAY * tf))
    return math.exp(math.log(v0) + (math.log(vf) - math.log(v0)) * shape)


def _axes(volume: float, rng: np.random.Generator) -> tuple[Decimal, Decimal]:
    """Caliper axes for a volume of L·W²/2 with L/W between 1.15 and 1.5, to 0.01 mm."""
    ratio = float(rng.uniform(1.15, 1.5))
    width = (2 * volume / ratio) ** (1 / 3)
    return Decimal(f"{width * ratio:.2f}"), Decimal(f"{width:.2f}")


def _measure_days(
    start: dt.date, today: dt.date, last_time: dt.datetime, zone: Any
) -> list[dt.date]:
    days = []
    day = start
    while day <= today:
        if day.weekday() in MEASURE_WEEKDAYS:
            if dt.datetime.combine(day, ROUND_START, tzinfo=zone) < last_time:
                days.append(day)
        day += dt.timedelta(days=1)
    return days


def record_demo_measurements(run: StudyRun, users: dict[str, Any]) -> None:
    """Three weeks of readings after randomization (see the module docstring)."""
    global ENDPOINT_TAGS, FOUND_DEAD_TAG
    started = time.perf_counter()
    technician = users["tech_measure"]
    lab = run.study.lab
    now = timezone.now()
    today = lab.local_date(now)
    animals = list(
        Animal.objects.filter(run=run, arm__isnull=False)
        .select_related("arm", "run__study__lab")
        .prefetch_related("tumours", "arm__satellites")
        .order_by("tag")
    )
    if not animals:
        return
    randomized = min(a.treatment_start_date or run.day0 for a in animals)
    # Rounds take about an hour; a round still to come today is not recorded.
    days = _measure_days(
        randomized + dt.timedelta(days=1), today, now - dt.timedelta(hours=1), lab.zone
    )
    if not days:
        return
    staged: dict[int, tuple[float, float]] = {}
    for reading in Measurement.objects.filter(
        animal__in=animals, voided_at__isnull=True, taken_at__date__lte=randomized
    ).order_by("taken_at"):
        volume, weight = staged.get(reading.animal_id, (100.0, 20.0))
        if reading.kind == MeasurementKind.CALIPER and reading.volume_mm3:
            volume = float(reading.volume_mm3)
        elif reading.kind == MeasurementKind.WEIGHT and reading.weight_g:
            weight = float(reading.weight_g)
        staged[reading.animal_id] = (volume, weight)

    rng = np.random.default_rng(DEMO_SEED)
    tf = float((days[-1] - randomized).days)
    main = [a for a in animals if not a.is_satellite]
    controls = [a for a in main if a.arm is not None and a.arm.is_control]
    endpoint = controls[:3]
    by_arm: dict[int, int] = {}
    combination = [a for a in main if a.arm is not None and "+" in a.arm.label]
    found_dead = combination[-1] if combination else None
    ENDPOINT_TAGS = tuple(a.tag for a in endpoint)
    FOUND_DEAD_TAG = found_dead.tag if found_dead is not None else None

    plans: dict[int, float] = {}
    for animal in animals:
        assert animal.arm is not None
        index = by_arm.get(animal.arm.pk, 0)
        by_arm[animal.arm.pk] = index + 1
        if animal in endpoint:
            plans[animal.pk] = (2250.0, 2150.0, 2100.0)[endpoint.index(animal)]
        else:
            plans[animal.pk] = _final_volume(animal.arm.label, rng, index)

    repeats_left = 2
    corrected = False
    for day_number, day in enumerate(days):
        t = float((day - randomized).days)
        minute = 0
        for animal in animals:
            assert animal.arm is not None
            satellite_end = min(
                (
                    s.takedown_study_day
                    for s in animal.arm.satellites.all()
                    if s.takedown_study_day is not None
                ),
                default=None,
            )
            if animal.is_satellite and satellite_end is not None:
                if (day - run.day0).days >= satellite_end:
                    continue
            tumour = next(iter(animal.tumours.all()), None)
            if tumour is None:
                continue
            minute += 1
            taken_at = dt.datetime.combine(day, ROUND_START, tzinfo=lab.zone) + dt.timedelta(
                minutes=minute
            )
            v0, w0 = staged.get(animal.pk, (100.0, 20.0))
            exact = animal in endpoint
            volume = _volume(v0, plans[animal.pk], t, tf) * (
                1.0 if exact else float(rng.lognormal(0, 0.07))
            )
            common = {
                "taken_at": taken_at,
                "operator": technician,
                "entry_method": EntryMethod.GRID,
                "entered_at": taken_at,
            }
            if volume < NP_BELOW_MM3:
                first = record_measurement(
                    tumour=tumour, code="NP", instrument="USB caliper 1", **common
                )
            else:
                length, width = _axes(volume, rng)
                first = record_measurement(
                    tumour=tumour,
                    length_mm=length,
                    width_mm=width,
                    instrument="USB caliper 1",
                    **common,
                )
                crossing = exact and first.volume_mm3 is not None and first.volume_mm3 >= 2000
                if crossing or (repeats_left and day_number == 3 and minute in (5, 17)):
                    # The grid asks for a repeat at the limit; two others were re-measured.
                    if not crossing:
                        repeats_left -= 1
                    again_length, again_width = _axes(volume * 1.02, rng)
                    record_measurement(
                        tumour=tumour,
                        length_mm=again_length,
                        width_mm=again_width,
                        instrument="USB caliper 1",
                        repeat_of=first,
                        reason=None if crossing else "re-measured",
                        **{**common, "taken_at": taken_at + dt.timedelta(seconds=40)},
                    )
            # Weight: slow gain, plus the tumour's mass; dips after cyclophosphamide; the
            # designated animal loses weight steadily.
            loss = 0.012 * t if animal == found_dead else 0.0
            dip = 0.05 if "cyclophosphamide" in animal.arm.label.lower() and 2 <= t % 7 <= 4 else 0
            grams = w0 * (1 + 0.004 * t - dip - loss) + volume / 1000 + float(rng.normal(0, 0.12))
            grams = max(grams, 12.0)
            weight_g = Decimal(f"{grams:.2f}")
            weighing = {**common, "taken_at": taken_at + dt.timedelta(seconds=20)}
            if not corrected and day_number == 2 and animal is main[1]:
                typo = record_measurement(
                    animal=animal,
                    weight_g=Decimal(f"{grams / 10:.2f}"),
                    instrument="Balance 2",
                    **weighing,
                )
                correct_measurement(
                    measurement=typo,
                    corrected_by=technician,
                    reason="typo",
                    weight_g=weight_g,
                    entry_method=EntryMethod.GRID,
                    entered_at=taken_at + dt.timedelta(minutes=1),
                )
                corrected = True
            else:
                record_measurement(
                    animal=animal, weight_g=weight_g, instrument="Balance 2", **weighing
                )
    complete_measured_tasks(run, technician)
    logger.info(
        "demo measurements: %d days, %d readings in %.1f s; endpoints %s, found dead %s",
        len(days),
        Measurement.objects.filter(animal__run=run).count(),
        time.perf_counter() - started,
        ", ".join(ENDPOINT_TAGS),
        FOUND_DEAD_TAG,
    )


#: The reading that does a task of each kind.
_READING_OF_TASK = {
    TaskKind.MEASURE: MeasurementKind.CALIPER,
    TaskKind.WEIGH: MeasurementKind.WEIGHT,
}


def complete_measured_tasks(run: StudyRun, technician: Any) -> int:
    """Mark done, through the task service, the due measure and weigh tasks up to today whose
    animal has a valid reading of that kind within the task's window. Returns how many."""
    today = run.study.lab.local_date(timezone.now())
    done = {
        (animal_id, kind, study_day)
        for animal_id, kind, study_day in Measurement.objects.filter(
            animal__run=run, voided_at__isnull=True
        ).values_list("animal_id", "kind", "study_day")
    }
    tasks = (
        Task.objects.filter(run=run, status=TaskStatus.DUE, kind__in=list(_READING_OF_TASK))
        .annotate(task_day=Coalesce("scheduled_date", "nominal_date"))
        .filter(task_day__lte=today)
        .select_related("run__study__lab", "animal")
        .order_by("task_day", "pk")
    )
    completed = 0
    for task in tasks:
        day = (task.task_day - run.day0).days
        kind = _READING_OF_TASK[TaskKind(task.kind)]
        window = range(day - task.window_days, day + task.window_days + 1)
        if any((task.animal_id, kind, d) in done for d in window):
            complete_task(task=task, completed_by=technician)
            completed += 1
    return completed
