"""Reports API: ask for a report of a run (or pooling runs of a study), poll it, download it.

``POST /api/v1/reports/`` with ``run`` (or ``study`` and ``runs``, at least two: a report pooling
those runs, the run a stratum of the log-rank test and a random effect of the mixed model),
``kind`` (interim/final), ``variant`` (unblinded/blinded) and optional ``options``
(``analysis_day``, ``tgi_definition``, ``dropout``, ``synergy_model``; absent = the approved
analysis plan) answers 201 with a new job, or 200 with the existing job for the same request and
data. ``GET …/{id}/`` shows status, progress, current step, heartbeat, stale flag and files
(SHA-256 each); ``GET …/{id}/download/?name=report.pdf`` streams one file. Reports show per-arm
results: only members who may see the allocation reach them (others get 404, as for another
lab's objects).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.models import Report, ReportArtifact, ReportKind, ReportVariant
from labnotes.selectors import list_runs_for_user
from labnotes.selectors_reports import list_reports_for_user
from labnotes.services import reports as report_services
from labnotes.services.report_input import (
    DROPOUT_LABELS,
    SYNERGY_LABELS,
    TGI_LABELS,
    ReportOptions,
)
from planner.api.conventions import IDEMPOTENCY_HEADER, VivologViewSetMixin, request_user
from planner.selectors import list_studies_for_user


class ReportArtifactSerializer(serializers.ModelSerializer[ReportArtifact]):
    class Meta:
        model = ReportArtifact
        fields = ["name", "content_type", "size_bytes", "sha256", "software_version"]


class ReportSerializer(serializers.ModelSerializer[Report]):
    artifacts = ReportArtifactSerializer(many=True, read_only=True)
    stale = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "run",
            "study",
            "pooled_runs",
            "kind",
            "variant",
            "options",
            "exploratory",
            "plan_differences",
            "data_hash",
            "built_data_hash",
            "status",
            "progress_percent",
            "current_step",
            "heartbeat_at",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "attempts",
            "message",
            "software_version",
            "stale",
            "artifacts",
        ]
        read_only_fields = fields

    def get_stale(self, report: Report) -> bool:
        hashes: dict[tuple[int | None, tuple[int, ...]], str] = self.context.setdefault(
            "current_hashes", {}
        )
        if report.status != "succeeded":
            return False
        key = (report.run_id, tuple(report.pooled_runs))
        if key not in hashes:
            hashes[key] = report_services.current_report_data_hash(report)
        return report_services.is_stale(report, hashes[key])


class ReportOptionsSerializer(serializers.Serializer[Any]):
    analysis_day = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    tgi_definition = serializers.ChoiceField(choices=list(TGI_LABELS))
    dropout = serializers.ChoiceField(choices=list(DROPOUT_LABELS))
    synergy_model = serializers.ChoiceField(choices=list(SYNERGY_LABELS))


class ReportRequestSerializer(serializers.Serializer[Any]):
    """A run report (``run``) or a report pooling runs of a study (``study`` and ``runs``)."""

    run = serializers.IntegerField(required=False)
    study = serializers.IntegerField(required=False)
    runs = serializers.ListField(child=serializers.IntegerField(), required=False)
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    variant = serializers.ChoiceField(
        choices=ReportVariant.choices, default=ReportVariant.UNBLINDED
    )
    options = ReportOptionsSerializer(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("run" in attrs) == ("study" in attrs):
            raise serializers.ValidationError(
                {"run": "Give either run (a run report) or study and runs (a pooled report)."}
            )
        if "study" in attrs and len(set(attrs.get("runs") or [])) < 2:
            raise serializers.ValidationError(
                {"runs": "A pooled report needs at least two runs of the study."}
            )
        return attrs


class ReportViewSet(
    VivologViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Report],
):
    """Report jobs of the runs whose allocation the user may see. ``?run=<id>`` filters."""

    serializer_class = ReportSerializer

    def get_queryset(self) -> QuerySet[Report]:
        reports = list_reports_for_user(self.request.user).prefetch_related("artifacts")
        run = self.request.query_params.get("run")
        if run and run.isdigit():
            reports = reports.filter(run_id=int(run))
        study = self.request.query_params.get("study")
        if study and study.isdigit():
            reports = reports.filter(study_id=int(study))
        return reports.order_by("-requested_at", "-pk")

    @extend_schema(
        request=ReportRequestSerializer, responses=ReportSerializer, parameters=[IDEMPOTENCY_HEADER]
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = ReportRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        options = data.get("options")
        if "study" in data:
            study = list_studies_for_user(request.user).filter(pk=data["study"]).first()
            if study is None:
                raise serializers.ValidationError(
                    {"study": "No study with this id that you can see."}
                )
            visible = set(
                list_runs_for_user(request.user)
                .filter(study=study, pk__in=data["runs"])
                .values_list("pk", flat=True)
            )
            unknown = sorted(set(data["runs"]) - visible)
            if unknown:
                raise serializers.ValidationError(
                    {"runs": f"No run(s) {', '.join(map(str, unknown))} in this study you can see."}
                )
            report, created = report_services.request_study_report(
                study=study,
                run_pks=data["runs"],
                kind=data["kind"],
                variant=data["variant"],
                options=ReportOptions(**options) if options else None,
                requested_by=request_user(request),
            )
        else:
            run = list_runs_for_user(request.user).filter(pk=data["run"]).first()
            if run is None:
                raise serializers.ValidationError({"run": "No run with this id that you can see."})
            report, created = report_services.request_report(
                run=run,
                kind=data["kind"],
                variant=data["variant"],
                options=ReportOptions(**options) if options else None,
                requested_by=request_user(request),
            )
        return Response(
            self.get_serializer(report).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        parameters=[OpenApiParameter("name", str, description="report.pdf, report.html, …")],
        responses={(200, "application/octet-stream"): bytes},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        """One file of a succeeded report, checked against its SHA-256."""
        from labnotes.services.files import StoredFileCorrupted, read_file

        report = self.get_object()
        name = request.query_params.get("name", "")
        artifact = report.artifacts.select_related("stored_file").filter(name=name).first()
        if artifact is None:
            known = ", ".join(a.name for a in report.artifacts.all()) or "none yet"
            raise NotFound(f"No file '{name}' in report {report.pk} (files: {known}).")
        try:
            content = read_file(artifact.stored_file)
        except StoredFileCorrupted as error:
            raise NotFound(str(error)) from error
        import io

        response = FileResponse(
            io.BytesIO(content),
            content_type=artifact.content_type,
            as_attachment=True,
            filename=f"report-{report.pk}-{name}",
        )
        response["X-Content-SHA256"] = artifact.sha256
        return response
