"""Survival of tumour-bearing mice: Kaplan-Meier, log-rank, increase in lifespan and Cox ratios.

Every number here follows R's ``survival`` package (Therneau), which is what biostatisticians check
against:

* Kaplan-Meier and Greenwood's variance as ``survfit(..., conf.type = "log")``;
* the median and its confidence limits as ``quantile.survfit`` (midpoint rule on flat stretches);
* the log-rank test as ``survdiff(..., rho = 0)``;
* hazard ratios as ``coxph(..., ties = "efron")`` with Wald confidence intervals.

Time is in days (``time_days``); ``event`` is 1 when the endpoint (or death) was observed and 0 when
the animal was censored. Rows with a missing time or event are refused by the reader: censoring is
always explicit, never inferred from a blank cell.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import special

from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.tabular import distinct_in_order, parse_float, read_table, require_text

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: R's ``quantile.survfit`` tolerance for "S(t) is exactly 0.5": sqrt(machine epsilon).
QUANTILE_TOLERANCE = math.sqrt(np.finfo(float).eps)

#: A Cox coefficient beyond this (hazard ratio above 3e6 or below 3e-7) is a monotone likelihood:
#: the estimate runs off to infinity and R only reports "beta may be infinite".
COX_INFINITE_COEFFICIENT = 15.0

_CONTROL_NAME = re.compile(r"vehicle|control", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class KaplanMeierCurve:
    """The Kaplan-Meier step function at every distinct time (events and censorings).

    ``survival[i]`` holds on ``[time_days[i], time_days[i + 1])``. ``std_err_log`` is Greenwood's
    standard error of log S (R's ``fit$std.err``); ``std_err`` that of S itself (what
    ``summary.survfit`` prints). ``lower``/``upper`` are NaN where S is 0 (R prints NA).
    """

    time_days: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    survival: FloatArray
    std_err_log: FloatArray
    lower: FloatArray
    upper: FloatArray
    conf_level: float

    @property
    def std_err(self) -> FloatArray:
        with np.errstate(invalid="ignore"):
            return self.survival * self.std_err_log


@dataclass(frozen=True)
class MedianSurvival:
    """Median survival in days and its confidence limits; ``None`` where not reached."""

    median_days: float | None
    lower_days: float | None
    upper_days: float | None


@dataclass(frozen=True)
class LogRankResult:
    """A log-rank test; ``chi2``/``p`` are ``None`` when no test is possible (see policy)."""

    chi2: float | None
    df: int
    p: float | None
    observed: tuple[float, ...]
    expected: tuple[float, ...]


@dataclass(frozen=True)
class PairwiseLogRank:
    a: str
    b: str
    chi2: float | None
    p: float | None
    p_holm: float | None


@dataclass(frozen=True)
class HazardRatio:
    """Cox hazard ratio of ``group`` against the control; ``None`` values with a ``note``."""

    group: str
    coefficient: float | None
    se: float | None
    hazard_ratio: float | None
    lower: float | None
    upper: float | None
    p: float | None
    note: str | None = None


@dataclass(frozen=True)
class GroupSurvival:
    group: str
    n: int
    events: int
    median: MedianSurvival
    ils_percent: float | None
    hazard_ratio: HazardRatio | None
    curve: KaplanMeierCurve = field(repr=False)


@dataclass(frozen=True)
class SurvivalAnalysis:
    control: str
    groups: tuple[GroupSurvival, ...]
    logrank: LogRankResult
    pairwise: tuple[PairwiseLogRank, ...]
    conf_level: float
    cox_converged: bool


# --------------------------------------------------------------------------------------------
# Kaplan-Meier


def _as_arrays(
    time_days: Sequence[float] | FloatArray, event: Sequence[int] | IntArray
) -> tuple[FloatArray, IntArray]:
    times = np.asarray(time_days, dtype=np.float64)
    events = np.asarray(event, dtype=np.int64)
    if times.shape != events.shape or times.ndim != 1:
        raise ValueError("time_days and event must be 1-D arrays of the same length")
    if np.isnan(times).any():
        raise ValueError("time_days contains NaN: censoring must be explicit")
    if not np.isin(events, (0, 1)).all():
        raise ValueError("event must be 0 (censored) or 1 (event)")
    return times, events


def kaplan_meier(
    time_days: Sequence[float] | FloatArray,
    event: Sequence[int] | IntArray,
    *,
    conf_level: float = 0.95,
) -> KaplanMeierCurve:
    """Kaplan-Meier estimate with Greenwood variance and log-transformed confidence limits.

    Formula: S(t) = Π_{t_i ≤ t} (1 - d_i / n_i); var(log S) = Σ d_i / (n_i (n_i - d_i))
    (Greenwood); limits S · exp(±z·sd) with sd = √var(log S), z = Φ⁻¹((1 + conf_level) / 2),
    the upper capped at 1.
    Source: R survival ``survfit.formula`` with ``conf.type = "log"`` (its default).

    Policy: animals censored at a time are at risk at that time (censoring after the deaths).
    Where S reaches 0 the variance is infinite and the limits are NaN, as R's NA. An empty
    input gives an empty curve; NaN times are refused (censoring must be explicit).
    """
    times, events = _as_arrays(time_days, event)
    unique = np.unique(times)
    n_at = len(times) - np.searchsorted(np.sort(times), unique, side="left")
    d_at = np.array([int(events[times == t].sum()) for t in unique], dtype=np.int64)
    c_at = np.array([int((times == t).sum()) for t in unique], dtype=np.int64) - d_at
    n_risk = n_at.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = 1.0 - d_at / n_risk
        survival = np.cumprod(factors) if len(unique) else np.zeros(0)
        increments = np.where(d_at > 0, d_at / (n_risk * (n_risk - d_at).astype(float)), 0.0)
        std_err_log = np.sqrt(np.cumsum(increments))
        z = float(special.ndtri((1.0 + conf_level) / 2.0))
        lower = survival * np.exp(-z * std_err_log)
        upper = np.minimum(1.0, survival * np.exp(z * std_err_log))
    dead = (survival <= 0.0) | ~np.isfinite(std_err_log)
    lower = np.where(dead, np.nan, lower)
    upper = np.where(dead, np.nan, upper)
    return KaplanMeierCurve(
        time_days=unique.astype(np.float64),
        n_risk=n_risk,
        n_event=d_at,
        n_censor=c_at,
        survival=survival.astype(np.float64),
        std_err_log=std_err_log.astype(np.float64),
        lower=lower.astype(np.float64),
        upper=upper.astype(np.float64),
        conf_level=conf_level,
    )


def _r_findq(x: FloatArray, y: FloatArray, p: float, tol: float) -> float | None:
    """R's ``survival:::findq`` for one probability: where the failure curve ``y`` crosses p."""
    finite = ~np.isnan(y)
    if not finite.any() or float(np.nanmax(y)) < p:
        return None
    xmax = float(x[-1])
    keep_x: list[float] = []
    keep_y: list[float] = []
    seen_nan = False
    for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
        if math.isnan(yi):
            if seen_nan:
                continue
            seen_nan = True
        elif keep_y and any(yi == prior for prior in keep_y if not math.isnan(prior)):
            continue
        keep_x.append(xi)
        keep_y.append(yi)
    usable = [(index, value) for index, value in enumerate(keep_y) if not math.isnan(value)]

    def first_index(shift: float) -> int | None:
        # approx(y + shift, 1:n, p, method = "constant", f = 1): the first knot at or above p.
        if not usable or p < usable[0][1] + shift or p > usable[-1][1] + shift:
            return None
        for index, value in usable:
            if value + shift >= p:
                return index
        return None

    index1 = first_index(tol)
    index2 = first_index(-tol)
    last = keep_y[-1]
    if not math.isnan(last) and abs(p - last) < tol and index1 is not None:
        return (keep_x[index1] + xmax) / 2.0
    if index1 is None or index2 is None:
        return None
    return (keep_x[index1] + keep_x[index2]) / 2.0


def median_survival(curve: KaplanMeierCurve, *, probability: float = 0.5) -> MedianSurvival:
    """Median survival (or another quantile) and its confidence interval, as R computes them.

    Rule (R survival ``quantile.survfit``): the first time at which S(t) ≤ 0.5; where S(t) equals
    0.5 within √ε along a flat stretch, the midpoint of that stretch (if the curve ends on the
    flat, the midpoint between its start and the last follow-up time). The lower (upper) limit is
    the same rule applied to the lower (upper) confidence curve.

    Policy: ``None`` where the curve never falls to 0.5 ("not reached") — for example when every
    animal is censored, or for an empty group.
    """
    if len(curve.time_days) == 0:
        return MedianSurvival(None, None, None)
    x = np.concatenate(([0.0], curve.time_days))

    def quantile_of(surv: FloatArray) -> float | None:
        return _r_findq(x, np.concatenate(([0.0], 1.0 - surv)), probability, QUANTILE_TOLERANCE)

    return MedianSurvival(
        median_days=quantile_of(curve.survival),
        lower_days=quantile_of(curve.lower),
        upper_days=quantile_of(curve.upper),
    )


def numbers_at_risk(time_days: Sequence[float] | FloatArray, at_days: Sequence[float]) -> IntArray:
    """Animals still at risk at each of ``at_days``: those whose time is ≥ that day.

    Source: the ``n.risk`` of R's ``summary(survfit(...), times = at_days)`` (an animal that dies
    or is censored on a day is counted at risk on that day). Used for the table under KM plots.
    """
    times = np.sort(np.asarray(time_days, dtype=np.float64))
    at = np.asarray(at_days, dtype=np.float64)
    return (len(times) - np.searchsorted(times, at, side="left")).astype(np.int64)


# --------------------------------------------------------------------------------------------
# Log-rank


def logrank_test(
    time_days: Sequence[float] | FloatArray,
    event: Sequence[int] | IntArray,
    groups: Sequence[str],
) -> LogRankResult:
    """K-sample log-rank test.

    Formula: at each distinct event time with n at risk and d deaths, E_g = n_g d / n and
    V_gh = d (n - d) / (n - 1) · n_g / n · (δ_gh - n_h / n); χ² = (O - E)ᵀ V⁻ (O - E) over all
    but the first group with E > 0, df = (groups with E > 0) - 1. Source: R ``survdiff`` (rho = 0).

    Policy: groups with no animal at risk at any event time (E = 0) leave the test, as in R. When
    there is no event at all, or fewer than two groups remain, there is no statistic: ``chi2`` and
    ``p`` are ``None`` (R would print 0; a made-up 0 would read as "no difference").
    """
    times, events = _as_arrays(time_days, event)
    labels = distinct_in_order(groups)
    codes = np.array([labels.index(g) for g in groups], dtype=np.int64)
    k = len(labels)
    observed = np.zeros(k)
    expected = np.zeros(k)
    variance = np.zeros((k, k))
    for t in np.unique(times[events == 1]):
        at_risk = times >= t
        n_g = np.bincount(codes[at_risk], minlength=k).astype(float)
        d_g = np.bincount(codes[(times == t) & (events == 1)], minlength=k).astype(float)
        n = n_g.sum()
        d = d_g.sum()
        observed += d_g
        expected += n_g * d / n
        if n > 1:
            share = n_g / n
            variance += d * (n - d) / (n - 1) * (np.diag(share) - np.outer(share, share))
    present = expected > 0
    df = int(present.sum()) - 1
    if events.sum() == 0 or df < 1:
        return LogRankResult(None, max(df, 0), None, tuple(observed), tuple(expected))
    difference = (observed - expected)[present][1:]
    v = variance[np.ix_(present, present)][1:, 1:]
    chi2 = float(difference @ np.linalg.solve(v, difference))
    p = float(special.chdtrc(df, chi2))
    return LogRankResult(chi2, df, p, tuple(observed.tolist()), tuple(expected.tolist()))


def stratified_logrank_test(
    time_days: Sequence[float] | FloatArray,
    event: Sequence[int] | IntArray,
    groups: Sequence[str],
    strata: Sequence[str],
) -> LogRankResult:
    """K-sample log-rank test stratified by ``strata`` (e.g. the run of a pooled study).

    Formula: the observed, expected and variance terms of :func:`logrank_test` are computed
    within each stratum (risk sets never mix strata) and summed over strata; then
    χ² = (O - E)ᵀ V⁻ (O - E) over all but the first group with summed E > 0, df = (groups with
    E > 0) - 1. Source: R ``survdiff(Surv(time, event) ~ group + strata(run))`` (rho = 0).

    Policy: as :func:`logrank_test` (no event, or fewer than two groups with E > 0: ``chi2`` and
    ``p`` are ``None``). A stratum with a single group adds nothing (its O equals its E).
    """
    times, events = _as_arrays(time_days, event)
    if len(strata) != len(times):
        raise AnalysisInputError("strata: one stratum per animal is needed")
    labels = distinct_in_order(groups)
    codes = np.array([labels.index(g) for g in groups], dtype=np.int64)
    stratum_of = np.array([str(s) for s in strata], dtype=object)
    k = len(labels)
    observed = np.zeros(k)
    expected = np.zeros(k)
    variance = np.zeros((k, k))
    for stratum in distinct_in_order([str(s) for s in strata]):
        inside = stratum_of == stratum
        s_times, s_events, s_codes = times[inside], events[inside], codes[inside]
        for t in np.unique(s_times[s_events == 1]):
            at_risk = s_times >= t
            n_g = np.bincount(s_codes[at_risk], minlength=k).astype(float)
            d_g = np.bincount(s_codes[(s_times == t) & (s_events == 1)], minlength=k).astype(float)
            n = n_g.sum()
            d = d_g.sum()
            observed += d_g
            expected += n_g * d / n
            if n > 1:
                share = n_g / n
                variance += d * (n - d) / (n - 1) * (np.diag(share) - np.outer(share, share))
    present = expected > 0
    df = int(present.sum()) - 1
    if events.sum() == 0 or df < 1:
        return LogRankResult(None, max(df, 0), None, tuple(observed), tuple(expected))
    difference = (observed - expected)[present][1:]
    v = variance[np.ix_(present, present)][1:, 1:]
    chi2 = float(difference @ np.linalg.solve(v, difference))
    p = float(special.chdtrc(df, chi2))
    return LogRankResult(chi2, df, p, tuple(observed.tolist()), tuple(expected.tolist()))


def holm_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment; ``None`` entries stay ``None`` and are not counted in m.

    Formula: with the m defined p-values sorted, p_(i) adj = max_{j ≤ i} min(1, (m - j + 1) p_(j)).
    Source: Holm (1979); identical to R ``p.adjust(method = "holm")``.
    """
    defined = [(p, index) for index, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    m = len(defined)
    running = 0.0
    for rank, (p, index) in enumerate(sorted(defined)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted


def pairwise_logrank(
    time_days: Sequence[float] | FloatArray,
    event: Sequence[int] | IntArray,
    groups: Sequence[str],
) -> tuple[PairwiseLogRank, ...]:
    """Log-rank test for every unordered pair of groups (in file order), Holm-adjusted over all.

    Policy: a pair in which neither group has an event (or one group has nobody at risk at any
    event time) has no statistic: ``chi2``, ``p`` and ``p_holm`` are ``None`` and the pair does
    not count in Holm's m.
    """
    times, events = _as_arrays(time_days, event)
    labels = distinct_in_order(groups)
    group_array = np.asarray(groups, dtype=object)
    raw: list[tuple[str, str, float | None, float | None]] = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            mask = (group_array == a) | (group_array == b)
            result = logrank_test(times[mask], events[mask], list(group_array[mask]))
            raw.append((a, b, result.chi2, result.p))
    adjusted = holm_adjust([p for *_, p in raw])
    return tuple(
        PairwiseLogRank(a=a, b=b, chi2=chi2, p=p, p_holm=p_holm)
        for (a, b, chi2, p), p_holm in zip(raw, adjusted, strict=True)
    )


# --------------------------------------------------------------------------------------------
# Cox proportional hazards (group indicators, Efron ties)


@dataclass(frozen=True, eq=False)
class _RiskTable:
    """Per distinct event time: animals at risk and events per group (columns)."""

    at_risk: FloatArray
    deaths: FloatArray


def _risk_table(times: FloatArray, events: IntArray, codes: IntArray, k: int) -> _RiskTable:
    event_times = np.unique(times[events == 1])
    at_risk = np.zeros((len(event_times), k))
    deaths = np.zeros((len(event_times), k))
    for row, t in enumerate(event_times):
        at_risk[row] = np.bincount(codes[times >= t], minlength=k)
        deaths[row] = np.bincount(codes[(times == t) & (events == 1)], minlength=k)
    return _RiskTable(at_risk=at_risk, deaths=deaths)


def _efron(beta: FloatArray, table: _RiskTable) -> tuple[float, FloatArray, FloatArray]:
    """Efron log partial likelihood, gradient and information; column 0 is the reference."""
    weights = np.exp(np.concatenate(([0.0], beta)))
    loglik = 0.0
    p = len(beta)
    gradient = np.zeros(p)
    information = np.zeros((p, p))
    for n_g, d_g in zip(table.at_risk, table.deaths, strict=True):
        d = int(d_g.sum())
        loglik += float(d_g[1:] @ beta)
        gradient += d_g[1:]
        for r in range(d):
            share = (n_g - (r / d) * d_g) * weights
            denominator = share.sum()
            loglik -= math.log(denominator)
            mean = share[1:] / denominator
            gradient -= mean
            information += np.diag(mean) - np.outer(mean, mean)
    return loglik, gradient, information


def _fit_cox(table: _RiskTable, p: int) -> tuple[FloatArray, FloatArray, bool]:
    """Newton-Raphson with step halving (as R's ``coxph.fit``); returns β, covariance, converged."""
    beta = np.zeros(p)
    loglik, gradient, information = _efron(beta, table)
    converged = False
    for _ in range(100):
        try:
            step = np.linalg.solve(information, gradient)
        except np.linalg.LinAlgError:
            break
        candidate = beta + step
        new_loglik, new_gradient, new_information = _efron(candidate, table)
        halvings = 0
        while (not math.isfinite(new_loglik) or new_loglik < loglik - 1e-12) and halvings < 30:
            step /= 2.0
            candidate = beta + step
            new_loglik, new_gradient, new_information = _efron(candidate, table)
            halvings += 1
        change = abs(new_loglik - loglik)
        beta, loglik, gradient, information = candidate, new_loglik, new_gradient, new_information
        if np.abs(beta).max(initial=0.0) > 4 * COX_INFINITE_COEFFICIENT:
            break
        if change <= 1e-12 * max(1.0, abs(loglik)) and np.abs(step).max(initial=0.0) < 1e-9:
            converged = True
            break
    try:
        covariance = np.asarray(np.linalg.inv(information), dtype=np.float64)
    except np.linalg.LinAlgError:
        covariance = np.full((p, p), np.nan)
    return beta, covariance, converged


def cox_hazard_ratios(
    time_days: Sequence[float] | FloatArray,
    event: Sequence[int] | IntArray,
    groups: Sequence[str],
    control: str,
    *,
    conf_level: float = 0.95,
) -> tuple[tuple[HazardRatio, ...], bool]:
    """Hazard ratio of every other group against ``control`` from one Cox model.

    Model: h(t | group) = h₀(t) exp(β_group), β_control = 0, fitted by maximising Efron's partial
    likelihood (Newton-Raphson with step halving); Wald limits exp(β ± z · se), p from z = β/se.
    Source: R survival ``coxph(Surv(time, event) ~ group, ties = "efron")`` with the control as
    reference level.

    Policy (monotone likelihood, where the estimate is infinite and R only warns): a group with
    no events has β = -∞; it is reported with ``None`` values and a note, and the other groups are
    fitted without it (the limit of the full fit). If the control has no events, no ratio is
    estimable. A coefficient beyond ±15 after fitting is reported the same way. Returns the
    ratios in group order and whether Newton-Raphson converged.
    """
    times, events = _as_arrays(time_days, event)
    labels = distinct_in_order(groups)
    if control not in labels:
        raise ValueError(f"control group {control!r} has no animals")
    group_array = np.asarray(groups, dtype=object)
    others = [g for g in labels if g != control]
    events_of = {g: int(events[group_array == g].sum()) for g in labels}
    if events_of[control] == 0:
        note = "not estimable: the control group has no events"
        return tuple(HazardRatio(g, None, None, None, None, None, None, note) for g in others), True
    fitted = [g for g in others if events_of[g] > 0]
    order = [control, *fitted]
    keep = np.isin(group_array, order)
    codes = np.array([order.index(g) for g in group_array[keep]], dtype=np.int64)
    table = _risk_table(times[keep], events[keep], codes, len(order))
    beta, covariance, converged = _fit_cox(table, len(fitted))
    z = float(special.ndtri((1.0 + conf_level) / 2.0))
    results: dict[str, HazardRatio] = {}
    for index, g in enumerate(fitted):
        coefficient = float(beta[index])
        variance = float(covariance[index, index])
        se = math.sqrt(variance) if variance > 0 else math.nan
        if abs(coefficient) > COX_INFINITE_COEFFICIENT or not math.isfinite(se):
            results[g] = HazardRatio(
                g,
                None,
                None,
                None,
                None,
                None,
                None,
                "not estimable: monotone likelihood (the coefficient runs off to infinity)",
            )
            continue
        results[g] = HazardRatio(
            group=g,
            coefficient=coefficient,
            se=se,
            hazard_ratio=math.exp(coefficient),
            lower=math.exp(coefficient - z * se),
            upper=math.exp(coefficient + z * se),
            p=float(2.0 * special.ndtr(-abs(coefficient / se))),
        )
    for g in others:
        if g not in results:
            results[g] = HazardRatio(
                g,
                None,
                None,
                None,
                None,
                None,
                None,
                "not estimable: no events in this group (hazard ratio tends to 0)",
            )
    return tuple(results[g] for g in others), converged


def increase_in_lifespan_percent(
    median_treated: float | None, median_control: float | None
) -> float | None:
    """ILS % = 100 · (median_T - median_C) / median_C (NCI increase in lifespan).

    Policy: ``None`` when either median is not reached or the control median is 0.
    """
    if median_treated is None or median_control is None or median_control == 0:
        return None
    return 100.0 * (median_treated - median_control) / median_control


# --------------------------------------------------------------------------------------------
# Whole analysis, input file and command


@dataclass(frozen=True)
class SurvivalData:
    animals: tuple[str, ...]
    groups: tuple[str, ...]
    time_days: tuple[float, ...]
    event: tuple[int, ...]


def default_control(groups: Sequence[str]) -> str:
    """The group named like vehicle/control (first such in file order), else the first group."""
    labels = distinct_in_order(groups)
    for label in labels:
        if _CONTROL_NAME.search(label):
            return label
    return labels[0]


def analyze_survival(
    data: SurvivalData, *, control: str | None = None, conf_level: float = 0.95
) -> SurvivalAnalysis:
    """Kaplan-Meier per group, overall and pairwise log-rank, ILS % and Cox ratios vs control.

    Groups are those present in the data, in order of first appearance. Policies of the parts
    apply (see :func:`kaplan_meier`, :func:`logrank_test`, :func:`cox_hazard_ratios`).
    """
    if not data.groups:
        raise ValueError("no animals")
    control_group = control if control is not None else default_control(data.groups)
    labels = distinct_in_order(data.groups)
    if control_group not in labels:
        raise ValueError(f"control group {control_group!r} is not in the data")
    times = np.asarray(data.time_days, dtype=np.float64)
    events = np.asarray(data.event, dtype=np.int64)
    group_array = np.asarray(data.groups, dtype=object)
    curves = {
        g: kaplan_meier(times[group_array == g], events[group_array == g], conf_level=conf_level)
        for g in labels
    }
    medians = {g: median_survival(curves[g]) for g in labels}
    ratios, converged = cox_hazard_ratios(
        times, events, list(data.groups), control_group, conf_level=conf_level
    )
    ratio_of = {r.group: r for r in ratios}
    group_results = tuple(
        GroupSurvival(
            group=g,
            n=int((group_array == g).sum()),
            events=int(events[group_array == g].sum()),
            median=medians[g],
            ils_percent=None
            if g == control_group
            else increase_in_lifespan_percent(
                medians[g].median_days, medians[control_group].median_days
            ),
            hazard_ratio=ratio_of.get(g),
            curve=curves[g],
        )
        for g in labels
    )
    return SurvivalAnalysis(
        control=control_group,
        groups=group_results,
        logrank=logrank_test(times, events, list(data.groups)),
        pairwise=pairwise_logrank(times, events, list(data.groups)),
        conf_level=conf_level,
        cox_converged=converged,
    )


def read_survival_csv(path: str | Path) -> SurvivalData:
    """Read ``animal,group,time_days,event[,cause]``; errors name the line and column.

    Refused: blank cells, negative or non-numeric times, events other than 0/1, an animal listed
    twice. ``cause`` is accepted and ignored by the statistics.
    """
    table = read_table(path, required=("animal", "group", "time_days", "event"))
    if not table.rows:
        raise AnalysisInputError("the file has a header but no animals", row=1)
    animals: list[str] = []
    groups: list[str] = []
    times: list[float] = []
    events: list[int] = []
    seen: dict[str, int] = {}
    for index, line in enumerate(table.line_numbers):
        animal = require_text(table, index, "animal")
        if animal in seen:
            raise AnalysisInputError(
                f"animal '{animal}' is listed twice (first on row {seen[animal]})",
                row=line,
                column="animal",
            )
        seen[animal] = line
        group = require_text(table, index, "group")
        time = parse_float(table, index, "time_days")
        if time < 0:
            raise AnalysisInputError(f"time {time:g} is negative", row=line, column="time_days")
        raw_event = require_text(table, index, "event")
        if raw_event not in {"0", "1", "0.0", "1.0"}:
            raise AnalysisInputError(
                f"'{raw_event}' is not 0 (censored) or 1 (event)", row=line, column="event"
            )
        animals.append(animal)
        groups.append(group)
        times.append(time)
        events.append(int(float(raw_event)))
    return SurvivalData(tuple(animals), tuple(groups), tuple(times), tuple(events))


def _number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--control", help="control group (default: named like vehicle/control)")
    parser.add_argument(
        "--conf-level",
        type=float,
        default=0.95,
        help="confidence level of the median and hazard-ratio intervals",
    )
    parser.add_argument(
        "--at-risk-days",
        type=float,
        nargs="*",
        default=None,
        help="days at which to report numbers at risk per group",
    )


def to_json(
    analysis: SurvivalAnalysis,
    *,
    at_risk_days: Sequence[float] | None = None,
    data: SurvivalData | None = None,
) -> dict[str, object]:
    """The command's JSON shape (undefined numbers become ``None``)."""
    groups: list[dict[str, object]] = []
    group_array = np.asarray(data.groups, dtype=object) if data is not None else None
    for g in analysis.groups:
        ratio = g.hazard_ratio
        entry: dict[str, object] = {
            "group": g.group,
            "n": g.n,
            "events": g.events,
            "median_days": _number(g.median.median_days),
            "median_ci_lower_days": _number(g.median.lower_days),
            "median_ci_upper_days": _number(g.median.upper_days),
            "ils_percent": _number(g.ils_percent),
            "hazard_ratio": None
            if ratio is None
            else {
                "hr": _number(ratio.hazard_ratio),
                "ci_lower": _number(ratio.lower),
                "ci_upper": _number(ratio.upper),
                "coefficient": _number(ratio.coefficient),
                "se": _number(ratio.se),
                "p": _number(ratio.p),
                "note": ratio.note,
            },
            "curve": [
                {
                    "time_days": float(t),
                    "n_risk": int(n),
                    "n_event": int(d),
                    "survival": _number(float(s)),
                    "ci_lower": _number(float(lo)),
                    "ci_upper": _number(float(hi)),
                }
                for t, n, d, s, lo, hi in zip(
                    g.curve.time_days,
                    g.curve.n_risk,
                    g.curve.n_event,
                    g.curve.survival,
                    g.curve.lower,
                    g.curve.upper,
                    strict=True,
                )
            ],
        }
        if at_risk_days is not None and data is not None and group_array is not None:
            times = np.asarray(data.time_days)[group_array == g.group]
            entry["numbers_at_risk"] = [
                {"day": float(day), "n": int(n)}
                for day, n in zip(at_risk_days, numbers_at_risk(times, at_risk_days), strict=True)
            ]
        groups.append(entry)
    return {
        "analysis": "survival",
        "control": analysis.control,
        "conf_level": analysis.conf_level,
        "groups": groups,
        "logrank": {
            "chi2": _number(analysis.logrank.chi2),
            "df": analysis.logrank.df,
            "p": _number(analysis.logrank.p),
        },
        "pairwise": [
            {
                "a": pair.a,
                "b": pair.b,
                "chi2": _number(pair.chi2),
                "p": _number(pair.p),
                "p_holm": _number(pair.p_holm),
            }
            for pair in analysis.pairwise
        ],
        "cox": {
            "ties": "efron",
            "reference": analysis.control,
            "converged": analysis.cox_converged,
        },
    }


def run(args: argparse.Namespace) -> dict[str, object]:
    data = read_survival_csv(args.input)
    if args.control is not None and args.control not in data.groups:
        raise AnalysisInputError(
            f"--control '{args.control}' is not a group in the file "
            f"(groups: {', '.join(distinct_in_order(data.groups))})",
            column="group",
        )
    if not 0.0 < args.conf_level < 1.0:
        raise AnalysisInputError(f"--conf-level {args.conf_level} must lie between 0 and 1")
    analysis = analyze_survival(data, control=args.control, conf_level=args.conf_level)
    return to_json(analysis, at_risk_days=args.at_risk_days, data=data)
