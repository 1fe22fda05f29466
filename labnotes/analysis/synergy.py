"""In vivo drug combination synergy: TGI reference models, SynergyLMM mixed model, invivoSyn AUC.

Three approaches, chosen with ``--model``:

* ``tgi``: Bliss independence, highest single agent (HSA) and response additivity (RA) applied to
  the arms' tumour growth inhibition fractions on one day, with stratified bootstrap CIs;
* ``lmm``: SynergyLMM (Romero-Becerra et al., Nat Commun 16:10151, 2025): an exponential-growth
  linear mixed model of log relative volume with one growth rate per arm, and Bliss/HSA Wald tests
  on the growth rates, refitted on the data up to each day;
* ``auc``: invivoSyn (Mao & Guo 2023): per-animal exponential growth rates from the area under
  ln(V + 1), combined into a combination index and a synergy score.

All three read the growth CSV format (:mod:`labnotes.analysis.growth_data`). The four arms are
named by the caller (``--control --drug-a --drug-b --combination``); other arms in the file are
ignored, so they change nothing.
"""

from __future__ import annotations

import argparse
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.growth import (
    Interval,
    bootstrap_means,
    default_analysis_day,
    find_control,
    fit_reml,
    fixed_effect_covariance,
    percentile_interval,
    tgi_components,
    two_sided_normal_p,
)
from labnotes.analysis.growth_data import (
    FloatArray,
    GrowthData,
    format_day,
    json_day,
    read_growth_csv,
)

REFERENCE_MODELS = ("bliss", "hsa", "ra")
DEFINITIONS = ("volume", "delta", "rtv")
Z_95 = 1.959963984540054


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class SynergyArms:
    """The four arms of a 2 x 2 combination design."""

    control: str
    drug_a: str
    drug_b: str
    combination: str

    def as_tuple(self) -> tuple[str, str, str, str]:
        return (self.control, self.drug_a, self.drug_b, self.combination)

    def check(self, data: GrowthData) -> None:
        """Four different arms, each present in the data (AnalysisInputError otherwise)."""
        names = self.as_tuple()
        if len(set(names)) != 4:
            raise AnalysisInputError(
                "--control, --drug-a, --drug-b and --combination must name four different groups",
                column="group",
            )
        for option, name in zip(
            ("--control", "--drug-a", "--drug-b", "--combination"), names, strict=True
        ):
            data.require_group(name, option)


# ---------------------------------------------------------------------------------------------
# TGI reference models


def expected_tgi_percent(tgi_a_percent: float, tgi_b_percent: float) -> dict[str, float]:
    """Expected combination TGI (percent) under three reference models, on TGI fractions.

    With a, b the single agents' TGI as fractions: Bliss independence 1 - (1 - a)(1 - b)
    (Bliss 1939); HSA max(a, b) (Gaddum's non-interaction / highest single agent); response
    additivity a + b. Returned x100. NaN in either input gives NaN. Meaningful only for
    0 ≤ a, b ≤ 1: outside that range (a regressing or a growth-promoting arm) Bliss's
    probabilistic reading is lost; the caller flags it (see :func:`tgi_synergy`).
    """
    a, b = tgi_a_percent / 100.0, tgi_b_percent / 100.0
    return {
        "bliss": 100.0 * (1.0 - (1.0 - a) * (1.0 - b)),
        "hsa": 100.0 * max(a, b) if math.isfinite(a) and math.isfinite(b) else math.nan,
        "ra": 100.0 * (a + b),
    }


def _expected_arrays(a: FloatArray, b: FloatArray) -> dict[str, FloatArray]:
    fa, fb = a / 100.0, b / 100.0
    return {
        "bliss": 100.0 * (1.0 - (1.0 - fa) * (1.0 - fb)),
        "hsa": 100.0 * np.maximum(fa, fb),
        "ra": 100.0 * (fa + fb),
    }


@dataclass(frozen=True)
class TGISynergy:
    """Observed vs expected combination TGI on one day, with bootstrap intervals."""

    day: float
    baseline_day: float
    definition: str
    tgi_drug_a_percent: float
    tgi_drug_b_percent: float
    observed_tgi_percent: float
    expected: dict[str, float]
    synergy_score: dict[str, float]
    fold_over_expected: dict[str, float]
    observed_ci: Interval
    expected_ci: dict[str, Interval]
    synergy_score_ci: dict[str, Interval]
    fold_over_expected_ci: dict[str, Interval]
    outside_0_100: tuple[str, ...]


def _fold(observed: float, expected: float) -> float:
    return observed / expected if math.isfinite(expected) and expected != 0 else math.nan


def tgi_synergy(
    data: GrowthData,
    arms: SynergyArms,
    *,
    day: float,
    definition: str = "volume",
    rng: np.random.Generator,
    n_resamples: int = 2000,
    confidence: float = 0.95,
) -> TGISynergy:
    """Bliss / HSA / RA synergy on TGI fractions at ``day``, baseline on the first day.

    TGI of each arm against the control by ``definition`` (:func:`growth.tgi_percent`: volume
    = 100 - T/C, delta = ΔTGI, rtv = relative-volume TGI). Expected combination TGI from
    :func:`expected_tgi_percent`; synergy score = observed - expected (percentage points,
    positive = more inhibition than expected); fold over expected = observed / expected (the
    "1.3-fold over additive" figure; NaN when the expected TGI is 0). CIs: percentile bootstrap
    resampling animals within each of the four arms (control included), seeded by ``rng``.
    ``outside_0_100`` names the arms whose TGI is below 0 % or above 100 % (regression): there
    the fraction arithmetic loses its meaning and the report leads with the mixed-model test.
    Empty arms give NaN.
    """
    if definition not in DEFINITIONS:
        raise AnalysisInputError(f"--definition must be one of {', '.join(DEFINITIONS)}")
    arms.check(data)
    baseline_day = float(data.days[0])
    parts = {
        name: tgi_components(data, name, day=day, baseline_day=baseline_day)
        for name in arms.as_tuple()
    }

    def pick(name: str) -> FloatArray:
        chosen = parts[name]
        return {"volume": chosen.end, "delta": chosen.delta, "rtv": chosen.ratio}[definition]

    samples = {name: pick(name) for name in arms.as_tuple()}
    means = {name: (float(np.mean(v)) if v.size else math.nan) for name, v in samples.items()}
    replicate_means = {
        name: bootstrap_means(samples[name], n_resamples, rng) for name in arms.as_tuple()
    }

    def tgi(mean_t: float, mean_c: float) -> float:
        if not (math.isfinite(mean_t) and math.isfinite(mean_c)) or mean_c == 0:
            return math.nan
        return 100.0 * (1.0 - mean_t / mean_c)

    control_mean = means[arms.control]
    a = tgi(means[arms.drug_a], control_mean)
    b = tgi(means[arms.drug_b], control_mean)
    observed = tgi(means[arms.combination], control_mean)
    expected = expected_tgi_percent(a, b)

    with np.errstate(divide="ignore", invalid="ignore"):
        c_rep = replicate_means[arms.control]
        c_rep = np.where(c_rep == 0, np.nan, c_rep)
        a_rep = 100.0 * (1.0 - replicate_means[arms.drug_a] / c_rep)
        b_rep = 100.0 * (1.0 - replicate_means[arms.drug_b] / c_rep)
        ab_rep = 100.0 * (1.0 - replicate_means[arms.combination] / c_rep)
        expected_rep = _expected_arrays(a_rep, b_rep)
        fold_rep = {
            m: np.where(expected_rep[m] == 0, np.nan, ab_rep / expected_rep[m])
            for m in REFERENCE_MODELS
        }
    outside = tuple(
        name
        for name, value in (("drug_a", a), ("drug_b", b), ("combination", observed))
        if math.isfinite(value) and not 0.0 <= value <= 100.0
    )
    return TGISynergy(
        day=day,
        baseline_day=baseline_day,
        definition=definition,
        tgi_drug_a_percent=a,
        tgi_drug_b_percent=b,
        observed_tgi_percent=observed,
        expected=expected,
        synergy_score={m: observed - expected[m] for m in REFERENCE_MODELS},
        fold_over_expected={m: _fold(observed, expected[m]) for m in REFERENCE_MODELS},
        observed_ci=percentile_interval(ab_rep, confidence),
        expected_ci={m: percentile_interval(expected_rep[m], confidence) for m in REFERENCE_MODELS},
        synergy_score_ci={
            m: percentile_interval(ab_rep - expected_rep[m], confidence) for m in REFERENCE_MODELS
        },
        fold_over_expected_ci={
            m: percentile_interval(fold_rep[m], confidence) for m in REFERENCE_MODELS
        },
        outside_0_100=outside,
    )


# ---------------------------------------------------------------------------------------------
# SynergyLMM


@dataclass(frozen=True, eq=False)
class RelativeVolumes:
    """Long-format log relative volumes of the four arms, baseline rows dropped.

    ``group`` indexes ``arms.as_tuple()``; ``time`` = day - first day; ``log_rtv`` = ln(V/V0).
    """

    animal: FloatArray
    group: FloatArray
    day: FloatArray
    time: FloatArray
    log_rtv: FloatArray
    first_day: float
    dropped_animals: tuple[str, ...]


def relative_volumes(data: GrowthData, arms: SynergyArms) -> RelativeVolumes:
    """Prepare the SynergyLMM response, following ``lmmModel()`` upstream.

    t0 = the first day in the file; RTV = V / V(t0) per animal; the t0 rows are then dropped.
    Zero volumes are ignored (upstream ``tum_vol_0 = "ignore"``: ln 0 is undefined and SynergyLMM
    drops them); animals without a positive volume at t0 are removed (``dropped_animals``).
    Missing measurements are simply absent.
    """
    arms.check(data)
    first_day = float(data.days[0])
    animal_rows: list[int] = []
    group_of: list[int] = []
    dropped: list[str] = []
    for k, name in enumerate(arms.as_tuple()):
        for row in data.members(name):
            v0 = data.volume_mm3[row, 0]
            if math.isnan(v0) or v0 <= 0:
                dropped.append(data.animals[row])
                continue
            animal_rows.append(int(row))
            group_of.append(k)
    rows = np.asarray(animal_rows, dtype=np.intp)
    block = data.volume_mm3[rows, 1:]
    v0s = data.volume_mm3[rows, 0]
    r, c = np.nonzero(np.isfinite(block) & (block > 0))
    days = data.days[1:][c]
    return RelativeVolumes(
        animal=rows[r].astype(np.float64),
        group=np.asarray(group_of, dtype=np.float64)[r],
        day=days,
        time=days - first_day,
        log_rtv=np.log(block[r, c] / v0s[r]),
        first_day=first_day,
        dropped_animals=tuple(dropped),
    )


@dataclass(frozen=True, eq=False)
class GrowthRateFit:
    """SynergyLMM model fit: growth rate per arm (per day), covariance, variance components."""

    growth_rates: tuple[float, float, float, float]
    covariance: FloatArray
    random_slope_sd: float
    residual_sd: float
    method: str
    n_observations: int
    n_animals: int
    params: Any = None


def fit_growth_rates(
    prepared: RelativeVolumes, *, max_time: float | None = None, start_params: Any = None
) -> GrowthRateFit:
    """REML fit of ln(RTV) ~ 0 + time:group, random slope per animal without intercept.

    As SynergyLMM's ``nlme::lme(logRTV ~ 0 + Time:Treatment, random = ~ 0 + Time | SampleID)``,
    fitted with statsmodels ``MixedLM`` (BFGS, Powell fallback: see
    :func:`growth.fit_reml`); the covariance of the growth rates is nlme's model-based
    (X'V^-1 X)^-1 (:func:`growth.fixed_effect_covariance`). Rows with time ≤ ``max_time``
    when given. Needs every arm present and at least 2 distinct times after baseline (with one
    time point the random slope and the residual cannot be told apart); otherwise
    AnalysisInputError.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    keep = np.ones(prepared.time.size, dtype=bool)
    if max_time is not None:
        keep = prepared.time <= max_time + 1e-9
    time = prepared.time[keep]
    group = prepared.group[keep].astype(np.intp)
    animal = prepared.animal[keep]
    y = prepared.log_rtv[keep]
    if np.unique(time).size < 2:
        raise AnalysisInputError(
            "not estimable: the model needs at least 2 measurement days after baseline"
        )
    missing_arms = [k for k in range(4) if not np.any(group == k)]
    if missing_arms:
        raise AnalysisInputError(
            "not estimable: an arm has no positive measurement after baseline", column="group"
        )
    design = np.zeros((time.size, 4))
    design[np.arange(time.size), group] = time
    model = MixedLM(y, design, groups=animal, exog_re=time[:, None])
    fit, method = fit_reml(model, start_params=start_params)
    beta = np.asarray(fit.fe_params, dtype=np.float64)
    cov = fixed_effect_covariance(model, fit)
    scale = float(fit.scale)
    slope_var = float(np.asarray(fit.cov_re, dtype=np.float64).ravel()[0])
    return GrowthRateFit(
        growth_rates=(float(beta[0]), float(beta[1]), float(beta[2]), float(beta[3])),
        covariance=cov,
        random_slope_sd=math.sqrt(max(slope_var, 0.0)),
        residual_sd=math.sqrt(scale),
        method=method,
        n_observations=int(time.size),
        n_animals=int(np.unique(animal).size),
        params=fit.params_object,
    )


@dataclass(frozen=True)
class SynergyTest:
    """One Bliss or HSA test on the model refitted up to ``day``; None fields when not estimable."""

    day: float
    method: str
    estimate: float | None
    se: float | None
    combination_index: float | None
    combination_index_ci: tuple[float, float] | None
    synergy_score: float | None
    synergy_score_ci: tuple[float, float] | None
    p: float | None
    note: str | None


def contrast_vector(method: str, growth_rates: tuple[float, float, float, float]) -> FloatArray:
    """Contrast on (β_C, β_A, β_B, β_AB): Bliss β_AB - β_A - β_B + β_C; HSA β_AB - β_best.

    β_best is the single agent with the lower growth rate in ``growth_rates`` (the full-data
    fit, issue 7 convention), so the HSA contrast is the same vector at every day.
    """
    if method == "bliss":
        return np.array([1.0, -1.0, -1.0, 1.0])
    if method == "hsa":
        best = 1 if growth_rates[1] <= growth_rates[2] else 2
        vector = np.zeros(4)
        vector[3] = 1.0
        vector[best] = -1.0
        return vector
    raise AnalysisInputError(f"unknown synergy method '{method}'")


def synergy_test(
    fit: GrowthRateFit, vector: FloatArray, *, day: float, time: float, method: str
) -> SynergyTest:
    """Wald z-test of a growth-rate contrast, reported as SynergyLMM does.

    estimate = c·β, SE = √(cᵀ V c); combination index CI = exp(estimate · time) with bounds
    exp((estimate ∓ 1.96 SE) · time); synergy score SS = -estimate / SE with bounds SS ∓ 1.96;
    p = two-sided normal. CI < 1 and SS > 0 mean synergy.
    """
    beta = np.asarray(fit.growth_rates)
    estimate = float(vector @ beta)
    se = float(math.sqrt(vector @ fit.covariance @ vector))
    z = estimate / se
    return SynergyTest(
        day=day,
        method=method,
        estimate=estimate,
        se=se,
        combination_index=math.exp(estimate * time),
        combination_index_ci=(
            math.exp((estimate - Z_95 * se) * time),
            math.exp((estimate + Z_95 * se) * time),
        ),
        synergy_score=-z,
        synergy_score_ci=(-z - Z_95, -z + Z_95),
        p=two_sided_normal_p(z),
        note=None,
    )


@dataclass(frozen=True, eq=False)
class LMMSynergy:
    arms: SynergyArms
    full_fit: GrowthRateFit
    hsa_reference: str
    tests: tuple[SynergyTest, ...]
    dropped_animals: tuple[str, ...]
    first_day: float


def lmm_synergy(
    data: GrowthData, arms: SynergyArms, *, day: float | None = None, robust: bool = False
) -> LMMSynergy:
    """SynergyLMM Bliss and HSA tests by day (Romero-Becerra et al. 2025, ``lmmSynergy``).

    The model (:func:`fit_growth_rates`) is fitted on all data (growth rates reported), then
    refitted on the rows with time ≤ t for each test day t: every measured day after the
    baseline, or only ``day``. A day whose refit is not estimable (fewer than 2 times after
    baseline) or does not converge gets a test with None values and a ``note`` — never silent
    numbers; when a single ``day`` was asked for, that is an AnalysisInputError instead.
    ``robust=True`` (CR2 cluster-robust covariance) is not built yet: AnalysisInputError.
    """
    if robust:
        raise AnalysisInputError(
            "--robust (CR2 cluster-robust covariance, as clubSandwich vcovCR type CR2) is not "
            "built yet; run without --robust for model-based standard errors"
        )
    prepared = relative_volumes(data, arms)
    full = fit_growth_rates(prepared)
    best = 1 if full.growth_rates[1] <= full.growth_rates[2] else 2
    vectors = {"bliss": contrast_vector("bliss", full.growth_rates)}
    vectors["hsa"] = contrast_vector("hsa", full.growth_rates)
    if day is not None:
        if day <= prepared.first_day:
            raise AnalysisInputError(
                f"--day {format_day(day)} must be after the first day "
                f"{format_day(prepared.first_day)}",
                column="day",
            )
        test_days = [float(day)]
    else:
        test_days = [float(d) for d in np.unique(prepared.day)]
    tests: list[SynergyTest] = []
    for test_day in test_days:
        time = test_day - prepared.first_day
        try:
            fit = (
                full
                if time >= float(prepared.time.max())
                else fit_growth_rates(prepared, max_time=time, start_params=full.params)
            )
        except AnalysisInputError as exc:
            if day is not None:
                raise AnalysisInputError(
                    f"no synergy test on day {format_day(test_day)}: {exc.reason}", column="day"
                ) from None
            for method in ("bliss", "hsa"):
                tests.append(
                    SynergyTest(
                        test_day, method, None, None, None, None, None, None, None, exc.reason
                    )
                )
            continue
        for method in ("bliss", "hsa"):
            tests.append(synergy_test(fit, vectors[method], day=test_day, time=time, method=method))
    return LMMSynergy(
        arms=arms,
        full_fit=full,
        hsa_reference=arms.as_tuple()[best],
        tests=tuple(tests),
        dropped_animals=prepared.dropped_animals,
        first_day=prepared.first_day,
    )


# ---------------------------------------------------------------------------------------------
# invivoSyn AUC


def exponential_growth_rate(days: FloatArray, volume_mm3: FloatArray) -> float:
    """invivoSyn's per-animal eGR from the AUC of ln(V + 1) (Mao & Guo 2023).

    eGR = 2 [trapz(day, ln(V + 1)) - ln(V0 + 1) · span] / span², span = last day - first day of
    the animal's measurements, V0 its first volume. Exact for ln(V + 1) linear in time. The +1
    keeps zero volumes (complete responses) finite. NaN volumes are skipped; NaN when fewer than
    2 measurements remain.
    """
    keep = ~np.isnan(volume_mm3)
    t = np.asarray(days, dtype=np.float64)[keep]
    v = np.asarray(volume_mm3, dtype=np.float64)[keep]
    if t.size < 2:
        return math.nan
    span = float(t[-1] - t[0])
    log_v = np.log(v + 1.0)
    area = float(np.sum((log_v[1:] + log_v[:-1]) * np.diff(t)) / 2.0)
    return 2.0 * (area - float(log_v[0]) * span) / (span * span)


@dataclass(frozen=True)
class AUCSynergy:
    day: float
    egr: dict[str, float]
    n: dict[str, int]
    relative_growth: dict[str, float]
    combination_index: float
    synergy_score: float


def auc_synergy(data: GrowthData, arms: SynergyArms, *, day: float) -> AUCSynergy:
    """invivoSyn AUC synergy at ``day`` (issue 7 convention, after Mao & Guo 2023).

    Per animal eGR (:func:`exponential_growth_rate`) on its measurements up to ``day``; group
    mean eGR_g over animals with ≥ 2 measurements (others left out, ``n`` counts the used
    ones); s_g = exp((eGR_g - eGR_control) · t) with t = day - first day of the file;
    combination index = s_AB / (s_A · s_B) (< 1 synergy); synergy score = 100 (s_A · s_B -
    s_AB) (> 0 synergy). An arm without usable animals gives NaN.
    """
    arms.check(data)
    if day <= float(data.days[0]):
        raise AnalysisInputError(
            f"--day {format_day(day)} must be after the first day {format_day(data.days[0])}",
            column="day",
        )
    window = data.days <= day
    days = data.days[window]
    egr: dict[str, float] = {}
    n: dict[str, int] = {}
    for name in arms.as_tuple():
        rates = np.array(
            [
                exponential_growth_rate(days, data.volume_mm3[row, window])
                for row in data.members(name)
            ]
        )
        rates = rates[np.isfinite(rates)]
        egr[name] = float(np.mean(rates)) if rates.size else math.nan
        n[name] = int(rates.size)
    t = day - float(data.days[0])
    s = {name: math.exp((egr[name] - egr[arms.control]) * t) for name in arms.as_tuple()}
    s_a, s_b, s_ab = s[arms.drug_a], s[arms.drug_b], s[arms.combination]
    return AUCSynergy(
        day=day,
        egr=egr,
        n=n,
        relative_growth=s,
        combination_index=s_ab / (s_a * s_b),
        synergy_score=100.0 * (s_a * s_b - s_ab),
    )


# ---------------------------------------------------------------------------------------------
# CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``analyze synergy`` (issue 7)."""
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
    parser.add_argument("--drug-a", required=True, help="first single-agent group")
    parser.add_argument("--drug-b", required=True, help="second single-agent group")
    parser.add_argument("--combination", required=True, help="combination group")
    parser.add_argument(
        "--model",
        choices=("tgi", "lmm", "auc"),
        default="tgi",
        help="tgi: Bliss/HSA/RA on TGI; lmm: SynergyLMM; auc: invivoSyn",
    )
    parser.add_argument(
        "--day",
        type=float,
        default=None,
        help="analysis day (tgi/auc default: "
        "last day with >= 80%% of controls measured; lmm default: every day)",
    )
    parser.add_argument(
        "--definition", choices=DEFINITIONS, default="volume", help="TGI definition for --model tgi"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=2000,
        help="bootstrap resamples for --model tgi confidence intervals",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    parser.add_argument(
        "--robust",
        action="store_true",
        help="CR2 cluster-robust tests for --model lmm (not built yet)",
    )


def _interval(interval: Interval) -> list[float | None]:
    return [_finite_or_none(interval.lower), _finite_or_none(interval.upper)]


def _pair(values: tuple[float, float] | None) -> list[float | None] | None:
    return None if values is None else [_finite_or_none(values[0]), _finite_or_none(values[1])]


def _optional(value: float | None) -> float | None:
    return None if value is None else _finite_or_none(value)


def run(args: argparse.Namespace) -> dict[str, object]:
    """Run ``analyze synergy``: the JSON object of issue 7 (undefined numbers are None)."""
    data = read_growth_csv(args.input, tumour=args.tumour)
    control = args.control if args.control is not None else find_control(data.groups)
    arms = SynergyArms(control, args.drug_a, args.drug_b, args.combination)
    arms.check(data)
    if args.day is not None:
        data.day_index(float(args.day))
    header: dict[str, object] = {
        "model": args.model,
        "control": control,
        "drug_a": arms.drug_a,
        "drug_b": arms.drug_b,
        "combination": arms.combination,
    }
    if args.model == "lmm":
        return header | _run_lmm(data, arms, args)
    day = float(args.day) if args.day is not None else default_analysis_day(data, control)
    if args.model == "auc":
        result = auc_synergy(data, arms, day=day)
        return header | {
            "day": json_day(day),
            "egr": {g: _finite_or_none(v) for g, v in result.egr.items()},
            "n": result.n,
            "relative_growth": {g: _finite_or_none(v) for g, v in result.relative_growth.items()},
            "combination_index": _finite_or_none(result.combination_index),
            "synergy_score": _finite_or_none(result.synergy_score),
        }
    if args.bootstrap < 2:
        raise AnalysisInputError("--bootstrap must be at least 2 for --model tgi")
    tgi = tgi_synergy(
        data,
        arms,
        day=day,
        definition=args.definition,
        rng=np.random.default_rng(args.seed),
        n_resamples=args.bootstrap,
    )
    output = header | {
        "day": json_day(day),
        "baseline_day": json_day(tgi.baseline_day),
        "definition": tgi.definition,
        "tgi_percent": {
            "drug_a": _finite_or_none(tgi.tgi_drug_a_percent),
            "drug_b": _finite_or_none(tgi.tgi_drug_b_percent),
            "combination": _finite_or_none(tgi.observed_tgi_percent),
        },
        "observed_tgi_percent": _finite_or_none(tgi.observed_tgi_percent),
        "expected": {m: _finite_or_none(v) for m, v in tgi.expected.items()},
        "synergy_score": {m: _finite_or_none(v) for m, v in tgi.synergy_score.items()},
        "fold_over_expected": {m: _finite_or_none(v) for m, v in tgi.fold_over_expected.items()},
        "ci95": {
            "observed_tgi_percent": _interval(tgi.observed_ci),
            "expected": {m: _interval(v) for m, v in tgi.expected_ci.items()},
            "synergy_score": {m: _interval(v) for m, v in tgi.synergy_score_ci.items()},
            "fold_over_expected": {m: _interval(v) for m, v in tgi.fold_over_expected_ci.items()},
        },
        "bootstrap": {"resamples": args.bootstrap, "seed": args.seed, "method": "percentile"},
        "outside_0_100": list(tgi.outside_0_100),
        "warning": None,
    }
    if tgi.outside_0_100:
        output["warning"] = (
            "TGI outside 0-100 % for " + ", ".join(tgi.outside_0_100) + " (regression or "
            "growth promotion): Bliss on TGI fractions loses its meaning there; lead with the "
            "mixed-model test (--model lmm)"
        )
    return output


def _run_lmm(data: GrowthData, arms: SynergyArms, args: argparse.Namespace) -> dict[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = lmm_synergy(
            data, arms, day=None if args.day is None else float(args.day), robust=args.robust
        )
    fit = result.full_fit
    names = arms.as_tuple()
    return {
        "first_day": json_day(result.first_day),
        "growth_rates": {g: fit.growth_rates[k] for k, g in enumerate(names)},
        "growth_rate_se": {g: float(math.sqrt(fit.covariance[k, k])) for k, g in enumerate(names)},
        "random_slope_sd": fit.random_slope_sd,
        "residual_sd": fit.residual_sd,
        "optimizer": fit.method,
        "n_observations": fit.n_observations,
        "n_animals": fit.n_animals,
        "dropped_animals": list(result.dropped_animals),
        "hsa_reference": result.hsa_reference,
        "robust": False,
        "tests": [
            {
                "day": json_day(t.day),
                "method": t.method,
                "estimate": _optional(t.estimate),
                "se": _optional(t.se),
                "combination_index": _optional(t.combination_index),
                "combination_index_ci95": _pair(t.combination_index_ci),
                "synergy_score": _optional(t.synergy_score),
                "synergy_score_ci95": _pair(t.synergy_score_ci),
                "p": _optional(t.p),
                "note": t.note,
            }
            for t in result.tests
        ],
    }
