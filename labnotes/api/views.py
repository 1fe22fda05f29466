"""labnotes API: declarative ViewSets; domain operations are actions calling one service."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.api import serializers as s
from labnotes.filters import AnimalFilterSet, TaskFilterSet
from labnotes.models import (
    Animal,
    Cage,
    RandomizationBatch,
    StudyRun,
    Task,
    Tumour,
    Unblinding,
)
from labnotes.selectors import (
    arm_counts,
    list_animals_for_user,
    list_batches_for_user,
    list_cages_for_user,
    list_runs_for_user,
    list_tasks_for_user,
    list_tumours_for_user,
    list_unblindings_for_user,
    staging_rows,
)
from labnotes.services import animals as animal_services
from labnotes.services import blinding as blinding_services
from labnotes.services import randomization as randomization_services
from labnotes.services import runs as run_services
from labnotes.services import schedule as schedule_services
from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    VivologViewSetMixin,
    etag_for,
    request_user,
)
from planner.api.limits import enforce_row_limit

ReadOnly = (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet)


def _created(serializer_data: Any, instance: Any) -> Response:
    headers = {"ETag": etag_for(instance)} if hasattr(instance, "row_version") else {}
    return Response(serializer_data, status=status.HTTP_201_CREATED, headers=headers)


class StudyRunViewSet(VivologViewSetMixin, mixins.CreateModelMixin, *ReadOnly):  # type: ignore[misc]
    """Study runs. ``POST`` starts a run of an approved design."""

    serializer_class = s.StudyRunSerializer

    def get_queryset(self) -> QuerySet[StudyRun]:
        return list_runs_for_user(self.request.user).order_by("-day0", "code")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().retrieve(request, *args, **kwargs)
        counts = arm_counts(self.get_object(), request.user)
        if counts is not None:
            response.data["arms"] = counts
        return response

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = run_services.start_study_run(
            study=data["study"],
            code=data["code"],
            day0=data["day0"],
            started_by=request_user(request),
            last_study_day=data.get("last_study_day"),
        )
        return _created(self.get_serializer(run).data, run)

    @action(detail=True, methods=["get"])
    def staging(self, request: Request, pk: str | None = None) -> Response:
        """Animals not yet randomized by current tumour volume, eligible or not (no arms)."""
        run = self.get_object()
        return Response(
            [
                {
                    "animal": row.animal.pk,
                    "tag": row.animal.tag,
                    "cage": row.cage_label,
                    "volume_mm3": row.volume_mm3,
                    "volume_taken_at": row.volume_taken_at,
                    "weight_g": row.weight_g,
                    "eligible": row.eligible,
                    "reason": row.reason,
                }
                for row in staging_rows(run)
            ]
        )

    @extend_schema(request=s.RechallengeSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"])
    def rechallenge(self, request: Request, pk: str | None = None) -> Response:
        """Start a linked re-challenge run with cured animals of this run (their history kept);
        register the age-matched naive controls in the new run with ``bulk-register``."""
        run = self.get_object()
        serializer = s.RechallengeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        wanted = set(data["animals"])
        animals = list(list_animals_for_user(request.user).filter(run=run, pk__in=wanted))
        missing = sorted(wanted - {animal.pk for animal in animals})
        if missing:
            raise ValidationError(
                {"animals": f"Not animals of run {run.code}: {', '.join(map(str, missing))}."}
            )
        child = run_services.start_rechallenge_run(
            parent_run=run,
            code=data["code"],
            day0=data["day0"],
            animals=animals,
            started_by=request_user(request),
        )
        return _created(self.get_serializer(child).data, child)

    @action(detail=True, methods=["post"], url_path="expand-tasks")
    def expand_tasks(self, request: Request, pk: str | None = None) -> Response:
        """Re-expand the task schedule (future due tasks are replaced, done ones kept)."""
        run = self.get_object()
        result = schedule_services.expand_run_tasks(
            run=run,
            requested_by=request_user(request),
            reason=request.data.get("reason"),
        )
        return Response({"created": result.created, "removed": result.removed})


class AnimalViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """Animals. Arms appear as codes to blinded users; order and filter by ``arm_code`` only."""

    serializer_class = s.AnimalSerializer
    filterset_class = AnimalFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Animal]:
        return list_animals_for_user(self.request.user).order_by("run", "tag")

    @extend_schema(request=s.BulkRegisterSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=False, methods=["post"], url_path="bulk-register")
    def bulk_register(self, request: Request) -> Response:
        """Register animals from ``rows``, pasted ``text`` or a CSV/XLSX ``file``.

        With ``preview: true`` nothing is written: every row error is listed. Otherwise all rows
        are saved or, when any row is invalid, none (422 naming each row, field and reason).
        """
        serializer = s.BulkRegisterSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = data["run"]
        if data.get("file") is not None:
            upload = data["file"]
            rows = animal_services.read_animal_file(content=upload.read(), filename=upload.name)
        elif data.get("text"):
            rows = animal_services.parse_pasted_animals(data["text"])
        else:
            rows = [dict(row) for row in data.get("rows", [])]
        enforce_row_limit(len(rows))
        if data["preview"]:
            preview = animal_services.preview_animal_rows(
                run=run, rows=rows, received_on=data.get("received_on")
            )
            return Response(
                {
                    "valid": preview.is_valid,
                    "count": len(preview.rows),
                    "ethics_remaining": preview.ethics_remaining,
                    "rows": [
                        {
                            "row": r.row,
                            "tag": r.tag,
                            "rfid": r.rfid,
                            "sex": r.sex,
                            "date_of_birth": r.date_of_birth,
                            "arrival_weight_g": r.arrival_weight_g,
                            "cage": r.cage.label if r.cage else None,
                        }
                        for r in preview.rows
                    ],
                    "errors": [
                        {"row": e.row, "field": e.field, "reason": e.reason} for e in preview.errors
                    ],
                }
            )
        animals = animal_services.register_animals(
            run=run,
            rows=rows,
            registered_by=request_user(request),
            received_on=data.get("received_on"),
        )
        created = self.get_queryset().filter(pk__in=[a.pk for a in animals])
        return Response(
            self.get_serializer(created, many=True).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=s.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def exclude(self, request: Request, pk: str | None = None) -> Response:
        animal = self.get_object()
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        animal_services.exclude_animal(
            animal=animal, reason=body.validated_data["reason"], excluded_by=request_user(request)
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=s.MoveSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        animal = self.get_object()
        body = s.MoveSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        animal_services.move_animals(
            animals=[animal],
            cage=body.validated_data["cage"],
            moved_by=request_user(request),
            reason=body.validated_data["reason"],
            moved_on=body.validated_data.get("moved_on"),
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=s.ReasonSerializer)
    @action(detail=True, methods=["post"], url_path="emergency-unblind")
    def emergency_unblind(self, request: Request, pk: str | None = None) -> Response:
        """A vet's emergency unblinding of this animal: shows its arm once, records who/why."""
        animal = self.get_object()
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = blinding_services.emergency_unblind_animal(
            animal=animal,
            performed_by=request_user(request),
            reason=body.validated_data["reason"],
        )
        return Response(
            {
                "unblinding": s.UnblindingSerializer(result.unblinding).data,
                "arm_code": result.arm_code,
                "arm_label": result.arm_label,
                "regimen": list(result.regimen),
            },
            status=status.HTTP_201_CREATED,
        )


class CageViewSet(VivologViewSetMixin, mixins.CreateModelMixin, *ReadOnly):  # type: ignore[misc]
    serializer_class = s.CageSerializer

    def get_queryset(self) -> QuerySet[Cage]:
        return list_cages_for_user(self.request.user)

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        cage = animal_services.create_cage(
            lab=data["lab"],
            run=data.get("run"),
            label=data["label"],
            capacity=data.get("capacity", 5),
            room=data.get("room", ""),
            rack=data.get("rack", ""),
            position=data.get("position", ""),
            created_by=request_user(request),
        )
        return _created(self.get_serializer(cage).data, cage)

    @extend_schema(request=s.SplitSerializer)
    @action(detail=True, methods=["post"])
    def split(self, request: Request, pk: str | None = None) -> Response:
        """Split the cage: a new cage takes the listed animals (e.g. after fighting)."""
        cage = self.get_object()
        body = s.SplitSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        new_cage = animal_services.split_cage(
            cage=cage,
            animals=data["animals"],
            new_label=data["new_label"],
            moved_by=request_user(request),
            reason=data["reason"],
            moved_on=data.get("moved_on"),
        )
        return _created(self.get_serializer(new_cage).data, new_cage)


class TumourViewSet(VivologViewSetMixin, mixins.CreateModelMixin, *ReadOnly):  # type: ignore[misc]
    """Tumours with their implantation. ``POST`` records an implantation (and its tumour)."""

    serializer_class = s.TumourSerializer

    def get_queryset(self) -> QuerySet[Tumour]:
        return list_tumours_for_user(self.request.user).order_by("animal", "pk")

    @extend_schema(request=s.ImplantationCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = s.ImplantationCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        implantation = animal_services.record_implantation(operator=request_user(request), **data)
        return _created(self.get_serializer(implantation.tumour).data, implantation.tumour)


class RandomizationBatchViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """Randomization batches, visible only to those who may see the allocation."""

    serializer_class = s.RandomizationBatchSerializer

    def get_queryset(self) -> QuerySet[RandomizationBatch]:
        return list_batches_for_user(self.request.user).order_by("run", "number", "pk")

    @extend_schema(request=s.PreviewRequestSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        """Allocate eligible (or listed) animals; returns the batch with its balance table."""
        body = s.PreviewRequestSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        options: dict[str, Any] = {}
        if data.get("candidates"):
            options["candidates"] = data["candidates"]
        batch = randomization_services.preview_randomization(
            run=data["run"],
            requested_by=request_user(request),
            animals=data.get("animals") or None,
            method=data.get("method"),
            seed=data.get("seed"),
            **options,
        )
        return _created(self.get_serializer(batch).data, batch)

    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        batch = self.get_object()
        applied = randomization_services.apply_randomization(
            batch=batch, applied_by=request_user(request)
        )
        return Response(self.get_serializer(applied).data, headers={"ETag": etag_for(applied)})

    @extend_schema(request=s.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        batch = self.get_object()
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voided = randomization_services.void_randomization(
            batch=batch,
            voided_by=request_user(request),
            reason=body.validated_data["reason"],
        )
        return Response(self.get_serializer(voided).data, headers={"ETag": etag_for(voided)})


class TaskViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """Tasks; filter by ``date``, ``date_from``/``date_to``, ``person``, ``room``, ``kind``.

    Dose tasks are absent for users who may not see dosing (blinded, not ``can_dose``).
    """

    serializer_class = s.TaskSerializer
    filterset_class = TaskFilterSet

    def get_queryset(self) -> QuerySet[Task]:
        return (
            list_tasks_for_user(self.request.user)
            .select_related("animal__run__study")
            .order_by("task_date", "cage_room", "cage_label", "animal__tag", "kind", "pk")
        )

    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        task = self.get_object()
        done = schedule_services.complete_task(task=task, completed_by=request_user(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=done.pk)).data)


class UnblindingViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """Unblinding events (study-level and emergency), for reports and QA."""

    serializer_class = s.UnblindingSerializer

    def get_queryset(self) -> QuerySet[Unblinding]:
        return list_unblindings_for_user(self.request.user)

    @extend_schema(request=s.UnblindStudySerializer)
    @action(detail=False, methods=["post"], url_path="unblind-study")
    def unblind_study(self, request: Request) -> Response:
        """A study director unblinds a whole study: password re-entry and a reason."""
        body = s.UnblindStudySerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        event = blinding_services.unblind_study(
            study=data["study"],
            performed_by=request_user(request),
            password=data["password"],
            reason=data["reason"],
        )
        return _created(self.get_serializer(event).data, event)
