"""Welfare arithmetic without Django: weight loss from the baseline (tumour-corrected when the
protocol says so), the log-linear projection of a tumour to the next working day and the
linear projection of the weight loss to its endpoint.

Units are in the names: mm³, mm, g, percent, study days (floats, so readings at different times
of a day can be placed exactly).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

#: Tumour tissue is counted as 1 mg per mm³ (density ≈ 1 g/cm³) when the body weight is
#: corrected for the tumour (the body-weight protocol's ``tumour_corrected``).
TUMOUR_MG_PER_MM3 = 1.0


def tumour_mass_g(volume_mm3: float) -> float:
    """The estimated tumour mass in g of ``volume_mm3`` at 1 mg/mm³."""
    return volume_mm3 * TUMOUR_MG_PER_MM3 / 1000.0


def weight_loss_percent(
    weight_g: float,
    baseline_g: float,
    *,
    tumour_mm3: float = 0.0,
    baseline_tumour_mm3: float = 0.0,
    tumour_corrected: bool = False,
) -> float:
    """Body-weight loss in % of the baseline: 100·(B - W)/B; negative is a gain.

    With ``tumour_corrected`` both weights lose the estimated mass of the animal's tumours at
    that time (``tumour_mm3`` now, ``baseline_tumour_mm3`` at the baseline; 1 mg per mm³):
    W' = W - V/1000, B' = B - V₀/1000, so a 2 g tumour cannot hide 2 g of lost body mass.
    A baseline of 0 g or less (after correction) raises ``ValueError``: there is no loss to
    compute. NaN inputs give NaN.
    """
    weight = weight_g - (tumour_mass_g(tumour_mm3) if tumour_corrected else 0.0)
    baseline = baseline_g - (tumour_mass_g(baseline_tumour_mm3) if tumour_corrected else 0.0)
    if not baseline > 0:
        raise ValueError(f"the baseline weight must be above 0 g, got {baseline}")
    return (baseline - weight) / baseline * 100.0


@dataclass(frozen=True)
class LogLinearFit:
    """ln(value) = intercept + slope·day, fitted by least squares; ``doubling_days`` is
    ln 2 / slope (``None`` when not growing)."""

    intercept: float
    slope_per_day: float
    points: int

    def value_at(self, day: float) -> float:
        return math.exp(min(self.intercept + self.slope_per_day * day, 700.0))

    @property
    def doubling_days(self) -> float | None:
        return math.log(2) / self.slope_per_day if self.slope_per_day > 0 else None

    def day_reaching(self, value: float) -> float | None:
        """The day the fitted curve reaches ``value`` (``None`` when it never does)."""
        if value <= 0:
            return None
        if self.slope_per_day <= 0:
            return None
        return (math.log(value) - self.intercept) / self.slope_per_day


def fit_log_linear(
    points: Sequence[tuple[float, float]],
    *,
    last: int = 3,
    min_points: int = 3,
    floor: float = 1.0,
) -> LogLinearFit | None:
    """Least-squares line through ln(value) against day over the latest ``last`` points.

    Exponential growth is what an untreated (or escaping) tumour does, so its log is linear in
    time; the fit is the ordinary least-squares solution (as ``numpy.polyfit(day, log(v), 1)``).
    Values below ``floor`` (a not-palpable 0) are raised to it before the logarithm; points with
    NaN or negative values are dropped. ``None`` with fewer than ``min_points`` usable points
    or when they all fall on one day (no slope to fit).
    """
    usable = sorted(
        (float(day), float(value))
        for day, value in points
        if math.isfinite(day) and math.isfinite(value) and value >= 0
    )[-last:]
    if len(usable) < max(min_points, 2):
        return None
    days = [day for day, _ in usable]
    logs = [math.log(max(value, floor)) for _, value in usable]
    mean_day = sum(days) / len(days)
    mean_log = sum(logs) / len(logs)
    spread = sum((day - mean_day) ** 2 for day in days)
    if spread == 0:
        return None
    slope = sum((d - mean_day) * (v - mean_log) for d, v in zip(days, logs, strict=True)) / spread
    return LogLinearFit(
        intercept=mean_log - slope * mean_day, slope_per_day=slope, points=len(days)
    )


@dataclass(frozen=True)
class ProjectedCrossing:
    """A limit the fitted trend passes by ``at_day``: which, the projected value, the limit
    and the (fractional) study day the trend reaches it."""

    limit_name: Literal["volume", "total volume", "diameter"]
    projected: float
    limit: float
    crossing_day: float

    @property
    def message(self) -> str:
        unit = "mm" if self.limit_name == "diameter" else "mm³"
        return (
            f"{self.limit_name} projected {self.projected:.0f} {unit} "
            f"(limit {self.limit:g} {unit}, reached about day {self.crossing_day:.1f})"
        )


def projected_crossing(
    points: Sequence[tuple[float, float]],
    *,
    at_day: float,
    limit: float | None,
    limit_name: Literal["volume", "total volume", "diameter"] = "volume",
    last: int = 3,
) -> ProjectedCrossing | None:
    """Whether the log-linear trend of the last ``last`` points reaches ``limit`` by ``at_day``.

    Used before a weekend or a holiday: an animal whose tumour is projected to pass a limit
    before the next working day is seen (and perhaps euthanized) today rather than found past
    its endpoint. A latest value already at the limit is reported too (crossing on its day).
    ``None`` without a limit, without enough points, or when the projection stays below.
    """
    if limit is None:
        return None
    usable = [(d, v) for d, v in points if math.isfinite(d) and math.isfinite(v) and v >= 0]
    if not usable:
        return None
    latest_day, latest = max(usable)
    if latest >= limit:
        return ProjectedCrossing(limit_name, latest, limit, latest_day)
    fit = fit_log_linear(usable, last=last)
    if fit is None:
        return None
    projected = fit.value_at(at_day)
    if projected < limit:
        return None
    crossing = fit.day_reaching(limit)
    return ProjectedCrossing(
        limit_name, projected, limit, crossing if crossing is not None else at_day
    )


# -- body weight ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightLossProjection:
    """The recent body-weight trend against the weight-loss endpoint.

    ``slope_percent_per_day`` is the fitted change of the loss per day (positive: losing
    weight). ``days_to_limit`` counts from the latest reading: 0 when that reading is at the
    limit already, ``None`` when the trend does not lose weight (it never reaches the limit).
    """

    latest_day: float
    latest_loss_percent: float
    slope_percent_per_day: float
    limit_percent: float
    points: int
    crossing_day: float | None

    @property
    def days_to_limit(self) -> float | None:
        if self.crossing_day is None:
            return None
        return max(self.crossing_day - self.latest_day, 0.0)

    @property
    def message(self) -> str:
        days = self.days_to_limit
        trend = f"{self.slope_percent_per_day:+.2f} % loss per day over {self.points} weights"
        if days is None:
            return f"weight loss {self.latest_loss_percent:.1f} %; not losing ({trend})"
        if self.latest_loss_percent >= self.limit_percent:
            return (
                f"weight loss {self.latest_loss_percent:.1f} %: at the limit of "
                f"{self.limit_percent:g} %"
            )
        return (
            f"weight loss {self.latest_loss_percent:.1f} %; the limit of {self.limit_percent:g} % "
            f"in about {days:.1f} days (day {self.crossing_day:.1f}; {trend})"
        )


def project_weight_loss(
    points: Sequence[tuple[float, float]],
    *,
    limit_percent: float | None,
    last: int = 3,
    min_points: int = 2,
) -> WeightLossProjection | None:
    """Days until the weight-loss endpoint from the recent trend of the loss.

    ``points`` are (study day, weight loss in % of the baseline, from
    :func:`weight_loss_percent`). A body weight falls roughly linearly over days when an
    animal stops thriving, so the latest ``last`` points get an ordinary least-squares line
    loss = a + b·day (what ``numpy.polyfit(day, loss, 1)`` gives); the limit is crossed on day
    (limit - a) / b when b > 0. A latest loss already at the limit crosses on its own day.
    Points with NaN are dropped. ``None`` without a limit, with fewer than ``min_points``
    usable points, or when they all fall on one day.
    """
    if limit_percent is None:
        return None
    usable = sorted(
        (float(day), float(loss))
        for day, loss in points
        if math.isfinite(day) and math.isfinite(loss)
    )[-last:]
    if len(usable) < max(min_points, 2):
        return None
    latest_day, latest_loss = usable[-1]
    days = [day for day, _ in usable]
    losses = [loss for _, loss in usable]
    mean_day = sum(days) / len(days)
    mean_loss = sum(losses) / len(losses)
    spread = sum((day - mean_day) ** 2 for day in days)
    if spread == 0:
        return None
    slope = (
        sum((d - mean_day) * (v - mean_loss) for d, v in zip(days, losses, strict=True)) / spread
    )
    intercept = mean_loss - slope * mean_day
    crossing: float | None
    if latest_loss >= limit_percent:
        crossing = latest_day
    elif slope > 0:
        crossing = max((limit_percent - intercept) / slope, latest_day)
    else:
        crossing = None
    return WeightLossProjection(
        latest_day=latest_day,
        latest_loss_percent=latest_loss,
        slope_percent_per_day=slope,
        limit_percent=limit_percent,
        points=len(usable),
        crossing_day=crossing,
    )
