"""Checks on a parsed grid value: axes, volume, trend, endpoints, late or future, repeats.

Pure functions; the ``record_measurement`` service calls them and turns their results into
stored flags, refusals and the ``warning`` / ``needs_repeat`` answer the grid shows
(``GRID.md``). Units are in the names: mm, mm³, g, percent, study days.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Generic, Literal, TypeVar

from planner.domain.protocol_parameters import HumaneEndpoints, VolumeFormula

Axis = TypeVar("Axis", Decimal, float)

# ---------------------------------------------------------------------------------------------
# Axes and volume


@dataclass(frozen=True)
class Axes(Generic[Axis]):
    """Caliper axes with ``length_mm`` the longer; ``swapped`` says the entry had them reversed."""

    length_mm: Axis
    width_mm: Axis
    swapped: bool


def swap_axes_if_needed(length_mm: Axis, width_mm: Axis) -> Axes[Axis]:
    """Put the longer axis in ``length_mm`` (the L·W² formulas assume L ≥ W).

    The grid shows the swap ("L and W swapped: L is the longer axis") rather than refusing the
    entry: a technician who measured the short axis first has made no error of measurement.
    Idempotent: swapping the result again changes nothing and reports no swap.
    """
    if width_mm > length_mm:
        return Axes(length_mm=width_mm, width_mm=length_mm, swapped=True)
    return Axes(length_mm=length_mm, width_mm=width_mm, swapped=False)


def caliper_volume_mm3(
    length_mm: float,
    width_mm: float,
    height_mm: float | None = None,
    *,
    formula: VolumeFormula = VolumeFormula.HALF_LENGTH_WIDTH_SQUARED,
) -> float:
    """Tumour volume in mm³ by the caliper protocol's formula (axes in mm, L the longer).

    ``half_length_width_squared``: L·W²/2 (Tomayko & Reynolds 1989); ``ellipsoid``: π/6·L·W·H;
    ``ellipsoid_length_width``: π/6·(L·W)^1.5 — as :class:`VolumeFormula` documents. Negative
    or non-finite axes raise ``ValueError`` (parsing never produces them); the result is never
    negative.
    """
    axes = [length_mm, width_mm] + ([height_mm] if height_mm is not None else [])
    if any(not math.isfinite(axis) or axis < 0 for axis in axes):
        raise ValueError(f"caliper axes must be finite and not negative, got {axes}")
    if formula is VolumeFormula.ELLIPSOID:
        if height_mm is None:
            raise ValueError("the ellipsoid formula needs the height")
        return math.pi / 6 * length_mm * width_mm * height_mm
    if formula is VolumeFormula.ELLIPSOID_LENGTH_WIDTH:
        return math.pi / 6 * float((length_mm * width_mm) ** 1.5)
    return length_mm * width_mm * width_mm / 2


# ---------------------------------------------------------------------------------------------
# Trend


@dataclass(frozen=True)
class TrendWarning:
    """A volume off the animal's recent log-linear trend by more than ``allowed_factor``."""

    expected_volume_mm3: float
    observed_volume_mm3: float
    fold_off_trend: float
    allowed_factor: float
    message: str


def trend_warning(
    history: Sequence[tuple[float, float]],
    new_day: float,
    new_volume: float,
    *,
    max_fold_per_day: float,
    window: int = 3,
    floor_mm3: float = 1.0,
) -> TrendWarning | None:
    """Warn when ``new_volume`` (mm³ on study day ``new_day``) breaks the tumour's recent trend.

    Expected volume: the least-squares line through ln(volume) against day over the latest
    ``window`` readings of ``history`` (``(study_day, volume_mm3)``, readings after ``new_day``
    ignored), extrapolated to ``new_day`` — exponential growth, as tumours grow before
    treatment bites, so a CT26 tumour doubling every 2-3 days is *on* trend and a flat
    percentage rule would flag it every time. One reading gives a flat expectation (no growth
    rate known). The tolerated fold between observed and expected is
    ``max_fold_per_day ** gap``, ``gap`` the days since the latest history reading (at least 1),
    so the tolerance widens as the extrapolation lengthens.

    Volumes below ``floor_mm3`` (NP readings are 0) are raised to it for the logarithm, so a
    palpable tumour after NP is compared with the floor and a drop to 0 from a large tumour
    still warns. Returns ``None`` without history or within tolerance.
    """
    if max_fold_per_day <= 1:
        raise ValueError("max_fold_per_day must be above 1")
    usable = sorted(
        (float(day), float(volume))
        for day, volume in history
        if day <= new_day and math.isfinite(day) and math.isfinite(volume) and volume >= 0
    )[-window:]
    if not usable or not math.isfinite(new_volume) or new_volume < 0:
        return None

    days = [day for day, _ in usable]
    logs = [math.log(max(volume, floor_mm3)) for _, volume in usable]
    mean_day = sum(days) / len(days)
    mean_log = sum(logs) / len(logs)
    spread = sum((day - mean_day) ** 2 for day in days)
    slope = (
        sum((day - mean_day) * (log - mean_log) for day, log in zip(days, logs, strict=True))
        / spread
        if spread > 0
        else 0.0
    )
    expected_log = mean_log + slope * (new_day - mean_day)
    observed_log = math.log(max(new_volume, floor_mm3))
    gap = max(new_day - days[-1], 1.0)
    allowed_log = gap * math.log(max_fold_per_day)
    off_log = observed_log - expected_log
    if abs(off_log) <= allowed_log:
        return None

    expected = math.exp(min(expected_log, 700.0))
    fold = math.exp(min(abs(off_log), 700.0))
    direction = "larger" if off_log > 0 else "smaller"
    return TrendWarning(
        expected_volume_mm3=expected,
        observed_volume_mm3=new_volume,
        fold_off_trend=fold,
        allowed_factor=math.exp(allowed_log),
        message=(
            f"{new_volume:.0f} mm³ is {fold:.1f}x {direction} than this tumour's recent trend "
            f"predicts ({expected:.0f} mm³): check the animal and the reading."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Endpoints


class EndpointStatus(StrEnum):
    OK = "ok"
    APPROACHING = "approaching"
    REACHED = "reached"


_RANK = {EndpointStatus.OK: 0, EndpointStatus.APPROACHING: 1, EndpointStatus.REACHED: 2}


@dataclass(frozen=True)
class EndpointLimits:
    """Humane endpoint limits (``None``: not limited) and the "approaching" fraction of each."""

    max_volume_mm3: float | None = 2000.0
    max_total_volume_mm3: float | None = None
    max_diameter_mm: float | None = 20.0
    max_weight_loss_percent: float | None = 20.0
    approaching_fraction: float = 0.8

    def __post_init__(self) -> None:
        if not 0 < self.approaching_fraction < 1:
            raise ValueError("approaching_fraction must be between 0 and 1")

    @classmethod
    def from_humane_endpoints(
        cls, endpoints: HumaneEndpoints, *, approaching_fraction: float = 0.8
    ) -> EndpointLimits:
        return cls(
            max_volume_mm3=endpoints.max_volume_mm3,
            max_total_volume_mm3=endpoints.max_total_volume_mm3,
            max_diameter_mm=endpoints.max_diameter_mm,
            max_weight_loss_percent=endpoints.max_weight_loss_percent,
            approaching_fraction=approaching_fraction,
        )


@dataclass(frozen=True)
class EndpointReading:
    """The values of one save that endpoints look at; ``None`` where not measured."""

    volume_mm3: float | None = None
    diameter_mm: float | None = None
    weight_loss_percent: float | None = None
    total_volume_mm3: float | None = None


@dataclass(frozen=True)
class EndpointFinding:
    """One limit at or past its approaching fraction: which, the value, the limit, how far."""

    limit_name: Literal["volume", "total volume", "diameter", "weight loss"]
    value: float
    limit: float
    status: EndpointStatus

    @property
    def message(self) -> str:
        unit = {"volume": "mm³", "total volume": "mm³", "diameter": "mm", "weight loss": "%"}[
            self.limit_name
        ]
        verb = "reached" if self.status is EndpointStatus.REACHED else "approaching"
        return f"{self.limit_name} {self.value:g} {unit}: {verb} the limit of {self.limit:g} {unit}"


def endpoint_findings(
    reading: EndpointReading, limits: EndpointLimits
) -> tuple[EndpointFinding, ...]:
    """Every limit the reading approaches or reaches (``value >= limit`` is reached)."""
    pairs: list[
        tuple[
            Literal["volume", "total volume", "diameter", "weight loss"], float | None, float | None
        ]
    ] = [
        ("volume", reading.volume_mm3, limits.max_volume_mm3),
        ("total volume", reading.total_volume_mm3, limits.max_total_volume_mm3),
        ("diameter", reading.diameter_mm, limits.max_diameter_mm),
        ("weight loss", reading.weight_loss_percent, limits.max_weight_loss_percent),
    ]
    findings = []
    for name, value, limit in pairs:
        if value is None or limit is None or not math.isfinite(value):
            continue
        if value >= limit:
            findings.append(EndpointFinding(name, value, limit, EndpointStatus.REACHED))
        elif value >= limits.approaching_fraction * limit:
            findings.append(EndpointFinding(name, value, limit, EndpointStatus.APPROACHING))
    return tuple(findings)


def endpoint_crossing(
    previous_status: EndpointStatus,
    new_volume_mm3: float | None,
    new_diameter_mm: float | None,
    weight_loss_percent: float | None,
    limits: EndpointLimits,
    *,
    total_volume_mm3: float | None = None,
) -> EndpointStatus:
    """The animal's endpoint status after this save: ok, approaching or reached.

    Reached stays reached whatever later readings say, until an endpoint record closes it
    (the service does that, not this function), so ``previous_status`` must be the animal's
    *confirmed* status — a first crossing waits for its repeat (:func:`needs_repeat`) before it
    becomes the previous status. Otherwise the new status is the worst of the findings.
    """
    if previous_status is EndpointStatus.REACHED:
        return EndpointStatus.REACHED
    reading = EndpointReading(
        volume_mm3=new_volume_mm3,
        diameter_mm=new_diameter_mm,
        weight_loss_percent=weight_loss_percent,
        total_volume_mm3=total_volume_mm3,
    )
    worst = EndpointStatus.OK
    for finding in endpoint_findings(reading, limits):
        if _RANK[finding.status] > _RANK[worst]:
            worst = finding.status
    return worst


def needs_repeat(
    previous: EndpointReading | None, new: EndpointReading, limits: EndpointLimits
) -> bool:
    """Whether ``new`` reaches a limit that ``previous`` (the last reading, or ``None``) did not.

    Such a reading asks for an immediate repeat before anyone is alerted: one slipped caliper
    must not wake the veterinarian. The repeat, compared with the crossing reading, reaches
    nothing new and so goes through (and alerts if it too reaches the limit).
    """
    reached_before = (
        {f.limit_name for f in endpoint_findings(previous, limits) if f.status == "reached"}
        if previous is not None
        else set()
    )
    return any(
        finding.status is EndpointStatus.REACHED and finding.limit_name not in reached_before
        for finding in endpoint_findings(new, limits)
    )


# ---------------------------------------------------------------------------------------------
# Time


LATE_AFTER = timedelta(hours=24)
# A tablet clock a little ahead of the server must not make every reading "in the future".
FUTURE_TOLERANCE = timedelta(minutes=2)


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{moment!r} has no time zone: compare aware datetimes only")


def is_late(
    taken_at: datetime, received_at: datetime, *, late_after: timedelta = LATE_AFTER
) -> bool:
    """Entered more than ``late_after`` (24 h) after it was taken: stored, flagged late."""
    _require_aware(taken_at, received_at)
    return received_at - taken_at > late_after


def is_future(
    taken_at: datetime, now: datetime, *, tolerance: timedelta = FUTURE_TOLERANCE
) -> bool:
    """Taken after ``now`` by more than the clock-skew ``tolerance``: refused."""
    _require_aware(taken_at, now)
    return taken_at - now > tolerance


# ---------------------------------------------------------------------------------------------
# Same-day repeats


class RepeatPolicy(StrEnum):
    """Which of a day's readings counts, as the caliper protocol says."""

    LAST = "last"
    MEAN = "mean"


Value = TypeVar("Value", Decimal, float)


def counting_value(readings: Sequence[tuple[datetime, Value]], policy: RepeatPolicy) -> Value:
    """The value that counts for a day with repeats: the latest reading, or the mean.

    A same-day second reading is a repeat, not a correction: every reading stays stored and
    this function picks what analyses use. ``readings`` are the day's valid values (volumes
    or weights; voided and NM/ND rows left out by the caller; NP enters as 0). Ties in
    ``taken_at`` for ``last`` go to the one given later. Empty input raises ``ValueError``.
    """
    if not readings:
        raise ValueError("no readings to choose from")
    if policy is RepeatPolicy.LAST:
        latest = readings[0]
        for reading in readings[1:]:
            if reading[0] >= latest[0]:
                latest = reading
        return latest[1]
    values = [value for _, value in readings]
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total / len(values)
