"""Reads of the measurement grid: one row per tumour (and a weight per animal) for a run and
day, with what was saved that day (value and client id per cell) and the previous reading.

A fixed number of queries whatever the number of animals (animals with their cage and arm,
tumours, the day's readings, the day's caliper halves, the latest earlier values — voided
readings and NM / ND codes never hide the last real value). Arms
appear as codes to blinded readers (``arm`` is the code or, when unblinded, the label).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from django.db.models import OuterRef, Q, Subquery

from labnotes.capture.parsing import plain_number
from labnotes.models import (
    AnimalStatus,
    Instrument,
    InstrumentCheck,
    InstrumentIssue,
    InstrumentKind,
    InstrumentSettings,
    Measurement,
    MeasurementKind,
    PendingAxis,
    PendingAxisStatus,
    ReadingFlag,
    StudyRun,
    Tumour,
)
from labnotes.selectors import Blinding, list_run_animals_for_user
from planner.selectors import UserLike

Sort = Literal["cage", "tag"]


@dataclass
class GridCellValue:
    """What a cell shows when the page opens: the saved text and the reading's client id."""

    text: str = ""
    client_id: str = ""
    #: Why the reading came from an unqualified instrument ("" when it did not).
    flag: str = ""


@dataclass
class GridTumourRow:
    tumour: Tumour
    label: str
    cells: dict[str, GridCellValue] = field(default_factory=dict)
    volume_mm3: str = ""
    previous: str = ""


@dataclass
class GridAnimal:
    animal_id: int
    tag: str
    cage: str
    arm: str
    rows: list[GridTumourRow]
    weight: GridCellValue
    previous_weight: str = ""


def _typed(measurement: Measurement, axis: str) -> Decimal | None:
    length, width = measurement.length_mm, measurement.width_mm
    if measurement.axes_swapped:
        length, width = width, length
    return {"length": length, "width": width, "height": measurement.height_mm}[axis]


def _code_text(measurement: Measurement) -> str:
    return f"{measurement.reading_code} {measurement.code_reason}".strip()


def grid_animals(
    run: StudyRun,
    user: UserLike,
    *,
    day: dt.date,
    axes: tuple[str, ...],
    blinding: Blinding,
    sort: Sort = "cage",
) -> list[GridAnimal]:
    """The grid's animals for ``day`` (lab-local date): animals on study, plus any with a
    reading that day, in cage order (room, rack, position, cage, tag) or tag order."""
    study_day = (day - run.day0).days
    measured = Measurement.objects.filter(animal__run=run, study_day=study_day)
    animals = list(
        list_run_animals_for_user(user, run)
        .select_related("arm")
        .filter(Q(status=AnimalStatus.ON_STUDY) | Q(pk__in=measured.values("animal_id")))
    )
    if sort == "tag":
        animals.sort(key=lambda a: a.tag)
    else:
        animals.sort(
            key=lambda a: (
                getattr(a, "cage_room", None) or "",
                getattr(a, "cage_rack", None) or "",
                getattr(a, "cage_position", None) or "",
                getattr(a, "cage_label", None) or "",
                a.tag,
            )
        )
    ids = [animal.pk for animal in animals]
    tumours: dict[int, list[Tumour]] = defaultdict(list)
    for tumour in Tumour.objects.filter(animal_id__in=ids).order_by("pk"):
        tumours[tumour.animal_id].append(tumour)
    today = list(
        Measurement.objects.filter(
            animal_id__in=ids, study_day=study_day, voided_at__isnull=True
        ).order_by("taken_at", "pk")
    )
    flags = {
        flag.measurement_id: flag_text(flag)
        for flag in ReadingFlag.objects.filter(
            measurement_id__in=[reading.pk for reading in today]
        ).select_related("instrument")
    }
    halves = list(
        PendingAxis.objects.filter(animal_id__in=ids, study_day=study_day)
        .exclude(status=PendingAxisStatus.REPLACED)
        .order_by("pk")
    )
    # "Previous" is the latest earlier *value*: a voided reading, or an NM / ND code (no value)
    # typed after it, does not hide it. NP counts (a volume of 0).
    earlier = (
        Measurement.objects.filter(
            animal_id__in=ids, study_day__lt=study_day, voided_at__isnull=True
        )
        .filter(Q(volume_mm3__isnull=False) | Q(weight_g__isnull=False))
        .order_by("animal_id", "tumour_id", "kind", "-taken_at", "-pk")
        .distinct("animal_id", "tumour_id", "kind")
        .only(
            "animal_id",
            "tumour_id",
            "kind",
            "volume_mm3",
            "weight_g",
            "reading_code",
            "code_reason",
            "study_day",
            "taken_at",
        )
    )
    latest_caliper: dict[int, Measurement] = {}
    latest_weight: dict[int, Measurement] = {}
    for reading in today:  # oldest first: the last one wins
        if reading.kind == MeasurementKind.CALIPER and reading.tumour_id is not None:
            latest_caliper[reading.tumour_id] = reading
        elif reading.kind == MeasurementKind.WEIGHT:
            latest_weight[reading.animal_id] = reading
    halves_of: dict[int, list[PendingAxis]] = defaultdict(list)
    open_halves: dict[int, list[PendingAxis]] = defaultdict(list)
    for half in halves:
        if half.measurement_id is not None:
            halves_of[half.measurement_id].append(half)
        elif half.status == PendingAxisStatus.OPEN:
            open_halves[half.tumour_id].append(half)
    previous: dict[tuple[int, int | None], str] = {}
    for reading in earlier:
        if reading.reading_code:
            text = _code_text(reading)  # NP: not palpable, volume 0
        elif reading.kind == MeasurementKind.CALIPER:
            text = f"{plain_number(Decimal(reading.volume_mm3 or 0))} mm³"
        else:
            text = f"{plain_number(Decimal(reading.weight_g or 0))} g"
        previous[(reading.animal_id, reading.tumour_id)] = f"{text} (day {reading.study_day})"

    result = []
    for animal in animals:
        own = tumours.get(animal.pk, [])
        rows = []
        for tumour in own:
            label = animal.tag if len(own) == 1 else f"{animal.tag} {tumour.site}"
            row = GridTumourRow(
                tumour=tumour, label=label, previous=previous.get((animal.pk, tumour.pk), "")
            )
            current = latest_caliper.get(tumour.pk)
            for axis in axes:
                value = GridCellValue()
                if current is not None:
                    if current.reading_code:
                        value = GridCellValue(_code_text(current), current.client_id)
                    else:
                        number = _typed(current, axis)
                        by_axis = {h.axis: h for h in halves_of.get(current.pk, [])}
                        client_id = (
                            by_axis[axis].client_id if axis in by_axis else current.client_id
                        )
                        value = GridCellValue(
                            plain_number(number) if number is not None else "",
                            client_id,
                            flags.get(current.pk, ""),
                        )
                for half in open_halves.get(tumour.pk, []):
                    if half.axis == axis:
                        value = GridCellValue(plain_number(half.value_mm), half.client_id)
                row.cells[axis] = value
            if current is not None and current.volume_mm3 is not None:
                row.volume_mm3 = plain_number(current.volume_mm3)
            rows.append(row)
        weight = latest_weight.get(animal.pk)
        weight_value = GridCellValue()
        if weight is not None:
            weight_value = GridCellValue(
                _code_text(weight)
                if weight.reading_code
                else plain_number(Decimal(weight.weight_g or 0)),
                weight.client_id,
                flags.get(weight.pk, ""),
            )
        arm = "—"
        if animal.arm_id is not None and animal.arm is not None:
            arm = animal.arm.label if blinding.sees_allocation else animal.arm.code
        result.append(
            GridAnimal(
                animal_id=animal.pk,
                tag=animal.tag,
                cage=getattr(animal, "cage_label", None) or "—",
                arm=arm,
                rows=rows,
                weight=weight_value,
                previous_weight=previous.get((animal.pk, None), ""),
            )
        )
    return result


def flag_text(flag: ReadingFlag) -> str:
    """A stored reading flag in words: the instrument and why it was not qualified."""
    reasons = "; ".join(str(InstrumentIssue(issue).label).lower() for issue in flag.issues)
    return f"Flagged: {flag.instrument.name}: {reasons}."


#: The instrument kinds the grid can choose for each kind of cell.
GRID_INSTRUMENT_KINDS = {"caliper": InstrumentKind.CALIPER, "balance": InstrumentKind.BALANCE}


def grid_instrument_choices(lab_id: int) -> dict[str, list[Instrument]]:
    """The lab's calipers and balances in service (not retired), by kind, for the grid's
    "instrument in use" selector."""
    found: dict[str, list[Instrument]] = {kind: [] for kind in GRID_INSTRUMENT_KINDS}
    for instrument in Instrument.objects.filter(
        lab_id=lab_id, kind__in=GRID_INSTRUMENT_KINDS.values(), retired_at__isnull=True
    ).order_by("name", "pk"):
        found[instrument.kind].append(instrument)
    return found


def grid_instruments_in_use(lab_id: int, chosen: dict[str, int]) -> dict[str, Instrument]:
    """The instruments chosen for the grid (``{"caliper": id, "balance": id}`` from the
    session) that are still the lab's instruments of that kind, with their lab (one query).
    A retired one stays, so that its readings are refused with the reason."""
    ids = [pk for pk in chosen.values() if isinstance(pk, int)]
    if not ids:
        return {}
    # With what qualifying a reading needs (the latest passed daily check, the lab's rule for
    # unqualified readings), so that a cell saved with an instrument stays within its budget.
    checks = InstrumentCheck.objects.filter(instrument=OuterRef("pk"), passed=True)
    rule = InstrumentSettings.objects.filter(lab_id=OuterRef("lab_id"))
    by_pk = {
        instrument.pk: instrument
        for instrument in Instrument.objects.filter(lab_id=lab_id, pk__in=ids)
        .select_related("lab")
        .annotate(
            last_passed_check_on=Subquery(checks.order_by("-checked_on").values("checked_on")[:1]),
            lab_unqualified_readings=Subquery(rule.values("unqualified_readings")[:1]),
        )
    }
    result: dict[str, Instrument] = {}
    for kind, pk in chosen.items():
        instrument = by_pk.get(pk) if isinstance(pk, int) else None
        if instrument is not None and GRID_INSTRUMENT_KINDS.get(kind) == instrument.kind:
            result[kind] = instrument
    return result
