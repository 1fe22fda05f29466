"""Flow cytometry results posted by devices: a FlowJo table or workspace, or an FCS file, for
a flow panel of a run the token covers.

``POST /api/v1/device/flow-results/`` (multipart: ``panel``, ``file`` and optionally the lab's
saved ``mapping`` or a ``pattern``, and for an FCS file its ``sample``) with a device token
holding ``upload_flow``. The file goes through the same services as a person's upload
(``labnotes.services.flow.import_flow_statistics`` and ``upload_fcs_file``): all or nothing,
every unmatched sample name listed with its line in the problem+json answer, the file kept by
SHA-256, the writes audited as the token's owner with the token's prefix.
``Idempotency-Key`` required, so a re-send after an outage replays the first answer.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.api.device_auth import (
    DeviceUploadViewSet,
    device_token,
)
from labnotes.models import DeviceAction, FlowPanel, FlowSampleMapping, Sample
from labnotes.services import flow as flow_services
from labnotes.services.instruments import token_covers_run
from planner.api.conventions import IDEMPOTENCY_HEADER, request_user

#: The first bytes of every FCS file (``FCS2.0``, ``FCS3.0``, ``FCS3.1``).
FCS_MAGIC = b"FCS"


class DeviceFlowResultSerializer(serializers.Serializer[Any]):
    panel = serializers.IntegerField(help_text="The flow panel's id (a panel of the token's run).")
    file = serializers.FileField(
        help_text="A FlowJo table (CSV/TSV), a FlowJo workspace (.wsp) or an FCS file, as "
        "written by the software or the cytometer."
    )
    mapping = serializers.IntegerField(
        required=False, help_text="A sample-name mapping saved by the lab (its id)."
    )
    pattern = serializers.CharField(
        required=False,
        max_length=300,
        help_text="The regular expression reading a sample name (naming 'barcode' or 'animal' "
        "and 'tissue'); default: the lab's mapping, else the name is the tube's barcode.",
    )
    sample = serializers.CharField(
        required=False,
        max_length=64,
        help_text="FCS only: the sample's barcode (default: mapped from the file name).",
    )


class DeviceFlowResultAnswerSerializer(serializers.Serializer[Any]):
    panel = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["flowjo_table", "flowjo_workspace", "fcs"])
    flow_import = serializers.IntegerField(allow_null=True)
    acquisition = serializers.IntegerField(allow_null=True)
    samples = serializers.IntegerField()
    values = serializers.IntegerField()
    sha256 = serializers.CharField()


class DeviceFlowResultViewSet(DeviceUploadViewSet):
    """Flow cytometry results from cytometer PCs and the bridge (device tokens only)."""

    device_action = DeviceAction.UPLOAD_FLOW

    @extend_schema(
        operation_id="device_flow_results_create",
        summary="Upload flow cytometry results (FlowJo table or workspace, or an FCS file)",
        parameters=[IDEMPOTENCY_HEADER],
        request={"multipart/form-data": DeviceFlowResultSerializer},
        responses={
            201: DeviceFlowResultAnswerSerializer,
            (400, "application/problem+json"): OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="Unreadable, empty or foreign file, or sample names matching no "
                "sample of the run: nothing written, every problem listed in ``errors``.",
                examples=[
                    OpenApiExample(
                        "Unmatched sample names",
                        value={
                            "type": "about:blank",
                            "title": "Invalid input",
                            "status": 400,
                            "detail": "file: line 3, sample 'X-17_T.fcs': no sample of this "
                            "run has barcode X-17",
                            "errors": [
                                {
                                    "field": "file",
                                    "reason": "line 3, sample 'X-17_T.fcs': no sample of this "
                                    "run has barcode X-17",
                                    "code": "invalid",
                                }
                            ],
                        },
                        response_only=True,
                        status_codes=["400"],
                    )
                ],
            ),
            (403, "application/problem+json"): OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="Panel outside the token's scope or action lacking.",
            ),
        },
        examples=[
            OpenApiExample(
                "A FlowJo table, mapped with the lab's saved mapping",
                value={"panel": 7, "file": "(binary) treg_panel_day10.csv", "mapping": 2},
                request_only=True,
            ),
            OpenApiExample(
                "Imported",
                value={
                    "panel": 7,
                    "kind": "flowjo_table",
                    "flow_import": 12,
                    "acquisition": None,
                    "samples": 6,
                    "values": 66,
                    "sha256": "9f2c…",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def create(self, request: Request) -> Response:
        token = device_token(request)
        body = DeviceFlowResultSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        panel = FlowPanel.objects.select_related("run__study__lab").filter(pk=data["panel"]).first()
        if panel is None or not token_covers_run(token, panel.run):
            # The same answer for a panel elsewhere and one that does not exist.
            raise PermissionDenied(
                f"This device token may not upload to flow panel {data['panel']}."
            )
        lab = panel.run.study.lab
        mapping = None
        if data.get("mapping") is not None:
            mapping = FlowSampleMapping.objects.filter(lab=lab, pk=data["mapping"]).first()
            if mapping is None:
                raise serializers.ValidationError(
                    {"mapping": f"The lab has no saved mapping {data['mapping']}."}
                )
        base = flow_services.MappingSpec.of(mapping) if mapping else flow_services.MappingSpec()
        spec = flow_services.MappingSpec(
            pattern=data.get("pattern") or base.pattern,
            tissue_aliases=base.tissue_aliases,
            population_columns=base.population_columns,
        )
        upload = data["file"]
        content = upload.read()
        filename = upload.name or ""
        user = request_user(request)
        if content.startswith(FCS_MAGIC):
            sample = None
            if data.get("sample"):
                sample = Sample.objects.filter(
                    animal__run=panel.run, barcode=data["sample"], voided_at__isnull=True
                ).first()
                if sample is None:
                    raise serializers.ValidationError(
                        {"sample": f"No sample of this run has barcode {data['sample']}."}
                    )
            acquisition = flow_services.upload_fcs_file(
                panel=panel,
                content=content,
                filename=filename,
                uploaded_by=user,
                sample=sample,
                spec=spec,
            )
            stored = acquisition.fcs_file
            answer: dict[str, Any] = {
                "panel": panel.pk,
                "kind": "fcs",
                "flow_import": None,
                "acquisition": acquisition.pk,
                "samples": 1,
                "values": 0,
                "sha256": stored.sha256 if stored is not None else "",
            }
        else:
            flow_import = flow_services.import_flow_statistics(
                panel=panel,
                content=content,
                filename=filename,
                spec=spec,
                mapping=mapping,
                imported_by=user,
            )
            answer = {
                "panel": panel.pk,
                "kind": flow_import.kind,
                "flow_import": flow_import.pk,
                "acquisition": None,
                "samples": flow_import.sample_count,
                "values": flow_import.value_count,
                "sha256": flow_import.stored_file.sha256,
            }
        return Response(answer, status=status.HTTP_201_CREATED)
