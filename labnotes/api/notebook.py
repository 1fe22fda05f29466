"""API for notebook entries: list (``?q=`` full-text search, ``?run=``, ``?animal=``), create,
edit with ``If-Match`` and a reason, void, attachments (multipart upload; replace makes a new
version) and their bytes. Entries a reader may not see are absent, search results included."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.api.serializers import ReasonSerializer
from labnotes.models import Animal, NotebookAttachment, NotebookEntry, Sample, StudyRun, Tumour
from labnotes.selectors import list_animals_for_user, list_runs_for_user, list_tumours_for_user
from labnotes.selectors_samples import (
    current_attachments,
    list_entries_for_user,
    list_samples_for_user,
    search_entries,
)
from labnotes.services import notebook as notebook_services
from labnotes.services.common import StaleWrite
from labnotes.services.files import read_file
from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    ReasonField,
    VivologViewSetMixin,
    etag_for,
    request_user,
    versioned_update,
)
from planner.selectors import get_current_lab, list_labs_for_user

#: Content types a browser may show inline; everything else downloads (never rendered as HTML).
INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain"}


class AttachmentSerializer(serializers.ModelSerializer[NotebookAttachment]):
    sha256 = serializers.CharField(source="stored_file.sha256", read_only=True)
    size_bytes = serializers.IntegerField(source="stored_file.size_bytes", read_only=True)
    content_type = serializers.CharField(source="stored_file.content_type", read_only=True)
    added_by = serializers.CharField(source="added_by.get_username", read_only=True)

    class Meta:
        model = NotebookAttachment
        fields = [
            "id",
            "filename",
            "version",
            "replaces",
            "reason",
            "sha256",
            "size_bytes",
            "content_type",
            "added_by",
            "added_at",
        ]
        read_only_fields = fields


class NotebookEntrySerializer(serializers.ModelSerializer[NotebookEntry]):
    author = serializers.CharField(source="author.get_username", read_only=True)
    body_html = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    restricted = serializers.SerializerMethodField()
    rank = serializers.SerializerMethodField(
        help_text="Search relevance (with ?q=), best first; null when not searching."
    )
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = NotebookEntry
        fields = [
            "id",
            "lab",
            "entry_date",
            "title",
            "body",
            "body_html",
            "author",
            "version",
            "reveals_allocation",
            "restricted",
            "links",
            "attachments",
            "created_at",
            "updated_at",
            "voided_at",
            "void_reason",
            "rank",
            "row_version",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "number", "nullable": True})
    def get_rank(self, entry: NotebookEntry) -> float | None:
        rank = getattr(entry, "rank", None)
        return float(rank) if rank is not None else None

    def get_body_html(self, entry: NotebookEntry) -> str:
        return notebook_services.render_markdown(entry.body)

    def get_links(self, entry: NotebookEntry) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {"runs": [], "animals": [], "tumours": [], "samples": []}
        for link in entry.links.all():
            target = link.target
            if target is not None:
                found[f"{link.kind}s"].append(target.pk)  # type: ignore[attr-defined]
        return found

    def get_attachments(self, entry: NotebookEntry) -> list[dict[str, Any]]:
        return list(AttachmentSerializer(current_attachments(entry), many=True).data)

    def get_restricted(self, entry: NotebookEntry) -> bool:
        """True when only readers who see the allocation can read this entry."""
        return entry.restrictions.exists()


class _LinkFields(serializers.Serializer[Any]):
    runs = serializers.PrimaryKeyRelatedField(
        queryset=StudyRun.objects.none(), many=True, required=False
    )
    animals = serializers.PrimaryKeyRelatedField(
        queryset=Animal.objects.none(), many=True, required=False
    )
    tumours = serializers.PrimaryKeyRelatedField(
        queryset=Tumour.objects.none(), many=True, required=False
    )
    samples = serializers.PrimaryKeyRelatedField(
        queryset=Sample.objects.none(), many=True, required=False
    )
    reveals_allocation = serializers.BooleanField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            user = request.user
            for name, queryset in (
                ("runs", list_runs_for_user(user)),
                ("animals", list_animals_for_user(user)),
                ("tumours", list_tumours_for_user(user)),
                ("samples", list_samples_for_user(user)),
            ):
                self.fields[name].child_relation.queryset = queryset  # type: ignore[attr-defined]


class NotebookEntryCreateSerializer(_LinkFields):
    lab = serializers.IntegerField(
        required=False, help_text="The lab (your current lab when not given)."
    )
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    entry_date = serializers.DateField(required=False)


class NotebookEntryUpdateSerializer(_LinkFields):
    title = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    entry_date = serializers.DateField(required=False)
    reason = ReasonField()


class UploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    replaces = serializers.IntegerField(
        required=False, help_text="The attachment this file replaces (makes a new version)."
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class NotebookEntryViewSet(
    VivologViewSetMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[NotebookEntry],
):
    """Notebook entries. ``?q=`` searches title and text (stemmed, ranked, best first)."""

    serializer_class = NotebookEntrySerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[NotebookEntry]:
        params = self.request.query_params
        voided = params.get("voided") == "1"
        text = (params.get("q") or "").strip()
        if text and self.action == "list":
            entries = search_entries(self.request.user, text, include_voided=voided)
        else:
            entries = list_entries_for_user(
                self.request.user, include_voided=voided or self.action != "list"
            ).order_by("-entry_date", "-pk")
        for name in ("run", "animal", "sample"):
            value = params.get(name)
            if value:
                if not value.isdigit():
                    return entries.none()
                entries = entries.filter(links__kind=name, **{f"links__{name}": value})
        return entries.prefetch_related(
            "links__run", "links__animal", "links__tumour", "links__sample"
        )

    @extend_schema(request=NotebookEntryCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = NotebookEntryCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        lab_id = data.pop("lab", None)
        lab = (
            list_labs_for_user(request.user).filter(pk=lab_id).first()
            if lab_id is not None
            else get_current_lab(request._request)
        )
        if lab is None:
            raise serializers.ValidationError({"lab": "Not one of your labs."})
        entry = notebook_services.create_entry(lab=lab, author=request_user(request), **data)
        entry = self.get_queryset().get(pk=entry.pk)
        return Response(
            self.get_serializer(entry).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(entry)},
        )

    @extend_schema(request=NotebookEntryUpdateSerializer, parameters=[IF_MATCH_HEADER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entry = self.get_object()
        return versioned_update(
            request,
            entry,
            serializer_class=NotebookEntryUpdateSerializer,
            service=notebook_services.edit_entry,
            render=lambda updated: self.get_serializer(self.get_queryset().get(pk=updated.pk)).data,
            stale=(StaleWrite,),
            context=self.get_serializer_context(),
            entry=entry,
            edited_by=request_user(request),
        )

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        entry = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voided = notebook_services.void_entry(
            entry=entry, voided_by=request_user(request), reason=body.validated_data["reason"]
        )
        voided = self.get_queryset().get(pk=voided.pk)
        return Response(self.get_serializer(voided).data, headers={"ETag": etag_for(voided)})

    @extend_schema(request=UploadSerializer, responses=AttachmentSerializer)
    @action(detail=True, methods=["post"], url_path="attachments")
    def attach(self, request: Request, pk: str | None = None) -> Response:
        """Upload a file (multipart ``file``). With ``replaces`` (and a ``reason``) it becomes the
        next version of that attachment. The same bytes attached again give the same row."""
        entry = self.get_object()
        body = UploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        content = notebook_services.Upload(
            filename=upload.name,
            content_type=upload.content_type or "application/octet-stream",
            content=upload.read(),
        )
        replaces_id = body.validated_data.get("replaces")
        if replaces_id is not None:
            old = NotebookAttachment.objects.filter(entry=entry, pk=replaces_id).first()
            if old is None:
                raise NotFound("No such attachment on this entry.")
            attachment = notebook_services.replace_attachment(
                attachment=old,
                added_by=request_user(request),
                upload=content,
                reason=body.validated_data.get("reason", ""),
            )
        else:
            attachment = notebook_services.add_attachment(
                entry=entry,
                added_by=request_user(request),
                upload=content,
                reason=body.validated_data.get("reason", ""),
            )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>\d+)/content",
    )
    def attachment_content(
        self, request: Request, pk: str | None = None, attachment_id: str | None = None
    ) -> HttpResponse:
        """The attachment's bytes (any version), checked against its SHA-256."""
        entry = self.get_object()
        attachment = (
            NotebookAttachment.objects.filter(entry=entry, pk=int(attachment_id or 0))
            .select_related("stored_file")
            .first()
        )
        if attachment is None:
            raise NotFound("No such attachment on this entry.")
        return attachment_response(attachment)


def attachment_response(attachment: NotebookAttachment) -> HttpResponse:
    """The bytes as a download (inline only for PDFs, plain text and raster images)."""
    stored = attachment.stored_file
    content = read_file(stored)
    content_type = stored.content_type if stored.content_type in INLINE_TYPES else None
    response = HttpResponse(content, content_type=content_type or "application/octet-stream")
    disposition = "inline" if content_type else "attachment"
    safe_name = "".join(c for c in attachment.filename if c.isprintable() and c not in '"\\')
    response["Content-Disposition"] = f'{disposition}; filename="{safe_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Digest"] = f"sha-256={stored.sha256}"
    return response
