"""ELISA curve fits checked against base R's ``nls`` on plates generated here (seeded).

R fits: 4PL with the self-starting ``SSfpl`` (A = bottom, B = top, xmid = ln ec50, scal = 1/hill),
a fixed-bottom curve with ``SSlogis`` (bottom 0), a 5PL written out explicitly, and a weighted
4PL (weights 1/od²). Parameters and standard errors must agree to 1e-4 (iterative fits).
"""

from __future__ import annotations

import csv
import math
import subprocess

import numpy as np
import pytest

from labnotes.analysis.elisa import CurveFit, CurveModel, CurveParameters, Weighting, fit_curve
from tests.support.requirements import require_r

ITERATIVE = 1e-4

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
out <- args[2]
ctl <- nls.control(maxiter = 1000, tol = 1e-6, minFactor = 1e-10)
rows <- list()
keep <- function(name, fit) {
  co <- summary(fit)$coefficients
  rows[[name]] <<- data.frame(fit = name, term = rownames(co), estimate = co[, 1],
                              se = co[, 2], sigma = summary(fit)$sigma)
}
# The self-starting models give the starting values; the refit tightens the convergence.
d$w <- 1 / d$od^2
d$one <- 1
tight <- function(formula, weighted = FALSE) {
  d$wt <- if (weighted) d$w else d$one
  first <- nls(formula, data = d, weights = wt)
  nls(formula, data = d, weights = wt, start = coef(first), control = ctl)
}
keep("4pl", tight(od ~ SSfpl(log(conc), A, B, xmid, scal)))
keep("fixed0", tight(od0 ~ SSlogis(log(conc), Asym, xmid, scal)))
keep("5pl", nls(od5 ~ A + (B - A) / (1 + exp((xmid - log(conc)) / scal))^g, data = d,
                start = list(A = 0.04, B = 2.6, xmid = log(12), scal = 1 / 1.05, g = 0.6),
                control = nls.control(maxiter = 1000, tol = 1e-6, minFactor = 1e-10)))
keep("4pl_w", tight(od ~ SSfpl(log(conc), A, B, xmid, scal), weighted = TRUE))
write.csv(do.call(rbind, rows), file.path(out, "fits.csv"), row.names = FALSE)
"""


def _plate(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    conc = np.repeat(1000.0 / 3.0 ** np.arange(11), 3)  # 11 threefold steps, triplicates
    truth4 = CurveParameters(CurveModel.FOUR_PL, 0.06, 2.7, 9.0, 1.15)
    truth0 = CurveParameters(CurveModel.FOUR_PL, 0.0, 2.3, 4.0, 0.95)
    truth5 = CurveParameters(CurveModel.FIVE_PL, 0.04, 2.6, 12.0, 1.05, 0.6)

    def noisy(curve: CurveParameters) -> np.ndarray:
        clean = curve.od(conc)
        return clean + rng.normal(0.0, 0.005 + 0.015 * clean)

    return {"conc": conc, "od": noisy(truth4), "od0": noisy(truth0), "od5": noisy(truth5)}


@pytest.fixture(scope="module", params=[5, 77])
def r_fits(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, np.ndarray], dict[tuple[str, str], dict[str, float]]]:
    rscript = require_r()
    folder = tmp_path_factory.mktemp(f"elisa_r_{request.param}")
    plate = _plate(request.param)
    with (folder / "plate.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(plate))
        writer.writerows(zip(*[plate[k].tolist() for k in plate], strict=True))
    (folder / "fit.R").write_text(R_SCRIPT)
    done = subprocess.run(
        [rscript, str(folder / "fit.R"), str(folder / "plate.csv"), str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with (folder / "fits.csv").open() as handle:
        rows = {
            (r["fit"], r["term"]): {k: float(r[k]) for k in ("estimate", "se", "sigma")}
            for r in csv.DictReader(handle)
        }
    return plate, rows


def _check(ours: float | None, theirs: float) -> None:
    assert ours is not None
    assert math.isclose(ours, theirs, rel_tol=ITERATIVE), (ours, theirs)


def _check_logistic(
    fit: CurveFit,
    rows: dict[tuple[str, str], dict[str, float]],
    name: str,
    bottom: str | None,
    top: str,
) -> None:
    p = fit.parameters
    se = fit.standard_errors
    if bottom is not None:
        _check(p.bottom, rows[(name, bottom)]["estimate"])
        _check(se["bottom"], rows[(name, bottom)]["se"])
    _check(p.top, rows[(name, top)]["estimate"])
    _check(se["top"], rows[(name, top)]["se"])
    _check(math.log(p.ec50), rows[(name, "xmid")]["estimate"])
    _check(se["log_ec50"], rows[(name, "xmid")]["se"])
    _check(1.0 / p.hill, rows[(name, "scal")]["estimate"])
    assert se["hill"] is not None
    _check(se["hill"] / p.hill**2, rows[(name, "scal")]["se"])  # delta method, exact at the MLE
    _check(fit.residual_se, rows[(name, top)]["sigma"])


def test_4pl_matches_nls_ssfpl_when_generated_plate(r_fits: tuple) -> None:
    plate, rows = r_fits
    fit = fit_curve(plate["conc"], plate["od"])
    _check_logistic(fit, rows, "4pl", "A", "B")


def test_fixed_bottom_matches_nls_sslogis_when_bottom_is_zero(r_fits: tuple) -> None:
    plate, rows = r_fits
    fit = fit_curve(plate["conc"], plate["od0"], fixed_bottom=0.0)
    assert fit.parameters.bottom == 0.0 and fit.standard_errors["bottom"] is None
    _check_logistic(fit, rows, "fixed0", None, "Asym")


def test_5pl_matches_nls_explicit_formula_when_asymmetric_plate(r_fits: tuple) -> None:
    plate, rows = r_fits
    fit = fit_curve(plate["conc"], plate["od5"], model=CurveModel.FIVE_PL)
    _check_logistic(fit, rows, "5pl", "A", "B")
    _check(fit.parameters.s, rows[("5pl", "g")]["estimate"])
    _check(fit.standard_errors["s"], rows[("5pl", "g")]["se"])


def test_weighted_4pl_matches_nls_weights_when_inverse_od_squared(r_fits: tuple) -> None:
    plate, rows = r_fits
    fit = fit_curve(plate["conc"], plate["od"], weighting=Weighting.INVERSE_OD_SQUARED)
    _check_logistic(fit, rows, "4pl_w", "A", "B")
    unweighted = fit_curve(plate["conc"], plate["od"])
    assert fit.parameters.ec50 != pytest.approx(unweighted.parameters.ec50, rel=1e-6)
