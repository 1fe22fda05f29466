"""Flow cytometry pages: a run's panel with results per sample and animal, the FlowJo import
with its mapping step (sample names → collected samples, panel populations → file gates,
previewed before anything is written and saved per lab for reuse), FCS uploads and an
acquisition's metadata. Every object is reached through a scoped selector first.

Blinding: animals appear by tag and arms by blinded code unless the reader sees the allocation.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labnotes.models import FlowPanel, FlowSampleMapping, Sample, StudyRun
from labnotes.selectors import blinding_for, list_runs_for_user
from labnotes.selectors_flow import (
    flow_results,
    list_flow_acquisitions_for_user,
    list_flow_imports_for_user,
    list_flow_mappings_for_user,
    list_flow_panels_for_user,
    results_by_animal,
)
from labnotes.selectors_samples import list_samples_for_user
from labnotes.services import flow as flow_services
from labnotes.views.common import add_service_errors
from planner.models import ProcedureRole, StudyProcedure
from planner.types import AuthenticatedHttpRequest


def _input(**attrs: Any) -> dict[str, Any]:
    return {"class": "input", **attrs}


def _panel(request: AuthenticatedHttpRequest, pk: int) -> FlowPanel:
    return get_object_or_404(list_flow_panels_for_user(request.user), pk=pk)


def _aliases_text(aliases: dict[str, str]) -> str:
    return ", ".join(f"{alias}={tissue}" for alias, tissue in aliases.items())


def _parse_aliases(text: str) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for part in (text or "").replace(";", ",").split(","):
        if not part.strip():
            continue
        alias, separator, tissue = part.partition("=")
        if not separator or not alias.strip() or not tissue.strip():
            raise ValidationError(
                {"tissue_aliases": f"'{part.strip()}' is not 'name=tissue' (e.g. T=tumour)."}
            )
        aliases[alias.strip()] = tissue.strip()
    return aliases


# -- forms -------------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500, widget=forms.TextInput(_input()), help_text="Why (kept in the audit trail)."
    )


class FlowImportForm(forms.Form):
    file = forms.FileField(
        required=False,
        label="FlowJo file",
        help_text="A table export (CSV or tab-separated text) or a workspace (.wsp).",
        widget=forms.ClearableFileInput(_input(accept=".csv,.tsv,.txt,.wsp,.xml")),
    )
    saved_mapping: forms.ModelChoiceField[FlowSampleMapping] = forms.ModelChoiceField(
        queryset=FlowSampleMapping.objects.none(),
        required=False,
        label="Saved mapping",
        help_text="Load one of the lab's mappings, then preview.",
        widget=forms.Select(_input()),
    )
    pattern = forms.CharField(
        max_length=300,
        label="Sample-name pattern",
        help_text="A regular expression naming (?P&lt;barcode&gt;…), or (?P&lt;animal&gt;…) "
        "with (?P&lt;tissue&gt;…) and optionally (?P&lt;day&gt;…).",
        widget=forms.TextInput(_input(spellcheck="false", autocomplete="off")),
    )
    tissue_aliases = forms.CharField(
        max_length=500,
        required=False,
        label="Tissue aliases",
        help_text="How the names write tissues, e.g. T=tumour, S=spleen.",
        widget=forms.TextInput(_input(spellcheck="false", autocomplete="off")),
    )
    save_mapping_as = forms.CharField(
        max_length=120,
        required=False,
        label="Save the mapping as",
        help_text="Name it to reuse it for the lab's next imports.",
        widget=forms.TextInput(_input(autocomplete="off")),
    )
    content = forms.CharField(required=False, widget=forms.HiddenInput)
    filename = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, mappings: Any, populations: list[str], gates: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["saved_mapping"].queryset = mappings  # type: ignore[attr-defined]
        self.populations = populations
        choices = [("", "Automatic (the gate whose path ends like the population)")]
        choices += [(gate, gate) for gate in gates]
        for index, population in enumerate(populations):
            self.fields[f"population_{index}"] = forms.ChoiceField(
                choices=choices,
                required=False,
                label=f"File gate for {population}",
                widget=forms.Select(_input()),
            )

    def population_columns(self) -> dict[str, str]:
        return {
            population: self.cleaned_data.get(f"population_{index}") or ""
            for index, population in enumerate(self.populations)
            if self.cleaned_data.get(f"population_{index}")
        }

    def population_fields(self) -> list[forms.BoundField]:
        return [self[f"population_{index}"] for index in range(len(self.populations))]

    def mapping_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("pattern", "tissue_aliases", "save_mapping_as")]


class FcsUploadForm(forms.Form):
    file = forms.FileField(
        label="FCS file", widget=forms.ClearableFileInput(_input(accept=".fcs,.lmd"))
    )
    sample: forms.ModelChoiceField[Sample] = forms.ModelChoiceField(
        queryset=Sample.objects.none(),
        required=False,
        label="Sample",
        help_text="Empty: the file name is read with the lab's latest mapping.",
        widget=forms.Select(_input()),
    )

    def __init__(self, *args: Any, samples: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["sample"]
        field.queryset = samples
        field.label_from_instance = lambda s: (
            f"{s.barcode} — animal {s.animal.tag}, {s.get_tissue_display().lower()}, "
            f"day {s.study_day}"
        )


# -- pages -------------------------------------------------------------------------------------


def _panel_procedures(run: StudyRun) -> list[StudyProcedure]:
    return list(
        StudyProcedure.objects.filter(study=run.study, role=ProcedureRole.FLOW_PANEL)
        .select_related("protocol_version__template")
        .order_by("pk")
    )


@login_required
@require_GET
def run_flow(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    blinding = blinding_for(request.user, run.study)
    panels = list(list_flow_panels_for_user(request.user).filter(run=run).order_by("pk"))
    sections = []
    for panel in panels:
        results = flow_results(panel)
        statistics = panel.derived_statistics
        sections.append(
            {
                "panel": panel,
                "statistics": statistics,
                "rows": [
                    (result, [result.values.get(item["key"]) for item in statistics])
                    for result in results
                ],
                "animals": results_by_animal(results, sees_allocation=blinding.sees_allocation),
                "imports": list(
                    list_flow_imports_for_user(request.user)
                    .filter(panel=panel)
                    .order_by("-imported_at", "-pk")
                ),
            }
        )
    used = {panel.protocol_version_id for panel in panels}
    missing = [p for p in _panel_procedures(run) if p.protocol_version_id not in used]
    return render(
        request,
        "labnotes/flow_run.html",
        {
            "run": run,
            "sections": sections,
            "missing": missing,
            "sees_allocation": blinding.sees_allocation,
            "void_form": ReasonForm(prefix="void"),
        },
    )


@login_required
@require_POST
def flow_panel_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    procedure = get_object_or_404(
        StudyProcedure.objects.filter(study=run.study, role=ProcedureRole.FLOW_PANEL),
        pk=request.POST.get("procedure") or 0,
    )
    try:
        flow_services.create_flow_panel(
            run=run, protocol_version=procedure.protocol_version, created_by=request.user
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, "; ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, f"Flow panel {procedure.protocol_version} set up.")
    return redirect("run_flow", pk=run.pk)


def _carried_content(form: FlowImportForm) -> tuple[bytes, str] | None:
    upload = form.cleaned_data.get("file")
    if upload is not None:
        return upload.read(), upload.name or ""
    carried = form.cleaned_data.get("content") or ""
    if not carried:
        return None
    try:
        return base64.b64decode(carried, validate=True), form.cleaned_data.get("filename") or ""
    except (binascii.Error, ValueError):
        return None


@login_required
@require_http_methods(["GET", "POST"])
def flow_import(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Import FlowJo results in two steps: preview (the mapping of every sample name and
    population, nothing written) and import. The lab's latest mapping is loaded first."""
    panel = _panel(request, pk)
    lab = panel.run.study.lab
    mappings = list_flow_mappings_for_user(request.user).filter(lab=lab)
    latest = mappings.order_by("-last_used_at", "-pk").first()
    populations = list(panel.populations)
    preview: flow_services.FlowImportPreview | None = None
    gates: list[str] = []
    if request.method == "GET":
        spec = flow_services.MappingSpec.of(latest) if latest else flow_services.MappingSpec()
        initial = {
            "saved_mapping": latest.pk if latest else None,
            "pattern": spec.pattern,
            "tissue_aliases": _aliases_text(dict(spec.tissue_aliases)),
        }
        form = FlowImportForm(
            initial=initial, mappings=mappings, populations=populations, gates=gates
        )
        return _import_page(request, panel, form, preview)
    action = request.POST.get("action", "preview")
    # Bind once to read the carried gates, then again with them as choices.
    probe = FlowImportForm(request.POST, request.FILES, mappings=mappings, populations=[], gates=[])
    carried: tuple[bytes, str] | None = None
    if probe.is_valid():
        carried = _carried_content(probe)
    if carried is not None:
        try:
            gates = list(flow_services.read_statistics_file(carried[0]).paths)
        except Exception:  # the preview below reports the reason
            gates = []
    data = request.POST.copy()
    if action == "load" and probe.is_valid() and probe.cleaned_data.get("saved_mapping"):
        saved: FlowSampleMapping = probe.cleaned_data["saved_mapping"]
        data["pattern"] = saved.pattern
        data["tissue_aliases"] = _aliases_text(dict(saved.tissue_aliases))
        for index, population in enumerate(populations):
            data[f"population_{index}"] = saved.population_columns.get(population, "")
        action = "preview"
    elif probe.is_valid() and probe.cleaned_data.get("saved_mapping") and populations:
        # The first preview (the gate choices are not on the page yet) uses the saved mapping's.
        if "population_0" not in request.POST:
            saved = probe.cleaned_data["saved_mapping"]
            for index, population in enumerate(populations):
                data[f"population_{index}"] = saved.population_columns.get(population, "")
    if carried is not None:
        data["content"] = base64.b64encode(carried[0]).decode("ascii")
        data["filename"] = carried[1]
    form = FlowImportForm(data, mappings=mappings, populations=populations, gates=gates)
    if not form.is_valid():
        return _import_page(request, panel, form, preview, status=400)
    if carried is None:
        form.add_error("file", "Choose the FlowJo file to import.")
        return _import_page(request, panel, form, preview, status=400)
    content, filename = carried
    try:
        spec = flow_services.MappingSpec(
            pattern=form.cleaned_data["pattern"],
            tissue_aliases=_parse_aliases(form.cleaned_data["tissue_aliases"]),
            population_columns=form.population_columns(),
        )
        if action == "import":
            flow_import_row = flow_services.import_flow_statistics(
                panel=panel,
                content=content,
                filename=filename,
                spec=spec,
                imported_by=request.user,
                mapping=form.cleaned_data.get("saved_mapping"),
                save_mapping_as=form.cleaned_data.get("save_mapping_as") or "",
            )
            messages.success(
                request,
                f"Imported {flow_import_row.value_count} values of "
                f"{flow_import_row.sample_count} samples from {filename}.",
            )
            return redirect("run_flow", pk=panel.run_id)
        preview = flow_services.preview_flow_import(
            panel=panel, content=content, filename=filename, spec=spec
        )
    except PermissionDenied as error:
        form.add_error(None, str(error) or "You may not import flow results in this lab.")
        return _import_page(request, panel, form, preview, status=403)
    except ValidationError as error:
        if hasattr(error, "error_dict") and "file" in error.error_dict and action == "import":
            # Show the problems next to the preview that explains them.
            preview = _safe_preview(panel, content, filename, spec)
        add_service_errors(form, error)
        if "file" in form.errors:
            # A file that cannot be read is not carried on to the next step.
            data["content"] = ""
        return _import_page(request, panel, form, preview, status=400)
    return _import_page(request, panel, form, preview)


def _safe_preview(
    panel: FlowPanel, content: bytes, filename: str, spec: flow_services.MappingSpec
) -> flow_services.FlowImportPreview | None:
    try:
        return flow_services.preview_flow_import(
            panel=panel, content=content, filename=filename, spec=spec
        )
    except ValidationError:
        return None


def _import_page(
    request: AuthenticatedHttpRequest,
    panel: FlowPanel,
    form: FlowImportForm,
    preview: flow_services.FlowImportPreview | None,
    *,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "labnotes/flow_import.html",
        {
            "run": panel.run,
            "panel": panel,
            "form": form,
            "preview": preview,
            "has_content": bool(form.data.get("content")) if form.is_bound else False,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def flow_fcs_upload(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    panel = _panel(request, pk)
    samples = (
        list_samples_for_user(request.user)
        .filter(animal__run=panel.run, voided_at__isnull=True)
        .order_by("animal__tag", "tissue", "collected_at")
    )
    form = FcsUploadForm(request.POST or None, request.FILES or None, samples=samples)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        latest = (
            list_flow_mappings_for_user(request.user)
            .filter(lab=panel.run.study.lab)
            .order_by("-last_used_at", "-pk")
            .first()
        )
        try:
            acquisition = flow_services.upload_fcs_file(
                panel=panel,
                content=upload.read(),
                filename=upload.name or "",
                uploaded_by=request.user,
                sample=form.cleaned_data.get("sample"),
                spec=flow_services.MappingSpec.of(latest) if latest else None,
            )
        except PermissionDenied as error:
            form.add_error(None, str(error) or "You may not upload FCS files in this lab.")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"FCS file kept for sample {acquisition.sample.barcode}: "
                f"{acquisition.event_count} events from "
                f"{acquisition.cytometer or 'the cytometer'}.",
            )
            return redirect("flow_acquisition_detail", pk=acquisition.pk)
    return render(
        request,
        "labnotes/flow_fcs_form.html",
        {"run": panel.run, "panel": panel, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def flow_acquisition_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    acquisition = get_object_or_404(list_flow_acquisitions_for_user(request.user), pk=pk)
    spill = acquisition.spillover or None
    return render(
        request,
        "labnotes/flow_acquisition_detail.html",
        {
            "run": acquisition.panel.run,
            "acquisition": acquisition,
            "spill": spill,
            "values": list(
                acquisition.population_values.filter(flow_import__voided_at__isnull=True).order_by(
                    "population", "statistic"
                )
            ),
        },
    )


@login_required
@require_POST
def flow_import_void(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    flow_import_row = get_object_or_404(list_flow_imports_for_user(request.user), pk=pk)
    form = ReasonForm(request.POST, prefix="void")
    if form.is_valid():
        try:
            flow_services.void_flow_import(
                flow_import=flow_import_row,
                voided_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, "; ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, f"Import #{flow_import_row.pk} voided.")
    else:
        messages.error(request, "Give the reason for voiding the import.")
    return redirect("run_flow", pk=flow_import_row.panel.run_id)
