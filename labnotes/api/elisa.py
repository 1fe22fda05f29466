"""API for ELISA plates: create from a protocol version, lay out (``PUT layout`` with
``If-Match``), import a reading (multipart ``file``, optional column mapping), decide, results.

Blinding: a result carries the animal's arm only for readers who see the allocation.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.api.serializers import blinding_in
from labnotes.models import ElisaPlate, ElisaResult, PlateLayoutTemplate, StudyRun
from labnotes.selectors import list_runs_for_user
from labnotes.selectors_elisa import (
    list_layout_templates_for_user,
    list_plates_for_user,
    list_results,
)
from labnotes.services import elisa as elisa_services
from labnotes.services.common import StaleWrite
from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    ReasonField,
    VivologViewSetMixin,
    etag_for,
    expected_version_from_if_match,
    request_user,
)
from planner.api.problems import problem_response
from planner.models import ProtocolVersion


class ElisaPlateSerializer(serializers.ModelSerializer[ElisaPlate]):
    layout = serializers.SerializerMethodField()
    reading_sha256 = serializers.CharField(source="reading_file.sha256", default=None)
    reading_filename = serializers.CharField(source="reading_file.original_filename", default=None)
    decided_by = serializers.CharField(source="decided_by.get_username", default=None)
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = ElisaPlate
        fields = [
            "id",
            "run",
            "protocol_version",
            "name",
            "analyte",
            "status",
            "layout",
            "reading_filename",
            "reading_sha256",
            "reading_format",
            "reading_grid",
            "reading_metadata",
            "read_at",
            "fit",
            "decided_by",
            "decided_at",
            "decision_reason",
            "created_at",
            "row_version",
        ]
        read_only_fields = fields

    def get_layout(self, plate: ElisaPlate) -> list[dict[str, Any]]:
        return elisa_services.layout_of(plate)


class ElisaResultSerializer(serializers.ModelSerializer[ElisaResult]):
    sample = serializers.CharField(source="sample.barcode")
    animal = serializers.CharField(source="sample.animal.tag")
    study_day = serializers.IntegerField(source="sample.study_day")
    arm = serializers.SerializerMethodField()

    class Meta:
        model = ElisaResult
        fields = [
            "sample",
            "animal",
            "arm",
            "study_day",
            "replicate_group",
            "dilution",
            "n_wells",
            "mean_od",
            "cv_percent",
            "cv_exceeds_limit",
            "concentration_in_well_pg_per_ml",
            "concentration_pg_per_ml",
            "flag",
        ]
        read_only_fields = fields

    def get_arm(self, result: ElisaResult) -> str | None:
        animal = result.sample.animal
        if animal.arm is None or not blinding_in(self, animal.run.study).sees_allocation:
            return None
        return animal.arm.label


class PlateCreateSerializer(serializers.Serializer[Any]):
    run = serializers.PrimaryKeyRelatedField(queryset=StudyRun.objects.none())
    protocol_version = serializers.PrimaryKeyRelatedField(queryset=ProtocolVersion.objects.all())
    name = serializers.CharField(max_length=80)
    template = serializers.PrimaryKeyRelatedField(
        queryset=PlateLayoutTemplate.objects.none(), required=False, allow_null=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["run"].queryset = list_runs_for_user(request.user)  # type: ignore[attr-defined]
            self.fields["template"].queryset = list_layout_templates_for_user(request.user)  # type: ignore[attr-defined]


class LayoutSerializer(serializers.Serializer[Any]):
    wells = serializers.ListField(child=serializers.DictField(), allow_empty=True)
    reason = ReasonField()


class ImportSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    well_column = serializers.CharField(required=False, allow_blank=True)
    value_column = serializers.CharField(required=False, allow_blank=True)
    plate_column = serializers.CharField(required=False, allow_blank=True)
    grid = serializers.CharField(required=False, allow_blank=True)
    reason = ReasonField()


class DecisionSerializer(serializers.Serializer[Any]):
    accept = serializers.BooleanField()
    reason = serializers.CharField(max_length=2000)


class TemplateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=120)


class ElisaPlateViewSet(
    VivologViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """ELISA plates of the runs the user sees; filter with ``?run=`` and ``?status=``."""

    serializer_class = ElisaPlateSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[ElisaPlate]:
        plates = list_plates_for_user(self.request.user).order_by("run", "created_at", "pk")
        run = self.request.query_params.get("run")
        if run:
            if not run.isdigit():
                return plates.none()
            plates = plates.filter(run=int(run))
        plate_status = self.request.query_params.get("status")
        if plate_status:
            plates = plates.filter(status=plate_status)
        return plates

    def _render(self, plate: ElisaPlate, code: int = status.HTTP_200_OK) -> Response:
        plate = self.get_queryset().get(pk=plate.pk)
        return Response(
            self.get_serializer(plate).data, status=code, headers={"ETag": etag_for(plate)}
        )

    @extend_schema(request=PlateCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = PlateCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        plate = elisa_services.create_plate(created_by=request_user(request), **body.validated_data)
        return self._render(plate, status.HTTP_201_CREATED)

    @extend_schema(request=LayoutSerializer, parameters=[IF_MATCH_HEADER])
    @action(detail=True, methods=["put"])
    def layout(self, request: Request, pk: str | None = None) -> Response:
        """Replace the plate map (``wells``: well, role, concentration_pg_per_ml, sample
        barcode, dilution, replicate_group); a reason once a map exists."""
        plate = self.get_object()
        expected = expected_version_from_if_match(request, plate)
        body = LayoutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            plate = elisa_services.save_layout(
                plate=plate,
                wells=body.validated_data["wells"],
                changed_by=request_user(request),
                reason=body.validated_data.get("reason") or None,
                expected_version=expected,
            )
        except StaleWrite as error:
            return problem_response(
                412, "Precondition failed", str(error), headers={"ETag": etag_for(error.current)}
            )
        return self._render(plate)

    @extend_schema(request=ImportSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"], url_path="reading")
    def reading(self, request: Request, pk: str | None = None) -> Response:
        """Import a plate-reader export (multipart ``file``); the format is detected."""
        plate = self.get_object()
        body = ImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        upload = data["file"]
        plate = elisa_services.import_reading(
            plate=plate,
            content=upload.read(),
            filename=upload.name or "",
            content_type=upload.content_type or "",
            imported_by=request_user(request),
            well_column=data.get("well_column") or None,
            value_column=data.get("value_column") or None,
            plate_column=data.get("plate_column") or None,
            grid=data.get("grid") or None,
            reason=data.get("reason") or None,
        )
        return self._render(plate)

    @extend_schema(request=DecisionSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"])
    def decision(self, request: Request, pk: str | None = None) -> Response:
        """Accept (``accept: true``) or reject a read plate, with a reason."""
        plate = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        plate = elisa_services.decide_plate(
            plate=plate,
            accept=body.validated_data["accept"],
            decided_by=request_user(request),
            reason=body.validated_data["reason"],
        )
        return self._render(plate)

    @extend_schema(request=TemplateSerializer)
    @action(detail=True, methods=["post"], url_path="save-template")
    def save_template(self, request: Request, pk: str | None = None) -> Response:
        """Keep this plate's map as a layout template of the lab."""
        plate = self.get_object()
        body = TemplateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        template = elisa_services.save_layout_template(
            plate=plate, name=body.validated_data["name"], created_by=request_user(request)
        )
        return Response(
            {"id": template.pk, "name": template.name, "wells": template.wells},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses=ElisaResultSerializer(many=True))
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        """Concentrations per sample and dilution (arm only for unblinded readers)."""
        plate = self.get_object()
        rows = list_results(plate).select_related("sample__animal__run__study")
        return Response(
            ElisaResultSerializer(rows, many=True, context=self.get_serializer_context()).data
        )
