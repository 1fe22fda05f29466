# ruff: noqa: RUF002, RUF003  (report text is typeset: – and γ are intended)
"""ELISA and flow cytometry results per arm, compared only where a comparison is fair.

Endpoint samples of a control animal and of a cured animal are taken weeks apart, so a
difference between them says as much about the day as about the treatment (issue 9). The report
therefore compares arms only on *scheduled* samples (satellites or scheduled collections) taken
on the same study day, and lists endpoint samples separately with the day each was taken.

A block is one assay × analyte × unit × tissue. Within a block, for each study day with
scheduled samples: n, mean, SD and median per arm, and each treated arm against the control by

* Welch's two-sample t-test (unequal variances; Welch 1947), identical to R
  ``t.test(x, y, var.equal = FALSE)``, and
* the two-sided Mann–Whitney U test, identical to R ``wilcox.test(x, y, exact = <no ties and
  n < 50>, correct = TRUE)`` (scipy's ``method="auto"``),

each Holm-adjusted (Holm 1979) over the treated arms compared on that day. A test needs at least
two values in both arms (Welch) or one in both (Mann–Whitney); otherwise its p is ``None`` and
it does not count in Holm's m. NaN values are never produced by the capture and are rejected.
Pure: no Django.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from labnotes.analysis.survival import holm_adjust
from labnotes.reports.model import AssayRow, ReportInput, ReportInputError

AssayKey = tuple[str, str, str, str]


def _describe(values: Sequence[float]) -> dict[str, Any]:
    array = np.asarray(values, dtype=float)
    return {
        "n": int(array.size),
        "mean": float(array.mean()),
        "sd": float(np.std(array, ddof=1)) if array.size > 1 else None,
        "median": float(np.median(array)),
    }


def welch_p(treated: Sequence[float], control: Sequence[float]) -> float | None:
    """Two-sided Welch t-test p-value, None with fewer than two values in either group."""
    if len(treated) < 2 or len(control) < 2:
        return None
    result = stats.ttest_ind(treated, control, equal_var=False)
    p = float(result.pvalue)
    return p if math.isfinite(p) else None


def mann_whitney_p(treated: Sequence[float], control: Sequence[float]) -> float | None:
    """Two-sided Mann–Whitney U p-value (exact without ties for small n, else normal with
    continuity correction), None when either group is empty or all values are equal."""
    if not treated or not control:
        return None
    if len(set(treated) | set(control)) == 1:
        return None
    p = float(stats.mannwhitneyu(treated, control, alternative="two-sided").pvalue)
    return p if math.isfinite(p) else None


def _block_keys(rows: Sequence[AssayRow]) -> list[AssayKey]:
    keys: dict[AssayKey, None] = {}
    for row in rows:
        keys.setdefault((row.assay, row.analyte, row.unit, row.tissue), None)
    return list(keys)


def _same_day(
    rows: Sequence[AssayRow], arms: Sequence[str], control: str | None
) -> list[dict[str, Any]]:
    """Per study day: arms described, treated arms against the control (Holm over the day)."""
    days = sorted({row.study_day for row in rows}, key=lambda d: (d is None, d or 0))
    blocks: list[dict[str, Any]] = []
    for day in days:
        on_day = [row for row in rows if row.study_day == day]
        values = {arm: [r.value for r in on_day if r.group == arm] for arm in arms}
        groups = [{"group": arm, **_describe(values[arm])} for arm in arms if values[arm]]
        comparisons: list[dict[str, Any]] = []
        if control is not None and values.get(control):
            treated_arms = [arm for arm in arms if arm != control and values[arm]]
            welch = [welch_p(values[arm], values[control]) for arm in treated_arms]
            mann_whitney = [mann_whitney_p(values[arm], values[control]) for arm in treated_arms]
            welch_holm = holm_adjust(welch)
            mann_whitney_holm = holm_adjust(mann_whitney)
            for index, arm in enumerate(treated_arms):
                comparisons.append(
                    {
                        "group": arm,
                        "control": control,
                        "difference_of_means": float(
                            np.mean(values[arm]) - np.mean(values[control])
                        ),
                        "welch_p": welch[index],
                        "welch_p_holm": welch_holm[index],
                        "mann_whitney_p": mann_whitney[index],
                        "mann_whitney_p_holm": mann_whitney_holm[index],
                    }
                )
        blocks.append({"study_day": day, "groups": groups, "comparisons": comparisons})
    return blocks


def assay_results(report: ReportInput) -> list[dict[str, Any]]:
    """Every assay block of the report (see the module docstring): the ``assays`` of
    results.json. Arms appear in the report's order; endpoint rows are listed per animal."""
    order = {name: index for index, name in enumerate(report.arm_names)}
    blocks: list[dict[str, Any]] = []
    for assay, analyte, unit, tissue in _block_keys(report.assays):
        rows = [
            row
            for row in report.assays
            if (row.assay, row.analyte, row.unit, row.tissue) == (assay, analyte, unit, tissue)
        ]
        for row in rows:
            if not math.isfinite(row.value):
                raise ReportInputError(
                    f"assays: {assay} {analyte} of animal {row.animal} (sample {row.sample or '–'})"
                    " is not a finite number"
                )
        scheduled = [row for row in rows if row.timing == "scheduled"]
        endpoint = sorted(
            (row for row in rows if row.timing == "endpoint"),
            key=lambda r: (
                order[r.group],
                r.study_day if r.study_day is not None else -1,
                r.animal,
            ),
        )
        blocks.append(
            {
                "assay": assay,
                "analyte": analyte,
                "unit": unit,
                "tissue": tissue,
                "same_day": _same_day(scheduled, report.arm_names, report.control),
                "endpoint": [
                    {
                        "animal": row.animal,
                        "group": row.group,
                        "study_day": row.study_day,
                        "sample": row.sample,
                        "value": row.value,
                    }
                    for row in endpoint
                ],
            }
        )
    return blocks


def block_title(block: dict[str, Any]) -> str:
    """``ELISA: IFN-γ (pg/mL), serum`` — how the report names a block."""
    kind = "ELISA" if block["assay"] == "elisa" else "Flow cytometry"
    tissue = f", {block['tissue']}" if block["tissue"] else ""
    return f"{kind}: {block['analyte']} ({block['unit']}){tissue}"


__all__ = [
    "assay_results",
    "block_title",
    "mann_whitney_p",
    "welch_p",
]
