"""django-axes' lockout check as an authentication backend."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """Refuse a locked-out username (or IP + username) before any password is checked.

    Every login over HTTP passes the request (Django's LoginView does). A call without one
    (the test client's ``login()``, a shell) has no IP to lock and no lockout response to
    show, so the check is skipped instead of raising: failures are still counted and
    logged via ``user_login_failed``.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username=username, password=password, **kwargs)
        return None
