"""Stratified log-rank (run as a stratum of a pooled study) against R's
``survdiff(Surv(time_days, event) ~ group + strata(run))`` on seeded data of our own: three
runs of different size and hazard, tied days, censoring, a run in which one arm has no animal
and a run with no event in one arm."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import numpy as np
import pytest

from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.survival import logrank_test, stratified_logrank_test
from tests.support.requirements import require_r

R_SCRIPT = r"""
suppressMessages(library(survival))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1], stringsAsFactors = FALSE)
d$group <- factor(d$group, levels = unique(d$group))
s <- survdiff(Surv(time_days, event) ~ group + strata(run), data = d)
o <- if (is.matrix(s$obs)) rowSums(s$obs) else s$obs
e <- if (is.matrix(s$exp)) rowSums(s$exp) else s$exp
df <- sum(e > 0) - 1
cat(sprintf("%.15g", c(s$chisq, df, pchisq(s$chisq, df, lower.tail = FALSE), o, e)), sep = "\n")
"""


def _data(seed: int) -> tuple[list[float], list[int], list[str], list[str]]:
    rng = np.random.default_rng(seed)
    times: list[float] = []
    events: list[int] = []
    groups: list[str] = []
    runs: list[str] = []
    design = {
        "R1": {"Vehicle": (8, 0.12), "Drug A": (8, 0.07), "A + B": (8, 0.03)},
        "R2": {"Vehicle": (5, 0.2), "Drug A": (6, 0.1), "A + B": (5, 0.05)},
        "R3": {"Vehicle": (4, 0.15), "A + B": (4, 0.0)},  # no Drug A; no event in A + B
    }
    for run, arms in design.items():
        for arm, (n, hazard) in arms.items():
            for _ in range(n):
                follow_up = 28.0
                t = float(np.ceil(rng.exponential(1 / hazard))) if hazard > 0 else 99.0
                times.append(min(t, follow_up))
                events.append(1 if t <= follow_up and rng.random() > 0.1 else 0)
                groups.append(arm)
                runs.append(run)
    return times, events, groups, runs


def _r(tmp_path: Path, data: tuple[list[float], list[int], list[str], list[str]]) -> list[float]:
    require_r()
    path = tmp_path / "pooled.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time_days", "event", "group", "run"])
        writer.writerows(zip(*data, strict=True))
    script = tmp_path / "strata.R"
    script.write_text(R_SCRIPT)
    output = subprocess.run(
        ["Rscript", str(script), str(path)], check=True, capture_output=True, text=True
    ).stdout
    return [float(line) for line in output.split()]


@pytest.mark.parametrize("seed", [3, 17, 2024])
def test_stratified_logrank_matches_r_survdiff_with_strata(tmp_path: Path, seed: int) -> None:
    data = _data(seed)
    r = _r(tmp_path, data)
    ours = stratified_logrank_test(*data)
    assert ours.chi2 == pytest.approx(r[0], rel=1e-9)
    assert ours.df == int(r[1])
    assert ours.p == pytest.approx(r[2], rel=1e-8)
    assert list(ours.observed) == pytest.approx(r[3:6], rel=1e-12)
    assert list(ours.expected) == pytest.approx(r[6:9], rel=1e-9)
    # Stratifying matters: the unstratified test of the same animals differs.
    assert logrank_test(*data[:3]).chi2 != pytest.approx(ours.chi2, rel=1e-6)


def test_stratified_logrank_equals_plain_logrank_when_one_stratum() -> None:
    times, events, groups, _ = _data(5)
    plain = logrank_test(times, events, groups)
    one = stratified_logrank_test(times, events, groups, ["R"] * len(times))
    assert one.chi2 == pytest.approx(plain.chi2, rel=1e-12)
    assert one.p == pytest.approx(plain.p, rel=1e-12)


def test_stratified_logrank_refuses_strata_of_wrong_length() -> None:
    with pytest.raises(AnalysisInputError, match="one stratum per animal"):
        stratified_logrank_test([1.0, 2.0], [1, 0], ["a", "b"], ["R1"])
