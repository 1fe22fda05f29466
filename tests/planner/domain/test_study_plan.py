"""Survival definition and analysis plan defaults and validation; amendment occurrence split."""

from __future__ import annotations

import datetime as dt

import pytest

from planner.domain.amendment_effect import occurrence_changes
from planner.domain.errors import ParameterErrors
from planner.domain.schedule_notation import expand_schedule
from planner.domain.study_plan import (
    ArmSummary,
    default_analysis_plan,
    default_survival_definition,
    parse_analysis_plan,
    parse_survival_definition,
)

ARMS = [
    ArmSummary("Vehicle", True, frozenset()),
    ArmSummary("IL-12", False, frozenset({"IL-12"})),
    ArmSummary("CPA", False, frozenset({"CPA"})),
    ArmSummary("Combo", False, frozenset({"IL-12", "CPA"})),
]


def test_default_survival_counts_tumour_burden_as_event_and_censors_unrelated_exits():
    causes = default_survival_definition()["causes"]
    assert causes["tumour_volume"] == "event" and causes["found_dead"] == "event"
    assert causes["scheduled_sacrifice"] == "censored" and causes["accident"] == "censored"
    assert default_survival_definition()["time_origin"] == "first_treatment"


def test_survival_definition_rejects_unknown_cause_and_outcome():
    with pytest.raises(ParameterErrors) as caught:
        parse_survival_definition({"causes": {"boredom": "event", "accident": "maybe"}})
    assert "causes.boredom" in caught.value.errors
    assert "must be 'event' or 'censored'" in caught.value.errors["causes.accident"][0]


def test_default_plan_has_control_and_single_agent_contrasts_and_bliss():
    plan = default_analysis_plan(ARMS)
    assert {"treatment": "Combo", "reference": "IL-12"} in plan["contrasts"]
    assert {"treatment": "Combo", "reference": "CPA"} in plan["contrasts"]
    assert {"treatment": "IL-12", "reference": "Vehicle"} in plan["contrasts"]
    assert len(plan["contrasts"]) == 5
    assert plan["synergy_model"] == "bliss"
    assert default_analysis_plan(ARMS[:2])["synergy_model"] == "none"


def test_analysis_plan_rejects_unknown_arm_and_fixed_day_without_day():
    with pytest.raises(ParameterErrors) as caught:
        parse_analysis_plan(
            {
                "analysis_day_rule": "fixed_day",
                "contrasts": [{"treatment": "Nope", "reference": "Vehicle"}],
            },
            ["Vehicle", "IL-12"],
        )
    assert "'Nope' is not an arm" in caught.value.errors["contrasts[0].treatment"][0]
    assert caught.value.errors["analysis_day"] == ["give the study day of the analysis"]


def test_occurrence_changes_touch_only_occurrences_from_the_effective_date():
    day0 = dt.date(2025, 3, 3)
    old = expand_schedule("Q3D×4 from day 7", day0=day0)  # days 7, 10, 13, 16
    new = expand_schedule("Q2D×5 from day 7", day0=day0)  # days 7, 9, 11, 13, 15
    changes = occurrence_changes(old, new, effective_date=day0 + dt.timedelta(days=10))
    assert [o.study_day for o in changes.kept_before] == [7]
    assert [o.study_day for o in changes.unchanged_after] == [13]
    assert [o.study_day for o in changes.cancelled] == [10, 16]
    assert [o.study_day for o in changes.added] == [11, 15]
    assert changes.changes_anything
