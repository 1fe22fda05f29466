"""ELISA standard curves: 4PL / 5PL least-squares fits, quantification range and back-calculation.

Model (4PL)::

    od = bottom + (top - bottom) / (1 + (ec50 / conc) ** hill)

and 5PL the same with the denominator raised to the asymmetry ``s``. With hill > 0, ``bottom`` is
the OD at concentration 0 and ``top`` the OD at infinite concentration (a decreasing, competitive
assay comes out with top < bottom). This is drc's LL.4/LL.5 and R's ``SSfpl`` with
xmid = ln(ec50), scal = 1 / hill.

Conventions (issue 7): the fit uses every individual standard well (replicates are separate
points), unweighted unless ``weights`` says otherwise, with no blank subtraction unless asked.
``r_squared`` = 1 - RSS/TSS over those wells (unweighted, whatever the fit weights). A sample's
concentration is the inverse of the curve at the mean OD of its wells, times its dilution.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import optimize

from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.tabular import distinct_in_order, parse_float, read_table, require_text

FloatArray = npt.NDArray[np.float64]

#: Tolerances for MINPACK's Levenberg-Marquardt. Its defaults (1e-8) give NIST Rat43 to only
#: about 5 digits; these give 7 or more (FIELD-NOTES, "Science libraries").
FIT_TOLERANCE = 1e-15

#: Recovery and CV limits of the quantification rule, in percent.
LIMIT_INNER_PERCENT = 20.0
LIMIT_END_PERCENT = 25.0


class CurveModel(StrEnum):
    FOUR_PL = "4pl"
    FIVE_PL = "5pl"


class Weighting(StrEnum):
    """Least-squares weights per well: none, 1/od or 1/od² (variance ∝ od or od²)."""

    NONE = "none"
    INVERSE_OD = "1/y"
    INVERSE_OD_SQUARED = "1/y2"


class SampleFlag(StrEnum):
    OK = "ok"
    BELOW_LLOQ = "below_lloq"
    ABOVE_ULOQ = "above_uloq"
    NOT_QUANTIFIABLE = "not_quantifiable"


class CurveFitError(ValueError):
    """The curve fit did not converge (or converged to something that is not a curve)."""


@dataclass(frozen=True)
class CurveParameters:
    model: CurveModel
    bottom: float
    top: float
    ec50: float
    hill: float
    s: float = 1.0

    def od(self, concentration: FloatArray | float) -> FloatArray:
        """The curve at ``concentration`` (≥ 0; at 0 it is the hill > 0 asymptote, bottom)."""
        conc = np.asarray(concentration, dtype=np.float64)
        with np.errstate(divide="ignore"):
            z = self.hill * (math.log(self.ec50) - np.log(conc))
        fraction = np.exp(-self.s * np.logaddexp(0.0, z))
        return np.asarray(self.bottom + (self.top - self.bottom) * fraction, dtype=np.float64)

    def concentration(self, od: float) -> float | None:
        """Inverse of the curve: the concentration whose predicted OD is ``od``.

        Formula: conc = ec50 / ((((top - bottom)/(od - bottom))^(1/s) - 1)^(1/hill)).
        ``None`` when ``od`` is not strictly between the asymptotes (no finite answer).
        """
        span = self.top - self.bottom
        if span == 0:
            return None
        fraction = (od - self.bottom) / span
        if not 0.0 < fraction < 1.0:
            return None
        inner = fraction ** (-1.0 / self.s) - 1.0
        if inner <= 0:
            return None
        value = self.ec50 * inner ** (-1.0 / self.hill)
        return value if math.isfinite(value) else None


@dataclass(frozen=True)
class CurveFit:
    parameters: CurveParameters
    standard_errors: dict[str, float | None]
    rss: float
    residual_se: float | None
    df: int
    r_squared: float
    n_points: int
    fixed_bottom: bool
    weighting: Weighting


@dataclass(frozen=True)
class StandardLevel:
    concentration: float
    n_wells: int
    mean_od: float
    cv_percent: float | None
    back_calculated: float | None
    recovery_percent: float | None
    limit_percent: float
    passes: bool


@dataclass(frozen=True)
class SampleResult:
    sample: str
    n_wells: int
    mean_od: float
    cv_percent: float | None
    dilution: float
    concentration_in_well: float | None
    concentration: float | None
    flag: SampleFlag


@dataclass(frozen=True)
class ElisaAnalysis:
    fit: CurveFit
    standards: tuple[StandardLevel, ...]
    lloq: float | None
    uloq: float | None
    samples: tuple[SampleResult, ...]
    blank_subtracted: float | None
    warnings: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# Fitting


def _unpack(
    theta: FloatArray, model: CurveModel, fixed_bottom: float | None
) -> tuple[float, float, float, float, float]:
    values = list(theta)
    bottom = fixed_bottom if fixed_bottom is not None else values.pop(0)
    top, log_ec50, hill = values[0], values[1], values[2]
    s = math.exp(values[3]) if model is CurveModel.FIVE_PL else 1.0
    return bottom, top, log_ec50, hill, s


def _model_and_jacobian(
    theta: FloatArray, log_conc: FloatArray, model: CurveModel, fixed_bottom: float | None
) -> tuple[FloatArray, FloatArray]:
    bottom, top, log_ec50, hill, s = _unpack(theta, model, fixed_bottom)
    with np.errstate(invalid="ignore", over="ignore"):
        z = hill * (log_ec50 - log_conc)
        softplus = np.logaddexp(0.0, z)
        fraction = np.exp(-s * softplus)
        sigmoid = np.exp(z - softplus)  # expit(z), stable for both signs
        d_fraction_dz = -s * fraction * sigmoid
        at_zero = ~np.isfinite(log_conc)
        columns: list[FloatArray] = []
        if fixed_bottom is None:
            columns.append(1.0 - fraction)
        columns.append(fraction)
        span = top - bottom
        columns.append(np.where(at_zero, 0.0, span * d_fraction_dz * hill))
        columns.append(np.where(at_zero, 0.0, span * d_fraction_dz * (log_ec50 - log_conc)))
        if model is CurveModel.FIVE_PL:
            columns.append(np.where(at_zero, 0.0, span * (-s * softplus * fraction)))
    prediction = bottom + span * fraction
    return prediction, np.column_stack(columns)


def _weights(od: FloatArray, weighting: Weighting) -> FloatArray:
    if weighting is Weighting.NONE:
        return np.ones_like(od)
    if np.any(od <= 0):
        raise CurveFitError(f"weights {weighting.value} need every standard OD above 0")
    return 1.0 / od if weighting is Weighting.INVERSE_OD else 1.0 / od**2


def _theta_of(start: CurveParameters, model: CurveModel, fixed_bottom: float | None) -> FloatArray:
    theta = [] if fixed_bottom is not None else [start.bottom]
    theta += [start.top, math.log(start.ec50), start.hill]
    if model is CurveModel.FIVE_PL:
        theta.append(math.log(start.s))
    return np.array(theta, dtype=np.float64)


@dataclass(frozen=True)
class _Candidate:
    parameters: CurveParameters
    standard_errors: dict[str, float | None]
    weighted_rss: float


def _candidate(
    theta: FloatArray,
    jac: FloatArray,
    weighted_rss: float,
    df: int,
    model: CurveModel,
    fixed_bottom: float | None,
) -> _Candidate | str:
    """A converged point with its standard errors, or the reason it is not a usable curve."""
    bottom, top, log_ec50, hill, s = _unpack(theta, model, fixed_bottom)
    if hill == 0 or abs(log_ec50) > 700:
        return "EC50 or slope out of range"
    if abs(top - bottom) <= 1e-9 * max(abs(top), abs(bottom), 1e-300):
        return "flat curve: top equals bottom, the standards carry no concentration signal"
    try:
        covariance = weighted_rss / df * np.linalg.inv(jac.T @ jac)
    except np.linalg.LinAlgError:
        return "singular Jacobian: the standards do not determine every parameter"
    variances = np.diag(covariance)
    if not (np.isfinite(variances).all() and np.all(variances >= 0)):
        return "singular Jacobian: the standards do not determine every parameter"
    names = ([] if fixed_bottom is not None else ["bottom"]) + ["top", "log_ec50", "hill"]
    if model is CurveModel.FIVE_PL:
        names.append("log_s")
    se = dict(zip(names, np.sqrt(variances).tolist(), strict=True))
    if (
        se["top"] > 100 * abs(top)
        or se["hill"] > 100 * abs(hill)
        or se["log_ec50"] > 50
        or (weighted_rss > 0 and np.any(variances == 0))
    ):
        return "indeterminate curve: standard errors out of all proportion (run-away fit)"
    ec50 = math.exp(log_ec50)
    errors: dict[str, float | None] = {
        "bottom": se.get("bottom"),
        "top": se["top"],
        "ec50": se["log_ec50"] * ec50,
        "log_ec50": se["log_ec50"],
        "hill": se["hill"],
        "s": se["log_s"] * s if model is CurveModel.FIVE_PL else None,
    }
    return _Candidate(CurveParameters(model, bottom, top, ec50, hill, s), errors, weighted_rss)


def _heuristic_starts(
    conc: FloatArray, od: FloatArray, model: CurveModel, fixed_bottom: float | None
) -> list[FloatArray]:
    """Starting points from the data: asymptotes at the extreme standards, EC50 at mid-OD."""
    levels = np.unique(conc)
    means = np.array([od[conc == level].mean() for level in levels])
    low, high = float(means[0]), float(means[-1])
    bottom = fixed_bottom if fixed_bottom is not None else low
    span = high - bottom
    top = bottom + 1.05 * span if span != 0 else bottom + 1.0
    positive = levels > 0
    log_levels = np.log(levels[positive])
    fraction = (means[positive] - bottom) / (top - bottom)
    inner = (fraction > 0.02) & (fraction < 0.98)
    hill = 1.0
    log_ec50 = float(np.median(log_levels)) if len(log_levels) else 0.0
    if inner.sum() >= 2:
        logit = np.log(fraction[inner] / (1.0 - fraction[inner]))
        slope, intercept = np.polyfit(log_levels[inner], logit, 1)
        if slope > 0 and math.isfinite(slope):
            hill = float(slope)
            log_ec50 = float(-intercept / slope)
    starts: list[FloatArray] = []
    for hill_factor in (1.0, 0.5, 2.0):
        theta = [] if fixed_bottom is not None else [bottom]
        theta += [top, log_ec50, hill * hill_factor]
        if model is CurveModel.FIVE_PL:
            theta.append(0.0)
        starts.append(np.array(theta, dtype=np.float64))
    return starts


def fit_curve(
    concentration: Sequence[float] | FloatArray,
    od: Sequence[float] | FloatArray,
    *,
    model: CurveModel = CurveModel.FOUR_PL,
    fixed_bottom: float | None = None,
    weighting: Weighting = Weighting.NONE,
    starts: Sequence[CurveParameters] | None = None,
) -> CurveFit:
    """Least-squares 4PL/5PL fit (Levenberg-Marquardt, analytic Jacobian, tolerances 1e-15).

    Formula: minimise Σ w_i (od_i - f(conc_i))², f as in the module docstring, over bottom (unless
    fixed), top, ln(ec50), hill and, for 5PL, ln(s). Standard errors: √diag(s² (JᵀWJ)⁻¹), s² =
    RSS_w / (n - p), as R's ``nls``; the SE of ec50 and s by the delta method. Source: MINPACK
    ``lmder`` via ``scipy.optimize.least_squares``; checked against R ``nls`` and NIST StRD Rat43.

    ``starts`` (optional) replaces the three starting points derived from the data; the lowest
    RSS among the converged starts is kept. Concentrations of 0 are allowed (their prediction is
    the asymptote).

    Raises :class:`CurveFitError` when no start converges: MINPACK status ≤ 0, non-finite values,
    a singular Jacobian, a flat curve (top = bottom), or an indeterminate "solution" (a relative
    standard error of top or hill above 100, or of ln ec50 above 50 — what a run-away, step-like
    curve looks like); also when
    there are not more wells than parameters. NaN ODs are refused.
    """
    conc = np.asarray(concentration, dtype=np.float64)
    y = np.asarray(od, dtype=np.float64)
    if conc.shape != y.shape or conc.ndim != 1:
        raise ValueError("concentration and od must be 1-D arrays of the same length")
    if not (np.isfinite(conc).all() and np.isfinite(y).all()) or np.any(conc < 0):
        raise ValueError("concentrations must be finite and ≥ 0, ODs finite")
    n_parameters = (3 if fixed_bottom is not None else 4) + (
        1 if model is CurveModel.FIVE_PL else 0
    )
    if len(y) <= n_parameters or len(np.unique(conc)) < n_parameters:
        raise CurveFitError(
            f"a {model.value} fit needs more than {n_parameters} standard wells at at least "
            f"{n_parameters} concentrations (found {len(y)} wells, {len(np.unique(conc))} "
            "concentrations)"
        )
    weights = _weights(y, weighting)
    root_w = np.sqrt(weights)
    with np.errstate(divide="ignore"):
        log_conc = np.log(conc)

    def residuals(theta: FloatArray) -> FloatArray:
        prediction, _ = _model_and_jacobian(theta, log_conc, model, fixed_bottom)
        return np.asarray(root_w * (prediction - y), dtype=np.float64)

    def jacobian(theta: FloatArray) -> FloatArray:
        _, jac = _model_and_jacobian(theta, log_conc, model, fixed_bottom)
        return np.asarray(root_w[:, None] * jac, dtype=np.float64)

    if starts is not None:
        initial = [_theta_of(start, model, fixed_bottom) for start in starts]
    else:
        initial = _heuristic_starts(conc, y, model, fixed_bottom)

    best: _Candidate | None = None
    failures: list[str] = []
    for theta0 in initial:
        with np.errstate(all="ignore"):
            result = optimize.least_squares(
                residuals,
                theta0,
                jac=jacobian,
                method="lm",
                xtol=FIT_TOLERANCE,
                ftol=FIT_TOLERANCE,
                gtol=FIT_TOLERANCE,
                max_nfev=20000,
            )
        if result.status <= 0 or not (
            np.isfinite(result.x).all() and np.isfinite(result.fun).all()
        ):
            failures.append(str(result.message))
            continue
        candidate = _candidate(
            np.asarray(result.x, dtype=np.float64),
            jacobian(result.x),
            float(np.sum(result.fun**2)),
            len(y) - n_parameters,
            model,
            fixed_bottom,
        )
        if isinstance(candidate, str):
            failures.append(candidate)
        elif best is None or candidate.weighted_rss < best.weighted_rss:
            best = candidate
    if best is None:
        reasons = "; ".join(distinct_in_order(failures)) or "no starting point"
        raise CurveFitError(f"the {model.value} curve fit did not converge ({reasons})")
    parameters = best.parameters
    rss = float(np.sum((y - parameters.od(conc)) ** 2))
    tss = float(np.sum((y - y.mean()) ** 2))
    df = len(y) - n_parameters
    return CurveFit(
        parameters=parameters,
        standard_errors=best.standard_errors,
        rss=rss,
        residual_se=math.sqrt(best.weighted_rss / df),
        df=df,
        r_squared=1.0 - rss / tss if tss > 0 else math.nan,
        n_points=len(y),
        fixed_bottom=fixed_bottom is not None,
        weighting=weighting,
    )


# --------------------------------------------------------------------------------------------
# Quantification range and samples


def cv_percent(values: Sequence[float] | FloatArray) -> float | None:
    """Coefficient of variation 100 · SD / mean (SD with n - 1).

    ``None`` for fewer than two values or a mean of 0.
    """
    array = np.asarray(values, dtype=np.float64)
    if len(array) < 2 or array.mean() == 0:
        return None
    return float(100.0 * array.std(ddof=1) / abs(array.mean()))


def standard_levels(
    concentration: FloatArray, od: FloatArray, parameters: CurveParameters
) -> tuple[StandardLevel, ...]:
    """Back-calculate every standard level (mean OD of its wells) and apply the acceptance rule.

    Rule: recovery = 100 · back-calculated / nominal must lie within 100 ± 20 %, or ± 25 % for the
    lowest and highest nonzero standard levels (the curve ends); the replicate CV of the OD must
    be within the same limit (a single well has no CV and passes that part). Zero-concentration
    standards have no recovery and never pass.
    """
    levels = np.unique(concentration[concentration > 0])
    result: list[StandardLevel] = []
    for index, level in enumerate(levels):
        wells = od[concentration == level]
        limit = LIMIT_END_PERCENT if index in (0, len(levels) - 1) else LIMIT_INNER_PERCENT
        mean_od = float(wells.mean())
        back = parameters.concentration(mean_od)
        recovery = None if back is None else 100.0 * back / float(level)
        cv = cv_percent(wells)
        passes = (
            recovery is not None and abs(recovery - 100.0) <= limit and (cv is None or cv <= limit)
        )
        result.append(
            StandardLevel(float(level), len(wells), mean_od, cv, back, recovery, limit, passes)
        )
    return tuple(result)


def quantification_limits(levels: Sequence[StandardLevel]) -> tuple[float | None, float | None]:
    """LLOQ and ULOQ: the lowest and the highest standard level that passes the rule.

    A failing level between them does not narrow the range (it is reported per level); no
    passing level gives ``(None, None)``.
    """
    passing = [level.concentration for level in levels if level.passes]
    if not passing:
        return None, None
    return min(passing), max(passing)


def quantify_sample(
    name: str,
    od: Sequence[float],
    dilution: float,
    parameters: CurveParameters,
    lloq: float | None,
    uloq: float | None,
) -> SampleResult:
    """Concentration of one sample: inverse of the curve at its mean OD, times its dilution.

    Flags compare the in-well concentration with the range: ``below_lloq``, ``above_uloq``,
    ``ok``; an OD beyond an asymptote has no concentration and is flagged by the side it lies on;
    ``not_quantifiable`` when no standard passed (no range).
    """
    wells = np.asarray(od, dtype=np.float64)
    mean_od = float(wells.mean())
    in_well = parameters.concentration(mean_od)
    if lloq is None or uloq is None:
        flag = SampleFlag.NOT_QUANTIFIABLE
    elif in_well is None:
        # Beyond an asymptote: the zero-concentration asymptote is bottom when hill > 0.
        zero_side = parameters.bottom if parameters.hill > 0 else parameters.top
        infinite_side = parameters.top if parameters.hill > 0 else parameters.bottom
        nearer_zero = abs(mean_od - zero_side) < abs(mean_od - infinite_side)
        flag = SampleFlag.BELOW_LLOQ if nearer_zero else SampleFlag.ABOVE_ULOQ
    elif in_well < lloq:
        flag = SampleFlag.BELOW_LLOQ
    elif in_well > uloq:
        flag = SampleFlag.ABOVE_ULOQ
    else:
        flag = SampleFlag.OK
    return SampleResult(
        sample=name,
        n_wells=len(wells),
        mean_od=mean_od,
        cv_percent=cv_percent(wells),
        dilution=dilution,
        concentration_in_well=in_well,
        concentration=None if in_well is None else in_well * dilution,
        flag=flag,
    )


def monotonicity_warning(concentration: FloatArray, od: FloatArray) -> str | None:
    """A warning when the standards' mean OD is not monotone in concentration (hook effect …).

    Behaviour: the fit still runs over every well (the logistic is monotone, so those wells
    simply fit badly), the acceptance rule then usually rejects the offending levels, and the
    output carries this warning naming them. Nothing is dropped silently.
    """
    levels = np.unique(concentration)
    means = np.array([od[concentration == level].mean() for level in levels])
    steps = np.diff(means)
    if len(steps) == 0 or np.all(steps > 0) or np.all(steps < 0):
        return None
    direction = 1.0 if means[-1] >= means[0] else -1.0
    against = [f"{levels[i + 1]:g}" for i in range(len(steps)) if steps[i] * direction <= 0]
    return "standard mean ODs are not monotone in concentration; levels out of order: " + ", ".join(
        against
    )


# --------------------------------------------------------------------------------------------
# Input file and command


@dataclass(frozen=True)
class ElisaPlate:
    standard_concentration: FloatArray
    standard_od: FloatArray
    blank_od: FloatArray
    samples: tuple[tuple[str, tuple[float, ...], float], ...]


def read_elisa_csv(path: str | Path) -> ElisaPlate:
    """Read ``well,role,concentration,od,sample,dilution``; errors name the line and column.

    role is standard, blank or sample (any case). Standards need a concentration ≥ 0; samples a
    name, and a dilution > 0 (blank means 1) that is the same on all wells of the sample.
    """
    table = read_table(path, required=("well", "role", "od"))
    concentrations: list[float] = []
    standard_od: list[float] = []
    blanks: list[float] = []
    sample_wells: dict[str, list[float]] = {}
    dilutions: dict[str, tuple[float, int]] = {}
    for index, line in enumerate(table.line_numbers):
        role = require_text(table, index, "role").lower()
        od = parse_float(table, index, "od")
        if role == "standard":
            if not table.has("concentration"):
                raise AnalysisInputError("standards need a 'concentration' column", row=1)
            concentration = parse_float(table, index, "concentration")
            if concentration < 0:
                raise AnalysisInputError(
                    f"concentration {concentration:g} is negative", row=line, column="concentration"
                )
            concentrations.append(concentration)
            standard_od.append(od)
        elif role == "blank":
            blanks.append(od)
        elif role == "sample":
            if not table.has("sample"):
                raise AnalysisInputError("samples need a 'sample' column", row=1)
            name = require_text(table, index, "sample")
            dilution = 1.0
            if table.has("dilution") and table.rows[index]["dilution"] != "":
                dilution = parse_float(table, index, "dilution")
                if dilution <= 0:
                    raise AnalysisInputError(
                        f"dilution {dilution:g} must be above 0", row=line, column="dilution"
                    )
            if name in dilutions and dilutions[name][0] != dilution:
                raise AnalysisInputError(
                    f"sample '{name}' has dilution {dilution:g} here but "
                    f"{dilutions[name][0]:g} on row {dilutions[name][1]}",
                    row=line,
                    column="dilution",
                )
            dilutions.setdefault(name, (dilution, line))
            sample_wells.setdefault(name, []).append(od)
        else:
            raise AnalysisInputError(
                f"role '{role}' is not standard, blank or sample", row=line, column="role"
            )
    if not standard_od:
        raise AnalysisInputError(
            "the file has no standard wells: there is no curve to fit", column="role"
        )
    return ElisaPlate(
        standard_concentration=np.array(concentrations, dtype=np.float64),
        standard_od=np.array(standard_od, dtype=np.float64),
        blank_od=np.array(blanks, dtype=np.float64),
        samples=tuple(
            (name, tuple(sample_wells[name]), dilutions[name][0])
            for name in distinct_in_order(sample_wells)
        ),
    )


def analyze_elisa(
    plate: ElisaPlate,
    *,
    model: CurveModel = CurveModel.FOUR_PL,
    fixed_bottom: float | None = None,
    weighting: Weighting = Weighting.NONE,
    subtract_blank: bool = False,
) -> ElisaAnalysis:
    """Fit the standards, derive LLOQ/ULOQ and quantify every sample (see the functions used).

    ``subtract_blank`` subtracts the mean blank OD from every standard and sample well first (an
    error without blank wells). Raises :class:`CurveFitError` when the fit does not converge.
    """
    blank = None
    standard_od = plate.standard_od
    if subtract_blank:
        if len(plate.blank_od) == 0:
            raise ValueError("blank subtraction asked for, but the plate has no blank wells")
        blank = float(plate.blank_od.mean())
        standard_od = standard_od - blank
    warnings: list[str] = []
    warning = monotonicity_warning(plate.standard_concentration, standard_od)
    if warning is not None:
        warnings.append(warning)
    fit = fit_curve(
        plate.standard_concentration,
        standard_od,
        model=model,
        fixed_bottom=fixed_bottom,
        weighting=weighting,
    )
    levels = standard_levels(plate.standard_concentration, standard_od, fit.parameters)
    lloq, uloq = quantification_limits(levels)
    if lloq is None:
        warnings.append("no standard level meets the acceptance rule: samples not quantifiable")
    samples = tuple(
        quantify_sample(
            name, [od - (blank or 0.0) for od in wells], dilution, fit.parameters, lloq, uloq
        )
        for name, wells, dilution in plate.samples
    )
    return ElisaAnalysis(fit, levels, lloq, uloq, samples, blank, tuple(warnings))


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def to_json(analysis: ElisaAnalysis) -> dict[str, object]:
    fit = analysis.fit
    parameters = fit.parameters
    fit_json: dict[str, object] = {
        "model": parameters.model.value,
        "bottom": parameters.bottom,
        "top": parameters.top,
        "ec50": parameters.ec50,
        "hill": parameters.hill,
        "r_squared": _number(fit.r_squared),
        "rss": fit.rss,
        "residual_se": _number(fit.residual_se),
        "df": fit.df,
        "n_wells": fit.n_points,
        "fixed_bottom": fit.fixed_bottom,
        "weights": fit.weighting.value,
        "se": {key: _number(value) for key, value in fit.standard_errors.items()},
    }
    if parameters.model is CurveModel.FIVE_PL:
        fit_json["s"] = parameters.s
    return {
        "analysis": "elisa",
        "fit": fit_json,
        "lloq": analysis.lloq,
        "uloq": analysis.uloq,
        "rule": (
            f"LLOQ/ULOQ: lowest/highest standard whose back-calculated recovery is within "
            f"±{LIMIT_INNER_PERCENT:g} % (±{LIMIT_END_PERCENT:g} % at the lowest and highest "
            "level) and whose replicate OD CV is within the same limit"
        ),
        "blank_subtracted": analysis.blank_subtracted,
        "standards": [
            {
                "concentration": level.concentration,
                "n_wells": level.n_wells,
                "mean_od": level.mean_od,
                "cv_percent": _number(level.cv_percent),
                "back_calculated": _number(level.back_calculated),
                "recovery_percent": _number(level.recovery_percent),
                "limit_percent": level.limit_percent,
                "passes": level.passes,
            }
            for level in analysis.standards
        ],
        "samples": [
            {
                "sample": sample.sample,
                "n_wells": sample.n_wells,
                "mean_od": sample.mean_od,
                "cv_percent": _number(sample.cv_percent),
                "dilution": sample.dilution,
                "concentration_in_well": _number(sample.concentration_in_well),
                "concentration": _number(sample.concentration),
                "flag": sample.flag.value,
            }
            for sample in analysis.samples
        ],
        "warnings": list(analysis.warnings),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", choices=[m.value for m in CurveModel], default="4pl")
    parser.add_argument(
        "--fix-bottom",
        type=float,
        default=None,
        metavar="V",
        help="fix the lower asymptote (OD at concentration 0) at V",
    )
    parser.add_argument(
        "--weights",
        choices=[w.value for w in Weighting],
        default="none",
        help="least-squares weights per well (default: unweighted)",
    )
    parser.add_argument(
        "--subtract-blank",
        action="store_true",
        help="subtract the mean blank OD from every well before fitting",
    )


def run(args: argparse.Namespace) -> dict[str, object]:
    plate = read_elisa_csv(args.input)
    if args.subtract_blank and len(plate.blank_od) == 0:
        raise AnalysisInputError("--subtract-blank needs blank wells (role 'blank')", column="role")
    try:
        analysis = analyze_elisa(
            plate,
            model=CurveModel(args.model),
            fixed_bottom=args.fix_bottom,
            weighting=Weighting(args.weights),
            subtract_blank=args.subtract_blank,
        )
    except CurveFitError as exc:
        raise AnalysisInputError(str(exc), column="od") from None
    return to_json(analysis)
