"""Instrument files posted by devices: a plate reader's export for an ELISA plate.

``POST /api/v1/device/plate-readings/`` (multipart: ``plate``, ``file``, and the optional
column-mapping fields of a generic well list) with a device token holding
``upload_plate_reader``, for a plate of a run the token covers. The export goes through the same
import as a person's upload (format detection, stored file by SHA-256, fit, QC): all or nothing,
and the plate waits for a scientist's decision. ``Idempotency-Key`` required, so the bridge's
re-send after an outage replays the first answer instead of importing twice.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.api.device_auth import (
    DeviceUploadViewSet,
    device_token,
)
from labnotes.models import DeviceAction, ElisaPlate
from labnotes.services import elisa as elisa_services
from labnotes.services.instruments import token_covers_run
from planner.api.conventions import IDEMPOTENCY_HEADER, request_user


class DevicePlateReadingSerializer(serializers.Serializer[Any]):
    plate = serializers.IntegerField(help_text="The ELISA plate's id (its layout is already set).")
    file = serializers.FileField(help_text="The plate reader's export, as the instrument wrote it.")
    grid = serializers.CharField(
        required=False, help_text="Which read of a multi-read export to use."
    )
    well_column = serializers.CharField(required=False)
    value_column = serializers.CharField(required=False)
    plate_column = serializers.CharField(required=False)
    reason = serializers.CharField(
        required=False, help_text="Why a plate already read is read again (a corrected export)."
    )


class DevicePlateReadingResultSerializer(serializers.Serializer[Any]):
    plate = serializers.IntegerField()
    status = serializers.CharField()
    format = serializers.CharField()
    sha256 = serializers.CharField()


class DevicePlateReadingViewSet(DeviceUploadViewSet):
    """Plate-reader exports from instruments and the bridge (device tokens only)."""

    device_action = DeviceAction.UPLOAD_PLATE_READER

    @extend_schema(
        operation_id="device_plate_readings_create",
        summary="Upload a plate reader's export for an ELISA plate",
        parameters=[IDEMPOTENCY_HEADER],
        request={"multipart/form-data": DevicePlateReadingSerializer},
        responses={
            201: DevicePlateReadingResultSerializer,
            400: OpenApiResponse(description="Unreadable, empty, truncated or unknown file."),
            403: OpenApiResponse(description="Plate outside the token's scope or action lacking."),
        },
    )
    def create(self, request: Request) -> Response:
        token = device_token(request)
        body = DevicePlateReadingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        plate = (
            ElisaPlate.objects.select_related("run__study__lab").filter(pk=data["plate"]).first()
        )
        if plate is None or not token_covers_run(token, plate.run):
            # The same answer for a plate elsewhere and one that does not exist.
            raise PermissionDenied(f"This device token may not upload to plate {data['plate']}.")
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
        stored = plate.reading_file
        return Response(
            {
                "plate": plate.pk,
                "status": plate.status,
                "format": plate.reading_format,
                "sha256": stored.sha256 if stored is not None else "",
            },
            status=status.HTTP_201_CREATED,
        )
