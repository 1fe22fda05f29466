"""Run pages: runs of a study, a run with its animals, registration, cages, staging,
randomization and unblinding. Every object is looked up through a scoped selector first, so a
person of another lab gets 404 before anything else happens."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from labnotes import forms
from labnotes.models import (
    Animal,
    BatchMethod,
    BatchStatus,
    RandomizationBatch,
    TumourRole,
    UnblindingScope,
)
from labnotes.selectors import (
    arm_summaries,
    blinding_for,
    list_animals_for_user,
    list_batches_for_user,
    list_cages_for_user,
    list_run_animals_for_user,
    list_run_cages_for_user,
    list_runs_for_user,
    list_unblindings_for_user,
    randomization_parameters,
    staging_rows,
)
from labnotes.selectors_records import animal_records
from labnotes.services import animals as animal_services
from labnotes.services import blinding as blinding_services
from labnotes.services import randomization as randomization_services
from labnotes.services import runs as run_services
from labnotes.services.locks import refusals_as_errors
from labnotes.services.measurements import record_measurement
from labnotes.services.prints import arm_display, may_print_dosers_copy
from labnotes.views.common import add_service_errors
from planner.models import Role
from planner.selectors import list_studies_for_user, roles_in_lab
from planner.types import AuthenticatedHttpRequest

_METHOD_BY_PROTOCOL = {
    "simple": "simple",
    "stratified_volume": "stratified",
    "covariate_balance": "balance",
}


def _run(request: HttpRequest, pk: int) -> Any:
    return get_object_or_404(list_runs_for_user(request.user), pk=pk)


# -- runs --------------------------------------------------------------------------------------


@login_required
def run_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    runs = list_runs_for_user(request.user).order_by("study__code", "-day0", "code")
    return render(request, "labnotes/run_list.html", {"runs": runs})


@login_required
@require_http_methods(["GET", "POST"])
def study_runs(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    form = forms.StartRunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = run_services.start_study_run(
                study=study,
                code=form.cleaned_data["code"],
                day0=form.cleaned_data["day0"],
                last_study_day=form.cleaned_data["last_study_day"],
                started_by=request.user,
            )
        except PermissionDenied as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Run {run.code} started.")
            return redirect("run_detail", pk=run.pk)
    runs = list_runs_for_user(request.user).filter(study=study).order_by("-day0", "code")
    return render(request, "labnotes/study_runs.html", {"study": study, "runs": runs, "form": form})


@login_required
def run_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    study = run.study
    blinding = blinding_for(request.user, study)
    animals = list(
        list_run_animals_for_user(request.user, run).select_related("arm", "origin__run")
    )
    rows = [(animal, arm_display(animal, blinding.sees_allocation)) for animal in animals]
    roles = roles_in_lab(request.user, study.lab)
    return render(
        request,
        "labnotes/run_detail.html",
        {
            "run": run,
            "study": study,
            "blinding": blinding,
            "rows": rows,
            "arms": arm_summaries(run, request.user),
            "batches": list_batches_for_user(request.user).filter(run=run).order_by("-number"),
            "may_randomize": blinding.sees_allocation
            and bool(roles & {Role.SCIENTIST, Role.STUDY_DIRECTOR, Role.LAB_ADMIN}),
            "may_unblind_study": study.blinded
            and Role.STUDY_DIRECTOR in roles
            and not list_unblindings_for_user(request.user)
            .filter(study=study, scope=UnblindingScope.STUDY)
            .exists(),
            "dosers_copy": may_print_dosers_copy(request.user, study),
            "today": study.lab.local_date(timezone.now()),
            # Per-arm mean ± SEM volume from counted readings; None when blinded.
            "growth": _growth_table(run, request.user),
        },
    )


def _growth_table(run: Any, user: Any) -> Any:
    from labnotes.selectors_measurements import growth_summary, growth_table

    summaries = growth_summary(run, user)
    return growth_table(summaries) if summaries else None


# -- animals -----------------------------------------------------------------------------------


def _rows_from(form: forms.RegisterAnimalsForm) -> list[dict[str, Any]]:
    upload = form.cleaned_data.get("file")
    if upload:
        rows = animal_services.read_animal_file(content=upload.read(), filename=upload.name)
    else:
        rows = animal_services.parse_pasted_animals(form.cleaned_data["tags"])
    # Carried to the confirm step in a hidden field: plain strings (dates as ISO text).
    return [
        {
            key: (value.isoformat() if isinstance(value, dt.date) else value)
            for key, value in row.items()
        }
        for row in rows
    ]


@login_required
@require_http_methods(["GET", "POST"])
def animal_register(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Paste tags or upload a file → a preview naming every bad row → confirm saves all or none."""
    run = _run(request, pk)
    form = forms.RegisterAnimalsForm(request.POST or None, request.FILES or None)
    preview = None
    rows_json = ""
    if request.method == "POST":
        confirm = request.POST.get("action") == "register"
        if confirm:
            rows = json.loads(request.POST.get("rows_json") or "[]")
            received = request.POST.get("received_on_confirmed") or None
            received_on = dt.date.fromisoformat(received) if received else None
            try:
                animals = animal_services.register_animals(
                    run=run,
                    rows=rows,
                    registered_by=request.user,
                    received_on=received_on,
                )
            except ValidationError:
                preview = animal_services.preview_animal_rows(
                    run=run, rows=rows, received_on=received_on
                )
                rows_json = json.dumps(rows)
            else:
                messages.success(request, f"{len(animals)} animals registered.")
                return redirect("run_detail", pk=run.pk)
        elif form.is_valid():
            try:
                rows = _rows_from(form)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                preview = animal_services.preview_animal_rows(
                    run=run, rows=rows, received_on=form.cleaned_data["received_on"]
                )
                rows_json = json.dumps(rows)
    received_on = (
        form.cleaned_data.get("received_on") if form.is_bound and form.is_valid() else None
    )
    return render(
        request,
        "labnotes/animal_register.html",
        {
            "run": run,
            "form": form,
            "preview": preview,
            "rows_json": rows_json,
            "received_on": received_on or request.POST.get("received_on_confirmed", ""),
            "allowance": _allowance(run),
        },
    )


def _allowance(run: Any) -> Any:
    try:
        return animal_services.ethics_allowance(run)
    except ValidationError:
        return None


@login_required
def animal_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    animal = get_object_or_404(
        list_animals_for_user(request.user).select_related("run__study__lab"), pk=pk
    )
    blinding = blinding_for(request.user, animal.run.study)
    return render(
        request,
        "labnotes/animal_detail.html",
        {
            "animal": animal,
            "run": animal.run,
            "arm": arm_display(animal, blinding.sees_allocation),
            "blinding": blinding,
            "assignments": animal.cage_assignments.select_related("cage").order_by("from_date"),
            "tumours": animal.tumours.select_related("implantation"),
            "form": forms.ReasonForm(),
            "rechallenged": list_animals_for_user(request.user)
            .filter(origin=animal)
            .select_related("run")
            .first(),
            "may_emergency_unblind": blinding_services.may_emergency_unblind(
                request.user, animal.run.study
            ),
            "records": animal_records(request.user, animal),
        },
    )


@login_required
@require_POST
def animal_exclude(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    animal = get_object_or_404(list_animals_for_user(request.user), pk=pk)
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            animal_services.exclude_animal(
                animal=animal,
                reason=form.cleaned_data["reason"],
                excluded_by=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Animal {animal.tag} excluded.")
    else:
        messages.error(request, "Say why the animal is excluded.")
    return redirect("run_staging", pk=animal.run_id)


@login_required
@require_http_methods(["GET", "POST"])
def animal_unblind(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The emergency unblinding of one animal: the arm is shown in this answer, once."""
    animal = get_object_or_404(list_animals_for_user(request.user), pk=pk)
    if not blinding_services.may_emergency_unblind(request.user, animal.run.study):
        raise PermissionDenied(
            "Only a veterinarian or a study director may unblind an animal: call the vet."
        )
    form = forms.ReasonForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = blinding_services.emergency_unblind_animal(
                animal=animal,
                performed_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
    response = render(
        request,
        "labnotes/animal_unblind.html",
        {"animal": animal, "run": animal.run, "form": form, "result": result},
    )
    response["Cache-Control"] = "no-store"
    return response


# -- cages -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def run_cages(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    form = forms.CageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cage = animal_services.create_cage(
                lab=run.study.lab,
                run=run,
                created_by=request.user,
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Cage {cage.label} created.")
            return redirect("run_cages", pk=run.pk)
    return render(
        request,
        "labnotes/cage_list.html",
        {
            "run": run,
            "cages": list_run_cages_for_user(request.user, run),
            "form": form,
            "unhoused": list_run_animals_for_user(request.user, run).filter(
                cage_label__isnull=True  # type: ignore[misc]
            ),
        },
    )


def _cage(request: HttpRequest, pk: int) -> Any:
    return get_object_or_404(list_cages_for_user(request.user).select_related("run__study"), pk=pk)


@login_required
def cage_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cage = _cage(request, pk)
    return _render_cage(request, cage, forms.MoveAnimalsForm(), forms.SplitCageForm(prefix="split"))


def _render_cage(request: HttpRequest, cage: Any, move: Any, split: Any) -> HttpResponse:
    animals = list(
        list_animals_for_user(request.user)
        .filter(cage_assignments__cage=cage, cage_assignments__to_date__isnull=True)
        .select_related("arm")
        .order_by("tag")
    )
    run = cage.run
    sees = blinding_for(request.user, run.study).sees_allocation if run else False
    return render(
        request,
        "labnotes/cage_detail.html",
        {
            "cage": cage,
            "run": run,
            "rows": [(animal, arm_display(animal, sees)) for animal in animals],
            "move_form": move,
            "split_form": split,
        },
    )


def _animals_by_tag(request: HttpRequest, cage: Any, tags: list[str]) -> list[Animal]:
    found = {
        a.tag: a
        for a in list_animals_for_user(request.user).filter(run=cage.run_id or -1, tag__in=tags)
    }
    missing = [tag for tag in tags if tag not in found]
    if missing:
        raise ValidationError({"tags": f"No animal of this run has tag {', '.join(missing)}."})
    return [found[tag] for tag in tags]


@login_required
@require_POST
def cage_move(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cage = _cage(request, pk)
    form = forms.MoveAnimalsForm(request.POST)
    if form.is_valid():
        try:
            animals = _animals_by_tag(request, cage, form.tag_list())
            animal_services.move_animals(
                animals=animals,
                cage=cage,
                moved_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{len(animals)} animal(s) moved into cage {cage.label}.")
            return redirect("cage_detail", pk=cage.pk)
    return _render_cage(request, cage, form, forms.SplitCageForm(prefix="split"))


@login_required
@require_POST
def cage_split(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cage = _cage(request, pk)
    form = forms.SplitCageForm(request.POST, prefix="split")
    if form.is_valid():
        try:
            animals = _animals_by_tag(request, cage, form.tag_list())
            new_cage = animal_services.split_cage(
                cage=cage,
                animals=animals,
                new_label=form.cleaned_data["new_label"],
                moved_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Cage split: {len(animals)} animal(s) now in {new_cage.label}."
            )
            return redirect("cage_detail", pk=new_cage.pk)
    return _render_cage(request, cage, forms.MoveAnimalsForm(), form)


# -- staging -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def run_staging(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The staging table (volume vs the eligibility window) and a one-animal entry form."""
    run = _run(request, pk)
    form = forms.StagingEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        animal = list_animals_for_user(request.user).filter(run=run, tag=data["tag"]).first()
        try:
            if animal is None:
                raise ValidationError({"tag": f"No animal of this run has tag {data['tag']}."})
            now = timezone.now()
            with refusals_as_errors():
                if data["length_mm"] is not None:
                    tumour = animal.tumours.filter(role=TumourRole.INJECTED).order_by("pk").first()
                    if tumour is None:
                        raise ValidationError(
                            {
                                "tag": f"Animal {animal.tag} has no tumour recorded: record its "
                                "implantation first."
                            }
                        )
                    record_measurement(
                        tumour=tumour,
                        length_mm=data["length_mm"],
                        width_mm=data["width_mm"],
                        taken_at=now,
                        operator=request.user,
                        reason=data["reason"] or None,
                    )
                if data["weight_g"] is not None:
                    record_measurement(
                        animal=animal,
                        weight_g=data["weight_g"],
                        taken_at=now,
                        operator=request.user,
                        reason=data["reason"] or None,
                    )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved for {animal.tag}.")
            return redirect(reverse("run_staging", kwargs={"pk": run.pk}) + "#id_tag")
    rows = staging_rows(run)
    return render(
        request,
        "labnotes/staging.html",
        {
            "run": run,
            "form": form,
            "rows": rows,
            "eligible": sum(1 for row in rows if row.eligible),
            "parameters": randomization_parameters(run.study),
            "exclude_form": forms.ReasonForm(),
        },
    )


# -- randomization ---------------------------------------------------------------------------


def _require_allocation_visible(request: HttpRequest, run: Any) -> None:
    # Blinded people never reach the randomization pages (the preview shows the allocation).
    if not blinding_for(request.user, run.study).sees_allocation:
        raise PermissionDenied("Only unblinded members of this study may randomize.")


@login_required
@require_http_methods(["GET", "POST"])
def run_randomize(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    _require_allocation_visible(request, run)
    parameters = randomization_parameters(run.study)
    initial = {"method": _METHOD_BY_PROTOCOL.get(getattr(parameters, "method", ""), "balance")}
    if parameters is not None:
        initial["method"] = _METHOD_BY_PROTOCOL.get(str(parameters.method.value), "balance")
    form = forms.RandomizeForm(request.POST or None, initial=initial)
    # An imported allocation is not something one previews here.
    method_field = cast(Any, form.fields["method"])
    method_field.choices = [c for c in method_field.choices if c[0] != BatchMethod.IMPORTED]
    if request.method == "POST" and form.is_valid():
        try:
            batch = randomization_services.preview_randomization(
                run=run,
                requested_by=request.user,
                method=form.cleaned_data["method"],
                seed=form.cleaned_data["seed"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("batch_detail", pk=batch.pk)
    rows = staging_rows(run)
    return render(
        request,
        "labnotes/randomize.html",
        {
            "run": run,
            "form": form,
            "eligible": sum(1 for row in rows if row.eligible),
            "batches": list_batches_for_user(request.user)
            .filter(run=run)
            .order_by("-number", "-pk"),
        },
    )


def _batch(request: HttpRequest, pk: int) -> RandomizationBatch:
    return get_object_or_404(list_batches_for_user(request.user), pk=pk)


@login_required
def batch_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    return _render_batch(request, batch, forms.ReasonForm())


def _render_batch(request: HttpRequest, batch: RandomizationBatch, void_form: Any) -> HttpResponse:
    balance = batch.balance or {}
    covariates = list((batch.inputs or {}).get("covariates") or ["volume_mm3"])
    labels = {arm.code: arm.label for arm in batch.run.study.arms.all()}
    table = [
        {
            "arm_code": row["arm_code"],
            "arm_label": labels.get(row["arm_code"], ""),
            "n": row["n"],
            "values": [(row.get(f"{c}_mean"), row.get(f"{c}_sd")) for c in covariates],
        }
        for row in balance.get("arms", [])
    ]
    return render(
        request,
        "labnotes/batch_detail.html",
        {
            "batch": batch,
            "run": batch.run,
            "covariates": covariates,
            "table": table,
            "smd": [(c, (balance.get("largest_smd") or {}).get(c)) for c in covariates],
            "anova": [(c, (balance.get("anova_p") or {}).get(c)) for c in covariates],
            "allocation": sorted(batch.allocation or [], key=lambda row: row["tag"]),
            "labels": labels,
            "void_form": void_form,
            "is_preview": batch.status == BatchStatus.PREVIEWED,
            "today": batch.run.study.lab.local_date(timezone.now()),
            "is_applied": batch.status == BatchStatus.APPLIED,
        },
    )


@login_required
@require_POST
def batch_apply(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    try:
        text = request.POST.get("randomized_on", "").strip()
        try:
            randomized_on = dt.date.fromisoformat(text) if text else None
        except ValueError:
            raise ValidationError(f"'{text}' is not a date (YYYY-MM-DD).") from None
        randomization_services.apply_randomization(
            batch=batch, applied_by=request.user, randomized_on=randomized_on
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("batch_detail", pk=batch.pk)
    messages.success(
        request, f"Batch {batch.number} applied: the animals have their arms and tasks."
    )
    return redirect("batch_detail", pk=batch.pk)


@login_required
@require_POST
def batch_void(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            randomization_services.void_randomization(
                batch=batch,
                voided_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Batch {batch.number} voided.")
            return redirect("batch_detail", pk=batch.pk)
    return _render_batch(request, batch, form)


# -- unblinding --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def study_unblind(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A study director unblinds the whole study: password re-entry and a reason."""
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    if Role.STUDY_DIRECTOR not in roles_in_lab(request.user, study.lab):
        raise PermissionDenied("Only a study director may unblind a study.")
    form = forms.UnblindStudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            blinding_services.unblind_study(
                study=study,
                performed_by=request.user,
                password=form.cleaned_data["password"],
                reason=form.cleaned_data["reason"],
            )
        except PermissionDenied as error:
            form.add_error("password", str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Study {study.code} is unblinded.")
            return redirect("study_runs", pk=study.pk)
    return render(request, "labnotes/study_unblind.html", {"study": study, "form": form})
