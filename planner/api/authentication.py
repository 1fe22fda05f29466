"""Token authentication for people: ``Authorization: Token vl_<prefix>_<secret>``.

Only a SHA-256 of the token is stored; the token itself is shown once at creation.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from planner.models import PersonalToken


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, PersonalToken] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword or not parts[1].startswith("vl_"):
            return None
        token = (
            PersonalToken.objects.select_related("user")
            .filter(key_hash=hash_token(parts[1]))
            .first()
        )
        now = timezone.now()
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("This token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is deactivated.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
