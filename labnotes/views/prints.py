"""Printed documents of a run: the daily worksheet (PDF and HTML print view), cage cards and
animal labels. What a reader may see is decided in ``labnotes.services.prints``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from labnotes.documents import (
    LabelSize,
    render_animal_labels_pdf,
    render_cage_cards_pdf,
    render_worksheet_html,
    render_worksheet_pdf,
)
from labnotes.selectors import (
    list_cages_for_user,
    list_run_cages_for_user,
    list_runs_for_user,
    list_tasks_for_day,
)
from labnotes.services import prints as print_services
from planner.types import AuthenticatedHttpRequest

_URL_NAMES = {"cage": "cage_detail", "animal": "animal_detail", "run": "run_detail"}


def _url_for(request: HttpRequest) -> Any:
    def url_for(kind: str, pk: int) -> str:
        return request.build_absolute_uri(reverse(_URL_NAMES[kind], kwargs={"pk": pk}))

    return url_for


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _worksheet(request: HttpRequest, pk: int) -> Any:
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    lab = run.study.lab
    try:
        day = dt.date.fromisoformat(request.GET["day"]) if request.GET.get("day") else None
    except ValueError:
        day = None
    day = day or lab.local_date(timezone.now())
    room = request.GET.get("room", "")
    dosers = request.GET.get("copy") == "dosers"
    if dosers and not print_services.may_print_dosers_copy(request.user, run.study):
        raise PermissionDenied("The dosers' copy is for members who may dose.")
    tasks = list_tasks_for_day(request.user, day=day, room=room or None)
    return print_services.build_worksheet(
        user=request.user, run=run, tasks=tasks, day=day, room=room, dosers_copy=dosers
    )


@login_required
@require_GET
def worksheet_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    worksheet = _worksheet(request, pk)
    suffix = "-dosers" if worksheet.dosers_copy else ""
    return _pdf(
        render_worksheet_pdf(worksheet),
        f"worksheet-{worksheet.study_code}-{worksheet.run_code}-{worksheet.day}{suffix}.pdf",
    )


@login_required
@require_GET
def worksheet_html(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The browser's print view: the renderer's self-contained HTML. Its one <style> block gets
    this response's CSP nonce (the policy refuses inline style otherwise)."""
    worksheet = _worksheet(request, pk)
    nonce = getattr(request, "csp_nonce", "")
    html = (
        render_worksheet_html(worksheet)
        .replace("<style>", f'<link rel="icon" href="data:,"><style nonce="{nonce}">', 1)
        # One main landmark, so screen readers can jump to the sheet.
        .replace("<body>", "<body><main>", 1)
        .replace("</body>", "</main></body>", 1)
    )
    response = HttpResponse(html)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def run_cage_cards(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    size: LabelSize = "thermal_label" if request.GET.get("size") == "thermal_label" else "cage_card"
    cages = list(list_run_cages_for_user(request.user, run))
    cards = print_services.build_cage_cards(
        user=request.user, run=run, cages=cages, url_for=_url_for(request)
    )
    return _pdf(
        render_cage_cards_pdf(cards, size=size), f"cage-cards-{run.study.code}-{run.code}.pdf"
    )


@login_required
@require_GET
def cage_card(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cage = get_object_or_404(list_cages_for_user(request.user).select_related("run__study"), pk=pk)
    if cage.run is None:
        raise PermissionDenied("A shared cage has no run to print a card for.")
    size: LabelSize = "thermal_label" if request.GET.get("size") == "thermal_label" else "cage_card"
    cards = print_services.build_cage_cards(
        user=request.user, run=cage.run, cages=[cage], url_for=_url_for(request)
    )
    return _pdf(render_cage_cards_pdf(cards, size=size), f"cage-card-{cage.label}.pdf")


@login_required
@require_GET
def run_animal_labels(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    size: LabelSize = "cage_card" if request.GET.get("size") == "cage_card" else "thermal_label"
    labels = print_services.build_animal_labels(
        user=request.user, run=run, url_for=_url_for(request)
    )
    return _pdf(
        render_animal_labels_pdf(labels, size=size),
        f"animal-labels-{run.study.code}-{run.code}.pdf",
    )
