"""Tumour growth: group curves, TGI, regressions, mRECIST, growth delay, group comparisons.

Everything here works on :class:`~labnotes.analysis.growth_data.GrowthData` (an animal x day
matrix of volumes in mm³, NaN = not measured). Conventions shared by all functions:

* **Baseline**: ``baseline_day`` (default: the first day in the file, which is treatment start
  because reports export from each animal's randomization day). "Time" is day - baseline day.
* **Missing measurements** are left out of a statistic; ``n`` always says how many animals were
  used. An animal that left the study is *not* imputed unless LOCF is asked for (``dropout="locf"``,
  labelled a sensitivity analysis).
* **Empty groups** (no animal measured on a day) give ``None``/NaN statistics, never 0.
* **Single animals**: mean and median are reported, SEM is undefined (NaN → ``None`` in JSON).
* **Zero volumes** (non-palpable tumours) are real measurements: they enter means and TGI as 0.
  A ratio to a zero baseline is undefined, so such animals are left out of RTV, mRECIST,
  best % change and growth delay. Log-scale models floor volumes at ``floor_mm3`` (stated there).
* **Censoring** only arises in growth delay: an animal that never reaches k x V0 is censored at
  its last measurement.
"""

from __future__ import annotations

import argparse
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.growth_data import (
    BoolArray,
    FloatArray,
    GrowthData,
    format_day,
    json_day,
    natural_key,
    read_growth_csv,
)

CONTROL_NAME = re.compile(r"vehicle|control", re.IGNORECASE)

# ---------------------------------------------------------------------------------------------
# Small numeric helpers


def _finite_or_none(value: float) -> float | None:
    """JSON-safe float: NaN and ±inf become ``None``."""
    value = float(value)
    return value if math.isfinite(value) else None


def _mean(values: FloatArray) -> float:
    return float(np.mean(values)) if values.size else math.nan


def _sem(values: FloatArray) -> float:
    if values.size < 2:
        return math.nan
    return float(np.std(values, ddof=1) / math.sqrt(values.size))


def _geometric_mean(values: FloatArray) -> float:
    """exp(mean(ln V)); 0 when any volume is 0 (the limit), NaN for no values."""
    if values.size == 0:
        return math.nan
    if np.any(values <= 0):
        return 0.0
    return float(np.exp(np.mean(np.log(values))))


def _ratio_percent(numerator: float, denominator: float) -> float:
    if not (math.isfinite(numerator) and math.isfinite(denominator)) or denominator == 0:
        return math.nan
    return 100.0 * numerator / denominator


def two_sided_normal_p(z: float) -> float:
    """Two-sided p of a standard normal z statistic: erfc(|z|/√2) (NaN stays NaN)."""
    return math.erfc(abs(z) / math.sqrt(2.0)) if math.isfinite(z) else math.nan


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm (1979) step-down adjusted p-values, as R's ``p.adjust(method = "holm")``.

    p_(i) adjusted = max_{j ≤ i} min(1, (m - j + 1) p_(j)) over the ascending order. NaN
    p-values are passed through and do not count towards m (R does the same with NA).
    """
    values = np.asarray(p_values, dtype=np.float64)
    result = np.full(values.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(values))
    m = finite.size
    if m == 0:
        return [float(x) for x in result]
    order = finite[np.argsort(values[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * values[order])
    result[order] = np.maximum.accumulate(scaled)
    return [float(x) for x in result]


# ---------------------------------------------------------------------------------------------
# Control group, days, dropout


def find_control(groups: Sequence[str]) -> str:
    """The control arm: the one group whose name contains "vehicle" or "control".

    Case-insensitive. Raises AnalysisInputError when none or several groups match, asking for
    ``--control``.
    """
    matches = [g for g in groups if CONTROL_NAME.search(g)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AnalysisInputError(
            "no group is named like a vehicle/control group; name it with --control",
            column="group",
        )
    raise AnalysisInputError(
        f"several groups look like controls ({', '.join(matches)}); choose one with --control",
        column="group",
    )


def default_analysis_day(data: GrowthData, control: str, *, min_fraction: float = 0.8) -> float:
    """The last day on which the control animals measured that day are ≥ 80 % of all controls.

    "All controls" are the distinct control animals in the file (the Vivolog convention of
    issue 7: TGI is read on the last day the control arm is still mostly complete, because
    the largest control tumours leave the study first and bias later means downwards).
    Raises AnalysisInputError if the control arm never reaches that fraction.
    """
    members = data.members(control)
    if members.size == 0:
        raise AnalysisInputError(f"the control group '{control}' has no animals", column="group")
    measured = np.sum(~np.isnan(data.volume_mm3[members]), axis=0)
    good = np.flatnonzero(measured >= min_fraction * members.size - 1e-9)
    if good.size == 0:
        raise AnalysisInputError(
            f"on no day were {min_fraction:.0%} of the control animals measured; give --day",
            column="day",
        )
    return float(data.days[good[-1]])


def carry_last_observation_forward(data: GrowthData) -> GrowthData:
    """LOCF: each animal's last measured volume fills its later empty days (and gaps).

    A *sensitivity* analysis only: it assumes a tumour stops growing when the animal leaves the
    study, which flatters the control arm. Days before an animal's first measurement stay empty.
    """
    volume = data.volume_mm3.copy()
    for row in range(volume.shape[0]):
        last = math.nan
        for col in range(volume.shape[1]):
            if math.isnan(volume[row, col]):
                volume[row, col] = last
            else:
                last = volume[row, col]
    return GrowthData(
        animals=data.animals,
        animal_group=data.animal_group,
        groups=data.groups,
        days=data.days,
        volume_mm3=volume,
        cages=data.cages,
    )


# ---------------------------------------------------------------------------------------------
# Curves


@dataclass(frozen=True)
class CurvePoint:
    """One plotted point of a group's growth curve."""

    day: float
    n: int
    mean_volume_mm3: float
    sem_volume_mm3: float
    geometric_mean_volume_mm3: float
    median_volume_mm3: float


@dataclass(frozen=True)
class GroupCurve:
    """A group's curve up to the day before the stop rule first applies."""

    group: str
    n_randomized: int
    points: tuple[CurvePoint, ...]
    stopped_on_day: float | None


def group_curves(
    data: GrowthData, *, min_fraction: float = 0.5, min_animals: int = 3
) -> tuple[GroupCurve, ...]:
    """Per-day mean ± SEM (SD with n - 1, over √n), geometric mean and median for each group.

    Stop rule: a curve ends before the first day on which fewer than ``min_fraction`` (50 %) of
    the arm's randomized animals — the arm's distinct animals in the file — or fewer than
    ``min_animals`` (3) were measured; later days are not plotted even if n recovers, because
    the survivors are then a selected subset (the NCI/ORCHID convention for mean curves).
    An arm with fewer than 3 animals therefore has no curve. ``n`` is given at every point.
    ``stopped_on_day`` is the first day that failed the rule (None if the curve runs to the end).
    """
    curves: list[GroupCurve] = []
    for group in data.groups:
        block = data.volume_mm3[data.members(group)]
        n_randomized = block.shape[0]
        points: list[CurvePoint] = []
        stopped: float | None = None
        for col, day in enumerate(data.days):
            values = block[:, col][~np.isnan(block[:, col])]
            if values.size < min_fraction * n_randomized or values.size < min_animals:
                stopped = float(day)
                break
            points.append(
                CurvePoint(
                    day=float(day),
                    n=int(values.size),
                    mean_volume_mm3=_mean(values),
                    sem_volume_mm3=_sem(values),
                    geometric_mean_volume_mm3=_geometric_mean(values),
                    median_volume_mm3=float(np.median(values)),
                )
            )
        curves.append(GroupCurve(group, n_randomized, tuple(points), stopped))
    return tuple(curves)


# ---------------------------------------------------------------------------------------------
# TGI at one day


@dataclass(frozen=True)
class GroupTGI:
    """Group summary and TGI against the control at one analysis day."""

    group: str
    n: int
    n_randomized: int
    missing: tuple[str, ...]
    mean_volume_mm3: float
    sem_volume_mm3: float
    geometric_mean_volume_mm3: float
    median_volume_mm3: float
    tc_percent: float
    median_tc_percent: float
    tgi_volume_percent: float
    tgi_delta_percent: float
    tgi_rtv_percent: float


@dataclass(frozen=True)
class TGIComponents:
    """Per-animal quantities whose group means enter the three TGI definitions.

    ``end``: volume on the analysis day (animals measured that day); ``delta``: V_day - V_base
    (animals measured on both days); ``ratio``: V_day / V_base (both days and V_base > 0).
    """

    end: FloatArray
    delta: FloatArray
    ratio: FloatArray


def tgi_components(
    data: GrowthData, group: str, *, day: float, baseline_day: float
) -> TGIComponents:
    """The per-animal end volumes, changes and relative volumes of ``group`` (see TGIComponents)."""
    block = data.volume_mm3[data.members(group)]
    end = block[:, data.day_index(day)]
    base = block[:, data.day_index(baseline_day)]
    both = ~np.isnan(end) & ~np.isnan(base)
    with_ratio = both & (base > 0)
    return TGIComponents(
        end=end[~np.isnan(end)],
        delta=end[both] - base[both],
        ratio=end[with_ratio] / base[with_ratio],
    )


def tgi_percent(treated: FloatArray, control: FloatArray) -> float:
    """100 · (1 - mean(T) / mean(C)); NaN for an empty arm or a zero control mean.

    With T, C the end volumes this is the volume TGI (100 - T/C %); with V_day - V_base it is
    the ΔTGI of the NCI (Hather et al. 2014, Cancer Informatics 13:65); with V_day/V_base the
    RTV-based TGI. Values above 100 mean regression and are reported, never capped; negative
    values mean the treated arm grew faster.
    """
    mean_c = _mean(control)
    mean_t = _mean(treated)
    if not (math.isfinite(mean_c) and math.isfinite(mean_t)) or mean_c == 0:
        return math.nan
    return 100.0 * (1.0 - mean_t / mean_c)


def tgi_at_day(
    data: GrowthData, *, control: str, day: float, baseline_day: float
) -> tuple[GroupTGI, ...]:
    """Every group's summary at ``day`` and its TGI against ``control`` (issue 7 definitions).

    * n, mean, SEM (SD with n - 1, over √n), geometric mean, median over animals measured on
      ``day``; ``missing`` lists the group's animals without a measurement that day;
    * tc_percent = 100 · mean(T)/mean(C); tgi_volume_percent = 100 - tc_percent;
    * median_tc_percent = 100 · median(T)/median(C) (NCI activity criterion, median based);
    * tgi_delta_percent = 100 · (1 - mean(T_day - T_base)/mean(C_day - C_base)) over animals
      measured on both days; above 100 % means regression (not capped);
    * tgi_rtv_percent = 100 · (1 - mean(T_day/T_base)/mean(C_day/C_base)), animals with
      T_base = 0 left out.
    Empty groups or a zero control denominator give NaN. The control's own row has T/C 100 %
    and TGI 0 % (when defined).
    """
    if day < baseline_day:
        raise AnalysisInputError(
            f"the analysis day {format_day(day)} is before the baseline day "
            f"{format_day(baseline_day)}",
            column="day",
        )
    data.require_group(control, "--control")
    col = data.day_index(day)
    control_parts = tgi_components(data, control, day=day, baseline_day=baseline_day)
    control_median = float(np.median(control_parts.end)) if control_parts.end.size else math.nan
    results: list[GroupTGI] = []
    for group in data.groups:
        members = data.members(group)
        end_all = data.volume_mm3[members, col]
        missing = tuple(
            data.animals[i] for i, v in zip(members, end_all, strict=True) if math.isnan(v)
        )
        parts = tgi_components(data, group, day=day, baseline_day=baseline_day)
        mean_t = _mean(parts.end)
        median_t = float(np.median(parts.end)) if parts.end.size else math.nan
        tc = _ratio_percent(mean_t, _mean(control_parts.end))
        results.append(
            GroupTGI(
                group=group,
                n=int(parts.end.size),
                n_randomized=int(members.size),
                missing=missing,
                mean_volume_mm3=mean_t,
                sem_volume_mm3=_sem(parts.end),
                geometric_mean_volume_mm3=_geometric_mean(parts.end),
                median_volume_mm3=median_t,
                tc_percent=tc,
                median_tc_percent=_ratio_percent(median_t, control_median),
                tgi_volume_percent=100.0 - tc,
                tgi_delta_percent=tgi_percent(parts.delta, control_parts.delta),
                tgi_rtv_percent=tgi_percent(parts.ratio, control_parts.ratio),
            )
        )
    return tuple(results)


@dataclass(frozen=True)
class Interval:
    lower: float
    upper: float


@dataclass(frozen=True)
class TGIBootstrap:
    """Percentile bootstrap intervals of one group's TGIs (NaN bounds when undefined)."""

    group: str
    volume: Interval
    delta: Interval
    rtv: Interval


def bootstrap_means(values: FloatArray, n_resamples: int, rng: np.random.Generator) -> FloatArray:
    """Means of ``n_resamples`` resamples (with replacement, same size) of ``values``.

    An empty array gives NaN means (the statistic is undefined, not zero).
    """
    if values.size == 0:
        return np.full(n_resamples, np.nan)
    picks = rng.integers(0, values.size, size=(n_resamples, values.size))
    result: FloatArray = values[picks].mean(axis=1)
    return result


def percentile_interval(replicates: FloatArray, confidence: float) -> Interval:
    """Percentile interval of the finite replicates (NaN when fewer than 2 are finite)."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size < 2:
        return Interval(math.nan, math.nan)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return Interval(float(low), float(high))


def bootstrap_tgi(
    data: GrowthData,
    *,
    control: str,
    day: float,
    baseline_day: float,
    rng: np.random.Generator,
    n_resamples: int = 2000,
    confidence: float = 0.95,
) -> tuple[TGIBootstrap, ...]:
    """Seeded percentile bootstrap CIs of the three TGIs of every group against the control.

    Animals are resampled with replacement within each arm independently (treated and control),
    the stratified nonparametric bootstrap (Efron & Tibshirani 1993, ch. 13); each replicate's
    TGI uses the formulas of :func:`tgi_at_day`. Replicates with an undefined TGI (zero control
    mean) are dropped before the percentiles. Randomness comes only from ``rng``: the same seed
    gives the same intervals. The control's own interval is computed against independent
    resamples of itself, so it shows the sampling noise of a null effect.
    """
    control_parts = tgi_components(data, control, day=day, baseline_day=baseline_day)
    results: dict[str, TGIBootstrap] = {}
    # Draw in sorted group order so that the intervals do not depend on the row order of the file.
    for group in sorted(data.groups, key=natural_key):
        parts = tgi_components(data, group, day=day, baseline_day=baseline_day)
        intervals: list[Interval] = []
        for treated, reference in (
            (parts.end, control_parts.end),
            (parts.delta, control_parts.delta),
            (parts.ratio, control_parts.ratio),
        ):
            t_means = bootstrap_means(treated, n_resamples, rng)
            c_means = bootstrap_means(reference, n_resamples, rng)
            with np.errstate(divide="ignore", invalid="ignore"):
                replicates = 100.0 * (1.0 - t_means / c_means)
            replicates[c_means == 0] = np.nan
            intervals.append(percentile_interval(replicates, confidence))
        results[group] = TGIBootstrap(group, intervals[0], intervals[1], intervals[2])
    return tuple(results[group] for group in data.groups)


# ---------------------------------------------------------------------------------------------
# Regressions and mRECIST


@dataclass(frozen=True)
class RegressionRules:
    """Named regression definitions (defaults from issue 7, after NCI/DTP practice).

    * partial: volume ≤ ``partial_fraction_of_baseline`` x baseline volume on ``consecutive``
      consecutive measurements;
    * complete: volume < ``complete_below_mm3`` (0 = not palpable) on ``consecutive``
      consecutive measurements;
    * tumour-free: a complete regression whose last measurement is still below the threshold.
    """

    partial_fraction_of_baseline: float = 0.5
    complete_below_mm3: float = 13.5
    consecutive: int = 3

    def describe(self) -> dict[str, str]:
        return {
            "partial": (
                f"volume <= {self.partial_fraction_of_baseline:g} x baseline on "
                f"{self.consecutive} consecutive measurements (animals with a complete "
                "regression are not counted again)"
            ),
            "complete": (
                f"volume < {self.complete_below_mm3:g} mm3 or not palpable on "
                f"{self.consecutive} consecutive measurements"
            ),
            "tumour_free": "complete regression still present at the animal's last measurement",
        }


@dataclass(frozen=True)
class RegressionCounts:
    complete: int
    partial: int
    tumour_free: int


def _has_run(flags: Sequence[bool], length: int) -> bool:
    run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        if run >= length:
            return True
    return False


def regressions(
    data: GrowthData, *, baseline_day: float, rules: RegressionRules | None = None
) -> dict[str, RegressionCounts]:
    """Count complete, partial and tumour-free regressions per group over the whole study.

    Each animal's measurements after ``baseline_day`` are taken in day order, skipping days
    without a measurement (a missed caliper day does not break a run). Partial needs the
    baseline volume; an animal without one is assessed for complete regression only. Complete
    regressions are not counted again as partial (the categories are exclusive, as in NCI
    tables). Whole-study window: regressions are typically late events and "tumour-free" refers
    to the end of follow-up, not to the TGI day.
    """
    rules = rules or RegressionRules()
    base_col = data.day_index(baseline_day)
    after = data.days > baseline_day
    counts: dict[str, RegressionCounts] = {}
    for group in data.groups:
        complete = partial = tumour_free = 0
        for row in data.members(group):
            series = data.volume_mm3[row, after]
            series = series[~np.isnan(series)]
            if series.size == 0:
                continue
            below = [bool(v < rules.complete_below_mm3) for v in series]
            if _has_run(below, rules.consecutive):
                complete += 1
                if below[-1]:
                    tumour_free += 1
                continue
            base = data.volume_mm3[row, base_col]
            if math.isnan(base):
                continue
            shrunk = [bool(v <= rules.partial_fraction_of_baseline * base) for v in series]
            if _has_run(shrunk, rules.consecutive):
                partial += 1
        counts[group] = RegressionCounts(complete, partial, tumour_free)
    return counts


def mrecist_category(
    time_days: FloatArray, volume_mm3: FloatArray, *, min_time_days: float = 10.0
) -> str | None:
    """mRECIST class of one animal (Gao et al. 2015, Nat Med 21:1318, Methods).

    ``time_days`` starts at the baseline (time 0, V0 = the first volume); NaN volumes are
    skipped. Response_t = 100 (V_t - V0)/V0; BestResponse = min over t ≥ 10 d of Response_t;
    BestAvgResponse = min over t ≥ 10 d of the running mean of Response from t = 0 to t (the
    running mean includes the baseline's 0, as the Xeva reference implementation does). Rules
    applied in order, later ones overriding: PD; SD if BR < 35 and BAR < 30; PR if BR < -50 and
    BAR < -20; CR if BR < -95 and BAR < -40. Returns "pd"/"sd"/"pr"/"cr", or None when the animal
    has no baseline, a zero baseline, or no measurement at t ≥ ``min_time_days``.
    """
    keep = ~np.isnan(volume_mm3)
    t = np.asarray(time_days, dtype=np.float64)[keep]
    v = np.asarray(volume_mm3, dtype=np.float64)[keep]
    if v.size == 0 or t[0] != 0 or v[0] <= 0:
        return None
    response = 100.0 * (v - v[0]) / v[0]
    running = np.cumsum(response) / np.arange(1, response.size + 1)
    late = t >= min_time_days
    if not np.any(late):
        return None
    best = float(np.min(response[late]))
    best_average = float(np.min(running[late]))
    category = "pd"
    if best < 35 and best_average < 30:
        category = "sd"
    if best < -50 and best_average < -20:
        category = "pr"
    if best < -95 and best_average < -40:
        category = "cr"
    return category


def mrecist_counts(
    data: GrowthData, *, baseline_day: float, last_day: float, min_time_days: float = 10.0
) -> dict[str, dict[str, int]]:
    """mRECIST counts {cr, pr, sd, pd} per group using measurements from baseline to last_day.

    Animals that cannot be classified (see :func:`mrecist_category`) are not counted.
    """
    window = (data.days >= baseline_day) & (data.days <= last_day)
    times = data.days[window] - baseline_day
    counts: dict[str, dict[str, int]] = {}
    for group in data.groups:
        tally = {"cr": 0, "pr": 0, "sd": 0, "pd": 0}
        for row in data.members(group):
            series = data.volume_mm3[row, window]
            if series.size == 0 or math.isnan(series[0]):
                continue
            category = mrecist_category(times, series, min_time_days=min_time_days)
            if category is not None:
                tally[category] += 1
        counts[group] = tally
    return counts


# ---------------------------------------------------------------------------------------------
# Waterfall and body weight


@dataclass(frozen=True)
class AnimalChange:
    animal: str
    group: str
    best_percent_change: float
    day: float


def best_percent_change(
    data: GrowthData, *, baseline_day: float, last_day: float | None = None
) -> tuple[AnimalChange, ...]:
    """Best (lowest) % change from baseline per animal, for waterfall plots.

    best = min over baseline < day ≤ last_day of 100 (V_day - V_base)/V_base, with the day it
    was reached. Animals without a baseline, with a zero baseline, or with no later measurement
    are left out. Sorted by group order, then descending change (the usual waterfall order).
    """
    base_col = data.day_index(baseline_day)
    end = data.days[-1] if last_day is None else last_day
    window = np.flatnonzero((data.days > baseline_day) & (data.days <= end))
    rows: list[AnimalChange] = []
    for group in data.groups:
        changes: list[AnimalChange] = []
        for row in data.members(group):
            base = data.volume_mm3[row, base_col]
            series = data.volume_mm3[row, window]
            if math.isnan(base) or base <= 0 or np.all(np.isnan(series)):
                continue
            percent = 100.0 * (series - base) / base
            best = int(np.nanargmin(percent))
            changes.append(
                AnimalChange(
                    data.animals[row], group, float(percent[best]), float(data.days[window[best]])
                )
            )
        rows.extend(sorted(changes, key=lambda c: -c.best_percent_change))
    return tuple(rows)


def tumour_corrected_weight_g(
    weight_g: FloatArray, volume_mm3: FloatArray, *, density_mg_per_mm3: float = 1.0
) -> FloatArray:
    """Body weight without the tumour: weight_g - volume_mm3 x density / 1000.

    Tumour density 1 mg/mm³ (water; the convention of most xenograft SOPs). NaN in either input
    gives NaN. A tumour heavier than the animal is an input error (AnalysisInputError).
    """
    weight = np.asarray(weight_g, dtype=np.float64)
    volume = np.asarray(volume_mm3, dtype=np.float64)
    corrected: FloatArray = weight - volume * density_mg_per_mm3 / 1000.0
    if np.any(corrected[np.isfinite(corrected)] <= 0):
        raise AnalysisInputError(
            "a tumour weighs as much as the animal: check the units (g and mm³)",
            column="weight_g",
        )
    return corrected


# ---------------------------------------------------------------------------------------------
# Growth delay (time to k x V0) with a small Kaplan-Meier


@dataclass(frozen=True)
class TimeToEvent:
    time_days: float
    event: bool


def time_to_fold_volume(
    time_days: FloatArray, volume_mm3: FloatArray, fold: float
) -> TimeToEvent | None:
    """Time at which one tumour first reaches ``fold`` x V0 (V0 = the volume at time 0).

    Log-linear interpolation between the last measurement below and the first at or above the
    target: t = t1 + (ln target - ln V1)/(ln V2 - ln V1) · (t2 - t1) (exponential growth between
    measurements, as in Hather et al. 2014). If V1 is 0 the log is undefined and t2 is used.
    Never reached → censored at the last measurement. None if V0 is missing or 0.
    """
    keep = ~np.isnan(volume_mm3)
    t = np.asarray(time_days, dtype=np.float64)[keep]
    v = np.asarray(volume_mm3, dtype=np.float64)[keep]
    if v.size == 0 or t[0] != 0 or v[0] <= 0:
        return None
    target = fold * v[0]
    for j in range(1, v.size):
        if v[j] >= target:
            v1, v2, t1, t2 = v[j - 1], v[j], t[j - 1], t[j]
            if v1 <= 0 or v2 == v1:
                return TimeToEvent(float(t2), True)
            fraction = (math.log(target) - math.log(v1)) / (math.log(v2) - math.log(v1))
            return TimeToEvent(float(t1 + fraction * (t2 - t1)), True)
    return TimeToEvent(float(t[-1]), False)


def kaplan_meier_median(times: FloatArray, events: BoolArray) -> float:
    """Kaplan-Meier median (product-limit), with R ``survfit``'s rule for a flat S = 0.5.

    The median is the first time with S(t) ≤ 0.5; if S(t) equals 0.5 (within √eps) on a
    stretch, the midpoint between the start of that stretch and the next event time
    (``quantile.survfit``). NaN when S never reaches 0.5 (median not reached) or no subjects.
    Censoring at a time with events: the censored subjects are still at risk at that time.
    """
    if times.size == 0:
        return math.nan
    event_times = np.unique(times[events])
    survival = 1.0
    tol = math.sqrt(np.finfo(float).eps)
    steps: list[tuple[float, float]] = []
    for t in event_times:
        at_risk = int(np.sum(times >= t))
        died = int(np.sum((times == t) & events))
        survival *= 1.0 - died / at_risk
        steps.append((float(t), survival))
    for k, (t, s) in enumerate(steps):
        if abs(s - 0.5) < tol:
            later = [u for u, s2 in steps[k + 1 :] if s2 < s - tol]
            return (t + later[0]) / 2.0 if later else t
        if s < 0.5:
            return t
    return math.nan


@dataclass(frozen=True)
class GroupDelay:
    group: str
    n: int
    events: int
    median_days: float
    delay_days: float


def growth_delay(
    data: GrowthData, *, control: str, baseline_day: float, fold: float = 2.0
) -> tuple[GroupDelay, ...]:
    """Tumour growth delay T - C: difference of Kaplan-Meier median times to ``fold`` x V0.

    Per animal :func:`time_to_fold_volume` over all its measurements from the baseline (animals
    without a positive baseline volume are left out); per group the KM median
    (:func:`kaplan_meier_median`, censored animals as censored); delay = median_T - median_C
    (Corbett et al. 1977, T - C). NaN median when not reached; then the delay is NaN too.
    """
    data.require_group(control, "--control")
    window = data.days >= baseline_day
    times = data.days[window] - baseline_day
    medians: dict[str, tuple[int, int, float]] = {}
    for group in data.groups:
        outcomes = [
            time_to_fold_volume(times, data.volume_mm3[row, window], fold)
            for row in data.members(group)
        ]
        kept = [o for o in outcomes if o is not None]
        t = np.array([o.time_days for o in kept], dtype=np.float64)
        e = np.array([o.event for o in kept], dtype=bool)
        medians[group] = (len(kept), int(e.sum()), kaplan_meier_median(t, e))
    control_median = medians[control][2]
    return tuple(
        GroupDelay(group, n, events, median, median - control_median)
        for group, (n, events, median) in medians.items()
    )


# ---------------------------------------------------------------------------------------------
# Group comparisons at one day


@dataclass(frozen=True)
class PairwiseTest:
    a: str
    b: str
    difference: float
    p: float
    ci_lower: float
    ci_upper: float


@dataclass(frozen=True)
class GroupComparison:
    """One-way tests of the volumes (or log volumes) of several groups on one day."""

    day: float
    transform: str
    groups: tuple[str, ...]
    excluded: tuple[str, ...]
    anova_f: float
    anova_p: float
    welch_f: float
    welch_p: float
    kruskal_h: float
    kruskal_p: float
    tukey: tuple[PairwiseTest, ...]
    dunnett: tuple[PairwiseTest, ...]


def compare_groups(
    data: GrowthData,
    *,
    day: float,
    control: str,
    transform: str = "none",
    floor_mm3: float = 1.0,
    random_state: int = 20250101,
) -> GroupComparison:
    """One-way ANOVA, Welch's ANOVA, Kruskal-Wallis, Tukey HSD and Dunnett vs control at ``day``.

    scipy.stats ``f_oneway`` (equal_var True / False = R ``oneway.test(var.equal=)``),
    ``kruskal`` (= R ``kruskal.test``, tie-corrected), ``tukey_hsd`` (= R ``TukeyHSD``; the
    difference is mean(b) - mean(a) for the pair (a, b) in group order) and ``dunnett``
    (treatment - control; its p-values come from a randomised quasi-Monte Carlo integral, so
    the generator is seeded with ``random_state``: identical results run to run).
    ``transform="log"`` compares ln(max(V, floor_mm3)). Groups with fewer than 2 animals
    measured on the day are excluded (listed in ``excluded``); with fewer than 2 groups left, or
    a control excluded (Dunnett only), the statistics are NaN / empty.
    """
    from scipy import stats  # imported here: scipy.stats costs ~0.4 s at CLI start-up

    if transform not in ("none", "log"):
        raise AnalysisInputError(f"transform must be 'none' or 'log', not '{transform}'")
    data.require_group(control, "--control")
    col = data.day_index(day)
    samples: dict[str, FloatArray] = {}
    excluded: list[str] = []
    for group in data.groups:
        values = data.volume_mm3[data.members(group), col]
        values = values[~np.isnan(values)]
        if transform == "log":
            values = np.log(np.maximum(values, floor_mm3))
        if values.size < 2:
            excluded.append(group)
        else:
            samples[group] = values
    names = list(samples)
    nan = math.nan
    if len(names) < 2:
        return GroupComparison(
            day, transform, tuple(names), tuple(excluded), nan, nan, nan, nan, nan, nan, (), ()
        )
    arrays = [samples[g] for g in names]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anova = stats.f_oneway(*arrays)
        welch = stats.f_oneway(*arrays, equal_var=False)
        try:
            kruskal = stats.kruskal(*arrays)
            kruskal_h, kruskal_p = float(kruskal.statistic), float(kruskal.pvalue)
        except ValueError:  # all values identical
            kruskal_h, kruskal_p = nan, nan
        tukey = stats.tukey_hsd(*arrays)
        tukey_ci = tukey.confidence_interval()
    pairs: list[PairwiseTest] = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            pairs.append(
                PairwiseTest(
                    names[i],
                    names[j],
                    float(-tukey.statistic[i, j]),
                    float(tukey.pvalue[i, j]),
                    float(-tukey_ci.high[i, j]),
                    float(-tukey_ci.low[i, j]),
                )
            )
    dunnett_rows: list[PairwiseTest] = []
    if control in samples and len(names) > 1:
        treated = [g for g in names if g != control]
        result = stats.dunnett(
            *[samples[g] for g in treated],
            control=samples[control],
            rng=np.random.default_rng(random_state),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # CI root-finding tolerance notes on tiny groups
            ci = result.confidence_interval()
        for k, group in enumerate(treated):
            dunnett_rows.append(
                PairwiseTest(
                    control,
                    group,
                    float(np.mean(samples[group]) - np.mean(samples[control])),
                    float(result.pvalue[k]),
                    float(ci.low[k]),
                    float(ci.high[k]),
                )
            )
    return GroupComparison(
        day=day,
        transform=transform,
        groups=tuple(names),
        excluded=tuple(excluded),
        anova_f=float(anova.statistic),
        anova_p=float(anova.pvalue),
        welch_f=float(welch.statistic),
        welch_p=float(welch.pvalue),
        kruskal_h=kruskal_h,
        kruskal_p=kruskal_p,
        tukey=tuple(pairs),
        dunnett=tuple(dunnett_rows),
    )


# ---------------------------------------------------------------------------------------------
# Linear mixed model of log volume


@dataclass(frozen=True)
class Contrast:
    name: str
    estimate: float
    se: float
    z: float
    p: float
    p_holm: float


@dataclass(frozen=True)
class LogVolumeModel:
    """ln V ~ group + group:time, random intercept and slope per animal (+ cage intercept)."""

    groups: tuple[str, ...]
    growth_rate_per_day: dict[str, float]
    growth_rate_se: dict[str, float]
    contrasts: tuple[Contrast, ...]
    cage_effect: bool
    method: str
    n_observations: int
    floor_mm3: float


def whole_cages_randomized(data: GrowthData) -> bool:
    """True when the file has cages and every cage holds animals of one group only."""
    if data.cages is None:
        return False
    group_of_cage: dict[str, str] = {}
    for cage, group in zip(data.cages, data.animal_group, strict=True):
        if group_of_cage.setdefault(cage, group) != group:
            return False
    return len(group_of_cage) > 1


def log_volume_mixed_model(
    data: GrowthData,
    *,
    control: str,
    baseline_day: float,
    last_day: float | None = None,
    floor_mm3: float = 1.0,
    use_cages: bool | None = None,
) -> LogVolumeModel:
    """Linear mixed model of ln volume by arm x day, with planned contrasts vs the control.

    Model (REML, statsmodels ``MixedLM``): ln(max(V, floor_mm3)) ~ 0 + group + group:time with
    time = day - baseline_day, a random intercept and slope per animal (correlated), and — when
    whole cages were randomized (``use_cages`` None = detect with
    :func:`whole_cages_randomized`) — a random cage intercept with animals nested in cages.
    Zero volumes (non-palpable) are floored at ``floor_mm3`` = 1 mm³ before the log, so complete
    responders pull the slope down instead of vanishing from the model. Measurements from the
    baseline to ``last_day`` (default: all) are used; missing days are simply absent (MAR).
    Planned contrasts: each treated arm's log-growth rate minus the control's (per day), Wald
    z-tests with nlme's model-based covariance (:func:`fixed_effect_covariance`; with cages,
    statsmodels' covariance), Holm-adjusted over the treated arms. Optimiser: BFGS, then Powell
    if BFGS does not converge; a model that converges with neither raises AnalysisInputError.
    """
    import pandas as pd
    import statsmodels.formula.api as smf

    data.require_group(control, "--control")
    end = data.days[-1] if last_day is None else last_day
    window = np.flatnonzero((data.days >= baseline_day) & (data.days <= end))
    rows, cols = np.nonzero(~np.isnan(data.volume_mm3[:, window]))
    groups_present = [g for g in data.groups if np.any(np.asarray(data.animal_group)[rows] == g)]
    if control not in groups_present:
        raise AnalysisInputError(
            f"the control group '{control}' has no measurements", column="group"
        )
    frame = pd.DataFrame(
        {
            "y": np.log(np.maximum(data.volume_mm3[rows, window[cols]], floor_mm3)),
            "time": data.days[window[cols]] - baseline_day,
            "group": pd.Categorical(
                [data.animal_group[r] for r in rows], categories=groups_present
            ),
            "animal": [data.animals[r] for r in rows],
        }
    )
    cages = whole_cages_randomized(data) if use_cages is None else use_cages
    if cages:
        if data.cages is None:
            raise AnalysisInputError("use_cages needs a 'cage' column", column="cage")
        frame["cage"] = [data.cages[r] for r in rows]
        model = smf.mixedlm(
            "y ~ 0 + group + group:time",
            frame,
            groups="cage",
            re_formula="1",
            vc_formula={"animal": "0 + C(animal)", "animal_slope": "0 + C(animal):time"},
        )
    else:
        model = smf.mixedlm(
            "y ~ 0 + group + group:time", frame, groups="animal", re_formula="1 + time"
        )
    fit, method = fit_reml(model)
    names = list(model.exog_names)
    slope_index = {g: names.index(f"group[{g}]:time") for g in groups_present}
    beta = np.asarray(fit.fe_params, dtype=np.float64)
    if cages:
        cov = np.asarray(fit.cov_params(), dtype=np.float64)[: beta.size, : beta.size]
    else:
        cov = fixed_effect_covariance(model, fit)
    rates = {g: float(beta[slope_index[g]]) for g in groups_present}
    ses = {g: float(math.sqrt(cov[slope_index[g], slope_index[g]])) for g in groups_present}
    raw: list[tuple[str, float, float]] = []
    for group in groups_present:
        if group == control:
            continue
        c = np.zeros(beta.size)
        c[slope_index[group]] = 1.0
        c[slope_index[control]] = -1.0
        raw.append(
            (
                f"{group} - {control} (log growth rate per day)",
                float(c @ beta),
                float(math.sqrt(c @ cov @ c)),
            )
        )
    zs = [est / se if se > 0 else math.nan for _, est, se in raw]
    ps = [two_sided_normal_p(z) for z in zs]
    adjusted = holm_adjust(ps)
    contrasts = tuple(
        Contrast(name, est, se, z, p, p_adj)
        for (name, est, se), z, p, p_adj in zip(raw, zs, ps, adjusted, strict=True)
    )
    return LogVolumeModel(
        groups=tuple(groups_present),
        growth_rate_per_day=rates,
        growth_rate_se=ses,
        contrasts=contrasts,
        cage_effect=bool(cages),
        method=method,
        n_observations=len(frame),
        floor_mm3=floor_mm3,
    )


def fixed_effect_covariance(model: Any, fit: Any) -> FloatArray:
    """Model-based covariance of the fixed effects, (sum_i X_i' V_i^-1 X_i)^-1, as nlme's vcov.

    V_i = Z_i G Z_i' + sigma^2 I per animal, at the REML estimates of G (``cov_re``) and sigma^2
    (``scale``). statsmodels' own ``cov_params()`` inverts the joint Hessian of fixed effects
    and variance parameters, which differs from nlme's (and SynergyLMM's) standard errors by up to
    ~1e-4 relative when animals have different measurement days; this is the textbook GLS form
    (Pinheiro & Bates 2000, sec. 2.4.2). Only for models without variance components (``vc``).
    """
    exog = np.asarray(model.exog, dtype=np.float64)
    exog_re = np.asarray(model.exog_re, dtype=np.float64)
    g = np.asarray(fit.cov_re, dtype=np.float64)
    scale = float(fit.scale)
    information = np.zeros((exog.shape[1], exog.shape[1]))
    for label in model.group_labels:
        rows = model.row_indices[label]
        x, z = exog[rows], exog_re[rows]
        v = z @ g @ z.T + scale * np.eye(len(rows))
        information += x.T @ np.linalg.solve(v, x)
    covariance = np.asarray(np.linalg.inv(information), dtype=np.float64)
    return covariance


def fit_reml(model: Any, *, start_params: Any = None) -> tuple[Any, str]:
    """Fit a statsmodels MixedLM by REML with BFGS, falling back to Powell.

    statsmodels reproduces nlme's REML only with these two optimisers (its default L-BFGS fails
    with "Singular matrix" on random-slope models; Nelder-Mead is inaccurate). From the default
    start BFGS sometimes stops with a large gradient, so with ``start_params`` (e.g. the
    ``params_object`` of a fit of the same model on more data) BFGS is tried from there first.
    A fit counts as converged when statsmodels says so and the fixed effects and their standard
    errors are finite; a non-converged fit is never returned. Raises AnalysisInputError naming
    every attempt when none converges.

    Speed: when the optimum lies near the boundary (random-slope variance ~0, typical when
    tumours regress) BFGS from the default start stops with a large gradient after its line
    search fails. Restarting BFGS once from where it stopped (a fresh Hessian approximation)
    converges in a few iterations to the same optimum — on the demo-sized study in 0.2 s
    instead of Powell's 1.2 s, fixed effects within 1e-7 and standard errors within 1e-5
    relative of Powell's — so that restart comes before the Powell fallback.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    assert isinstance(model, MixedLM)
    attempts: list[tuple[str, Any]] = []
    if start_params is not None:
        attempts.append(("bfgs", start_params))
    attempts += [("bfgs", None), ("bfgs-restart", None), ("powell", None)]
    problems: list[str] = []
    stopped_at: Any = None
    for method, start in attempts:
        if method == "bfgs-restart":
            if stopped_at is None:
                continue
            start = stopped_at
        optimizer = "bfgs" if method.startswith("bfgs") else method
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                # Powell's default tolerances stop ~1e-4 short in the variance ratio near the
                # boundary (tiny random-slope variance), which moves small p-values visibly.
                options = {"xtol": 1e-12, "ftol": 1e-14} if method == "powell" else {}
                fit = model.fit(reml=True, method=optimizer, start_params=start, **options)
            except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as exc:
                problems.append(f"{method}: {exc}")
                continue
        bse = np.asarray(fit.bse_fe, dtype=np.float64)
        if fit.converged and np.all(np.isfinite(bse)) and np.all(np.isfinite(fit.fe_params)):
            return fit, optimizer
        if optimizer == "bfgs" and start is None and np.all(np.isfinite(fit.fe_params)):
            stopped_at = fit.params_object
        problems.append(f"{method}: did not converge")
    raise AnalysisInputError(
        "the mixed model did not converge (" + "; ".join(problems) + "); the data may have too "
        "few animals or measurement days per group for this model"
    )


# ---------------------------------------------------------------------------------------------
# CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``analyze growth`` (issue 7)."""
    parser.add_argument(
        "--input",
        required=True,
        help="growth CSV (animal,group,day,volume_mm3 or animal,group,day,length_mm,width_mm)",
    )
    parser.add_argument(
        "--tumour",
        choices=("injected", "contralateral"),
        default=None,
        help="analyse one tumour role when the file has a 'tumour' column",
    )
    parser.add_argument(
        "--control",
        default=None,
        help="control group (default: the group named like vehicle/control)",
    )
    parser.add_argument(
        "--baseline-day",
        type=float,
        default=None,
        help="baseline day (default: the first day in the file)",
    )
    parser.add_argument(
        "--day",
        type=float,
        default=None,
        help="analysis day (default: the "
        "last day on which >= 80%% of the control animals were measured)",
    )
    parser.add_argument(
        "--dropout",
        choices=("drop", "locf"),
        default="drop",
        help="drop: animals without a measurement are left out (default); "
        "locf: last observation carried forward (sensitivity analysis)",
    )
    parser.add_argument(
        "--partial-fraction",
        type=float,
        default=0.5,
        help="partial regression: volume <= this fraction of baseline",
    )
    parser.add_argument(
        "--complete-below-mm3",
        type=float,
        default=13.5,
        help="complete regression: volume below this (mm3)",
    )
    parser.add_argument(
        "--consecutive", type=int, default=3, help="consecutive measurements a regression must last"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=0,
        help="bootstrap resamples for TGI confidence intervals (0 = none)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")


def resolve_days(
    data: GrowthData, control: str, baseline_day: float | None, day: float | None
) -> tuple[float, float]:
    """Baseline (default first day) and analysis day (default :func:`default_analysis_day`)."""
    base = float(data.days[0]) if baseline_day is None else float(baseline_day)
    data.day_index(base)
    analysis_day = default_analysis_day(data, control) if day is None else float(day)
    data.day_index(analysis_day)
    if analysis_day < base:
        raise AnalysisInputError(
            f"--day {format_day(analysis_day)} is before the baseline day {format_day(base)}",
            column="day",
        )
    return base, analysis_day


def run(args: argparse.Namespace) -> dict[str, object]:
    """Run ``analyze growth``: the JSON object of issue 7 (undefined numbers are None)."""
    if args.consecutive < 1:
        raise AnalysisInputError("--consecutive must be at least 1")
    if args.bootstrap < 0:
        raise AnalysisInputError("--bootstrap must not be negative")
    data = read_growth_csv(args.input, tumour=args.tumour)
    control = args.control if args.control is not None else find_control(data.groups)
    data.require_group(control, "--control")
    baseline_day, day = resolve_days(data, control, args.baseline_day, args.day)
    if args.dropout == "locf":
        data = carry_last_observation_forward(data)
    rules = RegressionRules(args.partial_fraction, args.complete_below_mm3, args.consecutive)
    summaries = tgi_at_day(data, control=control, day=day, baseline_day=baseline_day)
    regression_counts = regressions(data, baseline_day=baseline_day, rules=rules)
    mrecist = mrecist_counts(data, baseline_day=baseline_day, last_day=day)
    intervals: dict[str, TGIBootstrap] = {}
    if args.bootstrap > 0:
        for interval in bootstrap_tgi(
            data,
            control=control,
            day=day,
            baseline_day=baseline_day,
            rng=np.random.default_rng(args.seed),
            n_resamples=args.bootstrap,
        ):
            intervals[interval.group] = interval
    groups: list[dict[str, object]] = []
    for s in summaries:
        counts = regression_counts[s.group]
        entry: dict[str, object] = {
            "group": s.group,
            "n": s.n,
            "n_randomized": s.n_randomized,
            "missing": list(s.missing),
            "mean_volume_mm3": _finite_or_none(s.mean_volume_mm3),
            "sem_volume_mm3": _finite_or_none(s.sem_volume_mm3),
            "geometric_mean_volume_mm3": _finite_or_none(s.geometric_mean_volume_mm3),
            "tc_percent": _finite_or_none(s.tc_percent),
            "median_tc_percent": _finite_or_none(s.median_tc_percent),
            "tgi_volume_percent": _finite_or_none(s.tgi_volume_percent),
            "tgi_delta_percent": _finite_or_none(s.tgi_delta_percent),
            "tgi_rtv_percent": _finite_or_none(s.tgi_rtv_percent),
            "mrecist": mrecist[s.group],
            "regressions": {
                "complete": counts.complete,
                "partial": counts.partial,
                "tumour_free": counts.tumour_free,
            },
        }
        if s.group in intervals:
            interval = intervals[s.group]
            entry["tgi_ci95"] = {
                name: [_finite_or_none(iv.lower), _finite_or_none(iv.upper)]
                for name, iv in (
                    ("volume", interval.volume),
                    ("delta", interval.delta),
                    ("rtv", interval.rtv),
                )
            }
        groups.append(entry)
    output: dict[str, object] = {
        "control": control,
        "day": json_day(day),
        "baseline_day": json_day(baseline_day),
        "dropout": args.dropout,
        "sensitivity_analysis": args.dropout == "locf",
    }
    if args.dropout == "locf":
        output["note"] = (
            "sensitivity analysis: missing volumes were filled with each animal's last "
            "observation (LOCF); the primary analysis is --dropout drop"
        )
    output["regression_definitions"] = rules.describe()
    if intervals:
        output["bootstrap"] = {
            "resamples": args.bootstrap,
            "seed": args.seed,
            "method": "percentile",
        }
    output["groups"] = groups
    return output


__all__ = [
    "AnimalChange",
    "CurvePoint",
    "GroupComparison",
    "GroupCurve",
    "GroupDelay",
    "GroupTGI",
    "LogVolumeModel",
    "RegressionRules",
    "add_arguments",
    "best_percent_change",
    "bootstrap_tgi",
    "carry_last_observation_forward",
    "compare_groups",
    "default_analysis_day",
    "find_control",
    "growth_delay",
    "holm_adjust",
    "kaplan_meier_median",
    "log_volume_mixed_model",
    "mrecist_category",
    "regressions",
    "run",
    "tgi_at_day",
    "tumour_corrected_weight_g",
]
