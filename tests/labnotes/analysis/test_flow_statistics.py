"""Derived flow statistics against hand-computed numbers: from counts, from frequencies of
parent alone, mixed, and undefined denominators."""

from __future__ import annotations

import pytest

from labnotes.analysis.flow_statistics import (
    DerivedStatistic,
    check_derived_statistic,
    compute_derived,
    default_derived_statistics,
)

CD45 = "Live/CD45+"
CD3 = "Live/CD45+/CD3+"
CD4 = "Live/CD45+/CD3+/CD4+"
CD8 = "Live/CD45+/CD3+/CD8+"
TREG = "Live/CD45+/CD3+/CD4+/CD25+Foxp3+"
PANEL = (CD45, CD3, CD4, CD8, TREG)


def _values(counts: dict[str, float], frequencies: dict[str, float]) -> dict[str, float | None]:
    definitions = default_derived_statistics(PANEL)
    values = compute_derived(definitions, counts, frequencies)
    return {d.label: values[d.key] for d in definitions}


def test_counts_give_percent_of_parent_of_cd45_and_the_ratio() -> None:
    counts = {"Live": 8000.0, CD45: 2560.0, CD3: 973.0, CD4: 505.0, CD8: 409.0, TREG: 61.0}
    values = _values(counts, {})
    # By hand: 2560/8000 = 32 %; 409/973 = 42.0349 %; 409/2560 = 15.9766 %;
    # 61/505 = 12.0792 %; 61/2560 = 2.3828 %; 409/61 = 6.7049.
    assert values["CD45+ % of parent (Live)"] == pytest.approx(32.0)
    assert values["CD8+ % of parent (CD3+)"] == pytest.approx(42.03494, rel=1e-6)
    assert values["CD8+ % of CD45+"] == pytest.approx(15.9765625)
    assert values["CD25+Foxp3+ % of parent (CD4+)"] == pytest.approx(12.07921, rel=1e-6)
    assert values["CD25+Foxp3+ % of CD45+"] == pytest.approx(2.3828125)
    assert values["CD8/Treg ratio"] == pytest.approx(6.70492, rel=1e-6)


def test_frequencies_of_parent_alone_multiply_down_the_path() -> None:
    frequencies = {CD45: 30.0, CD3: 40.0, CD4: 55.0, CD8: 35.0, TREG: 12.0}
    values = _values({}, frequencies)
    # CD8 of CD45 = 0.40 x 0.35 = 14 %; Treg of CD45 = 0.40 x 0.55 x 0.12 = 2.64 %;
    # CD8/Treg = 0.35 / (0.55 x 0.12) = 5.30303.
    assert values["CD8+ % of CD45+"] == pytest.approx(14.0)
    assert values["CD25+Foxp3+ % of CD45+"] == pytest.approx(2.64)
    assert values["CD8/Treg ratio"] == pytest.approx(5.303030, rel=1e-6)
    assert values["CD45+ % of parent (Live)"] == pytest.approx(30.0)


def test_missing_or_zero_denominators_are_undefined_not_zero() -> None:
    values = _values({CD45: 0.0, CD3: 0.0, CD8: 0.0, CD4: 0.0, TREG: 0.0}, {})
    assert values["CD8+ % of CD45+"] is None
    assert values["CD8/Treg ratio"] is None
    assert values["CD45+ % of parent (Live)"] is None  # Live not known


def test_definitions_are_checked_against_the_panel() -> None:
    wrong_ancestor = DerivedStatistic("k", "x", "percent_of", CD8, CD4)
    assert check_derived_statistic(wrong_ancestor, PANEL) == f"'{CD4}' is not a gate above '{CD8}'"
    unknown = DerivedStatistic("k", "x", "ratio", CD8, "Live/CD19+")
    assert (
        check_derived_statistic(unknown, PANEL) == "'Live/CD19+' is not a population of the panel"
    )
    assert check_derived_statistic(DerivedStatistic("k", "x", "ratio", CD8, TREG), PANEL) is None
