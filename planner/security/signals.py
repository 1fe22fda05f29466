"""Django's authentication signals → the security log (logins, failures, logouts, lockouts).

Receivers, not services: these events are raised by django.contrib.auth and django-axes,
which offer no other hook. They only append to the log.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from planner.models import SecurityEventKind


@receiver(user_logged_in, dispatch_uid="vivolog_security_login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from planner.services.security import record_security_event

    record_security_event(kind=SecurityEventKind.LOGIN, user=user, request=request)


@receiver(user_logged_out, dispatch_uid="vivolog_security_logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from planner.services.security import record_security_event

    if user is not None:
        record_security_event(kind=SecurityEventKind.LOGOUT, user=user, request=request)


@receiver(user_login_failed, dispatch_uid="vivolog_security_login_failed")
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    from planner.services.security import record_security_event

    username = str(credentials.get("username", ""))
    record_security_event(kind=SecurityEventKind.LOGIN_FAILED, username=username, request=request)


try:
    from axes.signals import user_locked_out
except ImportError:  # pragma: no cover - django-axes is a dependency; keep imports cheap
    user_locked_out = None

if user_locked_out is not None:

    @receiver(user_locked_out, dispatch_uid="vivolog_security_lockout")
    def _locked_out(
        sender: Any, request: Any, username: str, ip_address: str, **kwargs: Any
    ) -> None:
        from planner.services.security import record_security_event

        record_security_event(
            kind=SecurityEventKind.LOCKOUT,
            username=username or "",
            request=request,
            detail={"ip": ip_address},
        )


@receiver(user_logged_in, dispatch_uid="vivolog_security_session_start")
def _start_session_clock(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """The absolute session limit counts from the login, not from the session's creation."""
    import time

    from planner.security.middleware import SESSION_LAST_SEEN, SESSION_STARTED

    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SESSION_STARTED] = now
        request.session[SESSION_LAST_SEEN] = now
