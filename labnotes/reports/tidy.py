"""Tidy CSV files in the analysis command's formats, and the commands that reproduce each table.

The report's numbers are *defined* as what ``python -m labnotes.analysis`` prints for these files
with these command lines: :mod:`labnotes.reports.results` writes the same bytes to a temporary
directory and runs the same commands in-process, and the bundle ships the bytes and the command
lines. A reader without a database therefore gets the report's numbers back exactly.
"""

from __future__ import annotations

import csv
import io
import math
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from labnotes.reports.model import ReportInput

GROWTH_CSV = "growth.csv"
SURVIVAL_CSV = "survival.csv"
BODY_WEIGHT_CSV = "body_weight.csv"
ANIMALS_CSV = "animals.csv"
ASSAYS_CSV = "assays.csv"

PROGRAM = ("python", "-m", "labnotes.analysis")


def csv_number(value: float | None) -> str:
    """A number as the CSV holds it: whole numbers without ``.0``, others round-trip exact.

    ``repr`` of a float reads back to the identical float, so re-running a command on the
    exported file reproduces the report's numbers to the last bit. None is a blank cell.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _arm_order(report: ReportInput) -> dict[str, int]:
    return {name: index for index, name in enumerate(report.arm_names)}


def growth_csv(report: ReportInput) -> str:
    """``animal,group,day,volume_mm3,tumour``, rows in arm order so the engine keeps that order.

    The engine lists groups in order of first appearance; sorting rows by the design's arm order
    makes every table and figure list arms as the study planned them.
    """
    order = _arm_order(report)
    rows = sorted(report.growth, key=lambda r: (order[r.group], r.tumour, r.animal, r.day))
    return _csv_text(
        ("animal", "group", "day", "volume_mm3", "tumour"),
        ((r.animal, r.group, csv_number(r.day), csv_number(r.volume_mm3), r.tumour) for r in rows),
    )


def survival_csv(report: ReportInput) -> str:
    order = _arm_order(report)
    rows = sorted(report.survival, key=lambda r: (order[r.group], r.animal))
    return _csv_text(
        ("animal", "group", "time_days", "event", "cause"),
        ((r.animal, r.group, csv_number(r.time_days), str(r.event), r.cause) for r in rows),
    )


def body_weight_csv(report: ReportInput) -> str:
    order = _arm_order(report)
    rows = sorted(report.body_weight, key=lambda r: (order[r.group], r.animal, r.day))
    return _csv_text(
        ("animal", "group", "day", "weight_g"),
        ((r.animal, r.group, csv_number(r.day), csv_number(r.weight_g)) for r in rows),
    )


def animals_csv(report: ReportInput) -> str:
    order = _arm_order(report)
    rows = sorted(report.animals, key=lambda a: (order[a.arm], a.animal_id))
    header = ("animal", "group", "randomization_study_day", "status", "endpoint_cause", "exit_day")
    pooled = bool(report.pooled_runs)
    return _csv_text(
        (*header, "run") if pooled else header,
        (
            (
                a.animal_id,
                a.arm,
                str(a.randomization_study_day),
                a.status,
                a.endpoint_cause or "",
                csv_number(a.exit_day),
                *((a.run,) if pooled else ()),
            )
            for a in rows
        ),
    )


def assays_csv(report: ReportInput) -> str:
    order = _arm_order(report)
    rows = sorted(
        report.assays,
        key=lambda r: (
            r.assay,
            r.analyte,
            r.tissue,
            r.timing,
            r.study_day if r.study_day is not None else -1,
            order[r.group],
            r.animal,
        ),
    )
    return _csv_text(
        (
            "assay",
            "analyte",
            "tissue",
            "timing",
            "study_day",
            "sample",
            "animal",
            "group",
            "value",
            "unit",
        ),
        (
            (
                r.assay,
                r.analyte,
                r.tissue,
                r.timing,
                "" if r.study_day is None else str(r.study_day),
                r.sample,
                r.animal,
                r.group,
                csv_number(r.value),
                r.unit,
            )
            for r in rows
        ),
    )


def tidy_files(report: ReportInput) -> dict[str, str]:
    """Every tidy CSV the report's data fill (file name → text); empty data make no file."""
    files: dict[str, str] = {}
    if report.growth:
        files[GROWTH_CSV] = growth_csv(report)
    if report.survival:
        files[SURVIVAL_CSV] = survival_csv(report)
    if report.body_weight:
        files[BODY_WEIGHT_CSV] = body_weight_csv(report)
    if report.animals:
        files[ANIMALS_CSV] = animals_csv(report)
    if report.assays:
        files[ASSAYS_CSV] = assays_csv(report)
    return files


@dataclass(frozen=True)
class Command:
    """One analysis run whose JSON output is ``results.json[key]``.

    ``arguments`` follow ``python -m labnotes.analysis`` (analysis name first, ``--input`` with
    a file name relative to the bundle).
    """

    key: str
    title: str
    arguments: tuple[str, ...]

    @property
    def analysis(self) -> str:
        return self.arguments[0]

    @property
    def input_file(self) -> str:
        return self.arguments[self.arguments.index("--input") + 1]

    @property
    def command_line(self) -> str:
        """The shell command, quoted so that arm names with spaces survive copy and paste."""
        return shlex.join((*PROGRAM, *self.arguments))


__all__ = [
    "ANIMALS_CSV",
    "ASSAYS_CSV",
    "BODY_WEIGHT_CSV",
    "GROWTH_CSV",
    "SURVIVAL_CSV",
    "Command",
    "csv_number",
    "tidy_files",
]
