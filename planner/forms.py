from __future__ import annotations

from typing import Any

from django import forms

from planner.domain.protocol_parameters import KIND_CHOICES
from planner.domain.sample_size import CONTRAST_CHOICES
from planner.domain.working_calendar import SHIFT_RULE_CHOICES
from planner.models import (
    AmendmentScope,
    EthicsProtocol,
    Lab,
    ProcedureRole,
    ProtocolVersion,
    Sex,
    Study,
)


class StudyCreateForm(forms.Form):
    lab = forms.ModelChoiceField(queryset=Lab.objects.none(), help_text="The lab that owns it.")
    code = forms.CharField(max_length=40, help_text="Short unique code, e.g. CT26-IL12-01.")
    title = forms.CharField(max_length=300)
    objective = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    blinded = forms.BooleanField(
        required=False, initial=True, help_text="Blinded members see arm codes only."
    )

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
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    username = forms.CharField(required=False, label="User")
    record_type = forms.ChoiceField(required=False, label="Record type")
    study = forms.CharField(required=False, label="Study code")

    def __init__(self, *args: Any, record_types: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = [("", "All record types"), *record_types]  # type: ignore[attr-defined]


# -- protocol library, ethics, calendar, design pages ---------------------------------------

JSON_HELP = (
    "The parameters as JSON, names with their units (e.g. <code>volume_ul</code>); every "
    "mistake is listed at once."
)


class JSONTextField(forms.JSONField):
    widget = forms.Textarea(attrs={"rows": 12, "class": "mono", "spellcheck": "false"})


class ProtocolTemplateForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=KIND_CHOICES)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    parameters = JSONTextField(help_text=JSON_HELP)


class ProtocolDraftForm(forms.Form):
    parameters = JSONTextField(help_text=JSON_HELP)
    change_note = forms.CharField(max_length=500, required=False)
    reason = forms.CharField(max_length=500, help_text="Why you change this draft (audit trail).")
    row_version = forms.IntegerField(widget=forms.HiddenInput)


class NameForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name of the copy")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, help_text="Kept in the audit trail.")


class EthicsProtocolForm(forms.Form):
    number = forms.CharField(max_length=60, help_text="The committee's approval number.")
    title = forms.CharField(max_length=300)
    approved_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    max_volume_mm3 = forms.FloatField(label="Maximum tumour volume (mm³)", initial=2000)
    max_diameter_mm = forms.FloatField(label="Maximum tumour diameter (mm)", initial=20)
    max_weight_loss_percent = forms.FloatField(label="Maximum weight loss (%)", initial=20)
    ulceration_score_limit = forms.IntegerField(label="Ulceration score limit (0 to 3)", initial=3)
    approvals = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="One line per strain: strain, severity (mild, moderate, severe, non_recovery), "
        "animals — e.g. <code>BALB/c, moderate, 200</code>.",
    )

    def approval_rows(self) -> list[dict[str, object]]:
        rows = []
        for line in (self.cleaned_data.get("approvals") or "").splitlines():
            if line.strip():
                parts = [part.strip() for part in line.split(",")]
                parts += [""] * (3 - len(parts))
                rows.append(
                    {"strain": parts[0], "severity": parts[1], "approved_animals": parts[2]}
                )
        return rows

    def endpoint_limits(self) -> dict[str, object]:
        return {
            name: self.cleaned_data[name]
            for name in (
                "max_volume_mm3",
                "max_diameter_mm",
                "max_weight_loss_percent",
                "ulceration_score_limit",
            )
        }


WEEKDAY_CHOICES = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class WorkingWeekdaysForm(forms.Form):
    working_weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label="Working weekdays",
    )
    reason = forms.CharField(max_length=500, help_text="Why the working week changes.")


class HolidayForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Date")
    name = forms.CharField(max_length=100, label="Holiday name")


class ClosureForm(forms.Form):
    first_day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason_text = forms.CharField(max_length=200, label="Why the facility is closed")


class StudyDesignForm(StudyEditForm):
    """The draft design's own fields (arms and regimens are edited inline on the study page)."""

    hypothesis = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    primary_outcome = forms.CharField(max_length=300, required=False)
    strain = forms.CharField(max_length=100, required=False, help_text="e.g. BALB/c")
    substrain = forms.CharField(max_length=100, required=False)
    vendor = forms.CharField(max_length=100, required=False)
    sex = forms.ChoiceField(choices=Sex.choices)
    age_weeks_min = forms.IntegerField(required=False, min_value=1, label="Age from (weeks)")
    age_weeks_max = forms.IntegerField(required=False, min_value=1, label="Age to (weeks)")
    cell_line = forms.CharField(max_length=100, required=False, help_text="e.g. CT26.WT")
    cell_line_rrid = forms.CharField(
        max_length=20, required=False, label="Cell line RRID", help_text="e.g. CVCL_7256"
    )
    ethics_protocol = forms.ModelChoiceField(queryset=EthicsProtocol.objects.none(), required=False)
    ethics_amendment_reference = forms.CharField(
        max_length=100,
        required=False,
        help_text="Only when the endpoint limits are looser than the ethics approval.",
    )
    humane_endpoints = JSONTextField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        help_text="Empty: the ethics protocol's limits.",
    )

    field_order = [
        "title",
        "objective",
        "hypothesis",
        "primary_outcome",
        "strain",
        "substrain",
        "vendor",
        "sex",
        "age_weeks_min",
        "age_weeks_max",
        "cell_line",
        "cell_line_rrid",
        "ethics_protocol",
        "humane_endpoints",
        "ethics_amendment_reference",
        "blinded",
        "reason",
        "row_version",
    ]

    def __init__(self, *args: Any, lab: Lab, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ethics_protocol"].queryset = EthicsProtocol.objects.filter(lab=lab)  # type: ignore[attr-defined]

    @classmethod
    def for_design(cls, study: Study) -> StudyDesignForm:
        initial = {name: getattr(study, name) for name in cls.field_order if name != "reason"}
        return cls(initial=initial, lab=study.lab)


class ArmForm(forms.Form):
    label = forms.CharField(max_length=100, label="Arm label", help_text="e.g. IL-12 + CPA")
    planned_n = forms.IntegerField(min_value=1, label="Planned n")
    is_control = forms.BooleanField(required=False, label="Control arm")


class RegimenItemForm(forms.Form):
    protocol_version = forms.ModelChoiceField(
        queryset=ProtocolVersion.objects.none(), label="Dosing protocol"
    )
    agent = forms.CharField(max_length=200)
    dose = forms.DecimalField(
        min_value=0, help_text="mg/kg or µg, as the protocol's dose basis says; 0 for vehicle."
    )
    schedule = forms.CharField(
        max_length=200,
        help_text="e.g. <code>7,10,13</code>, <code>Q3Dx4 from day 7</code>, "
        "<code>once on day 7</code>, <code>Mon/Wed/Fri</code>.",
    )
    is_vehicle = forms.BooleanField(required=False, label="Matching vehicle injection")
    window_days = forms.IntegerField(min_value=0, initial=1, label="Permitted window (± days)")
    non_working_day_rule = forms.ChoiceField(
        choices=SHIFT_RULE_CHOICES, label="On a non-working day", initial="later"
    )

    def __init__(self, *args: Any, lab: Lab, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["protocol_version"].queryset = ProtocolVersion.objects.filter(  # type: ignore[attr-defined]
            template__lab=lab, template__kind="dosing"
        ).select_related("template")


class ProcedureForm(forms.Form):
    role = forms.ChoiceField(choices=ProcedureRole.choices, label="Procedure")
    protocol_version = forms.ModelChoiceField(
        queryset=ProtocolVersion.objects.none(), label="Protocol version"
    )
    schedule = forms.CharField(
        max_length=200, required=False, help_text="Empty: the protocol's own schedule."
    )

    def __init__(self, *args: Any, lab: Lab, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # self.fields is typed dict[str, Field]; this one is the ModelChoiceField above.
        self.fields["protocol_version"].queryset = (  # type: ignore[attr-defined]
            ProtocolVersion.objects.filter(template__lab=lab)
            .exclude(template__kind="dosing")
            .select_related("template")
        )


class SatelliteForm(forms.Form):
    n = forms.IntegerField(min_value=1, label="Satellite animals")
    takedown_study_day = forms.IntegerField(required=False, label="Takedown study day")
    purpose = forms.CharField(max_length=300, required=False)


class CloneStudyForm(forms.Form):
    code = forms.CharField(max_length=40, label="Code of the copy")
    title = forms.CharField(max_length=300)


class PreviewForm(forms.Form):
    day0 = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), label="Day 0 (implantation)"
    )
    last_day = forms.IntegerField(min_value=1, max_value=365, initial=28, label="Last study day")
    randomization_day = forms.IntegerField(
        min_value=0,
        initial=7,
        label="Randomization study day",
        help_text="For schedules counted from randomization (R+n).",
    )


class AmendmentForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    effective_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    scope = forms.ChoiceField(choices=AmendmentScope.choices)
    ethics_amendment_reference = forms.CharField(
        max_length=100,
        required=False,
        help_text="Required when endpoints, animal numbers or procedures change.",
    )
    changes = JSONTextField(
        help_text='e.g. <code>{"arms": [{"code": "B", "planned_n": 12}]}</code> or '
        '<code>{"regimen_items": [{"id": 5, "schedule": "8,11,14"}]}</code>.'
    )


class SampleSizeForm(forms.Form):
    contrast = forms.ChoiceField(choices=CONTRAST_CHOICES)
    treated_to_control_ratio = forms.FloatField(
        min_value=0.01,
        max_value=0.99,
        initial=0.5,
        label="Expected treated/control volume ratio",
        help_text="0.5: the treatment halves the tumour volume (or the interaction on the log "
        "scale for the combination contrast).",
    )
    sd_log = forms.FloatField(
        min_value=0.001,
        label="SD of log volume",
        help_text="Natural log, at the analysis day; from the lab's past control arms.",
    )
    alpha = forms.FloatField(min_value=0.001, max_value=0.5, initial=0.05)
    power = forms.FloatField(min_value=0.5, max_value=0.99, initial=0.8)
    attrition_fraction = forms.FloatField(
        min_value=0, max_value=0.89, initial=0.1, label="Expected attrition (fraction)"
    )
