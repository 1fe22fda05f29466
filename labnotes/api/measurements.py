"""Measurements in the API: readings with their codes, repeats and corrections, and the grid's
one-cell endpoint for instruments (the same parser and rules as the page, GRID.md).

- ``POST /measurements/``: a reading from numbers (or a ``code``); a same-day second reading is
  a repeat (``repeat_of``, or the day's latest).
- ``POST /measurements/{id}/correct/`` with ``If-Match``: a corrected reading (the old one is
  voided with the reason and kept); a stale ETag answers 412.
- ``POST /measurements/cells/``: one cell as the grid sends it (``raw`` text as typed or sent
  by a keyboard-wedge instrument), answered as the grid's endpoint answers.
- ``GET /measurements/counted/?run=…[&study_day=…]``: the counting value per tumour (or weight)
  and day by the protocol's repeat policy.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.api import serializers as s
from labnotes.filters import MeasurementFilterSet
from labnotes.models import Animal, EntryMethod, Measurement, MeasurementCode, Tumour
from labnotes.selectors import list_measurements_for_user, list_runs_for_user
from labnotes.services import measurements as measurement_services
from labnotes.services.common import StaleWrite
from labnotes.services.grid import save_grid_cell
from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    ReasonField,
    VivologViewSetMixin,
    etag_for,
    expected_version_from_if_match,
    request_user,
)
from planner.api.problems import PreconditionFailed

ReadOnly = (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet)


class MeasurementSerializer(serializers.ModelSerializer[Measurement]):
    operator = serializers.CharField(source="operator.username", read_only=True)
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Measurement
        fields = [
            "id",
            "kind",
            "animal",
            "tumour",
            "length_mm",
            "width_mm",
            "height_mm",
            "volume_mm3",
            "formula",
            "formula_protocol_version",
            "weight_g",
            "reading_code",
            "code_reason",
            "axes_swapped",
            "operator",
            "instrument",
            "taken_at",
            "received_at",
            "is_late",
            "study_day",
            "entry_method",
            "client_id",
            "repeat_of",
            "correction_of",
            "voided_at",
            "void_reason",
            "row_version",
        ]
        read_only_fields = fields


class _ValuesSerializer(serializers.Serializer[Any]):
    length_mm = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    width_mm = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    height_mm = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    weight_g = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    code = serializers.ChoiceField(
        choices=[c for c in MeasurementCode.values if c], required=False, allow_blank=True
    )
    code_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    client_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class MeasurementCreateSerializer(_ValuesSerializer):
    tumour = serializers.PrimaryKeyRelatedField(queryset=Tumour.objects.none(), required=False)
    animal = serializers.PrimaryKeyRelatedField(queryset=Animal.objects.none(), required=False)
    taken_at = serializers.DateTimeField()
    instrument = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    entry_method = serializers.ChoiceField(
        choices=["api", "instrument", "grid", "form"], default="api"
    )
    repeat_of = serializers.PrimaryKeyRelatedField(
        queryset=Measurement.objects.none(), required=False, allow_null=True
    )
    reason = ReasonField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from labnotes.selectors import list_animals_for_user, list_tumours_for_user

            self.fields["tumour"].queryset = list_tumours_for_user(request.user)  # type: ignore[attr-defined]
            self.fields["animal"].queryset = list_animals_for_user(request.user)  # type: ignore[attr-defined]
            self.fields["repeat_of"].queryset = list_measurements_for_user(request.user)  # type: ignore[attr-defined]


class CorrectionSerializer(_ValuesSerializer):
    reason = serializers.CharField(max_length=500)


class CellSerializer(serializers.Serializer[Any]):
    """The grid's request body (GRID.md) plus the run."""

    run = serializers.IntegerField()
    client_id = serializers.CharField(max_length=100)
    animal = serializers.CharField()
    tumour = serializers.CharField(required=False, allow_null=True)
    field = serializers.ChoiceField(choices=["length", "width", "height", "weight"])
    raw = serializers.CharField(max_length=200)
    taken_at = serializers.DateTimeField()
    operator = serializers.CharField()
    correction_of = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    reason = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    repeat_of = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class MeasurementViewSet(VivologViewSetMixin, mixins.CreateModelMixin, *ReadOnly):  # type: ignore[misc]
    """Caliper readings and weights. ``POST`` takes an ``Idempotency-Key`` (or ``client_id``)."""

    serializer_class = MeasurementSerializer
    filterset_class = MeasurementFilterSet

    def get_queryset(self) -> QuerySet[Measurement]:
        return list_measurements_for_user(self.request.user).order_by("animal", "taken_at", "pk")

    @extend_schema(request=MeasurementCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = MeasurementCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        # The API's rule: a same-day second reading is a repeat (of the day's latest).
        reading = measurement_services.record_measurement(
            operator=request_user(request), as_repeat=True, **data
        )
        return Response(
            self.get_serializer(reading).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(reading)},
        )

    @extend_schema(request=CorrectionSerializer, parameters=[IF_MATCH_HEADER])
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str | None = None) -> Response:
        """Replace this reading by a corrected one; ``If-Match`` with its ETag is required
        (412 when someone changed it since)."""
        reading = self.get_object()
        expected = expected_version_from_if_match(request, reading)
        body = CorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        try:
            corrected = measurement_services.correct_measurement(
                measurement=reading,
                corrected_by=request_user(request),
                expected_version=expected,
                entry_method=EntryMethod.API,
                **data,
            )
        except StaleWrite:
            raise PreconditionFailed() from None
        return Response(
            self.get_serializer(corrected).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(corrected)},
        )

    @extend_schema(request=s.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        reading = self.get_object()
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        expected = (
            expected_version_from_if_match(request, reading)
            if request.headers.get("If-Match")
            else None
        )
        try:
            voided = measurement_services.void_measurement(
                measurement=reading,
                voided_by=request_user(request),
                reason=body.validated_data["reason"],
                expected_version=expected,
            )
        except StaleWrite:
            raise PreconditionFailed() from None
        return Response(self.get_serializer(voided).data, headers={"ETag": etag_for(voided)})

    @extend_schema(request=CellSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=False, methods=["post"])
    def cells(self, request: Request) -> Response:
        """One grid cell from an instrument or script: ``raw`` as typed or sent, parsed by the
        grid's parser and checked by its rules; answers ``status``, ``display``, ``message``,
        ``warning``, ``needs_repeat``, ``volume_mm3`` (201) or ``error`` (400/403/409)."""
        body = CellSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = request_user(request)
        run = measurement_services.annotate_capture(
            list_runs_for_user(user).filter(pk=body.validated_data["run"]), user
        ).first()
        if run is None:
            raise NotFound("No such run.")
        answer = save_grid_cell(
            run=run,
            user=user,
            body=json.dumps(request.data).encode(),
            path=request.path,
            entry_method=EntryMethod.INSTRUMENT,
            idempotent=False,  # the mixin's Idempotency-Key stores this answer
        )
        return Response(answer.body, status=answer.status)

    @action(detail=False, methods=["get"])
    def counted(self, request: Request) -> Response:
        """The counting value per (animal, tumour or weight, study day) of a run, by the caliper
        protocol's repeat policy (last or mean): ``?run=<id>[&study_day=<n>]``."""
        try:
            run_id = int(request.query_params.get("run") or "")
            day_text = request.query_params.get("study_day")
            study_day = int(day_text) if day_text else None
        except ValueError:
            raise serializers.ValidationError(
                {"run": "A run id (and a study day) as numbers."}
            ) from None
        run = list_runs_for_user(request.user).filter(pk=run_id).first()
        if run is None:
            raise NotFound("No such run.")
        counted = measurement_services.counted_readings_for_run(run, study_day=study_day)
        return Response(
            [
                {
                    "animal": c.animal_id,
                    "tumour": c.tumour_id,
                    "study_day": c.study_day,
                    "value": str(c.value),
                    "readings": c.readings,
                    "policy": c.policy,
                    "not_palpable": c.not_palpable,
                }
                for c in sorted(
                    counted.values(), key=lambda c: (c.animal_id, c.tumour_id or 0, c.study_day)
                )
            ]
        )
