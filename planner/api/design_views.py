"""API resources of the planner's design side: protocol library, ethics protocols, studies
with their design and transitions, arms, regimen items and amendments.

Reads are open to every lab member (technicians read); writes go through services, which
check roles (scientists edit drafts, study directors approve and amend).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    VivologViewSetMixin,
    etag_for,
    expected_version_from_if_match,
    request_user,
    versioned_update,
)
from planner.api.problems import problem_response
from planner.api.serializers import (
    AmendmentSerializer,
    ArmSerializer,
    ArmUpdateSerializer,
    CloneSerializer,
    EthicsProtocolSerializer,
    ProtocolTemplateSerializer,
    ProtocolTemplateUpdateSerializer,
    ProtocolVersionSerializer,
    RegimenItemSerializer,
    RegimenItemUpdateSerializer,
    StudyDesignSerializer,
    StudyDesignUpdateSerializer,
    StudyMemberSerializer,
    StudyMemberWriteSerializer,
    TransitionSerializer,
)
from planner.api.views import StudyViewSet
from planner.filters import (
    AmendmentFilterSet,
    EthicsProtocolFilterSet,
    ProtocolTemplateFilterSet,
    StudyFilterSet,
)
from planner.models import (
    Amendment,
    Arm,
    EthicsProtocol,
    ProtocolTemplate,
    ProtocolVersion,
    RegimenItem,
    Study,
)
from planner.preview import preview_study
from planner.selectors import (
    list_amendments_for_user,
    list_arms_for_user,
    list_ethics_protocols_for_user,
    list_protocol_templates_for_user,
    list_protocol_versions_for_user,
    list_regimen_items_for_user,
    list_studies_for_user,
    user_sees_allocation,
)
from planner.services import amendments as amendment_services
from planner.services import design, lifecycle, protocols
from planner.services import ethics as ethics_services
from planner.services import studies as study_services


def _optional_if_match(request: Request, instance: Any) -> int | None:
    """Transitions accept If-Match (checked when sent) so a client can guard them too."""
    if request.headers.get("If-Match"):
        return expected_version_from_if_match(request, instance)
    return None


def _stale(stale: Any) -> Response:
    return problem_response(
        412, "Precondition failed", str(stale), headers={"ETag": etag_for(stale.current)}
    )


class ProtocolTemplateViewSet(
    VivologViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """The protocol library. ``POST`` creates a template with version 1 (a draft)."""

    serializer_class = ProtocolTemplateSerializer
    filterset_class = ProtocolTemplateFilterSet

    def get_queryset(self) -> QuerySet[ProtocolTemplate]:
        return list_protocol_templates_for_user(self.request.user).prefetch_related("versions")

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version = protocols.create_template(
            lab=data["lab"],
            name=data["name"],
            kind=data["kind"],
            parameters=data.get("parameters") or {},
            description=data.get("description", ""),
            created_by=request_user(request),
        )
        template = version.template
        return Response(
            self.get_serializer(template).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(template)},
        )

    @extend_schema(request=ProtocolTemplateUpdateSerializer, parameters=[IF_MATCH_HEADER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        template = self.get_object()
        return versioned_update(
            request,
            template,
            serializer_class=ProtocolTemplateUpdateSerializer,
            service=protocols.update_template,
            render=lambda updated: self.get_serializer(updated).data,
            template=template,
            changed_by=request_user(request),
        )

    @extend_schema(request=None, responses=ProtocolVersionSerializer)
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request: Request, pk: str | None = None) -> Response:
        """Start version n + 1 as a draft (a copy of the latest, or the given parameters)."""
        template = self.get_object()
        version = protocols.new_version(
            template=template,
            created_by=request_user(request),
            parameters=request.data.get("parameters"),
            change_note=str(request.data.get("change_note", "")),
        )
        return Response(ProtocolVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CloneSerializer)
    @action(detail=True, methods=["post"])
    def clone(self, request: Request, pk: str | None = None) -> Response:
        template = self.get_object()
        name = str(request.data.get("name", "")).strip()
        if not name:
            raise ValidationError({"name": "Name the copy."})
        version = protocols.clone_template(
            template=template, name=name, created_by=request_user(request)
        )
        return Response(self.get_serializer(version.template).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TransitionSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, pk: str | None = None) -> Response:
        template = self.get_object()
        retired = protocols.retire_template(
            template=template, retired_by=request_user(request), reason=request.data.get("reason")
        )
        return Response(self.get_serializer(retired).data)


class ProtocolVersionViewSet(
    VivologViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Protocol versions. Drafts change with ``If-Match``; released ones never change."""

    serializer_class = ProtocolVersionSerializer

    def get_queryset(self) -> QuerySet[ProtocolVersion]:
        return list_protocol_versions_for_user(self.request.user)

    @extend_schema(parameters=[IF_MATCH_HEADER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        version = self.get_object()
        expected = expected_version_from_if_match(request, version)
        try:
            updated = protocols.update_draft(
                version=version,
                parameters=request.data.get("parameters", version.parameters),
                change_note=request.data.get("change_note"),
                changed_by=request_user(request),
                expected_version=expected,
                reason=request.data.get("reason"),
            )
        except protocols.StaleVersion as stale:
            return _stale(stale)
        return Response(self.get_serializer(updated).data, headers={"ETag": etag_for(updated)})

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        version = self.get_object()
        released = protocols.release_version(version=version, released_by=request_user(request))
        return Response(self.get_serializer(released).data, headers={"ETag": etag_for(released)})

    @extend_schema(parameters=[OpenApiParameter("against", int, description="Version id")])
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, pk: str | None = None) -> Response:
        """Changes from the version ``against`` (default: the previous number) to this one."""
        version = self.get_object()
        queryset = self.get_queryset().filter(template=version.template)
        against = request.query_params.get("against")
        old = (
            queryset.filter(pk=against).first()
            if against
            else queryset.filter(number=version.number - 1).first()
        )
        if old is None:
            return Response({"changes": []})
        changes = protocols.diff_versions(old=old, new=version)
        return Response(
            {
                "from": old.number,
                "to": version.number,
                "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in changes],
            }
        )


class EthicsProtocolViewSet(
    VivologViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    serializer_class = EthicsProtocolSerializer
    filterset_class = EthicsProtocolFilterSet

    def get_queryset(self) -> QuerySet[EthicsProtocol]:
        return list_ethics_protocols_for_user(self.request.user)

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("reason", None)
        protocol = ethics_services.create_ethics_protocol(created_by=request_user(request), **data)
        return Response(
            self.get_serializer(protocol).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(protocol)},
        )

    @extend_schema(parameters=[IF_MATCH_HEADER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        protocol = self.get_object()
        return versioned_update(
            request,
            protocol,
            serializer_class=EthicsProtocolSerializer,
            service=ethics_services.update_ethics_protocol,
            render=lambda updated: self.get_serializer(updated).data,
            stale=(study_services.StaleWrite,),
            drop=("lab", "number"),
            context=self.get_serializer_context(),
            protocol=protocol,
            changed_by=request_user(request),
        )


class StudyDesignViewSet(StudyViewSet):
    """Study designs with arms and procedures; transitions, clone and preview as actions."""

    serializer_class = StudyDesignSerializer
    filterset_class = StudyFilterSet

    def get_queryset(self) -> QuerySet[Study]:
        return (
            list_studies_for_user(self.request.user).order_by("code").prefetch_related("procedures")
        )

    @extend_schema(request=StudyDesignUpdateSerializer, parameters=[IF_MATCH_HEADER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        study = self.get_object()
        return versioned_update(
            request,
            study,
            serializer_class=StudyDesignUpdateSerializer,
            service=study_services.update_study,
            render=lambda updated: self.get_serializer(updated).data,
            stale=(study_services.StaleWrite,),
            partial=kwargs.get("partial", False),
            context=self.get_serializer_context(),
            study=study,
            changed_by=request_user(request),
        )

    def _transition(self, request: Request, name: str) -> Response:
        study = self.get_object()
        expected = _optional_if_match(request, study)
        user_key = "approved_by" if name == "approve" else "changed_by"
        try:
            updated = lifecycle.TRANSITIONS[name](
                study=study,
                expected_version=expected,
                reason=request.data.get("reason"),
                **{user_key: request_user(request)},
            )
        except study_services.StaleWrite as stale:
            return _stale(stale)
        return Response(self.get_serializer(updated).data, headers={"ETag": etag_for(updated)})

    @extend_schema(request=TransitionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Draft → approved (study director): fixes survival definition and analysis plan."""
        return self._transition(request, "approve")

    @extend_schema(request=TransitionSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "activate")

    @extend_schema(request=TransitionSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "complete")

    @extend_schema(request=TransitionSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "archive")

    @extend_schema(request=CloneSerializer)
    @action(detail=True, methods=["post"])
    def clone(self, request: Request, pk: str | None = None) -> Response:
        study = self.get_object()
        serializer = CloneSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        clone = design.clone_study(
            study=study, created_by=request_user(request), **serializer.validated_data
        )
        return Response(
            self.get_serializer(clone).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(clone)},
        )

    @extend_schema(methods=["GET"], request=None, responses=StudyMemberSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=StudyMemberWriteSerializer, responses=StudyMemberSerializer
    )
    @action(detail=True, methods=["get", "post"])
    def members(self, request: Request, pk: str | None = None) -> Response:
        """The study's members (GET); add one or change what they may see (POST: ``user``,
        ``unblinded``, ``can_dose``, ``reason`` when changing). Unblinding a member of an
        approved blinded study is for study directors."""
        study = self.get_object()
        if request.method == "POST":
            serializer = StudyMemberWriteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            user = (
                get_user_model()
                .objects.filter(pk=data["user"], memberships__lab=study.lab)
                .distinct()
                .first()
            )
            if user is None:
                raise ValidationError({"user": "Not a member of this study's lab."})
            member = design.set_study_member(
                study=study,
                user=user,
                changed_by=request_user(request),
                unblinded=data["unblinded"],
                can_dose=data["can_dose"],
                reason=data.get("reason") or None,
            )
            return Response(StudyMemberSerializer(member).data)
        members = study.members.select_related("user").order_by("user__username")
        return Response(StudyMemberSerializer(members, many=True).data)

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter("day0", dt.date),
            OpenApiParameter("last_day", int),
            OpenApiParameter("randomization_day", int),
        ],
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        """Every task per arm for a run starting on ``day0``, with calendar shifts."""
        study = self.get_object()
        try:
            day0 = dt.date.fromisoformat(request.query_params.get("day0", ""))
            last_day = int(request.query_params.get("last_day", 28))
            randomization_day = int(request.query_params.get("randomization_day", 7))
        except ValueError:
            raise ValidationError(
                {"day0": "Give day0 as YYYY-MM-DD, last_day and randomization_day as integers."}
            ) from None
        arms = preview_study(
            study=study,
            day0=day0,
            last_study_day=last_day,
            randomization_day=randomization_day,
            sees_allocation=user_sees_allocation(request.user, study),
        )
        return Response(
            [
                {
                    "arm": arm.name,
                    "problems": arm.problems,
                    "tasks": [
                        {
                            "what": row.what,
                            "route": row.route,
                            "study_day": row.task.study_day,
                            "nominal_date": row.task.nominal_date,
                            "scheduled_date": row.task.scheduled_date,
                            "status": row.task.status.value,
                            "rule": row.task.rule.value if row.task.rule else None,
                            "description": row.task.description,
                        }
                        for row in arm.rows
                    ],
                }
                for arm in arms
            ]
        )


class ArmViewSet(
    VivologViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Arms of designs whose allocation you may see. Codes are generated, never sent."""

    serializer_class = ArmSerializer

    def get_queryset(self) -> QuerySet[Arm]:
        return list_arms_for_user(self.request.user).prefetch_related("regimen_items", "satellites")

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        study = data["study"]
        if not list_studies_for_user(request.user).filter(pk=study.pk).exists():
            raise ValidationError({"study": "No such study."})
        arm = design.add_arm(
            study=study,
            label=data["label"],
            planned_n=data["planned_n"],
            is_control=data.get("is_control", False),
            created_by=request_user(request),
        )
        return Response(
            self.get_serializer(arm).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(arm)},
        )

    @extend_schema(request=ArmUpdateSerializer, parameters=[IF_MATCH_HEADER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        arm = self.get_object()
        return versioned_update(
            request,
            arm,
            serializer_class=ArmUpdateSerializer,
            service=design.update_arm,
            render=lambda updated: self.get_serializer(updated).data,
            stale=(study_services.StaleWrite,),
            arm=arm,
            changed_by=request_user(request),
        )

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        arm = self.get_object()
        design.remove_arm(
            arm=arm, removed_by=request_user(request), reason=request.data.get("reason")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegimenItemViewSet(
    VivologViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Regimen items: add (checked against the dosing protocol version), change (``If-Match``
    and a ``reason``) or remove."""

    serializer_class = RegimenItemSerializer

    def get_queryset(self) -> QuerySet[RegimenItem]:
        return list_regimen_items_for_user(self.request.user)

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        arm = data.pop("arm")
        if not list_arms_for_user(request.user).filter(pk=arm.pk).exists():
            raise ValidationError({"arm": "No such arm."})
        if (
            not list_protocol_versions_for_user(request.user)
            .filter(pk=data["protocol_version"].pk)
            .exists()
        ):
            raise ValidationError({"protocol_version": "No such protocol version."})
        item = design.add_regimen_item(arm=arm, created_by=request_user(request), **data)
        return Response(
            self.get_serializer(item).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(item)},
        )

    @extend_schema(request=RegimenItemUpdateSerializer, parameters=[IF_MATCH_HEADER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        return versioned_update(
            request,
            item,
            serializer_class=RegimenItemUpdateSerializer,
            service=design.update_regimen_item,
            render=lambda updated: self.get_serializer(updated).data,
            stale=(study_services.StaleWrite,),
            context=self.get_serializer_context(),
            item=item,
            changed_by=request_user(request),
        )

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        design.remove_regimen_item(
            item=item, removed_by=request_user(request), reason=request.data.get("reason")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AmendmentViewSet(
    VivologViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Amendments to approved designs: propose (scientists), approve or reject (director)."""

    serializer_class = AmendmentSerializer
    filterset_class = AmendmentFilterSet

    def get_queryset(self) -> QuerySet[Amendment]:
        return list_amendments_for_user(self.request.user)

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        study = data.pop("study")
        if not list_studies_for_user(request.user).filter(pk=study.pk).exists():
            raise ValidationError({"study": "No such study."})
        amendment = amendment_services.propose_amendment(
            study=study, proposed_by=request_user(request), **data
        )
        return Response(self.get_serializer(amendment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        amendment = self.get_object()
        approved = amendment_services.approve_amendment(
            amendment=amendment, approved_by=request_user(request)
        )
        return Response(self.get_serializer(approved).data)

    @extend_schema(request=TransitionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        amendment = self.get_object()
        rejected = amendment_services.reject_amendment(
            amendment=amendment,
            rejected_by=request_user(request),
            reason=request.data.get("reason"),
        )
        return Response(self.get_serializer(rejected).data)
