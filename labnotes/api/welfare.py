"""Welfare API: observations, escalation checks, endpoint episodes, endpoint records and the
run's survival rows. Nothing here carries an arm label (survival rows carry the arm code)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.api.serializers import ReasonSerializer
from labnotes.models import (
    Animal,
    EndpointCause,
    EndpointEpisode,
    EndpointRecord,
    Observation,
    Tumour,
    UlcerationScore,
    WelfareCheck,
)
from labnotes.selectors import list_animals_for_user, list_runs_for_user
from labnotes.selectors_survival import survival_rows
from labnotes.selectors_welfare import (
    list_endpoint_records_for_user,
    list_episodes_for_user,
    list_observations_for_user,
    list_welfare_checks_for_user,
)
from labnotes.services import endpoints as endpoint_services
from labnotes.services import welfare as welfare_services
from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    ReasonField,
    VivologViewSetMixin,
    etag_for,
    request_user,
)
from planner.models.ethics import Severity

ReadOnly = (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet)


def _created(data: Any, instance: Any) -> Response:
    return Response(data, status=status.HTTP_201_CREATED, headers={"ETag": etag_for(instance)})


@extend_schema_field(OpenApiTypes.INT)
class _ScopedAnimal(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    def get_queryset(self) -> QuerySet[Animal]:
        request = self.context.get("request")
        if request is None:
            return Animal.objects.none()
        return list_animals_for_user(request.user)


# -- observations ----------------------------------------------------------------------------


class UlcerationScoreSerializer(serializers.ModelSerializer[UlcerationScore]):
    tumour_site = serializers.CharField(source="tumour.site", read_only=True)

    class Meta:
        model = UlcerationScore
        fields = ["tumour", "tumour_site", "score", "diameter_mm"]


class ObservationSerializer(serializers.ModelSerializer[Observation]):
    ulcerations = UlcerationScoreSerializer(many=True, read_only=True)
    tag = serializers.CharField(source="animal.tag", read_only=True)
    observer_name = serializers.CharField(source="observer.username", read_only=True)
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Observation
        fields = [
            "id",
            "animal",
            "tag",
            "observed_at",
            "study_day",
            "scores",
            "total_score",
            "ulcerations",
            "notes",
            "endpoint_level",
            "protocol_version",
            "observer",
            "observer_name",
            "recorded_at",
            "client_id",
            "voided_at",
            "void_reason",
            "row_version",
        ]
        read_only_fields = fields


class UlcerInputSerializer(serializers.Serializer[Any]):
    tumour = serializers.PrimaryKeyRelatedField(queryset=Tumour.objects.all())
    score = serializers.IntegerField(min_value=0, max_value=3)
    diameter_mm = serializers.DecimalField(
        max_digits=5, decimal_places=1, required=False, allow_null=True
    )


class ObservationCreateSerializer(serializers.Serializer[Any]):
    animal = _ScopedAnimal()
    observed_at = serializers.DateTimeField()
    scores = serializers.DictField(child=serializers.IntegerField(), required=False, default=dict)
    ulceration = UlcerInputSerializer(many=True, required=False, default=list)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    client_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ObservationViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """Clinical observations. ``POST`` scores the design's sheet (every item), ulceration per
    tumour and notes; the answer says whether an endpoint was reached and which checks an
    escalation rule created. Filter by ``run``, ``animal``, ``day`` (study day)."""

    serializer_class = ObservationSerializer

    def get_queryset(self) -> QuerySet[Observation]:
        queryset = list_observations_for_user(self.request.user).order_by("observed_at", "pk")
        params = self.request.query_params
        for name, lookup in (("run", "animal__run"), ("animal", "animal"), ("day", "study_day")):
            value = params.get(name)
            if value:
                if not value.lstrip("-").isdigit():
                    raise serializers.ValidationError({name: "A whole number."})
                queryset = queryset.filter(**{lookup: int(value)})
        return queryset

    @extend_schema(request=ObservationCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ObservationCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = welfare_services.record_observation(
            animal=data["animal"],
            observed_at=data["observed_at"],
            observer=request_user(request),
            scores=data["scores"],
            ulceration=[
                welfare_services.UlcerInput(u["tumour"].pk, u["score"], u.get("diameter_mm"))
                for u in data["ulceration"]
            ],
            notes=data["notes"],
            client_id=data["client_id"] or request.headers.get("Idempotency-Key", ""),
        )
        observation = self.get_queryset().get(pk=result.observation.pk)
        payload = dict(self.get_serializer(observation).data)
        payload["endpoint"] = {
            "level": result.evaluation.level,
            "findings": [finding.as_dict() for finding in result.evaluation.findings],
            "episode": result.evaluation.episode.pk if result.evaluation.episode else None,
            "alerted": result.evaluation.alerted,
        }
        payload["checks_created"] = [
            {"kind": check.kind, "due_date": check.due_date} for check in result.checks_created
        ]
        return _created(payload, observation)

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        observation = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voided = welfare_services.void_observation(
            observation=observation,
            voided_by=request_user(request),
            reason=body.validated_data["reason"],
        )
        return Response(self.get_serializer(voided).data, headers={"ETag": etag_for(voided)})


# -- checks and episodes -----------------------------------------------------------------------


class WelfareCheckSerializer(serializers.ModelSerializer[WelfareCheck]):
    tag = serializers.CharField(source="animal.tag", read_only=True)

    class Meta:
        model = WelfareCheck
        fields = [
            "id",
            "animal",
            "tag",
            "kind",
            "due_date",
            "rule",
            "status",
            "status_reason",
            "triggered_by",
            "done_by_observation",
            "row_version",
        ]
        read_only_fields = fields


class WelfareCheckViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """Extra checks asked by the score sheet's escalation rules (weekends included)."""

    serializer_class = WelfareCheckSerializer

    def get_queryset(self) -> QuerySet[WelfareCheck]:
        queryset = list_welfare_checks_for_user(self.request.user).order_by("due_date", "pk")
        if self.request.query_params.get("status"):
            queryset = queryset.filter(status=self.request.query_params["status"])
        return queryset


class EndpointEpisodeSerializer(serializers.ModelSerializer[EndpointEpisode]):
    tag = serializers.CharField(source="animal.tag", read_only=True)

    class Meta:
        model = EndpointEpisode
        fields = [
            "id",
            "animal",
            "tag",
            "status",
            "cause",
            "findings",
            "first_reached_at",
            "first_measurement",
            "first_observation",
            "confirmed_by",
            "confirmed_at",
            "alerted_at",
            "closed_at",
            "endpoint_record",
            "hours_to_endpoint",
            "over_24_hours",
            "status_reason",
            "row_version",
        ]
        read_only_fields = fields


class EndpointEpisodeViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """Endpoint episodes: from the first reading at a limit to the endpoint record that closes
    it. ``?open=true`` lists those still open (or awaiting their repeat reading)."""

    serializer_class = EndpointEpisodeSerializer

    def get_queryset(self) -> QuerySet[EndpointEpisode]:
        queryset = list_episodes_for_user(self.request.user).order_by("-first_reached_at", "pk")
        if self.request.query_params.get("open") in ("1", "true", "yes"):
            queryset = queryset.filter(status__in=["awaiting_repeat", "open"])
        return queryset


# -- endpoint records and survival ---------------------------------------------------------------


class EndpointRecordSerializer(serializers.ModelSerializer[EndpointRecord]):
    tag = serializers.CharField(source="animal.tag", read_only=True)
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = EndpointRecord
        fields = [
            "id",
            "animal",
            "tag",
            "cause",
            "outcome",
            "occurred_at",
            "study_day",
            "last_seen_alive_at",
            "actual_severity",
            "notes",
            "excluded_readings",
            "recorded_by",
            "recorded_at",
            "voided_at",
            "void_reason",
            "row_version",
        ]
        read_only_fields = fields


class EndpointRecordCreateSerializer(serializers.Serializer[Any]):
    animal = _ScopedAnimal()
    cause = serializers.ChoiceField(choices=EndpointCause.choices)
    occurred_at = serializers.DateTimeField()
    last_seen_alive_at = serializers.DateTimeField(required=False, allow_null=True)
    actual_severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, allow_blank=True, default=""
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    reason = ReasonField()


class SurvivalRowSerializer(serializers.Serializer[Any]):
    animal_id = serializers.IntegerField()
    tag = serializers.CharField()
    arm_code = serializers.CharField()
    is_satellite = serializers.BooleanField()
    time_origin = serializers.CharField()
    origin_date = serializers.DateField()
    end_date = serializers.DateField()
    days = serializers.IntegerField()
    event = serializers.BooleanField()
    outcome = serializers.CharField()
    cause = serializers.CharField()
    occurred_at = serializers.DateTimeField(allow_null=True)
    endpoint_record_id = serializers.IntegerField(allow_null=True)
    excluded = serializers.BooleanField()


class EndpointRecordViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """How and when animals left the study. ``POST`` records it ("found dead" needs
    ``last_seen_alive_at``); ``void`` with a reason puts the animal back on study;
    ``survival?run=<id>`` gives the run's survival rows (arm codes only)."""

    serializer_class = EndpointRecordSerializer

    def get_queryset(self) -> QuerySet[EndpointRecord]:
        return list_endpoint_records_for_user(self.request.user).order_by("occurred_at", "pk")

    @extend_schema(request=EndpointRecordCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = EndpointRecordCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        data = body.validated_data
        record = endpoint_services.record_endpoint(
            animal=data["animal"],
            cause=data["cause"],
            occurred_at=data["occurred_at"],
            last_seen_alive_at=data.get("last_seen_alive_at"),
            actual_severity=data["actual_severity"],
            notes=data["notes"],
            recorded_by=request_user(request),
            reason=data.get("reason"),
        )
        return _created(self.get_serializer(record).data, record)

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        record = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voided = endpoint_services.void_endpoint_record(
            record=record, voided_by=request_user(request), reason=body.validated_data["reason"]
        )
        return Response(self.get_serializer(voided).data, headers={"ETag": etag_for(voided)})

    @extend_schema(
        parameters=[OpenApiParameter("run", int, required=True)],
        responses=SurvivalRowSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def survival(self, request: Request) -> Response:
        """Per randomized animal: days from the design's time origin, event or censored."""
        run_id = request.query_params.get("run", "")
        runs = list_runs_for_user(request.user)
        run = runs.filter(pk=int(run_id)).first() if run_id.isdigit() else None
        if run is None:
            raise NotFound("No such run.")
        return Response(SurvivalRowSerializer(survival_rows(run), many=True).data)


def register(router: Any) -> None:
    """Mount the welfare resources on the labnotes API router."""
    router.register("observations", ObservationViewSet, basename="observation")
    router.register("welfare-checks", WelfareCheckViewSet, basename="welfare_check")
    router.register("endpoint-episodes", EndpointEpisodeViewSet, basename="endpoint_episode")
    router.register("endpoint-records", EndpointRecordViewSet, basename="endpoint_record")
