"""API for flow cytometry: panels (with FCS uploads, FlowJo imports and results as actions),
acquisitions, imports and the lab's saved sample-name mappings.

Blinding: results name animals by tag and arms by blinded code; the arm's label is given only
to readers who see the allocation.
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

from labnotes.api.serializers import ReasonSerializer, blinding_in
from labnotes.models import (
    FlowAcquisition,
    FlowImport,
    FlowPanel,
    FlowSampleMapping,
    Sample,
    StudyRun,
)
from labnotes.selectors import list_runs_for_user
from labnotes.selectors_flow import (
    flow_results,
    list_flow_acquisitions_for_user,
    list_flow_imports_for_user,
    list_flow_mappings_for_user,
    list_flow_panels_for_user,
)
from labnotes.selectors_samples import list_samples_for_user
from labnotes.services import flow as flow_services
from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    VivologViewSetMixin,
    request_user,
)
from planner.models import ProtocolVersion

ReadOnly = (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet)


def _scoped(serializer: serializers.Serializer[Any], name: str, queryset: QuerySet[Any]) -> None:
    if serializer.context.get("request") is not None:
        serializer.fields[name].queryset = queryset  # type: ignore[attr-defined]


# -- serializers -------------------------------------------------------------------------------


class FlowPanelSerializer(serializers.ModelSerializer[FlowPanel]):
    panel_name = serializers.CharField(source="protocol_version.template.name", read_only=True)
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = FlowPanel
        fields = [
            "id",
            "run",
            "protocol_version",
            "panel_name",
            "populations",
            "derived_statistics",
            "created_at",
            "row_version",
        ]
        read_only_fields = fields


class DerivedStatisticSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["percent_of_parent", "percent_of", "ratio"])
    population = serializers.CharField(max_length=300)
    denominator = serializers.CharField(max_length=300, required=False, allow_blank=True)
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=120, required=False, allow_blank=True
    )


class FlowPanelCreateSerializer(serializers.Serializer[Any]):
    run = serializers.PrimaryKeyRelatedField(queryset=StudyRun.objects.none())
    protocol_version = serializers.PrimaryKeyRelatedField(queryset=ProtocolVersion.objects.all())
    derived_statistics = DerivedStatisticSerializer(many=True, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            _scoped(self, "run", list_runs_for_user(request.user))


class MappingFieldsSerializer(serializers.Serializer[Any]):
    """The mapping to apply: a saved one (``mapping``) or its parts given here."""

    mapping = serializers.PrimaryKeyRelatedField(
        queryset=FlowSampleMapping.objects.none(), required=False, allow_null=True
    )
    pattern = serializers.CharField(max_length=300, required=False, allow_blank=True)
    tissue_aliases = serializers.JSONField(required=False)
    population_columns = serializers.JSONField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            _scoped(self, "mapping", list_flow_mappings_for_user(request.user))

    def spec(self) -> flow_services.MappingSpec:
        data = self.validated_data
        saved: FlowSampleMapping | None = data.get("mapping")
        base = flow_services.MappingSpec.of(saved) if saved else flow_services.MappingSpec()
        aliases = data.get("tissue_aliases")
        columns = data.get("population_columns")
        for name, value in (("tissue_aliases", aliases), ("population_columns", columns)):
            if value is not None and not isinstance(value, dict):
                raise serializers.ValidationError({name: "Give an object of name → value."})
        return flow_services.MappingSpec(
            pattern=data.get("pattern") or base.pattern,
            tissue_aliases=aliases if aliases is not None else base.tissue_aliases,
            population_columns=columns if columns is not None else base.population_columns,
        )


class FlowImportRequestSerializer(MappingFieldsSerializer):
    file = serializers.FileField()
    dry_run = serializers.BooleanField(required=False, default=False)
    save_mapping_as = serializers.CharField(max_length=120, required=False, allow_blank=True)


class FcsUploadSerializer(MappingFieldsSerializer):
    file = serializers.FileField()
    sample = serializers.PrimaryKeyRelatedField(queryset=Sample.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            _scoped(self, "sample", list_samples_for_user(request.user))


class FlowAcquisitionSerializer(serializers.ModelSerializer[FlowAcquisition]):
    sample_barcode = serializers.CharField(source="sample.barcode", read_only=True)
    animal = serializers.CharField(source="sample.animal.tag", read_only=True)
    tissue = serializers.CharField(source="sample.tissue", read_only=True)
    study_day = serializers.IntegerField(source="sample.study_day", read_only=True)
    fcs_sha256 = serializers.CharField(source="fcs_file.sha256", read_only=True, default=None)
    fcs_filename = serializers.CharField(
        source="fcs_file.original_filename", read_only=True, default=None
    )
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = FlowAcquisition
        fields = [
            "id",
            "panel",
            "sample",
            "sample_barcode",
            "animal",
            "tissue",
            "study_day",
            "source_name",
            "fcs_filename",
            "fcs_sha256",
            "fcs_version",
            "cytometer",
            "acquisition_date",
            "start_time_text",
            "event_count",
            "channels",
            "spillover",
            "created_at",
            "voided_at",
            "void_reason",
            "row_version",
        ]
        read_only_fields = fields


class FlowImportSerializer(serializers.ModelSerializer[FlowImport]):
    sha256 = serializers.CharField(source="stored_file.sha256", read_only=True)
    filename = serializers.CharField(source="stored_file.original_filename", read_only=True)
    imported_by = serializers.CharField(source="imported_by.get_username", read_only=True)

    class Meta:
        model = FlowImport
        fields = [
            "id",
            "panel",
            "kind",
            "filename",
            "sha256",
            "mapping",
            "mapping_snapshot",
            "sample_count",
            "value_count",
            "imported_by",
            "imported_at",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = fields


class FlowSampleMappingSerializer(serializers.ModelSerializer[FlowSampleMapping]):
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = FlowSampleMapping
        fields = [
            "id",
            "lab",
            "name",
            "pattern",
            "tissue_aliases",
            "population_columns",
            "created_at",
            "last_used_at",
            "row_version",
        ]
        read_only_fields = ["id", "created_at", "last_used_at", "row_version"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from planner.selectors import list_labs_for_user

            self.fields["lab"].queryset = list_labs_for_user(request.user)  # type: ignore[attr-defined]


# -- views -------------------------------------------------------------------------------------


def _preview_data(preview: flow_services.FlowImportPreview) -> dict[str, Any]:
    return {
        "kind": preview.kind,
        "ok": preview.ok,
        "samples": [
            {
                "name": match.name,
                "line": match.line,
                "sample": match.sample.pk if match.sample else None,
                "barcode": match.sample.barcode if match.sample else None,
                "animal": match.sample.animal.tag if match.sample else None,
                "tissue": match.sample.tissue if match.sample else None,
                "problem": match.problem or None,
            }
            for match in preview.matches
        ],
        "populations": preview.populations,
        "file_gates": list(preview.file_paths),
        "problems": list(preview.problems),
    }


class FlowPanelViewSet(VivologViewSetMixin, mixins.CreateModelMixin, *ReadOnly):  # type: ignore[misc]
    """Flow panels of the runs the user sees (``?run=``). ``POST`` sets up a run's panel from
    a flow-panel protocol version its study uses (derived statistics optional)."""

    serializer_class = FlowPanelSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[FlowPanel]:
        panels = list_flow_panels_for_user(self.request.user).order_by("run", "pk")
        run = self.request.query_params.get("run")
        if run:
            if not run.isdigit():
                return panels.none()
            panels = panels.filter(run=int(run))
        return panels

    @extend_schema(request=FlowPanelCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = FlowPanelCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        panel = flow_services.create_flow_panel(
            run=data["run"],
            protocol_version=data["protocol_version"],
            created_by=request_user(request),
            derived_statistics=data.get("derived_statistics"),
        )
        return Response(self.get_serializer(panel).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FlowImportRequestSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"], url_path="imports")
    def import_statistics(self, request: Request, pk: str | None = None) -> Response:
        """Import a FlowJo table (CSV/TSV) or ``.wsp`` workspace (multipart ``file``), mapped
        with a saved ``mapping`` or ``pattern``/``tissue_aliases``/``population_columns``.
        ``dry_run=true`` returns the mapping preview and writes nothing."""
        panel = self.get_object()
        body = FlowImportRequestSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        content = upload.read()
        spec = body.spec()
        if body.validated_data["dry_run"]:
            preview = flow_services.preview_flow_import(
                panel=panel, content=content, filename=upload.name or "", spec=spec
            )
            return Response(_preview_data(preview))
        flow_import = flow_services.import_flow_statistics(
            panel=panel,
            content=content,
            filename=upload.name or "",
            spec=spec,
            mapping=body.validated_data.get("mapping"),
            save_mapping_as=body.validated_data.get("save_mapping_as") or "",
            imported_by=request_user(request),
        )
        flow_import = list_flow_imports_for_user(request.user).get(pk=flow_import.pk)
        return Response(FlowImportSerializer(flow_import).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FcsUploadSerializer, parameters=[IDEMPOTENCY_HEADER])
    @action(detail=True, methods=["post"], url_path="fcs")
    def fcs(self, request: Request, pk: str | None = None) -> Response:
        """Upload an FCS file (multipart ``file``) for ``sample``, or for the sample its file
        name maps to."""
        panel = self.get_object()
        body = FcsUploadSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        acquisition = flow_services.upload_fcs_file(
            panel=panel,
            content=upload.read(),
            filename=upload.name or "",
            uploaded_by=request_user(request),
            sample=body.validated_data.get("sample"),
            spec=body.spec(),
        )
        acquisition = list_flow_acquisitions_for_user(request.user).get(pk=acquisition.pk)
        return Response(FlowAcquisitionSerializer(acquisition).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        """Derived statistics per sample (``values`` keyed by the panel's statistic keys)."""
        panel = self.get_object()
        sees = blinding_in(self.get_serializer(), panel.run.study).sees_allocation
        rows = []
        for result in flow_results(panel):
            animal = result.sample.animal
            arm = None
            if animal.arm is not None:
                arm = {"code": animal.arm.code, "label": animal.arm.label if sees else None}
            rows.append(
                {
                    "acquisition": result.acquisition.pk,
                    "sample": result.sample.pk,
                    "barcode": result.sample.barcode,
                    "animal": animal.tag,
                    "arm": arm,
                    "tissue": result.sample.tissue,
                    "study_day": result.sample.study_day,
                    "timing": result.timing,
                    "counts": result.counts,
                    "values": result.values,
                }
            )
        return Response({"statistics": panel.derived_statistics, "results": rows})


class FlowAcquisitionViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """Acquisitions (``?panel=``, ``?run=``); ``void`` with a reason."""

    serializer_class = FlowAcquisitionSerializer

    def get_queryset(self) -> QuerySet[FlowAcquisition]:
        acquisitions = list_flow_acquisitions_for_user(self.request.user).order_by("panel", "pk")
        for name, lookup in (("panel", "panel"), ("run", "panel__run")):
            value = self.request.query_params.get(name)
            if value:
                if not value.isdigit():
                    return acquisitions.none()
                acquisitions = acquisitions.filter(**{lookup: int(value)})
        return acquisitions

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        acquisition = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voided = flow_services.void_flow_acquisition(
            acquisition=acquisition,
            voided_by=request_user(request),
            reason=body.validated_data["reason"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=voided.pk)).data)


class FlowImportViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """Imports of FlowJo files (``?panel=``); ``void`` with a reason."""

    serializer_class = FlowImportSerializer

    def get_queryset(self) -> QuerySet[FlowImport]:
        imports = list_flow_imports_for_user(self.request.user).order_by("panel", "pk")
        panel = self.request.query_params.get("panel")
        if panel:
            if not panel.isdigit():
                return imports.none()
            imports = imports.filter(panel=int(panel))
        return imports

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        flow_import = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voided = flow_services.void_flow_import(
            flow_import=flow_import,
            voided_by=request_user(request),
            reason=body.validated_data["reason"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=voided.pk)).data)


class FlowSampleMappingViewSet(VivologViewSetMixin, mixins.CreateModelMixin, *ReadOnly):  # type: ignore[misc]
    """The labs' saved sample-name mappings. ``POST`` saves one (same name: replaced, with a
    reason)."""

    serializer_class = FlowSampleMappingSerializer

    def get_queryset(self) -> QuerySet[FlowSampleMapping]:
        return list_flow_mappings_for_user(self.request.user).order_by("lab", "name")

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        mapping = flow_services.save_flow_mapping(
            lab=data["lab"],
            name=data["name"],
            spec=flow_services.MappingSpec(
                pattern=data["pattern"],
                tissue_aliases=data.get("tissue_aliases") or {},
                population_columns=data.get("population_columns") or {},
            ),
            saved_by=request_user(request),
            reason=request.data.get("reason") or None,
        )
        return Response(self.get_serializer(mapping).data, status=status.HTTP_201_CREATED)


def register(router: Any) -> None:
    router.register("flow-panels", FlowPanelViewSet, basename="flow_panel")
    router.register("flow-acquisitions", FlowAcquisitionViewSet, basename="flow_acquisition")
    router.register("flow-imports", FlowImportViewSet, basename="flow_import")
    router.register("flow-mappings", FlowSampleMappingViewSet, basename="flow_mapping")
