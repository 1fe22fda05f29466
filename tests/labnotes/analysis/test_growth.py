"""Growth analysis: hand-computed values, edge cases, properties and the CLI functions.

Numbers against R live in test_growth_vs_r.py. No database is needed.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labnotes.analysis import growth
from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.growth_data import (
    build_growth_data,
    read_growth_csv,
    volume_from_calipers_mm3,
)
from tests.labnotes.analysis.growth_fixtures import (
    simulate_study,
    to_growth_data,
    write_growth_csv,
    write_rows,
)
from tests.support.requirements import require_shared

HEADER = ["animal", "group", "day", "volume_mm3"]

# Vehicle V3 leaves after day 7; hand values below are computed from these numbers.
HAND_ROWS = [
    ["V1", "Vehicle", 0, 100], ["V1", "Vehicle", 7, 200], ["V1", "Vehicle", 14, 400],
    ["V2", "Vehicle", 0, 120], ["V2", "Vehicle", 7, 240], ["V2", "Vehicle", 14, 480],
    ["V3", "Vehicle", 0, 80], ["V3", "Vehicle", 7, 160],
    ["D1", "Drug", 0, 100], ["D1", "Drug", 7, 120], ["D1", "Drug", 14, 150],
    ["D2", "Drug", 0, 110], ["D2", "Drug", 7, 100], ["D2", "Drug", 14, 90],
    ["D3", "Drug", 0, 90], ["D3", "Drug", 7, 100], ["D3", "Drug", 14, 120],
]  # fmt: skip


def hand_data() -> growth.GrowthData:
    return build_growth_data(
        [str(r[0]) for r in HAND_ROWS],
        [str(r[1]) for r in HAND_ROWS],
        [float(r[2]) for r in HAND_ROWS],  # type: ignore[arg-type]
        [float(r[3]) for r in HAND_ROWS],  # type: ignore[arg-type]
    )


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    growth.add_arguments(parser)
    return parser.parse_args(argv)


def by_group(output: dict[str, object]) -> dict[str, dict[str, object]]:
    groups = output["groups"]
    assert isinstance(groups, list)
    return {g["group"]: g for g in groups}


# --------------------------------------------------------------------------- reading


def test_volume_uses_longer_axis_when_length_and_width_are_swapped() -> None:
    volumes = volume_from_calipers_mm3(np.array([10.0, 6.0]), np.array([6.0, 10.0]))
    assert volumes.tolist() == [180.0, 180.0]


def test_caliper_file_gives_ellipsoid_volumes_when_read(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "c.csv",
        ["animal", "group", "day", "length_mm", "width_mm"],
        [["A", "Vehicle", 0, 8, 5], ["A", "Vehicle", 3, 4, 9]],
    )
    data = read_growth_csv(path)
    assert data.volume_mm3.tolist() == [[100.0, 72.0]]


def test_negative_volume_is_rejected_with_row_and_column_when_read(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "n.csv", HEADER, [["A", "Vehicle", 0, 10], ["A", "Vehicle", 3, -5]]
    )
    with pytest.raises(AnalysisInputError) as err:
        read_growth_csv(path)
    assert (err.value.row, err.value.column) == (3, "volume_mm3")


def test_second_measurement_on_a_day_is_rejected_when_read(tmp_path: Path) -> None:
    rows = [["A", "Vehicle", 0, 10], ["B", "Vehicle", 0, 11], ["A", "Vehicle", 0, 12]]
    with pytest.raises(AnalysisInputError) as err:
        read_growth_csv(write_rows(tmp_path / "d.csv", HEADER, rows))
    assert (err.value.row, err.value.column) == (4, "day")


def test_animal_in_two_groups_is_rejected_when_read(tmp_path: Path) -> None:
    rows = [["A", "Vehicle", 0, 10], ["A", "Drug", 3, 12]]
    with pytest.raises(AnalysisInputError) as err:
        read_growth_csv(write_rows(tmp_path / "g.csv", HEADER, rows))
    assert (err.value.row, err.value.column) == (3, "group")


def test_missing_volume_columns_are_named_when_read(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "m.csv", ["animal", "group", "day", "length_mm"], [["A", "V", 0, 3]]
    )
    with pytest.raises(AnalysisInputError, match="volume_mm3"):
        read_growth_csv(path)


def test_blank_volume_means_not_measured_when_read(tmp_path: Path) -> None:
    rows = [["A", "Vehicle", 0, 10], ["A", "Vehicle", 3, ""], ["B", "Vehicle", 3, 5]]
    data = read_growth_csv(write_rows(tmp_path / "b.csv", HEADER, rows))
    assert np.isnan(data.volume_mm3[0, 1]) and data.volume_mm3[1, 1] == 5.0


def test_two_tumour_roles_need_a_choice_when_tumour_is_not_given(tmp_path: Path) -> None:
    rows = [["A", "Vehicle", 0, 10, "injected"], ["A", "Vehicle", 0, 4, "contralateral"]]
    path = write_rows(tmp_path / "t.csv", [*HEADER, "tumour"], rows)
    with pytest.raises(AnalysisInputError, match="--tumour"):
        read_growth_csv(path)
    assert read_growth_csv(path, tumour="contralateral").volume_mm3.tolist() == [[4.0]]


def test_animals_sort_naturally_when_ids_are_numbers() -> None:
    data = build_growth_data(["10", "2", "1"], ["G", "G", "G"], [0, 0, 0], [1, 2, 3])
    assert data.animals == ("1", "2", "10")
    assert data.volume_mm3[:, 0].tolist() == [3.0, 2.0, 1.0]


# --------------------------------------------------------------------------- control and days


def test_control_is_found_by_name_when_not_given() -> None:
    assert growth.find_control(["Drug A", "Vehicle (PBS)", "Combo"]) == "Vehicle (PBS)"


def test_control_must_be_named_when_two_groups_look_like_controls() -> None:
    with pytest.raises(AnalysisInputError, match="--control"):
        growth.find_control(["Vehicle", "Isotype control"])


def test_default_day_is_last_day_with_80_percent_of_controls_when_controls_drop_out() -> None:
    # Day 14 has 2 of 3 controls (67 %), so the default is day 7.
    assert growth.default_analysis_day(hand_data(), "Vehicle") == 7.0


def test_default_day_accepts_exactly_80_percent_when_one_of_five_controls_is_missing() -> None:
    animals = [f"C{i}" for i in range(5) for _ in (0, 1)]
    days = [0.0, 5.0] * 5
    volumes = [100.0, 200.0] * 5
    animals.pop()
    days.pop()
    volumes.pop()
    data = build_growth_data(animals, ["Vehicle"] * 9, days, volumes)
    assert growth.default_analysis_day(data, "Vehicle") == 5.0


# --------------------------------------------------------------------------- TGI


def test_tgi_matches_hand_arithmetic_when_a_control_animal_is_missing() -> None:
    results = {
        r.group: r
        for r in growth.tgi_at_day(hand_data(), control="Vehicle", day=14, baseline_day=0)
    }
    drug, vehicle = results["Drug"], results["Vehicle"]
    assert (vehicle.n, vehicle.n_randomized, vehicle.missing) == (2, 3, ("V3",))
    assert drug.mean_volume_mm3 == pytest.approx(120.0, rel=1e-12)
    assert drug.sem_volume_mm3 == pytest.approx(30.0 / math.sqrt(3), rel=1e-12)
    assert drug.geometric_mean_volume_mm3 == pytest.approx((150 * 90 * 120) ** (1 / 3), rel=1e-12)
    assert drug.tc_percent == pytest.approx(100 * 120 / 440, rel=1e-12)
    assert drug.tgi_volume_percent == pytest.approx(100 - 100 * 120 / 440, rel=1e-12)
    assert drug.median_tc_percent == pytest.approx(100 * 120 / 440, rel=1e-12)
    assert drug.tgi_delta_percent == pytest.approx(100 * (1 - 20 / 330), rel=1e-12)
    rtv_t = (150 / 100 + 90 / 110 + 120 / 90) / 3
    assert drug.tgi_rtv_percent == pytest.approx(100 * (1 - rtv_t / 4.0), rel=1e-12)
    assert (vehicle.tc_percent, vehicle.tgi_delta_percent) == (100.0, 0.0)


def test_delta_tgi_exceeds_100_without_cap_when_tumours_regress() -> None:
    data = build_growth_data(
        ["C1", "C1", "T1", "T1"],
        ["Vehicle", "Vehicle", "Drug", "Drug"],
        [0, 10, 0, 10],
        [100, 300, 100, 50],
    )
    drug = growth.tgi_at_day(data, control="Vehicle", day=10, baseline_day=0)[1]
    assert drug.tgi_delta_percent == pytest.approx(125.0, rel=1e-12)


def test_group_statistics_are_undefined_when_no_animal_was_measured_that_day() -> None:
    data = build_growth_data(
        ["C1", "C1", "T1", "T1"],
        ["Vehicle", "Vehicle", "Drug", "Drug"],
        [0, 10, 0, 10],
        [100, 300, 100, math.nan],
    )
    drug = growth.tgi_at_day(data, control="Vehicle", day=10, baseline_day=0)[1]
    assert drug.n == 0 and drug.missing == ("T1",)
    assert math.isnan(drug.mean_volume_mm3) and math.isnan(drug.tgi_volume_percent)


def test_sem_is_undefined_when_a_group_has_one_animal() -> None:
    data = build_growth_data(
        ["C1", "C2", "T1"], ["Vehicle", "Vehicle", "Drug"], [0, 0, 0], [10, 20, 30]
    )
    drug = growth.tgi_at_day(data, control="Vehicle", day=0, baseline_day=0)[1]
    assert drug.mean_volume_mm3 == 30.0 and math.isnan(drug.sem_volume_mm3)


def test_rtv_leaves_out_animals_when_their_baseline_is_zero() -> None:
    data = build_growth_data(
        ["C1", "C1", "T1", "T1", "T2", "T2"],
        ["Vehicle", "Vehicle", "Drug", "Drug", "Drug", "Drug"],
        [0, 10, 0, 10, 0, 10],
        [100, 400, 0, 50, 100, 200],
    )
    drug = growth.tgi_at_day(data, control="Vehicle", day=10, baseline_day=0)[1]
    assert drug.tgi_rtv_percent == pytest.approx(50.0, rel=1e-12)
    assert drug.tgi_volume_percent == pytest.approx(100 * (1 - 125 / 400), rel=1e-12)


def test_bootstrap_gives_identical_intervals_when_seed_is_repeated() -> None:
    data = to_growth_data(simulate_study(seed=3, growth_rates={"Vehicle": 0.08, "Drug": 0.04}))
    first = growth.bootstrap_tgi(
        data, control="Vehicle", day=30, baseline_day=0, rng=np.random.default_rng(7)
    )
    second = growth.bootstrap_tgi(
        data, control="Vehicle", day=30, baseline_day=0, rng=np.random.default_rng(7)
    )
    assert first == second
    drug = first[1]
    point = growth.tgi_at_day(data, control="Vehicle", day=30, baseline_day=0)[1]
    assert drug.volume.lower < point.tgi_volume_percent < drug.volume.upper
    assert 20 < drug.volume.lower < drug.volume.upper < 95


def test_bootstrap_interval_of_the_control_contains_zero_when_compared_with_itself() -> None:
    data = to_growth_data(simulate_study(seed=4, growth_rates={"Vehicle": 0.08, "Drug": 0.04}))
    control = growth.bootstrap_tgi(
        data, control="Vehicle", day=30, baseline_day=0, rng=np.random.default_rng(1)
    )[0]
    assert control.rtv.lower < 0 < control.rtv.upper


# --------------------------------------------------------------------------- curves and dropout


def test_curve_stops_when_fewer_than_half_of_the_arm_remain() -> None:
    # 6 animals; on day 14 only 2 remain (< 50 % and < 3): the curve ends after day 7.
    animals, days, volumes = [], [], []
    for i in range(6):
        for day in (0, 7, 14, 21):
            if day >= 14 and i >= 2:
                continue
            animals.append(f"A{i}")
            days.append(float(day))
            volumes.append(100.0 + i + day)
    data = build_growth_data(animals, ["Vehicle"] * len(animals), days, volumes)
    (curve,) = growth.group_curves(data)
    assert [(p.day, p.n) for p in curve.points] == [(0.0, 6), (7.0, 6)]
    assert curve.stopped_on_day == 14.0
    assert curve.points[1].mean_volume_mm3 == pytest.approx(109.5, rel=1e-12)


def test_curve_stops_below_three_animals_when_the_arm_is_small() -> None:
    data = build_growth_data(["A", "B", "C", "A", "B"], ["G"] * 5, [0, 0, 0, 5, 5], [1, 2, 3, 4, 5])
    (curve,) = growth.group_curves(data)
    assert [(p.day, p.n) for p in curve.points] == [(0.0, 3)]
    assert curve.stopped_on_day == 5.0


def test_locf_fills_later_days_when_an_animal_left_the_study() -> None:
    filled = growth.carry_last_observation_forward(hand_data())
    v3 = filled.animals.index("V3")
    assert filled.volume_mm3[v3].tolist() == [80.0, 160.0, 160.0]


def test_locf_output_is_labelled_a_sensitivity_analysis_when_asked_for(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "h.csv", HEADER, HAND_ROWS)
    output = growth.run(parse(["--input", str(path), "--day", "14", "--dropout", "locf"]))
    assert output["sensitivity_analysis"] is True and "sensitivity" in str(output["note"])
    assert by_group(output)["Vehicle"]["mean_volume_mm3"] == pytest.approx((400 + 480 + 160) / 3)


# --------------------------------------------------------------------------- regressions, mRECIST


def test_regressions_follow_the_default_definitions_when_counted() -> None:
    series = {
        "PR": [100, 60, 50, 45, 48, 70],  # <= 50 on three consecutive measurements
        "notPR": [100, 50, 45, 60, 40, 49],  # never three in a row
        "CR": [100, 10, 0, 5, 30, 40],  # complete, regrows: not tumour-free
        "TF": [100, 20, 12, 0, 0, 0],  # complete and still at the end
    }
    animals, days, volumes = [], [], []
    for animal, values in series.items():
        for k, v in enumerate(values):
            animals.append(animal)
            days.append(float(3 * k))
            volumes.append(float(v))
    data = build_growth_data(animals, ["Drug"] * len(animals), days, volumes)
    counts = growth.regressions(data, baseline_day=0)["Drug"]
    assert (counts.complete, counts.partial, counts.tumour_free) == (2, 1, 1)
    strict = growth.regressions(data, baseline_day=0, rules=growth.RegressionRules(consecutive=2))
    assert strict["Drug"].partial == 2


@pytest.mark.parametrize(
    ("volumes", "expected"),
    [
        ([100, 150, 200, 250], "pd"),
        ([100, 110, 120, 125], "sd"),  # BR 20, BAR (0+10+20+25)/4 = 13.75
        ([100, 60, 40, 45], "pr"),  # BR -60, BAR min(-33.3, -36.25)
        ([100, 40, 3, 1], "cr"),  # BR -99, BAR -64
        ([100, 40, 3, 200], "cr"),  # regrowth after day 10 does not undo BR -97, BAR -52.3
    ],
)
def test_mrecist_class_follows_gao_2015_when_responses_are_given(
    volumes: list[float], expected: str
) -> None:
    times = np.array([0.0, 5.0, 10.0, 15.0])
    assert growth.mrecist_category(times, np.array(volumes, dtype=float)) == expected


def test_mrecist_ignores_early_shrinkage_when_before_day_ten() -> None:
    # -90 % at day 5 does not count; from day 10 on the tumour is back above baseline.
    times = np.array([0.0, 5.0, 10.0])
    assert growth.mrecist_category(times, np.array([100.0, 10.0, 160.0])) == "pd"
    assert growth.mrecist_category(np.array([0.0, 5.0]), np.array([100.0, 10.0])) is None


# ------------------------------------------------------------------- delay, waterfall, weight


def test_time_to_double_interpolates_on_the_log_scale_when_crossed_between_days() -> None:
    outcome = growth.time_to_fold_volume(
        np.array([0.0, 5.0, 10.0]), np.array([100.0, 150.0, 300.0]), 2.0
    )
    assert outcome is not None and outcome.event
    assert outcome.time_days == pytest.approx(5 + 5 * math.log(200 / 150) / math.log(2), rel=1e-12)


def test_time_to_double_is_censored_when_never_reached() -> None:
    outcome = growth.time_to_fold_volume(
        np.array([0.0, 5.0, 9.0]), np.array([100.0, 150.0, 190.0]), 2.0
    )
    assert outcome == growth.TimeToEvent(9.0, False)


def test_km_median_takes_the_midpoint_when_survival_is_exactly_one_half() -> None:
    times = np.array([1.0, 2.0, 3.0, 4.0])
    assert growth.kaplan_meier_median(times, np.ones(4, dtype=bool)) == 2.5
    assert math.isnan(growth.kaplan_meier_median(times, np.array([True, False, False, False])))


def test_growth_delay_is_difference_of_median_doubling_times_when_treated_grows_slower() -> None:
    animals, groups, days, volumes = [], [], [], []
    for i, (group, rate) in enumerate(
        [("Vehicle", 0.1), ("Vehicle", 0.1), ("Drug", 0.05), ("Drug", 0.05)]
    ):
        for day in range(0, 31, 2):
            animals.append(f"A{i}")
            groups.append(group)
            days.append(float(day))
            volumes.append(100 * math.exp(rate * day))
    data = build_growth_data(animals, groups, days, volumes)
    delays = {d.group: d for d in growth.growth_delay(data, control="Vehicle", baseline_day=0)}
    assert delays["Vehicle"].median_days == pytest.approx(math.log(2) / 0.1, rel=1e-9)
    assert delays["Drug"].delay_days == pytest.approx(
        math.log(2) / 0.05 - math.log(2) / 0.1, rel=1e-9
    )


def test_best_percent_change_is_the_lowest_change_when_the_tumour_shrinks_then_regrows() -> None:
    changes = {c.animal: c for c in growth.best_percent_change(hand_data(), baseline_day=0)}
    assert changes["D2"].best_percent_change == pytest.approx(100 * (90 - 110) / 110)
    assert changes["D2"].day == 14.0
    assert changes["V1"].best_percent_change == pytest.approx(100.0)


def test_tumour_corrected_weight_subtracts_one_mg_per_mm3_when_weight_is_in_grams() -> None:
    corrected = growth.tumour_corrected_weight_g(np.array([25.0, 20.0]), np.array([500.0, 1500.0]))
    assert corrected.tolist() == pytest.approx([24.5, 18.5])
    with pytest.raises(AnalysisInputError, match="units"):
        growth.tumour_corrected_weight_g(np.array([2.0]), np.array([2500.0]))


# --------------------------------------------------------------------------- statistics


def test_holm_adjustment_matches_r_p_adjust_when_p_values_are_unsorted() -> None:
    # R: p.adjust(c(0.01, 0.04, 0.03, NA), "holm") -> 0.03 0.06 0.06 NA
    adjusted = growth.holm_adjust([0.01, 0.04, 0.03, math.nan])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(adjusted[3])


def test_dunnett_is_identical_run_to_run_when_random_state_is_fixed() -> None:
    data = to_growth_data(
        simulate_study(seed=5, growth_rates={"Vehicle": 0.08, "A": 0.06, "B": 0.05})
    )
    first = growth.compare_groups(data, day=30, control="Vehicle")
    second = growth.compare_groups(data, day=30, control="Vehicle")
    assert [d.p for d in first.dunnett] == [d.p for d in second.dunnett]
    assert [d.b for d in first.dunnett] == ["A", "B"]
    assert first.dunnett[1].p < 0.05


def test_groups_with_one_animal_are_excluded_when_comparing() -> None:
    data = build_growth_data(
        ["C1", "C2", "C3", "T1", "T2", "T3", "S1"],
        ["Vehicle"] * 3 + ["Drug"] * 3 + ["Single"],
        [0.0] * 7,
        [100, 110, 120, 50, 55, 60, 70],
    )
    result = growth.compare_groups(data, day=0, control="Vehicle")
    assert result.excluded == ("Single",) and result.groups == ("Vehicle", "Drug")
    assert result.anova_p < 0.01


def test_mixed_model_recovers_growth_rate_differences_when_data_are_simulated() -> None:
    data = to_growth_data(
        simulate_study(
            seed=11, growth_rates={"Vehicle": 0.10, "A": 0.07, "B": 0.10}, animals_per_group=10
        )
    )
    model = growth.log_volume_mixed_model(data, control="Vehicle", baseline_day=0)
    contrasts = {c.name.split(" - ")[0]: c for c in model.contrasts}
    assert contrasts["A"].estimate == pytest.approx(-0.03, abs=0.01)
    assert contrasts["A"].p_holm < 1e-4
    assert contrasts["B"].p_holm > 0.05
    assert model.growth_rate_per_day["Vehicle"] == pytest.approx(0.10, abs=0.01)


def test_mixed_model_floors_zero_volumes_when_tumours_disappear() -> None:
    rows = simulate_study(seed=12, growth_rates={"Vehicle": 0.1, "Drug": -0.2}, animals_per_group=6)
    for i, r in enumerate(rows):
        if r.group == "Drug" and r.day >= 21:
            rows[i] = type(r)(r.animal, r.group, r.day, 0.0)
    model = growth.log_volume_mixed_model(to_growth_data(rows), control="Vehicle", baseline_day=0)
    assert (
        math.isfinite(model.growth_rate_per_day["Drug"])
        and model.growth_rate_per_day["Drug"] < -0.1
    )
    assert model.floor_mm3 == 1.0


def test_mixed_model_adds_a_cage_effect_when_whole_cages_were_randomized() -> None:
    rows = simulate_study(seed=13, growth_rates={"Vehicle": 0.1, "Drug": 0.06}, animals_per_group=8)
    data = to_growth_data(rows)
    cages = [f"{g}-{int(a[1:]) % 2}" for a, g in zip(data.animals, data.animal_group, strict=True)]
    caged = growth.GrowthData(
        data.animals, data.animal_group, data.groups, data.days, data.volume_mm3, tuple(cages)
    )
    assert growth.whole_cages_randomized(caged)
    model = growth.log_volume_mixed_model(caged, control="Vehicle", baseline_day=0)
    assert model.cage_effect
    assert model.contrasts[0].estimate == pytest.approx(-0.04, abs=0.015)


def test_mixed_model_raises_a_clear_error_when_the_fit_does_not_converge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from statsmodels.regression.mixed_linear_model import MixedLM

    def fail(self: object, **kwargs: object) -> object:
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(MixedLM, "fit", fail)
    with pytest.raises(AnalysisInputError, match="did not converge"):
        growth.log_volume_mixed_model(hand_data(), control="Vehicle", baseline_day=0)


# --------------------------------------------------------------------------- CLI functions


def test_run_returns_the_issue_fields_when_given_a_file(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "h.csv", HEADER, HAND_ROWS)
    output = growth.run(parse(["--input", str(path)]))
    json.dumps(output, allow_nan=False)
    assert (output["control"], output["day"], output["baseline_day"], output["dropout"]) == (
        "Vehicle",
        7,
        0,
        "drop",
    )
    drug = by_group(output)["Drug"]
    assert set(drug) >= {
        "group", "n", "n_randomized", "missing", "mean_volume_mm3", "sem_volume_mm3",
        "geometric_mean_volume_mm3", "tc_percent", "median_tc_percent", "tgi_volume_percent",
        "tgi_delta_percent", "tgi_rtv_percent", "mrecist", "regressions",
    }  # fmt: skip
    assert drug["tc_percent"] == pytest.approx(100 * (320 / 3) / 200)
    assert drug["mrecist"] == {"cr": 0, "pr": 0, "sd": 0, "pd": 0}  # no day >= 10 up to day 7
    assert drug["regressions"] == {"complete": 0, "partial": 0, "tumour_free": 0}


def test_run_gives_none_not_nan_when_a_statistic_is_undefined(tmp_path: Path) -> None:
    rows = [
        ["C1", "Vehicle", 0, 100],
        ["C1", "Vehicle", 10, 200],
        ["T1", "Drug", 0, 100],
        ["T1", "Drug", 10, 50],
    ]
    output = growth.run(parse(["--input", str(write_rows(tmp_path / "s.csv", HEADER, rows))]))
    json.dumps(output, allow_nan=False)
    assert by_group(output)["Drug"]["sem_volume_mm3"] is None
    assert by_group(output)["Drug"]["tgi_volume_percent"] == pytest.approx(75.0)


def test_run_adds_bootstrap_intervals_when_asked(tmp_path: Path) -> None:
    rows = simulate_study(seed=2, growth_rates={"Vehicle": 0.08, "Drug": 0.03})
    path = write_growth_csv(tmp_path / "s.csv", rows)
    output = growth.run(parse(["--input", str(path), "--bootstrap", "300", "--seed", "9"]))
    again = growth.run(parse(["--input", str(path), "--bootstrap", "300", "--seed", "9"]))
    assert output == again
    low, high = by_group(output)["Drug"]["tgi_ci95"]["volume"]  # type: ignore[index]
    assert low < by_group(output)["Drug"]["tgi_volume_percent"] < high  # type: ignore[operator]


def test_run_rejects_an_analysis_day_when_nobody_was_measured(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "h.csv", HEADER, HAND_ROWS)
    with pytest.raises(AnalysisInputError, match="day 9 has no measurement"):
        growth.run(parse(["--input", str(path), "--day", "9"]))


def test_run_rejects_an_unknown_control_when_named(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "h.csv", HEADER, HAND_ROWS)
    with pytest.raises(AnalysisInputError, match="'Saline'"):
        growth.run(parse(["--input", str(path), "--control", "Saline"]))


@pytest.mark.parametrize(
    "name",
    [
        "invivoSyn_CR1197.csv",
        "invivoSyn_SNU-81.csv",
        "invivoSyn_SW837.csv",
        "invivoSyn_LS-1034.csv",
    ],
)
def test_run_reports_n_per_group_when_given_real_study_files(name: str) -> None:
    path = require_shared(f"data/reference/growth/{name}")
    output = growth.run(parse(["--input", str(path), "--bootstrap", "200"]))
    json.dumps(output, allow_nan=False)
    data = read_growth_csv(path)
    for entry in by_group(output).values():
        members = data.members(str(entry["group"]))
        assert entry["n_randomized"] == members.size
        assert entry["n"] + len(entry["missing"]) == members.size  # type: ignore[operator, arg-type]
    assert np.nanmin(data.volume_mm3) >= 0


def test_zero_volume_counts_as_measured_when_a_tumour_disappears() -> None:
    path = require_shared("data/reference/growth/invivoSyn_CR1197.csv")
    data = read_growth_csv(path)
    assert np.sum(data.volume_mm3 == 0) >= 1
    curves = growth.group_curves(data)
    assert all(p.geometric_mean_volume_mm3 >= 0 for c in curves for p in c.points)


# --------------------------------------------------------------------------- properties

study_rows = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.sampled_from(["Vehicle", "Drug"]),
        st.sampled_from([0, 4, 8, 12]),
        st.floats(0, 5000, allow_nan=False),
    ),
    min_size=1,
    max_size=40,
    unique_by=lambda r: (r[0], r[2]),
)


@given(length=st.floats(0, 50, allow_nan=False), width=st.floats(0, 50, allow_nan=False))
def test_volume_is_never_negative_when_axes_are_not_negative(length: float, width: float) -> None:
    volume = volume_from_calipers_mm3(np.array([length]), np.array([width]))[0]
    assert volume >= 0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_tgi_is_zero_when_a_group_is_compared_with_itself(seed: int) -> None:
    rows = simulate_study(
        seed=seed, growth_rates={"Vehicle": 0.08}, animals_per_group=4, missing_fraction=0.2
    )
    twins = rows + [type(r)(r.animal + "-twin", "Twin", r.day, r.volume_mm3) for r in rows]
    data = to_growth_data(twins)
    twin = growth.tgi_at_day(data, control="Vehicle", day=30, baseline_day=0)[1]
    for value in (twin.tgi_volume_percent, twin.tgi_delta_percent, twin.tgi_rtv_percent):
        assert math.isnan(value) or value == pytest.approx(0.0, abs=1e-9)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), order=st.randoms(use_true_random=False))
def test_output_is_unchanged_when_rows_are_permuted(
    tmp_path: Path, seed: int, order: object
) -> None:
    rows = simulate_study(
        seed=seed,
        growth_rates={"Vehicle": 0.08, "Drug": 0.03},
        animals_per_group=5,
        missing_fraction=0.2,
    )
    shuffled = list(rows)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    argv = ["--bootstrap", "50", "--seed", "1", "--control", "Vehicle"]
    first = growth.run(parse(["--input", str(write_growth_csv(tmp_path / "a.csv", rows)), *argv]))
    second = growth.run(
        parse(["--input", str(write_growth_csv(tmp_path / "b.csv", shuffled)), *argv])
    )
    assert by_group(first) == by_group(second)
    assert {k: v for k, v in first.items() if k != "groups"} == {
        k: v for k, v in second.items() if k != "groups"
    }


@settings(max_examples=40, deadline=None)
@given(rows=study_rows)
def test_volumes_are_never_negative_when_a_study_is_read(
    rows: list[tuple[int, str, int, float]],
) -> None:
    data = build_growth_data(
        [f"A{a}" for a, *_ in rows], ["Drug" if a % 2 else "Vehicle" for a, *_ in rows],
        [float(d) for *_, d, _ in rows], [v for *_, v in rows],
    )  # fmt: skip
    assert np.all(data.volume_mm3[~np.isnan(data.volume_mm3)] >= 0)
    for curve in growth.group_curves(data):
        assert all(
            p.mean_volume_mm3 >= 0 and p.geometric_mean_volume_mm3 >= 0 for p in curve.points
        )
