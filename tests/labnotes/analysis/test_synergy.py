"""Synergy analyses: hand arithmetic, SynergyLMM's published growth rates, edge cases, CLI.

R cross-checks of the per-day Bliss/HSA tests live in test_synergy_vs_r.py.
"""

from __future__ import annotations

import argparse
import json
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from labnotes.analysis import synergy
from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.growth_data import build_growth_data, read_growth_csv
from tests.labnotes.analysis.growth_fixtures import (
    simulate_study,
    to_growth_data,
    write_growth_csv,
    write_rows,
)
from tests.support.requirements import require_shared

HEADER = ["animal", "group", "day", "volume_mm3"]
ARMS = synergy.SynergyArms("Control", "DrugA", "DrugB", "Combination")
SYNERGY_LMM = "data/reference/growth/SynergyLMM_grwth_data.csv"

# Day-10 means: control 500, A 300 (TGI 40 %), B 250 (50 %), combination 75 (85 %).
HAND_ROWS = [
    ["C1", "Control", 0, 100], ["C1", "Control", 10, 400],
    ["C2", "Control", 0, 100], ["C2", "Control", 10, 600],
    ["A1", "DrugA", 0, 100], ["A1", "DrugA", 10, 300],
    ["A2", "DrugA", 0, 100], ["A2", "DrugA", 10, 300],
    ["B1", "DrugB", 0, 100], ["B1", "DrugB", 10, 250],
    ["B2", "DrugB", 0, 100], ["B2", "DrugB", 10, 250],
    ["AB1", "Combination", 0, 100], ["AB1", "Combination", 10, 100],
    ["AB2", "Combination", 0, 100], ["AB2", "Combination", 10, 50],
]  # fmt: skip


def matches_published(x: float, published: str, rel: float) -> bool:
    """The reference README's rule: relative tolerance or half a unit in the last printed digit."""
    v = Decimal(published)
    half_unit = Decimal(5).scaleb(v.as_tuple().exponent - 1)  # type: ignore[operator]
    return abs(Decimal(x) - v) <= max(Decimal(str(rel)) * abs(v), half_unit)


def hand_data() -> synergy.GrowthData:
    return build_growth_data(
        [str(r[0]) for r in HAND_ROWS],
        [str(r[1]) for r in HAND_ROWS],
        [float(r[2]) for r in HAND_ROWS],  # type: ignore[arg-type]
        [float(r[3]) for r in HAND_ROWS],  # type: ignore[arg-type]
    )


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    synergy.add_arguments(parser)
    return parser.parse_args(argv)


def arm_options(arms: synergy.SynergyArms = ARMS) -> list[str]:
    return [
        "--control", arms.control, "--drug-a", arms.drug_a,
        "--drug-b", arms.drug_b, "--combination", arms.combination,
    ]  # fmt: skip


def exponential_rows(rates: dict[str, float], *, animals: int = 3) -> list[list[object]]:
    """ln(V + 1) exactly linear in time, so invivoSyn's eGR equals the rate."""
    rows: list[list[object]] = []
    for group, rate in rates.items():
        for i in range(animals):
            v0 = 100.0 + 10 * i
            for day in range(0, 21, 4):
                rows.append([f"{group}{i}", group, day, (v0 + 1) * math.exp(rate * day) - 1])
    return rows


# --------------------------------------------------------------------------- TGI models


def test_expected_tgi_follows_bliss_hsa_and_ra_when_single_agents_inhibit() -> None:
    expected = synergy.expected_tgi_percent(40.0, 50.0)
    assert expected == pytest.approx({"bliss": 70.0, "hsa": 50.0, "ra": 90.0})


def test_tgi_synergy_matches_hand_arithmetic_when_combination_beats_bliss() -> None:
    result = synergy.tgi_synergy(
        hand_data(), ARMS, day=10, rng=np.random.default_rng(0), n_resamples=200
    )
    assert (result.tgi_drug_a_percent, result.tgi_drug_b_percent) == pytest.approx((40.0, 50.0))
    assert result.observed_tgi_percent == pytest.approx(85.0)
    assert result.synergy_score == pytest.approx({"bliss": 15.0, "hsa": 35.0, "ra": -5.0})
    assert result.fold_over_expected == pytest.approx(
        {"bliss": 85 / 70, "hsa": 85 / 50, "ra": 85 / 90}
    )
    assert result.outside_0_100 == ()


def test_tgi_outside_0_100_is_flagged_when_the_combination_regresses(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "h.csv", HEADER, HAND_ROWS)
    output = synergy.run(
        parse(["--input", str(path), *arm_options(), "--day", "10", "--definition", "delta"])
    )
    json.dumps(output, allow_nan=False)
    # delta: control mean (300 + 500)/2 = 400, combination (0 - 50)/2 = -25 -> 106.25 %
    assert output["observed_tgi_percent"] == pytest.approx(106.25)
    assert output["outside_0_100"] == ["combination"]
    assert "mixed-model" in str(output["warning"])


def test_tgi_bootstrap_is_identical_when_the_seed_is_repeated(tmp_path: Path) -> None:
    rows = simulate_study(
        seed=21,
        growth_rates={"Control": 0.08, "DrugA": 0.06, "DrugB": 0.06, "Combination": 0.0},
        animals_per_group=10,
    )
    path = write_growth_csv(tmp_path / "s.csv", rows)
    argv = ["--input", str(path), *arm_options(), "--bootstrap", "400", "--seed", "5"]
    first, second = synergy.run(parse(argv)), synergy.run(parse(argv))
    assert first == second
    ci = first["ci95"]
    assert isinstance(ci, dict)
    low, high = ci["synergy_score"]["bliss"]
    assert low < first["synergy_score"]["bliss"] < high  # type: ignore[index]
    assert low > 0  # simulated: Bliss expects TGI 70 %, the combination gives about 91 %


def test_arms_must_differ_when_synergy_is_asked_for() -> None:
    with pytest.raises(AnalysisInputError, match="four different groups"):
        synergy.SynergyArms("Control", "DrugA", "DrugA", "Combination").check(hand_data())


def test_unknown_arm_is_named_when_synergy_is_asked_for() -> None:
    with pytest.raises(AnalysisInputError, match="--drug-b names group 'DrugC'"):
        synergy.SynergyArms("Control", "DrugA", "DrugC", "Combination").check(hand_data())


# --------------------------------------------------------------------------- SynergyLMM


def test_growth_rates_match_synergylmm_published_model_when_fitted_on_its_example() -> None:
    data = read_growth_csv(require_shared(SYNERGY_LMM))
    fit = synergy.fit_growth_rates(synergy.relative_volumes(data, ARMS))
    published = ["0.07855242", "0.07491984", "0.06306986", "0.03487933"]
    for rate, value in zip(fit.growth_rates, published, strict=True):
        assert matches_published(rate, value, 1e-4), (rate, value)
    for k in range(4):
        assert matches_published(math.sqrt(fit.covariance[k, k]), "0.00322683", 1e-4)
    # nlme's sd_ranef is the random-slope SD relative to the residual SD.
    assert matches_published(fit.random_slope_sd / fit.residual_sd, "0.03946667", 1e-4)
    assert matches_published(fit.residual_sd, "0.2124122", 1e-4)
    assert (fit.n_animals, fit.n_observations) == (32, 320)


def test_early_days_are_reported_as_not_estimable_when_one_time_point_exists() -> None:
    data = read_growth_csv(require_shared(SYNERGY_LMM))
    result = synergy.lmm_synergy(data, ARMS)
    day3 = [t for t in result.tests if t.day == 3]
    assert len(day3) == 2 and all(t.estimate is None and t.p is None for t in day3)
    assert "not estimable" in str(day3[0].note)
    assert [t.day for t in result.tests if t.method == "bliss"][-1] == 30
    assert result.hsa_reference == "DrugB"


def test_single_day_refuses_to_test_when_the_refit_is_not_estimable() -> None:
    data = read_growth_csv(require_shared(SYNERGY_LMM))
    with pytest.raises(AnalysisInputError, match=r"day 3.*not estimable"):
        synergy.lmm_synergy(data, ARMS, day=3)


def test_synergy_test_reports_synergylmm_quantities_when_given_a_fit() -> None:
    fit = synergy.GrowthRateFit(
        growth_rates=(0.08, 0.07, 0.06, 0.03),
        covariance=np.diag([1e-5, 1e-5, 1e-5, 1e-5]),
        random_slope_sd=0.01,
        residual_sd=0.2,
        method="bfgs",
        n_observations=0,
        n_animals=0,
    )
    vector = synergy.contrast_vector("bliss", fit.growth_rates)
    test = synergy.synergy_test(fit, vector, day=12, time=10, method="bliss")
    # estimate = 0.03 - 0.07 - 0.06 + 0.08 = -0.02, SE = sqrt(4e-5)
    assert test.estimate == pytest.approx(-0.02)
    assert test.combination_index == pytest.approx(math.exp(-0.2))
    assert test.synergy_score == pytest.approx(0.02 / math.sqrt(4e-5))
    assert test.p == pytest.approx(math.erfc(0.02 / math.sqrt(4e-5) / math.sqrt(2)))
    hsa = synergy.contrast_vector("hsa", fit.growth_rates)
    assert hsa.tolist() == [0.0, 0.0, -1.0, 1.0]


def test_robust_tests_are_refused_clearly_when_not_built() -> None:
    with pytest.raises(AnalysisInputError, match="not built yet"):
        synergy.lmm_synergy(hand_data(), ARMS, robust=True)


def test_animals_with_zero_baseline_are_dropped_when_the_lmm_is_fitted() -> None:
    rows = simulate_study(
        seed=31,
        growth_rates={"Control": 0.08, "DrugA": 0.06, "DrugB": 0.06, "Combination": 0.02},
        animals_per_group=5,
    )
    first = rows[0]
    rows[0] = type(first)(first.animal, first.group, first.day, 0.0)
    last = rows[-1]
    rows[-1] = type(last)(last.animal, last.group, last.day, 0.0)
    prepared = synergy.relative_volumes(to_growth_data(rows), ARMS)
    assert prepared.dropped_animals == (first.animal,)
    assert np.all(np.isfinite(prepared.log_rtv))
    assert prepared.log_rtv.size == 20 * 10 - 10 - 1  # one animal gone, one zero row ignored


def test_fit_raises_a_clear_error_when_no_optimizer_converges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from statsmodels.regression.mixed_linear_model import MixedLM

    class NotConverged:
        converged = False
        bse_fe = np.array([np.nan])
        fe_params = np.array([np.nan])

    monkeypatch.setattr(MixedLM, "fit", lambda self, **kwargs: NotConverged())
    data = to_growth_data(
        simulate_study(
            seed=1, growth_rates={"Control": 0.1, "DrugA": 0.1, "DrugB": 0.1, "Combination": 0.1}
        )
    )
    with pytest.raises(AnalysisInputError, match=r"did not converge \(bfgs.*powell"):
        synergy.lmm_synergy(data, ARMS)


def test_run_lmm_gives_json_with_nulls_when_early_days_are_not_estimable() -> None:
    path = require_shared(SYNERGY_LMM)
    output = synergy.run(parse(["--input", str(path), *arm_options(), "--model", "lmm"]))
    json.dumps(output, allow_nan=False)
    assert output["growth_rates"]["Combination"] == pytest.approx(0.03487933, rel=1e-6)  # type: ignore[index]
    tests = output["tests"]
    assert isinstance(tests, list)
    assert len(tests) == 20 and tests[0]["p"] is None and tests[2]["p"] is not None


# --------------------------------------------------------------------------- invivoSyn AUC


def test_egr_equals_the_rate_when_log_volume_plus_one_is_linear() -> None:
    days = np.array([0.0, 3.0, 7.0, 10.0, 14.0])
    volumes = 150.0 * np.exp(0.05 * days) - 1.0
    assert synergy.exponential_growth_rate(days, volumes) == pytest.approx(0.05, rel=1e-12)
    assert math.isnan(synergy.exponential_growth_rate(days[:1], volumes[:1]))


def test_auc_synergy_matches_hand_arithmetic_when_growth_is_exactly_exponential(
    tmp_path: Path,
) -> None:
    rates = {"Control": 0.10, "DrugA": 0.08, "DrugB": 0.07, "Combination": 0.03}
    path = write_rows(tmp_path / "e.csv", HEADER, exponential_rows(rates))
    output = synergy.run(
        parse(["--input", str(path), *arm_options(), "--model", "auc", "--day", "20"])
    )
    assert output["egr"] == pytest.approx(rates, rel=1e-10)
    s_a, s_b, s_ab = math.exp(-0.02 * 20), math.exp(-0.03 * 20), math.exp(-0.07 * 20)
    assert output["combination_index"] == pytest.approx(s_ab / (s_a * s_b), rel=1e-9)
    assert output["synergy_score"] == pytest.approx(100 * (s_a * s_b - s_ab), rel=1e-9)


def test_auc_leaves_out_animals_when_they_have_one_measurement() -> None:
    rows = exponential_rows({"Control": 0.1, "DrugA": 0.1, "DrugB": 0.1, "Combination": 0.1})
    rows.append(["late", "DrugA", 20, 500.0])
    data = build_growth_data(
        [str(r[0]) for r in rows],
        [str(r[1]) for r in rows],
        [float(r[2]) for r in rows],  # type: ignore[arg-type]
        [float(r[3]) for r in rows],  # type: ignore[arg-type]
    )
    result = synergy.auc_synergy(data, ARMS, day=20)
    assert result.n == {"Control": 3, "DrugA": 3, "DrugB": 3, "Combination": 3}
    assert result.combination_index == pytest.approx(1.0, rel=1e-9)


# --------------------------------------------------------------------------- real study files


@pytest.mark.parametrize(
    ("name", "arms"),
    [
        (
            "invivoSyn_CR1197.csv",
            synergy.SynergyArms("Vehicle", "Cetuximab", "Palbociclib", "Palbociclib+Cetuximab"),
        ),
        (
            "invivoSyn_LS-1034.csv",
            synergy.SynergyArms("Vehicle", "Rabusertib", "Irinotecan", "Irinotecan+Rabusertib"),
        ),
    ],
)
def test_all_models_run_when_given_real_study_files(name: str, arms: synergy.SynergyArms) -> None:
    path = require_shared(f"data/reference/growth/{name}")
    for model in ("tgi", "auc", "lmm"):
        argv = ["--input", str(path), *arm_options(arms), "--model", model, "--bootstrap", "200"]
        output = synergy.run(parse(argv))
        json.dumps(output, allow_nan=False)
        assert output["model"] == model
    lmm = synergy.run(parse(["--input", str(path), *arm_options(arms), "--model", "lmm"]))
    rates = lmm["growth_rates"]
    assert isinstance(rates, dict)
    assert rates[arms.combination] < rates[arms.control]
