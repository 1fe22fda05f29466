"""The synergy model chosen for a report: the engine runs it, the report leads with it."""

from __future__ import annotations

from labnotes.analysis.growth_data import read_growth_csv
from labnotes.analysis.synergy import SynergyArms as EngineArms
from labnotes.analysis.synergy import auc_synergy
from labnotes.reports.html import render_html
from labnotes.reports.model import AnalysisOptions, SynergyArms
from labnotes.reports.results import compute_results
from labnotes.reports.synthetic import synthetic_study
from labnotes.reports.tidy import GROWTH_CSV

ARMS = SynergyArms("Vehicle", "Drug A", "Drug B", "Drug A + Drug B")


def _study(**options: object) -> object:
    return synthetic_study(
        animals_per_arm=6,
        options=AnalysisOptions(synergy_arms=ARMS, bootstrap_resamples=200, **options),  # type: ignore[arg-type]
    )


def test_auc_synergy_reported_and_leads_when_auc_model_chosen(tmp_path: object) -> None:
    study = _study(synergy_model="auc")
    results = compute_results(study)  # type: ignore[arg-type]
    auc = results.json["synergy_auc"]
    assert results.json["synergy_leading"] == "auc"
    assert "synergy_auc" in {c.key for c in results.commands}
    # The same numbers from the analysis function on the bundle's own CSV.
    path = tmp_path / GROWTH_CSV  # type: ignore[operator]
    path.write_text(results.files[GROWTH_CSV])
    direct = auc_synergy(
        read_growth_csv(path, tumour="injected"),
        EngineArms(ARMS.control, ARMS.drug_a, ARMS.drug_b, ARMS.combination),
        day=auc["day"],
    )
    assert auc["combination_index"] == direct.combination_index
    assert auc["n"] == direct.n
    html = render_html(study, results)  # type: ignore[arg-type]
    assert "Area under the growth curves (invivoSyn)" in html
    assert html.index("Area under the growth curves (invivoSyn)") < html.index(
        "Reference models on TGI"
    )
    assert "Synergy model chosen for this report: the area under the growth curves" in html


def test_reference_model_marked_and_no_auc_when_response_additivity_chosen() -> None:
    study = _study(synergy_model="tgi", synergy_reference="ra")
    results = compute_results(study)  # type: ignore[arg-type]
    assert "synergy_auc" not in results.json
    assert results.json["synergy_reference"] == "ra"
    html = render_html(study, results)  # type: ignore[arg-type]
    assert "Response additivity (pre-specified)" in html
    assert "Bliss independence (pre-specified)" not in html
    assert "Area under the growth curves (invivoSyn)" not in html


def test_mixed_model_leads_when_lmm_chosen_even_without_regression() -> None:
    study = _study(synergy_model="lmm")
    results = compute_results(study)  # type: ignore[arg-type]
    if "synergy_lmm" in results.json:
        assert results.json["synergy_leading"] == "lmm"
        html = render_html(study, results)  # type: ignore[arg-type]
        assert "Synergy model chosen for this report: the mixed model" in html
    else:  # the mixed model did not converge on this data: said so, TGI leads
        assert any("mixed model" in w for w in results.warnings)
        assert results.json["synergy_leading"] == "tgi"
