"""Paper worksheets: the run's sheets, entering a day's sheet, checking it (a second person),
and correcting a sheet sent back. Objects are found through scoped selectors first (404 for
anyone outside the lab); the services decide who may do what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from labnotes.capture.parsing import (
    EntryConfig,
    Kind,
    ParsedReading,
    ReadingCode,
    ReadingError,
    parse_reading,
)
from labnotes.models import StudyRun, TranscriptionSheet, TranscriptionStatus
from labnotes.selectors import list_runs_for_user
from labnotes.selectors_measurements import (
    SheetLine,
    list_transcription_sheets_for_user,
    transcription_lines,
)
from labnotes.services import transcription as services
from labnotes.services.common import RECORDERS, StaleWrite, lab_today
from labnotes.services.files import store_file
from labnotes.views.common import add_service_errors
from labnotes.views.lab_zone import in_lab_time_zone
from planner.models import Membership
from planner.types import AuthenticatedHttpRequest

_KIND_OF_FIELD: dict[str, Kind] = {"length_mm": "length", "width_mm": "width", "weight_g": "weight"}


def _run(request: HttpRequest, pk: int) -> StudyRun:
    return get_object_or_404(list_runs_for_user(request.user), pk=pk)


def _sheet(request: HttpRequest, pk: int) -> TranscriptionSheet:
    return get_object_or_404(list_transcription_sheets_for_user(request.user), pk=pk)


def _operators(run: StudyRun) -> Any:
    return User.objects.filter(
        memberships__lab=run.study.lab, memberships__role__in=RECORDERS, is_active=True
    ).order_by("username")


class SheetForm(forms.Form):
    """The sheet's header plus a text cell per value (``t<id>_length_mm``, ``a<id>_weight_g``)."""

    sheet_date = forms.DateField(
        label="Date on the sheet", widget=forms.DateInput(attrs={"type": "date"})
    )
    sheet_time = forms.TimeField(
        label="Time written on the sheet", widget=forms.TimeInput(attrs={"type": "time"})
    )
    measured_by = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="Measured by",
        help_text="Whose readings the sheet holds.",
    )
    scan = forms.FileField(
        label="Scanned sheet",
        required=False,
        help_text="PDF or image of the paper; it is stored with its SHA-256. "
        "Needed before a second person can verify.",
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        run: StudyRun,
        lines: list[SheetLine],
        correcting: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.run = run
        self.lines = lines
        self.fields["measured_by"].queryset = _operators(run)  # type: ignore[attr-defined]
        if correcting:
            for name in ("sheet_date", "sheet_time", "measured_by", "notes"):
                self.fields[name].disabled = True
            self.fields["reason"] = forms.CharField(
                label="Reason for the changes",
                help_text="Required when a value changes, e.g. the verifier's finding.",
                required=False,
            )
        self.cell_names: list[str] = []
        for line in lines:
            for tumour in line.tumours:
                for axis in ("length_mm", "width_mm"):
                    self._cell(f"t{tumour.pk}_{axis}")
            self._cell(f"a{line.animal.pk}_weight_g")

    def _cell(self, name: str) -> None:
        self.fields[name] = forms.CharField(required=False, max_length=60)
        self.cell_names.append(name)

    def rows(self) -> list[dict[str, Any]]:
        """The table's rows: one per tumour (the animal's first carries the weight cell)."""
        rows = []
        for line in self.lines:
            tumours = list(line.tumours) or [None]
            for index, tumour in enumerate(tumours):
                rows.append(
                    {
                        "line": line,
                        "tumour": tumour,
                        "first": index == 0,
                        "span": len(tumours),
                        "length": self[f"t{tumour.pk}_length_mm"] if tumour else None,
                        "width": self[f"t{tumour.pk}_width_mm"] if tumour else None,
                        "weight": self[f"a{line.animal.pk}_weight_g"] if index == 0 else None,
                    }
                )
        return rows

    def entries(self) -> list[services.SheetEntry]:
        """The typed cells as sheet entries; cell errors are added to the form."""
        config = EntryConfig()
        entries: list[services.SheetEntry] = []
        for line in self.lines:
            for tumour in line.tumours:
                values: dict[str, Any] = {}
                for axis in ("length_mm", "width_mm"):
                    values[axis] = self._parsed(f"t{tumour.pk}_{axis}", config)
                codes = [v for v in values.values() if isinstance(v, ReadingCode)]
                numbers = {k: v for k, v in values.items() if isinstance(v, Decimal)}
                if codes and numbers:
                    self.add_error(
                        f"t{tumour.pk}_length_mm", "Either axes or a code (NP, NM, ND), not both."
                    )
                    continue
                if codes:
                    entries.append(
                        services.SheetEntry(
                            animal=line.animal,
                            tumour=tumour,
                            code=codes[0].code,
                            code_reason=codes[0].reason,
                        )
                    )
                else:
                    entries.append(
                        services.SheetEntry(
                            animal=line.animal,
                            tumour=tumour,
                            length_mm=numbers.get("length_mm"),
                            width_mm=numbers.get("width_mm"),
                        )
                    )
            weight = self._parsed(f"a{line.animal.pk}_weight_g", config)
            if isinstance(weight, ReadingCode):
                entries.append(
                    services.SheetEntry(
                        animal=line.animal, code=weight.code, code_reason=weight.reason
                    )
                )
            else:
                entries.append(
                    services.SheetEntry(
                        animal=line.animal, weight_g=weight if isinstance(weight, Decimal) else None
                    )
                )
        return entries

    def _parsed(self, name: str, config: EntryConfig) -> Decimal | ReadingCode | None:
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            return None
        result = parse_reading(raw, kind=_KIND_OF_FIELD[name.split("_", 1)[1]], config=config)
        if isinstance(result, ReadingError):
            self.add_error(name, result.message)
            return None
        if isinstance(result, ParsedReading):
            return result.value
        return result


def _cell_value(measurement: Any, field: str) -> str:
    if measurement.reading_code:
        reason = f" {measurement.code_reason}" if measurement.code_reason else ""
        return f"{measurement.reading_code}{reason}" if field != "width_mm" else ""
    value = getattr(measurement, field)
    return "" if value is None else f"{value.normalize():f}"


def _initial_cells(sheet: TranscriptionSheet) -> dict[str, str]:
    initial: dict[str, str] = {}
    for key, measurement in services.live_sheet_readings(sheet).items():
        fields = ("weight_g",) if key.startswith("a") else ("length_mm", "width_mm")
        for field in fields:
            initial[f"{key}_{field}"] = _cell_value(measurement, field)
    for correction in sheet.corrections or []:
        initial[f"{correction['key']}_{correction['field']}"] = correction["corrected"]
    return initial


def _store_scan(request: AuthenticatedHttpRequest, form: SheetForm, run: StudyRun) -> Any:
    upload = form.cleaned_data.get("scan")
    if not upload:
        return None
    try:
        return store_file(
            content=upload.read(),
            filename=upload.name or "scan",
            content_type=upload.content_type or "application/octet-stream",
            stored_by=request.user,
            lab=run.study.lab,
        )
    except ValidationError as error:
        form.add_error("scan", " ".join(error.messages))
        return False


def _service_errors(form: SheetForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, items in error.error_dict.items():
            text = " ".join(message for item in items for message in item.messages)
            if name in form.fields:
                form.add_error(name, text)
            else:
                form.add_error(None, text)
    else:
        add_service_errors(form, error)


@login_required
@in_lab_time_zone
def transcription_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    sheets = list_transcription_sheets_for_user(request.user).filter(run=run)
    return render(
        request,
        "labnotes/transcription_list.html",
        {
            "run": run,
            "study": run.study,
            "sheets": sheets,
            "today": lab_today(run.study.lab),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def transcription_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    lines = transcription_lines(request.user, run)
    initial: dict[str, Any] = {"sheet_date": lab_today(run.study.lab), "measured_by": request.user}
    if request.GET.get("day"):
        try:
            initial["sheet_date"] = dt.date.fromisoformat(request.GET["day"])
        except ValueError:
            pass
    form = SheetForm(
        request.POST or None, request.FILES or None, run=run, lines=lines, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        entries = form.entries()
        scan = _store_scan(request, form, run) if not form.errors else None
        if not form.errors and scan is not False:
            try:
                sheet = services.create_transcription_sheet(
                    run=run,
                    sheet_date=form.cleaned_data["sheet_date"],
                    sheet_time=form.cleaned_data["sheet_time"],
                    entries=entries,
                    transcribed_by=request.user,
                    measured_by=form.cleaned_data["measured_by"],
                    scan=scan,
                    notes=form.cleaned_data["notes"],
                )
            except ValidationError as error:
                _service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    f"Worksheet of {sheet.sheet_date:%Y-%m-%d} saved: its values count once a "
                    "second person has verified them against the scan.",
                )
                return redirect("transcription_detail", pk=sheet.pk)
    return render(
        request,
        "labnotes/transcription_form.html",
        {"run": run, "study": run.study, "form": form, "sheet": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def transcription_correct(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    sheet = _sheet(request, pk)
    run = sheet.run
    if sheet.status == TranscriptionStatus.VERIFIED:
        messages.error(request, "This sheet is verified: it cannot be changed.")
        return redirect("transcription_detail", pk=sheet.pk)
    lines = transcription_lines(request.user, run, sheet)
    initial: dict[str, Any] = {
        "sheet_date": sheet.sheet_date,
        "sheet_time": sheet.sheet_time,
        "measured_by": sheet.measured_by,
        "notes": sheet.notes,
        **_initial_cells(sheet),
    }
    form = SheetForm(
        request.POST or None,
        request.FILES or None,
        run=run,
        lines=lines,
        correcting=True,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        entries = form.entries()
        scan = _store_scan(request, form, run) if not form.errors else None
        if not form.errors and scan is not False:
            try:
                services.correct_transcription_sheet(
                    sheet=sheet,
                    entries=entries,
                    corrected_by=request.user,
                    reason=form.cleaned_data.get("reason", ""),
                    expected_version=_version(request),
                    scan=scan,
                )
            except StaleWrite:
                form.add_error(
                    None, "Someone changed this sheet after you opened it: reload and check."
                )
            except ValidationError as error:
                _service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Sheet corrected: it awaits verification again.")
                return redirect("transcription_detail", pk=sheet.pk)
    return render(
        request,
        "labnotes/transcription_form.html",
        {"run": run, "study": run.study, "form": form, "sheet": sheet},
        status=409 if request.method == "POST" and form.errors and _stale(form) else 200,
    )


def _stale(form: forms.Form) -> bool:
    return any("changed this sheet" in str(error) for error in form.non_field_errors())


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("row_version", ""))
    except ValueError:
        return None


def _detail_rows(request: HttpRequest, sheet: TranscriptionSheet) -> list[dict[str, Any]]:
    readings = services.live_sheet_readings(sheet)
    corrections = {(c["key"], c["field"]): c for c in sheet.corrections or []}
    rows = []
    for line in transcription_lines(request.user, sheet.run, sheet):
        weight = readings.get(f"a{line.animal.pk}")
        tumours = list(line.tumours) or [None]
        for index, tumour in enumerate(tumours):
            caliper = readings.get(f"t{tumour.pk}") if tumour is not None else None
            if caliper is None and (index > 0 or weight is None):
                continue
            cells = []
            if tumour is not None:
                for field in ("length_mm", "width_mm"):
                    cells.append(
                        {
                            "key": f"t{tumour.pk}_{field}",
                            "label": "Length" if field == "length_mm" else "Width",
                            "value": _cell_value(caliper, field) if caliper else "",
                            "correction": corrections.get((f"t{tumour.pk}", field)),
                        }
                    )
            rows.append(
                {
                    "animal": line.animal,
                    "cage": line.cage_label,
                    "tumour": tumour,
                    "cells": cells,
                    "volume": caliper.volume_mm3 if caliper else None,
                    "weight": {
                        "key": f"a{line.animal.pk}_weight_g",
                        "label": "Weight",
                        "value": _cell_value(weight, "weight_g") if weight else "",
                        "correction": corrections.get((f"a{line.animal.pk}", "weight_g")),
                    }
                    if index == 0
                    else None,
                }
            )
    return rows


@login_required
@in_lab_time_zone
def transcription_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    sheet = _sheet(request, pk)
    membership = Membership.objects.filter(user=request.user, lab=sheet.run.study.lab).first()
    may_check = (
        membership is not None
        and membership.role in services.VERIFIERS
        and request.user.pk != sheet.transcribed_by_id
        and sheet.status == TranscriptionStatus.AWAITING_VERIFICATION
    )
    return render(
        request,
        "labnotes/transcription_detail.html",
        {
            "run": sheet.run,
            "study": sheet.run.study,
            "sheet": sheet,
            "rows": _detail_rows(request, sheet),
            "may_check": may_check,
            "is_transcriber": request.user.pk == sheet.transcribed_by_id,
            "scan": sheet.scan,
        },
    )


@login_required
@require_POST
def transcription_verify(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    sheet = _sheet(request, pk)
    try:
        services.verify_transcription_sheet(
            sheet=sheet, verified_by=request.user, expected_version=_version(request)
        )
    except StaleWrite:
        messages.error(request, "The sheet changed after you opened it: check it again.")
        return redirect("transcription_detail", pk=sheet.pk)
    except (ValidationError, PermissionDenied) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
        return redirect("transcription_detail", pk=sheet.pk)
    messages.success(request, "Verified: the sheet's values now count in analyses and reports.")
    return redirect("transcription_detail", pk=sheet.pk)


@login_required
@require_POST
def transcription_return(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    sheet = _sheet(request, pk)
    corrections = []
    for name in request.POST:
        value = request.POST.get(name, "")
        if name.startswith("fix_") and value.strip():
            key_field = name[len("fix_") :]
            key, _sep, field = key_field.partition("_")
            corrections.append(
                services.Correction(
                    key=key,
                    field=field,
                    corrected=value,
                    reason=request.POST.get(f"why_{key_field}", ""),
                )
            )
    try:
        services.return_transcription_sheet(
            sheet=sheet,
            returned_by=request.user,
            reason=request.POST.get("reason", ""),
            corrections=corrections,
            expected_version=_version(request),
        )
    except StaleWrite:
        messages.error(request, "The sheet changed after you opened it: check it again.")
    except (ValidationError, PermissionDenied) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, f"Not sent back: {text}")
    else:
        messages.success(request, "Sent back to the transcriber with your corrections.")
    return redirect(reverse("transcription_detail", kwargs={"pk": sheet.pk}))
