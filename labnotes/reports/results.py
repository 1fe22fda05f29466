# ruff: noqa: RUF002, RUF003  (report text is typeset: −, ×, – and γ are intended)
"""Every number of a report, computed by the analysis engine, plus the JSON that records them.

The tables come from the engine's own command (:func:`labnotes.analysis.cli.main`) run in-process
on the report's tidy CSVs written to a temporary directory, with exactly the command lines the
bundle's ``manifest.json`` lists: the report and a reader re-running the bundle without a database
cannot disagree. Figures and the parts the command does not print (group curves with the stop
rule, growth delay, waterfall, the log-volume mixed model, Dunnett on log volumes) come from the
engine's library functions on the same files. Nothing statistical is reimplemented here except
two descriptive summaries the engine lacks, documented where they are computed: the 95 % CI of a
geometric mean and the body-weight percentages.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from labnotes.analysis import cli
from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.growth import (
    AnimalChange,
    GroupCurve,
    best_percent_change,
    compare_groups,
    find_control,
    group_curves,
    growth_delay,
    log_volume_mixed_model,
    resolve_days,
    tumour_corrected_weight_g,
)
from labnotes.analysis.growth_data import GrowthData, json_day, read_growth_csv
from labnotes.analysis.survival import SurvivalAnalysis, SurvivalData, analyze_survival
from labnotes.reports.assays import assay_results
from labnotes.reports.model import TGI_DEFINITIONS, AnalysisOptions, ReportInput, SynergyArms
from labnotes.reports.pooled import pooled_growth_model, pooled_survival
from labnotes.reports.tidy import GROWTH_CSV, SURVIVAL_CSV, Command, csv_number, tidy_files

SCHEMA = "vivolog.report.results/1"
#: Volumes below this are drawn at it on log axes and floored in the log-volume mixed model.
LOG_FLOOR_MM3 = 1.0
#: Body-weight loss thresholds counted per arm (humane-endpoint practice: 15 % warn, 20 % stop).
WEIGHT_LOSS_THRESHOLDS_PERCENT = (15.0, 20.0)


@dataclass(frozen=True)
class GeometricPoint:
    """Geometric mean of one arm on one day with its 95 % CI (None where undefined)."""

    day: float
    n: int
    geometric_mean_mm3: float
    lower_mm3: float | None
    upper_mm3: float | None


@dataclass(frozen=True)
class WeightPoint:
    day: float
    n: int
    mean_percent: float
    sem_percent: float | None


@dataclass(frozen=True)
class GrowthFigureData:
    """What the growth figures need (arm order of the design)."""

    data: GrowthData
    curves: tuple[GroupCurve, ...]
    geometric: dict[str, tuple[GeometricPoint, ...]]
    waterfall: tuple[AnimalChange, ...]
    analysis_day: float


@dataclass(frozen=True)
class ReportResults:
    """Numbers for the renderer and ``results.json`` (``json``: every number the report shows).

    ``commands`` are the command lines that reproduce ``json[command.key]``; ``files`` the tidy
    CSVs they read (name → text), byte for byte what the bundle holds.
    """

    json: dict[str, Any]
    commands: tuple[Command, ...]
    files: dict[str, str]
    growth: GrowthFigureData | None = None
    contralateral: GrowthFigureData | None = None
    survival: SurvivalAnalysis | None = None
    survival_at_risk_days: tuple[float, ...] = ()
    body_weight: dict[str, tuple[WeightPoint, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Running the engine's command in-process


def run_command(command: Command, directory: Path) -> dict[str, Any]:
    """``python -m labnotes.analysis <arguments>`` in ``directory``, in-process; its JSON object.

    File names in the arguments are relative to ``directory``. A non-zero exit is a bug in the
    report input or here, so it raises with the engine's one-line message.
    """
    arguments = list(command.arguments)
    position = arguments.index("--input") + 1
    arguments[position] = str(directory / arguments[position])
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = cli.main(arguments, stdout=out, stderr=err)
    if code != 0:
        raise AnalysisInputError(f"{command.command_line}: {err.getvalue().strip()}")
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def nice_step(span: float, target_ticks: int = 6) -> float:
    """A 1-2-5 step giving about ``target_ticks`` ticks over ``span`` (axis and at-risk days)."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / target_ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 5.0, 10.0):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10.0 * magnitude


def at_risk_days(times: Sequence[float]) -> tuple[float, ...]:
    """Days at which the KM figure's numbers-at-risk table is read: its x-axis ticks."""
    last = max(times) if times else 0.0
    step = nice_step(last)
    count = math.floor(last / step + 1e-9) + 1
    return tuple(round(k * step, 10) for k in range(count))


def _day_arg(day: float) -> str:
    return csv_number(day)


# --------------------------------------------------------------------------------------------
# Descriptive summaries the engine does not provide


def geometric_mean_ci(
    values: np.ndarray[Any, Any], confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """t-based CI of a geometric mean: exp(mean(ln V) ± t_{n−1} · SD(ln V)/√n).

    Defined only when every volume is positive and n ≥ 2: a zero volume (non-palpable tumour)
    makes the geometric mean 0 (the engine's convention) and the interval undefined (None).
    """
    if values.size < 2 or np.any(values <= 0):
        return None, None
    logs = np.log(values)
    half = float(stats.t.ppf((1 + confidence) / 2, values.size - 1)) * float(
        np.std(logs, ddof=1) / math.sqrt(values.size)
    )
    centre = float(np.mean(logs))
    return math.exp(centre - half), math.exp(centre + half)


def _geometric_points(
    data: GrowthData, curves: Sequence[GroupCurve]
) -> dict[str, tuple[GeometricPoint, ...]]:
    result: dict[str, tuple[GeometricPoint, ...]] = {}
    for curve in curves:
        block = data.volume_mm3[data.members(curve.group)]
        points: list[GeometricPoint] = []
        for point in curve.points:
            column = block[:, data.day_index(point.day)]
            values = column[~np.isnan(column)]
            lower, upper = geometric_mean_ci(values)
            points.append(
                GeometricPoint(point.day, point.n, point.geometric_mean_volume_mm3, lower, upper)
            )
        result[curve.group] = tuple(points)
    return result


def body_weight_summary(
    report: ReportInput, growth: GrowthData | None
) -> tuple[dict[str, tuple[WeightPoint, ...]], dict[str, Any]]:
    """Per-arm body weight as % of each animal's first weight; nadir; tumour-corrected weight.

    Per animal, % of baseline = 100 · W_day / W_first (W_first at its earliest weighing, normally
    day 0). Per arm and day: n, mean and SEM (SD with n − 1 over √n) of those percentages, with
    the growth curves' stop rule (fewer than 50 % of the arm's animals or fewer than 3 → the
    curve ends). Nadir = the lowest point of the arm's mean curve, and per animal the largest
    loss, counted against 15 % and 20 %. Tumour-corrected weight subtracts the same day's tumour
    volume at 1 mg/mm³ (:func:`growth.tumour_corrected_weight_g`) where one was measured.
    """
    by_animal: dict[str, list[tuple[float, float]]] = {}
    group_of: dict[str, str] = {}
    for row in report.body_weight:
        by_animal.setdefault(row.animal, []).append((row.day, row.weight_g))
        group_of[row.animal] = row.group
    volume_of: dict[tuple[str, float], float] = {}
    if growth is not None:
        for i, animal in enumerate(growth.animals):
            for j, day in enumerate(growth.days):
                if not math.isnan(growth.volume_mm3[i, j]):
                    volume_of[(animal, float(day))] = float(growth.volume_mm3[i, j])
    percent: dict[str, dict[float, float]] = {}
    corrected_percent: dict[str, dict[float, float]] = {}
    for animal, series in by_animal.items():
        series.sort()
        base_day, base = series[0]
        percent[animal] = {day: 100.0 * w / base for day, w in series}
        base_volume = volume_of.get((animal, base_day))
        if base_volume is not None:
            days = [d for d, _ in series if (animal, d) in volume_of]
            weights = np.array([w for d, w in series if (animal, d) in volume_of])
            volumes = np.array([volume_of[(animal, d)] for d in days])
            corrected = tumour_corrected_weight_g(weights, volumes)
            corrected_base = float(corrected[days.index(base_day)])
            corrected_percent[animal] = {
                d: 100.0 * float(c) / corrected_base for d, c in zip(days, corrected, strict=True)
            }

    def summarise(values_of: dict[str, dict[float, float]]) -> dict[str, tuple[WeightPoint, ...]]:
        curves: dict[str, tuple[WeightPoint, ...]] = {}
        for arm in report.arm_names:
            members = [a for a in values_of if group_of[a] == arm]
            if not members:
                continue
            days = sorted({d for a in members for d in values_of[a]})
            points: list[WeightPoint] = []
            for day in days:
                values = np.array([values_of[a][day] for a in members if day in values_of[a]])
                if values.size < 0.5 * len(members) or values.size < 3:
                    break
                sem = float(np.std(values, ddof=1) / math.sqrt(values.size))
                points.append(WeightPoint(day, int(values.size), float(values.mean()), sem))
            curves[arm] = tuple(points)
        return curves

    curves = summarise(percent)
    corrected_curves = summarise(corrected_percent)
    arms: list[dict[str, Any]] = []
    for arm, points in curves.items():
        members = [a for a in percent if group_of[a] == arm]
        worst = {a: min(percent[a].values()) for a in members}
        nadir = min(points, key=lambda p: p.mean_percent) if points else None
        arms.append(
            {
                "group": arm,
                "n_animals": len(members),
                "nadir_mean_percent": None if nadir is None else nadir.mean_percent,
                "nadir_day": None if nadir is None else json_day(nadir.day),
                "max_loss_percent": max(100.0 - w for w in worst.values()),
                "animals_losing": {
                    f"{threshold:g}": sum(1 for w in worst.values() if 100.0 - w >= threshold)
                    for threshold in WEIGHT_LOSS_THRESHOLDS_PERCENT
                },
                "curve": [_weight_json(p) for p in points],
                "tumour_corrected_curve": [_weight_json(p) for p in corrected_curves.get(arm, ())],
            }
        )
    return curves, {
        "baseline": "each animal's first weighing (treatment start)",
        "tumour_density_mg_per_mm3": 1.0,
        "groups": arms,
    }


def _weight_json(point: WeightPoint) -> dict[str, Any]:
    return {
        "day": json_day(point.day),
        "n": point.n,
        "mean_percent": point.mean_percent,
        "sem_percent": point.sem_percent,
    }


def assay_summary(report: ReportInput) -> list[dict[str, Any]]:
    """Per assay, analyte and arm: n, mean, SD and median of the animals' values (descriptive)."""
    keys: dict[tuple[str, str, str], None] = {}
    for row in report.assays:
        keys.setdefault((row.assay, row.analyte, row.unit), None)
    summary: list[dict[str, Any]] = []
    for assay, analyte, unit in keys:
        groups: list[dict[str, Any]] = []
        for arm in report.arm_names:
            values = np.array(
                [
                    r.value
                    for r in report.assays
                    if (r.assay, r.analyte, r.unit, r.group) == (assay, analyte, unit, arm)
                ]
            )
            if values.size == 0:
                continue
            groups.append(
                {
                    "group": arm,
                    "n": int(values.size),
                    "mean": float(values.mean()),
                    "sd": float(np.std(values, ddof=1)) if values.size > 1 else None,
                    "median": float(np.median(values)),
                }
            )
        summary.append({"assay": assay, "analyte": analyte, "unit": unit, "groups": groups})
    return summary


def dosing_summary(report: ReportInput) -> list[dict[str, Any]]:
    """Per arm: doses recorded, given, missed, compliance % (given / recorded), deviations by
    kind, holds, reductions and skipped doses. Compliance is None without a dose record."""
    rows = []
    for arm in report.dosing:
        recorded = arm.given + arm.missed
        rows.append(
            {
                "group": arm.arm,
                "animals": arm.animals,
                "doses_recorded": recorded,
                "given": arm.given,
                "missed": arm.missed,
                "compliance_percent": 100.0 * arm.given / recorded if recorded else None,
                "deviations": {d.reason: d.count for d in arm.deviations},
                "deviations_total": sum(d.count for d in arm.deviations),
                "holds": arm.holds,
                "reductions": arm.reductions,
                "skips": arm.skips,
            }
        )
    return rows


def welfare_summary(report: ReportInput) -> list[dict[str, Any]]:
    """Per arm: endpoint records by cause, found dead, and the hours from the first reading at
    a humane endpoint to euthanasia: n, median, maximum and how many took over 24 h."""
    rows = []
    for arm in report.welfare:
        hours = np.asarray(arm.hours_to_euthanasia, dtype=float)
        rows.append(
            {
                "group": arm.arm,
                "endpoints_by_cause": {c.reason: c.count for c in arm.endpoints_by_cause},
                "endpoints_total": sum(c.count for c in arm.endpoints_by_cause),
                "found_dead": arm.found_dead,
                "episodes_closed": int(hours.size),
                "median_hours_to_euthanasia": float(np.median(hours)) if hours.size else None,
                "max_hours_to_euthanasia": float(hours.max()) if hours.size else None,
                "over_24_hours": arm.over_24_hours,
            }
        )
    return rows


def necropsy_summary(report: ReportInput) -> list[dict[str, Any]]:
    """Per arm: necropsies, their study days, and n, mean, SD, median of the summed tumour
    weight (mg) and of the terminal body weight (g); descriptive only (days differ)."""

    def describe(values: list[float]) -> dict[str, Any]:
        array = np.asarray(values, dtype=float)
        return {
            "n": int(array.size),
            "mean": float(array.mean()) if array.size else None,
            "sd": float(np.std(array, ddof=1)) if array.size > 1 else None,
            "median": float(np.median(array)) if array.size else None,
        }

    rows = []
    for arm in report.arm_names:
        of_arm = [r for r in report.necropsy if r.group == arm]
        if not of_arm:
            continue
        rows.append(
            {
                "group": arm,
                "necropsies": len(of_arm),
                "study_days": sorted({r.study_day for r in of_arm}),
                "tumour_weight_mg": describe(
                    [r.tumour_weight_mg for r in of_arm if r.tumour_weight_mg is not None]
                ),
                "terminal_body_weight_g": describe(
                    [
                        r.terminal_body_weight_g
                        for r in of_arm
                        if r.terminal_body_weight_g is not None
                    ]
                ),
            }
        )
    return rows


# --------------------------------------------------------------------------------------------
# The whole computation


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _growth_figure_data(data: GrowthData, day: float, baseline: float) -> GrowthFigureData:
    curves = group_curves(data)
    return GrowthFigureData(
        data=data,
        curves=curves,
        geometric=_geometric_points(data, curves),
        waterfall=best_percent_change(data, baseline_day=baseline),
        analysis_day=day,
    )


def _curves_json(figure: GrowthFigureData) -> list[dict[str, Any]]:
    return [
        {
            "group": curve.group,
            "n_randomized": curve.n_randomized,
            "stopped_on_day": None
            if curve.stopped_on_day is None
            else json_day(curve.stopped_on_day),
            "points": [
                {
                    "day": json_day(p.day),
                    "n": p.n,
                    "mean_volume_mm3": _finite(p.mean_volume_mm3),
                    "sem_volume_mm3": _finite(p.sem_volume_mm3),
                    "median_volume_mm3": _finite(p.median_volume_mm3),
                    "geometric_mean_volume_mm3": _finite(g.geometric_mean_mm3),
                    "geometric_ci95_mm3": [g.lower_mm3, g.upper_mm3],
                }
                for p, g in zip(curve.points, figure.geometric[curve.group], strict=True)
            ],
        }
        for curve in figure.curves
    ]


def compute_results(report: ReportInput) -> ReportResults:
    """Run every analysis the report's data allow and collect the numbers.

    Growth needs growth rows and a control arm; synergy additionally needs
    ``options.synergy_arms``; survival needs survival rows (control: the design's control arm,
    else the engine's default). A part the engine cannot estimate (a mixed model that does not
    converge) is recorded under ``warnings`` and left out rather than failing the whole report.
    """
    options = report.options
    files = tidy_files(report)
    commands: list[Command] = []
    output: dict[str, Any] = {
        "schema": SCHEMA,
        "study": {
            "study_code": report.study_code,
            "run_code": report.run_code,
            "kind": report.kind,
            "exploratory": report.exploratory,
            "plan_differences": list(report.plan_differences),
            "blinded": report.blinded,
            "data_hash": report.data_hash,
            "generated_by": report.generated_by,
            "generated_at": report.generated_at.isoformat(),
        },
        "options": {
            "analysis_day": options.analysis_day,
            "tgi_definition": options.tgi_definition,
            "tgi_definition_text": TGI_DEFINITIONS[options.tgi_definition],
            "dropout": options.dropout,
            "synergy_model": options.synergy_model,
            "synergy_reference": options.synergy_reference,
            "bootstrap_resamples": options.bootstrap_resamples,
            "seed": options.seed,
            "growth_delay_fold": options.growth_delay_fold,
        },
        "software": dict(report.software_versions),
    }
    notes: list[str] = []
    growth_figures: GrowthFigureData | None = None
    contralateral: GrowthFigureData | None = None
    survival: SurvivalAnalysis | None = None
    risk_days: tuple[float, ...] = ()
    with tempfile.TemporaryDirectory(prefix="vivolog-report-") as temporary:
        directory = Path(temporary)
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8")
        roles = sorted({row.tumour for row in report.growth})
        control = report.control
        if "injected" in roles:
            # Early in a run (only the day-0 readings) or with too few animals the engine
            # cannot estimate growth; the report then says why instead of failing whole.
            growth_commands: list[Command] = []
            growth_output: dict[str, Any] = {}
            try:
                growth_figures, contralateral = _growth_part(
                    report, directory, control, growth_commands, growth_output, notes
                )
            except AnalysisInputError as exc:
                growth_figures, contralateral = None, None
                notes.append(f"tumour growth not analysed: {exc}")
            else:
                commands.extend(growth_commands)
                output.update(growth_output)
        if report.survival:
            try:
                survival, risk_days, survival_command, survival_json = _survival_part(
                    report, directory
                )
            except AnalysisInputError as exc:
                notes.append(f"survival not analysed: {exc}")
            else:
                commands.append(survival_command)
                output["survival"] = survival_json
                output["survival_definition"] = report.survival_definition
    if report.pooled_runs:
        output["pooled"] = _pooled_part(report, output, notes)
    weight_curves: dict[str, tuple[WeightPoint, ...]] = {}
    if report.body_weight:
        weight_curves, output["body_weight"] = body_weight_summary(
            report, growth_figures.data if growth_figures else None
        )
    if report.assays:
        output["assays"] = assay_results(report)
    if report.dosing:
        output["dosing"] = dosing_summary(report)
    if report.welfare:
        output["welfare"] = welfare_summary(report)
    if report.necropsy:
        output["necropsy"] = necropsy_summary(report)
    output["warnings"] = notes
    return ReportResults(
        json=output,
        commands=tuple(commands),
        files=files,
        growth=growth_figures,
        contralateral=contralateral,
        survival=survival,
        survival_at_risk_days=risk_days,
        body_weight=weight_curves,
        warnings=tuple(notes),
    )


def _pooled_part(report: ReportInput, output: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Run as a stratum of the log-rank test and a random effect of the mixed model."""
    pooled: dict[str, Any] = {"runs": list(report.pooled_runs)}
    try:
        survival = pooled_survival(report)
    except AnalysisInputError as exc:
        notes.append(f"run-stratified log-rank not reported: {exc}")
        survival = None
    if survival is not None:
        pooled["survival_stratified"] = survival
    growth = output.get("growth")
    injected = [r.day for r in report.growth if r.tumour == "injected"]
    if growth is not None and injected:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = pooled_growth_model(
                report, baseline_day=min(injected), last_day=float(growth["day"])
            )
        if model is not None and "error" in model:
            notes.append(f"mixed model with a run effect not reported: {model['error']}")
        elif model is not None:
            model["last_day"] = growth["day"]
            pooled["growth_run_effect"] = model
    return pooled


def _growth_part(
    report: ReportInput,
    directory: Path,
    control: str | None,
    commands: list[Command],
    output: dict[str, Any],
    notes: list[str],
) -> tuple[GrowthFigureData | None, GrowthFigureData | None]:
    """Growth (injected, then contralateral tumours) and synergy; fills ``commands``/``output``.

    Raises AnalysisInputError when the engine cannot analyse the injected tumours at all.
    """
    options = report.options
    roles = sorted({row.tumour for row in report.growth})
    data = read_growth_csv(directory / GROWTH_CSV, tumour="injected")
    if control is None:
        try:
            control = find_control(data.groups)
        except AnalysisInputError:
            control = None
    if control is None or control not in data.groups:
        return None, None
    baseline, day = resolve_days(data, control, None, options.analysis_day)
    growth_figures = _growth_figure_data(data, day, baseline)
    growth_command = Command(
        "growth",
        "Tumour volume summary, T/C, TGI with bootstrap CI, regressions, mRECIST",
        _growth_arguments(control, day, options, "injected"),
    )
    output["growth"] = run_command(growth_command, directory)
    commands.append(growth_command)
    output["growth_figures"] = _growth_extras(
        growth_figures,
        data,
        control=control,
        baseline=baseline,
        day=day,
        fold=options.growth_delay_fold,
        notes=notes,
    )
    contralateral: GrowthFigureData | None = None
    if "contralateral" in roles:
        other = read_growth_csv(directory / GROWTH_CSV, tumour="contralateral")
        if control in other.groups:
            try:
                base_c, day_c = resolve_days(other, control, None, options.analysis_day)
                contra_command = Command(
                    "growth_contralateral",
                    "Contralateral (non-injected) tumours: summary and TGI",
                    _growth_arguments(control, day_c, options, "contralateral"),
                )
                output["growth_contralateral"] = run_command(contra_command, directory)
            except AnalysisInputError as exc:
                notes.append(f"contralateral tumours not analysed: {exc}")
            else:
                contralateral = _growth_figure_data(other, day_c, base_c)
                commands.append(contra_command)
                output["growth_contralateral_figures"] = {"curves": _curves_json(contralateral)}
    synergy = options.synergy_arms
    if synergy is not None:
        synergy_commands: list[Command] = []
        try:
            synergy_output = _synergy(synergy_commands, directory, synergy, day, options, notes)
        except AnalysisInputError as exc:
            notes.append(f"combination synergy not analysed: {exc}")
        else:
            commands.extend(synergy_commands)
            output.update(synergy_output)
    return growth_figures, contralateral


def _survival_part(
    report: ReportInput, directory: Path
) -> tuple[SurvivalAnalysis, tuple[float, ...], Command, dict[str, Any]]:
    rows = report.survival
    survival_data = SurvivalData(
        tuple(r.animal for r in rows),
        tuple(r.group for r in rows),
        tuple(r.time_days for r in rows),
        tuple(r.event for r in rows),
    )
    survival_control = report.control if report.control in survival_data.groups else None
    survival = analyze_survival(survival_data, control=survival_control)
    risk_days = at_risk_days(survival_data.time_days)
    arguments = [
        "survival",
        "--input",
        SURVIVAL_CSV,
        "--control",
        survival.control,
        "--at-risk-days",
        *(_day_arg(d) for d in risk_days),
    ]
    survival_command = Command(
        "survival",
        "Kaplan-Meier medians, log-rank (overall, pairwise Holm), %ILS, Cox hazard ratios",
        tuple(arguments),
    )
    return survival, risk_days, survival_command, run_command(survival_command, directory)


def _growth_arguments(
    control: str, day: float, options: AnalysisOptions, tumour: str
) -> tuple[str, ...]:
    return (
        "growth",
        "--input",
        GROWTH_CSV,
        "--tumour",
        tumour,
        "--control",
        control,
        "--day",
        _day_arg(day),
        "--dropout",
        options.dropout,
        "--bootstrap",
        str(options.bootstrap_resamples),
        "--seed",
        str(options.seed),
    )


def _growth_extras(
    figures: GrowthFigureData,
    data: GrowthData,
    *,
    control: str,
    baseline: float,
    day: float,
    fold: float,
    notes: list[str],
) -> dict[str, Any]:
    """Curves, growth delay, waterfall, the log-volume mixed model and Dunnett on log volume."""
    extras: dict[str, Any] = {
        "curves": _curves_json(figures),
        "stop_rule": "a curve ends before the first day with fewer than 50 % of the arm's "
        "randomized animals or fewer than 3 measured",
        "log_floor_mm3": LOG_FLOOR_MM3,
        "growth_delay": {
            "fold": fold,
            "groups": [
                {
                    "group": g.group,
                    "n": g.n,
                    "events": g.events,
                    "median_days": _finite(g.median_days),
                    "delay_days": _finite(g.delay_days),
                }
                for g in growth_delay(data, control=control, baseline_day=baseline, fold=fold)
            ],
        },
        "waterfall": [
            {
                "animal": c.animal,
                "group": c.group,
                "best_percent_change": c.best_percent_change,
                "day": json_day(c.day),
            }
            for c in figures.waterfall
        ],
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = log_volume_mixed_model(
                data,
                control=control,
                baseline_day=baseline,
                last_day=day,
                floor_mm3=LOG_FLOOR_MM3,
            )
        extras["mixed_model"] = {
            "model": "ln(max(V, 1 mm³)) ~ 0 + arm + arm:time, random intercept and slope per "
            "animal" + (" and cage intercept" if model.cage_effect else "") + ", REML",
            "last_day": json_day(day),
            "optimizer": model.method,
            "n_observations": model.n_observations,
            "growth_rate_per_day": model.growth_rate_per_day,
            "growth_rate_se": model.growth_rate_se,
            "contrasts": [
                {
                    "name": c.name,
                    "estimate": c.estimate,
                    "se": c.se,
                    "z": c.z,
                    "p": c.p,
                    "p_holm": c.p_holm,
                }
                for c in model.contrasts
            ],
        }
    except AnalysisInputError as exc:
        notes.append(f"log-volume mixed model not reported: {exc.reason}")
    comparison = compare_groups(
        data, day=day, control=control, transform="log", floor_mm3=LOG_FLOOR_MM3
    )
    extras["dunnett_log_volume"] = {
        "day": json_day(day),
        "excluded": list(comparison.excluded),
        "anova_p": _finite(comparison.anova_p),
        "welch_p": _finite(comparison.welch_p),
        "kruskal_p": _finite(comparison.kruskal_p),
        "dunnett": [
            {
                "group": t.b,
                "difference_log": t.difference,
                "ratio": math.exp(t.difference),
                "p": t.p,
            }
            for t in comparison.dunnett
        ],
    }
    return extras


def _synergy(
    commands: list[Command],
    directory: Path,
    arms: SynergyArms,
    day: float,
    options: AnalysisOptions,
    notes: list[str],
) -> dict[str, Any]:
    """Bliss/HSA/RA on TGI at the analysis day and the SynergyLMM test over time."""
    base = (
        "synergy",
        "--input",
        GROWTH_CSV,
        "--tumour",
        "injected",
        "--control",
        arms.control,
        "--drug-a",
        arms.drug_a,
        "--drug-b",
        arms.drug_b,
        "--combination",
        arms.combination,
    )
    tgi_command = Command(
        "synergy_tgi",
        "Combination synergy on TGI (Bliss, HSA, RA) with bootstrap CIs",
        (
            *base,
            "--model",
            "tgi",
            "--day",
            _day_arg(day),
            "--definition",
            options.tgi_definition,
            "--bootstrap",
            str(options.bootstrap_resamples),
            "--seed",
            str(options.seed),
        ),
    )
    lmm_command = Command(
        "synergy_lmm",
        "Combination synergy over time (SynergyLMM mixed model, Bliss and HSA by day)",
        (*base, "--model", "lmm"),
    )
    output: dict[str, Any] = {}
    commands.append(tgi_command)
    output["synergy_tgi"] = run_command(tgi_command, directory)
    try:
        output["synergy_lmm"] = run_command(lmm_command, directory)
        commands.append(lmm_command)
    except AnalysisInputError as exc:
        notes.append(f"synergy mixed model not reported: {exc}")
    if options.synergy_model == "auc":
        auc_command = Command(
            "synergy_auc",
            "Combination synergy on the area under the growth curves (invivoSyn)",
            (*base, "--model", "auc", "--day", _day_arg(day)),
        )
        try:
            output["synergy_auc"] = run_command(auc_command, directory)
            commands.append(auc_command)
        except AnalysisInputError as exc:
            notes.append(f"synergy on the area under the curves not reported: {exc}")
    # The pre-specified model leads; when tumours regress, TGI fractions lose their meaning and
    # the mixed model leads whatever was chosen.
    regress = bool(output["synergy_tgi"].get("outside_0_100"))
    if "synergy_lmm" in output and (regress or options.synergy_model == "lmm"):
        output["synergy_leading"] = "lmm"
    elif "synergy_auc" in output:
        output["synergy_leading"] = "auc"
    else:
        output["synergy_leading"] = "tgi"
    output["synergy_reference"] = options.synergy_reference
    return output


__all__ = [
    "LOG_FLOOR_MM3",
    "GeometricPoint",
    "GrowthFigureData",
    "ReportResults",
    "WeightPoint",
    "at_risk_days",
    "compute_results",
    "geometric_mean_ci",
    "nice_step",
    "run_command",
]
