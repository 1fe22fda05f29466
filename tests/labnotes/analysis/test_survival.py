"""Survival analysis against R survival's published outputs (aml, ovarian) and documented edges."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labnotes.analysis.survival import (
    SurvivalData,
    analyze_survival,
    cox_hazard_ratios,
    holm_adjust,
    increase_in_lifespan_percent,
    kaplan_meier,
    logrank_test,
    median_survival,
    numbers_at_risk,
    pairwise_logrank,
    read_survival_csv,
)
from tests.support.requirements import require_shared

CLOSED_FORM = 1e-6
ITERATIVE = 1e-4


def matches_published(x: float | None, published: str, rel: float) -> bool:
    """True if x agrees with a published number to `rel`, or to the precision it was printed."""
    if x is None:
        return False
    v = Decimal(published)
    half_unit = Decimal(5).scaleb(v.as_tuple().exponent - 1)  # type: ignore[operator]
    return abs(Decimal(x) - v) <= max(Decimal(str(rel)) * abs(v), half_unit)


def _aml() -> SurvivalData:
    return read_survival_csv(require_shared("data/reference/survival/aml.csv"))


def _ovarian() -> SurvivalData:
    return read_survival_csv(require_shared("data/reference/survival/ovarian.csv"))


# (group, time, n.risk, n.event, survival, std.err, lower, upper) from summary(survfit(...))
AML_TABLE = [
    ("Maintained", 63, 11, 1, "0.909", "0.0867", "0.7541", "1.000"),
    ("Maintained", 91, 10, 1, "0.818", "0.1163", "0.6192", "1.000"),
    ("Maintained", 126, 8, 1, "0.716", "0.1397", "0.4884", "1.000"),
    ("Maintained", 161, 7, 1, "0.614", "0.1526", "0.3769", "0.999"),
    ("Maintained", 217, 5, 1, "0.491", "0.1642", "0.2549", "0.946"),
    ("Maintained", 238, 4, 1, "0.368", "0.1627", "0.1549", "0.875"),
    ("Maintained", 336, 2, 1, "0.184", "0.1535", "0.0359", "0.944"),
    ("Nonmaintained", 35, 12, 2, "0.8333", "0.1076", "0.6470", "1.000"),
    ("Nonmaintained", 56, 10, 2, "0.6667", "0.1361", "0.4468", "0.995"),
    ("Nonmaintained", 84, 8, 1, "0.5833", "0.1423", "0.3616", "0.941"),
    ("Nonmaintained", 161, 6, 1, "0.4861", "0.1481", "0.2675", "0.883"),
    ("Nonmaintained", 189, 5, 1, "0.3889", "0.1470", "0.1854", "0.816"),
    ("Nonmaintained", 210, 4, 1, "0.2917", "0.1387", "0.1148", "0.741"),
    ("Nonmaintained", 231, 3, 1, "0.1944", "0.1219", "0.0569", "0.664"),
    ("Nonmaintained", 301, 2, 1, "0.0972", "0.0919", "0.0153", "0.620"),
]

OVARIAN_TABLE = [
    ("rx1", 59, 13, 1, "0.923", "0.0739", "0.789", "1.000"),
    ("rx1", 115, 12, 1, "0.846", "0.1001", "0.671", "1.000"),
    ("rx1", 156, 11, 1, "0.769", "0.1169", "0.571", "1.000"),
    ("rx1", 268, 10, 1, "0.692", "0.1280", "0.482", "0.995"),
    ("rx1", 329, 9, 1, "0.615", "0.1349", "0.400", "0.946"),
    ("rx1", 431, 8, 1, "0.538", "0.1383", "0.326", "0.891"),
    ("rx1", 638, 5, 1, "0.431", "0.1467", "0.221", "0.840"),
    ("rx2", 353, 13, 1, "0.923", "0.0739", "0.789", "1.000"),
    ("rx2", 365, 12, 1, "0.846", "0.1001", "0.671", "1.000"),
    ("rx2", 464, 9, 1, "0.752", "0.1256", "0.542", "1.000"),
    ("rx2", 475, 8, 1, "0.658", "0.1407", "0.433", "1.000"),
    ("rx2", 563, 7, 1, "0.564", "0.1488", "0.336", "0.946"),
]


@pytest.mark.parametrize(("dataset", "table"), [("aml", AML_TABLE), ("ovarian", OVARIAN_TABLE)])
def test_km_table_matches_r_summary_when_published_data(dataset: str, table: list[tuple]) -> None:
    data = _aml() if dataset == "aml" else _ovarian()
    times = np.array(data.time_days)
    events = np.array(data.event)
    groups = np.array(data.groups)
    for group, time, n_risk, n_event, surv, std_err, lower, upper in table:
        curve = kaplan_meier(times[groups == group], events[groups == group])
        i = int(np.flatnonzero(curve.time_days == time)[0])
        assert curve.n_risk[i] == n_risk
        assert curve.n_event[i] == n_event
        assert matches_published(float(curve.survival[i]), surv, CLOSED_FORM)
        assert matches_published(float(curve.std_err[i]), std_err, CLOSED_FORM)
        assert matches_published(float(curve.lower[i]), lower, CLOSED_FORM)
        assert matches_published(float(curve.upper[i]), upper, CLOSED_FORM)


def test_km_limits_are_undefined_when_survival_reaches_zero() -> None:
    data = _aml()
    groups = np.array(data.groups)
    curve = kaplan_meier(
        np.array(data.time_days)[groups == "Nonmaintained"],
        np.array(data.event)[groups == "Nonmaintained"],
    )
    last = int(np.flatnonzero(curve.time_days == 315)[0])
    assert curve.survival[last] == 0.0
    assert math.isnan(curve.std_err[last])
    assert math.isnan(curve.lower[last]) and math.isnan(curve.upper[last])


def test_medians_and_ci_match_r_when_aml() -> None:
    analysis = analyze_survival(_aml(), control="Maintained")
    by_group = {g.group: g for g in analysis.groups}
    maintained = by_group["Maintained"].median
    assert maintained.median_days == pytest.approx(217.0)  # 31 weeks
    assert maintained.lower_days == pytest.approx(126.0)  # 18 weeks
    assert maintained.upper_days is None
    nonmaintained = by_group["Nonmaintained"].median
    assert nonmaintained.median_days == pytest.approx(161.0)
    assert nonmaintained.lower_days == pytest.approx(56.0)
    assert nonmaintained.upper_days is None
    assert (by_group["Maintained"].n, by_group["Maintained"].events) == (11, 7)
    assert (by_group["Nonmaintained"].n, by_group["Nonmaintained"].events) == (12, 11)
    # ILS of Nonmaintained against Maintained: 100 · (161 - 217) / 217
    assert by_group["Nonmaintained"].ils_percent == pytest.approx(100 * (161 - 217) / 217)


def test_logrank_matches_survdiff_when_aml() -> None:
    data = _aml()
    result = logrank_test(data.time_days, data.event, data.groups)
    assert result.df == 1
    assert matches_published(result.chi2, "3.4", CLOSED_FORM)
    assert matches_published(result.p, "0.07", CLOSED_FORM)
    assert result.observed == (7.0, 11.0)
    assert matches_published(result.expected[0], "10.69", CLOSED_FORM)
    assert matches_published(result.expected[1], "7.31", CLOSED_FORM)


def test_logrank_matches_survdiff_when_ovarian() -> None:
    data = _ovarian()
    result = logrank_test(data.time_days, data.event, data.groups)
    assert matches_published(result.chi2, "1.063", CLOSED_FORM)
    assert matches_published(result.p, "0.303", CLOSED_FORM)
    assert matches_published(result.expected[0], "5.23", CLOSED_FORM)
    assert matches_published(result.expected[1], "6.77", CLOSED_FORM)


def test_cox_efron_matches_coxph_when_aml() -> None:
    data = _aml()
    ratios, converged = cox_hazard_ratios(data.time_days, data.event, data.groups, "Maintained")
    assert converged
    (ratio,) = ratios
    assert ratio.group == "Nonmaintained"
    assert matches_published(ratio.coefficient, "0.9155", ITERATIVE)
    assert matches_published(ratio.hazard_ratio, "2.4981", ITERATIVE)
    assert matches_published(ratio.se, "0.5119", ITERATIVE)
    assert matches_published(ratio.p, "0.0737", ITERATIVE)
    assert ratio.lower == pytest.approx(math.exp(ratio.coefficient - 1.959963985 * ratio.se))


def test_median_is_midpoint_of_flat_stretch_when_survival_is_exactly_half() -> None:
    # S: 0.75 at day 2, 0.5 from day 4 to day 6, 0.25, 0 — R survfit reports median (4 + 6) / 2.
    curve = kaplan_meier([2, 4, 6, 8], [1, 1, 1, 1])
    assert median_survival(curve).median_days == pytest.approx(5.0)


def test_median_uses_last_follow_up_when_curve_ends_flat_at_half() -> None:
    # One death at day 3 of two animals, the other censored at day 9: S = 0.5 to the end of
    # follow-up; R's quantile.survfit takes (3 + 9) / 2.
    curve = kaplan_meier([3, 9], [1, 0])
    assert median_survival(curve).median_days == pytest.approx(6.0)


def test_median_is_first_time_below_half_when_no_flat_stretch() -> None:
    curve = kaplan_meier([5, 7, 7, 12, 20], [1, 1, 1, 0, 1])
    # S: 0.8 at 5, 0.4 at 7 → median 7
    assert median_survival(curve).median_days == pytest.approx(7.0)


def test_median_not_reached_when_all_censored() -> None:
    data = SurvivalData(
        ("a", "b", "c", "d"),
        ("Vehicle", "Vehicle", "Drug", "Drug"),
        (10.0, 20.0, 15.0, 30.0),
        (0, 0, 0, 0),
    )
    analysis = analyze_survival(data)
    assert analysis.control == "Vehicle"
    assert all(
        g.median.median_days is None and g.median.lower_days is None for g in analysis.groups
    )
    assert analysis.logrank.chi2 is None and analysis.logrank.p is None
    assert all(pair.chi2 is None and pair.p_holm is None for pair in analysis.pairwise)
    drug = analysis.groups[1]
    assert drug.hazard_ratio is not None and drug.hazard_ratio.hazard_ratio is None
    assert drug.hazard_ratio.note == "not estimable: the control group has no events"
    assert [float(s) for s in drug.curve.survival] == [1.0, 1.0]


def test_single_animal_gives_a_step_to_zero_when_it_dies() -> None:
    curve = kaplan_meier([12.0], [1])
    assert curve.survival.tolist() == [0.0]
    median = median_survival(curve)
    assert median.median_days == pytest.approx(12.0)
    assert median.lower_days is None and median.upper_days is None


def test_empty_group_gives_empty_curve_and_no_median() -> None:
    curve = kaplan_meier([], [])
    assert len(curve.time_days) == 0
    assert median_survival(curve).median_days is None


def test_pairwise_is_null_and_left_out_of_holm_when_neither_group_has_an_event() -> None:
    times = [5, 6, 7, 8, 20, 21, 22, 23, 30, 31, 32, 33]
    events = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    groups = ["C"] * 4 + ["A"] * 4 + ["B"] * 4
    pairs = {(p.a, p.b): p for p in pairwise_logrank(times, events, groups)}
    assert pairs[("A", "B")].chi2 is None and pairs[("A", "B")].p_holm is None
    ca = pairs[("C", "A")]
    cb = pairs[("C", "B")]
    assert ca.chi2 is not None and ca.p is not None and cb.p is not None
    # Two defined tests: Holm multiplies the smaller p by 2 (and keeps the order).
    assert ca.p_holm == pytest.approx(min(1.0, 2 * min(ca.p, cb.p)))


def test_holm_matches_p_adjust_when_three_p_values() -> None:
    # R: p.adjust(c(0.01, 0.04, 0.03), "holm") → 0.03 0.06 0.06
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([None, 0.2]) == [None, 0.2]


def test_cox_reports_group_without_events_as_not_estimable_and_fits_the_rest() -> None:
    times = [3, 5, 6, 9, 12, 4, 8, 10, 11, 15, 20, 21, 22, 23, 24]
    events = [1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0]
    groups = ["C"] * 5 + ["A"] * 5 + ["B"] * 5
    ratios, converged = cox_hazard_ratios(times, events, groups, "C")
    by_group = {r.group: r for r in ratios}
    assert by_group["B"].hazard_ratio is None
    assert by_group["B"].note is not None and "no events" in by_group["B"].note
    alone, _ = cox_hazard_ratios(times[:10], events[:10], groups[:10], "C")
    assert by_group["A"].coefficient == pytest.approx(alone[0].coefficient, rel=1e-9)
    assert converged


def test_numbers_at_risk_count_animals_still_followed_on_the_day() -> None:
    assert numbers_at_risk([3, 5, 5, 9, 12], [0, 5, 6, 12, 13]).tolist() == [5, 4, 2, 1, 0]


def test_ils_is_none_when_a_median_is_not_reached() -> None:
    assert increase_in_lifespan_percent(None, 20.0) is None
    assert increase_in_lifespan_percent(30.0, 20.0) == pytest.approx(50.0)


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_results_are_unchanged_when_rows_are_permuted(random: object) -> None:
    data = _aml()
    order = list(range(len(data.animals)))
    random.shuffle(order)  # type: ignore[attr-defined]
    shuffled = SurvivalData(
        tuple(data.animals[i] for i in order),
        tuple(data.groups[i] for i in order),
        tuple(data.time_days[i] for i in order),
        tuple(data.event[i] for i in order),
    )
    a = analyze_survival(data, control="Maintained")
    b = analyze_survival(shuffled, control="Maintained")
    assert b.logrank.chi2 == pytest.approx(a.logrank.chi2, rel=1e-12)
    by_group = {g.group: g for g in b.groups}
    for g in a.groups:
        assert by_group[g.group].median == g.median
        assert np.allclose(by_group[g.group].curve.survival, g.curve.survival)
    ratio_a = a.groups[1].hazard_ratio
    ratio_b = by_group["Nonmaintained"].hazard_ratio
    assert ratio_a is not None and ratio_b is not None
    assert ratio_b.coefficient == pytest.approx(ratio_a.coefficient, rel=1e-9)
