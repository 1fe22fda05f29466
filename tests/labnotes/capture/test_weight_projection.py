"""The body-weight projection to the weight-loss endpoint (pure, no database)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labnotes.capture.projection import project_weight_loss, weight_loss_percent


def test_days_to_limit_when_losing_steadily_match_hand_computation() -> None:
    # Losses 4, 7, 10 % on days 10, 12, 14: slope 1.5 %/day, intercept -11 → 20 % on day 20.666…
    projection = project_weight_loss([(10, 4.0), (12, 7.0), (14, 10.0)], limit_percent=20)
    assert projection is not None
    assert projection.slope_percent_per_day == pytest.approx(1.5)
    assert projection.crossing_day == pytest.approx(62 / 3)
    assert projection.days_to_limit == pytest.approx(62 / 3 - 14)
    assert "in about 6.7 days" in projection.message


def test_fit_matches_numpy_polyfit_over_the_last_three_points() -> None:
    points = [(3.0, -2.0), (7.25, 1.5), (9.5, 3.2), (11.0, 6.9), (13.75, 8.1)]
    projection = project_weight_loss(points, limit_percent=15)
    assert projection is not None and projection.points == 3
    days, losses = np.array([9.5, 11.0, 13.75]), np.array([3.2, 6.9, 8.1])
    slope, intercept = np.polyfit(days, losses, 1)
    assert projection.slope_percent_per_day == pytest.approx(slope, rel=1e-12)
    assert projection.crossing_day == pytest.approx((15 - intercept) / slope, rel=1e-12)


def test_weights_through_weight_loss_percent() -> None:
    # Baseline 20 g; 19.0, 18.4, 17.8 g on days 7, 9, 11 → 5, 8, 11 %: slope 1.5, crossing 17.
    points = [(d, weight_loss_percent(w, 20.0)) for d, w in [(7, 19.0), (9, 18.4), (11, 17.8)]]
    projection = project_weight_loss(points, limit_percent=20)
    assert projection is not None
    assert projection.crossing_day == pytest.approx(17.0)
    assert projection.days_to_limit == pytest.approx(6.0)


def test_no_crossing_when_gaining_weight() -> None:
    projection = project_weight_loss([(1, 5.0), (3, 3.0), (5, 1.0)], limit_percent=20)
    assert projection is not None
    assert projection.slope_percent_per_day == pytest.approx(-1.0)
    assert projection.crossing_day is None and projection.days_to_limit is None
    assert "not losing" in projection.message


def test_latest_at_the_limit_crosses_on_its_own_day() -> None:
    projection = project_weight_loss([(1, 15.0), (2, 18.0), (3, 21.0)], limit_percent=20)
    assert projection is not None
    assert projection.crossing_day == 3 and projection.days_to_limit == 0
    assert "at the limit of 20 %" in projection.message


@pytest.mark.parametrize(
    "points,limit",
    [
        ([(1, 5.0)], 20.0),
        ([(4, 5.0), (4, 6.0)], 20.0),
        ([(1, 5.0), (2, 6.0)], None),
        ([(1, math.nan), (2, 6.0)], 20.0),
    ],
)
def test_none_when_nothing_to_fit(points: list[tuple[float, float]], limit: float | None) -> None:
    assert project_weight_loss(points, limit_percent=limit) is None
