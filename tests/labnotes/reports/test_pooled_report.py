"""A report pooling two runs: run as a stratum of the log-rank test and a random effect of the
mixed model; the numbers come from the analysis functions (the stratified log-rank is checked
against R in tests/labnotes/analysis/test_stratified_logrank_vs_r.py)."""

from __future__ import annotations

import dataclasses

import pytest

from labnotes.analysis.survival import holm_adjust, logrank_test, stratified_logrank_test
from labnotes.reports.html import render_html
from labnotes.reports.model import ReportInput
from labnotes.reports.results import compute_results
from labnotes.reports.synthetic import synthetic_study


def _prefixed(study: ReportInput, run: str) -> ReportInput:
    def name(animal: str) -> str:
        return f"{run}/{animal}"

    return dataclasses.replace(
        study,
        animals=tuple(
            dataclasses.replace(a, animal_id=name(a.animal_id), run=run) for a in study.animals
        ),
        growth=tuple(dataclasses.replace(r, animal=name(r.animal)) for r in study.growth),
        body_weight=tuple(dataclasses.replace(r, animal=name(r.animal)) for r in study.body_weight),
        survival=tuple(dataclasses.replace(r, animal=name(r.animal)) for r in study.survival),
        assays=(),
    )


@pytest.fixture(scope="module")
def pooled() -> ReportInput:
    first = _prefixed(synthetic_study(animals_per_arm=6, seed=1), "R1")
    second = _prefixed(synthetic_study(animals_per_arm=5, seed=2), "R2")
    return dataclasses.replace(
        first,
        run_code="R1 + R2",
        animals=first.animals + second.animals,
        growth=first.growth + second.growth,
        body_weight=first.body_weight + second.body_weight,
        survival=first.survival + second.survival,
        options=dataclasses.replace(first.options, bootstrap_resamples=200),
    )


def test_pooled_report_stratifies_logrank_by_run_when_runs_are_pooled(
    pooled: ReportInput,
) -> None:
    assert pooled.pooled_runs == ("R1", "R2")
    results = compute_results(pooled)
    stratified = results.json["pooled"]["survival_stratified"]
    run_of = {a.animal_id: a.run for a in pooled.animals}
    rows = pooled.survival
    direct = stratified_logrank_test(
        [r.time_days for r in rows],
        [r.event for r in rows],
        [r.group for r in rows],
        [run_of[r.animal] for r in rows],
    )
    assert stratified["strata"] == ["R1", "R2"]
    assert (stratified["chi2"], stratified["df"], stratified["p"]) == (
        direct.chi2,
        direct.df,
        direct.p,
    )
    # The unstratified test of the same animals is a different number: stratifying is real.
    assert logrank_test(
        [r.time_days for r in rows], [r.event for r in rows], [r.group for r in rows]
    ).chi2 != pytest.approx(direct.chi2, rel=1e-6)
    pairs = stratified["vs_control"]
    assert [p["group"] for p in pairs] == ["Drug A", "Drug B", "Drug A + Drug B"]
    assert [p["p_holm"] for p in pairs] == holm_adjust([p["p"] for p in pairs])


def test_pooled_mixed_model_has_a_run_random_effect_when_runs_are_pooled(
    pooled: ReportInput,
) -> None:
    results = compute_results(pooled)
    model = results.json["pooled"].get("growth_run_effect")
    assert model is not None, results.warnings
    assert model["random_effects"].startswith("run (intercept)")
    assert len(model["contrasts"]) == 3
    assert model["n_observations"] == sum(
        1 for r in pooled.growth if r.tumour == "injected" and r.day <= model["last_day"]
    )
    html = render_html(pooled, results)
    assert "This report pools the runs R1, R2" in html
    assert "Log-rank test stratified by run" in html
    assert "random effects: run (intercept)" in html
    assert "run" in results.files["animals.csv"].splitlines()[0].split(",")


def test_run_report_has_no_pooled_section_when_one_run() -> None:
    single = _prefixed(synthetic_study(animals_per_arm=4, seed=3), "R1")
    assert single.pooled_runs == ()
    results = compute_results(
        dataclasses.replace(
            single, options=dataclasses.replace(single.options, bootstrap_resamples=50)
        )
    )
    assert "pooled" not in results.json
    assert "run" not in results.files["animals.csv"].splitlines()[0].split(",")
