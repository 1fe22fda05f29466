"""Dosing API: formulation batches, dose records (record, missed, void, the dosing list) and
permitted dose modifications. The rules are the pages': lists of records only where the user
sees dosing (unblinded or ``can_dose``), the dosing list and recording only with ``can_dose``,
and agents, doses, amounts, lots and concentrations hidden from blinded dosers of a
double-blind study (they get vial codes, volumes and routes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.models import (
    DoseModification,
    DoseRecord,
    FormulationBatch,
    Measurement,
    ModificationKind,
    StudyRun,
    Task,
    TaskKind,
)
from labnotes.selectors import (
    list_animals_for_user,
    list_dose_modifications_for_user,
    list_doses_for_user,
    list_formulation_batches_for_user,
    list_measurements_for_user,
    list_runs_for_user,
    list_tasks_for_day,
    list_tasks_for_user,
)
from labnotes.services import dosing as services
from planner.api.conventions import IDEMPOTENCY_HEADER, VivologViewSetMixin, etag_for, request_user
from planner.audit.history import HistoryEntrySerializer, history_for
from planner.models import RegimenItem, Study
from planner.selectors import list_studies_for_user

ReadOnly = (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet)

#: Fields a blinded doser of a double-blind study never gets.
BATCH_AGENT_FIELDS = ("agent", "regimen_item", "lot", "concentration_mg_per_ml", "vehicle", "notes")
DOSE_AGENT_FIELDS = (
    "agent",
    "dose",
    "dose_basis",
    "reduced_to_percent",
    "planned_amount_mg",
    "amount_mg",
    "batch_lot",
)


def _shows_agents(serializer: serializers.BaseSerializer[Any], study: Study) -> bool:
    cache: dict[int, bool] = serializer.context.setdefault("_shows_agents", {})
    if study.pk not in cache:
        request = serializer.context.get("request")
        user = getattr(request, "user", None)
        cache[study.pk] = user is not None and services.sees_agents(user, study)
    return cache[study.pk]


class AgentHistoryMixin(VivologViewSetMixin):
    """``/history/`` shows every field's old and new values (agents, doses, lots): only for
    those who see agents in the record's study."""

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:  # type: ignore[override]
        """Every recorded change of this object: who, when, field, old → new, why."""
        instance = self.get_object()  # type: ignore[attr-defined]
        study = instance.study if isinstance(instance, FormulationBatch) else instance.run.study
        if not services.sees_agents(request.user, study):
            raise PermissionDenied("The history of dosing records names agents and doses.")
        return Response(HistoryEntrySerializer(history_for(instance), many=True).data)  # type: ignore[arg-type]


def _created(data: Any, instance: Any) -> Response:
    return Response(data, status=status.HTTP_201_CREATED, headers={"ETag": etag_for(instance)})


# -- batches -------------------------------------------------------------------------------------


class FormulationBatchSerializer(serializers.ModelSerializer[FormulationBatch]):
    prepared_by = serializers.CharField(source="prepared_by.username", read_only=True)
    expired = serializers.SerializerMethodField()
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = FormulationBatch
        fields = [
            "id",
            "study",
            "agent",
            "regimen_item",
            "lot",
            "concentration_mg_per_ml",
            "vehicle",
            "coded_label",
            "prepared_by",
            "prepared_at",
            "expires_at",
            "expired",
            "notes",
            "voided_at",
            "void_reason",
            "row_version",
        ]
        read_only_fields = fields

    def get_expired(self, batch: FormulationBatch) -> bool:
        return batch.expires_at <= timezone.now()

    def to_representation(self, instance: FormulationBatch) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not _shows_agents(self, instance.study):
            for name in BATCH_AGENT_FIELDS:
                data.pop(name, None)
        return data


class FormulationBatchCreateSerializer(serializers.Serializer[Any]):
    study = serializers.PrimaryKeyRelatedField(queryset=Study.objects.none())
    agent = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    regimen_item = serializers.PrimaryKeyRelatedField(
        queryset=RegimenItem.objects.none(), required=False, allow_null=True, default=None
    )
    lot = serializers.CharField(max_length=60)
    concentration_mg_per_ml = serializers.DecimalField(max_digits=12, decimal_places=4)
    vehicle = serializers.CharField(max_length=200)
    coded_label = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    prepared_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            studies = list_studies_for_user(request.user)
            self.fields["study"].queryset = studies  # type: ignore[attr-defined]
            self.fields["regimen_item"].queryset = RegimenItem.objects.filter(  # type: ignore[attr-defined]
                arm__study__in=studies
            )


class FormulationBatchViewSet(AgentHistoryMixin, mixins.CreateModelMixin, *ReadOnly):  # type: ignore[misc]
    """Formulation batches of the studies whose dosing you see. ``POST`` records a batch (those
    who may dose, or who see the allocation); an expired batch is refused for dosing."""

    serializer_class = FormulationBatchSerializer

    def get_queryset(self) -> QuerySet[FormulationBatch]:
        return list_formulation_batches_for_user(self.request.user).order_by(
            "study", "agent", "expires_at", "pk"
        )

    @extend_schema(request=FormulationBatchCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = FormulationBatchCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        user = request_user(request)
        batch = services.create_formulation_batch(
            prepared_by=user, recorded_by=user, **body.validated_data
        )
        return _created(self.get_serializer(batch).data, batch)

    @extend_schema(request=serializers.Serializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        batch = self.get_object()
        voided = services.void_formulation_batch(
            batch=batch, voided_by=request_user(request), reason=str(request.data.get("reason", ""))
        )
        return Response(self.get_serializer(voided).data, headers={"ETag": etag_for(voided)})


# -- doses ---------------------------------------------------------------------------------------


class DoseRecordSerializer(serializers.ModelSerializer[DoseRecord]):
    animal_tag = serializers.CharField(source="animal.tag", read_only=True)
    agent = serializers.CharField(source="regimen_item.agent", read_only=True)
    batch_lot = serializers.CharField(source="batch.lot", read_only=True, default=None)
    batch_code = serializers.CharField(source="batch.coded_label", read_only=True, default=None)
    operator = serializers.CharField(source="operator.username", read_only=True, default=None)
    deviations = serializers.SerializerMethodField()
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = DoseRecord
        fields = [
            "id",
            "run",
            "animal",
            "animal_tag",
            "task",
            "occurrence",
            "scheduled_for",
            "outcome",
            "agent",
            "dose",
            "dose_basis",
            "reduced_to_percent",
            "batch",
            "batch_lot",
            "batch_code",
            "route",
            "weight_g",
            "tumour_count",
            "planned_amount_mg",
            "planned_volume_ul",
            "amount_mg",
            "volume_ul",
            "given_at",
            "operator",
            "notes",
            "deviations",
            "voided_at",
            "void_reason",
            "row_version",
        ]
        read_only_fields = fields

    def get_deviations(self, dose: DoseRecord) -> list[dict[str, str]]:
        shows = _shows_agents(self, dose.run.study)
        return [
            {"kind": d.kind, **({"detail": d.detail} if shows else {})}
            for d in dose.deviations.all()
        ]

    def to_representation(self, instance: DoseRecord) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not _shows_agents(self, instance.run.study):
            for name in DOSE_AGENT_FIELDS:
                data.pop(name, None)
        return data


class DoseCreateSerializer(serializers.Serializer[Any]):
    task = serializers.PrimaryKeyRelatedField(queryset=Task.objects.none())
    batch = serializers.PrimaryKeyRelatedField(queryset=FormulationBatch.objects.none())
    volume_ul = serializers.DecimalField(max_digits=10, decimal_places=1)
    given_at = serializers.DateTimeField()
    route = serializers.CharField(max_length=4)
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["task"].queryset = list_tasks_for_user(request.user).filter(  # type: ignore[attr-defined]
                kind=TaskKind.DOSE
            )
            self.fields["batch"].queryset = list_formulation_batches_for_user(request.user)  # type: ignore[attr-defined]


class MissedDoseSerializer(serializers.Serializer[Any]):
    task = serializers.PrimaryKeyRelatedField(queryset=Task.objects.none())
    reason = serializers.CharField(max_length=1000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["task"].queryset = list_tasks_for_user(request.user).filter(  # type: ignore[attr-defined]
                kind=TaskKind.DOSE
            )


class RunSerializer(serializers.Serializer[Any]):
    run = serializers.PrimaryKeyRelatedField(queryset=StudyRun.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["run"].queryset = list_runs_for_user(request.user)  # type: ignore[attr-defined]


def _row_data(row: services.DosingRow, shows_agents: bool) -> dict[str, Any]:
    plan = row.plan
    data: dict[str, Any] = {
        "task": row.task.pk,
        "animal": row.animal.pk,
        "tag": row.animal.tag,
        "cage": getattr(row.task, "cage_label", None),
        "arm_code": row.animal.arm.code if row.animal.arm is not None else None,
        "occurrence": row.task.occurrence,
        "date": (row.task.scheduled_date or row.task.nominal_date).isoformat(),
        "state": row.state.value,
        "message": row.message,
        "overdue": row.overdue,
        "late": row.late,
        "route": row.item.route,
        "weight_g": row.weight_g,
        "weight_source": row.weight_source,
        "weight_age_days": row.weight_age_days,
        "volume_ul": plan.volume_ul if plan else None,
        "limit_ml_per_kg": row.limit_ml_per_kg,
        "batch": row.batch.pk if row.batch else None,
        "batches": [
            {
                "id": b.pk,
                "code": b.coded_label,
                "expires_at": b.expires_at,
                **({"lot": b.lot, "concentration_mg_per_ml": b.concentration_mg_per_ml}
                   if shows_agents else {}),
            }
            for b in row.batches
        ],
        "dose_record": row.dose_record.pk if row.dose_record else None,
    }  # fmt: skip
    if shows_agents:
        data.update(
            {
                "agent": row.item.agent,
                "dose": plan.dose if plan else row.item.dose,
                "dose_basis": services.normalized_basis(row.item.dose_basis),
                "amount_mg": plan.amount_mg if plan else None,
            }
        )
    return data


class DoseRecordViewSet(AgentHistoryMixin, VivologViewSetMixin, mixins.CreateModelMixin, *ReadOnly):  # type: ignore[misc]
    """Doses given or missed, with their deviations. ``POST`` records a due dose (members who
    may dose); ``missed`` records a dose not given; ``flag-missed`` records every dose whose
    window closed; ``dosing-list`` is the page's list for a run and day."""

    serializer_class = DoseRecordSerializer

    def get_queryset(self) -> QuerySet[DoseRecord]:
        return (
            list_doses_for_user(self.request.user)
            .prefetch_related("deviations")
            .order_by("scheduled_for", "animal__tag", "pk")
        )

    def _one(self, record: DoseRecord) -> dict[str, Any]:
        return dict(self.get_serializer(self.get_queryset().get(pk=record.pk)).data)

    @extend_schema(request=DoseCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = DoseCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if not services.may_dose(request.user, data["task"].run.study):
            raise PermissionDenied("Only study members who may dose record doses.")
        record = services.record_dose(operator=request_user(request), **data)
        return _created(self._one(record), record)

    @extend_schema(request=MissedDoseSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=False, methods=["post"])
    def missed(self, request: Request) -> Response:
        body = MissedDoseSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        record = services.record_missed_dose(
            task=body.validated_data["task"],
            recorded_by=request_user(request),
            reason=body.validated_data["reason"],
        )
        return _created(self._one(record), record)

    @extend_schema(request=RunSerializer)
    @action(detail=False, methods=["post"], url_path="flag-missed")
    def flag_missed(self, request: Request) -> Response:
        body = RunSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        records = services.flag_missed_doses(
            run=body.validated_data["run"], recorded_by=request_user(request)
        )
        return Response({"flagged": [self._one(r) for r in records]})

    @extend_schema(request=serializers.Serializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        record = self.get_object()
        voided = services.void_dose(
            dose=record, voided_by=request_user(request), reason=str(request.data.get("reason", ""))
        )
        return Response(self._one(voided), headers={"ETag": etag_for(voided)})

    @extend_schema(
        parameters=[
            OpenApiParameter("run", int, required=True),
            OpenApiParameter("day", str, description="YYYY-MM-DD, default the lab's today"),
        ]
    )
    @action(detail=False, methods=["get"], url_path="dosing-list")
    def dosing_list(self, request: Request) -> Response:
        """The dosing list of a run and day (members who may dose only)."""
        run_id = request.query_params.get("run", "")
        run = get_object_or_404(
            list_runs_for_user(request.user), pk=int(run_id) if run_id.isdigit() else 0
        )
        try:
            day = dt.date.fromisoformat(request.query_params.get("day", ""))
        except ValueError:
            day = run.study.lab.local_date(timezone.now())
        tasks = list_tasks_for_day(request.user, day=day).filter(run=run, kind=TaskKind.DOSE)
        rows = services.dosing_list(user=request.user, run=run, day=day, tasks=tasks)
        shows = services.sees_agents(request.user, run.study)
        return Response({"run": run.pk, "day": day, "rows": [_row_data(r, shows) for r in rows]})


# -- modifications -------------------------------------------------------------------------------


class DoseModificationSerializer(serializers.ModelSerializer[DoseModification]):
    animal_tag = serializers.CharField(source="animal.tag", read_only=True)
    agent = serializers.CharField(source="regimen_item.agent", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True)
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = DoseModification
        fields = [
            "id",
            "run",
            "animal",
            "animal_tag",
            "regimen_item",
            "agent",
            "kind",
            "effective_from",
            "occurrence",
            "reduced_to_percent",
            "trigger_measurement",
            "trigger_weight_g",
            "baseline_weight_g",
            "weight_loss_percent",
            "rule",
            "reason",
            "tasks_changed",
            "decided_by",
            "decided_at",
            "row_version",
        ]
        read_only_fields = fields

    def to_representation(self, instance: DoseModification) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not _shows_agents(self, instance.run.study):
            data.pop("agent", None)
            data.pop("reduced_to_percent", None)
            data.pop("rule", None)
        return data


class DoseModificationCreateSerializer(serializers.Serializer[Any]):
    animal = serializers.PrimaryKeyRelatedField(queryset=StudyRun.objects.none())
    kind = serializers.ChoiceField(choices=ModificationKind.choices)
    regimen_item = serializers.PrimaryKeyRelatedField(
        queryset=RegimenItem.objects.none(), required=False, allow_null=True, default=None
    )
    effective_from = serializers.DateField(required=False, allow_null=True, default=None)
    weight = serializers.PrimaryKeyRelatedField(
        queryset=Measurement.objects.none(), required=False, allow_null=True, default=None
    )
    occurrence = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1
    )
    reason = serializers.CharField(max_length=1000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["animal"].queryset = list_animals_for_user(request.user)  # type: ignore[attr-defined]
            self.fields["regimen_item"].queryset = RegimenItem.objects.filter(  # type: ignore[attr-defined]
                arm__study__in=list_studies_for_user(request.user)
            )
            self.fields["weight"].queryset = list_measurements_for_user(request.user)  # type: ignore[attr-defined]


class DoseModificationViewSet(AgentHistoryMixin, mixins.CreateModelMixin, *ReadOnly):  # type: ignore[misc]
    """Permitted dose modifications (hold, resume, reduce, skip) per animal, with the weight
    that triggered them. ``POST`` applies one; it answers a list (one per regimen item the
    protocol permits it for)."""

    serializer_class = DoseModificationSerializer

    def get_queryset(self) -> QuerySet[DoseModification]:
        return list_dose_modifications_for_user(self.request.user).order_by(
            "animal", "effective_from", "pk"
        )

    @extend_schema(request=DoseModificationCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = DoseModificationCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        made = services.apply_dose_modification(
            decided_by=request_user(request), **body.validated_data
        )
        return Response(self.get_serializer(made, many=True).data, status=status.HTTP_201_CREATED)
