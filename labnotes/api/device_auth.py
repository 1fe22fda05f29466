"""Device-token authentication, the per-token rate limit and the action permission.

``Authorization: Token vd_<prefix>_<secret>``. Only the device endpoints list
:class:`DeviceTokenAuthentication`; everywhere else a device token authenticates nothing (401),
so an instrument can never read arm labels, sign or change existing records. A device request
acts as the token's owner (who created it) and is audited with the token's prefix.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request

from labnotes.models import DeviceToken
from labnotes.services.instruments import TOKEN_ISSUERS, TOKEN_PREFIX
from planner.api.authentication import hash_token
from planner.api.conventions import VivologViewSetMixin
from planner.models import Membership

KEYWORDS = ("Token", "Bearer")


class NotOffered:
    """A class attribute that is absent to ``hasattr``: hides an inherited view method (the
    conventions mixin's ``retrieve`` and ``history``) so the router makes no route for it."""

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        raise AttributeError("not offered to devices")


class DeviceTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "labnotes.api.device_auth.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Token vd_<prefix>_<secret>: a device token (shown once at creation).",
        }


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    """Accept a live device token: unknown, revoked or expired answers 401, and so does a
    token whose owner is deactivated or no longer holds a role that may issue device tokens
    in the token's lab (``TOKEN_ISSUERS``, the rule of ``create_device_token``): a token
    never outlives its owner's authority. The role is read in the token's lookup query
    (an ``EXISTS``), so authentication stays one query."""

    def authenticate(self, request: Request) -> tuple[Any, DeviceToken] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        parts = header.split()
        if len(parts) != 2 or parts[0] not in KEYWORDS:
            return None
        raw = parts[1]
        if not raw.startswith(TOKEN_PREFIX):
            raise exceptions.AuthenticationFailed("This endpoint takes a device token (vd_…).")
        token = (
            DeviceToken.objects.select_related("created_by", "lab", "run__study", "instrument")
            .annotate(
                owner_may_issue=Exists(
                    Membership.objects.filter(
                        user_id=OuterRef("created_by_id"),
                        lab_id=OuterRef("lab_id"),
                        role__in=TOKEN_ISSUERS,
                    )
                )
            )
            .filter(key_hash=hash_token(raw))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown device token.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This device token was revoked.")
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("This device token has expired.")
        if not token.created_by.is_active:
            raise exceptions.AuthenticationFailed(
                f"This device token stopped working: its owner {token.created_by.get_username()} "
                "was deactivated. A lab admin or study director issues a new one."
            )
        if not getattr(token, "owner_may_issue", False):
            raise exceptions.AuthenticationFailed(
                f"This device token stopped working: its owner {token.created_by.get_username()} "
                "is no longer a lab admin or study director of this lab. A lab admin or study "
                "director issues a new one."
            )
        return token.created_by, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"


def device_token(request: Request) -> DeviceToken:
    token = request.auth
    if not isinstance(token, DeviceToken):
        raise exceptions.NotAuthenticated("A device token is required.")
    return token


class IsDevice(permissions.BasePermission):
    """A device token authenticated the request, and it holds the view's ``device_action``
    (a view may name it per request with ``device_action_for(request)``)."""

    message = "This device token may not do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, DeviceToken):
            return False
        chooser = getattr(view, "device_action_for", None)
        needed = chooser(request) if chooser is not None else getattr(view, "device_action", None)
        if needed is None:
            return True
        needed_all = (needed,) if isinstance(needed, str) else tuple(needed)
        missing = [action for action in needed_all if action not in token.actions]
        if missing:
            self.message = f"This device token may not {', '.join(missing)}."
            return False
        return True


class DeviceTokenRateThrottle(throttling.BaseThrottle):
    """``rate_limit_per_minute`` requests per token and clock minute (default
    ``VIVOLOG_DEVICE_RATE_PER_MINUTE``), counted in PostgreSQL so every web process shares the
    count; over it, 429 with ``Retry-After`` (seconds to the next minute). Also stamps the
    token's ``last_used_at`` (once per minute)."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, DeviceToken):
            return True
        now = timezone.now()
        window = now.replace(second=0, microsecond=0)
        limit = token.rate_limit_per_minute or settings.VIVOLOG_DEVICE_RATE_PER_MINUTE
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO labnotes_devicetokenwindow (token_id, window_start, requests) "
                "VALUES (%s, %s, 1) ON CONFLICT (token_id, window_start) "
                "DO UPDATE SET requests = labnotes_devicetokenwindow.requests + 1 "
                "RETURNING requests",
                [token.pk, window],
            )
            (count,) = cursor.fetchone()
            if count == 1:
                cursor.execute(
                    "UPDATE labnotes_devicetoken SET last_used_at = %s WHERE id = %s",
                    [now, token.pk],
                )
                cursor.execute(
                    "DELETE FROM labnotes_devicetokenwindow "
                    "WHERE token_id = %s AND window_start < %s",
                    [token.pk, window - dt.timedelta(hours=1)],
                )
        if count > limit:
            self._wait = max(1.0, (window + dt.timedelta(minutes=1) - now).total_seconds())
            return False
        return True

    def wait(self) -> float | None:
        return self._wait


class DeviceUploadViewSet(VivologViewSetMixin, viewsets.ViewSet):
    """What every device upload endpoint shares: device tokens only, their rate limit, multipart
    bodies, Idempotency-Key required, no history or detail routes. Subclasses name the
    ``device_action`` the token must hold."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceTokenRateThrottle]
    parser_classes = [MultiPartParser, FormParser]
    idempotency_required = True
    history = NotOffered()
    retrieve = NotOffered()
