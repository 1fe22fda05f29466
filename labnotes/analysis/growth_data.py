"""Tumour growth measurements: reading the growth CSV format into an animal x day matrix.

The growth and synergy analyses share this module. A study is held as one matrix of volumes
(animals x distinct days, NaN where an animal was not measured), which keeps every per-day
statistic a vectorised column operation and makes the result independent of the row order of the
file: animals are kept in natural order of their ids ("2" before "10"), groups in the order in
which they first appear in the file (so that reports list arms as the study planned them).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.tabular import (
    Table,
    distinct_in_order,
    parse_float,
    read_table,
    require_text,
)

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

TUMOUR_ROLES = ("injected", "contralateral")


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders embedded numbers numerically: ``M2`` before ``M10``."""
    parts = re.split(r"(\d+)", text)
    return tuple(
        (1, int(part), "") if part.isdigit() else (0, 0, part.lower()) for part in parts if part
    )


def volume_from_calipers_mm3(length_mm: FloatArray, width_mm: FloatArray) -> FloatArray:
    """Ellipsoid tumour volume from two caliper axes, in mm³.

    Formula: V = longer x shorter² / 2 (the modified ellipsoid formula, Tomayko & Reynolds 1989;
    Euhus et al. 1986), taking whichever of the two columns holds the longer axis, so a swapped
    length/width pair gives the same volume. NaN in either axis gives NaN. Negative axes are the
    caller's error (the CSV reader rejects them before this point).
    """
    length = np.asarray(length_mm, dtype=np.float64)
    width = np.asarray(width_mm, dtype=np.float64)
    longer = np.maximum(length, width)
    shorter = np.minimum(length, width)
    result: FloatArray = longer * shorter * shorter / 2.0
    return result


@dataclass(frozen=True, eq=False)
class GrowthData:
    """One study's tumour volumes as an animal x day matrix.

    ``volume_mm3[i, j]`` is animal ``animals[i]`` on day ``days[j]``; NaN means no measurement.
    ``animal_group[i]`` is that animal's group. ``cages`` (when the file has a ``cage`` column)
    gives each animal's cage. ``line_of_first_row`` maps an animal to the file line where it first
    appears, so that later checks can still point at the file.
    """

    animals: tuple[str, ...]
    animal_group: tuple[str, ...]
    groups: tuple[str, ...]
    days: FloatArray
    volume_mm3: FloatArray
    cages: tuple[str, ...] | None = None

    def members(self, group: str) -> IndexArray:
        """Row indices (into ``animals``) of the animals of ``group``, in natural id order."""
        return np.flatnonzero(np.asarray(self.animal_group) == group).astype(np.intp)

    def day_index(self, day: float) -> int:
        """Column of ``day`` in the matrix; AnalysisInputError if nobody was measured that day."""
        hits = np.flatnonzero(self.days == day)
        if hits.size == 0:
            listed = ", ".join(format_day(d) for d in self.days)
            raise AnalysisInputError(
                f"day {format_day(day)} has no measurement; the measured days are {listed}",
                column="day",
            )
        return int(hits[0])

    def require_group(self, group: str, option: str) -> None:
        if group not in self.groups:
            raise AnalysisInputError(
                f"{option} names group '{group}', which is not in the file "
                f"(groups: {', '.join(self.groups)})",
                column="group",
            )

    def restrict_days(self, last_day: float) -> GrowthData:
        """The same study with the measurements after ``last_day`` removed."""
        keep = self.days <= last_day
        return GrowthData(
            animals=self.animals,
            animal_group=self.animal_group,
            groups=self.groups,
            days=self.days[keep],
            volume_mm3=self.volume_mm3[:, keep],
            cages=self.cages,
        )


def format_day(day: float) -> str:
    return str(int(day)) if float(day).is_integer() else repr(float(day))


def json_day(day: float) -> int | float:
    """A day for JSON output: an integer when it is whole (as study days nearly always are)."""
    return int(day) if float(day).is_integer() else float(day)


def build_growth_data(
    animals: Sequence[str],
    groups: Sequence[str],
    days: Sequence[float] | FloatArray,
    volumes_mm3: Sequence[float] | FloatArray,
    *,
    cages: Sequence[str] | None = None,
    lines: Sequence[int] | None = None,
) -> GrowthData:
    """Assemble :class:`GrowthData` from parallel per-measurement sequences.

    Checks (each an :class:`AnalysisInputError` naming the file line when ``lines`` is given):
    volumes must be finite and not negative (NaN is allowed and means "not measured"), an animal
    must stay in one group (and one cage), and an animal may have one measurement per day.
    Group order is the order of first appearance; animals are sorted by natural id order.
    """
    n = len(animals)
    if not (len(groups) == len(days) == len(volumes_mm3) == n):
        raise ValueError("animals, groups, days and volumes must have the same length")
    if n == 0:
        raise AnalysisInputError("the input has no measurements")
    line_of = list(lines) if lines is not None else [i + 2 for i in range(n)]
    day_values = np.asarray(days, dtype=np.float64)
    volume_values = np.asarray(volumes_mm3, dtype=np.float64)
    group_of: dict[str, str] = {}
    cage_of: dict[str, str] = {}
    for i in range(n):
        animal, group = animals[i], groups[i]
        known = group_of.setdefault(animal, group)
        if known != group:
            raise AnalysisInputError(
                f"animal '{animal}' is in group '{known}' on an earlier line and in '{group}' here",
                row=line_of[i],
                column="group",
            )
        if cages is not None:
            known_cage = cage_of.setdefault(animal, cages[i])
            if known_cage != cages[i]:
                raise AnalysisInputError(
                    f"animal '{animal}' is in cage '{known_cage}' on an earlier line and in "
                    f"'{cages[i]}' here",
                    row=line_of[i],
                    column="cage",
                )
        if not math.isfinite(day_values[i]):
            raise AnalysisInputError(
                "the day must be a finite number", row=line_of[i], column="day"
            )
        volume = volume_values[i]
        if math.isinf(volume) or volume < 0:
            raise AnalysisInputError(
                f"a tumour volume cannot be negative or infinite ({volume})",
                row=line_of[i],
                column="volume_mm3",
            )
    ordered_animals = sorted(group_of, key=natural_key)
    animal_index = {animal: i for i, animal in enumerate(ordered_animals)}
    distinct_days = np.unique(day_values)
    matrix = np.full((len(ordered_animals), distinct_days.size), np.nan)
    seen = np.zeros(matrix.shape, dtype=bool)
    columns = np.searchsorted(distinct_days, day_values)
    for i in range(n):
        row, col = animal_index[animals[i]], int(columns[i])
        if seen[row, col]:
            raise AnalysisInputError(
                f"animal '{animals[i]}' has a second measurement on day "
                f"{format_day(day_values[i])}",
                row=line_of[i],
                column="day",
            )
        seen[row, col] = True
        matrix[row, col] = volume_values[i]
    # A day on which every row was blank carries no information; drop it so "measured days" are
    # the days with at least one volume.
    measured = ~np.all(np.isnan(matrix), axis=0)
    return GrowthData(
        animals=tuple(ordered_animals),
        animal_group=tuple(group_of[a] for a in ordered_animals),
        groups=tuple(distinct_in_order(groups)),
        days=distinct_days[measured],
        volume_mm3=matrix[:, measured],
        cages=tuple(cage_of[a] for a in ordered_animals) if cages is not None else None,
    )


def read_growth_csv(source: str | Path | io.TextIOBase, *, tumour: str | None = None) -> GrowthData:
    """Read a growth CSV: ``animal,group,day,volume_mm3`` or ``...,length_mm,width_mm``.

    Optional columns: ``tumour`` (``injected`` or ``contralateral``; choose one with ``tumour``,
    required when the file holds both) and ``cage``. A blank or ``NA`` volume (or axis) means the
    animal was not measured that day. Volume 0 is a measured, non-palpable tumour. Volumes from
    calipers use :func:`volume_from_calipers_mm3`. Errors name the file line and column.
    """
    table = read_table(source, required=("animal", "group", "day"))
    has_volume = table.has("volume_mm3")
    has_calipers = table.has("length_mm") and table.has("width_mm")
    if not has_volume and not has_calipers:
        raise AnalysisInputError(
            "the file needs a 'volume_mm3' column or both 'length_mm' and 'width_mm'", row=1
        )
    indices = _select_tumour(table, tumour)
    animals: list[str] = []
    groups: list[str] = []
    days: list[float] = []
    volumes: list[float] = []
    cages: list[str] | None = [] if table.has("cage") else None
    lines: list[int] = []
    for i in indices:
        animals.append(require_text(table, i, "animal"))
        groups.append(require_text(table, i, "group"))
        days.append(parse_float(table, i, "day"))
        if has_volume:
            volume = parse_float(table, i, "volume_mm3", allow_blank=True)
            _check_not_negative(table, i, "volume_mm3", volume)
        else:
            length = parse_float(table, i, "length_mm", allow_blank=True)
            width = parse_float(table, i, "width_mm", allow_blank=True)
            _check_not_negative(table, i, "length_mm", length)
            _check_not_negative(table, i, "width_mm", width)
            volume = float(volume_from_calipers_mm3(np.array([length]), np.array([width]))[0])
        volumes.append(volume)
        if cages is not None:
            cages.append(require_text(table, i, "cage"))
        lines.append(table.line_numbers[i])
    if not animals:
        raise AnalysisInputError(
            "the input has no measurements" + (f" for tumour '{tumour}'" if tumour else "")
        )
    return build_growth_data(animals, groups, days, volumes, cages=cages, lines=lines)


def _check_not_negative(table: Table, index: int, column: str, value: float) -> None:
    if value < 0:
        raise AnalysisInputError(
            f"'{table.rows[index][column]}' is negative; a tumour size cannot be",
            row=table.line_numbers[index],
            column=column,
        )


def _select_tumour(table: Table, tumour: str | None) -> list[int]:
    all_rows = list(range(len(table.rows)))
    if tumour is not None and tumour not in TUMOUR_ROLES:
        raise AnalysisInputError(
            f"--tumour must be one of {', '.join(TUMOUR_ROLES)}, not '{tumour}'"
        )
    if not table.has("tumour"):
        if tumour is not None:
            raise AnalysisInputError(
                f"--tumour {tumour} was given but the file has no 'tumour' column", row=1
            )
        return all_rows
    roles = [table.rows[i]["tumour"].lower() for i in all_rows]
    for i, role in enumerate(roles):
        if role not in TUMOUR_ROLES:
            raise AnalysisInputError(
                f"'{table.rows[i]['tumour']}' is not a tumour role "
                f"(expected {' or '.join(TUMOUR_ROLES)})",
                row=table.line_numbers[i],
                column="tumour",
            )
    if tumour is None:
        present = distinct_in_order(roles)
        if len(present) > 1:
            raise AnalysisInputError(
                "the file holds several tumour roles "
                f"({', '.join(present)}): choose one with --tumour",
                column="tumour",
            )
        return all_rows
    return [i for i, role in zip(all_rows, roles, strict=True) if role == tumour]
