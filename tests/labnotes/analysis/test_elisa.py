"""ELISA curves against published fits (R's DNase example, NIST Rat43) and documented edges."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from labnotes.analysis.elisa import (
    CurveFitError,
    CurveModel,
    CurveParameters,
    ElisaPlate,
    SampleFlag,
    analyze_elisa,
    fit_curve,
    monotonicity_warning,
    read_elisa_csv,
    standard_levels,
)
from tests.support.requirements import require_shared

ITERATIVE = 1e-4

RAT43_CERTIFIED = {
    "b1": 6.9964151270e02,
    "b2": 5.2771253025e00,
    "b3": 7.5962938329e-01,
    "b4": 1.2792483859e00,
}
RAT43_SD = {
    "b1": 1.6302297817e01,
    "b2": 2.0828735829e00,
    "b3": 1.9566123451e-01,
    "b4": 6.8761936385e-01,
}


def matches_published(x: float | None, published: str, rel: float) -> bool:
    """True if x agrees with a published number to `rel`, or to the precision it was printed."""
    if x is None:
        return False
    v = Decimal(published)
    half_unit = Decimal(5).scaleb(v.as_tuple().exponent - 1)  # type: ignore[operator]
    return abs(Decimal(x) - v) <= max(Decimal(str(rel)) * abs(v), half_unit)


def _rat43() -> tuple[np.ndarray, np.ndarray]:
    path = require_shared("data/reference/elisa/NIST_Rat43.csv")
    rows = np.loadtxt(path, delimiter=",", skiprows=1)
    return rows[:, 0], rows[:, 1]


def _rat43_start(b1: float, b2: float, b3: float, b4: float) -> CurveParameters:
    # NIST y = b1 / (1 + exp(b2 - b3 x))^(1/b4) with conc = e^x: hill b3, ec50 e^(b2/b3), s 1/b4.
    return CurveParameters(CurveModel.FIVE_PL, 0.0, b1, math.exp(b2 / b3), b3, 1.0 / b4)


def _rat43_as_nist(parameters: CurveParameters) -> dict[str, float]:
    return {
        "b1": parameters.top,
        "b2": math.log(parameters.ec50) * parameters.hill,
        "b3": parameters.hill,
        "b4": 1.0 / parameters.s,
    }


def _correct_digits(value: float, certified: float) -> float:
    error = abs(value - certified)
    return math.inf if error == 0 else -math.log10(error / abs(certified))


def test_dnase_run1_matches_r_nls_example_when_bottom_fixed_at_zero() -> None:
    plate = read_elisa_csv(require_shared("data/reference/elisa/DNase_run1.csv"))
    fit = analyze_elisa(plate, fixed_bottom=0.0).fit
    p = fit.parameters
    se = fit.standard_errors
    assert matches_published(p.top, "2.34518", ITERATIVE)
    assert matches_published(math.log(p.ec50), "1.48309", ITERATIVE)
    assert matches_published(1.0 / p.hill, "1.04146", ITERATIVE)
    assert matches_published(se["top"], "0.07815", ITERATIVE)
    assert matches_published(se["log_ec50"], "0.08135", ITERATIVE)
    assert se["hill"] is not None
    assert matches_published(se["hill"] / p.hill**2, "0.03227", ITERATIVE)
    assert matches_published(fit.residual_se, "0.01919", ITERATIVE)
    assert fit.df == 13
    assert matches_published(fit.rss, "0.0047896", ITERATIVE)


def test_rat43_reaches_six_digits_when_started_from_nist_start_2() -> None:
    x, y = _rat43()
    fit = fit_curve(
        np.exp(x),
        y,
        model=CurveModel.FIVE_PL,
        fixed_bottom=0.0,
        starts=[_rat43_start(700, 5, 0.75, 1.3)],
    )
    estimate = _rat43_as_nist(fit.parameters)
    for name, certified in RAT43_CERTIFIED.items():
        assert _correct_digits(estimate[name], certified) >= 6, name
    assert _correct_digits(fit.rss, 8.7864049080e03) >= 6
    assert fit.residual_se is not None
    assert _correct_digits(fit.residual_se, 2.8262414662e01) >= 6
    # Certified SDs of b1 and b3 map directly onto top and hill.
    assert math.isclose(fit.standard_errors["top"] or 0, RAT43_SD["b1"], rel_tol=ITERATIVE)
    assert math.isclose(fit.standard_errors["hill"] or 0, RAT43_SD["b3"], rel_tol=ITERATIVE)


def test_rat43_is_certified_or_refused_when_started_from_nist_start_1() -> None:
    x, y = _rat43()
    try:
        fit = fit_curve(
            np.exp(x),
            y,
            model=CurveModel.FIVE_PL,
            fixed_bottom=0.0,
            starts=[_rat43_start(100, 10, 1, 1)],
        )
    except CurveFitError as error:
        assert "did not converge" in str(error)
        return
    estimate = _rat43_as_nist(fit.parameters)
    for name, certified in RAT43_CERTIFIED.items():
        assert _correct_digits(estimate[name], certified) >= 6, name


def test_rat43_reaches_certified_values_when_starts_come_from_the_data() -> None:
    x, y = _rat43()
    fit = fit_curve(np.exp(x), y, model=CurveModel.FIVE_PL, fixed_bottom=0.0)
    estimate = _rat43_as_nist(fit.parameters)
    for name, certified in RAT43_CERTIFIED.items():
        assert _correct_digits(estimate[name], certified) >= 6, name


def test_standards_back_calculate_within_limits_when_dnase_run2() -> None:
    plate = read_elisa_csv(require_shared("data/reference/elisa/DNase_run2.csv"))
    analysis = analyze_elisa(plate)
    assert analysis.fit.r_squared > 0.99
    inner = [level for level in analysis.standards[1:-1]]
    assert all(
        level.recovery_percent is not None and abs(level.recovery_percent - 100) < 20
        for level in inner
    )
    assert analysis.lloq is not None and analysis.uloq == pytest.approx(12.5)
    # Round trip: the curve evaluated at a back-calculated level gives back its mean OD.
    for level in analysis.standards:
        if level.back_calculated is not None:
            od = float(analysis.fit.parameters.od(level.back_calculated))
            assert od == pytest.approx(level.mean_od, rel=1e-9)


def _exact_plate(
    samples: tuple[tuple[str, tuple[float, ...], float], ...],
    low_standard_od: tuple[float, float] | None = None,
) -> ElisaPlate:
    curve = CurveParameters(CurveModel.FOUR_PL, 0.05, 2.5, 10.0, 1.2)
    levels = 100.0 / 2.0 ** np.arange(8)
    conc = np.repeat(levels, 2)
    od = curve.od(conc) * np.tile([0.99, 1.01], 8)
    if low_standard_od is not None:
        od[-2:] = low_standard_od
    return ElisaPlate(conc, od, np.array([0.05, 0.051]), samples)


def test_lloq_excludes_the_lowest_standard_when_its_replicate_cv_is_too_high() -> None:
    plate = _exact_plate((), low_standard_od=(0.07, 0.13))  # lowest level: CV about 40 %
    analysis = analyze_elisa(plate)
    lowest = analysis.standards[0]
    assert lowest.cv_percent == pytest.approx(100 * np.std([0.07, 0.13], ddof=1) / 0.1)
    assert lowest.limit_percent == 25.0 and not lowest.passes
    assert analysis.standards[1].limit_percent == 20.0
    assert analysis.lloq == pytest.approx(100.0 / 2.0**6)
    assert analysis.uloq == pytest.approx(100.0)


def test_samples_are_flagged_and_multiplied_by_dilution() -> None:
    curve = CurveParameters(CurveModel.FOUR_PL, 0.05, 2.5, 10.0, 1.2)
    mid = float(curve.od(10.0))
    samples = (
        ("S-ok", (mid * 0.98, mid * 1.02), 4.0),
        ("S-low", (0.051, 0.052), 1.0),
        ("S-high", (2.6, 2.61), 1.0),
    )
    analysis = analyze_elisa(_exact_plate(samples))
    by_name = {s.sample: s for s in analysis.samples}
    ok = by_name["S-ok"]
    assert ok.flag is SampleFlag.OK
    assert ok.concentration_in_well is not None and ok.concentration is not None
    assert ok.concentration == pytest.approx(4.0 * ok.concentration_in_well)
    assert ok.concentration_in_well == pytest.approx(10.0, rel=0.03)
    assert ok.cv_percent == pytest.approx(100 * np.std([mid * 0.98, mid * 1.02], ddof=1) / mid)
    assert by_name["S-low"].flag is SampleFlag.BELOW_LLOQ
    assert by_name["S-high"].flag is SampleFlag.ABOVE_ULOQ
    assert by_name["S-high"].concentration is None  # above the top asymptote: no inverse


def test_non_monotone_standards_are_fitted_and_reported_when_hook_effect() -> None:
    curve = CurveParameters(CurveModel.FOUR_PL, 0.05, 2.5, 10.0, 1.2)
    levels = 200.0 / 2.0 ** np.arange(9)
    conc = np.repeat(levels, 2)
    od = curve.od(conc)
    od[:2] = 1.6  # the top standard reads below the next one (high-dose hook)
    warning = monotonicity_warning(conc, od)
    assert warning is not None and "200" in warning
    analysis = analyze_elisa(ElisaPlate(conc, od, np.zeros(0), ()))
    assert analysis.warnings and "not monotone" in analysis.warnings[0]
    top_level = analysis.standards[-1]
    assert top_level.concentration == 200.0 and not top_level.passes
    assert analysis.uloq is not None and analysis.uloq < 200.0


def test_fit_raises_clear_error_when_standards_are_flat() -> None:
    conc = np.repeat([1.0, 2.0, 4.0, 8.0, 16.0], 2)
    with pytest.raises(CurveFitError, match="did not converge"):
        fit_curve(conc, np.full(10, 0.4))


def test_fit_refuses_when_fewer_wells_than_parameters() -> None:
    with pytest.raises(CurveFitError, match="needs more than 4 standard wells"):
        fit_curve([1.0, 2.0, 4.0, 8.0], [0.1, 0.2, 0.4, 0.8])


def test_zero_concentration_standard_sits_on_the_lower_asymptote() -> None:
    curve = CurveParameters(CurveModel.FOUR_PL, 0.08, 2.0, 5.0, 1.0)
    conc = np.array([0.0, 0.0, 0.5, 0.5, 2, 2, 8, 8, 32, 32, 128, 128])
    od = curve.od(conc) + np.tile([0.004, -0.004], 6)
    fit = fit_curve(conc, od)
    assert fit.parameters.bottom == pytest.approx(0.08, abs=0.01)
    assert float(curve.od(0.0)) == 0.08
    levels = standard_levels(conc, od, fit.parameters)
    assert [level.concentration for level in levels] == [0.5, 2, 8, 32, 128]


def test_reader_names_row_and_column_when_dilution_is_not_positive(tmp_path: object) -> None:
    from pathlib import Path

    from labnotes.analysis.errors import AnalysisInputError

    path = Path(str(tmp_path)) / "plate.csv"
    path.write_text(
        "well,role,concentration,od,sample,dilution\nA1,standard,1,0.2,,\nA2,sample,,0.3,S1,0\n"
    )
    with pytest.raises(AnalysisInputError) as caught:
        read_elisa_csv(path)
    assert caught.value.describe() == "row 3, column 'dilution': dilution 0 must be above 0"
