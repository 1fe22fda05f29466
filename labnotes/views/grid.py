"""The measurement grid page and its one-cell save endpoint (contract: labnotes/capture/GRID.md).

Thin: the run is looked up through the user's scope (404 for anyone outside its lab), the page's
rows come from ``labnotes.selectors_grid`` and every cell is saved by
``labnotes.services.grid.save_grid_cell``, which answers with the status and JSON the grid
script expects.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from labnotes.selectors import blinding_for, list_runs_for_user
from labnotes.selectors_grid import Sort, grid_animals
from labnotes.services.common import RECORDERS
from labnotes.services.grid import save_grid_cell
from labnotes.services.measurements import CORRECTION_REASONS, annotate_capture, rules_for_run
from planner.types import AuthenticatedHttpRequest

_COLUMN_LABELS = {"length": "Length (mm)", "width": "Width (mm)", "height": "Height (mm)"}


def _run(request: AuthenticatedHttpRequest, pk: int) -> Any:
    run = annotate_capture(list_runs_for_user(request.user).filter(pk=pk), request.user).first()
    if run is None:
        raise Http404("No such run.")
    return run


@login_required
@require_GET
def run_grid(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The day's grid (``?day=YYYY-MM-DD``, default today in the lab's zone;
    ``?sort=tag`` for tag order instead of cage order)."""
    run = _run(request, pk)
    lab = run.study.lab
    today = lab.local_date(timezone.now())
    try:
        day = dt.date.fromisoformat(request.GET.get("day", "")) if request.GET.get("day") else today
    except ValueError:
        day = today
    sort: Sort = "tag" if request.GET.get("sort") == "tag" else "cage"
    rules = rules_for_run(run)
    axes = rules.axis_order
    blinding = blinding_for(request.user, run.study)
    animals = grid_animals(run, request.user, day=day, axes=axes, blinding=blinding, sort=sort)
    tag_attributes = rules.entry.tag_data_attributes()
    # Any time on the page in the lab's zone, as on every page (the server runs in UTC).
    with timezone.override(lab.zone):
        return render(
            request,
            "labnotes/grid.html",
            {
                "run": run,
                "study": run.study,
                "day": day,
                "study_day": (day - run.day0).days,
                "today": today,
                "previous_day": day - dt.timedelta(days=1),
                "next_day": day + dt.timedelta(days=1) if day < today else None,
                "sort": sort,
                "animals": animals,
                "axes": [(axis, _COLUMN_LABELS[axis]) for axis in axes],
                "columns": " ".join([*axes, "weight"]),
                "grid_order": rules.grid_order,
                "tag_prefix": tag_attributes.get("data-tag-prefix", ""),
                "tag_suffix": tag_attributes.get("data-tag-suffix", ""),
                "tag_pattern": tag_attributes.get("data-tag-pattern", ""),
                "recognises_tags": rules.entry.recognises_tags,
                "reasons_json": json.dumps([list(reason) for reason in CORRECTION_REASONS]),
                "reasons": CORRECTION_REASONS,
                "repeat_policy": rules.repeat_policy.value,
                "blinded": blinding.blinded,
                "may_record": getattr(run, "member_role", None) in RECORDERS,
            },
        )


@require_POST
def grid_cell_save(request: HttpRequest, pk: int) -> JsonResponse:
    """One cell (GRID.md): 201 saved, 200 replayed, 400/403/409/422 refused with ``error``."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return JsonResponse({"error": "You are logged out: log in again."}, status=403)
    run = annotate_capture(list_runs_for_user(user).filter(pk=pk), user).first()
    if run is None:
        return JsonResponse({"error": "No such run."}, status=404)
    answer = save_grid_cell(run=run, user=user, body=request.body, path=request.path)
    return JsonResponse(answer.body, status=answer.status)
