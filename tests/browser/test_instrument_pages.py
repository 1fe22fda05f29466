"""Instrument pages in headless Chromium: register a balance past calibration, see it flagged,
record a passing daily check, and create a device token whose secret is shown once."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from labnotes.models import DeviceToken, Instrument, InstrumentCheck
from labnotes.services.runs import start_study_run
from tests.browser.test_page_kit import log_in
from tests.labnotes.builders import build_design
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@LIVE
def test_register_check_and_issue_a_token(page: Page, live_server: Any, lab: Any) -> None:
    design = build_design(lab=lab)
    run = start_study_run(
        study=design.study,
        code="RUN-1",
        day0=timezone.localdate() - dt.timedelta(days=5),
        started_by=design.director,
    )
    base = live_server.url
    log_in(page, base, design.director, next_path="/lab/instruments/")
    assert_accessible(page)
    page.get_by_label("Kind").select_option("balance")
    page.get_by_label("Name").fill("Balance 1")
    page.get_by_label("Serial number").fill("BAL-1138")
    page.get_by_label("Calibration due on").fill(
        (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    )
    page.get_by_label("Check standard value").fill("20")
    page.get_by_label("Check tolerance").fill("0.01")
    page.get_by_label("Check unit").fill("g")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Balance 1 registered.")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="calibration overdue")).to_be_visible()
    page.get_by_label("Observed value").fill("20.004")
    page.get_by_role("button", name="Record today's check").click()
    expect(page.get_by_text("Check recorded: passed.")).to_be_visible()
    check = InstrumentCheck.objects.get()
    assert check.passed and check.observed_value == Decimal("20.004")
    assert Instrument.objects.get().serial_number == "BAL-1138"
    assert_accessible(page)
    screenshot(page, "instrument-detail")

    page.goto(f"{base}/lab/instruments/")
    expect(page.get_by_role("cell", name="Calibration overdue")).to_be_visible()
    screenshot(page, "instrument-list")

    page.goto(f"{base}/lab/device-tokens/")
    assert_accessible(page)
    page.get_by_label("Name").fill("Balance 1 bridge")
    page.get_by_label("Run").select_option(str(run.pk))
    page.get_by_label("Post body weights").check()
    page.get_by_label("Read the task list").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("Token").input_value()
    assert secret.startswith("vd_")
    token = DeviceToken.objects.get()
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert sorted(token.actions) == ["post_weights", "read_tasks"]
    assert_accessible(page)
    screenshot(page, "device-token-created")
    page.goto(f"{base}/lab/device-tokens/")
    assert secret not in page.content()
    page.get_by_label("Reason for revoking Balance 1 bridge").fill("Bridge replaced")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Token Balance 1 bridge revoked.")).to_be_visible()
    assert DeviceToken.objects.get().revoked_at is not None
    screenshot(page, "device-token-list")
    assert not console_errors(page)
