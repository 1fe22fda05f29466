"""The lab's capture settings page: lab admins change the measurement grid's settings with a
reason; everyone else in the lab may not open it (the settings are shown on the grid)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from labnotes.models import CaptureSettings, GridOrder, RepeatPolicy
from labnotes.services.capture_settings import (
    CAPTURE_SETTINGS_EDITORS,
    FIELDS,
    capture_settings_for,
    save_capture_settings,
)
from labnotes.services.common import StaleWrite
from labnotes.views.common import add_service_errors
from planner.selectors import get_current_lab, roles_in_lab
from planner.types import AuthenticatedHttpRequest


def _input(**attributes: str) -> dict[str, str]:
    return {"class": "input", **attributes}


def _number(label: str, help_text: str = "") -> forms.CharField:
    # Text, not a DecimalField: the service reads a decimal comma as the lab types it.
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=12,
        widget=forms.TextInput(_input(inputmode="decimal", autocomplete="off")),
    )


class CaptureSettingsForm(forms.Form):
    tag_prefix = forms.CharField(
        label="Scanned tag prefix",
        max_length=10,
        required=False,
        help_text="What the barcode scanner sends before a tag, e.g. #. Numeric ear tags look "
        "like readings: a prefix, suffix or pattern tells them apart.",
        widget=forms.TextInput(_input(autocomplete="off")),
    )
    tag_suffix = forms.CharField(
        label="Scanned tag suffix",
        max_length=10,
        required=False,
        widget=forms.TextInput(_input(autocomplete="off")),
    )
    tag_pattern = forms.CharField(
        label="Scanned tag pattern",
        max_length=200,
        required=False,
        help_text="A regular expression the whole scan must match (group 1 is the tag), "
        "e.g. ^RFID(\\d{15})$.",
        widget=forms.TextInput(_input(autocomplete="off", spellcheck="false")),
    )
    grid_order = forms.ChoiceField(
        label="Enter moves",
        choices=GridOrder.choices,
        help_text="Row by row (L → W → next tumour) or column by column. A caliper protocol "
        "that sets its own order overrides this for its studies.",
        widget=forms.Select(_input()),
    )
    repeat_policy = forms.ChoiceField(
        label="Same-day repeats count as",
        choices=RepeatPolicy.choices,
        help_text="Which of a day's readings of a tumour (or weight) counts in analyses, unless "
        "the protocol says otherwise.",
        widget=forms.Select(_input()),
    )
    trend_max_fold_per_day = _number(
        "Trend warning factor per day",
        "A volume further off the tumour's recent log-linear trend than this factor per day "
        "is flagged (above 1; CT26 may double in 2–3 days).",
    )
    axis_min_mm = _number("Smallest plausible caliper axis (mm)")
    axis_max_mm = _number("Largest plausible caliper axis (mm)")
    weight_min_g = _number("Lightest plausible body weight (g)")
    weight_max_g = _number("Heaviest plausible body weight (g)")
    reason = forms.CharField(
        label="Reason for the change",
        max_length=500,
        help_text="Kept in the audit trail with the old and new values.",
        widget=forms.TextInput(_input(autocomplete="off")),
    )
    row_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


def _initial(settings: CaptureSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in FIELDS} | {
        "row_version": settings.row_version
    }


@login_required
@require_http_methods(["GET", "POST"])
def capture_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The current lab's capture settings; lab admins only."""
    lab = get_current_lab(request)
    if lab is None or not roles_in_lab(request.user, lab) & set(CAPTURE_SETTINGS_EDITORS):
        raise PermissionDenied("Only the lab's admins may change its capture settings.")
    current = capture_settings_for(lab)
    form = CaptureSettingsForm(request.POST or None, initial=_initial(current))
    stale = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            save_capture_settings(
                lab=lab,
                changed_by=request.user,
                reason=data["reason"],
                values={name: data[name] for name in FIELDS},
                expected_version=data["row_version"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except StaleWrite as error:
            stale = True
            current = error.current  # type: ignore[assignment]
            form.add_error(
                None,
                "Someone changed these settings after you opened the page: their values are "
                "shown under each field; save again to replace them.",
            )
        else:
            messages.success(request, "Capture settings saved.")
            return redirect("capture_settings")
    return render(
        request,
        "labnotes/capture_settings.html",
        {
            "lab": lab,
            "form": form,
            "current": current,
            "stale": stale,
            "saved": current.pk is not None,
        },
        status=409 if stale else 400 if request.method == "POST" else 200,
    )
