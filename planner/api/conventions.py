"""Mixins every API resource uses: audit attribution, ETags, idempotency keys, history.

A resource view is declared as::

    class StudyViewSet(VivologViewSetMixin, viewsets.ModelViewSet): ...

and gets: writes attributed to the authenticated user or token; ``ETag`` on GET and
``If-Match`` required on PUT/PATCH (428 when missing, 412 when stale); ``Idempotency-Key`` on
POST (replay, 422 on another body, 409 while the first is still running); ``/history/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Protocol, cast

import pghistory
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Model
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from planner.api.problems import (
    IdempotencyConflict,
    IdempotencyMismatch,
    PreconditionFailed,
    PreconditionRequired,
    problem_response,
)
from planner.audit import ClientKind
from planner.audit.history import HistoryEntrySerializer, history_for
from planner.models import IdempotencyRecord


def request_user(request: Request) -> User:
    """The authenticated user of an API request, typed as ``User``.

    A typing narrowing only (no runtime check): every API view requires authentication
    (``IsAuthenticated`` is the default permission class), so ``request.user`` is a ``User``.
    """
    return cast(User, request.user)


def etag_for(instance: Model) -> str:
    """A strong ETag from the model, primary key and row version."""
    version = getattr(instance, "row_version", None)
    if version is None:
        raise TypeError(f"{type(instance).__name__} has no row_version: it cannot carry an ETag")
    return f'"{instance._meta.label_lower}-{instance.pk}-v{version}"'


def expected_version_from_if_match(request: Request, instance: Model) -> int:
    """Check ``If-Match`` against the current ETag; return the version the writer saw."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired()
    current = etag_for(instance)
    candidates = [value.strip() for value in header.split(",")]
    if current not in candidates and "*" not in candidates:
        raise PreconditionFailed()
    return int(cast(Any, instance).row_version)


def request_body_sha256(request: Request) -> str:
    """The SHA-256 (hex) of the request's body, computed once per request: the idempotency
    check and a service that keeps the body's hash (bulk ingest: a megabyte per batch) share
    it."""
    digest = getattr(request, "_vivolog_body_sha256", None)
    if digest is None:
        digest = hashlib.sha256(request.body).hexdigest()
        cast(Any, request)._vivolog_body_sha256 = digest
    return cast(str, digest)


def idempotency_scope(request: Request) -> str:
    auth = request.auth
    if auth is not None and hasattr(auth, "prefix"):
        return f"{type(auth).__name__.lower()}:{auth.prefix}"
    return f"user:{request.user.pk}"


IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="A client-chosen unique key (e.g. a UUID). Resending the same key and body "
    "replays the first response instead of writing twice.",
)
IF_MATCH_HEADER = OpenApiParameter(
    name="If-Match",
    location=OpenApiParameter.HEADER,
    required=True,
    description="The ETag from your last GET of this record. Required on PUT and PATCH.",
)


class StaleRecord(Protocol):
    """What a service's stale-write exception carries: the row as it now is."""

    current: Model


def versioned_update(
    request: Request,
    instance: Model,
    *,
    serializer_class: type[serializers.Serializer[Any]],
    service: Callable[..., Model],
    render: Callable[[Model], Any],
    stale: tuple[type[Exception], ...] = (),
    partial: bool = True,
    drop: tuple[str, ...] = (),
    context: dict[str, Any] | None = None,
    **service_kwargs: Any,
) -> Response:
    """The PUT/PATCH of a row-versioned record, one way for every resource.

    ``If-Match`` gives the version the writer saw (428 without it, 412 when stale); the
    ``serializer_class`` validates the body; its ``reason`` and the other fields go to
    ``service(expected_version=…, reason=…, **service_kwargs, **fields)`` (``drop`` names fields
    the body may carry but the service does not take). A service exception in ``stale`` (a
    write that lost the race after the ETag check) answers 412 with the current ETag; the
    response is ``render(updated)`` with the new ETag.
    """
    expected = expected_version_from_if_match(request, instance)
    serializer = serializer_class(data=request.data, partial=partial, context=context or {})
    serializer.is_valid(raise_exception=True)
    changes = dict(serializer.validated_data)
    for name in drop:
        changes.pop(name, None)
    reason = changes.pop("reason", None)
    try:
        updated = service(expected_version=expected, reason=reason, **service_kwargs, **changes)
    except stale as error:
        current = cast(StaleRecord, error).current
        return problem_response(
            412, "Precondition failed", str(error), headers={"ETag": etag_for(current)}
        )
    return Response(render(updated), headers={"ETag": etag_for(updated)})


class VivologViewSetMixin:
    """Conventions shared by every resource. Put it first in the bases."""

    idempotency_required = False

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        metadata: dict[str, Any] = {"client": ClientKind.API}
        if request.user and request.user.is_authenticated:
            metadata["user_id"] = request.user.pk
            metadata["username"] = request.user.get_username()
        if request.auth is not None and hasattr(request.auth, "prefix"):
            metadata["token"] = f"{type(request.auth).__name__}:{request.auth.prefix}"
        # Called, not entered: adds to the request's audit context (entered by
        # AuditContextMiddleware) for the rest of this request.
        pghistory.context(**metadata)
        if request.method == "POST":
            # DRF looks the handler up after initial(); wrapping it here puts the handler and
            # the stored response in one transaction with the idempotency record.
            handler = getattr(self, "post", None)
            if handler is not None:
                self.post = self._idempotent(handler)

    def _idempotent(self, handler: Callable[..., Response]) -> Callable[..., HttpResponse]:
        def wrapped(request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
            key = request.headers.get("Idempotency-Key", "").strip()
            if not key:
                if self.idempotency_required:
                    from rest_framework.exceptions import ValidationError

                    raise ValidationError(
                        {"Idempotency-Key": "This endpoint requires an Idempotency-Key header."}
                    )
                return handler(request, *args, **kwargs)
            if len(key) > 200:
                from rest_framework.exceptions import ValidationError

                raise ValidationError({"Idempotency-Key": "At most 200 characters."})
            scope = idempotency_scope(request)
            body_hash = request_body_sha256(request)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
                        [f"idempotency:{scope}:{key}"],
                    )
                    (acquired,) = cursor.fetchone()
                if not acquired:
                    raise IdempotencyConflict()
                existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
                if existing is not None:
                    if existing.body_sha256 != body_hash or existing.path != request.path:
                        raise IdempotencyMismatch()
                    replay = HttpResponse(
                        bytes(existing.response_body),
                        status=existing.response_status,
                        content_type=existing.response_content_type,
                    )
                    replay["Idempotent-Replayed"] = "true"
                    return replay
                response: Response = handler(request, *args, **kwargs)
                response = self.finalize_response(request, response, *args, **kwargs)  # type: ignore[attr-defined]
                response.render()
                if 200 <= response.status_code < 300:
                    IdempotencyRecord.objects.create(
                        scope=scope,
                        key=key,
                        method=request.method or "POST",
                        path=request.path,
                        body_sha256=body_hash,
                        response_status=response.status_code,
                        response_body=response.content,
                        response_content_type=response.get("Content-Type", "application/json"),
                    )
                else:
                    transaction.set_rollback(True)
                return response

        return wrapped

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        serializer = self.get_serializer(instance)  # type: ignore[attr-defined]
        headers = {"ETag": etag_for(instance)} if hasattr(instance, "row_version") else {}
        return Response(serializer.data, headers=headers)

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Every recorded change of this object: who, when, field, old → new, why."""
        instance = self.get_object()  # type: ignore[attr-defined]
        entries = history_for(instance)
        # many=True takes a list; the DRF stubs type the first argument as one instance.
        return Response(HistoryEntrySerializer(entries, many=True).data)  # type: ignore[arg-type]


class ReasonField(serializers.CharField):
    """The reason for a change: required for any change after first entry."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 500)
        kwargs.setdefault("help_text", "Why this change is made (required when changing data).")
        super().__init__(**kwargs)
