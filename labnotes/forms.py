"""Forms of the run pages: they parse input only; services validate the domain rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from labnotes.models import BatchMethod


def _input(**attrs: Any) -> dict[str, Any]:
    return {"class": "input", **attrs}


class StartRunForm(forms.Form):
    code = forms.CharField(
        max_length=40,
        help_text="Unique within the study, e.g. RUN-1.",
        widget=forms.TextInput(_input()),
    )
    day0 = forms.DateField(
        label="Day 0",
        help_text="The implantation date.",
        widget=forms.DateInput(_input(type="date")),
    )
    last_study_day = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=365,
        help_text="Ends open-ended schedules; 60 when empty.",
        widget=forms.NumberInput(_input(inputmode="numeric")),
    )


class RegisterAnimalsForm(forms.Form):
    tags = forms.CharField(
        required=False,
        label="Tags or RFIDs",
        help_text="One animal per line: the tag, or tag then RFID separated by a tab or comma. "
        "Leading zeros are kept.",
        widget=forms.Textarea(_input(rows=10, spellcheck="false", autocomplete="off")),
    )
    file = forms.FileField(
        required=False,
        label="Or a CSV / XLSX file",
        help_text="Header row with a tag column; rfid, sex, date_of_birth, arrival_weight_g and "
        "cage are optional.",
        widget=forms.ClearableFileInput(_input(accept=".csv,.xlsx,.tsv,.txt")),
    )
    received_on = forms.DateField(
        required=False,
        help_text="Arrival date; today when empty.",
        widget=forms.DateInput(_input(type="date")),
    )

    def clean(self) -> dict[str, Any]:
        # Form.clean() returns cleaned_data (typed as optional in django-stubs).
        data = cast(dict[str, Any], super().clean())
        if not (data.get("tags") or "").strip() and not data.get("file"):
            raise ValidationError("Paste tags or choose a file.")
        return data


class CageForm(forms.Form):
    label = forms.CharField(max_length=40, widget=forms.TextInput(_input()))
    capacity = forms.IntegerField(
        min_value=1, max_value=20, initial=5, widget=forms.NumberInput(_input())
    )
    room = forms.CharField(max_length=60, required=False, widget=forms.TextInput(_input()))
    rack = forms.CharField(max_length=40, required=False, widget=forms.TextInput(_input()))
    position = forms.CharField(
        max_length=20,
        required=False,
        help_text="Position in the rack, e.g. B3.",
        widget=forms.TextInput(_input()),
    )


class TagsForm(forms.Form):
    """Animals chosen by tag, one per line (what a scanner types)."""

    tags = forms.CharField(
        label="Animal tags",
        help_text="One tag per line.",
        widget=forms.Textarea(_input(rows=4, spellcheck="false", autocomplete="off")),
    )
    reason = forms.CharField(max_length=300, required=False, widget=forms.TextInput(_input()))

    def tag_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["tags"].splitlines() if line.strip()]


class MoveAnimalsForm(TagsForm):
    pass


class SplitCageForm(TagsForm):
    new_label = forms.CharField(
        label="New cage label", max_length=40, widget=forms.TextInput(_input())
    )
    reason = forms.CharField(
        max_length=300,
        help_text="Why the cage is split, e.g. fighting.",
        widget=forms.TextInput(_input()),
    )


class StagingEntryForm(forms.Form):
    tag = forms.CharField(
        label="Animal tag", max_length=40, widget=forms.TextInput(_input(autocomplete="off"))
    )
    length_mm = forms.DecimalField(
        label="Length",
        required=False,
        min_value=0,
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(_input(step="0.01", inputmode="decimal")),
    )
    width_mm = forms.DecimalField(
        label="Width",
        required=False,
        min_value=0,
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(_input(step="0.01", inputmode="decimal")),
    )
    weight_g = forms.DecimalField(
        label="Body weight",
        required=False,
        min_value=0,
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(_input(step="0.01", inputmode="decimal")),
    )

    reason = forms.CharField(
        required=False,
        max_length=300,
        help_text="Only when measuring an animal again on the same day.",
        widget=forms.TextInput(_input(autocomplete="off")),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["length_mm"].unit = "mm"  # type: ignore[attr-defined]
        self.fields["width_mm"].unit = "mm"  # type: ignore[attr-defined]
        self.fields["weight_g"].unit = "g"  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        # Form.clean() returns cleaned_data (typed as optional in django-stubs).
        data = cast(dict[str, Any], super().clean())
        length, width = data.get("length_mm"), data.get("width_mm")
        if (length is None) != (width is None):
            raise ValidationError("Enter both length and width, or neither.")
        if length is None and data.get("weight_g") is None:
            raise ValidationError("Enter length and width, a body weight, or both.")
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.TextInput(_input(autocomplete="off")))


class RandomizeForm(forms.Form):
    method = forms.ChoiceField(
        choices=BatchMethod.choices,
        help_text="From the design's randomization protocol unless you change it.",
        widget=forms.Select(_input()),
    )
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        help_text="Leave empty for a random seed; it is stored with the batch either way.",
        widget=forms.NumberInput(_input(inputmode="numeric")),
    )


class UnblindStudyForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        help_text="Re-enter your password to confirm.",
        widget=forms.PasswordInput(_input(autocomplete="current-password")),
    )
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(_input(rows=3)))
