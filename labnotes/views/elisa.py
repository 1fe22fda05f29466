"""ELISA pages: a run's plates (new plate from an ELISA protocol version, layout templates), a
plate's page with the plate map editor, the reading import (with the column mapping for generic
well lists), the fit and QC, the results per sample and animal, and the accept/reject decision.

Blinding: arms appear only for readers who see the allocation; samples and animals by barcode
and tag only.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labnotes.models import ElisaPlate, PlateLayoutTemplate, PlateStatus, Sample
from labnotes.selectors import blinding_for, list_runs_for_user
from labnotes.selectors_elisa import (
    list_layout_templates_for_user,
    list_plates_for_user,
    list_results,
)
from labnotes.services import elisa as elisa_services
from labnotes.services.common import StaleWrite
from labnotes.services.locks import refusals_as_errors
from labnotes.views.common import add_service_errors
from planner.models import ProtocolVersion
from planner.types import AuthenticatedHttpRequest


def _input(**attrs: Any) -> dict[str, Any]:
    return {"class": "input", **attrs}


class PlateForm(forms.Form):
    name = forms.CharField(
        max_length=80, help_text="e.g. the plate's barcode.", widget=forms.TextInput(_input())
    )
    protocol_version: forms.ModelChoiceField[ProtocolVersion] = forms.ModelChoiceField(
        queryset=ProtocolVersion.objects.none(),
        label="ELISA protocol",
        widget=forms.Select(_input()),
    )
    template: forms.ModelChoiceField[PlateLayoutTemplate] = forms.ModelChoiceField(
        queryset=PlateLayoutTemplate.objects.none(),
        required=False,
        label="Start from layout template",
        widget=forms.Select(_input()),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Plate-reader export",
        help_text="Gen5 text, SoftMax Pro, BMG MARS CSV, EnVision CSV, Magellan XLSX, or a "
        "CSV/XLSX with an 8 × 12 grid or a well list.",
        widget=forms.ClearableFileInput(_input()),
    )
    well_column = forms.CharField(
        required=False, label="Well column", help_text="Only for a generic well list.",
        widget=forms.TextInput(_input()),
    )  # fmt: skip
    value_column = forms.CharField(
        required=False, label="Value (OD) column", help_text="Only for a generic well list.",
        widget=forms.TextInput(_input()),
    )  # fmt: skip
    plate_column = forms.CharField(
        required=False, label="Plate column", help_text="When the list holds several plates.",
        widget=forms.TextInput(_input()),
    )  # fmt: skip
    grid = forms.CharField(
        required=False, label="Read to use",
        help_text="'plate / label' when the file holds several reads.",
        widget=forms.TextInput(_input()),
    )  # fmt: skip
    reason = forms.CharField(
        required=False, label="Reason", help_text="Required when the plate was read before.",
        widget=forms.TextInput(_input()),
    )  # fmt: skip


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept"), ("reject", "Reject")], widget=forms.RadioSelect
    )
    reason = forms.CharField(widget=forms.Textarea(_input(rows=2)))


def _elisa_versions(run: Any) -> Any:
    return ProtocolVersion.objects.filter(
        template__lab=run.study.lab, template__kind="elisa", status="released"
    ).select_related("template")


@login_required
@require_http_methods(["GET", "POST"])
def run_plates(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    templates = list_layout_templates_for_user(request.user).filter(lab=run.study.lab)
    form = PlateForm(request.POST or None)
    form.fields["protocol_version"].queryset = _elisa_versions(run)  # type: ignore[attr-defined]
    form.fields["template"].queryset = templates  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        try:
            plate = elisa_services.create_plate(
                run=run,
                protocol_version=form.cleaned_data["protocol_version"],
                name=form.cleaned_data["name"],
                created_by=request.user,
                template=form.cleaned_data["template"],
            )
        except PermissionDenied as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Plate {plate.name} created: lay it out below.")
            return redirect("elisa_plate_detail", plate.pk)
    plates = list_plates_for_user(request.user).filter(run=run).order_by("-created_at")
    return render(
        request,
        "labnotes/elisa_plate_list.html",
        {"run": run, "plates": plates, "form": form, "templates": templates},
    )


def _detail_context(request: AuthenticatedHttpRequest, plate: ElisaPlate) -> dict[str, Any]:
    run = plate.run
    blinding = blinding_for(request.user, run.study)
    samples = (
        Sample.objects.filter(animal__run=run, voided_at__isnull=True)
        .select_related("animal")
        .order_by("study_day", "animal__tag", "barcode")
    )
    results = list(list_results(plate))
    wells = {w.well: w for w in plate.wells.all()}
    map_data = [
        {
            **item,
            "od": wells[item["well"]].od,
            "od_flag": wells[item["well"]].od_flag,
        }
        for item in elisa_services.layout_of(plate)
    ]
    per_sample = elisa_services.sample_concentrations(results)
    return {
        "run": run,
        "plate": plate,
        "layout": map_data,
        "map_data": map_data,
        "sample_choices": [
            {
                "barcode": s.barcode,
                "label": f"{s.barcode} · animal {s.animal.tag} · {s.get_tissue_display()} · "
                f"day {s.study_day}",
            }
            for s in samples
        ],
        "results": results,
        "per_sample": per_sample,
        "sees_arms": blinding.sees_allocation,
        "import_form": ImportForm(),
        "decision_form": DecisionForm(),
        "editable": plate.status == PlateStatus.DRAFT,
        "decidable": plate.status == PlateStatus.READ,
        "readable": plate.status in (PlateStatus.DRAFT, PlateStatus.READ),
        "rows": "ABCDEFGH",
        "columns": range(1, 13),
    }


@login_required
@require_GET
def plate_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plate = get_object_or_404(list_plates_for_user(request.user), pk=pk)
    return render(request, "labnotes/elisa_plate_detail.html", _detail_context(request, plate))


def _error_text(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{message}" if name in ("layout", "file") else f"{name.replace('_', ' ')}: {message}"
            for name, items in error.message_dict.items()
            for message in items
        ]
    return list(error.messages)


def _refused(
    request: AuthenticatedHttpRequest, plate: ElisaPlate, errors: list[str]
) -> HttpResponse:
    context = _detail_context(request, plate)
    context["errors"] = errors
    return render(request, "labnotes/elisa_plate_detail.html", context, status=400)


@login_required
@require_POST
def plate_layout(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plate = get_object_or_404(list_plates_for_user(request.user), pk=pk)
    try:
        wells = json.loads(request.POST.get("layout") or "[]")
        if not isinstance(wells, list) or not all(isinstance(w, dict) for w in wells):
            raise ValueError
    except ValueError:
        return _refused(request, plate, ["The layout sent is not a list of wells."])
    version = request.POST.get("row_version", "")
    try:
        elisa_services.save_layout(
            plate=plate,
            wells=wells,
            changed_by=request.user,
            reason=request.POST.get("reason") or None,
            expected_version=int(version) if version.isdigit() else None,
        )
    except StaleWrite as error:
        return _refused(request, plate, [str(error) + " Reload the page to see the current map."])
    except (ValidationError, PermissionDenied) as error:
        texts = _error_text(error) if isinstance(error, ValidationError) else [str(error)]
        return _refused(request, plate, texts)
    messages.success(request, "Plate map saved.")
    return redirect("elisa_plate_detail", plate.pk)


@login_required
@require_POST
def plate_template(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plate = get_object_or_404(list_plates_for_user(request.user), pk=pk)
    try:
        template = elisa_services.save_layout_template(
            plate=plate, name=request.POST.get("name", ""), created_by=request.user
        )
    except (ValidationError, PermissionDenied) as error:
        texts = _error_text(error) if isinstance(error, ValidationError) else [str(error)]
        return _refused(request, plate, texts)
    messages.success(request, f"Layout kept as template '{template.name}'.")
    return redirect("elisa_plate_detail", plate.pk)


@login_required
@require_POST
def plate_import(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plate = get_object_or_404(list_plates_for_user(request.user), pk=pk)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(
            request, plate, [f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()]
        )
    upload = form.cleaned_data["file"]
    data = form.cleaned_data
    try:
        with refusals_as_errors():
            elisa_services.import_reading(
                plate=plate,
                content=upload.read(),
                filename=upload.name or "",
                content_type=upload.content_type or "",
                imported_by=request.user,
                well_column=data["well_column"] or None,
                value_column=data["value_column"] or None,
                plate_column=data["plate_column"] or None,
                grid=data["grid"] or None,
                reason=data["reason"] or None,
            )
    except (ValidationError, PermissionDenied) as error:
        texts = _error_text(error) if isinstance(error, ValidationError) else [str(error)]
        return _refused(request, plate, texts)
    messages.success(request, "Reading imported and the curve fitted: review the QC below.")
    return redirect("elisa_plate_detail", plate.pk)


@login_required
@require_POST
def plate_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plate = get_object_or_404(list_plates_for_user(request.user), pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _refused(request, plate, ["Choose accept or reject and give a reason."])
    try:
        elisa_services.decide_plate(
            plate=plate,
            accept=form.cleaned_data["decision"] == "accept",
            decided_by=request.user,
            reason=form.cleaned_data["reason"],
        )
    except (ValidationError, PermissionDenied) as error:
        texts = _error_text(error) if isinstance(error, ValidationError) else [str(error)]
        return _refused(request, plate, texts)
    messages.success(request, "Decision recorded.")
    return redirect("elisa_plate_detail", plate.pk)
