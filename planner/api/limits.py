"""Request size limits: refuse an oversized body before reading it, naming the limit."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from planner.api.problems import PROBLEM_CONTENT_TYPE, PayloadTooLarge


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.VIVOLOG_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            body = {
                "type": "about:blank",
                "title": "Request too large",
                "status": 413,
                "detail": f"The request body is {length} bytes; the limit is {limit} bytes "
                f"(VIVOLOG_MAX_REQUEST_BYTES).",
            }
            return HttpResponse(json.dumps(body), status=413, content_type=PROBLEM_CONTENT_TYPE)
        return self.get_response(request)


def enforce_row_limit(count: int) -> None:
    """Refuse a bulk request with more rows than the configured limit (413, limit named)."""
    limit = settings.VIVOLOG_MAX_BULK_ROWS
    if count > limit:
        raise PayloadTooLarge(
            f"The request has {count} rows; the limit is {limit} rows per request "
            f"(VIVOLOG_MAX_BULK_ROWS). Split it into smaller batches."
        )
