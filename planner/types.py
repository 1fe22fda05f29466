"""Shared typing helpers for the web layer (no runtime behaviour)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request a ``@login_required`` view receives: its ``user`` is a logged-in ``User``.

    Used only in annotations; Django still passes a plain :class:`~django.http.HttpRequest`.
    """

    user: User
