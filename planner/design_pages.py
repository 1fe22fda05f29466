"""Pages of the protocol library, ethics protocols, working calendar and study design.

Thin: parse a form, call one service, render. Design parts (arms, regimen items, procedures)
are edited inline on the study page with htmx: each form posts and gets the design fragment
back, so the page never reloads and works without JavaScript too (a normal POST redirects).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from planner import forms as f
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import KIND_CHOICES, ProtocolKind, diff_parameters
from planner.domain.sample_size import animals_per_arm, log_effect_from_ratio
from planner.filters import EthicsProtocolFilterSet, ProtocolTemplateFilterSet
from planner.models import Amendment, Role
from planner.parameter_forms import add_row, build_form, default_parameters, parameters_from_post
from planner.preview import default_sd_log, preview_study
from planner.selectors import (
    arms_for_display,
    get_current_lab,
    list_amendments_for_user,
    list_arms_for_user,
    list_closures_for_user,
    list_ethics_protocols_for_user,
    list_holidays_for_user,
    list_procedures_for_user,
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
from planner.services.permissions import EDITORS
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


def _split_parameter_errors(error: ValidationError, form: Any) -> dict[str, list[str]]:
    """A service's messages: those for ``form``'s own fields go onto it; the rest are keyed by
    parameter path (``cell_line.rrid``) and returned for the parameter form."""
    if not hasattr(error, "error_dict"):
        for text in error.messages:
            form.add_error(None, text)
        return {}
    rest: dict[str, list[str]] = {}
    for field, texts in error.message_dict.items():
        if field in form.fields and field != "__all__":
            for text in texts:
                form.add_error(field, text)
        else:
            rest[field] = list(texts)
    return rest


def _parameter_messages(kind: str, parameters: dict[str, Any]) -> dict[str, list[str]]:
    """The domain's messages for ``parameters`` (empty when valid), without saving anything."""
    try:
        protocols.validated_parameters(kind, parameters)
    except ValidationError as error:
        return {field: list(texts) for field, texts in error.message_dict.items()}
    return {}


def _wants_json(request: HttpRequest) -> bool:
    return (request.POST.get("mode") or request.GET.get("mode")) == "json"


@login_required
@require_http_methods(["GET", "POST"])
def protocol_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new protocol in two steps: choose the kind, then fill that kind's parameter form.

    ``?mode=json`` keeps the JSON textarea for people who paste parameters."""
    lab = get_current_lab(request)
    kind = request.POST.get("kind") or request.GET.get("kind") or ""
    if kind not in ProtocolKind.__members__.values():
        chooser = f.ProtocolKindForm(request.GET if "kind" in request.GET else None)
        chooser.is_valid()
        return render(request, "planner/protocol_kind.html", {"form": chooser})
    if _wants_json(request):
        return _protocol_create_json(request, kind)
    details = f.ProtocolDetailsForm(request.POST or None, initial={"kind": kind})
    parameters: dict[str, Any] = default_parameters(kind)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        parameters = parameters_from_post(kind, request.POST)
        if request.POST.get("_add_row"):
            add_row(parameters, request.POST["_add_row"])
        elif not details.is_valid() or lab is None:
            errors = _parameter_messages(kind, parameters)
        else:
            try:
                version = protocols.create_template(
                    lab=lab,
                    name=details.cleaned_data["name"],
                    kind=kind,
                    description=details.cleaned_data["description"],
                    parameters=parameters,
                    created_by=request.user,
                )
            except ValidationError as error:
                errors = _split_parameter_errors(error, details)
            except PermissionDenied as error:
                details.add_error(None, str(error))
            else:
                messages.success(request, f"{version} created as a draft.")
                return redirect("protocol_detail", pk=version.template_id)
    return render(
        request,
        "planner/protocol_form.html",
        {
            "form": details,
            "parameter_form": build_form(kind, parameters, errors),
            "kind": kind,
            "kind_label": dict(KIND_CHOICES)[kind],
            "creating": True,
        },
    )


def _protocol_create_json(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    lab = get_current_lab(request)
    form = f.ProtocolTemplateForm(request.POST or None, initial={"kind": kind})
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
    return render(
        request,
        "planner/protocol_form.html",
        {
            "form": form,
            "kind": kind,
            "kind_label": dict(KIND_CHOICES)[kind],
            "json_mode": True,
            "creating": True,
        },
    )


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
    """Edit a draft with its kind's parameter form (``?mode=json``: as JSON).

    A save based on an older copy of the draft is refused with 409 and the other writer's
    values shown beside the submitted ones."""
    version = get_object_or_404(list_protocol_versions_for_user(request.user), pk=pk)
    kind = version.template.kind
    json_mode = _wants_json(request)
    initial = {
        "parameters": version.parameters,
        "change_note": version.change_note,
        "row_version": version.row_version,
    }
    form: f.ProtocolDraftForm | f.ProtocolDraftNoteForm
    if json_mode:
        form = f.ProtocolDraftForm(request.POST or None, initial=initial)
    else:
        form = f.ProtocolDraftNoteForm(request.POST or None, initial=initial)
    parameters: dict[str, Any] = dict(version.parameters)
    errors: dict[str, list[str]] = {}
    conflict: list[Any] | None = None
    status = 200
    if request.method == "POST":
        if not json_mode:
            parameters = parameters_from_post(kind, request.POST)
        if not json_mode and request.POST.get("_add_row"):
            add_row(parameters, request.POST["_add_row"])
        elif not form.is_valid():
            errors = {} if json_mode else _parameter_messages(kind, parameters)
        else:
            data = form.cleaned_data
            submitted = data["parameters"] if json_mode else parameters
            try:
                protocols.update_draft(
                    version=version,
                    parameters=submitted,
                    change_note=data["change_note"],
                    changed_by=request.user,
                    expected_version=data["row_version"],
                    reason=data["reason"],
                )
            except protocols.StaleVersion as stale:
                status = 409
                conflict = _draft_conflict(kind, stale.current, submitted, data["change_note"])
                form.add_error(
                    None,
                    "Someone else saved this draft after you opened it. Their values are "
                    "shown beside yours; review them and save again.",
                )
                form.data = cast(QueryDict, form.data).copy()
                form.data["row_version"] = str(stale.current.row_version)
            except ValidationError as error:
                errors = _split_parameter_errors(error, form)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"{version} saved.")
                return redirect("protocol_detail", pk=version.template_id)
    return render(
        request,
        "planner/protocol_form.html",
        {
            "form": form,
            "version": version,
            "template": version.template,
            "kind": kind,
            "kind_label": version.template.get_kind_display(),
            "json_mode": json_mode,
            "parameter_form": None if json_mode else build_form(kind, parameters, errors),
            "parameters_json": json.dumps(version.parameters, indent=2, ensure_ascii=False),
            "conflict": conflict,
            "creating": False,
        },
        status=status,
    )


def _draft_conflict(
    kind: str, current: Any, submitted: dict[str, Any], change_note: str
) -> list[tuple[str, object, object]]:
    """(parameter, their saved value, your value) for every value that differs."""
    try:
        mine = protocols.validated_parameters(kind, submitted)
    except ValidationError:
        mine = submitted
    rows = [
        (change.field, change.old, change.new)
        for change in diff_parameters(current.parameters, mine)
    ]
    if change_note != current.change_note:
        rows.append(("change note", current.change_note, change_note))
    return rows


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
    can_edit = lab is not None and bool(
        roles_in_lab(request.user, lab) & set(ethics_services.ETHICS_EDITORS)
    )
    return render(
        request,
        "planner/ethics_list.html",
        {"filter": filterset, "form": form, "can_edit": can_edit},
    )


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
            "can_edit": bool(
                roles_in_lab(request.user, lab) & set(calendar_services.CALENDAR_EDITORS)
            ),
        },
    )


# -- study design ---------------------------------------------------------------------------


def _design_context(request: HttpRequest, study: Any, **extra: Any) -> dict[str, Any]:
    sees = user_sees_allocation(request.user, study)
    roles = roles_in_lab(request.user, study.lab)
    context = {
        "study": study,
        "sees_allocation": sees,
        "arms": arms_for_display(request.user, study),
        "procedures": study.procedures.select_related("protocol_version__template"),
        "roles": roles,
        "arm_form": f.ArmForm(prefix="arm"),
        "regimen_form": f.RegimenItemForm(lab=study.lab, prefix="item"),
        "procedure_form": f.ProcedureForm(lab=study.lab, prefix="procedure"),
        "satellite_form": f.SatelliteForm(prefix="satellite"),
        "clone_form": f.CloneStudyForm(prefix="clone"),
        "members": study.members.select_related("user").order_by("user__username"),
        "member_form": f.StudyMemberForm(lab=study.lab, prefix="member"),
        "can_manage_members": bool(roles & set(EDITORS)),
        "amendments": study.amendments.all(),
        "is_draft": study.status == "draft",
        "is_director": Role.STUDY_DIRECTOR in roles,
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
@require_POST
def study_set_member(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Add a lab member to the study or change what they may see (blinded, may dose)."""
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    form = f.StudyMemberForm(request.POST, lab=study.lab, prefix="member")
    if form.is_valid():
        data = form.cleaned_data
        try:
            member = design.set_study_member(
                study=study,
                user=data["user"],
                changed_by=request.user,
                unblinded=data["unblinded"],
                can_dose=data["can_dose"],
                reason=data["reason"] or None,
            )
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
        else:
            sees = "unblinded" if member.unblinded else "blinded"
            doses = ", may dose" if member.can_dose else ""
            messages.success(request, f"{member.user.get_username()}: {sees}{doses}.")
    return _design_response(request, study, member_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def study_design_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(list_studies_for_user(request.user), pk=pk)
    form = (
        f.StudyDesignForm(request.POST, lab=study.lab)
        if request.method == "POST"
        else f.StudyDesignForm.for_design(study)
    )
    if not user_sees_allocation(request.user, study):
        # The plan's contrasts name the arms by label: not for blinded members.
        del form.fields["analysis_plan"]
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        expected = data.pop("row_version")
        reason = data.pop("reason")
        for name in ("humane_endpoints", "survival_definition", "analysis_plan"):
            if name in form.fields:
                data[name] = data.get(name) or {}
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
    sees = user_sees_allocation(request.user, study)
    form = f.AmendmentForm(request.POST or None, study=study, sees_allocation=sees)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            amendment = amendment_services.propose_amendment(
                study=study,
                proposed_by=request.user,
                reason=data["reason"],
                effective_date=data["effective_date"],
                scope=data["scope"],
                ethics_amendment_reference=data["ethics_amendment_reference"],
                changes=form.amendment_changes(),
            )
        except ValidationError as error:
            _amendment_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
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


def _amendment_errors(form: f.AmendmentForm, error: ValidationError) -> None:
    """Messages keyed ``changes.arms[0]`` go beside the field that produced the entry."""
    if not hasattr(error, "error_dict"):
        _errors_to_form(form, error)
        return
    for key, texts in error.message_dict.items():
        field = key if key in form.fields else form.field_for_error(key)
        for text in texts:
            if field is not None:
                form.add_error(field, text)
            elif key == "__all__":
                form.add_error(None, text)
            else:
                form.add_error(None, f"{key}: {text}")


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


# -- editing existing design parts (row-versioned: a stale save gets 409) ---------------------


def _stale_form(form: Any, current: Any) -> None:
    """Refuse a stale save on ``form``: message, and the current version for the next save."""
    form.add_error(
        None,
        "Someone else saved this after you opened it. Their values are shown beside yours; "
        "review them and save again.",
    )
    form.data = cast(QueryDict, form.data).copy()
    form.data["row_version"] = str(current.row_version)


def _part_page(
    request: HttpRequest,
    *,
    form: Any,
    title: str,
    study: Any,
    conflict: list[tuple[str, object]] | None = None,
    status: int = 200,
    submit: str = "Save",
    cancel_url: str,
    crumbs: list[tuple[str, str]] | None = None,
) -> HttpResponse:
    return render(
        request,
        "planner/design_part_form.html",
        {
            "form": form,
            "title": title,
            "study": study,
            "is_draft": study is None or study.status == "draft",
            "conflict": conflict,
            "submit": submit,
            "cancel_url": cancel_url,
            "crumbs": crumbs or [],
        },
        status=status,
    )


def _arm_values(arm: Any) -> list[tuple[str, object]]:
    return [
        ("Arm label", arm.label),
        ("Planned n", arm.planned_n),
        ("Control arm", "yes" if arm.is_control else "no"),
    ]


@login_required
@require_http_methods(["GET", "POST"])
def arm_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Change a draft's arm (label, planned n, control flag) with a reason."""
    arm = get_object_or_404(list_arms_for_user(request.user), pk=pk)
    study = arm.study
    initial = {
        "label": arm.label,
        "planned_n": arm.planned_n,
        "is_control": arm.is_control,
        "row_version": arm.row_version,
    }
    form = f.ArmEditForm(request.POST or None, initial=initial)
    conflict = None
    status = 200
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            design.update_arm(
                arm=arm,
                changed_by=request.user,
                expected_version=data.pop("row_version"),
                reason=data.pop("reason"),
                **data,
            )
        except study_services.StaleWrite as stale:
            status, conflict = 409, _arm_values(stale.current)
            _stale_form(form, stale.current)
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"Arm {data['label']} saved.")
            return redirect("study_detail", pk=study.pk)
    return _part_page(
        request,
        form=form,
        title=f"Edit arm {arm.label}",
        study=study,
        conflict=conflict,
        status=status,
        submit="Save arm",
        cancel_url=reverse("study_detail", args=[study.pk]),
        crumbs=[(reverse("study_detail", args=[study.pk]), study.code)],
    )


def _item_values(item: Any) -> list[tuple[str, object]]:
    return [
        ("Dosing protocol", item.protocol_version),
        ("Agent", item.agent),
        ("Dose", f"{item.dose.normalize()} ({item.dose_basis})"),
        ("Schedule", item.schedule),
        ("Matching vehicle injection", "yes" if item.is_vehicle else "no"),
        ("Permitted window (± days)", item.window_days),
        ("On a non-working day", item.get_non_working_day_rule_display()),
    ]


@login_required
@require_http_methods(["GET", "POST"])
def regimen_item_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Change a draft's regimen item, checked against its dosing protocol like a new one."""
    item = get_object_or_404(list_regimen_items_for_user(request.user), pk=pk)
    arm = item.arm
    study = arm.study
    initial = {
        "protocol_version": item.protocol_version_id,
        "agent": item.agent,
        "dose": item.dose.normalize(),
        "schedule": item.schedule,
        "is_vehicle": item.is_vehicle,
        "window_days": item.window_days,
        "non_working_day_rule": item.non_working_day_rule,
        "row_version": item.row_version,
    }
    form = f.RegimenItemEditForm(request.POST or None, initial=initial, lab=study.lab)
    conflict = None
    status = 200
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            design.update_regimen_item(
                item=item,
                changed_by=request.user,
                expected_version=data.pop("row_version"),
                reason=data.pop("reason"),
                **data,
            )
        except study_services.StaleWrite as stale:
            status, conflict = 409, _item_values(stale.current)
            _stale_form(form, stale.current)
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"{data['agent']} in {arm.label} saved.")
            return redirect("study_detail", pk=study.pk)
    return _part_page(
        request,
        form=form,
        title=f"Edit {item.agent} in {arm.label}",
        study=study,
        conflict=conflict,
        status=status,
        submit="Save regimen item",
        cancel_url=reverse("study_detail", args=[study.pk]),
        crumbs=[(reverse("study_detail", args=[study.pk]), study.code)],
    )


@login_required
@require_POST
def procedure_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    procedure = get_object_or_404(list_procedures_for_user(request.user), pk=pk)
    try:
        design.remove_procedure(
            procedure=procedure,
            removed_by=request.user,
            reason=request.POST.get("reason") or f"{procedure.get_role_display()} removed",
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return _design_response(request, procedure.study)


def _ethics_values(protocol: Any) -> list[tuple[str, object]]:
    limits = protocol.endpoint_limits or {}
    return [
        ("Title", protocol.title),
        ("Approved on", protocol.approved_on),
        ("Expires on", protocol.expires_on),
        ("Maximum tumour volume (mm³)", limits.get("max_volume_mm3")),
        ("Maximum tumour diameter (mm)", limits.get("max_diameter_mm")),
        ("Maximum weight loss (%)", limits.get("max_weight_loss_percent")),
        ("Ulceration score limit", limits.get("ulceration_score_limit")),
        ("Animals approved", "; ".join(str(a) for a in protocol.approvals.all()) or "—"),
    ]


@login_required
@require_http_methods(["GET", "POST"])
def ethics_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Change a recorded ethics protocol (dates, title, limits, animal numbers) with a reason."""
    protocol = get_object_or_404(list_ethics_protocols_for_user(request.user), pk=pk)
    form = (
        f.EthicsProtocolEditForm(request.POST)
        if request.method == "POST"
        else f.EthicsProtocolEditForm.for_protocol(protocol)
    )
    conflict = None
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ethics_services.update_ethics_protocol(
                protocol=protocol,
                changed_by=request.user,
                expected_version=data["row_version"],
                reason=data["reason"],
                title=data["title"],
                approved_on=data["approved_on"],
                expires_on=data["expires_on"],
                endpoint_limits=form.endpoint_limits(),
                approvals=form.approval_rows(),
            )
        except study_services.StaleWrite as stale:
            status, conflict = 409, _ethics_values(stale.current)
            _stale_form(form, stale.current)
        except (ValidationError, PermissionDenied) as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"Ethics protocol {protocol.number} saved.")
            return redirect("ethics_list")
    return _part_page(
        request,
        form=form,
        title=f"Edit ethics protocol {protocol.number}",
        study=None,
        conflict=conflict,
        status=status,
        submit="Save ethics protocol",
        cancel_url=reverse("ethics_list"),
        crumbs=[(reverse("ethics_list"), "Ethics protocols")],
    )


@login_required
@require_POST
def holiday_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    holiday = get_object_or_404(list_holidays_for_user(request.user), pk=pk)
    form = f.RemoveForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Give a reason for removing the holiday.")
        calendar_services.remove_holiday(
            holiday=holiday, removed_by=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"Holiday {holiday.day:%Y-%m-%d} ({holiday.name}) removed.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("calendar_settings")


@login_required
@require_POST
def closure_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    closure = get_object_or_404(list_closures_for_user(request.user), pk=pk)
    form = f.RemoveForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Give a reason for removing the closure.")
        calendar_services.remove_closure(
            closure=closure, removed_by=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"Closure {closure} removed.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("calendar_settings")
