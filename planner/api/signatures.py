"""Signatures through the API: read only. Signing needs a person's session and password (the
signing page); no token, device or personal, can create a signature here."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from planner.api.conventions import VivologViewSetMixin
from planner.audit.history import HistoryEntrySerializer, history_for
from planner.models import Signature
from planner.selectors import list_labs_for_user
from planner.services import signatures as signature_services


class SignatureSerializer(serializers.ModelSerializer[Signature]):
    record = serializers.SerializerMethodField()
    meaning_label = serializers.CharField(source="get_meaning_display", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Signature
        fields = [
            "id",
            "record",
            "object_id",
            "record_label",
            "meaning",
            "meaning_label",
            "signer_name",
            "signer_role",
            "signed_at",
            "content_sha256",
            "policy",
            "second_factor",
            "status",
        ]
        read_only_fields = fields

    def get_record(self, signature: Signature) -> str:
        return f"{signature.content_type.app_label}.{signature.content_type.model}"

    def get_status(self, signature: Signature) -> str:
        """ "valid", or "invalid — record changed after signing" (the record hashed now)."""
        record: Any = signature.record
        if record is None:
            return signature_services.INVALID_TEXT
        current = signature_services.content_hash(record)
        return "valid" if current == signature.content_sha256 else signature_services.INVALID_TEXT


class SignatureViewSet(VivologViewSetMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """Signatures in the user's labs; filter one record with ``?record=app.model&object_id=``."""

    serializer_class = SignatureSerializer

    def get_queryset(self) -> QuerySet[Signature]:
        queryset = Signature.objects.filter(
            lab__in=list_labs_for_user(self.request.user)
        ).select_related("content_type")
        record = self.request.query_params.get("record")
        if record:
            app_label, _, model = record.partition(".")
            try:
                content_type = ContentType.objects.get_by_natural_key(app_label, model)
            except ContentType.DoesNotExist:
                raise ValidationError({"record": f"'{record}' is not a record type."}) from None
            queryset = queryset.filter(content_type=content_type)
        object_id = self.request.query_params.get("object_id")
        if object_id:
            if not object_id.isdigit():
                raise ValidationError({"object_id": "must be a whole number."})
            queryset = queryset.filter(object_id=int(object_id))
        return queryset.order_by("signed_at", "pk")

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:  # type: ignore[override]
        """Every recorded change of this signature, without the signed text (``canonical``):
        a signed design names its arms, agents and doses, which blinded members must not read;
        ``content_sha256`` stands for it."""
        entries = [
            dataclasses.replace(
                entry, changes=tuple(c for c in entry.changes if c.field != "canonical")
            )
            for entry in history_for(self.get_object())
        ]
        return Response(HistoryEntrySerializer(entries, many=True).data)  # type: ignore[arg-type]
