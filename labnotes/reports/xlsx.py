"""The Excel workbook: raw data sheets plus one sheet per measure in GraphPad Prism paste layouts.

Prism layouts (what a Prism user selects and pastes into a new data table):

* **XY** (growth, body weight): column A holds X (days since treatment start), then one block of
  Y replicate columns per arm, one column per animal. Row 1 names the arm over its block, row 2
  the animals, data from row 3; an empty cell is a missing measurement.
* **Grouped/column** (volumes on the analysis day, best % change): one column per arm, animals
  down the rows (row 1 the arm names).
* **Survival**: X = time in days, then one Y column per arm holding 1 (event) or 0 (censored)
  on that animal's row, Prism's survival table format.

The workbook is deterministic for the same input (document dates are set to the report's
generation time), so its SHA-256 identifies its content.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from labnotes.reports.model import ReportInput
from labnotes.reports.results import ReportResults

BOLD = Font(bold=True)


def _sheet(book: Workbook, title: str) -> Worksheet:
    sheet = book.create_sheet(title=title[:31])
    return sheet


def _rows(sheet: Worksheet, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = BOLD
    for row in rows:
        sheet.append(list(row))
    sheet.freeze_panes = "A2"


def _value(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def prism_xy(
    sheet: Worksheet,
    arms: Sequence[str],
    values: dict[str, dict[str, dict[float, float | None]]],
    x_title: str,
) -> None:
    """XY layout: days down column A, arms as blocks of animal columns (row 1 arm, row 2 animal)."""
    days = sorted(
        {d for by_animal in values.values() for series in by_animal.values() for d in series}
    )
    sheet.cell(row=1, column=1, value=x_title).font = BOLD
    sheet.cell(row=2, column=1, value="day").font = BOLD
    column = 2
    for arm in arms:
        animals = values.get(arm, {})
        if not animals:
            continue
        sheet.cell(row=1, column=column, value=arm).font = BOLD
        for offset, (animal, series) in enumerate(animals.items()):
            sheet.cell(row=2, column=column + offset, value=animal).font = BOLD
            for r, day in enumerate(days, start=3):
                v = series.get(day)
                if v is not None:
                    sheet.cell(row=r, column=column + offset, value=v)
        column += len(animals)
    for r, day in enumerate(days, start=3):
        sheet.cell(row=r, column=1, value=int(day) if float(day).is_integer() else day)
    sheet.freeze_panes = "B3"


def prism_grouped(sheet: Worksheet, arms: Sequence[str], values: dict[str, list[float]]) -> None:
    """Column layout: one column per arm (row 1 names), animals' values down the rows."""
    present = [a for a in arms if a in values]
    for c, arm in enumerate(present, start=1):
        sheet.cell(row=1, column=c, value=arm).font = BOLD
        for r, v in enumerate(values[arm], start=2):
            sheet.cell(row=r, column=c, value=v)
    sheet.freeze_panes = "A2"


def _assay_comparisons(book: Workbook, results: ReportResults) -> None:
    """One row per assay block, study day and arm: descriptive values and tests vs control."""
    rows: list[Sequence[Any]] = []
    for block in results.json.get("assays", []):
        for day_block in block["same_day"]:
            tests = {c["group"]: c for c in day_block["comparisons"]}
            for group in day_block["groups"]:
                test = tests.get(group["group"], {})
                rows.append(
                    (
                        block["assay"],
                        block["analyte"],
                        block["tissue"],
                        block["unit"],
                        day_block["study_day"],
                        group["group"],
                        group["n"],
                        group["mean"],
                        group["sd"],
                        group["median"],
                        test.get("welch_p"),
                        test.get("welch_p_holm"),
                        test.get("mann_whitney_p"),
                        test.get("mann_whitney_p_holm"),
                    )
                )
    _rows(
        _sheet(book, "Assay comparisons"),
        [
            "assay",
            "analyte",
            "tissue",
            "unit",
            "study_day",
            "arm",
            "n",
            "mean",
            "sd",
            "median",
            "welch_p_vs_control",
            "welch_p_holm",
            "mann_whitney_p_vs_control",
            "mann_whitney_p_holm",
        ],
        rows,
    )


def _welfare_sheets(book: Workbook, report: ReportInput, results: ReportResults) -> None:
    """Dosing compliance and welfare per arm, and the necropsy listing (one row per animal)."""
    dosing = results.json.get("dosing")
    if dosing:
        _rows(
            _sheet(book, "Dosing compliance"),
            [
                "arm",
                "animals",
                "doses_recorded",
                "given",
                "missed",
                "compliance_percent",
                "deviations",
                "holds",
                "reductions",
                "skips",
            ],
            (
                (
                    d["group"],
                    d["animals"],
                    d["doses_recorded"],
                    d["given"],
                    d["missed"],
                    d["compliance_percent"],
                    "; ".join(f"{k}: {n}" for k, n in d["deviations"].items()),
                    d["holds"],
                    d["reductions"],
                    d["skips"],
                )
                for d in dosing
            ),
        )
    welfare = results.json.get("welfare")
    if welfare:
        _rows(
            _sheet(book, "Welfare"),
            [
                "arm",
                "endpoints_by_cause",
                "found_dead",
                "episodes_closed",
                "median_hours_to_euthanasia",
                "max_hours_to_euthanasia",
                "over_24_hours",
            ],
            (
                (
                    w["group"],
                    "; ".join(f"{k}: {n}" for k, n in w["endpoints_by_cause"].items()),
                    w["found_dead"],
                    w["episodes_closed"],
                    w["median_hours_to_euthanasia"],
                    w["max_hours_to_euthanasia"],
                    w["over_24_hours"],
                )
                for w in welfare
            ),
        )
    if report.necropsy:
        _rows(
            _sheet(book, "Necropsy data"),
            [
                "animal",
                "arm",
                "study_day",
                "terminal_body_weight_g",
                "tumour_weight_mg",
                "tumours_weighed",
            ],
            (
                (
                    r.animal,
                    r.group,
                    r.study_day,
                    r.terminal_body_weight_g,
                    r.tumour_weight_mg,
                    r.tumours_weighed,
                )
                for r in report.necropsy
            ),
        )


def render_xlsx(report: ReportInput, results: ReportResults) -> bytes:
    """All data sheets and Prism layouts as XLSX bytes."""
    book = Workbook()
    info = book.active
    assert info is not None
    info.title = "Report"
    _rows(
        info,
        ["Field", "Value"],
        [
            ("Study", f"{report.study_code} — {report.study_title}"),
            ("Run", report.run_code),
            ("Kind", report.kind + (" (exploratory)" if report.exploratory else "")),
            ("Blinded", "yes (arm codes)" if report.blinded else "no"),
            ("Data hash", report.data_hash),
            ("Generated by", report.generated_by),
            ("Generated at", report.generated_at.isoformat()),
            *[("Difference from plan", d) for d in report.plan_differences],
            ("Days", "days since each animal's treatment start (its randomization day)"),
        ],
    )
    arms = report.arm_names
    if report.animals:
        _rows(
            _sheet(book, "Animals"),
            ["animal", "arm", "randomization_study_day", "status", "endpoint_cause", "exit_day"],
            (
                (
                    a.animal_id,
                    a.arm,
                    a.randomization_study_day,
                    a.status,
                    a.endpoint_cause,
                    a.exit_day,
                )
                for a in report.animals
            ),
        )
    if report.growth:
        _rows(
            _sheet(book, "Growth data"),
            ["animal", "arm", "day", "volume_mm3", "tumour"],
            ((r.animal, r.group, r.day, r.volume_mm3, r.tumour) for r in report.growth),
        )
        for role, title in (
            ("injected", "Prism volume XY"),
            ("contralateral", "Prism contralateral XY"),
        ):
            values: dict[str, dict[str, dict[float, float | None]]] = {}
            for r in report.growth:
                if r.tumour == role:
                    values.setdefault(r.group, {}).setdefault(r.animal, {})[r.day] = r.volume_mm3
            if values:
                prism_xy(_sheet(book, title), arms, values, "Tumour volume (mm³)")
    if results.growth is not None:
        data = results.growth.data
        column = data.day_index(results.growth.analysis_day)
        at_day = {
            g: [float(v) for v in data.volume_mm3[data.members(g), column] if math.isfinite(v)]
            for g in data.groups
        }
        day_label = f"{results.growth.analysis_day:g}"
        prism_grouped(_sheet(book, f"Prism volume day {day_label}"), arms, at_day)
        best: dict[str, list[float]] = {}
        for change in results.growth.waterfall:
            best.setdefault(change.group, []).append(change.best_percent_change)
        prism_grouped(_sheet(book, "Prism best % change"), arms, best)
    if report.body_weight:
        _rows(
            _sheet(book, "Body weight data"),
            ["animal", "arm", "day", "weight_g"],
            ((r.animal, r.group, r.day, r.weight_g) for r in report.body_weight),
        )
        weights: dict[str, dict[str, dict[float, float | None]]] = {}
        for weight in report.body_weight:
            weights.setdefault(weight.group, {}).setdefault(weight.animal, {})[weight.day] = (
                weight.weight_g
            )
        prism_xy(_sheet(book, "Prism body weight XY"), arms, weights, "Body weight (g)")
    if report.survival:
        _rows(
            _sheet(book, "Survival data"),
            ["animal", "arm", "time_days", "event", "cause"],
            ((r.animal, r.group, r.time_days, r.event, r.cause) for r in report.survival),
        )
        sheet = _sheet(book, "Prism survival")
        present = [a for a in arms if any(r.group == a for r in report.survival)]
        sheet.cell(row=1, column=1, value="Days").font = BOLD
        for c, arm in enumerate(present, start=2):
            sheet.cell(row=1, column=c, value=arm).font = BOLD
        for r_index, row in enumerate(report.survival, start=2):
            sheet.cell(row=r_index, column=1, value=row.time_days)
            sheet.cell(row=r_index, column=2 + present.index(row.group), value=row.event)
        sheet.freeze_panes = "A2"
    if report.assays:
        _rows(
            _sheet(book, "Assay data"),
            [
                "assay",
                "analyte",
                "tissue",
                "timing",
                "study_day",
                "sample",
                "animal",
                "arm",
                "value",
                "unit",
            ],
            (
                (
                    r.assay,
                    r.analyte,
                    r.tissue,
                    r.timing,
                    r.study_day,
                    r.sample,
                    r.animal,
                    r.group,
                    r.value,
                    r.unit,
                )
                for r in report.assays
            ),
        )
        _assay_comparisons(book, results)
        # Prism grouped tables hold comparable values only: the same-day samples of one day.
        same_day = sorted(
            {
                (r.assay, r.analyte, r.tissue, r.study_day if r.study_day is not None else -1)
                for r in report.assays
                if r.timing == "scheduled"
            }
        )
        for assay, analyte, tissue, day in same_day:
            grouped: dict[str, list[float]] = {}
            for result in report.assays:
                key = (result.assay, result.analyte, result.tissue, result.study_day)
                if result.timing == "scheduled" and key == (
                    assay,
                    analyte,
                    tissue,
                    None if day == -1 else day,
                ):
                    grouped.setdefault(result.group, []).append(result.value)
            # Excel allows 31 characters: the analyte is shortened, tissue and day are kept.
            suffix = f"{' ' + tissue if tissue else ''} d{day if day >= 0 else 'NA'}"
            label = f"Prism {assay} {analyte}"[: 31 - len(suffix)] + suffix
            name = "".join(ch for ch in label if ch not in "[]:*?/\\")
            if name in book.sheetnames:
                name = f"{name[:28]} {len(book.sheetnames)}"
            prism_grouped(_sheet(book, name), arms, grouped)
    _welfare_sheets(book, report, results)
    growth = results.json.get("growth")
    if growth is not None:
        definition = report.options.tgi_definition
        _rows(
            _sheet(book, "TGI summary"),
            [
                "arm",
                "n",
                "n_randomized",
                "mean_volume_mm3",
                "sem_volume_mm3",
                "tc_percent",
                "median_tc_percent",
                "tgi_volume_percent",
                "tgi_delta_percent",
                "tgi_rtv_percent",
                f"tgi_{definition}_ci95_lower",
                f"tgi_{definition}_ci95_upper",
            ],
            (
                (
                    g["group"],
                    g["n"],
                    g["n_randomized"],
                    g["mean_volume_mm3"],
                    g["sem_volume_mm3"],
                    g["tc_percent"],
                    g["median_tc_percent"],
                    g["tgi_volume_percent"],
                    g["tgi_delta_percent"],
                    g["tgi_rtv_percent"],
                    *g.get("tgi_ci95", {}).get(definition, [None, None]),
                )
                for g in growth["groups"]
            ),
        )
    created = report.generated_at.replace(tzinfo=None)
    book.properties.created = created
    book.properties.modified = created
    book.properties.creator = report.generated_by
    output = io.BytesIO()
    book.save(output)
    return _with_fixed_zip_times(output.getvalue(), created)


def _with_fixed_zip_times(data: bytes, created: dt.datetime) -> bytes:
    """Rewrite the workbook's ZIP with a fixed entry time and modification date: openpyxl
    stamps the clock on save (ZIP entries at 2-s resolution, and ``dcterms:modified`` in
    docProps/core.xml whatever ``properties.modified`` says), so two builds of the same input
    differed when they straddled a second. Both become the report's generation time."""
    import re
    import zipfile

    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    content,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)
    return output.getvalue()


__all__ = ["prism_grouped", "prism_xy", "render_xlsx"]
