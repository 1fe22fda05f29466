# ruff: noqa: RUF003  (report text is typeset: −, ×, – and ± are intended)
"""The live run dashboard: the report's figures and TGI table for the data so far, fast.

Pure (no Django). It reuses the report's figure code and the analysis engine's functions but
skips what takes seconds (bootstrap CIs, mixed models, the PDF), so a page can call it on every
request: group curves with n at each point, individual curves (on demand), the current TGI table
at the latest day every control animal was measured (else the engine's default day), and the
Kaplan–Meier curves so far when some animal has had an event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.growth import GroupTGI, default_analysis_day, group_curves, tgi_at_day
from labnotes.analysis.growth_data import GrowthData, build_growth_data
from labnotes.analysis.survival import SurvivalAnalysis, SurvivalData, analyze_survival
from labnotes.reports import figures
from labnotes.reports.model import ReportInput
from labnotes.reports.results import at_risk_days


@dataclass(frozen=True)
class SurvivalSoFar:
    svg: str
    rows: tuple[tuple[str, int, int, float | None], ...]  # arm, n, events, median days


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard page shows; every part None when its data do not exist yet."""

    growth_svg: str | None
    tgi_day: float | None
    tgi_rows: tuple[GroupTGI, ...]
    survival: SurvivalSoFar | None
    notes: tuple[str, ...]


def growth_data(report: ReportInput) -> GrowthData | None:
    """Injected-tumour volumes of the report as the engine's :class:`GrowthData`."""
    rows = [r for r in report.growth if r.tumour == "injected"]
    if not rows:
        return None
    order = {name: k for k, name in enumerate(report.arm_names)}
    rows.sort(key=lambda r: (order[r.group], r.animal, r.day))
    return build_growth_data(
        [r.animal for r in rows],
        [r.group for r in rows],
        [r.day for r in rows],
        [math.nan if r.volume_mm3 is None else r.volume_mm3 for r in rows],
    )


def _median_days(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def arm_index(report: ReportInput) -> dict[str, int]:
    return {name: k for k, name in enumerate(report.arm_names)}


def individual_curves_svg(report: ReportInput) -> str | None:
    """Individual tumour curves per arm (linear axis), exits marked by cause."""
    data = growth_data(report)
    if data is None:
        return None
    exits = {a.animal_id: a.endpoint_cause for a in report.animals if a.exit_day is not None}
    return figures.spider_figure(data, arm_index(report), exits, log=False)


def build_dashboard(report: ReportInput) -> Dashboard:
    """Group curves, the TGI table (definition of ``report.options``) and survival so far."""
    notes: list[str] = []
    data = growth_data(report)
    growth_svg: str | None = None
    tgi_rows: tuple[GroupTGI, ...] = ()
    tgi_day: float | None = None
    control = report.control
    if data is not None:
        curves = group_curves(data)
        if any(curve.points for curve in curves):
            growth_svg = figures.group_curve_figure(
                curves, arm_index(report), analysis_day=report.options.analysis_day
            )
        if control is not None and control in data.groups:
            try:
                tgi_day = (
                    report.options.analysis_day
                    if report.options.analysis_day is not None
                    else default_analysis_day(data, control)
                )
                tgi_rows = tgi_at_day(
                    data, control=control, day=tgi_day, baseline_day=float(data.days[0])
                )
            except AnalysisInputError as exc:
                tgi_day = None
                notes.append(f"TGI not computed yet: {exc}")
        else:
            notes.append("TGI needs a control arm with measurements.")
    survival: SurvivalSoFar | None = None
    if any(row.event for row in report.survival):
        rows = report.survival
        analysis: SurvivalAnalysis = analyze_survival(
            SurvivalData(
                tuple(r.animal for r in rows),
                tuple(r.group for r in rows),
                tuple(r.time_days for r in rows),
                tuple(r.event for r in rows),
            ),
            control=control if control in {r.group for r in rows} else None,
        )
        times_of: dict[str, list[float]] = {}
        for row in rows:
            times_of.setdefault(row.group, []).append(row.time_days)
        svg = figures.kaplan_meier_figure(
            analysis, arm_index(report), at_risk_days([r.time_days for r in rows]), times_of
        )
        survival = SurvivalSoFar(
            svg,
            tuple(
                (
                    g.group,
                    g.n,
                    g.events,
                    _median_days(g.median.median_days),
                )
                for g in analysis.groups
            ),
        )
    return Dashboard(growth_svg, tgi_day, tgi_rows, survival, tuple(notes))


__all__ = ["Dashboard", "SurvivalSoFar", "build_dashboard", "growth_data", "individual_curves_svg"]
