"""Downloading a stored file: reached only through the reader's labs (404 for anyone else)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from labnotes.selectors import list_stored_files_for_user
from labnotes.services.files import StoredFileCorrupted, read_file
from planner.types import AuthenticatedHttpRequest

# Types a browser may show inline; everything else is downloaded (an HTML or SVG file shown
# inline would run in our origin).
_INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/tiff", "text/plain"}


@login_required
@require_GET
def file_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    stored = get_object_or_404(list_stored_files_for_user(request.user), pk=pk)
    try:
        content = read_file(stored)
    except StoredFileCorrupted as error:
        return HttpResponse(str(error), status=500, content_type="text/plain; charset=utf-8")
    inline = stored.content_type in _INLINE_TYPES and request.GET.get("download") != "1"
    response = HttpResponse(
        content, content_type=stored.content_type if inline else "application/octet-stream"
    )
    response["Content-Disposition"] = (
        content_disposition_header(not inline, stored.original_filename) or "attachment"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600, immutable"
    response["ETag"] = f'"{stored.sha256}"'
    return response
