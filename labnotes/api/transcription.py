"""API of paper worksheets, stored files and study imports.

* ``/api/v1/files/``: store a file (multipart ``file``) → its id and SHA-256; the same bytes
  give the same id. ``GET …/{id}/download/`` returns the bytes.
* ``/api/v1/transcription-sheets/``: enter a sheet (JSON, ``entries`` of tumour axes or animal
  weights, ``scan`` a stored file id); ``…/{id}/verify/``, ``…/{id}/return/`` (send back with
  corrections) and ``…/{id}/correct/``. ``If-Match`` on these actions refuses a stale write
  with 412.
* ``/api/v1/study-imports/``: multipart ``run`` + ``file``; ``confirm=true`` imports (201),
  otherwise the row-by-row preview (200 when valid, 422 with every row error when not).
"""

from __future__ import annotations

from typing import Any

import pghistory
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.models import StoredFile, StudyRun, TranscriptionSheet
from labnotes.selectors import (
    list_animals_for_user,
    list_runs_for_user,
    list_stored_files_for_user,
    list_transcription_sheets_for_user,
    list_tumours_for_user,
)
from labnotes.services import transcription as services
from labnotes.services.common import StaleWrite
from labnotes.services.files import StoredFileCorrupted, read_file, store_file
from labnotes.services.study_import import (
    ImportPreview,
    attempt_study_import,
    preview_study_import,
)
from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    VivologViewSetMixin,
    etag_for,
    request_user,
)
from planner.api.problems import problem_response
from planner.audit import ClientKind

ReadOnly = (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet)


# -- serializers -------------------------------------------------------------------------------


class StoredFileSerializer(serializers.ModelSerializer[StoredFile]):
    stored_by = serializers.CharField(source="stored_by.username", read_only=True)

    class Meta:
        model = StoredFile
        fields = [
            "id",
            "sha256",
            "size_bytes",
            "content_type",
            "original_filename",
            "stored_by",
            "stored_at",
        ]
        read_only_fields = fields


class FileUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    lab = serializers.IntegerField(
        required=False, help_text="The lab to store the file in (default: your current lab)."
    )


@extend_schema_field(OpenApiTypes.INT)
class _ScopedPrimaryKey(serializers.PrimaryKeyRelatedField[Any]):
    """A primary key looked up among what the request's user may see (works when nested)."""

    def __init__(self, selector: Any, **kwargs: Any) -> None:
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        if request is None:
            raise RuntimeError("scoped primary keys need the request in the serializer context")
        return self.selector(request.user)


class SheetEntrySerializer(serializers.Serializer[Any]):
    tumour = _ScopedPrimaryKey(list_tumours_for_user, required=False)
    animal = _ScopedPrimaryKey(list_animals_for_user, required=False)
    length_mm = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    width_mm = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    weight_g = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    code = serializers.ChoiceField(choices=["", "NP", "NM", "ND"], required=False, default="")
    code_reason = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("tumour")) == bool(attrs.get("animal")):
            raise serializers.ValidationError("Give a tumour (axes) or an animal (weight).")
        return attrs


def _entries(data: list[dict[str, Any]]) -> list[services.SheetEntry]:
    entries = []
    for item in data:
        tumour = item.get("tumour")
        entries.append(
            services.SheetEntry(
                animal=tumour.animal if tumour is not None else item["animal"],
                tumour=tumour,
                length_mm=item.get("length_mm"),
                width_mm=item.get("width_mm"),
                weight_g=item.get("weight_g"),
                code=item.get("code", ""),
                code_reason=item.get("code_reason", ""),
            )
        )
    return entries


class _ScopedSerializer(serializers.Serializer[Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            if "run" in self.fields:
                self.fields["run"].queryset = list_runs_for_user(request.user)  # type: ignore[attr-defined]
            if "scan" in self.fields:
                self.fields["scan"].queryset = list_stored_files_for_user(request.user)  # type: ignore[attr-defined]


class SheetCreateSerializer(_ScopedSerializer):
    run = serializers.PrimaryKeyRelatedField(queryset=StudyRun.objects.none())
    sheet_date = serializers.DateField()
    sheet_time = serializers.TimeField()
    measured_by = serializers.IntegerField(required=False)
    scan = serializers.PrimaryKeyRelatedField(
        queryset=StoredFile.objects.none(), required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    entries = SheetEntrySerializer(many=True)


class SheetCorrectSerializer(_ScopedSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    scan = serializers.PrimaryKeyRelatedField(
        queryset=StoredFile.objects.none(), required=False, allow_null=True
    )
    entries = SheetEntrySerializer(many=True)


@extend_schema_serializer(component_name="SheetCorrection")
class CorrectionSerializer(serializers.Serializer[Any]):
    key = serializers.RegexField(r"^[at]\d+$")
    field = serializers.ChoiceField(choices=["length_mm", "width_mm", "weight_g"])
    corrected = serializers.CharField(max_length=60)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class SheetReturnSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000)
    corrections = CorrectionSerializer(many=True)


class TranscriptionSheetSerializer(serializers.ModelSerializer[TranscriptionSheet]):
    transcribed_by = serializers.CharField(source="transcribed_by.username", read_only=True)
    measured_by = serializers.CharField(source="measured_by.username", read_only=True)
    verified_by = serializers.CharField(source="verified_by.username", read_only=True, default=None)
    scan_sha256 = serializers.CharField(source="scan.sha256", read_only=True, default=None)
    readings = serializers.SerializerMethodField()
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = TranscriptionSheet
        fields = [
            "id",
            "run",
            "sheet_date",
            "sheet_time",
            "taken_at",
            "scan",
            "scan_sha256",
            "notes",
            "status",
            "measured_by",
            "transcribed_by",
            "transcribed_at",
            "verified_by",
            "verified_at",
            "return_reason",
            "corrections",
            "readings",
            "row_version",
        ]
        read_only_fields = fields

    def get_readings(self, sheet: TranscriptionSheet) -> list[dict[str, Any]]:
        return [
            {
                "id": m.pk,
                "key": key,
                "animal": m.animal_id,
                "tumour": m.tumour_id,
                "length_mm": m.length_mm,
                "width_mm": m.width_mm,
                "volume_mm3": m.volume_mm3,
                "weight_g": m.weight_g,
                "code": m.reading_code,
            }
            for key, m in services.live_sheet_readings(sheet).items()
        ]


class StudyImportSerializer(_ScopedSerializer):
    run = serializers.PrimaryKeyRelatedField(queryset=StudyRun.objects.none())
    file = serializers.FileField()
    confirm = serializers.BooleanField(required=False, default=False)


class ImportErrorSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField(allow_null=True)
    field = serializers.CharField()
    message = serializers.CharField()


class ImportRowErrorSerializer(serializers.Serializer[Any]):
    field = serializers.CharField()
    message = serializers.CharField()


class ImportRowSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField()
    tag = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())
    # The metaclass moves declared fields off the class, so this does not shadow .errors.
    errors = ImportRowErrorSerializer(many=True)  # type: ignore[assignment]


class ImportPreviewSerializer(serializers.Serializer[Any]):
    """What an import would do (preview) or did (confirm); ``valid`` false means nothing written."""

    filename = serializers.CharField()
    sha256 = serializers.CharField()
    valid = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.IntegerField())
    notices = serializers.ListField(child=serializers.CharField())
    stored_file = serializers.IntegerField(allow_null=True)
    errors = ImportErrorSerializer(many=True)  # type: ignore[assignment]
    rows = ImportRowSerializer(many=True)


def _preview_json(preview: ImportPreview) -> dict[str, Any]:
    return {
        "filename": preview.filename,
        "sha256": preview.sha256,
        "valid": preview.is_valid,
        "counts": preview.counts,
        "notices": preview.notices,
        "stored_file": preview.stored_file.pk if preview.stored_file else None,
        "errors": [
            {"row": error.row, "field": error.field, "message": error.message}
            for error in preview.errors
        ],
        "rows": [
            {
                "row": row.row,
                "tag": row.tag,
                "actions": row.actions,
                "errors": [{"field": e.field, "message": e.message} for e in row.errors],
            }
            for row in preview.rows
        ],
    }


# -- views -------------------------------------------------------------------------------------


class StoredFileViewSet(VivologViewSetMixin, *ReadOnly):  # type: ignore[misc]
    """Files stored by SHA-256 in the user's labs."""

    serializer_class = StoredFileSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[StoredFile]:
        return list_stored_files_for_user(self.request.user).order_by("-stored_at", "pk")

    @extend_schema(request=FileUploadSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = FileUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        from planner.selectors import get_current_lab, list_labs_for_user

        if body.validated_data.get("lab"):
            lab = list_labs_for_user(request.user).filter(pk=body.validated_data["lab"]).first()
        else:
            lab = get_current_lab(request._request)
        if lab is None:
            raise PermissionDenied("You are not a member of that lab.")
        stored = store_file(
            content=upload.read(),
            filename=upload.name,
            content_type=upload.content_type or "application/octet-stream",
            stored_by=request_user(request),
            lab=lab,
        )
        return Response(self.get_serializer(stored).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> HttpResponse:
        stored = self.get_object()
        try:
            content = read_file(stored)
        except StoredFileCorrupted as error:
            return problem_response(500, "Stored file damaged", str(error))
        response = HttpResponse(content, content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{stored.sha256}"'
        response["ETag"] = f'"{stored.sha256}"'
        return response


def _if_match_version(request: Request, sheet: TranscriptionSheet) -> int | None:
    """The version named by an optional ``If-Match`` (412 at once when it is not current)."""
    header = request.headers.get("If-Match")
    if not header:
        return None
    from planner.api.conventions import expected_version_from_if_match

    return expected_version_from_if_match(request, sheet)


class TranscriptionSheetViewSet(VivologViewSetMixin, mixins.CreateModelMixin, *ReadOnly):  # type: ignore[misc]
    """Paper worksheets: the values count only once a second person verified them."""

    serializer_class = TranscriptionSheetSerializer
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[TranscriptionSheet]:
        sheets = list_transcription_sheets_for_user(self.request.user)
        run = self.request.query_params.get("run")
        if run and run.isdigit():
            sheets = sheets.filter(run_id=int(run))
        return sheets.order_by("-sheet_date", "-sheet_time", "-pk")

    def _answer(self, sheet: TranscriptionSheet, code: int = 200) -> Response:
        sheet.refresh_from_db()
        return Response(
            self.get_serializer(sheet).data, status=code, headers={"ETag": etag_for(sheet)}
        )

    def _stale(self, error: StaleWrite) -> HttpResponse:
        return problem_response(
            412, "Precondition failed", str(error), headers={"ETag": etag_for(error.current)}
        )

    @extend_schema(request=SheetCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = SheetCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request_user(request)
        measured_by = user
        if data.get("measured_by"):
            from django.contrib.auth.models import User

            found = User.objects.filter(
                pk=data["measured_by"], memberships__lab=data["run"].study.lab
            ).first()
            if found is None:
                raise serializers.ValidationError({"measured_by": "Not a member of this lab."})
            measured_by = found
        sheet = services.create_transcription_sheet(
            run=data["run"],
            sheet_date=data["sheet_date"],
            sheet_time=data["sheet_time"],
            entries=_entries(data["entries"]),
            transcribed_by=user,
            measured_by=measured_by,
            scan=data.get("scan"),
            notes=data.get("notes", ""),
        )
        return self._answer(sheet, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> HttpResponse:
        sheet = self.get_object()
        try:
            verified = services.verify_transcription_sheet(
                sheet=sheet,
                verified_by=request_user(request),
                expected_version=_if_match_version(request, sheet),
            )
        except StaleWrite as error:
            return self._stale(error)
        return self._answer(verified)

    @extend_schema(request=SheetReturnSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def send_back(self, request: Request, pk: str | None = None) -> HttpResponse:
        sheet = self.get_object()
        body = SheetReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            returned = services.return_transcription_sheet(
                sheet=sheet,
                returned_by=request_user(request),
                reason=body.validated_data["reason"],
                corrections=[
                    services.Correction(**item) for item in body.validated_data["corrections"]
                ],
                expected_version=_if_match_version(request, sheet),
            )
        except StaleWrite as error:
            return self._stale(error)
        return self._answer(returned)

    @extend_schema(request=SheetCorrectSerializer)
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str | None = None) -> HttpResponse:
        sheet = self.get_object()
        body = SheetCorrectSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        try:
            corrected = services.correct_transcription_sheet(
                sheet=sheet,
                entries=_entries(body.validated_data["entries"]),
                corrected_by=request_user(request),
                reason=body.validated_data.get("reason", ""),
                scan=body.validated_data.get("scan"),
                expected_version=_if_match_version(request, sheet),
            )
        except StaleWrite as error:
            return self._stale(error)
        return self._answer(corrected)


class StudyImportViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Preview (default) or import (``confirm=true``) a study table into a run.

    Not a resource with ids (an import is not kept as a row of its own: its records carry its
    label in the audit trail), so only the collection route exists. A resend cannot import
    twice: the second attempt finds the animals registered and is refused whole.
    """

    parser_classes = [MultiPartParser, FormParser]
    serializer_class = StudyImportSerializer

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        metadata: dict[str, Any] = {"client": ClientKind.API}
        if request.user and request.user.is_authenticated:
            metadata["user_id"] = request.user.pk
            metadata["username"] = request.user.get_username()
        if request.auth is not None and hasattr(request.auth, "prefix"):
            metadata["token"] = f"{type(request.auth).__name__}:{request.auth.prefix}"
        pghistory.context(**metadata)  # as VivologViewSetMixin does for every resource

    @extend_schema(
        request=StudyImportSerializer,
        responses={
            200: ImportPreviewSerializer,
            201: ImportPreviewSerializer,
            422: ImportPreviewSerializer,
        },
    )
    def create(self, request: Request) -> Response:
        body = StudyImportSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        upload = data["file"]
        arguments = {
            "run": data["run"],
            "content": upload.read(),
            "filename": upload.name,
            "imported_by": request_user(request),
        }
        if data["confirm"]:
            result = attempt_study_import(**arguments)
            code = status.HTTP_201_CREATED if result.is_valid else 422
        else:
            result = preview_study_import(**arguments)
            code = 200 if result.is_valid else 422
        return Response(_preview_json(result), status=code)
