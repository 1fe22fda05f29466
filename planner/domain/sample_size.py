# ruff: noqa: RUF001, RUF002 - the formulas are written with Greek letters and the minus sign.
"""Animals per arm for the contrast a tumour-growth study asks.

Tumour volumes are compared on the log scale (growth is multiplicative and the spread grows with
the mean), so the inputs are the expected effect ``effect_log`` and the standard deviation
``sd_log`` of log volume at the analysis day, in the same logarithm (natural log recommended: a
halving of volume is ``ln 2 = 0.693``; :func:`log_effect_from_ratio` converts a treated/control
ratio). The SD usually comes from the lab's past control arms; the caller passes it in.

Contrasts, with arms of ``n`` animals and a common SD σ:

* ``two_arms``: μ₁ − μ₂, estimated with variance 2σ²/n; residual df = 2(n − 1).
* ``interaction``: the combination against additivity on the log scale,
  (μ_AB − μ_A) − (μ_B − μ_0), estimated from four independent arm means with variance 4σ²/n —
  twice that of a two-arm comparison, hence twice the animals for the same δ; residual df =
  4(n − 1) (all four arms pool the variance).

Formula (Chow, Shao & Wang, *Sample Size Calculations in Clinical Research*, 2nd ed., 2008,
§3.2, two-sided test of equality, equal allocation), with c = 2 or 4 as above::

    n = c (z₁₋α/₂ + z₁₋β)² σ² / δ²                       normal approximation
    n ← c (t₁₋α/₂,df(n) + t₁₋β,df(n))² σ² / δ²           iterated until stable (t refinement)

The evaluable n is then the smallest whole n whose exact power — the noncentral t distribution
with ncp = |δ| / (σ √(c/n)), both rejection tails, as statsmodels ``TTestIndPower`` and R's
``power.t.test(strict = TRUE)`` compute it — reaches the requested power, so the result agrees
with those references to the animal. Finally the number to enrol is inflated for expected
attrition: ``ceil(n / (1 − attrition_fraction))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from scipy import stats

from planner.domain.errors import ParameterErrors


class Contrast(StrEnum):
    TWO_ARMS = "two_arms"
    INTERACTION = "interaction"

    @property
    def variance_factor(self) -> int:
        """c in Var(contrast estimate) = c·σ²/n."""
        return 2 if self is Contrast.TWO_ARMS else 4

    @property
    def arms(self) -> int:
        """Arms whose animals estimate the contrast and pool the variance."""
        return 2 if self is Contrast.TWO_ARMS else 4


CONTRAST_CHOICES: list[tuple[str, str]] = [
    (Contrast.TWO_ARMS.value, "Two arms (e.g. treatment versus control)"),
    (Contrast.INTERACTION.value, "Combination versus additivity (interaction)"),
]


@dataclass(frozen=True)
class SampleSize:
    """The answer, with the intermediate numbers a reviewer will want to see.

    ``evaluable_per_arm`` animals must complete the study; ``animals_per_arm`` is the number to
    enrol once attrition is allowed for. ``achieved_power`` is the exact power at
    ``evaluable_per_arm``.
    """

    contrast: Contrast
    effect_log: float
    sd_log: float
    alpha: float
    power: float
    attrition_fraction: float
    n_normal_approximation: float
    n_t_iteration: float
    evaluable_per_arm: int
    animals_per_arm: int
    achieved_power: float
    degrees_of_freedom: int

    @property
    def formula(self) -> str:
        c = self.contrast.variance_factor
        return (
            f"n = {c}(z₁₋α/₂ + z₁₋β)²σ²/δ² = {self.n_normal_approximation:.2f}; "
            f"t-refined {self.n_t_iteration:.2f}; exact noncentral-t power "
            f"{self.achieved_power:.3f} at n = {self.evaluable_per_arm} "
            f"(df = {self.degrees_of_freedom}); enrol ⌈{self.evaluable_per_arm}/"
            f"(1 − {self.attrition_fraction:g})⌉ = {self.animals_per_arm} per arm "
            "(Chow, Shao & Wang 2008, §3.2)"
        )


def log_effect_from_ratio(treated_to_control_ratio: float) -> float:
    """The natural-log effect of a treated/control volume ratio (T/C 0.5 → ln 2 ≈ 0.693)."""
    if not math.isfinite(treated_to_control_ratio) or treated_to_control_ratio <= 0:
        raise ParameterErrors(
            {"treated_to_control_ratio": ["must be a positive ratio, e.g. 0.5 for a halving"]}
        )
    return -math.log(treated_to_control_ratio)


def _degrees_of_freedom(n_per_arm: float, contrast: Contrast) -> float:
    return contrast.arms * (max(n_per_arm, 2.0) - 1.0)


def contrast_power(
    *,
    n_per_arm: int,
    effect_log: float,
    sd_log: float,
    alpha: float = 0.05,
    contrast: Contrast = Contrast.TWO_ARMS,
) -> float:
    """Exact two-sided power of the t test of the contrast with ``n_per_arm`` (≥ 2) per arm.

    Noncentral t with df = arms·(n − 1) and ncp = |δ| / (σ √(c/n)); both tails are counted.
    """
    if n_per_arm < 2:
        raise ParameterErrors({"n_per_arm": ["needs at least 2 animals per arm"]})
    df = contrast.arms * (n_per_arm - 1)
    ncp = abs(effect_log) / (sd_log * math.sqrt(contrast.variance_factor / n_per_arm))
    critical = float(stats.t.ppf(1 - alpha / 2, df))
    upper = float(stats.nct.sf(critical, df, ncp))
    lower = float(stats.nct.cdf(-critical, df, ncp))
    return upper + lower


def animals_per_arm(
    *,
    effect_log: float,
    sd_log: float,
    alpha: float = 0.05,
    power: float = 0.8,
    attrition_fraction: float = 0.0,
    contrast: Contrast | str = Contrast.TWO_ARMS,
) -> SampleSize:
    """Animals per arm to detect ``effect_log`` for ``contrast`` (see the module docstring).

    ``alpha`` is two-sided, in (0, 0.5]; ``power`` in [0.5, 1); ``attrition_fraction`` the
    expected share of animals lost before the analysis day, in [0, 0.9). The effect's sign does
    not matter. Invalid inputs raise :class:`ParameterErrors` naming every one of them.
    """
    errors: dict[str, list[str]] = {}
    chosen: Contrast | None = None
    try:
        chosen = Contrast(contrast)
    except ValueError:
        choices = ", ".join(choice.value for choice in Contrast)
        errors["contrast"] = [f"'{contrast}' is not one of: {choices}"]
    if not math.isfinite(effect_log) or effect_log == 0:
        errors["effect_log"] = ["must be a non-zero effect on the log scale"]
    if not math.isfinite(sd_log) or sd_log <= 0:
        errors["sd_log"] = ["must be greater than 0"]
    if not 0 < alpha <= 0.5:
        errors["alpha"] = ["must be greater than 0 and at most 0.5"]
    if not 0.5 <= power < 1:
        errors["power"] = ["must be at least 0.5 and less than 1"]
    if not 0 <= attrition_fraction < 0.9:
        errors["attrition_fraction"] = ["must be at least 0 and less than 0.9"]
    if errors or chosen is None:
        raise ParameterErrors(errors)
    return _solve(chosen, effect_log, sd_log, alpha, power, attrition_fraction)


def _solve(
    contrast: Contrast,
    effect_log: float,
    sd_log: float,
    alpha: float,
    power: float,
    attrition_fraction: float,
) -> SampleSize:

    c = contrast.variance_factor
    ratio = (sd_log / effect_log) ** 2
    z_sum = float(stats.norm.ppf(1 - alpha / 2)) + float(stats.norm.ppf(power))
    n_normal = c * z_sum**2 * ratio

    n_t = n_normal
    for _ in range(200):
        df = _degrees_of_freedom(n_t, contrast)
        t_sum = float(stats.t.ppf(1 - alpha / 2, df)) + float(stats.t.ppf(power, df))
        updated = c * t_sum**2 * ratio
        if abs(updated - n_t) < 1e-10:
            n_t = updated
            break
        n_t = updated

    def reaches(n: int) -> bool:
        achieved = contrast_power(
            n_per_arm=n, effect_log=effect_log, sd_log=sd_log, alpha=alpha, contrast=contrast
        )
        return achieved >= power

    evaluable = max(2, math.ceil(n_t))
    while evaluable > 2 and reaches(evaluable - 1):
        evaluable -= 1
    while not reaches(evaluable):
        evaluable += 1
    # The tolerance keeps 9 / (1 - 0.1) = 10.000000000000002 at 10 animals.
    enrolled = math.ceil(evaluable / (1 - attrition_fraction) - 1e-9)
    return SampleSize(
        contrast=contrast,
        effect_log=effect_log,
        sd_log=sd_log,
        alpha=alpha,
        power=power,
        attrition_fraction=attrition_fraction,
        n_normal_approximation=n_normal,
        n_t_iteration=n_t,
        evaluable_per_arm=evaluable,
        animals_per_arm=enrolled,
        achieved_power=contrast_power(
            n_per_arm=evaluable,
            effect_log=effect_log,
            sd_log=sd_log,
            alpha=alpha,
            contrast=contrast,
        ),
        degrees_of_freedom=contrast.arms * (evaluable - 1),
    )
