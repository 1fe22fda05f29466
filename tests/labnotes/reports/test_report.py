"""Study reports from a synthetic CT26-like study: numbers, artifacts, blinding, sections.

Pure tests (no database): run with ``pytest -p no:django tests/labnotes/reports``. The two full
builds are module-scoped because each takes seconds (the PDF layout and the mixed models).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from labnotes.reports import ReportArtifacts, build_report
from labnotes.reports import formatting as fmt
from labnotes.reports.bundle import render_bundle
from labnotes.reports.html import TGI_KEYS, render_html
from labnotes.reports.model import AnalysisOptions, ReportInput, differences_from_plan
from labnotes.reports.pdf import render_pdf
from labnotes.reports.results import compute_results
from labnotes.reports.synthetic import synthetic_study
from labnotes.reports.xlsx import render_xlsx
from tests.support.requirements import REPO_ROOT, require_executable

SENTINEL = "ARMLBL-7f3a"
LABELS = (
    f"{SENTINEL} vehicle",
    f"{SENTINEL} anti-PD-1",
    f"{SENTINEL} MEKi",
    f"{SENTINEL} anti-PD-1 + MEKi",
)
CODES = ("G1", "G2", "G3", "G4")
SENTINEL_REGIMENS = tuple(f"{label} 10 mg/kg i.p. Q3Dx4" for label in LABELS)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    executable = require_executable("pdftotext", "sudo apt-get install poppler-utils")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        [executable, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return result.stdout


def squash(text: str) -> str:
    """Collapse runs of spaces (pdftotext -layout pads columns) for substring checks."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def study() -> ReportInput:
    return synthetic_study(arm_names=LABELS)


@pytest.fixture(scope="module")
def built(study: ReportInput) -> ReportArtifacts:
    return build_report(study)


@pytest.fixture(scope="module")
def blinded() -> ReportArtifacts:
    return build_report(synthetic_study(arm_names=CODES, blinded=True, regimens=SENTINEL_REGIMENS))


def test_pdf_text_holds_tgi_and_logrank_numbers_of_results_json(
    built: ReportArtifacts, study: ReportInput, tmp_path: Path
) -> None:
    text = squash(pdf_text(built.pdf, tmp_path))
    growth = built.results["growth"]
    key = TGI_KEYS[study.options.tgi_definition]
    for group in growth["groups"]:
        assert fmt.number(group[key]) in text, group["group"]
        assert fmt.number(group["tc_percent"]) in text
        low, high = group["tgi_ci95"][study.options.tgi_definition]
        assert fmt.interval(low, high) in text
    logrank = built.results["survival"]["logrank"]
    assert (
        f"χ² = {fmt.number(logrank['chi2'], 2)}, df = {logrank['df']}, "
        f"p = {fmt.p_value(logrank['p'])}" in text
    )
    for pair in built.results["survival"]["pairwise"]:
        assert fmt.p_value(pair["p_holm"]) in text
    assert "Tumour volume (mm³)" in text
    assert "Days since treatment start" in text
    assert "% of baseline weight" in text


def test_pdf_leaves_per_animal_listing_to_xlsx_when_html_shows_it(
    built: ReportArtifacts, study: ReportInput, tmp_path: Path
) -> None:
    text = pdf_text(built.pdf, tmp_path)
    assert 'class="screen-only"><h3>Animals</h3>' in built.html
    last_animal = study.animals[-1].animal_id
    assert last_animal in built.html
    assert last_animal not in text
    assert "sheet Animals" in text


def test_every_manifest_command_reproduces_results_json(
    built: ReportArtifacts, tmp_path: Path
) -> None:
    with zipfile.ZipFile(io.BytesIO(built.bundle)) as archive:
        archive.extractall(tmp_path)
        names = archive.namelist()
    folder = tmp_path / names[0].split("/")[0]
    manifest = json.loads((folder / "manifest.json").read_text())
    results = json.loads((folder / "results.json").read_text())
    assert results == built.results
    keys = [entry["key"] for entry in manifest["commands"]]
    assert keys == ["growth", "synergy_tgi", "synergy_lmm", "survival"]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    for entry in manifest["commands"]:
        assert entry["argv"][:3] == ["python", "-m", "labnotes.analysis"]
        assert entry["command"].startswith("python -m labnotes.analysis ")
        completed = subprocess.run(
            [sys.executable, *entry["argv"][1:]],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert json.loads(completed.stdout) == results[entry["key"]], entry["command"]
    growth_command = next(e for e in manifest["commands"] if e["key"] == "growth")["command"]
    assert f"--day {results['growth']['day']}" in growth_command
    readme = (folder / "README.txt").read_text()
    assert "python -m labnotes.analysis growth --input growth.csv" in readme
    assert "no database" in readme


def test_bundle_csvs_start_at_each_animals_treatment_start(built: ReportArtifacts) -> None:
    with zipfile.ZipFile(io.BytesIO(built.bundle)) as archive:
        folder = archive.namelist()[0].split("/")[0]
        growth = archive.read(f"{folder}/growth.csv").decode().splitlines()
        survival = archive.read(f"{folder}/survival.csv").decode().splitlines()
    assert growth[0] == "animal,group,day,volume_mm3,tumour"
    assert survival[0] == "animal,group,time_days,event,cause"
    first_days = {}
    for line in growth[1:]:
        animal, _, day, *_ = line.split(",")
        first_days.setdefault(animal, day)
    assert set(first_days.values()) == {"0"}


def test_xlsx_has_data_sheets_and_prism_layouts(built: ReportArtifacts, study: ReportInput) -> None:
    book = openpyxl.load_workbook(io.BytesIO(built.xlsx))
    day = built.results["growth"]["day"]
    assert book.sheetnames == [
        "Report",
        "Animals",
        "Growth data",
        "Prism volume XY",
        f"Prism volume day {day}",
        "Prism best % change",
        "Body weight data",
        "Prism body weight XY",
        "Survival data",
        "Prism survival",
        "Assay data",
        "Assay comparisons",
        "Prism elisa IFN-\u03b3 serum d10",
        "Prism flow CD8+ of C tumour d10",
        "TGI summary",
    ]
    xy = book["Prism volume XY"]
    assert xy["A1"].value == "Tumour volume (mm³)"
    assert xy["A2"].value == "day"
    assert xy["B1"].value == LABELS[0]
    assert xy["L1"].value == LABELS[1]  # 10 animals per arm: columns B-K, then L
    first = xy["B2"].value
    volume_of = {(r.animal, r.day): r.volume_mm3 for r in study.growth}
    assert xy["B3"].value == volume_of[(first, 0.0)]
    assert xy["A3"].value == 0
    grouped = book[f"Prism volume day {day}"]
    assert [c.value for c in grouped[1]] == list(LABELS)
    for column, group in enumerate(built.results["growth"]["groups"], start=1):
        values = [grouped.cell(row=r, column=column).value for r in range(2, 30)]
        assert len([v for v in values if v is not None]) == group["n"]
    survival = book["Prism survival"]
    assert [c.value for c in survival[1]] == ["Days", *LABELS]
    events = sum(
        survival.cell(row=r, column=c).value or 0
        for r in range(2, survival.max_row + 1)
        for c in range(2, 6)
    )
    assert events == sum(g["events"] for g in built.results["survival"]["groups"])


def test_blinded_variant_contains_no_arm_label(
    blinded: ReportArtifacts, built: ReportArtifacts, tmp_path: Path
) -> None:
    # The sentinel is really there in the unblinded build, so absence below means something.
    assert SENTINEL in built.html and SENTINEL in pdf_text(built.pdf, tmp_path)
    assert SENTINEL not in blinded.html
    assert SENTINEL not in pdf_text(blinded.pdf, tmp_path)
    assert "withheld in the blinded variant" in blinded.html
    book = openpyxl.load_workbook(io.BytesIO(blinded.xlsx))
    cells = [
        str(c.value)
        for sheet in book
        for row in sheet.iter_rows()
        for c in row
        if c.value is not None
    ]
    assert "G4" in cells
    assert not [c for c in cells if SENTINEL in c]
    with zipfile.ZipFile(io.BytesIO(blinded.bundle)) as archive:
        for name in archive.namelist():
            assert SENTINEL not in archive.read(name).decode("utf-8"), name
    assert SENTINEL not in json.dumps(blinded.results, ensure_ascii=False)


def test_exploratory_watermark_lists_differences_when_options_differ_from_plan(
    tmp_path: Path,
) -> None:
    plan = AnalysisOptions(tgi_definition="delta", bootstrap_resamples=200)
    used = AnalysisOptions(analysis_day=10.0, tgi_definition="volume", bootstrap_resamples=200)
    differences = differences_from_plan(plan, used)
    assert differences == (
        "analysis day: plan default, used 10",
        "tgi definition: plan delta, used volume",
    )
    report = synthetic_study(
        arm_names=("Vehicle", "Drug A", "Drug B"),
        options=used,
        plan_differences=differences,
        with_survival=False,
        with_body_weight=False,
        with_assays=False,
    )
    results = compute_results(report)
    assert results.json["growth"]["day"] == 10
    html = render_html(report, results)
    text = squash(pdf_text(render_pdf(html), tmp_path))
    assert "EXPLORATORY" in text
    for difference in differences:
        assert difference in text
    final = render_html(
        dataclasses.replace(report, exploratory=False, plan_differences=()), results
    )
    # Only an exploratory report carries a page watermark; the final one is the plan's analysis.
    assert '<div class="watermark" aria-hidden="true">EXPLORATORY</div>' in html
    assert "EXPLORATORY" not in final and 'class="watermark"' not in final
    assert '<p class="kind">FINAL' in final


def test_sections_absent_when_their_data_are_absent() -> None:
    growth_only = synthetic_study(
        arm_names=("Vehicle", "Drug A", "Drug B"),
        with_survival=False,
        with_body_weight=False,
        with_assays=False,
        options=AnalysisOptions(bootstrap_resamples=100),
    )
    html = render_html(growth_only, compute_results(growth_only))
    assert 'id="growth"' in html
    for absent in ("survival", "body-weight", "assays", "synergy"):
        assert f'id="{absent}"' not in html
    survival_only = dataclasses.replace(synthetic_study(), growth=(), body_weight=(), assays=())
    results = compute_results(survival_only)
    assert "growth" not in results.json and "synergy_tgi" not in results.json
    html = render_html(survival_only, results)
    assert 'id="survival"' in html and 'id="growth"' not in html
    assert [c.key for c in results.commands] == ["survival"]


def test_synergy_leads_with_mixed_model_when_tumours_regress(built: ReportArtifacts) -> None:
    assert built.results["synergy_tgi"]["outside_0_100"] == ["combination"]
    assert built.results["synergy_leading"] == "lmm"
    html = built.html
    assert html.index("Mixed-model test over time") < html.index("Reference models on TGI")
    fold = built.results["synergy_tgi"]["fold_over_expected"]["bliss"]
    assert fmt.number(fold, 2) in html


def test_arrive_missing_items_are_marked(built: ReportArtifacts) -> None:
    assert '<td class="missing">MISSING</td>' in built.html
    assert "9 of 10 items filled" in built.html


def test_xlsx_and_bundle_bytes_are_identical_for_the_same_input(study: ReportInput) -> None:
    small = dataclasses.replace(
        study,
        survival=(),
        body_weight=(),
        assays=(),
        options=AnalysisOptions(bootstrap_resamples=50),
    )
    results = compute_results(small)
    assert render_xlsx(small, results) == render_xlsx(small, results)
    assert render_bundle(small, results) == render_bundle(small, results)


def test_sha256_of_each_artifact(built: ReportArtifacts) -> None:
    import hashlib

    files: dict[str, Any] = built.files
    assert set(built.sha256) == set(files)
    for name, data in files.items():
        assert built.sha256[name] == hashlib.sha256(data).hexdigest()
