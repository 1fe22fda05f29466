"""CSP with nonces, cookie flags, idle/absolute session limits, deactivated users' sessions."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from planner.models import SecurityEvent, SecurityEventKind
from planner.security.middleware import SESSION_LAST_SEEN, SESSION_STARTED
from planner.services.security import deactivate_user
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _login(user: Any) -> Client:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    return client


def _directives(header: str) -> dict[str, list[str]]:
    return {
        part.split()[0]: part.split()[1:]
        for part in (chunk.strip() for chunk in header.split(";"))
        if part
    }


def test_csp_header_carries_a_nonce_and_no_unsafe_inline_when_a_page_is_served() -> None:
    response = Client().get("/accounts/login/")
    directives = _directives(response["Content-Security-Policy"])
    assert directives["default-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    for name in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in directives[name]
        assert "'unsafe-eval'" not in directives[name]
    assert b"<script>" not in response.content


def test_api_docs_inline_code_carries_the_response_nonce(scientist: Any) -> None:
    client = _login(scientist)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    directives = _directives(response["Content-Security-Policy"])
    nonces = [value for value in directives["script-src"] if value.startswith("'nonce-")]
    assert len(nonces) == 1
    nonce = nonces[0][len("'nonce-") : -1]
    html = response.content.decode()
    assert f'<style nonce="{nonce}">' in html
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline_scripts and all(f'nonce="{nonce}"' in attrs for attrs in inline_scripts)
    assert nonce not in Client().get("/accounts/login/")["Content-Security-Policy"]


def test_session_cookie_is_httponly_and_both_cookies_samesite(
    scientist: Any, settings: Any
) -> None:
    client = Client()
    client.get("/accounts/login/")
    client.post("/accounts/login/", {"username": scientist.username, "password": TEST_PASSWORD})
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    csrf_cookie = client.cookies[settings.CSRF_COOKIE_NAME]
    assert session_cookie["httponly"] is True
    for cookie in (session_cookie, csrf_cookie):
        assert cookie["samesite"] == "Lax"
        assert not cookie["secure"]


def test_cookies_are_secure_when_secure_cookies_are_configured(
    scientist: Any, settings: Any
) -> None:
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = Client()
    client.post("/accounts/login/", {"username": scientist.username, "password": TEST_PASSWORD})
    assert client.cookies[settings.SESSION_COOKIE_NAME]["secure"] is True
    assert client.cookies[settings.CSRF_COOKIE_NAME]["secure"] is True


def _age_session(client: Client, **shift_seconds: float) -> None:
    session = client.session
    for key, seconds in shift_seconds.items():
        session[{"started": SESSION_STARTED, "last_seen": SESSION_LAST_SEEN}[key]] = (
            time.time() - seconds
        )
    session.save()


def test_session_ends_when_idle_longer_than_the_limit(scientist: Any, settings: Any) -> None:
    client = _login(scientist)
    _age_session(client, last_seen=settings.VIVOLOG_SESSION_IDLE_SECONDS - 120)
    assert client.get("/studies/").status_code == 200
    _age_session(client, last_seen=settings.VIVOLOG_SESSION_IDLE_SECONDS + 5)
    response = client.get("/studies/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fstudies%2F"
    assert client.get("/studies/").status_code == 302
    event = SecurityEvent.objects.get(kind=SecurityEventKind.SESSION_EXPIRED, user=scientist)
    assert "without activity" in event.detail["why"]


def test_session_ends_at_the_absolute_limit_even_when_active(scientist: Any, settings: Any) -> None:
    client = _login(scientist)
    _age_session(client, started=settings.VIVOLOG_SESSION_MAX_SECONDS + 5, last_seen=1)
    response = client.get("/studies/")
    assert response.status_code == 302
    event = SecurityEvent.objects.get(kind=SecurityEventKind.SESSION_EXPIRED, user=scientist)
    assert "hours after you logged in" in event.detail["why"]


def test_deactivating_a_user_ends_their_sessions_at_once(scientist: Any, qa_user: Any) -> None:
    client = _login(scientist)
    other_device = _login(scientist)
    assert client.get("/studies/").status_code == 200
    ended = deactivate_user(user=scientist, reason="left the lab", by=qa_user)
    assert ended == 2
    assert client.get("/studies/").status_code == 302
    assert other_device.get("/studies/").status_code == 302
    event = SecurityEvent.objects.get(kind=SecurityEventKind.USER_DEACTIVATED)
    assert event.user == scientist and event.detail["reason"] == "left the lab"
    assert event.detail["sessions_ended"] == 2


def test_user_deactivated_elsewhere_is_logged_out_on_the_next_request(scientist: Any) -> None:
    client = _login(scientist)
    type(scientist).objects.filter(pk=scientist.pk).update(is_active=False)
    response = client.get("/studies/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not any(
        session.get_decoded().get("_auth_user_id") == str(scientist.pk)
        for session in Session.objects.all()
    )
    assert SecurityEvent.objects.filter(
        kind=SecurityEventKind.SESSION_EXPIRED, detail__why="user deactivated"
    ).exists()
