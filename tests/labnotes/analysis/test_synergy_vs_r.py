"""Synergy numbers against R computed at test time on our own seeded 2 x 2 studies.

``nlme::lme(logRTV ~ 0 + Time:Group, random = ~ 0 + Time | Animal, method = "REML")`` refitted
per day gives the Bliss and HSA tests SynergyLMM reports (model-based covariance); base R gives
the TGI reference-model arithmetic and invivoSyn's AUC growth rates. Skips locally when R is
missing, fails under CI.
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
from pathlib import Path

import pytest

from labnotes.analysis import synergy
from labnotes.analysis.growth_data import read_growth_csv
from tests.labnotes.analysis.growth_fixtures import simulate_study, write_growth_csv
from tests.support.requirements import require_r

ARMS = synergy.SynergyArms("Vehicle", "Drug A", "Drug B", "A+B")
RATES = {"Vehicle": 0.08, "Drug A": 0.065, "Drug B": 0.055, "A+B": 0.025, "Other": 0.07}


def run_r(rscript: str, script: str, tmp_path: Path) -> list[dict[str, str]]:
    path = tmp_path / "check.R"
    path.write_text(script, encoding="utf-8")
    result = subprocess.run(
        [rscript, "--vanilla", str(path)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    synergy.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture
def study_csv(tmp_path: Path) -> Path:
    rows = simulate_study(
        seed=77,
        growth_rates=RATES,
        animals_per_group=8,
        days=tuple(range(0, 25, 3)),
        missing_fraction=0.08,
        noise_sd=0.2,
        rate_sd=0.012,
    )
    return write_growth_csv(tmp_path / "study.csv", rows)


ARM_OPTIONS = [
    "--control", "Vehicle", "--drug-a", "Drug A", "--drug-b", "Drug B", "--combination", "A+B",
]  # fmt: skip


def test_bliss_and_hsa_tests_by_day_match_nlme_when_refitted_per_day(
    study_csv: Path, tmp_path: Path
) -> None:
    rscript = require_r("nlme")
    script = f"""
suppressMessages(library(nlme))
d <- read.csv("{study_csv}", check.names = FALSE)
d <- d[d$group %in% c("Vehicle", "Drug A", "Drug B", "A+B"), ]
v0 <- d[d$day == 0, c("animal", "volume_mm3")]; names(v0)[2] <- "v0"
d <- merge(d, v0); d <- d[d$day > 0, ]
d$logRTV <- log(d$volume_mm3 / d$v0); d$Time <- d$day
d$Group <- factor(d$group, levels = c("Vehicle", "Drug A", "Drug B", "A+B"))
fit <- function(t) lme(logRTV ~ 0 + Time:Group, random = ~ 0 + Time | animal,
                       data = d[d$Time <= t, ], method = "REML")
full <- fixef(fit(max(d$Time)))
best <- if (full[2] <= full[3]) 2 else 3
z <- qnorm(0.975)
cat("day,method,estimate,se,ci,ci_low,ss,p\\n")
for (t in sort(unique(d$Time))[-1]) {{
  m <- fit(t); b <- fixef(m); V <- vcov(m)
  for (method in c("bliss", "hsa")) {{
    k <- if (method == "bliss") c(1, -1, -1, 1) else {{ v <- c(0, 0, 0, 1); v[best] <- -1; v }}
    est <- sum(k * b); se <- sqrt(drop(t(k) %*% V %*% k))
    cat(sprintf("%g,%s,%.15g,%.15g,%.15g,%.15g,%.15g,%.15g\\n", t, method, est, se,
        exp(est * t), exp((est - z * se) * t), -est / se, 2 * pnorm(-abs(est / se))))
  }}
}}
"""
    expected = {(float(r["day"]), r["method"]): r for r in run_r(rscript, script, tmp_path)}
    result = synergy.lmm_synergy(read_growth_csv(study_csv), ARMS)
    checked = 0
    for test in result.tests:
        if test.day == 3:
            assert test.estimate is None  # one time point after baseline: not estimable
            continue
        r = expected[(test.day, test.method)]
        assert test.estimate == pytest.approx(float(r["estimate"]), rel=1e-4)
        assert test.se == pytest.approx(float(r["se"]), rel=1e-4)
        assert test.combination_index == pytest.approx(float(r["ci"]), rel=1e-4)
        assert test.combination_index_ci is not None
        assert test.combination_index_ci[0] == pytest.approx(float(r["ci_low"]), rel=1e-4)
        assert test.synergy_score == pytest.approx(float(r["ss"]), rel=1e-4)
        assert test.p == pytest.approx(float(r["p"]), rel=1e-4)
        checked += 1
    assert checked == 2 * 7


def test_tgi_reference_models_match_r_arithmetic_when_each_definition_is_used(
    study_csv: Path, tmp_path: Path
) -> None:
    rscript = require_r()
    script = f"""
d <- read.csv("{study_csv}", check.names = FALSE)
e <- d[d$day == 21, ]; b <- d[d$day == 0, ]
both <- merge(e, b, by = c("animal", "group"), suffixes = c("", "_0"))
stat <- function(g, def) {{
  if (def == "volume") return(mean(e$volume_mm3[e$group == g]))
  x <- both[both$group == g, ]
  if (def == "delta") mean(x$volume_mm3 - x$volume_mm3_0) else mean(x$volume_mm3 / x$volume_mm3_0)
}}
cat("definition,a,b,obs,bliss,hsa,ra,fold_bliss\\n")
for (def in c("volume", "delta", "rtv")) {{
  c0 <- stat("Vehicle", def)
  a <- 1 - stat("Drug A", def) / c0; bb <- 1 - stat("Drug B", def) / c0
  o <- 1 - stat("A+B", def) / c0
  bliss <- 1 - (1 - a) * (1 - bb)
  cat(sprintf("%s,%.15g,%.15g,%.15g,%.15g,%.15g,%.15g,%.15g\\n", def, 100 * a, 100 * bb,
      100 * o, 100 * (o - bliss), 100 * (o - max(a, bb)), 100 * (o - a - bb), o / bliss))
}}
"""
    for r in run_r(rscript, script, tmp_path):
        options = ["--day", "21", "--definition", r["definition"], "--bootstrap", "50"]
        output = synergy.run(parse(["--input", str(study_csv), *ARM_OPTIONS, *options]))
        tgi = output["tgi_percent"]
        score = output["synergy_score"]
        fold = output["fold_over_expected"]
        assert isinstance(tgi, dict) and isinstance(score, dict) and isinstance(fold, dict)
        assert tgi["drug_a"] == pytest.approx(float(r["a"]), rel=1e-9)
        assert tgi["drug_b"] == pytest.approx(float(r["b"]), rel=1e-9)
        assert output["observed_tgi_percent"] == pytest.approx(float(r["obs"]), rel=1e-9)
        for model in ("bliss", "hsa", "ra"):
            assert score[model] == pytest.approx(float(r[model]), rel=1e-9, abs=1e-9)
        assert fold["bliss"] == pytest.approx(float(r["fold_bliss"]), rel=1e-9)


def test_auc_growth_rates_match_r_when_animals_have_missing_days(
    study_csv: Path, tmp_path: Path
) -> None:
    rscript = require_r()
    script = f"""
d <- read.csv("{study_csv}", check.names = FALSE)
d <- d[d$day <= 18, ]; d <- d[order(d$animal, d$day), ]
egr <- sapply(split(d, d$animal), function(a) {{
  x <- a$day; y <- log(a$volume_mm3 + 1); span <- max(x) - min(x)
  auc <- sum(diff(x) * (head(y, -1) + tail(y, -1)) / 2)
  2 * (auc - y[1] * span) / span^2
}})
grp <- tapply(d$group, d$animal, function(g) g[1])[names(egr)]
m <- tapply(egr, grp, mean)
s <- exp((m - m["Vehicle"]) * 18)
cat("name,value\\n")
for (g in names(m)) cat(sprintf("egr:%s,%.15g\\n", g, m[g]))
cat(sprintf("ci,%.15g\\nss,%.15g\\n", s["A+B"] / (s["Drug A"] * s["Drug B"]),
    100 * (s["Drug A"] * s["Drug B"] - s["A+B"])))
"""
    r = {row["name"]: float(row["value"]) for row in run_r(rscript, script, tmp_path)}
    result = synergy.auc_synergy(read_growth_csv(study_csv), ARMS, day=18)
    for group in ARMS.as_tuple():
        assert result.egr[group] == pytest.approx(r[f"egr:{group}"], rel=1e-10)
    assert result.combination_index == pytest.approx(r["ci"], rel=1e-10)
    assert result.synergy_score == pytest.approx(r["ss"], rel=1e-10)
