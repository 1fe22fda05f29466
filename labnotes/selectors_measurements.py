"""Which readings count, and the per-arm growth summary built from them.

A reading counts in analyses and reports when it is not voided and, if it was transcribed from a
paper worksheet, that worksheet has been verified by a second person. Every analysis and report
reads measurements through :func:`counted_measurements`.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from labnotes.models import (
    Measurement,
    MeasurementKind,
    StudyRun,
    TranscriptionSheet,
    TranscriptionStatus,
    TumourRole,
)
from planner.selectors import UserLike


def counted_measurements(queryset: QuerySet[Measurement]) -> QuerySet[Measurement]:
    """``queryset`` without voided readings and without readings of transcription sheets that
    no second person has verified yet (awaiting verification or sent back)."""
    return queryset.filter(voided_at__isnull=True).filter(
        Q(transcription__isnull=True) | Q(transcription__status=TranscriptionStatus.VERIFIED)
    )


def list_transcription_sheets_for_user(user: UserLike) -> QuerySet[TranscriptionSheet]:
    """Sheets of runs the user may see. Sheets carry tags and values, never arms."""
    from labnotes.selectors import list_runs_for_user

    return TranscriptionSheet.objects.filter(run__in=list_runs_for_user(user)).select_related(
        "run__study__lab", "scan", "transcribed_by", "verified_by", "returned_by"
    )


def list_stored_files_for_user(user: UserLike) -> QuerySet[Any]:
    """Stored files of the user's labs (a file is reached through its lab)."""
    from labnotes.models import StoredFile
    from planner.selectors import list_labs_for_user

    return StoredFile.objects.filter(lab__in=list_labs_for_user(user)).select_related("stored_by")


@dataclass(frozen=True)
class GrowthPoint:
    """One arm on one study day: n animals measured, mean and SEM of their tumour volume."""

    study_day: int
    n: int
    mean_volume_mm3: float
    sem_volume_mm3: float | None


@dataclass(frozen=True)
class ArmGrowth:
    arm_code: str
    arm_label: str
    points: tuple[GrowthPoint, ...]


def mean_and_sem(values: list[float]) -> tuple[float, float | None]:
    """Arithmetic mean and standard error of the mean, SEM = s / √n with s the sample standard
    deviation (n - 1 in the denominator, as ``scipy.stats.sem`` and R's ``sd``). SEM is ``None``
    for a single value. ``values`` must not be empty."""
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    variance = math.fsum((value - mean) ** 2 for value in values) / (n - 1)
    return mean, math.sqrt(variance) / math.sqrt(n)


def growth_summary(run: StudyRun, user: UserLike) -> list[ArmGrowth] | None:
    """Mean ± SEM tumour volume (mm³) per arm and study day, from counted readings only.

    An animal's volume on a day is the sum over its injected tumours (bilateral models have two)
    of each tumour's last counted reading that day. Animals without an arm are left out.
    ``None`` for a reader who may not see the allocation: a blinded member gets no per-arm
    efficacy summary at all, not even one labelled with codes.
    """
    from labnotes.selectors import blinding_for

    if not blinding_for(user, run.study).sees_allocation:
        return None
    rows = (
        counted_measurements(
            Measurement.objects.filter(
                animal__run=run,
                animal__arm__isnull=False,
                kind=MeasurementKind.CALIPER,
                tumour__role=TumourRole.INJECTED,
            )
        )
        .order_by("tumour_id", "study_day", "taken_at", "pk")
        .values_list("animal__arm_id", "animal_id", "tumour_id", "study_day", "volume_mm3")
    )
    last_by_tumour_day: dict[tuple[int, int], tuple[int, int, Decimal | None]] = {}
    for arm_id, animal_id, tumour_id, study_day, volume in rows:
        last_by_tumour_day[(tumour_id, study_day)] = (arm_id, animal_id, volume)
    per_animal: dict[tuple[int, int, int], float] = defaultdict(float)
    for (_tumour_id, study_day), (arm_id, animal_id, volume) in last_by_tumour_day.items():
        if volume is None:  # a coded reading without a volume (NM, ND) counts for nothing
            continue
        per_animal[(arm_id, study_day, animal_id)] += float(volume)
    by_arm_day: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (arm_id, study_day, _animal_id), animal_volume in per_animal.items():
        by_arm_day[arm_id][study_day].append(animal_volume)
    summaries = []
    for arm in run.study.arms.order_by("code"):
        days = by_arm_day.get(arm.pk, {})
        points = []
        for study_day in sorted(days):
            mean, sem = mean_and_sem(days[study_day])
            points.append(GrowthPoint(study_day, len(days[study_day]), mean, sem))
        summaries.append(ArmGrowth(arm.code, arm.label, tuple(points)))
    return summaries


@dataclass(frozen=True)
class GrowthTable:
    """The growth summary laid out for a page: one row per study day, one cell per arm."""

    arms: tuple[ArmGrowth, ...]
    rows: tuple[tuple[int, tuple[GrowthPoint | None, ...]], ...]


def growth_table(summaries: list[ArmGrowth]) -> GrowthTable:
    days = sorted({point.study_day for arm in summaries for point in arm.points})
    lookup = {(arm.arm_code, point.study_day): point for arm in summaries for point in arm.points}
    rows = tuple((day, tuple(lookup.get((arm.arm_code, day)) for arm in summaries)) for day in days)
    return GrowthTable(tuple(summaries), rows)


@dataclass(frozen=True)
class SheetLine:
    """One animal on a worksheet: its tumours (a line each) and its weight, in sheet order."""

    animal: Any
    tumours: tuple[Any, ...]
    cage_label: str


def _natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    # Numbers compare as numbers (C2 before C10), as on the printed worksheet.
    parts = re.split(r"(\d+)", text or "")
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold()) for part in parts if part
    )


def transcription_lines(
    user: UserLike, run: StudyRun, sheet: TranscriptionSheet | None = None
) -> list[SheetLine]:
    """The worksheet's lines in the printed sheet's order (rack, cage, tag, numbers as numbers):
    animals on study, plus any animal with a reading on ``sheet``. No arms: a sheet is typed by
    whoever holds the paper, blinded or not."""
    from labnotes.models import AnimalStatus
    from labnotes.selectors import list_animals_for_user

    with_readings: set[int] = set()
    if sheet is not None:
        with_readings = set(sheet.measurements.values_list("animal_id", flat=True))
    animals = [
        animal
        for animal in list_animals_for_user(user)
        .filter(run=run)
        .prefetch_related("tumours")
        .select_related(None)
        if animal.status == AnimalStatus.ON_STUDY or animal.pk in with_readings
    ]
    # cage_rack and cage_label are annotations of list_animals_for_user.
    animals.sort(
        key=lambda a: (
            _natural_key(getattr(a, "cage_rack", "") or ""),
            _natural_key(getattr(a, "cage_label", "") or ""),
            _natural_key(a.tag),
        )
    )
    return [
        SheetLine(animal, tuple(animal.tumours.all()), getattr(animal, "cage_label", "") or "")
        for animal in animals
    ]
