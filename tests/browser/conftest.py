"""Browser test fixtures: Debian's Chromium through sync Playwright.

The fixtures are named ``browser`` and ``page`` like pytest-playwright's; the suite runs with
``-p no:playwright`` (pytest addopts) so only these exist. Were the plugin loaded, these would
still win: a conftest fixture shadows a plugin fixture of the same name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.browser import launch_chromium

BROWSER_TESTS_DIR = Path(__file__).resolve().parent

# Assertions wait up to 15 s for the page to get there (Playwright's default is 5 s): a saved
# cell's status follows two requests, which on a loaded two-core machine took longer than 5 s.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_TESTS_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package", autouse=True)
def _allow_orm_beside_playwright() -> Iterator[None]:
    """Let Django use the database in this thread while Playwright's event loop runs in it.

    Sync Playwright keeps an asyncio loop marked as running in the main thread, so Django
    refuses ORM calls there (SynchronousOnlyOperation): our factories, pytest-django's test
    database set-up (which may happen lazily, inside the first browser test) and its flush at
    teardown. The code is synchronous and merely shares the thread, so the check is switched
    off while the browser tests run, and on again when the package is done.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def browser(_allow_orm_beside_playwright: None) -> Iterator[Browser]:
    """One Chromium for the browser tests.

    Package-scoped rather than session-scoped: Playwright's event loop stops when the browser
    tests are done, so the rest of the suite keeps Django's async-safety check.
    """
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh context (no cookies) with a 1024x768 viewport, tablet landscape.

    Console messages and uncaught exceptions: Playwright (1.56+) already records them, read with
    ``page.console_messages()`` / ``page.page_errors()``, or ``console_errors(page)`` from
    ``tests.support.browser``. A list attribute of that name would shadow the method.
    """
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-GB")
    try:
        yield context.new_page()
    finally:
        context.close()
