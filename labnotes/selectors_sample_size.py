"""The sample-size helper's default SD of log tumour volume, from the lab's past control arms.

The planner's helper (``/sample-size/``) asks for the SD of log volume at the analysis day;
planner never imports labnotes, so :mod:`labnotes.apps` registers :func:`default_sd_log` with
:func:`planner.preview.register_sd_log_source`.

Each control arm of a run counts once, on the analysis day the reports use by default: the last
study day on which every one of its (non-satellite) animals has a counted, positive tumour
volume (the sum over its injected tumours; voided readings, unverified transcriptions and codes
without a value left out, ``NP`` (0 mm³) has no logarithm). Arms with fewer than
:data:`MIN_ANIMALS` such animals are skipped. The arms' SDs of ln(volume) are pooled with their
degrees of freedom. Only studies whose allocation everyone may see — not blinded, or unblinded
at study level — contribute: a blinded study's control-arm spread is a per-arm summary.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q

from labnotes.models import (
    Measurement,
    MeasurementKind,
    StudyRun,
    TumourRole,
    Unblinding,
    UnblindingScope,
)
from labnotes.selectors_measurements import counted_measurements
from labnotes.services.measurements import counted_readings, rules_for_run
from planner.models import Lab

MIN_ANIMALS = 3


@dataclass(frozen=True)
class ControlArmSpread:
    """One past control arm: its SD of ln(volume) among ``n`` animals on ``study_day``."""

    study_code: str
    run_code: str
    arm_code: str
    study_day: int
    n: int
    sd_log: float


def control_arm_spreads(lab: Lab) -> list[ControlArmSpread]:
    """The spread of log tumour volume in each usable control arm of ``lab``'s runs."""
    unblinded = Unblinding.objects.filter(scope=UnblindingScope.STUDY).values("study_id")
    runs = (
        StudyRun.objects.filter(study__lab=lab)
        .filter(Q(study__blinded=False) | Q(study_id__in=unblinded))
        .select_related("study")
        .order_by("study__code", "code")
    )
    spreads: list[ControlArmSpread] = []
    for run in runs:
        readings = counted_measurements(
            Measurement.objects.filter(
                animal__run=run,
                animal__arm__is_control=True,
                animal__is_satellite=False,
                kind=MeasurementKind.CALIPER,
                tumour__role=TumourRole.INJECTED,
            )
        ).select_related("animal__arm")
        arm_of: dict[int, tuple[int, str]] = {}
        for measurement in readings:
            arm = measurement.animal.arm
            assert arm is not None
            arm_of[measurement.animal_id] = (arm.pk, arm.code)
        counted = counted_readings(readings, policy=rules_for_run(run).repeat_policy)
        volume: dict[tuple[int, int], float] = defaultdict(float)
        for (animal_id, _tumour_id, study_day), reading in counted.items():
            volume[(animal_id, study_day)] += float(reading.value)
        by_arm: dict[tuple[int, str], set[int]] = defaultdict(set)
        for animal_id, arm_key in arm_of.items():
            by_arm[arm_key].add(animal_id)
        for (_arm_pk, arm_code), animals in sorted(by_arm.items(), key=lambda item: item[0][1]):
            if len(animals) < MIN_ANIMALS:
                continue
            days = sorted({day for (animal_id, day) in volume if animal_id in animals})
            complete = [day for day in days if all(volume.get((a, day), 0.0) > 0 for a in animals)]
            if not complete:
                continue
            day = complete[-1]
            logs = [math.log(volume[(a, day)]) for a in sorted(animals)]
            spreads.append(
                ControlArmSpread(
                    run.study.code, run.code, arm_code, day, len(logs), statistics.stdev(logs)
                )
            )
    return spreads


def default_sd_log(lab: Lab) -> tuple[float, str] | None:
    """(pooled SD of ln(volume), where it came from) for the sample-size helper, or ``None``
    when the lab has no usable past control arm (the user types the SD in)."""
    spreads = control_arm_spreads(lab)
    if not spreads:
        return None
    degrees = sum(s.n - 1 for s in spreads)
    pooled = math.sqrt(sum((s.n - 1) * s.sd_log**2 for s in spreads) / degrees)
    arms = "; ".join(
        f"{s.study_code} {s.run_code} arm {s.arm_code}: n = {s.n}, day {s.study_day}, "
        f"SD {s.sd_log:.3f}"
        for s in spreads
    )
    count = f"{len(spreads)} past control arm{'s' if len(spreads) > 1 else ''}"
    return (
        round(pooled, 3),
        f"the lab's {count} (pooled SD of ln(volume) on each arm's last day with every animal "
        f"measured; {arms})",
    )
