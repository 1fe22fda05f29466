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
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from labnotes.middleware import LOCKED_STATUS
from labnotes.selectors import blinding_for, list_runs_for_user
from labnotes.selectors_grid import (
    GRID_INSTRUMENT_KINDS,
    Sort,
    grid_animals,
    grid_instrument_choices,
    grid_instruments_in_use,
)
from labnotes.services.common import RECORDERS
from labnotes.services.grid import save_grid_cell
from labnotes.services.locks import WriteRefused, refusals_as_errors
from labnotes.services.measurements import CORRECTION_REASONS, annotate_capture, rules_for_run
from planner.types import AuthenticatedHttpRequest

_COLUMN_LABELS = {"length": "Length (mm)", "width": "Width (mm)", "height": "Height (mm)"}


def _instrument_session_key(lab_id: int) -> str:
    return f"grid_instruments:{lab_id}"


def _chosen_instruments(request: HttpRequest, lab_id: int) -> dict[str, int]:
    """The grid's "instrument in use" of this lab, remembered in the session."""
    chosen = request.session.get(_instrument_session_key(lab_id)) or {}
    return {kind: pk for kind, pk in chosen.items() if isinstance(pk, int)}


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
    in_use = grid_instruments_in_use(lab.pk, _chosen_instruments(request, lab.pk))
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
                "instrument_choices": grid_instrument_choices(lab.pk),
                "instruments_in_use": {kind: item.pk for kind, item in in_use.items()},
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
    chosen = _chosen_instruments(request, run.study.lab_id)
    instruments = grid_instruments_in_use(run.study.lab_id, chosen) if chosen else None
    try:
        with refusals_as_errors(savepoint=False):  # the cell save is one transaction already
            answer = save_grid_cell(
                run=run, user=user, body=request.body, path=request.path, instruments=instruments
            )
    except WriteRefused as refused:  # run locked or study archived: the cell shows why
        return JsonResponse({"error": " ".join(refused.messages)}, status=LOCKED_STATUS)
    return JsonResponse(answer.body, status=answer.status)


@login_required
@require_POST
def grid_instrument(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Remember the caliper and balance in use on this lab's grid (the session, not the
    database: each reading records its instrument when it is saved)."""
    run = _run(request, pk)
    lab_id = run.study.lab_id
    choices = grid_instrument_choices(lab_id)
    chosen: dict[str, int] = {}
    for kind in GRID_INSTRUMENT_KINDS:
        text = request.POST.get(kind, "")
        offered = {str(instrument.pk): instrument.pk for instrument in choices[kind]}
        if text in offered:
            chosen[kind] = offered[text]
    request.session[_instrument_session_key(lab_id)] = chosen
    day = request.POST.get("day", "")
    sort = "tag" if request.POST.get("sort") == "tag" else "cage"
    query = f"?sort={sort}" + (f"&day={day}" if _is_date(day) else "")
    return redirect(reverse("run_grid", kwargs={"pk": run.pk}) + query)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
