"""Login lockout (django-axes): per username and per IP + username, logged, with a clear page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from planner.models import SecurityEvent, SecurityEventKind
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _attempt(user: Any, password: str, ip: str = "192.0.2.10") -> Any:
    return Client(REMOTE_ADDR=ip).post(
        "/accounts/login/", {"username": user.username, "password": password}
    )


def test_account_is_locked_after_five_failures_even_with_the_right_password(
    scientist: Any, settings: Any
) -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _attempt(scientist, "wrong").status_code == 200
    locked = _attempt(scientist, "wrong")
    assert locked.status_code == 429
    assert b"Login temporarily locked" in locked.content
    right_password = _attempt(scientist, TEST_PASSWORD)
    assert right_password.status_code == 429
    from_elsewhere = _attempt(scientist, TEST_PASSWORD, ip="198.51.100.7")
    assert from_elsewhere.status_code == 429
    assert (
        SecurityEvent.objects.filter(
            kind=SecurityEventKind.LOGIN_FAILED, username=scientist.username
        ).count()
        >= 5
    )
    lockout = SecurityEvent.objects.filter(kind=SecurityEventKind.LOCKOUT).order_by("id").first()
    assert lockout.username == scientist.username
    assert lockout.ip == "192.0.2.10"


def test_other_users_on_the_same_address_can_still_log_in(scientist: Any, technician: Any) -> None:
    for _ in range(5):
        _attempt(scientist, "wrong")
    assert _attempt(technician, TEST_PASSWORD).status_code == 302


def test_success_before_the_limit_resets_the_count(scientist: Any) -> None:
    for _ in range(4):
        _attempt(scientist, "wrong")
    assert _attempt(scientist, TEST_PASSWORD).status_code == 302
    for _ in range(4):
        _attempt(scientist, "wrong")
    assert _attempt(scientist, TEST_PASSWORD).status_code == 302
    assert not SecurityEvent.objects.filter(kind=SecurityEventKind.LOCKOUT).exists()
