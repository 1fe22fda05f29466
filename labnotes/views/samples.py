"""Sample and necropsy pages: a run's samples and necropsies, recording a sample (from a
collection task, a necropsy or by hand), a sample's page with its label, corrections and voiding,
and the necropsy form of one animal. Every object is reached through a scoped selector first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labnotes.documents.model import LabelSize
from labnotes.documents.sample_labels import render_sample_labels_pdf
from labnotes.models import Animal, AnimalStatus, GrossFinding, Necropsy, SampleTissue, TaskKind
from labnotes.models.dosing import DoseRecord
from labnotes.selectors import (
    blinding_for,
    list_animals_for_user,
    list_runs_for_user,
    list_tasks_for_user,
)
from labnotes.selectors_samples import (
    list_doses_for_sampling,
    list_entries_linked_to,
    list_necropsies_for_user,
    list_samples_for_user,
)
from labnotes.services import necropsy as necropsy_services
from labnotes.services import samples as sample_services
from labnotes.services.common import StaleWrite
from labnotes.services.locks import refusals_as_errors
from labnotes.views.common import add_service_errors
from planner.types import AuthenticatedHttpRequest

#: Blank rows offered on the necropsy form beyond the protocol's organs.
EXTRA_ROWS = 3


def _input(**attrs: Any) -> dict[str, Any]:
    return {"class": "input", **attrs}


def _local_now(request: HttpRequest, lab: Any) -> str:
    return timezone.now().astimezone(lab.zone).strftime("%Y-%m-%dT%H:%M")


def _aware(value: dt.datetime | None, lab: Any) -> dt.datetime | None:
    """The wall-clock date-time typed in a form, read in the lab's time zone (the form field
    attaches the server's zone to it; the people typing it mean the lab's)."""
    if value is None:
        return None
    if timezone.is_aware(value):
        value = timezone.make_naive(value)
    return value.replace(tzinfo=lab.zone)


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _size(request: HttpRequest) -> LabelSize:
    return "cage_card" if request.GET.get("size") == "cage_card" else "thermal_label"


def dose_description(sample: Any, sees_dosing: bool) -> str:
    """ "2 h after dose 3 of IL-12" for readers who see dosing; the offset alone otherwise."""
    if sample.nominal_hours_after_dose is None:
        return ""
    hours = f"{sample.nominal_hours_after_dose.normalize():f} h"
    if sees_dosing and sample.dose is not None:
        return f"{hours} after dose {sample.dose.occurrence} of {sample.dose.regimen_item.agent}"
    return f"{hours} after the reference dose"


# -- forms -------------------------------------------------------------------------------------


class SampleForm(forms.Form):
    animal: forms.ModelChoiceField[Animal] = forms.ModelChoiceField(
        queryset=Animal.objects.none(), widget=forms.Select(_input())
    )
    tissue = forms.ChoiceField(choices=SampleTissue.choices, widget=forms.Select(_input()))
    tissue_detail = forms.CharField(
        max_length=120,
        required=False,
        help_text="e.g. inguinal lymph node; required for 'Other'.",
        widget=forms.TextInput(_input()),
    )
    collected_at = forms.DateTimeField(
        label="Collected at",
        help_text="Lab-local date and time.",
        widget=forms.DateTimeInput(_input(type="datetime-local"), format="%Y-%m-%dT%H:%M"),
    )
    barcode = forms.CharField(
        max_length=80,
        required=False,
        help_text="Scan the tube's barcode, or leave empty to generate one (VS-…).",
        widget=forms.TextInput(_input(autocomplete="off", spellcheck="false")),
    )
    volume_ul = forms.DecimalField(
        label="Volume", required=False, min_value=Decimal("0.1"), decimal_places=1,
        widget=forms.NumberInput(_input(step="0.1", inputmode="decimal")),
    )  # fmt: skip
    mass_mg = forms.DecimalField(
        label="Mass", required=False, min_value=Decimal("0.1"), decimal_places=1,
        widget=forms.NumberInput(_input(step="0.1", inputmode="decimal")),
    )  # fmt: skip
    dose: forms.ModelChoiceField[DoseRecord] = forms.ModelChoiceField(
        queryset=DoseRecord.objects.none(),
        required=False,
        label="Timed against dose",
        help_text="For samples timed after a dose (e.g. 2 h after dose 3).",
        widget=forms.Select(_input()),
    )
    nominal_hours_after_dose = forms.DecimalField(
        label="Nominal time after the dose", required=False, decimal_places=2,
        help_text="Hours; negative for before the dose.",
        widget=forms.NumberInput(_input(step="0.25", inputmode="decimal")),
    )  # fmt: skip
    window_minutes = forms.IntegerField(
        label="Window", required=False, min_value=0, max_value=1440,
        help_text="± minutes; empty for ±10 % of the nominal time (at least 5 min).",
        widget=forms.NumberInput(_input(inputmode="numeric")),
    )  # fmt: skip
    freezer = forms.CharField(max_length=60, required=False, widget=forms.TextInput(_input()))
    rack = forms.CharField(max_length=40, required=False, widget=forms.TextInput(_input()))
    box = forms.CharField(max_length=40, required=False, widget=forms.TextInput(_input()))
    position = forms.CharField(max_length=20, required=False, widget=forms.TextInput(_input()))
    notes = forms.CharField(required=False, widget=forms.Textarea(_input(rows=2)))

    def __init__(self, *args: Any, animals: Any, doses: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        animal_field: Any = self.fields["animal"]
        animal_field.queryset = animals
        animal_field.label_from_instance = lambda animal: f"{animal.tag}"
        self.fields["volume_ul"].unit = "µL"  # type: ignore[attr-defined]
        self.fields["mass_mg"].unit = "mg"  # type: ignore[attr-defined]
        self.fields["nominal_hours_after_dose"].unit = "h"  # type: ignore[attr-defined]
        self.fields["window_minutes"].unit = "min"  # type: ignore[attr-defined]
        if doses is None:
            for name in ("dose", "nominal_hours_after_dose", "window_minutes"):
                del self.fields[name]
        else:
            dose_field: Any = self.fields["dose"]
            dose_field.queryset = doses
            dose_field.label_from_instance = lambda dose: (
                f"{dose.animal.tag}: dose {dose.occurrence} of {dose.regimen_item.agent}, "
                f"{timezone.localtime(dose.given_at).strftime('%Y-%m-%d %H:%M')}"
            )


class CorrectionForm(forms.Form):
    freezer = forms.CharField(max_length=60, required=False, widget=forms.TextInput(_input()))
    rack = forms.CharField(max_length=40, required=False, widget=forms.TextInput(_input()))
    box = forms.CharField(max_length=40, required=False, widget=forms.TextInput(_input()))
    position = forms.CharField(max_length=20, required=False, widget=forms.TextInput(_input()))
    notes = forms.CharField(required=False, widget=forms.Textarea(_input(rows=2)))
    reason = forms.CharField(
        max_length=500, help_text="Why the record changes.", widget=forms.TextInput(_input())
    )
    row_version = forms.IntegerField(widget=forms.HiddenInput)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.TextInput(_input()))


# -- samples -----------------------------------------------------------------------------------


@login_required
@require_GET
def run_samples(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    blinding = blinding_for(request.user, run.study)
    samples = list(
        list_samples_for_user(request.user)
        .filter(animal__run=run)
        .order_by("-collected_at", "animal__tag", "pk")
    )
    rows = [(sample, dose_description(sample, blinding.sees_dosing)) for sample in samples]
    due = (
        list_tasks_for_user(request.user)
        .filter(run=run, kind=TaskKind.SAMPLE, status="due")
        .order_by("task_date", "animal__tag")[:50]
    )
    return render(
        request,
        "labnotes/sample_list.html",
        {
            "run": run,
            "rows": rows,
            "due_tasks": due,
            "outside": sum(s.outside_window for s in samples),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def sample_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record a sample of the run; ``?task=`` fills it from a collection task (and marks the
    task done), ``?animal=`` and ``?necropsy=`` preselect."""
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    lab = run.study.lab
    blinding = blinding_for(request.user, run.study)
    animals = list_animals_for_user(request.user).filter(run=run).order_by("tag")
    doses = list_doses_for_sampling(request.user).filter(run=run) if blinding.sees_dosing else None
    source = request.POST if request.method == "POST" else request.GET
    task = None
    if source.get("task", "").isdigit():
        task = get_object_or_404(
            list_tasks_for_user(request.user).filter(
                run=run, kind__in=[TaskKind.SAMPLE, TaskKind.TAKEDOWN]
            ),
            pk=int(source["task"]),
        )
    necropsy = None
    if source.get("necropsy", "").isdigit():
        necropsy = get_object_or_404(
            list_necropsies_for_user(request.user).filter(animal__run=run),
            pk=int(source["necropsy"]),
        )
    initial: dict[str, Any] = {"collected_at": _local_now(request, lab)}
    if task is not None:
        initial["animal"] = task.animal_id
        tissue = task.procedure and sample_services.procedure_tissue(task.procedure)
        if tissue:
            initial["tissue"] = tissue
    elif necropsy is not None:
        initial["animal"] = necropsy.animal_id
    elif source.get("animal", "").isdigit():
        initial["animal"] = int(source["animal"])
    form = SampleForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        animals=animals,
        doses=doses,
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["collected_at"] = _aware(data["collected_at"], lab)
        for name in ("dose", "nominal_hours_after_dose", "window_minutes"):
            data.setdefault(name, None)
        try:
            with refusals_as_errors():
                sample = sample_services.record_sample(
                    collected_by=request.user, task=task, necropsy=necropsy, **data
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            note = " It is outside its timing window." if sample.outside_window else ""
            messages.success(request, f"Sample {sample.barcode} recorded.{note}")
            return redirect("sample_detail", pk=sample.pk)
    return render(
        request,
        "labnotes/sample_form.html",
        {"run": run, "form": form, "task": task, "necropsy": necropsy},
    )


def _typed(data: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value!r}" for name, value in data.items() if value) or "nothing"


def _sample(request: HttpRequest, pk: int) -> Any:
    return get_object_or_404(list_samples_for_user(request.user), pk=pk)


def _sample_page(
    request: AuthenticatedHttpRequest,
    sample: Any,
    *,
    correction: CorrectionForm | None = None,
    void_form: ReasonForm | None = None,
    status: int = 200,
) -> HttpResponse:
    blinding = blinding_for(request.user, sample.animal.run.study)
    correction = correction or CorrectionForm(
        initial={
            "freezer": sample.freezer,
            "rack": sample.rack,
            "box": sample.box,
            "position": sample.position,
            "notes": sample.notes,
            "row_version": sample.row_version,
        },
        prefix="correct",
    )
    return render(
        request,
        "labnotes/sample_detail.html",
        {
            "sample": sample,
            "run": sample.animal.run,
            "timing": dose_description(sample, blinding.sees_dosing),
            "correction": correction,
            "void_form": void_form or ReasonForm(prefix="void"),
            "entries": list_entries_linked_to(request.user, sample=sample)[:20],
        },
        status=status,
    )


@login_required
@require_GET
def sample_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _sample_page(request, _sample(request, pk))


@login_required
@require_POST
def sample_correct(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Correct storage place and notes with a reason. A stale form answers 409 with the values
    someone else saved meanwhile in the form, and the reader's own below them."""
    sample = _sample(request, pk)
    form = CorrectionForm(request.POST, prefix="correct")
    if form.is_valid():
        data = dict(form.cleaned_data)
        expected = data.pop("row_version")
        reason = data.pop("reason")
        try:
            sample_services.correct_sample(
                sample=sample,
                changed_by=request.user,
                reason=reason,
                expected_version=expected,
                **data,
            )
        except StaleWrite as stale:
            current: Any = stale.current
            form = CorrectionForm(
                initial={
                    **{
                        name: getattr(current, name)
                        for name in ("freezer", "rack", "box", "position", "notes")
                    },
                    "row_version": current.row_version,
                },
                prefix="correct",
            )
            form.add_error(
                None,
                "Someone changed this sample after you opened it; the form now shows their "
                f"values (you had entered: {_typed(data)}). Check them and save again.",
            )
            return _sample_page(request, _sample(request, pk), correction=form, status=409)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Sample corrected.")
            return redirect("sample_detail", pk=sample.pk)
    return _sample_page(request, sample, correction=form)


@login_required
@require_POST
def sample_void(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    sample = _sample(request, pk)
    form = ReasonForm(request.POST, prefix="void")
    if form.is_valid():
        try:
            sample_services.void_sample(
                sample=sample, voided_by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Sample {sample.barcode} voided.")
            return redirect("sample_detail", pk=sample.pk)
    return _sample_page(request, sample, void_form=form)


@login_required
@require_GET
def sample_label(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    sample = _sample(request, pk)
    labels = sample_services.build_sample_labels([sample])
    return _pdf(
        render_sample_labels_pdf(labels, size=_size(request)), f"sample-{sample.barcode}.pdf"
    )


@login_required
@require_GET
def run_sample_labels(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Labels of the run's samples (``?day=`` one study day), voided ones left out."""
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    samples = list_samples_for_user(request.user).filter(animal__run=run, voided_at__isnull=True)
    day = request.GET.get("day", "")
    if day.lstrip("-").isdigit():
        samples = samples.filter(study_day=int(day))
    chosen = list(samples.order_by("animal__tag", "collected_at", "pk"))
    if not chosen:
        messages.info(request, "No samples to print.")
        return redirect("run_samples", pk=run.pk)
    labels = sample_services.build_sample_labels(chosen)
    return _pdf(
        render_sample_labels_pdf(labels, size=_size(request)),
        f"sample-labels-{run.study.code}-{run.code}.pdf",
    )


# -- necropsies --------------------------------------------------------------------------------


@login_required
@require_GET
def run_necropsies(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    necropsies = list(
        list_necropsies_for_user(request.user)
        .filter(animal__run=run)
        .prefetch_related("samples")
        .order_by("animal__tag", "pk")
    )
    rows = []
    for necropsy in necropsies:
        ratios = necropsy_services.organ_body_ratios(
            organ_weights=necropsy.organ_weights,
            terminal_body_weight_g=necropsy.terminal_body_weight_g,
            tumour_weights=necropsy.tumour_weights,
        )
        findings = ", ".join(GrossFinding(code).label for code in necropsy.gross_findings)
        rows.append((necropsy, ratios, findings))
    done = {n.animal_id for n in necropsies if not n.is_voided}
    waiting = (
        list_animals_for_user(request.user)
        .filter(run=run)
        .exclude(status__in=[AnimalStatus.ON_STUDY, AnimalStatus.TRANSFERRED])
        .exclude(pk__in=done)
        .order_by("tag")
    )
    return render(
        request,
        "labnotes/necropsy_list.html",
        {"run": run, "rows": rows, "waiting": waiting},
    )


class NecropsyForm(forms.Form):
    performed_at = forms.DateTimeField(
        label="Performed at",
        widget=forms.DateTimeInput(_input(type="datetime-local"), format="%Y-%m-%dT%H:%M"),
    )
    terminal_body_weight_g = forms.DecimalField(
        label="Terminal body weight", required=False, decimal_places=2,
        widget=forms.NumberInput(_input(step="0.01", inputmode="decimal")),
    )  # fmt: skip
    gross_findings = forms.MultipleChoiceField(
        choices=GrossFinding.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    gross_notes = forms.CharField(
        label="Gross findings, described",
        required=False,
        widget=forms.Textarea(_input(rows=3)),
    )
    reason = forms.CharField(
        max_length=500,
        required=False,
        help_text="Why the record changes (required when correcting).",
        widget=forms.TextInput(_input()),
    )
    row_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, editing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["terminal_body_weight_g"].unit = "g"  # type: ignore[attr-defined]
        if not editing:
            del self.fields["reason"]


def _rows(post: Any, prefix: str, value_key: str, count: int) -> list[dict[str, str]]:
    """Row inputs ``<prefix>-<i>-organ`` / ``<prefix>-<i>-<value_key>``; blank rows dropped."""
    rows = []
    for index in range(count):
        organ = post.get(f"{prefix}-{index}-organ", "").strip()
        value = post.get(f"{prefix}-{index}-{value_key}", "").strip()
        if organ or value:
            rows.append({"organ": organ, value_key: value})
    return rows


def _row_table(
    saved: list[dict[str, Any]], protocol: tuple[str, ...], key: str
) -> list[dict[str, Any]]:
    names = [row["organ"] for row in saved]
    rows = [dict(row) for row in saved]
    rows += [{"organ": organ, key: ""} for organ in protocol if organ not in names]
    rows += [{"organ": "", key: ""} for _ in range(EXTRA_ROWS)]
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def animal_necropsy(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The necropsy of one animal: the form records it, or corrects it (with a reason)."""
    animal = get_object_or_404(
        list_animals_for_user(request.user).select_related("run__study__lab"), pk=pk
    )
    lab = animal.run.study.lab
    necropsy = (
        list_necropsies_for_user(request.user)
        .filter(animal=animal, voided_at__isnull=True)
        .prefetch_related("samples")
        .first()
    )
    _, parameters = necropsy_services.necropsy_parameters(animal)
    tumours = list(animal.tumours.order_by("pk"))
    samples = list(
        list_samples_for_user(request.user).filter(animal=animal, voided_at__isnull=True)
    )
    editing = necropsy is not None
    initial: dict[str, Any] = {"performed_at": _local_now(request, lab)}
    if necropsy is not None:
        initial = {
            "performed_at": timezone.localtime(necropsy.performed_at, lab.zone).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "terminal_body_weight_g": necropsy.terminal_body_weight_g,
            "gross_findings": necropsy.gross_findings,
            "gross_notes": necropsy.gross_notes,
            "row_version": necropsy.row_version,
        }
    form = NecropsyForm(
        request.POST if request.method == "POST" else None, initial=initial, editing=editing
    )
    organ_rows = _row_table(
        necropsy.organ_weights if necropsy else [], parameters.organ_weights, "weight_mg"
    )
    metastasis_rows = _row_table(
        necropsy.metastasis_counts if necropsy else [],
        parameters.metastasis_count_organs,
        "count",
    )
    tumour_values = {
        int(row["tumour"]): row["weight_mg"]
        for row in (necropsy.tumour_weights if necropsy else [])
    }
    status = 200
    if request.method == "POST":
        organ_rows_posted = _rows(request.POST, "organ", "weight_mg", len(organ_rows))
        metastasis_posted = _rows(request.POST, "metastasis", "count", len(metastasis_rows))
        tumour_posted = [
            {"tumour": tumour.pk, "weight_mg": request.POST.get(f"tumour-{tumour.pk}", "").strip()}
            for tumour in tumours
            if request.POST.get(f"tumour-{tumour.pk}", "").strip()
        ]
        linked = [s for s in samples if request.POST.get(f"sample-{s.pk}")]
        # Keep what was typed when the page comes back with errors.
        organ_rows = organ_rows_posted + [{"organ": "", "weight_mg": ""} for _ in range(EXTRA_ROWS)]
        metastasis_rows = metastasis_posted + [
            {"organ": "", "count": ""} for _ in range(EXTRA_ROWS)
        ]
        tumour_values = {int(str(row["tumour"])): str(row["weight_mg"]) for row in tumour_posted}
        if form.is_valid():
            data = form.cleaned_data
            values: dict[str, Any] = {
                "performed_at": _aware(data["performed_at"], lab),
                "terminal_body_weight_g": data.get("terminal_body_weight_g"),
                "tumour_weights": tumour_posted,
                "organ_weights": organ_rows_posted,
                "metastasis_counts": metastasis_posted,
                "gross_findings": data.get("gross_findings") or [],
                "gross_notes": data.get("gross_notes") or "",
                "samples": linked,
            }
            try:
                if necropsy is None:
                    necropsy_services.record_necropsy(
                        animal=animal, performed_by=request.user, **values
                    )
                    messages.success(request, f"Necropsy of animal {animal.tag} recorded.")
                else:
                    necropsy_services.update_necropsy(
                        necropsy=necropsy,
                        changed_by=request.user,
                        reason=data.get("reason") or "",
                        expected_version=data.get("row_version"),
                        **values,
                    )
                    messages.success(request, f"Necropsy of animal {animal.tag} corrected.")
            except StaleWrite:
                form.add_error(
                    None,
                    "Someone changed this necropsy record after you opened it. Your values are "
                    "still in the form; open the page again to see theirs before saving.",
                )
                status = 409
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("animal_necropsy", pk=animal.pk)
    ratios = (
        necropsy_services.organ_body_ratios(
            organ_weights=necropsy.organ_weights,
            terminal_body_weight_g=necropsy.terminal_body_weight_g,
            tumour_weights=necropsy.tumour_weights,
        )
        if necropsy
        else []
    )
    return render(
        request,
        "labnotes/necropsy_form.html",
        {
            "animal": animal,
            "run": animal.run,
            "necropsy": necropsy,
            "form": form,
            "organ_rows": organ_rows,
            "metastasis_rows": metastasis_rows,
            "tumour_rows": [(tumour, tumour_values.get(tumour.pk, "")) for tumour in tumours],
            "samples": [
                (
                    s,
                    s.necropsy_id is not None
                    and necropsy is not None
                    and s.necropsy_id == necropsy.pk,
                )
                for s in samples
                if s.necropsy_id is None or (necropsy is not None and s.necropsy_id == necropsy.pk)
            ],
            "ratios": ratios,
            "on_study": animal.status == AnimalStatus.ON_STUDY,
            "void_form": ReasonForm(prefix="void"),
        },
        status=status,
    )


@login_required
@require_POST
def necropsy_void(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    necropsy: Necropsy = get_object_or_404(list_necropsies_for_user(request.user), pk=pk)
    form = ReasonForm(request.POST, prefix="void")
    if not form.is_valid():
        messages.error(request, "Say why the necropsy record is voided.")
        return redirect("animal_necropsy", pk=necropsy.animal_id)
    try:
        necropsy_services.void_necropsy(
            necropsy=necropsy, voided_by=request.user, reason=form.cleaned_data["reason"]
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, "Necropsy record voided.")
    return redirect("animal_necropsy", pk=necropsy.animal_id)
