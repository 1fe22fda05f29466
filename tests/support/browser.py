"""Playwright helpers for the browser tests: Debian's Chromium, axe-core checks, screenshots.

Playwright's own browser download cannot work on our machines, so we drive the distribution's
``/usr/bin/chromium`` (see ``require_chromium``) with the flags that keep it off the network.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.requirements import REPO_ROOT, require_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

AXE_SCRIPT = REPO_ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOT_DIR = REPO_ROOT / "var" / "screenshots"

# Without the background-networking, component-update and sync switches Debian's Chromium keeps
# trying to reach Google's servers. The profile is not passed here: Playwright's launch() already
# gives every browser a fresh temporary --user-data-dir, deletes it on close, and refuses a
# --user-data-dir in args (that is launch_persistent_context's job, which would share one
# context, cookies included, across tests).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def launch_chromium(playwright: Playwright, *, headless: bool = True) -> Browser:
    """Launch Debian's Chromium headless; skip (error under CI) when it is not installed."""
    executable = require_chromium()
    return playwright.chromium.launch(
        executable_path=executable, headless=headless, args=list(CHROMIUM_ARGS)
    )


def console_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions since the page opened, as text.

    Uses the records Playwright (1.56+) keeps per page (the last 200 of each), across
    navigations, so ``assert not console_errors(page)`` covers the whole test.
    """
    errors = [
        f"console: {message.text}"
        for message in page.console_messages(filter="all")
        if message.type == "error"
    ]
    errors += [f"uncaught: {error}" for error in page.page_errors(filter="all")]
    return errors


def run_axe(page: Page, options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now and return its violations."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # From the server's own static files: a same-origin script passes our CSP, which
        # refuses the inline <script> that add_script_tag(path=...) would insert.
        origin = page.evaluate("() => location.origin")
        try:
            page.add_script_tag(url=f"{origin}/static/vendor/axe-core/axe.min.js")
        except Exception:  # not served here (a file:// page): inline it instead
            page.add_script_tag(path=str(AXE_SCRIPT))
    if not page.evaluate("() => typeof window.axe === 'object'"):
        raise AssertionError(
            f"axe-core did not load from {AXE_SCRIPT}: a Content-Security-Policy refuses the "
            "injected script; open this page in a context created with bypass_csp=True"
        )
    run_options = {"resultTypes": ["violations"], **(options or {})}
    violations: list[dict[str, Any]] = page.evaluate(
        "async (options) => (await window.axe.run(document, options)).violations", run_options
    )
    return violations


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} [{violation.get('impact') or 'no impact'}]: "
            f"{violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            html = node.get("html", "").replace("\n", " ")
            lines.append(f"    at {target}: {html[:160]}")
            summary = (node.get("failureSummary") or "").strip().replace("\n", " / ")
            if summary:
                lines.append(f"       {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Page, options: dict[str, Any] | None = None) -> None:
    """Fail listing every axe-core violation (rule, impact, help, nodes) on the current page.

    ``options`` go to ``axe.run`` (e.g. ``{"runOnly": ["wcag2a", "wcag2aa"]}``); by default every
    rule that axe enables is checked, best practices included.
    """
    violations = run_axe(page, options)
    if violations:
        raise AssertionError(
            f"{len(violations)} accessibility violation(s) on {page.url}:\n"
            + format_violations(violations)
        )


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG under var/screenshots/ for a human to look at; return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    safe_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "page"
    path = SCREENSHOT_DIR / f"{safe_name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
