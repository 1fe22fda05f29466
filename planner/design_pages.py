"""Pages of the protocol library, ethics protocols, working calendar and study design.

Thin: parse a form, call one service, render. Design parts (arms, regimen items, procedures)
are edited inline on the study page with htmx: each form posts and gets the design fragment
back, so the page never reloads and works without JavaScript too (a normal POST redirects).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from planner import forms as f
from planner.domain.errors import ParameterErrors
from planner.domain.sample_size import animals_per_arm, log_effect_from_ratio
from planner.filters import EthicsProtocolFilterSet, ProtocolTemplateFilterSet
from planner.models import Amendment, Role
from planner.preview import default_sd_log, preview_study
from planner.selectors import (
    arms_for_display,
    get_current_lab,
    list_amendments_for_user,
    list_arms_for_user,
    list_ethics_protocols_for_user,
    list_protocol_templates_for_user,
    list_protocol_versions_for_user,
    list_regimen_items_for_user,
    list_studies_for_user,
    roles_in_lab,
    user_sees_allocation,
)
from planner.services import amendments as amendment_services
from planner.services import calendar as calendar_services
from planner.services import design, lifecycle, protocols
from planner.services import ethics as ethics_services
from planner.services import studies as study_services
from planner.types import AuthenticatedHttpRequest


def _errors_to_form(form: Any, error: ValidationError | PermissionDenied) -> None:
    """Put a service's messages on the form: on their field if it has one, else on top,
    prefixed with the parameter path (``cell_line.rrid: …``) so the scientist finds it."""
    if isinstance(error, PermissionDenied):
        form.add_error(None, str(error))
        return
    if hasattr(error, "error_dict"):
        for field, texts in error.message_dict.items():
            for text in texts:
                if field in form.fields:
                    form.add_error(field, text)
                elif field == "__all__":
                    form.add_error(None, text)
                else:
                    form.add_error(None, f"{field}: {text}")
    else:
        for text in error.messages:
            form.add_error(None, text)


# -- protocol library -----------------------------------------------------------------------


@login_required
def protocol_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    filterset = ProtocolTemplateFilterSet(
        request.GET,
        queryset=list_protocol_templates_for_user(request.user).prefetch_related("versions"),
    )
    return render(request, "planner/protocol_list.html", {"filter": filterset})


@login_required
@require_http_methods(["GET", "POST"])
def protocol_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    lab = get_current_lab(request)
    form = f.ProtocolTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and lab is not None:
        try:
            version = protocols.create_template(
                lab=lab, created_by=request.user, **form.cleaned_data
            )
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"{version} created as a draft.")
            return redirect("protocol_detail", pk=version.template_id)
    return render(request, "planner/protocol_form.html", {"form": form, "creating": True})


@login_required
def protocol_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(list_protocol_templates_for_user(request.user), pk=pk)
    versions = list(template.versions.order_by("-number"))
    # Pairs, not the dict: a parameter named "items" would shadow dict.items in the template.
    for version in versions:
        version.parameter_rows = list(version.parameters.items())  # type: ignore[attr-defined]
    return render(
        request,
        "planner/protocol_detail.html",
        {
            "template": template,
            "versions": versions,
            "clone_form": f.NameForm(),
            "draft": next((v for v in versions if not v.is_released), None),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def protocol_version_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(list_protocol_versions_for_user(request.user), pk=pk)
    form = f.ProtocolDraftForm(
        request.POST or None,
        initial={
            "parameters": version.parameters,
            "change_note": version.change_note,
            "row_version": version.row_version,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            protocols.update_draft(
                version=version,
                parameters=data["parameters"],
                change_note=data["change_note"],
                changed_by=request.user,
                expected_version=data["row_version"],
                reason=data["reason"],
            )
        except protocols.StaleVersion:
            form.add_error(None, "Someone saved this draft after you opened it; reload it.")
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"{version} saved.")
            return redirect("protocol_detail", pk=version.template_id)
    return render(
        request,
        "planner/protocol_form.html",
        {"form": form, "version": version, "template": version.template, "creating": False},
    )


@login_required
@require_POST
def protocol_version_release(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(list_protocol_versions_for_user(request.user), pk=pk)
    try:
        protocols.release_version(version=version, released_by=request.user)
        messages.success(request, f"{version} released; it can no longer change.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("protocol_detail", pk=version.template_id)


@login_required
@require_POST
def protocol_new_version(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(list_protocol_templates_for_user(request.user), pk=pk)
    try:
        version = protocols.new_version(template=template, created_by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("protocol_detail", pk=pk)
    return redirect("protocol_version_edit", pk=version.pk)


@login_required
@require_POST
def protocol_clone(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(list_protocol_templates_for_user(request.user), pk=pk)
    form = f.NameForm(request.POST)
    if form.is_valid():
        try:
            version = protocols.clone_template(
                template=template, name=form.cleaned_data["name"], created_by=request.user
            )
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, f"Cloned as {version}.")
            return redirect("protocol_detail", pk=version.template_id)
    return redirect("protocol_detail", pk=pk)


@login_required
@require_POST
def protocol_retire(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(list_protocol_templates_for_user(request.user), pk=pk)
    try:
        protocols.retire_template(
            template=template,
            retired_by=request.user,
            reason=request.POST.get("reason") or "retired from the library",
        )
        messages.success(request, f"{template.name} retired.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("protocol_detail", pk=pk)


@login_required
def protocol_version_diff(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(list_protocol_versions_for_user(request.user), pk=pk)
    old = version.template.versions.filter(number=version.number - 1).first()
    changes = protocols.diff_versions(old=old, new=version) if old else []
    return render(
        request, "planner/protocol_diff.html", {"version": version, "old": old, "changes": changes}
    )


# -- ethics and calendar --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def ethics_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    lab = get_current_lab(request)
    filterset = EthicsProtocolFilterSet(
        request.GET, queryset=list_ethics_protocols_for_user(request.user)
    )
    form = f.EthicsProtocolForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and lab is not None:
        data = form.cleaned_data
        try:
            protocol = ethics_services.create_ethics_protocol(
                lab=lab,
                number=data["number"],
                title=data["title"],
                approved_on=data["approved_on"],
                expires_on=data["expires_on"],
                endpoint_limits=form.endpoint_limits(),
                approvals=form.approval_rows(),
                created_by=request.user,
            )
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"Ethics protocol {protocol.number} recorded.")
            return redirect("ethics_list")
    return render(request, "planner/ethics_list.html", {"filter": filterset, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def calendar_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    lab = get_current_lab(request)
    if lab is None:
        raise PermissionDenied("You are not a member of any lab.")
    which = request.POST.get("form")
    weekdays = f.WorkingWeekdaysForm(
        request.POST if which == "weekdays" else None,
        initial={"working_weekdays": lab.working_weekdays},
    )
    holiday = f.HolidayForm(request.POST if which == "holiday" else None, prefix="holiday")
    closure = f.ClosureForm(request.POST if which == "closure" else None, prefix="closure")
    if request.method == "POST":
        try:
            if which == "weekdays" and weekdays.is_valid():
                calendar_services.set_working_weekdays(
                    lab=lab,
                    weekdays=weekdays.cleaned_data["working_weekdays"],
                    changed_by=request.user,
                    reason=weekdays.cleaned_data["reason"],
                )
                return redirect("calendar_settings")
            if which == "holiday" and holiday.is_valid():
                calendar_services.add_holiday(
                    lab=lab, created_by=request.user, **holiday.cleaned_data
                )
                return redirect("calendar_settings")
            if which == "closure" and closure.is_valid():
                calendar_services.add_closure(
                    lab=lab, created_by=request.user, **closure.cleaned_data
                )
                return redirect("calendar_settings")
        except (ValidationError, PermissionDenied) as error:
            target = {"weekdays": weekdays, "holiday": holiday, "closure": closure}.get(
                which or "", weekdays
            )
            _errors_to_form(target, error)
    return render(
        request,
        "planner/calendar_settings.html",
        {
            "lab": lab,
            "weekdays_form": weekdays,
            "holiday_form": holiday,
            "closure_form": closure,
            "holidays": lab.holidays.all(),
            "closures": lab.closures.all(),
        },
    )


# -- study design ---------------------------------------------------------------------------


def _design_context(request: HttpRequest, study: Any, **extra: Any) -> dict[str, Any]:
    sees = user_sees_allocation(request.user, study)
    context = {
        "study": study,
        "sees_allocation": sees,
        "arms": arms_for_display(request.user, study),
        "procedures": study.procedures.select_related("protocol_version__template"),
        "roles": roles_in_lab(request.user, study.lab),
        "arm_form": f.ArmForm(prefix="arm"),
        "regimen_form": f.RegimenItemForm(lab=study.lab, prefix="item"),
        "procedure_form": f.ProcedureForm(lab=study.lab, prefix="procedure"),
        "satellite_form": f.SatelliteForm(prefix="satellite"),
        "clone_form": f.CloneStudyForm(prefix="clone"),
        "amendments": study.amendments.all(),
        "is_draft": study.status == "draft",
        "is_director": Role.STUDY_DIRECTOR in roles_in_lab(request.user, study.lab),
    }
    context.update(extra)
    failed = extra.get("failed_arm")
    context["arm_rows"] = [
        (
            arm,
            extra["failed_item_form"]
            if failed == arm.pk and extra.get("failed_item_form") is not None
            else f.RegimenItemForm(lab=study.lab, prefix=f"item-{arm.pk}"),
            f.SatelliteForm(prefix=f"satellite-{arm.pk}"),
        )
        for arm in context["arms"]
    ]
    return context


@login_required
def study_design(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    return render(request, "planner/study_design.html", _design_context(request, study))


def _design_response(request: HttpRequest, study: Any, **extra: Any) -> HttpResponse:
    """The design fragment for htmx; a redirect to the study page otherwise."""
    if getattr(request, "htmx", False):
        return render(request, "planner/_design.html", _design_context(request, study, **extra))
    for form in extra.values():
        if hasattr(form, "non_field_errors"):
            for error in form.errors.values():
                messages.error(request, " ".join(error))
    return redirect("study_detail", pk=study.pk)


@login_required
@require_POST
def study_add_arm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    form = f.ArmForm(request.POST, prefix="arm")
    if form.is_valid():
        try:
            design.add_arm(study=study, created_by=request.user, **form.cleaned_data)
            form = f.ArmForm(prefix="arm")
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
    return _design_response(request, study, arm_form=form)


@login_required
@require_POST
def arm_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    arm = get_object_or_404(list_arms_for_user(request.user), pk=pk)
    try:
        design.remove_arm(
            arm=arm,
            removed_by=request.user,
            reason=request.POST.get("reason") or f"arm {arm.label} removed",
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return _design_response(request, arm.study)


@login_required
@require_POST
def arm_add_regimen_item(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    arm = get_object_or_404(list_arms_for_user(request.user), pk=pk)
    form: f.RegimenItemForm | None
    form = f.RegimenItemForm(request.POST, lab=arm.study.lab, prefix=f"item-{arm.pk}")
    if form.is_valid():
        data = form.cleaned_data
        version = data["protocol_version"]
        try:
            design.add_regimen_item(
                arm=arm,
                created_by=request.user,
                dose_basis=str(version.parameters.get("dose_basis", "")),
                route=str(version.parameters.get("route", "")),
                **data,
            )
            form = None
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
    return _design_response(request, arm.study, failed_item_form=form, failed_arm=arm.pk)


@login_required
@require_POST
def arm_add_satellite(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    arm = get_object_or_404(list_arms_for_user(request.user), pk=pk)
    form = f.SatelliteForm(request.POST, prefix=f"satellite-{arm.pk}")
    if form.is_valid():
        try:
            design.add_satellite(arm=arm, created_by=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return _design_response(request, arm.study)


@login_required
@require_POST
def regimen_item_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(list_regimen_items_for_user(request.user), pk=pk)
    try:
        design.remove_regimen_item(
            item=item,
            removed_by=request.user,
            reason=request.POST.get("reason") or "regimen item removed",
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return _design_response(request, item.arm.study)


@login_required
@require_POST
def study_set_procedure(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    form = f.ProcedureForm(request.POST, lab=study.lab, prefix="procedure")
    if form.is_valid():
        try:
            design.set_procedure(
                study=study,
                changed_by=request.user,
                reason="procedure protocol changed",
                **form.cleaned_data,
            )
            form = f.ProcedureForm(lab=study.lab, prefix="procedure")
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
    return _design_response(request, study, procedure_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def study_design_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    form = (
        f.StudyDesignForm(request.POST, lab=study.lab)
        if request.method == "POST"
        else f.StudyDesignForm.for_design(study)
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        expected = data.pop("row_version")
        reason = data.pop("reason")
        data["humane_endpoints"] = data.get("humane_endpoints") or {}
        for name in ("age_weeks_min", "age_weeks_max"):
            data[name] = data.get(name)
        try:
            study_services.update_study(
                study=study,
                changed_by=request.user,
                expected_version=expected,
                reason=reason,
                **data,
            )
        except study_services.StaleWrite:
            form.add_error(None, "Someone else saved this study after you opened it; reload.")
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, "Design saved.")
            return redirect("study_detail", pk=study.pk)
    return render(request, "planner/study_design_form.html", {"form": form, "study": study})


@login_required
@require_POST
def study_transition(request: AuthenticatedHttpRequest, pk: int, name: str) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    service = lifecycle.TRANSITIONS.get(name)
    if service is None:
        raise PermissionDenied("No such transition.")
    user_key = "approved_by" if name == "approve" else "changed_by"
    try:
        updated = service(
            study=study,
            reason=request.POST.get("reason") or None,
            **{user_key: request.user},
        )
        messages.success(request, f"{updated.code} is now {updated.get_status_display().lower()}.")
    except (ValidationError, PermissionDenied) as error:
        for text in getattr(error, "messages", [str(error)]):
            messages.error(request, text)
    return redirect("study_detail", pk=study.pk)


@login_required
@require_POST
def study_clone(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    form = f.CloneStudyForm(request.POST, prefix="clone")
    if form.is_valid():
        try:
            clone = design.clone_study(study=study, created_by=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, f"Cloned as draft {clone.code}.")
            return redirect("study_detail", pk=clone.pk)
    return redirect("study_detail", pk=pk)


@login_required
def study_preview(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    next_monday = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday())
    form = f.PreviewForm(request.GET or None, initial={"day0": next_monday})
    arms = []
    if form.is_valid():
        arms = preview_study(
            study=study,
            day0=form.cleaned_data["day0"],
            last_study_day=form.cleaned_data["last_day"],
            randomization_day=form.cleaned_data["randomization_day"],
            sees_allocation=user_sees_allocation(request.user, study),
        )
    return render(
        request, "planner/study_preview.html", {"study": study, "form": form, "arms": arms}
    )


@login_required
@require_http_methods(["GET", "POST"])
def study_amendments(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    form = f.AmendmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            amendment = amendment_services.propose_amendment(
                study=study, proposed_by=request.user, **form.cleaned_data
            )
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"Amendment {amendment.number} proposed.")
            return redirect("study_amendments", pk=pk)
    return render(
        request,
        "planner/study_amendments.html",
        {
            "study": study,
            "form": form,
            "amendments": study.amendments.all(),
            "sees_allocation": user_sees_allocation(request.user, study),
            "is_director": Role.STUDY_DIRECTOR in roles_in_lab(request.user, study.lab),
        },
    )


@login_required
@require_POST
def amendment_decide(request: AuthenticatedHttpRequest, pk: int, decision: str) -> HttpResponse:
    amendment: Amendment = get_object_or_404(list_amendments_for_user(request.user), pk=pk)
    try:
        if decision == "approve":
            amendment_services.approve_amendment(amendment=amendment, approved_by=request.user)
        else:
            amendment_services.reject_amendment(
                amendment=amendment,
                rejected_by=request.user,
                reason=request.POST.get("reason") or "rejected",
            )
        messages.success(request, f"Amendment {amendment.number} {decision}d.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("study_amendments", pk=amendment.study_id)


@login_required
def sample_size(request: AuthenticatedHttpRequest) -> HttpResponse:
    lab = get_current_lab(request)
    default = default_sd_log(lab) if lab is not None else None
    form = f.SampleSizeForm(
        request.GET or None, initial={"sd_log": default[0] if default else None}
    )
    result = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = animals_per_arm(
                effect_log=log_effect_from_ratio(data["treated_to_control_ratio"]),
                sd_log=data["sd_log"],
                alpha=data["alpha"],
                power=data["power"],
                attrition_fraction=data["attrition_fraction"],
                contrast=data["contrast"],
            )
        except ParameterErrors as error:
            for field, texts in error.errors.items():
                form.add_error(field if field in form.fields else None, "; ".join(texts))
    return render(
        request,
        "planner/sample_size.html",
        {"form": form, "result": result, "sd_source": default[1] if default else None},
    )
