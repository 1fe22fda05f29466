"""Dosing pages: today's dosing list (keyboard first: one row per animal and agent, Enter
records, the row is swapped by htmx and the next due row takes the focus), formulation batches
and the protocol's permitted modifications. What a reader may see is decided in
``labnotes.services.dosing``: the list for members who may dose, agents only where allowed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labnotes.models import (
    Animal,
    DoseRecord,
    FormulationBatch,
    ModificationKind,
    StudyRun,
    Task,
    TaskKind,
)
from labnotes.selectors import (
    blinding_for,
    list_dose_modifications_for_user,
    list_doses_for_user,
    list_formulation_batches_for_user,
    list_runs_for_user,
    list_tasks_for_user,
)
from labnotes.services import dosing as dosing_services
from labnotes.services.common import StaleWrite
from labnotes.services.dosing import DosingRow
from labnotes.services.locks import refusals_as_errors
from labnotes.views.common import add_service_errors
from planner.models import Lab, RegimenItem
from planner.types import AuthenticatedHttpRequest

ROUTES = ("IP", "IV", "SC", "PO", "IT", "IM")


def _day(request: HttpRequest, lab: Lab) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("day", "") or request.POST.get("day", ""))
    except ValueError:
        return lab.local_date(timezone.now())


def _doser_run(request: HttpRequest, pk: int) -> Any:
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    if not dosing_services.may_dose(request.user, run.study):
        raise PermissionDenied("The dosing list is for study members who may dose.")
    return run


def _dose_task(request: HttpRequest, pk: int) -> Task:
    task = get_object_or_404(
        list_tasks_for_user(request.user)
        .filter(kind=TaskKind.DOSE)
        .select_related("regimen_item__protocol_version", "regimen_item__arm", "run__study__lab"),
        pk=pk,
    )
    if not dosing_services.may_dose(request.user, task.run.study):
        raise PermissionDenied("Only study members who may dose record doses.")
    return task


def _row_context(request: HttpRequest, row: DosingRow, run: Any, day: dt.date) -> dict[str, Any]:
    lab = run.study.lab
    now = timezone.localtime(timezone.now(), lab.zone)
    return {
        "row": row,
        "run": run,
        "day": day,
        "routes": ROUTES,
        "shows_agents": dosing_services.sees_agents(request.user, run.study),
        "default_time": now.strftime("%H:%M") if day == now.date() else "",
        "dose_text": dosing_services.dose_text(
            row.item, row.plan.dose if row.plan is not None else None
        ),
        "amount_text": dosing_services.amount_text(row.plan.amount_mg if row.plan else None),
        "given_text": dosing_services.amount_text(
            row.dose_record.amount_mg if row.dose_record else None
        ),
    }


def _render_row(
    request: HttpRequest,
    row: DosingRow,
    run: Any,
    day: dt.date,
    *,
    focus: bool = False,
    error: str = "",
    typed: dict[str, str] | None = None,
) -> str:
    context = _row_context(request, row, run, day)
    context.update({"focus": focus, "error": error, "typed": typed or {}})
    return render_to_string("labnotes/dosing_row.html", context, request=request)


def _day_tasks(request: HttpRequest, run: Any, day: dt.date) -> Any:
    """The day's dose tasks, the overdue ones still due, and those dosed (or recorded as
    missed) on the day whatever their date, so that a recorded overdue row stays in view."""
    lab = run.study.lab
    start = dt.datetime.combine(day, dt.time.min, tzinfo=lab.zone)
    recorded = DoseRecord.objects.filter(
        run=run, voided_at__isnull=True, task__isnull=False
    ).filter(
        Q(given_at__gte=start, given_at__lt=start + dt.timedelta(days=1))
        | Q(
            given_at__isnull=True,
            recorded_at__gte=start,
            recorded_at__lt=start + dt.timedelta(days=1),
        )
    )
    return (
        list_tasks_for_user(request.user)
        .filter(run=run, kind=TaskKind.DOSE)
        .filter(
            Q(task_date=day)
            | Q(task_date__lt=day, status="due")
            | Q(pk__in=recorded.values("task_id"))
        )
        .order_by("cage_room", "cage_label", "animal__tag", "task_date", "regimen_item__order")
    )


@login_required
@require_GET
def run_dosing(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The dosing list of a run for a day (``?day=``, default the lab's today)."""
    run = _doser_run(request, pk)
    day = _day(request, run.study.lab)
    rows = dosing_services.dosing_list(
        user=request.user, run=run, day=day, tasks=_day_tasks(request, run, day)
    )
    first = next((r for r in rows if r.recordable), None)
    rendered = [
        _render_row(request, row, run, day, focus=row is first and day == _today(run))
        for row in rows
    ]
    return render(
        request,
        "labnotes/dosing.html",
        {
            "run": run,
            "day": day,
            "rows": rendered,
            "counts": {
                "due": sum(r.recordable for r in rows),
                "done": sum(r.state == dosing_services.RowState.DONE for r in rows),
                "other": sum(
                    not r.recordable and r.state != dosing_services.RowState.DONE for r in rows
                ),
            },
            "shows_agents": dosing_services.sees_agents(request.user, run.study),
            "may_dose": True,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
        },
    )


def _today(run: StudyRun) -> dt.date:
    return run.study.lab.local_date(timezone.now())


@login_required
@require_GET
def dose_task_row(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One row again (htmx), e.g. with another batch chosen (``?batch=``)."""
    task = _dose_task(request, pk)
    batch = request.GET.get("batch", "")
    row = dosing_services.dosing_row(
        user=request.user, task=task, batch_id=int(batch) if batch.isdigit() else None
    )
    return HttpResponse(_render_row(request, row, task.run, _day(request, task.run.study.lab)))


def _given_at(run: Any, day: dt.date, text: str) -> dt.datetime:
    try:
        moment = dt.time.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError({"given_at": "Give the time the dose was given (HH:MM)."}) from None
    return dt.datetime.combine(day, moment, tzinfo=run.study.lab.zone)


def _all_rows(
    request: HttpRequest,
    run: Any,
    day: dt.date,
    *,
    after: int | None = None,
    failed: int | None = None,
    error: str = "",
    typed: dict[str, str] | None = None,
) -> HttpResponse:
    """Every row of the day again (the table body, for htmx): the focus goes to the row that
    failed (with its error and typed values), else to the next due row after ``after``."""
    rows = dosing_services.dosing_list(
        user=request.user, run=run, day=day, tasks=_day_tasks(request, run, day)
    )
    focus = failed
    if focus is None and after is not None:
        index = next((i for i, r in enumerate(rows) if r.task.pk == after), -1)
        following = [r for r in rows[index + 1 :] if r.recordable] or [
            r for r in rows if r.recordable
        ]
        focus = following[0].task.pk if following else None
    html = "".join(
        _render_row(
            request,
            row,
            run,
            day,
            focus=row.task.pk == focus,
            error=error if row.task.pk == failed else "",
            typed=typed if row.task.pk == failed else None,
        )
        for row in rows
    )
    return HttpResponse(html)


@login_required
@require_POST
def dose_task_record(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record the row's dose. With htmx the table body comes back: the row done (or with the
    error and the typed values, focus kept) and the next due row's volume focused; without
    htmx, back to the list with a message."""
    task = _dose_task(request, pk)
    run = task.run
    day = _day(request, run.study.lab)
    typed = {name: request.POST.get(name, "") for name in ("volume_ul", "route", "batch", "time")}
    htmx = request.headers.get("HX-Request") == "true"
    back = reverse("run_dosing", args=[run.pk]) + f"?day={day.isoformat()}"
    try:
        batch = FormulationBatch.objects.filter(
            pk=int(typed["batch"]) if typed["batch"].isdigit() else 0, study=run.study
        ).first()
        if batch is None:
            raise ValidationError({"batch": "Choose the formulation batch."})
        version = request.POST.get("row_version", "")
        with refusals_as_errors():
            dosing_services.record_dose(
                task=task,
                batch=batch,
                volume_ul=typed["volume_ul"],
                given_at=_given_at(run, day, typed["time"]),
                route=typed["route"],
                operator=request.user,
                expected_version=int(version) if version.isdigit() else None,
            )
    except StaleWrite:
        error = "Someone recorded this dose meanwhile: here it is as it is now."
        if not htmx:
            messages.error(request, error)
            return redirect(back)
        return _all_rows(request, run, day, failed=task.pk, error=error)
    except ValidationError as problem:
        error = " ".join(problem.messages)
        if not htmx:
            messages.error(request, f"Animal {task.animal.tag}: {error}")
            return redirect(back)
        return _all_rows(request, run, day, failed=task.pk, error=error, typed=typed)
    if not htmx:
        messages.success(request, f"Dose recorded for {task.animal.tag}.")
        return redirect(back)
    return _all_rows(request, run, day, after=task.pk)


@login_required
@require_POST
def dose_task_missed(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record that the row's dose was not given (a deviation), with why."""
    task = _dose_task(request, pk)
    run = task.run
    day = _day(request, run.study.lab)
    try:
        dosing_services.record_missed_dose(
            task=task, recorded_by=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as problem:
        messages.error(request, f"Animal {task.animal.tag}: {' '.join(problem.messages)}")
    else:
        messages.success(request, f"Dose of {task.animal.tag} recorded as missed.")
    return redirect(reverse("run_dosing", args=[run.pk]) + f"?day={day.isoformat()}")


# -- batches -------------------------------------------------------------------------------------


def _input(**attributes: str) -> dict[str, str]:
    return {"class": "input", **attributes}


class BatchForm(forms.Form):
    agent = forms.ChoiceField(widget=forms.Select(_input()))
    lot = forms.CharField(max_length=60, widget=forms.TextInput(_input(autocomplete="off")))
    concentration_mg_per_ml = forms.DecimalField(
        label="Concentration (mg/mL)",
        min_value=Decimal(0),
        decimal_places=4,
        widget=forms.NumberInput(_input(step="any", inputmode="decimal")),
    )
    vehicle = forms.CharField(max_length=200, widget=forms.TextInput(_input()))
    coded_label = forms.CharField(
        max_length=40,
        required=False,
        label="Code on the vial (double-blind)",
        help_text="Leave empty unless dosers must not see the agent.",
        widget=forms.TextInput(_input(autocomplete="off")),
    )
    prepared_at = forms.DateTimeField(
        label="Prepared at", widget=forms.DateTimeInput(_input(type="datetime-local"))
    )
    expires_at = forms.DateTimeField(
        label="Expires at", widget=forms.DateTimeInput(_input(type="datetime-local"))
    )
    notes = forms.CharField(required=False, widget=forms.TextInput(_input()))

    def __init__(self, *args: Any, agents: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [(a, a) for a in agents]  # type: ignore[attr-defined]


def _dosing_visible_run(request: HttpRequest, pk: int) -> Any:
    run = get_object_or_404(list_runs_for_user(request.user), pk=pk)
    if not blinding_for(request.user, run.study).sees_dosing:
        raise PermissionDenied("Dosing records are for those who see dosing.")
    return run


@login_required
@require_http_methods(["GET", "POST"])
def run_dosing_batches(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The study's formulation batches; record a new one."""
    run = _dosing_visible_run(request, pk)
    study = run.study
    shows = dosing_services.sees_agents(request.user, study)
    may_record = shows and (
        dosing_services.may_dose(request.user, study)
        or blinding_for(request.user, study).sees_allocation
    )
    agents = sorted(
        set(RegimenItem.objects.filter(arm__study=study).values_list("agent", flat=True))
    )
    form = BatchForm(request.POST or None, agents=agents if may_record else [])
    if request.method == "POST":
        if not may_record:
            raise PermissionDenied("You may not record formulation batches of this study.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                batch = dosing_services.create_formulation_batch(
                    study=study,
                    agent=data["agent"],
                    lot=data["lot"],
                    concentration_mg_per_ml=data["concentration_mg_per_ml"],
                    vehicle=data["vehicle"],
                    coded_label=data["coded_label"],
                    prepared_by=request.user,
                    prepared_at=data["prepared_at"],
                    expires_at=data["expires_at"],
                    notes=data["notes"],
                    recorded_by=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Batch {batch.lot} recorded.")
                return redirect("run_dosing_batches", pk=run.pk)
    now = timezone.now()
    batches = list(
        list_formulation_batches_for_user(request.user)
        .filter(study=study)
        .order_by("agent", "expires_at")
    )
    return render(
        request,
        "labnotes/dosing_batches.html",
        {
            "run": run,
            "batches": [(b, b.expires_at <= now) for b in batches],
            "form": form if may_record else None,
            "shows_agents": shows,
            "may_dose": dosing_services.may_dose(request.user, study),
        },
    )


@login_required
@require_POST
def formulation_batch_void(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(list_formulation_batches_for_user(request.user), pk=pk)
    run = batch.study.runs.order_by("-day0").first()
    try:
        dosing_services.void_formulation_batch(
            batch=batch, voided_by=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Batch {batch.lot} voided.")
    target = request.POST.get("run", "")
    if target.isdigit() and list_runs_for_user(request.user).filter(pk=int(target)).exists():
        return redirect("run_dosing_batches", pk=int(target))
    if run is None:
        return redirect("run_list")
    return redirect("run_dosing_batches", pk=run.pk)


# -- modifications -------------------------------------------------------------------------------


class ModificationForm(forms.Form):
    tag = forms.CharField(
        label="Animal tag", max_length=40, widget=forms.TextInput(_input(autocomplete="off"))
    )
    kind = forms.ChoiceField(choices=ModificationKind.choices, widget=forms.Select(_input()))
    effective_from = forms.DateField(
        required=False,
        label="From (default today)",
        widget=forms.DateInput(_input(type="date")),
    )
    reason = forms.CharField(max_length=1000, widget=forms.TextInput(_input(autocomplete="off")))


@login_required
@require_http_methods(["GET", "POST"])
def run_dose_modifications(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The run's permitted dose modifications; apply one (each item whose protocol permits it,
    with the animal's latest weight)."""
    run = _dosing_visible_run(request, pk)
    form = ModificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        animal = Animal.objects.filter(run=run, tag=data["tag"].strip()).first()
        if animal is None:
            form.add_error("tag", f"No animal {data['tag']} in run {run.code}.")
        else:
            try:
                made = dosing_services.apply_dose_modification(
                    animal=animal,
                    kind=data["kind"],
                    decided_by=request.user,
                    reason=data["reason"],
                    effective_from=data["effective_from"],
                )
            except (ValidationError, PermissionDenied) as error:
                if isinstance(error, PermissionDenied):
                    raise
                add_service_errors(form, error)
            else:
                changed = sum(m.tasks_changed for m in made)
                messages.success(
                    request,
                    f"{made[0].get_kind_display()} applied to {animal.tag} per protocol "
                    f"({changed} dose task(s) rewritten).",
                )
                return redirect("run_dose_modifications", pk=run.pk)
    return render(
        request,
        "labnotes/dosing_modifications.html",
        {
            "run": run,
            "form": form,
            "modifications": list_dose_modifications_for_user(request.user)
            .filter(run=run)
            .order_by("-effective_from", "-pk"),
            "deviations": list_doses_for_user(request.user)
            .filter(run=run, voided_at__isnull=True, deviations__isnull=False)
            .prefetch_related("deviations")
            .distinct()
            .order_by("-scheduled_for", "animal__tag"),
            "shows_agents": dosing_services.sees_agents(request.user, run.study),
            "may_dose": dosing_services.may_dose(request.user, run.study),
        },
    )
