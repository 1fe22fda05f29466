"""Checks on a parsed grid value: axes, volume, trend, endpoints, late/future, same-day repeats."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labnotes.capture.checks import (
    EndpointLimits,
    EndpointReading,
    EndpointStatus,
    RepeatPolicy,
    caliper_volume_mm3,
    counting_value,
    endpoint_crossing,
    endpoint_findings,
    is_future,
    is_late,
    needs_repeat,
    swap_axes_if_needed,
    trend_warning,
)
from planner.domain.protocol_parameters import HumaneEndpoints, VolumeFormula

LIMITS = EndpointLimits(max_volume_mm3=2000, max_diameter_mm=20, max_weight_loss_percent=20)
T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)

# --- Axes and volume ------------------------------------------------------------------------


def test_axes_swapped_when_width_is_longer() -> None:
    axes = swap_axes_if_needed(Decimal("8.1"), Decimal("9.8"))
    assert (axes.length_mm, axes.width_mm, axes.swapped) == (Decimal("9.8"), Decimal("8.1"), True)


def test_axes_kept_when_length_is_longer_or_equal() -> None:
    assert swap_axes_if_needed(9.8, 8.1).swapped is False
    equal = swap_axes_if_needed(7.0, 7.0)
    assert (equal.length_mm, equal.width_mm, equal.swapped) == (7.0, 7.0, False)


@pytest.mark.parametrize(
    ("formula", "height", "expected"),
    [
        (VolumeFormula.HALF_LENGTH_WIDTH_SQUARED, None, 10 * 8 * 8 / 2),
        (VolumeFormula.ELLIPSOID, 6.0, math.pi / 6 * 10 * 8 * 6),
        (VolumeFormula.ELLIPSOID_LENGTH_WIDTH, None, math.pi / 6 * 80**1.5),
    ],
)
def test_volume_follows_the_protocol_formula(
    formula: VolumeFormula, height: float | None, expected: float
) -> None:
    assert caliper_volume_mm3(10.0, 8.0, height, formula=formula) == pytest.approx(expected)


def test_volume_refuses_negative_axes_and_a_missing_height() -> None:
    with pytest.raises(ValueError):
        caliper_volume_mm3(-1.0, 2.0)
    with pytest.raises(ValueError, match="height"):
        caliper_volume_mm3(3.0, 2.0, formula=VolumeFormula.ELLIPSOID)


AXES = st.floats(min_value=0, max_value=60, allow_nan=False)


@given(length=AXES, width=AXES)
def test_swap_is_idempotent_and_keeps_the_pair(length: float, width: float) -> None:
    once = swap_axes_if_needed(length, width)
    twice = swap_axes_if_needed(once.length_mm, once.width_mm)
    assert twice.swapped is False
    assert (twice.length_mm, twice.width_mm) == (once.length_mm, once.width_mm)
    assert once.length_mm >= once.width_mm
    assert sorted([once.length_mm, once.width_mm]) == sorted([length, width])


@given(
    length=AXES,
    width=AXES,
    height=AXES,
    formula=st.sampled_from(list(VolumeFormula)),
)
def test_volumes_are_never_negative(
    length: float, width: float, height: float, formula: VolumeFormula
) -> None:
    axes = swap_axes_if_needed(length, width)
    volume = caliper_volume_mm3(axes.length_mm, axes.width_mm, height, formula=formula)
    assert volume >= 0
    assert math.isfinite(volume)


# --- Trend ----------------------------------------------------------------------------------

# CT26 doubling every 2.5 days from 100 mm³ on day 7.
CT26 = [(day, 100 * 2 ** ((day - 7) / 2.5)) for day in (7, 9, 11)]


def test_no_warning_when_a_fast_tumour_keeps_doubling_on_trend() -> None:
    on_trend = 100 * 2 ** ((14 - 7) / 2.5)  # ~696 mm³, a 2.3-fold rise from day 11
    assert trend_warning(CT26, 14, on_trend, max_fold_per_day=1.3) is None


def test_a_flat_20_percent_rule_would_have_flagged_what_the_trend_accepts() -> None:
    last = CT26[-1][1]
    on_trend = 100 * 2 ** ((13 - 7) / 2.5)
    assert on_trend / last > 1.2
    assert trend_warning(CT26, 13, on_trend, max_fold_per_day=1.3) is None


def test_warning_when_volume_falls_off_the_trend() -> None:
    warning = trend_warning(CT26, 13, 150.0, max_fold_per_day=1.3)
    assert warning is not None
    expected = 100 * 2 ** ((13 - 7) / 2.5)
    assert warning.expected_volume_mm3 == pytest.approx(expected)
    assert warning.fold_off_trend == pytest.approx(expected / 150)
    assert warning.allowed_factor == pytest.approx(1.3**2)
    assert "smaller" in warning.message


def test_warning_when_volume_jumps_above_the_trend() -> None:
    warning = trend_warning(CT26, 12, 2000.0, max_fold_per_day=1.5)
    assert warning is not None and "larger" in warning.message


def test_tolerance_widens_with_the_gap_since_the_last_reading() -> None:
    history = [(10, 200.0)]
    assert trend_warning(history, 11, 290.0, max_fold_per_day=1.5) is None
    assert trend_warning(history, 11, 310.0, max_fold_per_day=1.5) is not None
    assert trend_warning(history, 13, 310.0, max_fold_per_day=1.5) is None


def test_only_the_latest_window_readings_make_the_trend() -> None:
    # A regression after treatment: old growth must not predict today.
    history = [(3, 50.0), (5, 200.0), (7, 800.0), (9, 400.0), (11, 200.0), (13, 100.0)]
    assert trend_warning(history, 15, 50.0, max_fold_per_day=1.3, window=3) is None
    assert trend_warning(history, 15, 50.0, max_fold_per_day=1.3, window=6) is not None


def test_drop_to_zero_from_a_large_tumour_warns_and_np_history_does_not_break_the_fit() -> None:
    assert trend_warning([(9, 400.0), (11, 500.0)], 12, 0.0, max_fold_per_day=2) is not None
    assert trend_warning([(5, 0.0), (7, 0.0)], 9, 1.0, max_fold_per_day=2) is None


def test_no_warning_without_usable_history() -> None:
    assert trend_warning([], 5, 100.0, max_fold_per_day=1.5) is None
    assert trend_warning([(9, 100.0)], 5, 900.0, max_fold_per_day=1.5) is None  # later only


def test_max_fold_per_day_must_allow_some_change() -> None:
    with pytest.raises(ValueError):
        trend_warning(CT26, 12, 100.0, max_fold_per_day=1.0)


@settings(deadline=None)
@given(
    rate=st.floats(min_value=-0.3, max_value=0.5),
    start=st.floats(min_value=20, max_value=500),
    gap=st.integers(min_value=1, max_value=5),
)
def test_exact_exponential_growth_never_warns(rate: float, start: float, gap: int) -> None:
    history = [(day, start * math.exp(rate * day)) for day in (0, 2, 4)]
    new_day = 4 + gap
    assert (
        trend_warning(history, new_day, start * math.exp(rate * new_day), max_fold_per_day=1.1)
        is None
    )


# --- Endpoints ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("volume", "diameter", "loss", "expected"),
    [
        (1000, 12, 5, EndpointStatus.OK),
        (1599, None, None, EndpointStatus.OK),
        (1600, None, None, EndpointStatus.APPROACHING),
        (None, 16, None, EndpointStatus.APPROACHING),
        (None, None, 16, EndpointStatus.APPROACHING),
        (2000, None, None, EndpointStatus.REACHED),
        (1000, 20.5, None, EndpointStatus.REACHED),
        (1700, 12, 21, EndpointStatus.REACHED),
        (None, None, None, EndpointStatus.OK),
    ],
)
def test_endpoint_status_from_the_worst_limit(
    volume: float | None, diameter: float | None, loss: float | None, expected: EndpointStatus
) -> None:
    assert endpoint_crossing(EndpointStatus.OK, volume, diameter, loss, LIMITS) is expected


def test_reached_stays_reached_whatever_the_next_reading_says() -> None:
    assert endpoint_crossing(EndpointStatus.REACHED, 100, 5, 0, LIMITS) is EndpointStatus.REACHED


def test_approaching_can_go_back_to_ok() -> None:
    assert endpoint_crossing(EndpointStatus.APPROACHING, 900, 11, 3, LIMITS) is EndpointStatus.OK


def test_approaching_fraction_is_configurable() -> None:
    limits = EndpointLimits(max_volume_mm3=2000, approaching_fraction=0.9)
    assert endpoint_crossing(EndpointStatus.OK, 1700, None, None, limits) is EndpointStatus.OK
    assert (
        endpoint_crossing(EndpointStatus.OK, 1800, None, None, limits) is EndpointStatus.APPROACHING
    )
    with pytest.raises(ValueError):
        EndpointLimits(approaching_fraction=1.0)


def test_total_volume_limit_applies_when_configured() -> None:
    limits = EndpointLimits(max_volume_mm3=2000, max_total_volume_mm3=2500)
    status = endpoint_crossing(EndpointStatus.OK, 1200, None, None, limits, total_volume_mm3=2600)
    assert status is EndpointStatus.REACHED


def test_findings_name_each_limit_with_a_message() -> None:
    findings = endpoint_findings(EndpointReading(volume_mm3=2100, weight_loss_percent=17), LIMITS)
    assert [(f.limit_name, f.status) for f in findings] == [
        ("volume", EndpointStatus.REACHED),
        ("weight loss", EndpointStatus.APPROACHING),
    ]
    assert findings[0].message == "volume 2100 mm³: reached the limit of 2000 mm³"


def test_limits_from_the_protocol_humane_endpoints() -> None:
    limits = EndpointLimits.from_humane_endpoints(
        HumaneEndpoints(max_volume_mm3=1500, max_diameter_mm=15, max_weight_loss_percent=15)
    )
    assert (limits.max_volume_mm3, limits.max_diameter_mm, limits.max_weight_loss_percent) == (
        1500,
        15,
        15,
    )


def test_repeat_asked_when_a_reading_first_crosses_a_limit() -> None:
    before = EndpointReading(volume_mm3=1500)
    crossing = EndpointReading(volume_mm3=2100)
    assert needs_repeat(before, crossing, LIMITS)
    assert needs_repeat(None, crossing, LIMITS)


def test_no_repeat_when_the_repeat_confirms_or_nothing_is_reached() -> None:
    crossing = EndpointReading(volume_mm3=2100)
    assert not needs_repeat(crossing, EndpointReading(volume_mm3=2050), LIMITS)
    assert not needs_repeat(None, EndpointReading(volume_mm3=1900), LIMITS)


def test_repeat_asked_when_another_limit_is_newly_reached() -> None:
    previous = EndpointReading(volume_mm3=2100, diameter_mm=15)
    assert needs_repeat(previous, EndpointReading(volume_mm3=2100, diameter_mm=21), LIMITS)


# --- Time -----------------------------------------------------------------------------------


def test_late_only_after_more_than_24_hours() -> None:
    assert not is_late(T0, T0 + timedelta(hours=24))
    assert is_late(T0, T0 + timedelta(hours=24, seconds=1))
    assert not is_late(T0, T0)


def test_future_refused_beyond_the_clock_skew_tolerance() -> None:
    assert not is_future(T0 + timedelta(minutes=1), T0)
    assert is_future(T0 + timedelta(minutes=3), T0)
    assert not is_future(T0 - timedelta(days=1), T0)


def test_time_checks_compare_across_time_zones() -> None:
    paris = timezone(timedelta(hours=1))
    assert not is_future(datetime(2025, 3, 10, 10, 1, tzinfo=paris), T0)
    assert is_late(datetime(2025, 3, 9, 9, 0, tzinfo=paris), T0)


def test_time_checks_refuse_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="time zone"):
        is_late(datetime(2025, 3, 10, 9, 0), T0)
    with pytest.raises(ValueError, match="time zone"):
        is_future(T0, datetime(2025, 3, 10, 9, 0))


# --- Same-day repeats -----------------------------------------------------------------------


def test_last_policy_counts_the_latest_reading_whatever_the_order_given() -> None:
    readings = [(T0 + timedelta(minutes=5), 512.0), (T0, 480.0), (T0 + timedelta(minutes=2), 9.0)]
    assert counting_value(readings, RepeatPolicy.LAST) == 512.0


def test_mean_policy_counts_the_mean_and_keeps_decimals_exact() -> None:
    readings = [(T0, Decimal("23.41")), (T0 + timedelta(minutes=1), Decimal("23.44"))]
    assert counting_value(readings, RepeatPolicy.MEAN) == Decimal("23.425")
    assert counting_value([(T0, 0.0), (T0, 100.0)], RepeatPolicy("mean")) == 50.0


def test_counting_value_refuses_an_empty_day() -> None:
    with pytest.raises(ValueError):
        counting_value([], RepeatPolicy.LAST)
