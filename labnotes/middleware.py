"""Turn the database's refusal of a write to a locked run (or archived study) into an answer.

The refusal comes from a trigger (``vivolog_refuse_locked_run``), so it reaches Django as a
``DatabaseError`` from wherever the write was: a page, the API, the admin. Pages get a 423 page
with the trigger's message ("run … is locked since … by …"), the API a problem+json 423. A
write to an archived study (``vivolog_refuse_archived_study``) is answered the same way.

This is the fallback: form pages and the grid wrap their writes in
``labnotes.services.locks.refusals_as_errors`` and show the refusal as a form error.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from labnotes.services.locks import database_refusal

LOCKED_STATUS = 423


class LockedRunMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        refusal = database_refusal(exception)
        if refusal is None:
            return None
        message = refusal.message
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "type": "about:blank",
                    "title": refusal.title,
                    "status": LOCKED_STATUS,
                    "detail": message,
                },
                status=LOCKED_STATUS,
                content_type="application/problem+json",
            )
        return render(
            request,
            "labnotes/lock_refused.html",
            {"message": message, "title": refusal.title},
            status=LOCKED_STATUS,
        )
