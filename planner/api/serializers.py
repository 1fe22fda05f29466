from __future__ import annotations

from typing import Any

from rest_framework import serializers

from planner.api.conventions import ReasonField
from planner.models import (
    Amendment,
    Arm,
    EthicsApproval,
    EthicsProtocol,
    Lab,
    OutboundMessage,
    ProtocolTemplate,
    ProtocolVersion,
    RegimenItem,
    SatelliteCohort,
    Study,
    StudyMember,
    StudyProcedure,
)


class LabSerializer(serializers.ModelSerializer[Lab]):
    class Meta:
        model = Lab
        fields = ["id", "name", "slug", "time_zone"]
        read_only_fields = fields


class StudySerializer(serializers.ModelSerializer[Study]):
    lab = serializers.SlugRelatedField(slug_field="slug", queryset=Lab.objects.none())
    reason = ReasonField()
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Study
        fields = [
            "id",
            "lab",
            "code",
            "title",
            "objective",
            "blinded",
            "status",
            "row_version",
            "created_at",
            "reason",
        ]
        read_only_fields = ["id", "status", "row_version", "created_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from planner.selectors import list_labs_for_user

            self.fields["lab"].queryset = list_labs_for_user(request.user)  # type: ignore[attr-defined]


class StudyUpdateSerializer(serializers.Serializer[Study]):
    title = serializers.CharField(max_length=300, required=False)
    objective = serializers.CharField(allow_blank=True, required=False)
    blinded = serializers.BooleanField(required=False)
    reason = ReasonField()


class OutboundMessageSerializer(serializers.ModelSerializer[OutboundMessage]):
    recipient = serializers.CharField(source="recipient.username", default=None)

    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "recipient",
            "to_address",
            "subject",
            "reason",
            "related_object",
            "status",
            "attempts",
            "error",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


# -- protocol library, ethics protocols, study design ---------------------------------------


class ProtocolVersionSerializer(serializers.ModelSerializer[ProtocolVersion]):
    reason = ReasonField()
    row_version = serializers.IntegerField(read_only=True)
    released_by = serializers.CharField(source="released_by.username", default=None, read_only=True)

    class Meta:
        model = ProtocolVersion
        fields = [
            "id",
            "template",
            "number",
            "status",
            "parameters",
            "change_note",
            "created_at",
            "released_at",
            "released_by",
            "row_version",
            "reason",
        ]
        read_only_fields = [
            "id",
            "template",
            "number",
            "status",
            "created_at",
            "released_at",
            "row_version",
        ]


class ProtocolTemplateSerializer(serializers.ModelSerializer[ProtocolTemplate]):
    lab = serializers.SlugRelatedField(slug_field="slug", queryset=Lab.objects.none())
    versions = ProtocolVersionSerializer(many=True, read_only=True)
    parameters = serializers.JSONField(write_only=True, required=False)
    reason = ReasonField()
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = ProtocolTemplate
        fields = [
            "id",
            "lab",
            "name",
            "kind",
            "description",
            "retired_at",
            "created_at",
            "row_version",
            "versions",
            "parameters",
            "reason",
        ]
        read_only_fields = ["id", "retired_at", "created_at", "row_version"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from planner.selectors import list_labs_for_user

            self.fields["lab"].queryset = list_labs_for_user(request.user)  # type: ignore[attr-defined]


class ProtocolTemplateUpdateSerializer(serializers.Serializer[ProtocolTemplate]):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    reason = ReasonField()


class EthicsApprovalSerializer(serializers.ModelSerializer[EthicsApproval]):
    class Meta:
        model = EthicsApproval
        fields = ["strain", "severity", "approved_animals"]


class EthicsProtocolSerializer(serializers.ModelSerializer[EthicsProtocol]):
    lab = serializers.SlugRelatedField(slug_field="slug", queryset=Lab.objects.none())
    approvals = EthicsApprovalSerializer(many=True, required=False)
    reason = ReasonField()
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = EthicsProtocol
        fields = [
            "id",
            "lab",
            "number",
            "title",
            "approved_on",
            "expires_on",
            "endpoint_limits",
            "approvals",
            "row_version",
            "reason",
        ]
        read_only_fields = ["id", "row_version"]
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from planner.selectors import list_labs_for_user

            self.fields["lab"].queryset = list_labs_for_user(request.user)  # type: ignore[attr-defined]


class RegimenItemSerializer(serializers.ModelSerializer[RegimenItem]):
    class Meta:
        model = RegimenItem
        fields = [
            "id",
            "arm",
            "protocol_version",
            "agent",
            "is_vehicle",
            "dose",
            "dose_basis",
            "route",
            "schedule",
            "window_days",
            "non_working_day_rule",
            "order",
            "row_version",
        ]
        read_only_fields = ["id", "order", "row_version"]


class RegimenItemUpdateSerializer(serializers.Serializer[RegimenItem]):
    """A regimen item's changes; dose basis and route follow a new protocol version."""

    protocol_version = serializers.PrimaryKeyRelatedField(
        queryset=ProtocolVersion.objects.all(), required=False
    )
    agent = serializers.CharField(max_length=200, required=False)
    dose = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False)
    dose_basis = serializers.CharField(max_length=30, required=False)
    route = serializers.CharField(max_length=4, required=False)
    schedule = serializers.CharField(max_length=200, required=False)
    is_vehicle = serializers.BooleanField(required=False)
    window_days = serializers.IntegerField(min_value=0, required=False)
    non_working_day_rule = serializers.CharField(max_length=10, required=False)
    reason = ReasonField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        # Only versions of the user's labs: another lab's id reads as "does not exist".
        queryset = ProtocolVersion.objects.none()
        if request is not None:
            from planner.selectors import list_protocol_versions_for_user

            queryset = list_protocol_versions_for_user(request.user)
        self.fields["protocol_version"].queryset = queryset  # type: ignore[attr-defined]


class SatelliteSerializer(serializers.ModelSerializer[SatelliteCohort]):
    class Meta:
        model = SatelliteCohort
        fields = ["id", "n", "takedown_study_day", "purpose"]


class ArmSerializer(serializers.ModelSerializer[Arm]):
    """An arm; blinded viewers get only its code, planned n and satellites."""

    regimen_items = RegimenItemSerializer(many=True, read_only=True)
    satellites = SatelliteSerializer(many=True, read_only=True)
    reason = ReasonField()
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Arm
        fields = [
            "id",
            "study",
            "label",
            "code",
            "planned_n",
            "is_control",
            "order",
            "row_version",
            "regimen_items",
            "satellites",
            "reason",
        ]
        read_only_fields = ["id", "code", "order", "row_version"]

    BLINDED_FIELDS = ("label", "is_control", "regimen_items", "order")

    def to_representation(self, instance: Arm) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not self.context.get("sees_allocation", True):
            for name in self.BLINDED_FIELDS:
                data.pop(name, None)
        return data


class ArmUpdateSerializer(serializers.Serializer[Arm]):
    # A serializer field named ``label`` shadows Field.label in the DRF stubs.
    label = serializers.CharField(max_length=100, required=False)  # type: ignore[assignment]
    planned_n = serializers.IntegerField(min_value=1, required=False)
    is_control = serializers.BooleanField(required=False)
    reason = ReasonField()


class StudyProcedureSerializer(serializers.ModelSerializer[StudyProcedure]):
    class Meta:
        model = StudyProcedure
        fields = ["role", "protocol_version", "schedule", "window_days", "non_working_day_rule"]


class StudyDesignSerializer(StudySerializer):
    """The study with its design: procedures and arms (blinded views see codes only)."""

    arms = serializers.SerializerMethodField()
    procedures = StudyProcedureSerializer(many=True, read_only=True)

    class Meta(StudySerializer.Meta):
        fields = [
            *StudySerializer.Meta.fields,
            "hypothesis",
            "primary_outcome",
            "species",
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
            "survival_definition",
            "analysis_plan",
            "ethics_amendment_reference",
            "approved_at",
            "procedures",
            "arms",
        ]
        read_only_fields = [*StudySerializer.Meta.read_only_fields, "approved_at"]

    def to_representation(self, instance: Study) -> dict[str, Any]:
        """Blinded viewers get the analysis plan without its contrasts: they name the arms by
        label (and which one is the reference)."""
        from planner.selectors import user_sees_allocation

        data = super().to_representation(instance)
        request = self.context.get("request")
        plan = data.get("analysis_plan")
        if (
            isinstance(plan, dict)
            and "contrasts" in plan
            and (request is None or not user_sees_allocation(request.user, instance))
        ):
            data["analysis_plan"] = {k: v for k, v in plan.items() if k != "contrasts"}
        return data

    def get_arms(self, study: Study) -> list[dict[str, Any]]:
        from planner.selectors import arms_for_display, user_sees_allocation

        request = self.context.get("request")
        user = request.user if request is not None else None
        sees = user is not None and user_sees_allocation(user, study)
        arms = arms_for_display(user, study) if user is not None else study.arms.none()
        return ArmSerializer(arms, many=True, context={"sees_allocation": sees}).data  # type: ignore[return-value]


class StudyDesignUpdateSerializer(StudyUpdateSerializer):
    hypothesis = serializers.CharField(allow_blank=True, required=False)
    primary_outcome = serializers.CharField(allow_blank=True, required=False, max_length=300)
    strain = serializers.CharField(allow_blank=True, required=False, max_length=100)
    substrain = serializers.CharField(allow_blank=True, required=False, max_length=100)
    vendor = serializers.CharField(allow_blank=True, required=False, max_length=100)
    cell_line = serializers.CharField(allow_blank=True, required=False, max_length=100)
    cell_line_rrid = serializers.CharField(allow_blank=True, required=False, max_length=20)
    humane_endpoints = serializers.JSONField(required=False)
    survival_definition = serializers.JSONField(required=False)
    analysis_plan = serializers.JSONField(required=False)
    ethics_amendment_reference = serializers.CharField(
        allow_blank=True, required=False, max_length=100
    )
    ethics_protocol = serializers.PrimaryKeyRelatedField(
        queryset=EthicsProtocol.objects.all(), required=False, allow_null=True
    )


class TransitionSerializer(serializers.Serializer[Study]):
    reason = ReasonField()


class StudyMemberSerializer(serializers.ModelSerializer[StudyMember]):
    """A study member: blinded (arm codes only) or unblinded, allowed to dose or not."""

    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = StudyMember
        fields = ["user", "username", "unblinded", "can_dose"]
        read_only_fields = fields


class StudyMemberWriteSerializer(serializers.Serializer[StudyMember]):
    user = serializers.IntegerField(help_text="The lab member's user id.")
    unblinded = serializers.BooleanField(default=False)
    can_dose = serializers.BooleanField(default=False)
    reason = ReasonField()


class CloneSerializer(serializers.Serializer[Study]):
    code = serializers.CharField(max_length=40)
    title = serializers.CharField(max_length=300)


class AmendmentSerializer(serializers.ModelSerializer[Amendment]):
    proposed_by = serializers.CharField(source="proposed_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", default=None, read_only=True)

    class Meta:
        model = Amendment
        fields = [
            "id",
            "study",
            "number",
            "reason",
            "effective_date",
            "scope",
            "ethics_amendment_reference",
            "changes",
            "status",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = [
            "id",
            "number",
            "status",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
        ]

    def to_representation(self, instance: Amendment) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None:
            from planner.selectors import user_sees_allocation

            if not user_sees_allocation(request.user, instance.study):
                changes = dict(data["changes"])
                changes.pop("regimen_items", None)
                data["changes"] = changes
        return data
