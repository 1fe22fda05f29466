"""The device endpoints: what instruments and scripts call with a device token.

- ``POST /api/v1/device/measurements/[?run=<id>]``: caliper readings and weights, one row or
  many, as JSON (an array, one object, or ``{"run": id, "items": [...]}``) or as CSV
  (``Content-Type: text/csv``, a header row). ``Idempotency-Key`` required. All or nothing:
  201 with the stored ids, or 422 listing every bad row (``errors``: index, field, value,
  code, message) and nothing written. 403 for a run outside the token's scope or an action it
  lacks; 401 for an unknown, revoked or expired token; 413 above the row or byte limits; 429
  above the token's rate (``Retry-After``).
- ``GET /api/v1/device/tasks/[?date=YYYY-MM-DD]``: the day's measuring, weighing, observation,
  sampling and take-down tasks of the token's run(s), by animal tag and cage (never dosing:
  it would tell arms apart).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.conf import settings
from django.db.models import QuerySet
from django.utils.dateparse import parse_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import (
    PermissionDenied,
    UnsupportedMediaType,
    ValidationError,
)
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.api.device_auth import (
    DeviceTokenAuthentication,
    DeviceTokenRateThrottle,
    IsDevice,
    NotOffered,
    device_token,
)
from labnotes.models import DeviceAction, DeviceToken, StudyRun, Task, TaskKind
from labnotes.services.common import lab_today
from labnotes.services.ingest import (
    IngestRefused,
    ingest_measurements,
    parse_csv_items,
    parse_json_items,
)
from labnotes.services.instruments import token_covers_run
from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    VivologViewSetMixin,
    request_body_sha256,
    request_user,
)
from planner.api.limits import enforce_row_limit
from planner.api.problems import PayloadTooLarge, problem_response

ACTION_FOR_KIND = {"caliper": DeviceAction.POST_MEASUREMENTS, "weight": DeviceAction.POST_WEIGHTS}


class IngestRowSerializer(serializers.Serializer[Any]):
    """One reading (documentation of the row format; the service validates rows in bulk)."""

    animal = serializers.CharField(required=False, help_text="The animal's tag (or give rfid).")
    rfid = serializers.CharField(required=False)
    tumour = serializers.CharField(
        required=False,
        help_text="Caliper rows: the tumour's site, role or id; optional when it has one.",
    )
    kind = serializers.ChoiceField(choices=["caliper", "weight"])
    length_mm = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    width_mm = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    height_mm = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    weight_g = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    values = serializers.ListField(
        child=serializers.DecimalField(max_digits=6, decimal_places=2),
        required=False,
        help_text="Instead of the named values: [L, W(, H)] in mm or [weight] in g.",
    )
    code = serializers.ChoiceField(choices=["NP", "NM", "ND"], required=False)
    code_reason = serializers.CharField(required=False)
    unit = serializers.ChoiceField(choices=["mm", "g"], required=False)
    taken_at = serializers.DateTimeField(help_text="ISO 8601 with its time zone.")
    instrument = serializers.CharField(
        required=False, help_text="The registered instrument's serial number."
    )
    operator = serializers.CharField(
        required=False, help_text="Username of who measured (default: the token's owner)."
    )
    raw = serializers.CharField(required=False, help_text="The instrument's line as sent.")
    stable = serializers.BooleanField(required=False, default=True)
    client_id = serializers.CharField(
        required=False, help_text="The device's id of the reading: a resend is not stored twice."
    )


class IngestResultSerializer(serializers.Serializer[Any]):
    batch = serializers.IntegerField()
    run = serializers.IntegerField()
    rows = serializers.IntegerField()
    written = serializers.IntegerField()
    replayed = serializers.IntegerField()
    flagged = serializers.IntegerField()
    measurements = serializers.ListField(child=serializers.IntegerField())
    flags = serializers.ListField(child=serializers.DictField())


class IngestRowErrorSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField(help_text="The row's position, from 0.")
    field = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class IngestRefusalSerializer(serializers.Serializer[Any]):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = IngestRowErrorSerializer(many=True)  # type: ignore[assignment]


EXAMPLE_ROWS = [
    {
        "animal": "007",
        "kind": "caliper",
        "length_mm": "8.41",
        "width_mm": "6.02",
        "unit": "mm",
        "taken_at": "2026-03-02T09:14:05+01:00",
        "instrument": "CAL-0042",
        "operator": "tech1",
        "raw": "L 8.41 W 6.02",
        "stable": True,
        "client_id": "cal42-000913",
    },
    {
        "animal": "007",
        "kind": "weight",
        "weight_g": "21.37",
        "unit": "g",
        "taken_at": "2026-03-02T09:14:40+01:00",
        "instrument": "BAL-1138",
        "raw": "S S      21.37 g",
        "stable": True,
        "client_id": "bal1138-004411",
    },
]


class DeviceMeasurementViewSet(VivologViewSetMixin, viewsets.ViewSet):
    """Readings from instruments and scripts (device tokens only)."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceTokenRateThrottle]
    idempotency_required = True
    device_action: Any = None
    history = NotOffered()  # devices read no audit history
    retrieve = NotOffered()

    def device_action_for(self, request: Request) -> tuple[str, ...] | None:
        # Which actions the rows need is known only from the body; checked in create().
        token = request.auth
        if isinstance(token, DeviceToken) and not (
            {DeviceAction.POST_MEASUREMENTS, DeviceAction.POST_WEIGHTS} & set(token.actions)
        ):
            return (DeviceAction.POST_MEASUREMENTS,)
        return None

    @extend_schema(
        operation_id="device_measurements_create",
        summary="Post readings (JSON or CSV), all or nothing",
        parameters=[
            IDEMPOTENCY_HEADER,
            OpenApiParameter(
                "run",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                required=False,
                description="The run (default: the token's run; required for a study token).",
            ),
        ],
        request={
            "application/json": IngestRowSerializer(many=True),
            "text/csv": OpenApiTypes.STR,
        },
        responses={
            201: IngestResultSerializer,
            400: OpenApiResponse(description="Unreadable body or missing Idempotency-Key."),
            401: OpenApiResponse(description="Unknown, revoked or expired device token."),
            403: OpenApiResponse(description="Run outside the token's scope or action lacking."),
            409: OpenApiResponse(description="The same Idempotency-Key is still in progress."),
            413: OpenApiResponse(description="More rows or bytes than the limits."),
            415: OpenApiResponse(description="Neither JSON nor CSV."),
            422: OpenApiResponse(
                IngestRefusalSerializer, description="Bad rows (every one listed) or a reused key."
            ),
            429: OpenApiResponse(description="Over the token's rate; see Retry-After."),
        },
        examples=[
            OpenApiExample("Two readings", value=EXAMPLE_ROWS, request_only=True),
            OpenApiExample(
                "CSV",
                value="animal,kind,length_mm,width_mm,weight_g,unit,taken_at,instrument,stable\n"
                "007,caliper,8.41,6.02,,mm,2026-03-02T09:14:05+01:00,CAL-0042,true\n"
                "007,weight,,,21.37,g,2026-03-02T09:14:40+01:00,BAL-1138,true\n",
                request_only=True,
                media_type="text/csv",
            ),
            OpenApiExample(
                "Stored",
                value={
                    "batch": 12,
                    "run": 3,
                    "rows": 2,
                    "written": 2,
                    "replayed": 0,
                    "flagged": 1,
                    "measurements": [5501, 5502],
                    "flags": [
                        {
                            "index": 1,
                            "measurement": 5502,
                            "instrument": "BAL-1138",
                            "issues": ["calibration_overdue"],
                        }
                    ],
                },
                response_only=True,
                status_codes=["201"],
            ),
            OpenApiExample(
                "Refused",
                value={
                    "type": "about:blank",
                    "title": "Rows refused",
                    "status": 422,
                    "detail": "1 of 2 rows refused; nothing was written.",
                    "errors": [
                        {
                            "index": 1,
                            "field": "weight_g",
                            "value": "abc",
                            "code": "not_a_number",
                            "message": "'abc' is not a number.",
                        }
                    ],
                },
                response_only=True,
                status_codes=["422"],
            ),
        ],
    )
    def create(self, request: Request) -> Response:
        token = device_token(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.VIVOLOG_INGEST_MAX_BYTES
        if length > limit:
            raise PayloadTooLarge(
                f"The body is {length} bytes; the ingest limit is {limit} bytes "
                "(VIVOLOG_INGEST_MAX_BYTES). Split it into smaller batches."
            )
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        body = request.body
        run_id: int | None = None
        if content_type in ("application/json", ""):
            items, run_id = parse_json_items(body)
        elif content_type in ("text/csv", "application/csv"):
            items = list(parse_csv_items(body))
        else:
            raise UnsupportedMediaType(content_type)
        enforce_row_limit(len(items))
        run = self._run(request, token, run_id)
        kinds = {str(item.get("kind", "")).lower() for item in items if isinstance(item, dict)}
        lacking = sorted(
            {
                ACTION_FOR_KIND[kind]
                for kind in kinds
                if kind in ACTION_FOR_KIND and ACTION_FOR_KIND[kind] not in token.actions
            }
        )
        if lacking:
            raise PermissionDenied(f"This device token may not {', '.join(lacking)}.")
        try:
            result = ingest_measurements(
                run=run,
                items=items,
                submitted_by=request_user(request),
                token=token,
                body=body,
                content_type=content_type or "application/json",
                body_sha256=request_body_sha256(request),
            )
        except IngestRefused as refused:
            response = problem_response(
                422,
                "Rows refused",
                str(refused),
                errors=[error.as_dict() for error in refused.errors],
            )
            return response
        answer = Response(
            {
                "batch": result.batch.pk,
                "run": run.pk,
                "rows": result.batch.row_count,
                "written": result.batch.written_count,
                "replayed": result.batch.replayed_count,
                "flagged": result.batch.flagged_count,
                "measurements": result.measurement_ids,
                "flags": result.flags,
            },
            status=status.HTTP_201_CREATED,
        )
        # Where the time went (validate, link, write, endpoints, commit), for the benchmark and for
        # anyone watching a slow instrument upload in the browser's or proxy's timing view.
        answer["Server-Timing"] = ", ".join(
            f"{phase};dur={seconds * 1000:.1f}" for phase, seconds in result.timings.items()
        )
        return answer

    def _run(self, request: Request, token: DeviceToken, body_run: int | None) -> StudyRun:
        text = request.query_params.get("run")
        run_id: int | None = body_run
        if text:
            try:
                run_id = int(text)
            except ValueError:
                raise ValidationError({"run": "The run's id as a number."}) from None
            if body_run is not None and body_run != run_id:
                raise ValidationError({"run": "The query and the body name different runs."})
        if run_id is None:
            if token.run_id is None:
                raise ValidationError({"run": "This token is for a study: name the run."})
            run_id = token.run_id
        run = StudyRun.objects.select_related("study__lab").filter(pk=run_id).first()
        if run is None or not token_covers_run(token, run):
            # The same answer for a run that exists elsewhere and one that does not.
            raise PermissionDenied(f"This device token may not write to run {run_id}.")
        return run


class DeviceTaskSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    run = serializers.IntegerField(source="run_id")
    kind = serializers.CharField()
    animal = serializers.CharField(source="animal.tag")
    rfid = serializers.CharField(source="animal.rfid")
    cage = serializers.CharField(source="cage_label", allow_null=True)
    date = serializers.DateField(source="task_date")
    study_day = serializers.IntegerField()
    status = serializers.CharField()


class DeviceTaskViewSet(VivologViewSetMixin, viewsets.GenericViewSet[Task]):
    """The day's tasks of the token's run(s), for a device that shows or works a list."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceTokenRateThrottle]
    device_action = DeviceAction.READ_TASKS
    serializer_class = DeviceTaskSerializer
    pagination_class = None
    history = NotOffered()  # devices read no audit history
    retrieve = NotOffered()

    def get_queryset(self) -> QuerySet[Task]:
        from django.db.models import OuterRef, Subquery
        from django.db.models.functions import Coalesce

        from labnotes.models import CageAssignment

        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        token = device_token(self.request)
        tasks = Task.objects.exclude(kind=TaskKind.DOSE)
        tasks = (
            tasks.filter(run_id=token.run_id)
            if token.run_id is not None
            else tasks.filter(run__study_id=cast(int, token.study_id))
        )
        return (
            tasks.select_related("animal")
            .annotate(
                task_date=Coalesce("scheduled_date", "nominal_date"),
                cage_label=Subquery(
                    CageAssignment.objects.filter(
                        animal=OuterRef("animal"), to_date__isnull=True
                    ).values("cage__label")[:1]
                ),
            )
            .order_by("task_date", "cage_label", "animal__tag", "kind", "pk")
        )

    @extend_schema(
        operation_id="device_tasks_list",
        parameters=[
            OpenApiParameter(
                "date",
                OpenApiTypes.DATE,
                OpenApiParameter.QUERY,
                required=False,
                description="The lab-local day (default: today).",
            )
        ],
        responses={200: DeviceTaskSerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        token = device_token(request)
        text = request.query_params.get("date")
        day: dt.date | None = lab_today(token.lab)
        if text:
            day = parse_date(text)
            if day is None:
                raise ValidationError({"date": "A date as YYYY-MM-DD."})
        tasks = self.get_queryset().filter(task_date=day)  # type: ignore[misc]
        return Response(DeviceTaskSerializer(tasks, many=True).data)
