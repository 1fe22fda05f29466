"""Session limits and the second-factor gate.

``SessionSecurityMiddleware``: a session ends after ``VIVOLOG_SESSION_IDLE_SECONDS`` without a
request or ``VIVOLOG_SESSION_MAX_SECONDS`` after login, and at once when its user has been
deactivated (however that happened: the service, the admin, SQL).

``SecondFactorMiddleware``: a signed-in person who must use a second factor reaches nothing but
the enrolment and verification pages (and logout, static files, health) until verified.
Whether a second factor is required (a lab role, an enrolled device: two queries) is looked up
again each time the session's last-seen time moves on (at most a minute apart, when the session
is written anyway); in between, a "not required" answer is kept on the session for that user.
A raised role or a new device is therefore enforced within a minute. Nothing else is cached:
a deactivated user is logged out on the next request (authentication loads the user each time)
and a removed membership hides the lab's records at once (every selector scopes by it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from planner.models import SecurityEventKind

SESSION_STARTED = "vivolog_session_started"
SESSION_LAST_SEEN = "vivolog_session_last_seen"
#: ``[user id, last-seen time]`` of the last check that found no second factor required.
SECOND_FACTOR_CLEAR = "vivolog_second_factor_clear"
# Writing the session on every request costs a query; a minute of slack on the idle limit
# does not matter.
LAST_SEEN_RESOLUTION_SECONDS = 60


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _login_redirect(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {
                "type": "about:blank",
                "title": "Session ended",
                "status": 401,
                "detail": "Your session has ended; log in again.",
            },
            status=401,
            content_type="application/problem+json",
        )
    login_url = reverse(settings.LOGIN_URL)
    target = f"{login_url}?{urlencode({'next': request.get_full_path()})}"
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return HttpResponseRedirect(target)


class SessionSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from planner.services.security import record_security_event

        session = request.session
        user = request.user
        if not user.is_authenticated:
            if session.get(SESSION_KEY) is not None and session.get(BACKEND_SESSION_KEY):
                # A session naming a user whom authentication no longer accepts: deactivated.
                record_security_event(
                    kind=SecurityEventKind.SESSION_EXPIRED,
                    request=request,
                    username=str(session.get(SESSION_KEY)),
                    detail={"why": "user deactivated", "user_id": session.get(SESSION_KEY)},
                )
                session.flush()
                messages.warning(request, "Your account has been deactivated; you were logged out.")
                return _login_redirect(request)
            return self.get_response(request)

        now = time.time()
        started = session.get(SESSION_STARTED)
        last_seen = session.get(SESSION_LAST_SEEN)
        if started is None:
            session[SESSION_STARTED] = started = now
        if last_seen is None:
            session[SESSION_LAST_SEEN] = last_seen = now
        idle = now - float(last_seen)
        age = now - float(started)
        why = None
        if idle > settings.VIVOLOG_SESSION_IDLE_SECONDS:
            minutes = settings.VIVOLOG_SESSION_IDLE_SECONDS // 60
            why = f"after {minutes} minutes without activity"
        elif age > settings.VIVOLOG_SESSION_MAX_SECONDS:
            hours = settings.VIVOLOG_SESSION_MAX_SECONDS / 3600
            why = f"{hours:g} hours after you logged in"
        if why is not None:
            record_security_event(
                kind=SecurityEventKind.SESSION_EXPIRED,
                user=user,
                request=request,
                detail={"why": why, "idle_seconds": round(idle), "age_seconds": round(age)},
            )
            # logout() would log a LOGOUT too; the session expiry is the event here.
            session.flush()
            request.user = AnonymousUser()
            messages.info(request, f"Your session ended {why}. Please log in again.")
            return _login_redirect(request)
        if now - float(last_seen) >= LAST_SEEN_RESOLUTION_SECONDS:
            session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


def _allowed_while_unverified(path: str) -> bool:
    allowed = (
        reverse("otp_verify"),
        reverse("otp_enrol"),
        reverse("logout"),
        reverse("healthz"),
    )
    static = "/" + settings.STATIC_URL.lstrip("/")
    return path in allowed or path.startswith(static)


def _pending(request: HttpRequest, check: Callable[[object], bool]) -> bool:
    """``check(request.user)``, or the session's remembered "not required" for this user while
    its last-seen time (set by ``SessionSecurityMiddleware``) has not moved on."""
    user = request.user
    session = request.session
    stamp = [user.pk, session.get(SESSION_LAST_SEEN)]
    if stamp[1] is not None and session.get(SECOND_FACTOR_CLEAR) == stamp:
        return False
    pending = check(user)
    if pending:
        session.pop(SECOND_FACTOR_CLEAR, None)
    elif session.get(SECOND_FACTOR_CLEAR) != stamp:
        session[SECOND_FACTOR_CLEAR] = stamp
    return pending


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from planner.services.security import second_factor_pending

        user = request.user
        if (
            user.is_authenticated
            and not _allowed_while_unverified(request.path)
            and _pending(request, second_factor_pending)
        ):
            if _is_api(request):
                return JsonResponse(
                    {
                        "type": "about:blank",
                        "title": "Second factor required",
                        "status": 403,
                        "detail": "Verify your authenticator code in the browser first.",
                    },
                    status=403,
                    content_type="application/problem+json",
                )
            from django_otp.plugins.otp_totp.models import TOTPDevice

            has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            target = reverse("otp_verify" if has_device else "otp_enrol")
            return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
