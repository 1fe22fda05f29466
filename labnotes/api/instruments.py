"""The instrument register and device tokens in the API (for people, not devices).

- ``/instruments/``: list, register, read; ``POST …/{id}/checks/`` a daily check,
  ``POST …/{id}/calibrate/`` (``If-Match``) a calibration with the next due date,
  ``GET …/{id}/status/?at=…`` whether readings at that time are qualified (flagged or refused).
- ``/device-tokens/``: list, create (the secret is in the 201 answer, once), ``POST
  …/{id}/revoke/``. Lab admins and study directors only.
- ``/instrument-settings/``: each of the user's labs' rule for readings from unqualified
  instruments (``flag`` or ``refuse``); ``GET/PUT …/{lab}/`` (``If-Match``, a ``reason``; lab
  admins only may change it).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.models import (
    DeviceAction,
    DeviceToken,
    Instrument,
    InstrumentCheck,
    InstrumentSettings,
    StudyRun,
    UnqualifiedReadingPolicy,
)
from labnotes.selectors import list_runs_for_user
from labnotes.services import instruments as services
from labnotes.services.common import StaleWrite
from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    VivologViewSetMixin,
    etag_for,
    expected_version_from_if_match,
    request_user,
)
from planner.api.problems import PreconditionFailed, problem_response
from planner.audit.history import HistoryEntrySerializer, history_for
from planner.models import Lab, Role, Study
from planner.selectors import list_labs_for_user, list_studies_for_user


class InstrumentCheckSerializer(serializers.ModelSerializer[InstrumentCheck]):
    checked_by = serializers.CharField(source="checked_by.username", read_only=True)

    class Meta:
        model = InstrumentCheck
        fields = [
            "id",
            "checked_on",
            "checked_at",
            "checked_by",
            "expected_value",
            "observed_value",
            "tolerance",
            "unit",
            "passed",
            "note",
        ]
        read_only_fields = fields


class InstrumentSerializer(serializers.ModelSerializer[Instrument]):
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Instrument
        fields = [
            "id",
            "lab",
            "kind",
            "name",
            "manufacturer",
            "model_name",
            "serial_number",
            "location",
            "calibration_due_on",
            "last_calibrated_on",
            "daily_check_required",
            "check_expected",
            "check_tolerance",
            "check_unit",
            "retired_at",
            "retire_reason",
            "created_at",
            "row_version",
        ]
        read_only_fields = ["id", "retired_at", "retire_reason", "created_at", "row_version"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["lab"].queryset = list_labs_for_user(request.user)  # type: ignore[attr-defined]


class CheckInputSerializer(serializers.Serializer[Any]):
    observed_value = serializers.DecimalField(max_digits=10, decimal_places=4)
    expected_value = serializers.DecimalField(max_digits=10, decimal_places=4, required=False)
    tolerance = serializers.DecimalField(max_digits=10, decimal_places=4, required=False)
    unit = serializers.CharField(max_length=10, required=False, default="")
    checked_at = serializers.DateTimeField(required=False)
    note = serializers.CharField(required=False, default="", allow_blank=True)


class CalibrationSerializer(serializers.Serializer[Any]):
    calibrated_on = serializers.DateField()
    next_due_on = serializers.DateField()
    reason = serializers.CharField(max_length=500, required=False, default="Calibrated")


class StatusSerializer(serializers.Serializer[Any]):
    instrument = serializers.IntegerField()
    day = serializers.DateField()
    qualified = serializers.BooleanField()
    issues = serializers.ListField(child=serializers.CharField())
    refused = serializers.BooleanField()
    message = serializers.CharField()


class InstrumentViewSet(
    VivologViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Instrument],
):
    """Balances, calipers, plate readers and cytometers of the user's labs."""

    serializer_class = InstrumentSerializer

    def get_queryset(self) -> QuerySet[Instrument]:
        return Instrument.objects.filter(lab__in=list_labs_for_user(self.request.user)).order_by(
            "lab", "kind", "name", "pk"
        )

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        examples=[
            OpenApiExample(
                "A caliper",
                value={
                    "lab": 1,
                    "kind": "caliper",
                    "name": "Caliper 2",
                    "serial_number": "CAL-0042",
                    "location": "R101",
                    "calibration_due_on": "2026-12-31",
                    "check_expected": "10.0000",
                    "check_tolerance": "0.0200",
                    "check_unit": "mm",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        lab: Lab = data.pop("lab")
        instrument = services.create_instrument(lab=lab, created_by=request_user(request), **data)
        return Response(
            self.get_serializer(instrument).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(instrument)},
        )

    @extend_schema(
        request=CheckInputSerializer,
        responses={201: InstrumentCheckSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        examples=[
            OpenApiExample(
                "A 20 g check weight",
                value={"observed_value": "20.0030", "expected_value": "20", "tolerance": "0.01"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def checks(self, request: Request, pk: str | None = None) -> Response:
        """Record a daily check: passed when |observed - expected| ≤ tolerance."""
        instrument = self.get_object()
        body = CheckInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        check = services.record_daily_check(
            instrument=instrument, checked_by=request_user(request), **body.validated_data
        )
        return Response(InstrumentCheckSerializer(check).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CalibrationSerializer, parameters=[IF_MATCH_HEADER])
    @action(detail=True, methods=["post"])
    def calibrate(self, request: Request, pk: str | None = None) -> Response:
        instrument = self.get_object()
        expected = expected_version_from_if_match(request, instrument)
        body = CalibrationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            updated = services.record_calibration(
                instrument=instrument,
                recorded_by=request_user(request),
                expected_version=expected,
                **body.validated_data,
            )
        except StaleWrite:
            raise PreconditionFailed() from None
        return Response(self.get_serializer(updated).data, headers={"ETag": etag_for(updated)})

    @extend_schema(
        parameters=[
            OpenApiParameter("at", str, OpenApiParameter.QUERY, required=False),
        ],
        responses={200: StatusSerializer},
        examples=[
            OpenApiExample(
                "Past calibration",
                value={
                    "instrument": 4,
                    "day": "2026-03-02",
                    "qualified": False,
                    "issues": ["calibration_overdue"],
                    "refused": False,
                    "message": "Readings from Balance 1 are flagged: calibration overdue.",
                },
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get"])
    def status(self, request: Request, pk: str | None = None) -> Response:
        """Whether readings taken at ``at`` (ISO 8601, default now) are qualified."""
        instrument = self.get_object()
        text = request.query_params.get("at")
        try:
            at = parse_datetime(text) if text else None
        except ValueError:
            at = None
        if text and (at is None or at.tzinfo is None):
            raise ValidationError({"at": "An ISO 8601 time with its time zone."})
        found = services.instrument_status(
            lab=instrument.lab, identifier=instrument.serial_number, at=at
        )
        assert found is not None
        return Response(
            {
                "instrument": instrument.pk,
                "day": found.day,
                "qualified": found.qualified,
                "issues": list(found.issues),
                "refused": found.refused,
                "message": found.message,
            }
        )


class DeviceTokenSerializer(serializers.ModelSerializer[DeviceToken]):
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = DeviceToken
        fields = [
            "id",
            "name",
            "lab",
            "run",
            "study",
            "actions",
            "instrument",
            "prefix",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
            "revoke_reason",
            "last_used_at",
            "rate_limit_per_minute",
        ]
        read_only_fields = fields


class DeviceTokenCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    run = serializers.PrimaryKeyRelatedField(
        queryset=StudyRun.objects.none(), required=False, allow_null=True
    )
    study = serializers.PrimaryKeyRelatedField(
        queryset=Study.objects.none(), required=False, allow_null=True
    )
    actions = serializers.ListField(child=serializers.ChoiceField(choices=DeviceAction.choices))
    expires_at = serializers.DateTimeField(required=False)
    instrument = serializers.PrimaryKeyRelatedField(
        queryset=Instrument.objects.none(), required=False, allow_null=True
    )
    rate_limit_per_minute = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            user = request.user
            self.fields["run"].queryset = list_runs_for_user(user)  # type: ignore[attr-defined]
            self.fields["study"].queryset = list_studies_for_user(user)  # type: ignore[attr-defined]
            self.fields["instrument"].queryset = Instrument.objects.filter(  # type: ignore[attr-defined]
                lab__in=list_labs_for_user(user)
            )


class IssuedTokenSerializer(DeviceTokenSerializer):
    token = serializers.CharField(help_text="The secret: shown once, store it in the device.")

    class Meta(DeviceTokenSerializer.Meta):
        fields = [*DeviceTokenSerializer.Meta.fields, "token"]


class RevokeSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


class DeviceTokenViewSet(
    VivologViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[DeviceToken],
):
    """Device tokens of the labs where the user is a lab admin or a study director."""

    serializer_class = DeviceTokenSerializer

    def _idempotent(self, handler: Any) -> Any:
        # A stored replay would keep the secret in the database: creation is not replayed.
        return handler

    def get_queryset(self) -> QuerySet[DeviceToken]:
        if getattr(self, "swagger_fake_view", False):
            return DeviceToken.objects.none()
        user = request_user(self.request)
        return DeviceToken.objects.filter(
            lab__memberships__user=user,
            lab__memberships__role__in=[Role.LAB_ADMIN, Role.STUDY_DIRECTOR],
        ).select_related("created_by")

    @extend_schema(
        request=DeviceTokenCreateSerializer,
        responses={201: IssuedTokenSerializer},
        examples=[
            OpenApiExample(
                "A balance bridge for one run",
                value={
                    "name": "Balance 1 bridge",
                    "run": 3,
                    "actions": ["post_weights", "read_tasks"],
                    "expires_at": "2027-03-01T00:00:00Z",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        """Create a token; the answer holds its secret (``token``) once, never again."""
        body = DeviceTokenCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        issued = services.create_device_token(
            created_by=request_user(request), request=request, **body.validated_data
        )
        data = dict(DeviceTokenSerializer(issued.token).data)
        data["token"] = issued.secret
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RevokeSerializer, responses={200: DeviceTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        token = self.get_object()
        body = RevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revoked = services.revoke_device_token(
            token=token,
            revoked_by=request_user(request),
            reason=body.validated_data["reason"],
            request=request,
        )
        return Response(DeviceTokenSerializer(revoked).data)


class InstrumentSettingsSerializer(serializers.ModelSerializer[InstrumentSettings]):
    lab = serializers.IntegerField(source="lab_id", read_only=True)
    row_version = serializers.IntegerField(
        read_only=True, help_text="0 while the lab runs on the defaults (nothing saved yet)."
    )

    class Meta:
        model = InstrumentSettings
        fields = ["lab", "unqualified_readings", "require_registered_instrument", "row_version"]
        read_only_fields = fields


class InstrumentSettingsUpdateSerializer(serializers.Serializer[Any]):
    unqualified_readings = serializers.ChoiceField(choices=UnqualifiedReadingPolicy.choices)
    require_registered_instrument = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(max_length=500, help_text="Why the rule changes (audited).")


class InstrumentSettingsViewSet(VivologViewSetMixin, viewsets.GenericViewSet[Any]):
    """The rule of each of the user's labs for readings from unqualified instruments
    (calibration past due, no passed daily check that day): ``flag`` records them with a
    flag, ``refuse`` refuses them (grid, forms and the device API). Any member reads it; only
    the lab's admins change it (403 for anyone else)."""

    serializer_class = InstrumentSettingsSerializer
    lookup_field = "pk"
    lookup_url_kwarg = "lab"
    lookup_value_regex = r"[0-9]+"
    pagination_class = None  # one row per lab of the user: never long

    def get_queryset(self) -> QuerySet[Lab]:
        return list_labs_for_user(self.request.user).order_by("pk")

    def _settings(self) -> InstrumentSettings:
        lab = get_object_or_404(self.get_queryset(), pk=self.kwargs["lab"])
        return services.instrument_settings(lab)

    def _etag(self, current: InstrumentSettings) -> str:
        return f'"labnotes.instrumentsettings-lab{current.lab_id}-v{current.row_version}"'

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(  # type: ignore[override]  # the URL names the lab, not a pk
        self, request: Request, lab: str | None = None
    ) -> Response:
        """Every recorded change of the lab's rule: who, when, old → new, why."""
        current = self._settings()
        entries = history_for(current) if current.pk is not None else []
        return Response(HistoryEntrySerializer(entries, many=True).data)  # type: ignore[arg-type]

    @extend_schema(responses={200: InstrumentSettingsSerializer(many=True)})
    def list(self, request: Request) -> Response:
        rows = [services.instrument_settings(lab) for lab in self.get_queryset()]
        return Response(InstrumentSettingsSerializer(rows, many=True).data)

    @extend_schema(
        responses={200: InstrumentSettingsSerializer},
        examples=[
            OpenApiExample(
                "Flag (the default)",
                value={
                    "lab": 1,
                    "unqualified_readings": "flag",
                    "require_registered_instrument": False,
                    "row_version": 0,
                },
                response_only=True,
            )
        ],
    )
    def retrieve(self, request: Request, lab: str | None = None) -> Response:
        current = self._settings()
        return Response(
            InstrumentSettingsSerializer(current).data, headers={"ETag": self._etag(current)}
        )

    @extend_schema(
        request=InstrumentSettingsUpdateSerializer,
        responses={200: InstrumentSettingsSerializer},
        parameters=[IF_MATCH_HEADER],
        examples=[
            OpenApiExample(
                "Refuse unqualified readings",
                value={
                    "unqualified_readings": "refuse",
                    "require_registered_instrument": False,
                    "reason": "SOP-12 rev 3: no reading from an unqualified balance",
                },
                request_only=True,
            )
        ],
    )
    def update(self, request: Request, lab: str | None = None) -> Response:
        current = self._settings()
        if not set(services.POLICY_EDITORS) & {
            membership.role
            for membership in current.lab.memberships.filter(user=request_user(request))
        }:
            raise PermissionDenied("Only the lab's admins may change its instrument rules.")
        header = request.headers.get("If-Match")
        if not header:
            return problem_response(
                428, "Precondition required", "Send If-Match with the ETag of your last GET."
            )
        if self._etag(current) not in [value.strip() for value in header.split(",")]:
            return problem_response(
                412,
                "Precondition failed",
                "The instrument rules changed since your last GET.",
                headers={"ETag": self._etag(current)},
            )
        body = InstrumentSettingsUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            updated = services.set_unqualified_policy(
                lab=current.lab,
                policy=data["unqualified_readings"],
                require_registered=data["require_registered_instrument"],
                changed_by=request_user(request),
                reason=data["reason"],
                expected_version=current.row_version,
            )
        except StaleWrite as error:
            latest = services.instrument_settings(current.lab)
            return problem_response(
                412, "Precondition failed", str(error), headers={"ETag": self._etag(latest)}
            )
        return Response(
            InstrumentSettingsSerializer(updated).data, headers={"ETag": self._etag(updated)}
        )
