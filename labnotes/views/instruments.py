"""Instrument pages of the current lab: the register (with today's qualification of each
instrument), one instrument's page (daily checks, calibration), and the device tokens (create:
the secret is shown once on the answer page; revoke with a reason)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from labnotes.models import (
    DeviceAction,
    DeviceToken,
    Instrument,
    InstrumentKind,
    UnqualifiedReadingPolicy,
)
from labnotes.selectors import list_runs_for_user
from labnotes.services import instruments as services
from labnotes.services.common import StaleWrite, lab_today
from labnotes.views.common import add_service_errors
from planner.selectors import get_current_lab, roles_in_lab
from planner.types import AuthenticatedHttpRequest


def _input(**attributes: str) -> dict[str, str]:
    return {"class": "input", **attributes}


class InstrumentForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind", choices=InstrumentKind.choices, widget=forms.Select(_input())
    )
    name = forms.CharField(label="Name", max_length=100, widget=forms.TextInput(_input()))
    serial_number = forms.CharField(
        label="Serial number",
        max_length=60,
        help_text="What the instrument or its bridge sends as 'instrument'.",
        widget=forms.TextInput(_input(autocomplete="off")),
    )
    location = forms.CharField(
        label="Location", max_length=100, required=False, widget=forms.TextInput(_input())
    )
    calibration_due_on = forms.DateField(
        label="Calibration due on",
        required=False,
        widget=forms.DateInput(_input(type="date")),
    )
    check_expected = forms.DecimalField(
        label="Check standard value",
        required=False,
        max_digits=10,
        decimal_places=4,
        help_text="e.g. 20 for a 20 g check weight.",
        widget=forms.TextInput(_input(inputmode="decimal")),
    )
    check_tolerance = forms.DecimalField(
        label="Check tolerance",
        required=False,
        max_digits=10,
        decimal_places=4,
        widget=forms.TextInput(_input(inputmode="decimal")),
    )
    check_unit = forms.CharField(
        label="Check unit", max_length=10, required=False, widget=forms.TextInput(_input())
    )


class CheckForm(forms.Form):
    observed_value = forms.DecimalField(
        label="Observed value",
        max_digits=10,
        decimal_places=4,
        help_text="What the instrument read for the check standard.",
        widget=forms.TextInput(_input(inputmode="decimal", autocomplete="off")),
    )
    note = forms.CharField(label="Note", required=False, widget=forms.TextInput(_input()))


class CalibrationForm(forms.Form):
    calibrated_on = forms.DateField(
        label="Calibrated on", widget=forms.DateInput(_input(type="date"))
    )
    next_due_on = forms.DateField(label="Next due on", widget=forms.DateInput(_input(type="date")))
    row_version = forms.IntegerField(widget=forms.HiddenInput())


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="The instrument or script using it, e.g. 'Balance 1 bridge, R101'.",
        widget=forms.TextInput(_input()),
    )
    run = forms.ChoiceField(label="Run", widget=forms.Select(_input()))
    actions = forms.MultipleChoiceField(
        label="May",
        choices=DeviceAction.choices,
        widget=forms.CheckboxSelectMultiple(),
    )
    expires_in_days = forms.IntegerField(
        label="Expires in (days)",
        min_value=1,
        max_value=3650,
        initial=365,
        widget=forms.NumberInput(_input()),
    )

    def __init__(self, *args: Any, runs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runs = {str(run.pk): run for run in runs}
        cast(forms.ChoiceField, self.fields["run"]).choices = [
            (str(run.pk), f"{run.study.code} / {run.code}") for run in runs
        ]


class PolicyForm(forms.Form):
    unqualified_readings = forms.ChoiceField(
        label="Readings from an unqualified instrument",
        choices=UnqualifiedReadingPolicy.choices,
        help_text="Unqualified: calibration past its due date, or no passed daily check today "
        "(lab time). A retired instrument's readings are always refused.",
        widget=forms.RadioSelect(),
    )
    require_registered_instrument = forms.BooleanField(
        label="Refuse device readings that name no registered instrument",
        required=False,
    )
    reason = forms.CharField(
        label="Reason for the change",
        max_length=500,
        help_text="Kept in the audit trail, e.g. the SOP that asks for it.",
        widget=forms.TextInput(_input()),
    )
    row_version = forms.IntegerField(widget=forms.HiddenInput())


class RevokeForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=500, widget=forms.TextInput(_input()))


def _lab(request: AuthenticatedHttpRequest) -> Any:
    lab = get_current_lab(request)
    if lab is None:
        raise Http404("No lab.")
    return lab


@login_required
@require_http_methods(["GET", "POST"])
def instrument_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    lab = _lab(request)
    roles = roles_in_lab(request.user, lab)
    can_register = bool(roles & set(services.INSTRUMENT_MANAGERS))
    form = InstrumentForm(request.POST or None)
    if request.method == "POST":
        if not can_register:
            raise PermissionDenied("Only scientists, study directors and lab admins register.")
        if form.is_valid():
            try:
                instrument = services.create_instrument(
                    lab=lab, created_by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{instrument.name} registered.")
                return redirect("instrument_detail", instrument.pk)
    instruments = list(Instrument.objects.filter(lab=lab).order_by("kind", "name", "pk"))
    today = lab_today(lab)
    passed = services.passed_check_days(instruments, [today])
    policy = services.instrument_settings(lab).unqualified_readings
    rows = [
        (
            instrument,
            [label_of(issue) for issue in services.instrument_issues(instrument, today, passed)],
        )
        for instrument in instruments
    ]
    return render(
        request,
        "labnotes/instrument_list.html",
        {
            "lab": lab,
            "rows": rows,
            "form": form,
            "can_register": can_register,
            "today": today,
            "policy": policy,
            "can_issue": bool(roles & set(services.TOKEN_ISSUERS)),
            "can_set_policy": bool(roles & set(services.POLICY_EDITORS)),
            "current": "instrument_list",
        },
    )


def label_of(issue: str) -> str:
    from labnotes.models import InstrumentIssue

    return str(InstrumentIssue(issue).label)


@login_required
@require_http_methods(["GET", "POST"])
def instrument_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    lab = _lab(request)
    instrument = get_object_or_404(Instrument, pk=pk, lab=lab)
    check_form = CheckForm(request.POST if request.POST.get("form") == "check" else None)
    calibration_form = CalibrationForm(
        request.POST if request.POST.get("form") == "calibration" else None,
        initial={"row_version": instrument.row_version, "calibrated_on": lab_today(lab)},
    )
    if request.method == "POST":
        try:
            if request.POST.get("form") == "check" and check_form.is_valid():
                check = services.record_daily_check(
                    instrument=instrument, checked_by=request.user, **check_form.cleaned_data
                )
                verdict = "passed" if check.passed else "FAILED"
                messages.success(request, f"Check recorded: {verdict}.")
                return redirect("instrument_detail", instrument.pk)
            if request.POST.get("form") == "calibration" and calibration_form.is_valid():
                data = calibration_form.cleaned_data
                services.record_calibration(
                    instrument=instrument,
                    calibrated_on=data["calibrated_on"],
                    next_due_on=data["next_due_on"],
                    recorded_by=request.user,
                    expected_version=data["row_version"],
                )
                messages.success(request, "Calibration recorded.")
                return redirect("instrument_detail", instrument.pk)
        except ValidationError as error:
            add_service_errors(
                check_form if request.POST.get("form") == "check" else calibration_form, error
            )
        except StaleWrite:
            calibration_form.add_error(None, "Someone changed this instrument; reload the page.")
    status = services.instrument_status(lab=lab, identifier=instrument.serial_number)
    return render(
        request,
        "labnotes/instrument_detail.html",
        {
            "lab": lab,
            "instrument": instrument,
            "status": status,
            "issues": [label_of(issue) for issue in status.issues] if status else [],
            "checks": instrument.checks.select_related("checked_by")[:30],
            "check_form": check_form,
            "calibration_form": calibration_form,
            "can_manage": bool(roles_in_lab(request.user, lab) & set(services.INSTRUMENT_MANAGERS)),
            "current": "instrument_list",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def instrument_policy(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The lab's rule for readings from unqualified instruments: flag or refuse (lab admins)."""
    lab = _lab(request)
    if not roles_in_lab(request.user, lab) & set(services.POLICY_EDITORS):
        raise PermissionDenied("Only the lab's admins may change its instrument rules.")
    current = services.instrument_settings(lab)
    form = PolicyForm(
        request.POST or None,
        initial={
            "unqualified_readings": current.unqualified_readings,
            "require_registered_instrument": current.require_registered_instrument,
            "row_version": current.row_version,
        },
    )
    stale = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.set_unqualified_policy(
                lab=lab,
                policy=data["unqualified_readings"],
                require_registered=data["require_registered_instrument"],
                changed_by=request.user,
                reason=data["reason"],
                expected_version=data["row_version"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except StaleWrite as error:
            stale = True
            current = cast(Any, error.current)
            form.add_error(
                None,
                "Someone changed the instrument rules after you opened the page: readings are "
                f"now {'refused' if current.unqualified_readings == 'refuse' else 'flagged'}. "
                "Reload the page and save again.",
            )
        else:
            messages.success(request, "Instrument rules saved.")
            return redirect("instrument_list")
    return render(
        request,
        "labnotes/instrument_policy.html",
        {"lab": lab, "form": form, "current": current, "current_page": "instrument_list"},
        status=409 if stale else 400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def device_token_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    lab = _lab(request)
    if not roles_in_lab(request.user, lab) & set(services.TOKEN_ISSUERS):
        raise PermissionDenied("Only lab admins and study directors manage device tokens.")
    runs = list(list_runs_for_user(request.user).filter(study__lab=lab).order_by("-day0", "pk"))
    form = TokenForm(request.POST or None, runs=runs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = services.create_device_token(
                created_by=request.user,
                name=data["name"],
                actions=data["actions"],
                run=form.runs[data["run"]],
                expires_at=timezone.now() + dt.timedelta(days=data["expires_in_days"]),
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            response = render(
                request,
                "labnotes/device_token_created.html",
                {"token": issued.token, "secret": issued.secret, "current": "instrument_list"},
            )
            response["Cache-Control"] = "no-store"
            return response
    tokens = DeviceToken.objects.filter(lab=lab).select_related("run__study", "study", "created_by")
    return render(
        request,
        "labnotes/device_token_list.html",
        {
            "lab": lab,
            "tokens": tokens,
            "form": form,
            "now": timezone.now(),
            "current": "instrument_list",
        },
    )


@login_required
@require_POST
def device_token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    lab = _lab(request)
    token = get_object_or_404(DeviceToken, pk=pk, lab=lab)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason for revoking the token.")
        return redirect("device_token_list")
    try:
        services.revoke_device_token(
            token=token,
            revoked_by=request.user,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Token {token.name} revoked.")
    return redirect("device_token_list")
