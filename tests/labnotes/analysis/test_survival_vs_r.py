"""Survival numbers checked against R's survival package, run at test time on our own data.

The data sets are generated here (seeded), with tied days, censoring, a group whose curve sits at
exactly 0.5 on a stretch, and a group that ends flat at 0.5. R computes survfit (conf.type "log"),
quantile, survdiff (overall and each pair) and coxph (Efron ties); we compare.
"""

from __future__ import annotations

import csv
import itertools
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from labnotes.analysis.survival import (
    SurvivalData,
    analyze_survival,
    kaplan_meier,
    logrank_test,
)
from tests.support.requirements import require_r

CLOSED_FORM = 1e-6
ITERATIVE = 1e-4

R_SCRIPT = r"""
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
out <- args[2]
levels <- unique(d$group)
d$group <- factor(d$group, levels = levels)
fit <- survfit(Surv(time_days, event) ~ group, data = d, conf.type = "log")
strata <- sub("^group=", "", rep(names(fit$strata), fit$strata))
write.csv(data.frame(group = strata, time = fit$time, n_risk = fit$n.risk,
                     n_event = fit$n.event, surv = fit$surv, std_err_log = fit$std.err,
                     lower = fit$lower, upper = fit$upper),
          file.path(out, "km.csv"), row.names = FALSE)
q <- quantile(fit, 0.5)
write.csv(data.frame(group = sub("^group=", "", rownames(q$quantile)),
                     median = q$quantile[, 1], lower = q$lower[, 1], upper = q$upper[, 1]),
          file.path(out, "median.csv"), row.names = FALSE)
sd <- survdiff(Surv(time_days, event) ~ group, data = d)
pairs <- data.frame(a = character(), b = character(), chisq = numeric())
for (i in seq_along(levels)) for (j in seq_along(levels)) if (i < j) {
  s <- d[d$group %in% levels[c(i, j)], ]
  s$group <- droplevels(s$group)
  pd <- survdiff(Surv(time_days, event) ~ group, data = s)
  pairs <- rbind(pairs, data.frame(a = levels[i], b = levels[j], chisq = pd$chisq))
}
write.csv(pairs, file.path(out, "pairs.csv"), row.names = FALSE)
write.csv(data.frame(chisq = sd$chisq, df = length(sd$n) - 1,
                     p = pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE)),
          file.path(out, "logrank.csv"), row.names = FALSE)
cx <- coxph(Surv(time_days, event) ~ group, data = d, ties = "efron")
write.csv(data.frame(term = sub("^group", "", names(coef(cx))), coef = unname(coef(cx)),
                     se = sqrt(diag(vcov(cx)))),
          file.path(out, "cox.csv"), row.names = FALSE)
"""


def _generated_study(seed: int) -> SurvivalData:
    """Four arms of 8-10 mice, whole days (many ties), administrative censoring at day 45."""
    rng = np.random.default_rng(seed)
    animals: list[str] = []
    groups: list[str] = []
    times: list[float] = []
    events: list[int] = []
    for name, scale, n in (
        ("Vehicle", 14.0, 10),
        ("DrugA", 20.0, 9),
        ("DrugB", 26.0, 10),
        ("Combo", 40.0, 8),
    ):
        death = np.ceil(rng.weibull(2.0, n) * scale)
        dropout = np.ceil(rng.uniform(5, 80, n))
        time = np.minimum(np.minimum(death, dropout), 45.0)
        event = (death <= np.minimum(dropout, 45.0)).astype(int)
        for i in range(n):
            animals.append(f"{name}-{i}")
            groups.append(name)
            times.append(float(time[i]))
            events.append(int(event[i]))
    # A group whose S(t) is exactly 0.5 between day 9 and day 14, and one ending flat at 0.5.
    for i, (time, event) in enumerate([(4, 1), (9, 1), (14, 1), (20, 1)]):
        animals.append(f"Half-{i}")
        groups.append("Half")
        times.append(float(time))
        events.append(event)
    for i, (time, event) in enumerate([(5, 1), (5, 1), (12, 0), (25, 0)]):
        animals.append(f"Flat-{i}")
        groups.append("FlatEnd")
        times.append(float(time))
        events.append(event)
    return SurvivalData(tuple(animals), tuple(groups), tuple(times), tuple(events))


def _write(data: SurvivalData, path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["animal", "group", "time_days", "event"])
        writer.writerows(zip(data.animals, data.groups, data.time_days, data.event, strict=True))


def _read(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _num(text: str) -> float | None:
    return None if text in {"NA", "NaN", "Inf", ""} else float(text)


def _close(ours: float | None, theirs: float | None, rel: float) -> bool:
    if theirs is None or (isinstance(ours, float) and math.isnan(ours)):
        return ours is None or math.isnan(ours)
    return ours is not None and math.isclose(ours, theirs, rel_tol=rel, abs_tol=1e-12)


@pytest.fixture(scope="module", params=[11, 2024])
def r_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SurvivalData, Path]:
    rscript = require_r("survival")
    folder = tmp_path_factory.mktemp(f"survival_r_{request.param}")
    data = _generated_study(request.param)
    _write(data, folder / "data.csv")
    (folder / "run.R").write_text(R_SCRIPT)
    subprocess.run(
        [rscript, str(folder / "run.R"), str(folder / "data.csv"), str(folder)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return data, folder


def test_km_curve_matches_survfit_when_ties_and_censoring(r_run: tuple[SurvivalData, Path]) -> None:
    data, folder = r_run
    rows = _read(folder / "km.csv")
    groups = np.array(data.groups)
    compared = 0
    for group in dict.fromkeys(data.groups):
        mask = groups == group
        curve = kaplan_meier(np.array(data.time_days)[mask], np.array(data.event)[mask])
        theirs = [row for row in rows if row["group"] == group]
        assert [float(r["time"]) for r in theirs] == curve.time_days.tolist()
        assert [int(r["n_risk"]) for r in theirs] == curve.n_risk.tolist()
        assert [int(r["n_event"]) for r in theirs] == curve.n_event.tolist()
        for i, row in enumerate(theirs):
            assert _close(float(curve.survival[i]), _num(row["surv"]), CLOSED_FORM)
            if float(curve.survival[i]) > 0:
                assert _close(float(curve.std_err_log[i]), _num(row["std_err_log"]), CLOSED_FORM)
            assert _close(float(curve.lower[i]), _num(row["lower"]), CLOSED_FORM)
            assert _close(float(curve.upper[i]), _num(row["upper"]), CLOSED_FORM)
            compared += 1
    assert compared > 30


def test_median_and_its_ci_match_quantile_survfit(r_run: tuple[SurvivalData, Path]) -> None:
    data, folder = r_run
    analysis = analyze_survival(data, control="Vehicle")
    ours = {g.group: g.median for g in analysis.groups}
    for row in _read(folder / "median.csv"):
        median = ours[row["group"]]
        assert _close(median.median_days, _num(row["median"]), CLOSED_FORM), row
        assert _close(median.lower_days, _num(row["lower"]), CLOSED_FORM), row
        assert _close(median.upper_days, _num(row["upper"]), CLOSED_FORM), row
    assert ours["Half"].median_days == pytest.approx(11.5)
    assert ours["FlatEnd"].median_days == pytest.approx(15.0)


def test_logrank_overall_and_pairwise_match_survdiff(r_run: tuple[SurvivalData, Path]) -> None:
    data, folder = r_run
    (overall,) = _read(folder / "logrank.csv")
    result = logrank_test(data.time_days, data.event, data.groups)
    assert result.df == int(overall["df"])
    assert _close(result.chi2, float(overall["chisq"]), CLOSED_FORM)
    assert _close(result.p, float(overall["p"]), CLOSED_FORM)
    analysis = analyze_survival(data, control="Vehicle")
    pairs = {(p.a, p.b): p for p in analysis.pairwise}
    theirs = _read(folder / "pairs.csv")
    assert len(theirs) == len(pairs) == len(list(itertools.combinations(set(data.groups), 2)))
    for row in theirs:
        assert _close(pairs[(row["a"], row["b"])].chi2, float(row["chisq"]), CLOSED_FORM), row


def test_cox_efron_matches_coxph(r_run: tuple[SurvivalData, Path]) -> None:
    data, folder = r_run
    analysis = analyze_survival(data, control="Vehicle")
    ratios = {g.group: g.hazard_ratio for g in analysis.groups if g.hazard_ratio is not None}
    rows = _read(folder / "cox.csv")
    assert len(rows) == 5
    for row in rows:
        ratio = ratios[row["term"]]
        assert _close(ratio.coefficient, float(row["coef"]), ITERATIVE), row
        assert _close(ratio.se, float(row["se"]), ITERATIVE), row
