"""Pages show times in the lab's time zone, never the server's UTC."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from planner.selectors import get_current_lab


def in_lab_time_zone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render ``view``'s page with the times (``|date``, ``|time``) in the zone of the lab the
    user works in now — the lab the page header names. ``get_current_lab`` is cached on the
    request and read by the header anyway, so this costs no query."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lab = get_current_lab(request)
        with timezone.override(lab.zone if lab is not None else None):
            return view(request, *args, **kwargs)

    return wrapper
