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


class ProtocolKindForm(forms.Form):
    """Step one of a new protocol: its kind decides which parameters the form asks for."""

    kind = forms.ChoiceField(choices=KIND_CHOICES, label="Kind of protocol")


class ProtocolDetailsForm(forms.Form):
    """A new protocol's name and description; its parameters come from the per-kind form."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    kind = forms.ChoiceField(choices=KIND_CHOICES, widget=forms.HiddenInput)


class ProtocolDraftNoteForm(forms.Form):
    """A draft's change note and the reason for saving it; parameters are the per-kind form."""

    change_note = forms.CharField(max_length=500, required=False)
    reason = forms.CharField(max_length=500, help_text="Why you change this draft (audit trail).")
    row_version = forms.IntegerField(widget=forms.HiddenInput)


class NameForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name of the copy")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, help_text="Kept in the audit trail.")


ENDPOINT_LIMIT_FIELDS = (
    "max_volume_mm3",
    "max_diameter_mm",
    "max_weight_loss_percent",
    "ulceration_score_limit",
)


ENDPOINT_LABELS = {
    "max_volume_mm3": "maximum tumour volume (mm³)",
    "max_diameter_mm": "maximum tumour diameter (mm)",
    "max_weight_loss_percent": "maximum weight loss (%)",
    "ulceration_score_limit": "ulceration score limit (0 to 3)",
}


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
        return {name: self.cleaned_data[name] for name in ENDPOINT_LIMIT_FIELDS}


class EthicsProtocolEditForm(EthicsProtocolForm):
    """Changes to a recorded protocol (after a committee amendment); its number stays."""

    reason = forms.CharField(
        max_length=500, help_text="Why the record changes, e.g. the committee's amendment."
    )
    row_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["number"]

    @classmethod
    def for_protocol(cls, protocol: EthicsProtocol) -> EthicsProtocolEditForm:
        limits = protocol.endpoint_limits or {}
        approvals = "\n".join(
            f"{a.strain}, {a.severity}, {a.approved_animals}" for a in protocol.approvals.all()
        )
        return cls(
            initial={
                "title": protocol.title,
                "approved_on": protocol.approved_on,
                "expires_on": protocol.expires_on,
                **{name: limits.get(name) for name in ENDPOINT_LIMIT_FIELDS},
                "approvals": approvals,
                "row_version": protocol.row_version,
            }
        )


class RemoveForm(forms.Form):
    """Removing something recorded needs a reason (it stays in the audit trail)."""

    reason = forms.CharField(max_length=500, label="Reason for removing")


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
    survival_definition = JSONTextField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono", "spellcheck": "false"}),
        help_text='Empty: the defaults, fixed at approval. <code>{"time_origin": '
        '"first_treatment", "causes": {"ulceration": "censored", …}}</code>',
    )
    analysis_plan = JSONTextField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono", "spellcheck": "false"}),
        help_text="Empty: the defaults (each arm against the control, each combination against "
        "its single agents), fixed at approval. Keys: primary_endpoint, analysis_day_rule, "
        "analysis_day, tgi_definition, dropout_policy, contrasts, synergy_model, alpha.",
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
        "survival_definition",
        "analysis_plan",
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


class StudyMemberForm(forms.Form):
    """Who works on a study and what they may see: a blinded member sees arm codes only."""

    user: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,  # set per lab in __init__
        label="Lab member",
    )
    unblinded = forms.BooleanField(
        required=False, label="Unblinded (sees arm labels, agents and doses)"
    )
    can_dose = forms.BooleanField(required=False, label="May dose (sees the dose tasks)")
    reason = forms.CharField(
        max_length=500,
        required=False,
        help_text="Required when changing an existing member (kept in the audit trail).",
    )

    def __init__(self, *args: Any, lab: Lab, **kwargs: Any) -> None:
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (  # type: ignore[attr-defined]
            get_user_model().objects.filter(memberships__lab=lab).distinct().order_by("username")
        )


class ArmForm(forms.Form):
    label = forms.CharField(max_length=100, label="Arm label", help_text="e.g. IL-12 + CPA")
    planned_n = forms.IntegerField(min_value=1, label="Planned n")
    is_control = forms.BooleanField(required=False, label="Control arm")


class ArmEditForm(ArmForm):
    """An arm's changes; carries the version the user opened (a stale save gets 409)."""

    reason = forms.CharField(
        max_length=500, help_text="Why you are changing this arm (kept in the audit trail)."
    )
    row_version = forms.IntegerField(widget=forms.HiddenInput)


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


class RegimenItemEditForm(RegimenItemForm):
    """A regimen item's changes, checked like a new item against its dosing protocol."""

    reason = forms.CharField(
        max_length=500, help_text="Why you are changing this item (kept in the audit trail)."
    )
    row_version = forms.IntegerField(widget=forms.HiddenInput)


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
        required=False,
        label="Changes as JSON (advanced)",
        help_text="Used instead of the fields above when given, e.g. "
        '<code>{"arms": [{"code": "B", "planned_n": 12}]}</code>.',
    )

    def __init__(
        self, *args: Any, study: Study | None = None, sees_allocation: bool = False, **kwargs: Any
    ) -> None:
        """One optional field per thing an amendment can change (blank: unchanged); arms and
        regimen items only for members who see the allocation."""
        super().__init__(*args, **kwargs)
        changes_field = self.fields.pop("changes")
        self._targets: list[tuple[str, str]] = []  # (service message key, field)
        # field → (group of ``changes``, the entry's key, the attribute it sets)
        self._entries: dict[str, tuple[str, str | int, str]] = {}
        self._current_limits = dict(study.humane_endpoints or {}) if study is not None else {}
        if study is not None:
            for name in ENDPOINT_LIMIT_FIELDS:
                current = (study.humane_endpoints or {}).get(name)
                self.fields[f"endpoint_{name}"] = forms.FloatField(
                    required=False,
                    label=f"New {ENDPOINT_LABELS[name]}",
                    help_text=f"Now {current if current is not None else 'the ethics limit'}.",
                )
            if sees_allocation:
                for arm in study.arms.all():
                    self._entries[f"arm_{arm.code}_planned_n"] = ("arms", arm.code, "planned_n")
                    self.fields[f"arm_{arm.code}_planned_n"] = forms.IntegerField(
                        required=False,
                        min_value=1,
                        label=f"New planned n of {arm.label}",
                        help_text=f"Now {arm.planned_n}.",
                    )
                for arm in study.arms.prefetch_related("regimen_items"):
                    for item in arm.regimen_items.all():
                        where = f"{item.agent} in {arm.label}"
                        for attribute in ("schedule", "dose"):
                            self._entries[f"item_{item.pk}_{attribute}"] = (
                                "regimen_items",
                                item.pk,
                                attribute,
                            )
                        self.fields[f"item_{item.pk}_schedule"] = forms.CharField(
                            required=False,
                            max_length=200,
                            label=f"New schedule of {where}",
                            help_text=f"Now {item.schedule}.",
                        )
                        self.fields[f"item_{item.pk}_dose"] = forms.DecimalField(
                            required=False,
                            min_value=0,
                            label=f"New dose of {where}",
                            help_text=f"Now {item.dose.normalize()} ({item.dose_basis}).",
                        )
            for procedure in study.procedures.select_related("protocol_version__template"):
                self._entries[f"procedure_{procedure.pk}_schedule"] = (
                    "procedures",
                    procedure.pk,
                    "schedule",
                )
                self.fields[f"procedure_{procedure.pk}_schedule"] = forms.CharField(
                    required=False,
                    max_length=200,
                    label=f"New schedule of {procedure.get_role_display().lower()} "
                    f"({procedure.protocol_version})",
                    help_text=f"Now {procedure.schedule or 'the protocol schedule'}.",
                )
        self.fields["changes"] = changes_field

    def amendment_changes(self) -> dict[str, Any]:
        """The ``changes`` for the service: the JSON when given, else the filled fields."""
        data = self.cleaned_data
        if data.get("changes"):
            return dict(data["changes"])
        changes: dict[str, Any] = {}
        self._targets = []
        limits = {
            name: data[f"endpoint_{name}"]
            for name in ENDPOINT_LIMIT_FIELDS
            if data.get(f"endpoint_{name}") is not None
        }
        if limits:
            # The limits not filled in stay as they are (not the science defaults).
            changes["humane_endpoints"] = {**self._current_limits, **limits}
            for name in limits:
                self._targets.append((f"changes.humane_endpoints.{name}", f"endpoint_{name}"))
        for field, (group, key, attribute) in self._entries.items():
            value = data.get(field)
            if value in (None, ""):
                continue
            entries = changes.setdefault(group, [])
            name = "code" if group == "arms" else "id"
            entry = next((e for e in entries if e[name] == key), None)
            if entry is None:
                entry = {name: key}
                entries.append(entry)
            entry[attribute] = value if attribute == "planned_n" else str(value)
            where = f"changes.{group}[{entries.index(entry)}]"
            self._targets += [(f"{where}.{attribute}", field), (where, field)]
        return changes

    def field_for_error(self, key: str) -> str | None:
        """The input a service message keyed ``changes.…`` belongs to, if any."""
        return next((field for target, field in self._targets if target == key), None)


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
