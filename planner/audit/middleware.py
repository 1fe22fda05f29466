"""Request id and audit context for every page, API and admin request."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from planner.audit import ClientKind, audit_context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def client_kind_for(path: str) -> str:
    if path.startswith("/api/"):
        return ClientKind.API
    if path.startswith("/admin/"):
        return ClientKind.ADMIN
    return ClientKind.WEB


class RequestIdMiddleware:
    """Give each request an id (a well-formed incoming ``X-Request-ID`` is kept) and echo it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class AuditContextMiddleware:
    """Every write made while serving a request is attributed to its user, request and client.

    API requests authenticated by token are attributed again once DRF has authenticated them
    (see ``planner.api.conventions.AuditedAPIView.initial``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        metadata: dict[str, object] = {
            "request_id": getattr(request, "request_id", None),
            "client": client_kind_for(request.path),
            "url": request.path[:500],
        }
        if user is not None and user.is_authenticated:
            metadata["user_id"] = user.pk
            metadata["username"] = user.get_username()
        with audit_context(**metadata):
            return self.get_response(request)
