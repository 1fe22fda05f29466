"""Capture follow-ups in headless Chromium: the weight-loss projection on the endpoint page and
the observation sheet, and the lab's capture settings page used with the keyboard only."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from labnotes.models import CaptureSettings
from labnotes.services.measurements import record_measurement
from tests.browser.test_page_kit import log_in
from tests.factories import MembershipFactory, UserFactory
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@LIVE
def test_weight_projection_shows_days_to_the_weight_loss_limit(
    page: Page, live_server: Any, lab: Any
) -> None:
    from tests.labnotes.test_welfare_services import at_day, welfare_run

    w = welfare_run(lab)
    animal = w.animals[0]
    # Baseline 20.0 g on the treatment start (day 7); 19.0, 18.4, 17.8 g on days 9, 11, 13:
    # losses 5, 8, 11 % → 1.5 %/day, the 20 % limit 9 % further: 6.0 days after day 13.
    for day, grams in ((7, "20.0"), (9, "19.0"), (11, "18.4"), (13, "17.8")):
        record_measurement(
            animal=animal, weight_g=grams, taken_at=at_day(w, day), operator=w.technician
        )
    errors = console_errors(page)
    log_in(page, live_server.url, w.technician, next_path=f"/animals/{animal.pk}/endpoint/")
    trend = page.locator(".weight-projection")
    expect(trend).to_contain_text("6.0 days to the limit")
    expect(trend).to_contain_text("weight loss 11.0 %; the limit of 20 % in about 6.0 days")
    assert_accessible(page)
    screenshot(page, "endpoint-weight-projection")

    page.goto(f"{live_server.url}/runs/{w.run.pk}/observations/")
    row = page.locator(f"#row-a{animal.pk}")
    expect(row).to_contain_text("weight limit in 6.0 d")
    expect(page.locator(f"#row-a{w.animals[1].pk}")).not_to_contain_text("weight limit")
    assert_accessible(page)
    screenshot(page, "observation-sheet-weight-projection")
    assert errors == []


@LIVE
def test_lab_admin_changes_capture_settings_with_the_keyboard(
    page: Page, live_server: Any, lab: Any
) -> None:
    admin = UserFactory()  # type: ignore[no-untyped-call]
    MembershipFactory(user=admin, lab=lab, role="lab_admin")  # type: ignore[no-untyped-call]
    errors = console_errors(page)
    log_in(page, live_server.url, admin, next_path="/lab/capture-settings/")
    expect(page.get_by_role("heading", name="Capture settings of")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "capture-settings")

    page.get_by_label("Scanned tag prefix").focus()
    page.keyboard.type("#")
    page.get_by_label("Largest plausible caliper axis (mm)").focus()
    page.keyboard.press("Control+a")
    page.keyboard.type("0,5")  # decimal comma read; below the smallest axis: refused
    page.get_by_label("Reason for the change").focus()
    page.keyboard.type("scanners now send #")
    page.keyboard.press("Enter")
    expect(page.get_by_text("There is a problem")).to_be_visible()
    expect(page.get_by_role("link", name="must not be below the smallest")).to_be_visible()
    assert not CaptureSettings.objects.exists()
    assert_accessible(page)
    screenshot(page, "capture-settings-refused")

    page.get_by_label("Largest plausible caliper axis (mm)").focus()
    page.keyboard.press("Control+a")
    page.keyboard.type("35")
    page.get_by_label("Reason for the change").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Capture settings saved.")).to_be_visible()
    saved = CaptureSettings.objects.get(lab=lab)
    assert saved.tag_prefix == "#" and str(saved.axis_max_mm) == "35.00"
    assert errors == []
