# ruff: noqa: RUF001, RUF003  (γ in analyte names is intended)
"""Assay sections of the report: same-day samples compared across arms, endpoint samples apart.

The AssayRows are built here (the ELISA and flow selectors are tested with their own models).
The group comparisons are checked against R (``t.test`` Welch, ``wilcox.test``,
``p.adjust(method = "holm")``), an implementation independent of scipy.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from labnotes.reports.assays import assay_results
from labnotes.reports.bundle import render_bundle
from labnotes.reports.html import render_html
from labnotes.reports.model import AssayRow, ReportInput, ReportInputError
from labnotes.reports.results import compute_results
from labnotes.reports.synthetic import synthetic_study
from labnotes.reports.xlsx import render_xlsx
from tests.support.requirements import require_r

# Same-day serum on study day 10 (two arms have a tie, so wilcox.test uses the normal
# approximation there), a second day with too few controls for Welch, and endpoint samples.
DAY10 = {
    "Vehicle": [31.0, 25.5, 40.2, 28.8, 35.1],
    "Drug A": [44.0, 52.3, 38.9, 47.5, 60.1],
    "Drug B": [30.2, 33.0, 29.9, 36.4, 31.0],
    "Drug A + Drug B": [88.1, 102.4, 75.0, 96.3, 31.0],
}
DAY14 = {"Vehicle": [20.0], "Drug A": [41.0, 45.5], "Drug B": [], "Drug A + Drug B": [70.0, 90.0]}
ENDPOINT = [("Vehicle", "M090", 18, 12.5), ("Drug A + Drug B", "M091", 41, 3.25)]
SENTINEL_ANIMAL = "M-NOT-AN-ASSAY"


def _rows() -> tuple[AssayRow, ...]:
    rows: list[AssayRow] = []
    for day, table in ((10, DAY10), (14, DAY14)):
        for arm, values in table.items():
            for index, value in enumerate(values):
                animal = f"S{day}-{arm[:1]}{len(arm)}-{index}"
                rows.append(
                    AssayRow(
                        "elisa",
                        "IFN-γ",
                        animal,
                        arm,
                        value,
                        "pg/mL",
                        day,
                        "scheduled",
                        "serum",
                        f"BC-{animal}",
                    )
                )
    for arm, animal, day, value in ENDPOINT:
        rows.append(
            AssayRow(
                "elisa",
                "IFN-γ",
                animal,
                arm,
                value,
                "pg/mL",
                day,
                "endpoint",
                "serum",
                f"BC-{animal}",
            )
        )
    rows.append(
        AssayRow("flow", "CD8+ of CD45+", "M001", "Drug A", 12.5, "%", 10, "scheduled", "tumour")
    )
    return tuple(rows)


@pytest.fixture(scope="module")
def study() -> ReportInput:
    return dataclasses.replace(synthetic_study(), assays=_rows())


R_SCRIPT = r"""
d <- read.csv(commandArgs(trailingOnly = TRUE)[1], stringsAsFactors = FALSE)
out <- data.frame()
for (day in unique(d$day)) {
  s <- d[d$day == day, ]
  control <- s$value[s$arm == "Vehicle"]
  arms <- setdiff(unique(s$arm), "Vehicle")
  welch <- sapply(arms, function(a) {
    x <- s$value[s$arm == a]
    if (length(x) < 2 || length(control) < 2) NA else t.test(x, control)$p.value
  })
  mw <- sapply(arms, function(a) {
    x <- s$value[s$arm == a]
    suppressWarnings(wilcox.test(x, control, exact = (length(unique(c(x, control))) ==
      length(c(x, control))) && length(x) < 50 && length(control) < 50)$p.value)
  })
  out <- rbind(out, data.frame(day = day, arm = arms, welch = welch,
                               welch_holm = p.adjust(welch, "holm"), mw = mw,
                               mw_holm = p.adjust(mw, "holm")))
}
write.csv(out, stdout(), row.names = FALSE)
"""


def _r_tests(tmp_path: Path) -> dict[tuple[int, str], dict[str, float | None]]:
    require_r()
    data = tmp_path / "assay.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["day", "arm", "value"])
        for day, table in ((10, DAY10), (14, DAY14)):
            for arm, values in table.items():
                writer.writerows((day, arm, repr(v)) for v in values)
    script = tmp_path / "tests.R"
    script.write_text(R_SCRIPT)
    output = subprocess.run(
        ["Rscript", str(script), str(data)], check=True, capture_output=True, text=True
    ).stdout
    result: dict[tuple[int, str], dict[str, float | None]] = {}
    for row in csv.DictReader(io.StringIO(output)):
        result[(int(row["day"]), row["arm"])] = {
            key: None if row[key] == "NA" else float(row[key])
            for key in ("welch", "welch_holm", "mw", "mw_holm")
        }
    return result


def _close(ours: float | None, theirs: float | None) -> bool:
    if theirs is None:
        return ours is None
    return ours is not None and abs(ours - theirs) <= 1e-9 + 1e-7 * abs(theirs)


def test_same_day_comparisons_match_r_when_arms_sampled_on_the_same_day(
    study: ReportInput, tmp_path: Path
) -> None:
    expected = _r_tests(tmp_path)
    block = next(b for b in assay_results(study) if b["assay"] == "elisa")
    assert [d["study_day"] for d in block["same_day"]] == [10, 14]
    checked = 0
    for day_block in block["same_day"]:
        for comparison in day_block["comparisons"]:
            r = expected[(day_block["study_day"], comparison["group"])]
            assert _close(comparison["welch_p"], r["welch"]), (day_block["study_day"], comparison)
            assert _close(comparison["welch_p_holm"], r["welch_holm"])
            assert _close(comparison["mann_whitney_p"], r["mw"]), comparison
            assert _close(comparison["mann_whitney_p_holm"], r["mw_holm"])
            checked += 1
    # Day 10: three treated arms; day 14: Drug B has no sample, so two.
    assert checked == 5
    day14 = block["same_day"][1]
    assert {c["group"]: c["welch_p"] for c in day14["comparisons"]} == {
        "Drug A": None,
        "Drug A + Drug B": None,
    }
    assert [g["group"] for g in day14["groups"]] == ["Vehicle", "Drug A", "Drug A + Drug B"]


def test_endpoint_samples_listed_apart_and_not_compared_when_days_differ(
    study: ReportInput,
) -> None:
    block = next(b for b in assay_results(study) if b["assay"] == "elisa")
    assert block["endpoint"] == [
        {"animal": "M090", "group": "Vehicle", "study_day": 18, "sample": "BC-M090", "value": 12.5},
        {
            "animal": "M091",
            "group": "Drug A + Drug B",
            "study_day": 41,
            "sample": "BC-M091",
            "value": 3.25,
        },
    ]
    day10 = block["same_day"][0]
    vehicle = next(g for g in day10["groups"] if g["group"] == "Vehicle")
    # The endpoint value 12.5 is not among the same-day control values.
    assert vehicle["n"] == 5
    assert vehicle["mean"] == pytest.approx(sum(DAY10["Vehicle"]) / 5, abs=1e-12)
    flow = next(b for b in assay_results(study) if b["assay"] == "flow")
    assert flow["tissue"] == "tumour" and flow["endpoint"] == []
    # No control sample of CD8 that day: described, not compared.
    assert flow["same_day"][0]["comparisons"] == []


def test_assays_in_html_xlsx_tidy_csv_and_results_json_when_assay_rows_exist(
    study: ReportInput,
) -> None:
    results = compute_results(study)
    bundle = zipfile.ZipFile(io.BytesIO(render_bundle(study, results)))
    folder = bundle.namelist()[0].split("/")[0]
    from_bundle = json.loads(bundle.read(f"{folder}/results.json"))
    assert from_bundle["assays"] == json.loads(json.dumps(assay_results(study)))
    html = render_html(study, results)
    assert "IFN-γ (pg/mL), serum: same-day samples, study day 10" in html
    assert "IFN-γ (pg/mL), serum: endpoint samples (not compared; days differ)" in html
    assert "Flow cytometry: CD8+ of CD45+ (%), tumour" in html
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(study, results)), read_only=True)
    data = list(book["Assay data"].iter_rows(values_only=True))
    assert data[0][:6] == ("assay", "analyte", "tissue", "timing", "study_day", "sample")
    assert len(data) == 1 + len(study.assays)
    comparisons = list(book["Assay comparisons"].iter_rows(values_only=True))
    # Day 10: 4 arms, day 14: 3 arms with samples, flow day 10: 1 arm.
    assert len(comparisons) == 1 + 4 + 3 + 1
    assert "Prism elisa IFN-γ serum d10" in book.sheetnames
    assert "Prism elisa IFN-γ serum d14" in book.sheetnames
    tidy = bundle.read(f"{folder}/assays.csv").decode()
    lines = list(csv.DictReader(io.StringIO(tidy)))
    assert len(lines) == len(study.assays)
    endpoint = [line for line in lines if line["timing"] == "endpoint"]
    assert [(e["animal"], e["study_day"], e["value"]) for e in endpoint] == [
        ("M090", "18", "12.5"),
        ("M091", "41", "3.25"),
    ]


def test_non_finite_assay_value_refused_naming_animal_and_sample(study: ReportInput) -> None:
    bad = dataclasses.replace(
        study,
        assays=(
            AssayRow(
                "elisa",
                "IFN-γ",
                "M007",
                "Vehicle",
                float("nan"),
                "pg/mL",
                10,
                "scheduled",
                "serum",
                "BC-7",
            ),
        ),
    )
    with pytest.raises(ReportInputError, match=r"M007.*BC-7.*not a finite number"):
        assay_results(bad)
    assert SENTINEL_ANIMAL not in json.dumps(assay_results(study))
