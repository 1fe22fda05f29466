"""Sample size: checked against statsmodels and R, which implement the exact power independently."""

from __future__ import annotations

import math
import subprocess

import pytest
from scipy import stats
from statsmodels.stats.power import TTestIndPower

from planner.domain.errors import ParameterErrors
from planner.domain.sample_size import (
    Contrast,
    animals_per_arm,
    contrast_power,
    log_effect_from_ratio,
)
from tests.support.requirements import require_r

CASES = [
    # effect_log, sd_log, alpha, power
    (1.0, 1.0, 0.05, 0.8),
    (0.693, 0.5, 0.05, 0.8),
    (0.5, 1.0, 0.05, 0.9),
    (2.0, 1.0, 0.05, 0.8),
    (0.3, 0.4, 0.01, 0.8),
    (-0.8, 0.6, 0.05, 0.95),
    (1.2, 0.45, 0.10, 0.8),
]


@pytest.mark.parametrize(("effect", "sd", "alpha", "power"), CASES)
def test_two_arm_n_matches_statsmodels_when_rounded_up(
    effect: float, sd: float, alpha: float, power: float
) -> None:
    result = animals_per_arm(effect_log=effect, sd_log=sd, alpha=alpha, power=power)
    reference = TTestIndPower().solve_power(
        effect_size=abs(effect) / sd, alpha=alpha, power=power, ratio=1.0
    )
    assert result.evaluable_per_arm == math.ceil(reference)
    # The t iteration approximates the noncentral t by a shifted central t: close, not exact.
    assert result.n_t_iteration == pytest.approx(reference, abs=0.15)
    statsmodels_power = TTestIndPower().power(
        effect_size=abs(effect) / sd, nobs1=result.evaluable_per_arm, alpha=alpha, ratio=1.0
    )
    assert result.achieved_power == pytest.approx(statsmodels_power, rel=1e-9)


def test_normal_approximation_is_the_textbook_value_when_effect_equals_one_sd() -> None:
    result = animals_per_arm(effect_log=1.0, sd_log=1.0)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert result.n_normal_approximation == pytest.approx(2 * z**2)
    assert result.n_normal_approximation == pytest.approx(15.698, abs=1e-3)
    assert (result.evaluable_per_arm, result.animals_per_arm, result.degrees_of_freedom) == (
        17,
        17,
        32,
    )


@pytest.mark.parametrize(("effect", "sd", "alpha", "power"), CASES)
def test_interaction_needs_twice_the_normal_approximation_when_the_effect_is_the_same(
    effect: float, sd: float, alpha: float, power: float
) -> None:
    two_arms = animals_per_arm(effect_log=effect, sd_log=sd, alpha=alpha, power=power)
    interaction = animals_per_arm(
        effect_log=effect, sd_log=sd, alpha=alpha, power=power, contrast=Contrast.INTERACTION
    )
    assert interaction.n_normal_approximation == pytest.approx(2 * two_arms.n_normal_approximation)
    assert interaction.degrees_of_freedom == 4 * (interaction.evaluable_per_arm - 1)
    assert interaction.achieved_power >= power
    assert (
        contrast_power(
            n_per_arm=interaction.evaluable_per_arm - 1,
            effect_log=effect,
            sd_log=sd,
            alpha=alpha,
            contrast=Contrast.INTERACTION,
        )
        < power
    ) or interaction.evaluable_per_arm == 2


@pytest.mark.parametrize(
    ("evaluable_attrition", "expected"),
    [(0.0, 17), (0.1, 19), (0.15, 20), (0.2, 22), (0.5, 34)],
)
def test_enrolment_is_inflated_for_attrition_when_animals_are_expected_to_drop_out(
    evaluable_attrition: float, expected: int
) -> None:
    result = animals_per_arm(effect_log=1.0, sd_log=1.0, attrition_fraction=evaluable_attrition)
    assert result.evaluable_per_arm == 17
    assert result.animals_per_arm == expected


def test_enrolment_is_not_inflated_by_rounding_error_when_the_division_is_exact() -> None:
    # 9 evaluable at 10 % attrition is exactly 10 enrolled (9 / 0.9 = 10.000000000000002).
    result = animals_per_arm(effect_log=1.5, sd_log=1.0, attrition_fraction=0.1)
    assert result.evaluable_per_arm == 9
    assert result.animals_per_arm == 10


def test_at_least_two_animals_per_arm_when_the_effect_is_huge() -> None:
    result = animals_per_arm(effect_log=20.0, sd_log=1.0)
    assert result.evaluable_per_arm == 2
    assert result.degrees_of_freedom == 2


def test_formula_text_states_the_numbers_and_the_source_when_shown() -> None:
    result = animals_per_arm(effect_log=1.0, sd_log=1.0, attrition_fraction=0.1)
    assert result.formula == (
        "n = 2(z₁₋α/₂ + z₁₋β)²σ²/δ² = 15.70; t-refined 16.72; exact noncentral-t power 0.807 "  # noqa: RUF001
        "at n = 17 (df = 32); enrol ⌈17/(1 − 0.1)⌉ = 19 per arm (Chow, Shao & Wang 2008, §3.2)"  # noqa: RUF001
    )


def test_log_effect_is_ln2_when_treatment_halves_the_volume() -> None:
    assert log_effect_from_ratio(0.5) == pytest.approx(math.log(2))


def test_log_effect_refuses_when_the_ratio_is_not_positive() -> None:
    with pytest.raises(ParameterErrors) as caught:
        log_effect_from_ratio(0.0)
    assert caught.value.errors == {
        "treated_to_control_ratio": ["must be a positive ratio, e.g. 0.5 for a halving"]
    }


def test_power_refuses_when_fewer_than_two_animals_per_arm() -> None:
    with pytest.raises(ParameterErrors) as caught:
        contrast_power(n_per_arm=1, effect_log=1.0, sd_log=1.0)
    assert caught.value.errors == {"n_per_arm": ["needs at least 2 animals per arm"]}


def test_every_invalid_input_is_reported_when_several_are_wrong() -> None:
    with pytest.raises(ParameterErrors) as caught:
        animals_per_arm(
            effect_log=0.0,
            sd_log=-1.0,
            alpha=0.0,
            power=0.3,
            attrition_fraction=0.95,
            contrast="three_arms",
        )
    assert caught.value.errors == {
        "contrast": ["'three_arms' is not one of: two_arms, interaction"],
        "effect_log": ["must be a non-zero effect on the log scale"],
        "sd_log": ["must be greater than 0"],
        "alpha": ["must be greater than 0 and at most 0.5"],
        "power": ["must be at least 0.5 and less than 1"],
        "attrition_fraction": ["must be at least 0 and less than 0.9"],
    }


def _r(script: str) -> list[float]:
    rscript = require_r()
    result = subprocess.run(
        [rscript, "-e", script], capture_output=True, text=True, check=True, timeout=60
    )
    return [float(value) for value in result.stdout.split()]


@pytest.mark.parametrize(("effect", "sd", "alpha", "power"), CASES)
def test_two_arm_n_matches_r_power_t_test_when_rounded_up(
    effect: float, sd: float, alpha: float, power: float
) -> None:
    [reference] = _r(
        f"cat(power.t.test(power={power}, delta={abs(effect)}, sd={sd}, sig.level={alpha}, "
        "strict=TRUE)$n)"
    )
    result = animals_per_arm(effect_log=effect, sd_log=sd, alpha=alpha, power=power)
    assert result.evaluable_per_arm == math.ceil(reference)


@pytest.mark.parametrize(("effect", "sd", "alpha", "power"), CASES)
def test_interaction_n_is_the_smallest_reaching_the_power_when_r_computes_it(
    effect: float, sd: float, alpha: float, power: float
) -> None:
    result = animals_per_arm(
        effect_log=effect, sd_log=sd, alpha=alpha, power=power, contrast="interaction"
    )
    n = result.evaluable_per_arm
    # R computes the power of the interaction contrast directly (noncentral t, df = 4(n - 1),
    # ncp = delta / (sd * sqrt(4 / n)), both tails) at n and n - 1, and power.t.test gives the
    # two-arm-equivalent n (sd * sqrt(2), df = 2(n - 1)), which can only need as many animals
    # or one more, since pooling four arms adds degrees of freedom.
    power_at_n, power_below, two_arm_equivalent = _r(
        "pw <- function(n) { df <- 4 * (n - 1); ncp <- "
        f"{abs(effect)} / ({sd} * sqrt(4 / n)); q <- qt(1 - {alpha} / 2, df); "
        "pt(q, df, ncp, lower.tail = FALSE) + pt(-q, df, ncp) }; "
        f"cat(pw({n}), if ({n} > 2) pw({n - 1}) else 0, "
        f"power.t.test(power={power}, delta={abs(effect)}, sd={sd} * sqrt(2), "
        f"sig.level={alpha}, strict=TRUE)$n)"
    )
    assert result.achieved_power == pytest.approx(power_at_n, rel=1e-6)
    assert power_at_n >= power
    assert power_below < power
    assert math.ceil(two_arm_equivalent) - 1 <= n <= math.ceil(two_arm_equivalent)
