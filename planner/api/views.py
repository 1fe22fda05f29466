from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    VivologViewSetMixin,
    etag_for,
    request_user,
    versioned_update,
)
from planner.api.serializers import (
    LabSerializer,
    OutboundMessageSerializer,
    StudySerializer,
    StudyUpdateSerializer,
)
from planner.filters import StudyFilterSet
from planner.models import Lab, OutboundMessage, Study
from planner.selectors import (
    list_labs_for_user,
    list_outbound_messages_for_user,
    list_studies_for_user,
)
from planner.services import studies as study_services


class LabViewSet(VivologViewSetMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = LabSerializer

    def get_queryset(self) -> QuerySet[Lab]:
        return list_labs_for_user(self.request.user)


class StudyViewSet(
    VivologViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Study designs. Changes need ``If-Match`` and a ``reason``."""

    serializer_class = StudySerializer
    filterset_class = StudyFilterSet

    def get_queryset(self) -> QuerySet[Study]:
        return list_studies_for_user(self.request.user).order_by("code")

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        study = study_services.create_study(
            lab=data["lab"],
            code=data["code"],
            title=data["title"],
            objective=data.get("objective", ""),
            blinded=data.get("blinded", True),
            created_by=request_user(request),
        )
        return Response(
            self.get_serializer(study).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(study)},
        )

    @extend_schema(request=StudyUpdateSerializer, parameters=[IF_MATCH_HEADER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        study = self.get_object()
        return versioned_update(
            request,
            study,
            serializer_class=StudyUpdateSerializer,
            service=study_services.update_study,
            render=lambda updated: self.get_serializer(updated).data,
            stale=(study_services.StaleWrite,),
            partial=kwargs.get("partial", False),
            study=study,
            changed_by=request_user(request),
        )

    @extend_schema(request=StudyUpdateSerializer, parameters=[IF_MATCH_HEADER])
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)


class OutboundMessageViewSet(VivologViewSetMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """Who was alerted of what (QA and lab admins see their labs' messages)."""

    serializer_class = OutboundMessageSerializer

    def get_queryset(self) -> QuerySet[OutboundMessage]:
        return list_outbound_messages_for_user(self.request.user)
