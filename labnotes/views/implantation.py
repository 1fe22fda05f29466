"""Run pages for implantation (many animals at once, one or two sites) and re-challenge runs."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from labnotes.models import Animal, AnimalStatus, Implantation, RunStatus, StudyRun, TumourRole
from labnotes.selectors import latest_readings, list_run_animals_for_user, list_runs_for_user
from labnotes.services import animals as animal_services
from labnotes.services import runs as run_services
from labnotes.services.common import RECORDERS
from labnotes.views.common import add_service_errors
from planner.types import AuthenticatedHttpRequest


def _input(**attrs: Any) -> dict[str, Any]:
    return {"class": "input", **attrs}


def _run(request: HttpRequest, pk: int) -> StudyRun:
    return get_object_or_404(list_runs_for_user(request.user), pk=pk)


def _person(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _operators(run: StudyRun) -> Any:
    """People of the run's lab who may record animal work (the operator choices)."""
    return User.objects.filter(
        memberships__lab=run.study.lab, memberships__role__in=RECORDERS, is_active=True
    ).order_by("last_name", "first_name", "username")


# -- implantation ------------------------------------------------------------------------------


class ImplantationForm(forms.Form):
    """What was done to every chosen animal; the sites come from the implantation protocol."""

    animals: forms.ModelMultipleChoiceField[Animal] = forms.ModelMultipleChoiceField(
        queryset=Animal.objects.none()
    )
    implanted_on = forms.DateField(
        label="Implanted on", widget=forms.DateInput(_input(type="date"))
    )
    cells = forms.IntegerField(
        label="Cells per site",
        min_value=1,
        max_value=10**9,
        widget=forms.NumberInput(_input(inputmode="numeric")),
    )
    viability_percent = forms.DecimalField(
        label="Viability",
        required=False,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=1,
        help_text="Trypan blue count of the cells injected.",
        widget=forms.NumberInput(_input(step="0.1", inputmode="decimal")),
    )
    passage = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=999,
        help_text="Passage number of the cells used.",
        widget=forms.NumberInput(_input(inputmode="numeric")),
    )
    operator: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=User.objects.none(), widget=forms.Select(_input())
    )
    site_1 = forms.CharField(label="Site", max_length=60, widget=forms.TextInput(_input()))
    role_1 = forms.ChoiceField(
        label="Tumour role", choices=TumourRole.choices, widget=forms.Select(_input())
    )
    site_2 = forms.CharField(
        label="Second site",
        max_length=60,
        required=False,
        help_text="Bilateral designs only (e.g. left flank); leave empty for one site.",
        widget=forms.TextInput(_input()),
    )
    role_2 = forms.ChoiceField(
        label="Second tumour role",
        choices=TumourRole.choices,
        initial=TumourRole.CONTRALATERAL,
        widget=forms.Select(_input()),
    )
    deviations = forms.CharField(
        required=False,
        max_length=2000,
        help_text="Required when the viability or passage departs from the protocol.",
        widget=forms.Textarea(_input(rows=2)),
    )

    def __init__(self, *args: Any, run: StudyRun, animals: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        animal_field = cast("forms.ModelMultipleChoiceField[Animal]", self.fields["animals"])
        animal_field.queryset = animals
        animal_field.error_messages["required"] = "Choose at least one animal."
        operator_field = cast("forms.ModelChoiceField[User]", self.fields["operator"])
        operator_field.queryset = _operators(run)
        operator_field.label_from_instance = _person  # type: ignore[method-assign,assignment]
        self.fields["viability_percent"].unit = "%"  # type: ignore[attr-defined]

    def sites(self) -> list[animal_services.ImplantationSite]:
        data = self.cleaned_data
        chosen = [animal_services.ImplantationSite(site=data["site_1"], role=data["role_1"])]
        if (data.get("site_2") or "").strip():
            chosen.append(
                animal_services.ImplantationSite(site=data["site_2"], role=data["role_2"])
            )
        return chosen


@login_required
@require_http_methods(["GET", "POST"])
def run_implantation(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record the implantation of the chosen animals (one or two sites each) in one go; the
    protocol's values are shown and departures from them must be described."""
    run = _run(request, pk)
    protocol = animal_services.implantation_protocol(run)
    candidates = list_run_animals_for_user(request.user, run).filter(status=AnimalStatus.ON_STUDY)
    sites = list(protocol.sites) if protocol else []
    initial: dict[str, Any] = {
        "implanted_on": run.day0,
        "operator": request.user.pk,
        "site_1": sites[0] if sites else "right flank",
        "role_1": TumourRole.INJECTED,
        "site_2": sites[1] if len(sites) > 1 else "",
        "role_2": TumourRole.CONTRALATERAL,
    }
    if protocol is not None:
        initial["cells"] = protocol.cells_per_site
    form = ImplantationForm(request.POST or None, run=run, animals=candidates, initial=initial)
    found: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        found = animal_services.implantation_deviations(
            protocol, viability_percent=data["viability_percent"], passage=data["passage"]
        )
        try:
            records = animal_services.record_implantations(
                run=run,
                animals=list(data["animals"].order_by("tag")),
                sites=form.sites(),
                implanted_on=data["implanted_on"],
                cells=data["cells"],
                operator=data["operator"],
                recorded_by=request.user,
                viability_percent=data["viability_percent"],
                passage=data["passage"],
                deviations=data["deviations"] or "",
            )
        except PermissionDenied as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            animals = len({record.tumour.animal_id for record in records})
            messages.success(
                request,
                f"Implantation recorded for {animals} animal(s), {len(records)} tumour(s)"
                + (" with a deviation." if found else "."),
            )
            return redirect("run_implantation", pk=run.pk)
    by_animal: dict[int, list[Implantation]] = {}
    for record in (
        Implantation.objects.filter(tumour__animal__run=run)
        .select_related("tumour", "operator")
        .order_by("tumour__animal_id", "tumour_id")
    ):
        by_animal.setdefault(record.tumour.animal_id, []).append(record)
    rows = [(animal, by_animal.get(animal.pk, [])) for animal in candidates.order_by("tag")]
    selected = {str(value) for value in form["animals"].value() or []}
    return render(
        request,
        "labnotes/implantation.html",
        {
            "run": run,
            "form": form,
            "protocol": protocol,
            "rows": rows,
            "selected": selected,
            "deviations_found": found,
            "pending": sum(1 for _, records in rows if not records),
        },
    )


# -- re-challenge ------------------------------------------------------------------------------


class RechallengeForm(forms.Form):
    code = forms.CharField(
        label="Code of the re-challenge run",
        max_length=40,
        help_text="Unique within the study, e.g. RUN-1-RC.",
        widget=forms.TextInput(_input()),
    )
    day0 = forms.DateField(
        label="Day 0",
        help_text="The re-challenge implantation date.",
        widget=forms.DateInput(_input(type="date")),
    )
    animals: forms.ModelMultipleChoiceField[Animal] = forms.ModelMultipleChoiceField(
        queryset=Animal.objects.none()
    )

    def __init__(self, *args: Any, cured: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelMultipleChoiceField[Animal]", self.fields["animals"])
        field.queryset = cured
        field.error_messages["required"] = "Choose at least one cured animal."


@login_required
@require_http_methods(["GET", "POST"])
def run_rechallenge(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Start a re-challenge run from the cured animals of this run, then register age-matched
    naive controls in the new run."""
    run = _run(request, pk)
    if run.status == RunStatus.ABANDONED:
        raise PermissionDenied("An abandoned run has no animals to re-challenge.")
    cured = (
        list_run_animals_for_user(request.user, run)
        .filter(status=AnimalStatus.ON_STUDY, rechallenge__isnull=True)
        .order_by("tag")
    )
    form = RechallengeForm(
        request.POST or None,
        cured=cured,
        initial={"code": f"{run.code}-RC", "day0": run.study.lab.local_date(timezone.now())},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new_run = run_services.start_rechallenge_run(
                parent_run=run,
                code=data["code"],
                day0=data["day0"],
                animals=list(data["animals"]),
                started_by=request.user,
            )
        except PermissionDenied as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Re-challenge run {new_run.code} started with {len(data['animals'])} cured "
                "animal(s). Register the age-matched naive controls next.",
            )
            return redirect("animal_register", pk=new_run.pk)
    selected = {str(value) for value in form["animals"].value() or []}
    today = run.study.lab.local_date(timezone.now())
    animals = list(cured)
    readings = latest_readings(animals)
    rows = [
        (
            animal,
            _age_days(animal.date_of_birth, today),
            readings.get(animal.pk, {}).get("volume_mm3"),
        )
        for animal in animals
    ]
    return render(
        request,
        "labnotes/rechallenge.html",
        {
            "run": run,
            "form": form,
            "rows": rows,
            "selected": selected,
            "ages": _age_summary([age for _, age, _ in rows]),
            "rechallenge_runs": list_runs_for_user(request.user)
            .filter(parent_run=run)
            .order_by("day0", "code"),
        },
    )


def _age_days(born: dt.date | None, today: dt.date) -> int | None:
    return None if born is None else (today - born).days


def _age_summary(ages: list[int | None]) -> dict[str, Any] | None:
    known = sorted(age for age in ages if age is not None)
    if not known:
        return None
    return {"youngest_weeks": known[0] // 7, "oldest_weeks": known[-1] // 7}
