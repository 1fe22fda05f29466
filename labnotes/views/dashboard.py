"""The live run dashboard: group curves, TGI and survival so far — no report needed.

For members who may see the allocation it shows the same figures as the report (the report's
SVG code on the counted data of the moment), individual curves on demand (htmx), survival so
far, and the animals approaching or at an endpoint. A blinded member sees only what they
recorded themselves and the endpoint alerts, which carry no arm: nothing per arm at all.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.safestring import mark_safe

from labnotes.models import Measurement
from labnotes.reports.dashboard import build_dashboard, individual_curves_svg
from labnotes.selectors import blinding_for, list_endpoint_alerts_for_user, list_runs_for_user
from labnotes.services.report_input import (
    ReportDataError,
    build_report_input,
    plan_options,
    snapshot_run,
)
from planner.types import AuthenticatedHttpRequest

#: How many of a blinded member's own latest readings the dashboard lists.
OWN_READINGS = 30


def _run(request: AuthenticatedHttpRequest, pk: int) -> Any:
    return get_object_or_404(list_runs_for_user(request.user), pk=pk)


def _live_input(run: Any) -> Any:
    """The run's data of the moment as an (unblinded, plan-options) report input."""
    snapshot = snapshot_run(run)
    return build_report_input(
        run=run,
        snapshot=snapshot,
        kind="interim",
        blinded=False,
        options=plan_options(run.study, snapshot),
        generated_by="dashboard",
        generated_at=timezone.now(),
        bootstrap_resamples=0,
    )


@login_required
def run_dashboard(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    study = run.study
    blinding = blinding_for(request.user, study)
    alerts = [
        row for row in list_endpoint_alerts_for_user(request.user) if row["animal"].run_id == run.pk
    ]
    context: dict[str, Any] = {
        "run": run,
        "study": study,
        "blinding": blinding,
        "alerts": alerts,
        "updated_at": timezone.now(),
    }
    if not blinding.sees_allocation:
        context["own_readings"] = (
            Measurement.objects.filter(animal__run=run, voided_at__isnull=True)
            .filter(operator=request.user)
            .select_related("animal", "tumour")
            .order_by("-taken_at", "-pk")[:OWN_READINGS]
        )
        return render(request, "labnotes/dashboard.html", context)
    try:
        report_input = _live_input(run)
    except ReportDataError as error:
        context["not_ready"] = str(error)
        return render(request, "labnotes/dashboard.html", context)
    dashboard = build_dashboard(report_input)
    context.update(
        {
            "dashboard": dashboard,
            "growth_svg": mark_safe(dashboard.growth_svg) if dashboard.growth_svg else None,  # noqa: S308 - our own escaped SVG
            "survival_svg": mark_safe(dashboard.survival.svg) if dashboard.survival else None,  # noqa: S308
            "tgi_key": {
                "delta": "tgi_delta_percent",
                "volume": "tgi_volume_percent",
                "rtv": "tgi_rtv_percent",
            }[report_input.options.tgi_definition],
            "tgi_definition": report_input.options.tgi_definition,
            "analysed": len(report_input.animals),
        }
    )
    if getattr(request, "htmx", False) and request.GET.get("part") == "live":
        return render(request, "labnotes/_dashboard_live.html", context)
    return render(request, "labnotes/dashboard.html", context)


@login_required
def run_dashboard_individual(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Individual tumour curves per arm (loaded on demand: the figure is large)."""
    run = _run(request, pk)
    if not blinding_for(request.user, run.study).sees_allocation:
        raise Http404("No individual curves for this run.")
    try:
        svg = individual_curves_svg(_live_input(run))
    except ReportDataError:
        svg = None
    return render(
        request,
        "labnotes/_dashboard_individual.html",
        {"run": run, "svg": mark_safe(svg) if svg else None},  # noqa: S308 - our own escaped SVG
    )
