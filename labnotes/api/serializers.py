"""API representations. Every field that could reveal the allocation asks the user's blinding.

Blinded users get the arm *code* only: ``arm`` renders as ``{"code": "G2"}`` for them and as
``{"code": "G2", "label": …}`` for unblinded users, so a blinded response has the same shape
whichever arm an animal is in.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from labnotes.models import (
    Animal,
    Cage,
    Implantation,
    RandomizationBatch,
    StudyRun,
    Task,
    Tumour,
    TumourRole,
    Unblinding,
)
from labnotes.selectors import Blinding, blinding_for
from labnotes.services.dosing import DoseTaskNames
from planner.models import Arm, Study


def blinding_in(serializer: serializers.Field, study: Study) -> Blinding:  # type: ignore[type-arg]
    """The requesting user's blinding for ``study``, cached per response."""
    context = serializer.context
    cache: dict[int, Blinding] = context.setdefault("_blinding", {})
    if study.pk not in cache:
        request = context.get("request")
        user = getattr(request, "user", None)
        cache[study.pk] = blinding_for(user, study) if user is not None else Blinding(False, False)
    return cache[study.pk]


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "properties": {"code": {"type": "string"}, "label": {"type": "string"}},
        "required": ["code"],
        "description": "The arm's code; its label only for those who see the allocation.",
    }
)
class BlindedArmField(serializers.Field):  # type: ignore[type-arg]
    """An animal's arm: the code for everyone, the label only for those who see the allocation."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, animal: Animal) -> dict[str, str] | None:
        return arm_view(self, animal)


def arm_view(serializer: serializers.Field, animal: Animal) -> dict[str, str] | None:  # type: ignore[type-arg]
    """``{"code"}`` for blinded users, ``{"code", "label"}`` for those who see the allocation."""
    arm: Arm | None = animal.arm
    if arm is None:
        return None
    if blinding_in(serializer, animal.run.study).sees_allocation:
        return {"code": arm.code, "label": arm.label}
    return {"code": arm.code}


class StudyRunSerializer(serializers.ModelSerializer[StudyRun]):
    study_code = serializers.CharField(source="study.code", read_only=True)
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = StudyRun
        fields = [
            "id",
            "study",
            "study_code",
            "code",
            "day0",
            "last_study_day",
            "status",
            "parent_run",
            "created_at",
            "row_version",
        ]
        read_only_fields = ["id", "status", "parent_run", "created_at", "row_version"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from planner.selectors import list_studies_for_user

            self.fields["study"].queryset = list_studies_for_user(request.user)  # type: ignore[attr-defined]


class RechallengeSerializer(serializers.Serializer[Any]):
    """A linked re-challenge run: its code, day 0 and the cured animals (ids) of this run."""

    code = serializers.CharField(max_length=40)
    day0 = serializers.DateField()
    animals = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1)


class AnimalSerializer(serializers.ModelSerializer[Animal]):
    arm = BlindedArmField()
    cage = serializers.CharField(source="cage_label", read_only=True, default=None)
    room = serializers.CharField(source="cage_room", read_only=True, default=None)
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Animal
        fields = [
            "id",
            "run",
            "tag",
            "rfid",
            "sex",
            "date_of_birth",
            "arrival_weight_g",
            "received_on",
            "arm",
            "treatment_start_date",
            "is_satellite",
            "status",
            "status_reason",
            "cage",
            "room",
            "origin",
            "row_version",
        ]
        read_only_fields = fields


class AnimalRowSerializer(serializers.Serializer[Any]):
    tag = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    rfid = serializers.CharField(allow_blank=True, required=False)
    sex = serializers.CharField(allow_blank=True, required=False)
    date_of_birth = serializers.CharField(allow_blank=True, required=False, allow_null=True)
    arrival_weight_g = serializers.CharField(allow_blank=True, required=False, allow_null=True)
    cage = serializers.CharField(allow_blank=True, required=False)


class BulkRegisterSerializer(serializers.Serializer[Any]):
    run = serializers.PrimaryKeyRelatedField(queryset=StudyRun.objects.none())
    rows = AnimalRowSerializer(many=True, required=False)
    text = serializers.CharField(required=False, help_text="Pasted tags, one per line.")
    file = serializers.FileField(required=False, help_text="CSV or XLSX with a header row.")
    received_on = serializers.DateField(required=False)
    preview = serializers.BooleanField(default=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from labnotes.selectors import list_runs_for_user

            self.fields["run"].queryset = list_runs_for_user(request.user)  # type: ignore[attr-defined]


class ReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000)


class MoveSerializer(serializers.Serializer[Any]):
    cage = serializers.PrimaryKeyRelatedField(queryset=Cage.objects.none())
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    moved_on = serializers.DateField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from labnotes.selectors import list_cages_for_user

            self.fields["cage"].queryset = list_cages_for_user(request.user)  # type: ignore[attr-defined]


class CageSerializer(serializers.ModelSerializer[Cage]):
    occupants = serializers.SerializerMethodField()
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Cage
        fields = [
            "id",
            "lab",
            "run",
            "label",
            "capacity",
            "room",
            "rack",
            "position",
            "occupants",
            "row_version",
        ]
        read_only_fields = ["id", "occupants", "row_version"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from labnotes.selectors import list_runs_for_user
            from planner.selectors import list_labs_for_user

            self.fields["lab"].queryset = list_labs_for_user(request.user)  # type: ignore[attr-defined]
            self.fields["run"].queryset = list_runs_for_user(request.user)  # type: ignore[attr-defined]

    def get_occupants(self, cage: Cage) -> list[str]:
        return sorted(
            a.animal.tag
            for a in cage.assignments.filter(to_date__isnull=True).select_related("animal")
        )


class SplitSerializer(serializers.Serializer[Any]):
    animals = serializers.PrimaryKeyRelatedField(queryset=Animal.objects.none(), many=True)
    new_label = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=300)
    moved_on = serializers.DateField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from labnotes.selectors import list_animals_for_user

            self.fields["animals"].child_relation.queryset = list_animals_for_user(request.user)  # type: ignore[attr-defined]


class ImplantationSerializer(serializers.ModelSerializer[Implantation]):
    operator = serializers.CharField(source="operator.username", read_only=True)

    class Meta:
        model = Implantation
        fields = [
            "implanted_on",
            "cells",
            "viability_percent",
            "passage",
            "operator",
            "deviations",
            "protocol_version",
            "recorded_at",
        ]
        read_only_fields = fields


class TumourSerializer(serializers.ModelSerializer[Tumour]):
    implantation = ImplantationSerializer(read_only=True)

    class Meta:
        model = Tumour
        fields = ["id", "animal", "site", "role", "implantation"]
        read_only_fields = fields


class ImplantationCreateSerializer(serializers.Serializer[Any]):
    animal = serializers.PrimaryKeyRelatedField(queryset=Animal.objects.none())
    site = serializers.CharField(max_length=60)
    role = serializers.ChoiceField(choices=TumourRole.choices, default=TumourRole.INJECTED)
    implanted_on = serializers.DateField()
    cells = serializers.IntegerField(min_value=1)
    viability_percent = serializers.DecimalField(
        max_digits=5, decimal_places=1, required=False, allow_null=True
    )
    passage = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    deviations = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from labnotes.selectors import list_animals_for_user

            self.fields["animal"].queryset = list_animals_for_user(request.user)  # type: ignore[attr-defined]


class RandomizationBatchSerializer(serializers.ModelSerializer[RandomizationBatch]):
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = RandomizationBatch
        fields = [
            "id",
            "run",
            "number",
            "method",
            "seed",
            "numpy_version",
            "bit_generator",
            "candidates",
            "inputs",
            "allocation",
            "balance",
            "randomized_on",
            "status",
            "previewed_by",
            "previewed_at",
            "applied_by",
            "applied_at",
            "voided_by",
            "voided_at",
            "void_reason",
            "row_version",
        ]
        read_only_fields = fields


class PreviewRequestSerializer(serializers.Serializer[Any]):
    run = serializers.PrimaryKeyRelatedField(queryset=StudyRun.objects.none())
    animals = serializers.PrimaryKeyRelatedField(
        queryset=Animal.objects.none(), many=True, required=False
    )
    method = serializers.ChoiceField(choices=["simple", "stratified", "balance"], required=False)
    seed = serializers.IntegerField(min_value=0, max_value=2**62, required=False)
    candidates = serializers.IntegerField(min_value=1, max_value=100_000, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from labnotes.selectors import list_animals_for_user, list_runs_for_user

            self.fields["run"].queryset = list_runs_for_user(request.user)  # type: ignore[attr-defined]
            self.fields["animals"].child_relation.queryset = list_animals_for_user(request.user)  # type: ignore[attr-defined]


class TaskSerializer(serializers.ModelSerializer[Task]):
    """A task as anyone who may see it sees it; dose details only with dosing visibility."""

    animal_tag = serializers.CharField(source="animal.tag", read_only=True)
    arm = serializers.SerializerMethodField()
    cage = serializers.CharField(source="cage_label", read_only=True, default=None)
    room = serializers.CharField(source="cage_room", read_only=True, default=None)
    dosing = serializers.SerializerMethodField()
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "run",
            "animal",
            "animal_tag",
            "arm",
            "cage",
            "room",
            "kind",
            "occurrence",
            "study_day",
            "nominal_date",
            "scheduled_date",
            "shift_description",
            "window_days",
            "per_protocol",
            "status",
            "assignee",
            "completed_at",
            "dosing",
            "row_version",
        ]
        read_only_fields = fields

    def get_arm(self, task: Task) -> dict[str, str] | None:
        return arm_view(self, task.animal)

    def get_dosing(self, task: Task) -> dict[str, Any] | None:
        # Blinded dosers of a double-blind study get the vial code and route only.
        if "_dose_names" not in self.context:
            user = getattr(self.context.get("request"), "user", None)
            self.context["_dose_names"] = DoseTaskNames(user) if user is not None else None
        names = self.context["_dose_names"]
        return names.api(task) if names is not None else None

    def to_representation(self, instance: Task) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not blinding_in(self, instance.run.study).sees_dosing:
            data.pop("dosing")
        return data


class UnblindingSerializer(serializers.ModelSerializer[Unblinding]):
    performed_by = serializers.CharField(source="performed_by.username", read_only=True)
    animal_tag = serializers.CharField(source="animal.tag", read_only=True, default=None)

    class Meta:
        model = Unblinding
        fields = [
            "id",
            "study",
            "scope",
            "animal",
            "animal_tag",
            "performed_by",
            "performed_at",
            "reason",
            "password_confirmed",
        ]
        read_only_fields = fields


class UnblindStudySerializer(serializers.Serializer[Any]):
    study = serializers.PrimaryKeyRelatedField(queryset=Study.objects.none())
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    reason = serializers.CharField(max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from planner.selectors import list_studies_for_user

            self.fields["study"].queryset = list_studies_for_user(request.user)  # type: ignore[attr-defined]
