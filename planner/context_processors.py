from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from planner.selectors import get_current_lab


def vivolog(request: HttpRequest) -> dict[str, object]:
    return {
        "vivolog_version": settings.VIVOLOG_VERSION,
        "current_lab": get_current_lab(request),
    }
