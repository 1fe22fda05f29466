"""Welfare pages: the observation sheet of a run's day (one row per animal, keyboard first) and
an animal's endpoint page (its episodes and the endpoint record). Objects are found through
scoped selectors first, so another lab's people get 404; nothing here shows an arm."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from labnotes.models import EndpointCause, StudyRun, Tumour
from labnotes.selectors import list_animals_for_user, list_runs_for_user
from labnotes.selectors_welfare import (
    SheetRow,
    list_endpoint_records_for_user,
    list_episodes_for_user,
    observation_sheet,
    weight_projections,
)
from labnotes.services.endpoint_status import welfare_limits
from labnotes.services.endpoints import record_endpoint, survival_causes
from labnotes.services.locks import refusals_as_errors
from labnotes.services.welfare import UlcerInput, record_observation
from labnotes.views.common import add_service_errors
from planner.domain.protocol_parameters import ULCERATION_LEVELS, ScoreItem
from planner.models.ethics import Severity
from planner.types import AuthenticatedHttpRequest

# -- the observation sheet -----------------------------------------------------------------------


@dataclass
class ItemCell:
    index: int
    item: ScoreItem
    name: str
    value: str


@dataclass
class UlcerCell:
    tumour: Tumour
    name: str
    value: str
    diameter_name: str
    diameter: str


@dataclass
class RowView:
    """One animal's row with what was typed (kept after a refused save) and its errors."""

    sheet: SheetRow
    prefix: str
    items: list[ItemCell]
    ulcers: list[UlcerCell]
    notes: str = ""
    normal: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def touched(self) -> bool:
        return (
            self.normal
            or bool(self.notes)
            or any(cell.value != "" for cell in self.items)
            or any(cell.value != "" or cell.diameter != "" for cell in self.ulcers)
        )


def _day(request: HttpRequest, run: StudyRun) -> dt.date:
    lab = run.study.lab
    raw = request.GET.get("day") or request.POST.get("day") or ""
    try:
        return dt.date.fromisoformat(raw) if raw else lab.local_date(timezone.now())
    except ValueError:
        return lab.local_date(timezone.now())


def _rows(
    sheet_rows: list[SheetRow], items: tuple[ScoreItem, ...], data: Any, *, ulceration: bool
) -> list[RowView]:
    rows = []
    for sheet_row in sheet_rows:
        prefix = f"a{sheet_row.animal.pk}"
        rows.append(
            RowView(
                sheet=sheet_row,
                prefix=prefix,
                items=[
                    ItemCell(
                        index,
                        item,
                        f"{prefix}-item{index}",
                        str(data.get(f"{prefix}-item{index}", "")),
                    )
                    for index, item in enumerate(items)
                ],
                ulcers=[
                    UlcerCell(
                        tumour,
                        f"{prefix}-ulcer{tumour.pk}",
                        str(data.get(f"{prefix}-ulcer{tumour.pk}", "")),
                        f"{prefix}-diameter{tumour.pk}",
                        str(data.get(f"{prefix}-diameter{tumour.pk}", "")).strip(),
                    )
                    for tumour in (sheet_row.tumours if ulceration else [])
                ],
                notes=str(data.get(f"{prefix}-notes", "")).strip(),
                normal=data.get(f"{prefix}-normal") == "on",
            )
        )
    return rows


def _observed_at(run: StudyRun, day: dt.date, raw: str) -> dt.datetime:
    try:
        clock = dt.time.fromisoformat(raw) if raw else None
    except ValueError:
        raise ValidationError({"observed_time": f"'{raw}' is not a time (HH:MM)."}) from None
    lab = run.study.lab
    now = timezone.now()
    if clock is None:
        if day == lab.local_date(now):
            return now
        raise ValidationError({"observed_time": "Give the time of the observations."})
    return dt.datetime.combine(day, clock, tzinfo=lab.zone)


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{name.replace('_', ' ')}: {' '.join(item.messages)}"
            if name != "__all__"
            else " ".join(item.messages)
            for name, items in error.error_dict.items()
            for item in items
        ]
    return list(error.messages)


@login_required
@require_http_methods(["GET", "POST"])
def run_observations(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The day's clinical observations of a run: a row per animal with the score sheet's items,
    ulceration per tumour and notes. Only rows with something entered are saved, all or none:
    a refused row keeps every typed value and names the animal, the item and the reason."""
    run = get_object_or_404(list_runs_for_user(request.user).select_related("study__lab"), pk=pk)
    day = _day(request, run)
    limits = welfare_limits(run.study)
    sheet = limits.score_sheet
    items = sheet.items if sheet is not None else ()
    ulceration = sheet is None or sheet.ulceration_per_tumour
    data = request.POST if request.method == "POST" else {}
    rows = _rows(
        observation_sheet(request.user, run, day, limits=limits),
        items,
        data,
        ulceration=ulceration,
    )
    observed_time = str(data.get("observed_time", "")) if data else ""
    page_error = ""
    if request.method == "POST":
        touched = [row for row in rows if row.touched]
        saved: list[Any] = []
        try:
            observed_at = _observed_at(run, day, observed_time)
        except ValidationError as error:
            page_error = " ".join(_messages(error))
            touched = []
        if not touched and not page_error:
            page_error = "Nothing entered: score a row (or tick “All normal”) first."
        try:
            with transaction.atomic():
                for row in touched:
                    scores = {
                        cell.item.name: "0" if row.normal and cell.value == "" else cell.value
                        for cell in row.items
                        if cell.value != "" or row.normal
                    }
                    ulcers = [
                        UlcerInput(
                            cell.tumour.pk,
                            "0" if row.normal and cell.value == "" else cell.value,
                            cell.diameter or None,
                        )
                        for cell in row.ulcers
                        if cell.value != "" or row.normal or cell.diameter
                    ]
                    try:
                        with refusals_as_errors():
                            result = record_observation(
                                animal=row.sheet.animal,
                                observed_at=observed_at,
                                observer=request.user,
                                scores=scores,
                                ulceration=ulcers,
                                notes=row.notes,
                                limits=limits,
                            )
                    except ValidationError as error:
                        row.errors = _messages(error)
                    else:
                        saved.append((row, result))
                if any(row.errors for row in touched):
                    transaction.set_rollback(True)
        except PermissionDenied as error:
            page_error = str(error)
            saved = []
        if touched and not page_error and not any(row.errors for row in touched):
            reached = [r for r, result in saved if result.evaluation.level == "reached"]
            checks = sum(len(result.checks_created) for _, result in saved)
            text = f"{len(saved)} observation(s) saved."
            if checks:
                text += f" {checks} extra check(s) planned by the escalation rules."
            messages.success(request, text)
            for row in reached:
                messages.warning(
                    request,
                    f"Animal {row.sheet.animal.tag} reached a humane endpoint: the study "
                    "director, you and the veterinarians are alerted.",
                )
            return redirect(f"{request.path}?day={day.isoformat()}")
    with timezone.override(run.study.lab.zone):
        response = render(
            request,
            "labnotes/observation_sheet.html",
            {
                "run": run,
                "day": day,
                "rows": rows,
                "items": items,
                "ulceration": ulceration,
                "ulcer_levels": ULCERATION_LEVELS,
                "record_diameter": sheet is None or sheet.record_ulcer_diameter,
                "observed_time": observed_time,
                "page_error": page_error,
                "row_errors": [row for row in rows if row.errors],
                "sheet_version": limits.score_sheet_version_id,
                "previous_day": day - dt.timedelta(days=1),
                "next_day": day + dt.timedelta(days=1),
            },
            status=400 if request.method == "POST" else 200,
        )
    return response


# -- the endpoint page ---------------------------------------------------------------------------


class EndpointForm(forms.Form):
    cause = forms.ChoiceField(label="Cause")
    occurred_at = forms.DateTimeField(
        label="Euthanized or found at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    last_seen_alive_at = forms.DateTimeField(
        label="Last seen alive at",
        required=False,
        help_text="Required when the animal was found dead: later caliper readings are voided.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    actual_severity = forms.ChoiceField(
        label="Actual severity",
        required=False,
        choices=[("", "— choose —"), *Severity.choices],
        help_text="EU 2010/63 actual severity of the procedures, as the animal leaves the study.",
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, outcomes: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cause"].choices = [("", "— choose —")] + [  # type: ignore[attr-defined]
            (value, f"{label} ({outcomes.get(value, 'censored')})")
            for value, label in EndpointCause.choices
        ]


@login_required
@require_http_methods(["GET", "POST"])
def animal_endpoint(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """An animal's endpoint episodes (time since the first reading at the limit) and its
    endpoint record, with the form to record how and when it left the study."""
    animal = get_object_or_404(
        list_animals_for_user(request.user).select_related("run__study__lab"), pk=pk
    )
    run = animal.run
    lab = run.study.lab
    outcomes = survival_causes(run.study)
    zone = lab.zone
    form = EndpointForm(request.POST or None, outcomes=outcomes)
    if request.method == "GET":
        form.initial["occurred_at"] = timezone.now().astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    # Times typed on the page are the lab's local times (the form makes them aware in the
    # active time zone); the page shows times in the lab's zone too.
    with timezone.override(zone):
        valid = request.method == "POST" and form.is_valid()
    if valid:
        data = form.cleaned_data
        try:
            record_endpoint(
                animal=animal,
                cause=data["cause"],
                occurred_at=data["occurred_at"],
                last_seen_alive_at=data.get("last_seen_alive_at"),
                actual_severity=data.get("actual_severity") or "",
                notes=data.get("notes") or "",
                recorded_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Endpoint of animal {animal.tag} recorded.")
            return redirect("animal_endpoint", pk=animal.pk)
    episodes = list(list_episodes_for_user(request.user).filter(animal=animal))
    now = timezone.now()
    for episode in episodes:
        episode.hours_open = (  # type: ignore[attr-defined]
            (now - episode.first_reached_at).total_seconds() / 3600 if episode.is_open else None
        )
    record = (
        list_endpoint_records_for_user(request.user)
        .filter(animal=animal, voided_at__isnull=True)
        .first()
    )
    projection = weight_projections(
        [animal], run=run, limits=welfare_limits(run.study), until=now
    ).get(animal.pk)
    with timezone.override(zone):
        return render(
            request,
            "labnotes/endpoint_animal.html",
            {
                "animal": animal,
                "weight_projection": projection,
                "run": run,
                "form": form,
                "episodes": episodes,
                "record": record,
                "voided_records": list_endpoint_records_for_user(request.user).filter(
                    animal=animal, voided_at__isnull=False
                ),
                "time_zone": lab.time_zone,
            },
            status=400 if request.method == "POST" else 200,
        )
