"""Content-Security-Policy in a real browser: no violation on any page of the demo.

Logs in as the demo's study director the way a person does (password, then the TOTP code of
the demo's published secret), walks every same-origin link it finds from the home page (the
admin included), and opens the API docs, whose Swagger UI must still render.
"""

from __future__ import annotations

from collections import deque
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import Page

from planner.security_demo import current_demo_code, ensure_demo_second_factor

pytestmark = pytest.mark.django_db(transaction=True)

MAX_PAGES = 80
# Never followed: they change state or leave the HTML pages.
SKIPPED = ("/accounts/logout/", "/static/", "/media/", "/api/v1/", "/api/schema/", "/healthz")


def _csp_violations(page: Page) -> list[str]:
    return [
        message.text
        for message in page.console_messages(filter="all")
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
    ]


def _same_origin_links(page: Page, origin: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    links = []
    for href in hrefs:
        url = urldefrag(href).url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith(SKIPPED) or "format=" in parts.query or "delete" in parts.path:
            continue
        links.append(path)
    return links


@pytest.fixture
def demo_director(settings: Any) -> Any:
    settings.VIVOLOG_OTP_REQUIRED_ROLES = ("study_director", "qa", "lab_admin")
    call_command("load_demo", verbosity=0)
    users = {u.username: u for u in get_user_model().objects.all()}
    ensure_demo_second_factor(users)
    return users["director"]


def test_no_page_of_the_demo_violates_the_content_security_policy(
    page: Page, live_server: Any, demo_director: Any
) -> None:
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(demo_director.username)
    page.get_by_label("Password").fill("vivolog-demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/accounts/second-factor/verify/**")
    page.get_by_label("Six-digit code from your authenticator app").fill(current_demo_code())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{base}/")

    header = page.request.get(f"{base}/").headers["content-security-policy"]
    # Pages with no inline code get no nonce at all (django-csp adds one only when used).
    assert "script-src 'self'" in header and "unsafe-inline" not in header

    seen: set[str] = set()
    server_errors: list[str] = []
    queue = deque(["/"])
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(f"{base}{path}")
        assert response is not None
        if response.status >= 500:
            server_errors.append(f"{path} answered {response.status}")
        queue.extend(link for link in _same_origin_links(page, base) if link not in seen)

    page.goto(f"{base}/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for(timeout=15_000)
    assert len(seen) >= 8, f"only {len(seen)} pages reached: {sorted(seen)}"
    assert not _csp_violations(page), _csp_violations(page)
    assert not server_errors, server_errors
