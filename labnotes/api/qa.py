"""API for the QA layer: the deviation log (report, raise from flags, assess, close), QA
inspections with their findings, and audit-trail reviews. Blinding: readers who do not see
dosing never get the entries raised from dose deviations (their text names routes and amounts).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from labnotes.models import (
    Animal,
    AuditTrailReview,
    Deviation,
    DeviationCategory,
    DeviationSource,
    InspectionFinding,
    QAInspection,
    StudyRun,
)
from labnotes.selectors import (
    list_animals_for_user,
    list_runs_for_user,
    studies_with_dosing_visible,
)
from labnotes.services import deviations as deviation_services
from labnotes.services.common import StaleWrite
from planner.api.conventions import (
    IF_MATCH_HEADER,
    VivologViewSetMixin,
    etag_for,
    request_user,
    versioned_update,
)
from planner.selectors import list_studies_for_user

ReadOnly = (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet)


def _scoped(serializer: serializers.Serializer[Any], name: str, queryset: QuerySet[Any]) -> None:
    if serializer.context.get("request") is not None:
        field: Any = serializer.fields[name]
        getattr(field, "child_relation", field).queryset = queryset


class DeviationSerializer(serializers.ModelSerializer[Deviation]):
    code = serializers.CharField(read_only=True)
    animals = serializers.SerializerMethodField()
    detected_by = serializers.CharField(source="detected_by.get_username", read_only=True)
    assessed_by = serializers.CharField(
        source="assessed_by.get_username", read_only=True, default=None
    )
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Deviation
        fields = [
            "id",
            "code",
            "number",
            "run",
            "source",
            "source_key",
            "category",
            "description",
            "occurred_on",
            "study_day",
            "animals",
            "detected_by",
            "detected_at",
            "impact_assessment",
            "assessed_by",
            "assessed_at",
            "corrective_action",
            "status",
            "closed_at",
            "row_version",
        ]
        read_only_fields = fields

    def get_animals(self, deviation: Deviation) -> list[str]:
        return [link.animal.tag for link in deviation.animal_links.all()]


class DeviationCreateSerializer(serializers.Serializer[Any]):
    run = serializers.PrimaryKeyRelatedField(queryset=StudyRun.objects.none())
    category = serializers.ChoiceField(choices=DeviationCategory.choices)
    description = serializers.CharField(max_length=4000)
    occurred_on = serializers.DateField()
    animals = serializers.PrimaryKeyRelatedField(
        queryset=Animal.objects.none(), many=True, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            _scoped(self, "run", list_runs_for_user(request.user))
            _scoped(self, "animals", list_animals_for_user(request.user))


class DeviationRaiseSerializer(serializers.Serializer[Any]):
    run = serializers.PrimaryKeyRelatedField(queryset=StudyRun.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            _scoped(self, "run", list_runs_for_user(request.user))


class DeviationAssessSerializer(serializers.Serializer[Any]):
    impact_assessment = serializers.CharField()
    corrective_action = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DeviationCloseSerializer(serializers.Serializer[Any]):
    corrective_action = serializers.CharField(required=False, allow_blank=True, default="")


class DeviationViewSet(VivologViewSetMixin, mixins.CreateModelMixin, *ReadOnly):  # type: ignore[misc]
    """The deviation log. ``POST`` reports one; ``POST raise-flags/`` raises the run's capture
    flags into the log (never twice); ``PUT {id}/`` (``If-Match``) is the study director's
    impact assessment; ``POST {id}/close/`` closes it. Filter with ``?run=``, ``?status=``."""

    serializer_class = DeviationSerializer

    def get_queryset(self) -> QuerySet[Deviation]:
        user = self.request.user
        rows = (
            Deviation.objects.filter(run__in=list_runs_for_user(user))
            .filter(
                ~Q(source=DeviationSource.DOSE)
                | Q(run__study__in=studies_with_dosing_visible(user))
            )
            .select_related("detected_by", "assessed_by")
            .prefetch_related("animal_links__animal")
            .order_by("run", "number")
        )
        params = self.request.query_params
        run = params.get("run")
        if run:
            if not run.isdigit():
                return rows.none()
            rows = rows.filter(run=run)
        if params.get("status"):
            rows = rows.filter(status=params["status"])
        return rows

    @extend_schema(request=DeviationCreateSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = DeviationCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        user = request_user(request)
        deviation = deviation_services.record_deviation(
            run=data["run"],
            category=data["category"],
            description=data["description"],
            occurred_on=data["occurred_on"],
            animals=data.get("animals", []),
            detected_by=user,
            recorded_by=user,
        )
        deviation = self.get_queryset().get(pk=deviation.pk)
        return Response(
            self.get_serializer(deviation).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(deviation)},
        )

    @extend_schema(request=DeviationRaiseSerializer)
    @action(detail=False, methods=["post"], url_path="raise-flags")
    def raise_flags(self, request: Request) -> Response:
        body = DeviationRaiseSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        result = deviation_services.raise_deviations_from_flags(
            run=body.validated_data["run"], raised_by=request_user(request)
        )
        return Response(
            {
                "created": [deviation.pk for deviation in result.created],
                "already_logged": result.already_logged,
                "by_source": result.by_source,
            },
            status=status.HTTP_200_OK,
        )

    @extend_schema(request=DeviationAssessSerializer, parameters=[IF_MATCH_HEADER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deviation = self.get_object()
        return versioned_update(
            request,
            deviation,
            serializer_class=DeviationAssessSerializer,
            service=deviation_services.assess_deviation,
            render=lambda updated: self.get_serializer(self.get_queryset().get(pk=updated.pk)).data,
            stale=(StaleWrite,),
            partial=False,
            deviation=deviation,
            assessed_by=request_user(request),
        )

    @extend_schema(request=DeviationCloseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        deviation = self.get_object()
        body = DeviationCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        closed = deviation_services.close_deviation(
            deviation=deviation,
            closed_by=request_user(request),
            corrective_action=body.validated_data["corrective_action"],
        )
        closed = self.get_queryset().get(pk=closed.pk)
        return Response(self.get_serializer(closed).data, headers={"ETag": etag_for(closed)})


class FindingSerializer(serializers.ModelSerializer[InspectionFinding]):
    class Meta:
        model = InspectionFinding
        fields = ["id", "number", "severity", "text", "response", "responded_at", "row_version"]
        read_only_fields = fields


class QAInspectionSerializer(serializers.ModelSerializer[QAInspection]):
    findings = FindingSerializer(many=True, read_only=True)
    inspector = serializers.CharField(source="inspector.get_username", read_only=True)

    class Meta:
        model = QAInspection
        fields = [
            "id",
            "study",
            "run",
            "inspected_on",
            "phase",
            "scope",
            "inspector",
            "reported_to_director_on",
            "reported_to_management_on",
            "status",
            "closed_at",
            "findings",
            "row_version",
        ]
        read_only_fields = fields


class QAInspectionViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """QA inspections with their findings and responses (read-only here; recorded on the QA
    pages). Filter with ``?study=``."""

    serializer_class = QAInspectionSerializer

    def get_queryset(self) -> QuerySet[QAInspection]:
        rows = (
            QAInspection.objects.filter(study__in=list_studies_for_user(self.request.user))
            .select_related("inspector")
            .prefetch_related("findings")
            .order_by("study", "inspected_on", "pk")
        )
        study = self.request.query_params.get("study")
        if study:
            rows = rows.filter(study=study) if study.isdigit() else rows.none()
        return rows


class AuditTrailReviewSerializer(serializers.ModelSerializer[AuditTrailReview]):
    reviewer = serializers.CharField(source="reviewer.get_username", read_only=True)

    class Meta:
        model = AuditTrailReview
        fields = [
            "id",
            "run",
            "period_start",
            "period_end",
            "reviewer",
            "reviewed_on",
            "events_reviewed",
            "conclusion",
        ]
        read_only_fields = fields


class AuditTrailReviewViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """Audit-trail reviews marked done by QA. Filter with ``?run=``."""

    serializer_class = AuditTrailReviewSerializer

    def get_queryset(self) -> QuerySet[AuditTrailReview]:
        rows = AuditTrailReview.objects.filter(
            run__in=list_runs_for_user(self.request.user)
        ).select_related("reviewer")
        run = self.request.query_params.get("run")
        if run:
            rows = rows.filter(run=run) if run.isdigit() else rows.none()
        return rows


def register(router: BaseRouter) -> None:
    router.register("deviations", DeviationViewSet, basename="deviation")
    router.register("qa-inspections", QAInspectionViewSet, basename="qa_inspection")
    router.register("audit-trail-reviews", AuditTrailReviewViewSet, basename="audit_trail_review")
