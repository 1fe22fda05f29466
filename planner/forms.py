from __future__ import annotations

from typing import Any

from django import forms

from planner.models import Lab, Study


class StudyCreateForm(forms.Form):
    lab = forms.ModelChoiceField(queryset=Lab.objects.none(), help_text="The lab that owns it.")
    code = forms.CharField(max_length=40, help_text="Short unique code, e.g. CT26-IL12-01.")
    title = forms.CharField(max_length=300)
    objective = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    blinded = forms.BooleanField(required=False, initial=True, help_text="Blinded members see arm codes only.")

    def __init__(self, *args: Any, labs: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if labs is not None:
            self.fields["lab"].queryset = labs  # type: ignore[attr-defined]


class StudyEditForm(forms.Form):
    """Edits carry the version the user opened, so a stale save is refused, not applied."""

    title = forms.CharField(max_length=300)
    objective = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    blinded = forms.BooleanField(required=False)
    reason = forms.CharField(
        max_length=500, help_text="Why you are making this change (kept in the audit trail)."
    )
    row_version = forms.IntegerField(widget=forms.HiddenInput)

    @classmethod
    def for_study(cls, study: Study) -> StudyEditForm:
        return cls(
            initial={
                "title": study.title,
                "objective": study.objective,
                "blinded": study.blinded,
                "row_version": study.row_version,
            }
        )


class AuditSearchForm(forms.Form):
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    username = forms.CharField(required=False, label="User")
    record_type = forms.ChoiceField(required=False, label="Record type")
    study = forms.CharField(required=False, label="Study code")

    def __init__(self, *args: Any, record_types: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = [("", "All record types"), *record_types]  # type: ignore[attr-defined]
