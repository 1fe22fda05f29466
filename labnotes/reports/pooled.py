"""Analyses of a report pooling several runs (cohorts) of one study.

Animals of different runs were implanted, randomized and measured at different times; pooling
them as one sample would mix the run-to-run variation into the arm comparison. So:

* **survival**: the log-rank test is stratified by run
  (:func:`labnotes.analysis.survival.stratified_logrank_test`, R
  ``survdiff(Surv(time, event) ~ group + strata(run))``), overall and each treated arm against
  the control, Holm-adjusted over the treated arms;
* **tumour growth**: the linear mixed model of ln volume
  (:func:`labnotes.analysis.growth.log_volume_mixed_model`) gets a random intercept per run,
  with animals (random intercept and slope) nested in runs — the model's cage structure, with
  the run as the cluster.

The descriptive curves and TGI of the pooled report are computed on all animals together (days
since each animal's treatment start). Pure: no Django.
"""

from __future__ import annotations

import math
from typing import Any

from labnotes.analysis.errors import AnalysisInputError
from labnotes.analysis.growth import log_volume_mixed_model
from labnotes.analysis.growth_data import build_growth_data
from labnotes.analysis.survival import holm_adjust, stratified_logrank_test
from labnotes.reports.model import ReportInput


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def pooled_survival(report: ReportInput) -> dict[str, Any] | None:
    """Run-stratified log-rank, overall and treated arms vs control (Holm); None unless the
    report pools runs and has survival rows."""
    if not report.pooled_runs or not report.survival:
        return None
    run_of = {a.animal_id: a.run for a in report.animals}
    rows = report.survival
    overall = stratified_logrank_test(
        [r.time_days for r in rows],
        [r.event for r in rows],
        [r.group for r in rows],
        [run_of.get(r.animal, "") for r in rows],
    )
    pairwise: list[dict[str, Any]] = []
    control = report.control
    if control is not None:
        treated = [
            arm for arm in report.arm_names if arm != control and any(r.group == arm for r in rows)
        ]
        tests = []
        for arm in treated:
            pair = [r for r in rows if r.group in (arm, control)]
            tests.append(
                stratified_logrank_test(
                    [r.time_days for r in pair],
                    [r.event for r in pair],
                    [r.group for r in pair],
                    [run_of.get(r.animal, "") for r in pair],
                )
            )
        adjusted = holm_adjust([t.p for t in tests])
        pairwise = [
            {"group": arm, "control": control, "chi2": t.chi2, "p": t.p, "p_holm": p_holm}
            for arm, t, p_holm in zip(treated, tests, adjusted, strict=True)
        ]
    return {
        "strata": list(report.pooled_runs),
        "chi2": overall.chi2,
        "df": overall.df,
        "p": overall.p,
        "vs_control": pairwise,
    }


def pooled_growth_model(
    report: ReportInput, *, baseline_day: float, last_day: float | None = None
) -> dict[str, Any] | None:
    """ln-volume mixed model with a random run intercept (animals nested in runs); None unless
    the report pools runs and has injected-tumour readings and a control arm."""
    if not report.pooled_runs or report.control is None:
        return None
    run_of = {a.animal_id: a.run for a in report.animals}
    rows = [r for r in report.growth if r.tumour == "injected"]
    if not rows:
        return None
    data = build_growth_data(
        [r.animal for r in rows],
        [r.group for r in rows],
        [r.day for r in rows],
        [math.nan if r.volume_mm3 is None else r.volume_mm3 for r in rows],
        cages=[run_of.get(r.animal, "") for r in rows],
    )
    try:
        model = log_volume_mixed_model(
            data,
            control=report.control,
            baseline_day=baseline_day,
            last_day=last_day,
            use_cages=True,
        )
    except AnalysisInputError as exc:
        return {"error": str(exc)}
    return {
        "random_effects": "run (intercept); animal within run (intercept and slope)",
        "method": model.method,
        "n_observations": model.n_observations,
        "growth_rate_per_day": {g: _finite(v) for g, v in model.growth_rate_per_day.items()},
        "growth_rate_se": {g: _finite(v) for g, v in model.growth_rate_se.items()},
        "contrasts": [
            {
                "name": c.name,
                "estimate": _finite(c.estimate),
                "se": _finite(c.se),
                "z": _finite(c.z),
                "p": _finite(c.p),
                "p_holm": _finite(c.p_holm),
            }
            for c in model.contrasts
        ],
    }


__all__ = ["pooled_growth_model", "pooled_survival"]
