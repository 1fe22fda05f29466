"""The grid's "instrument in use" in headless Chromium: a value weighed on a balance past its
calibration date is saved and flagged in its cell (icon and words), and after the lab admin
switches the rule to "refuse" the next value is not saved, the cell naming the instrument."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from labnotes.models import Measurement, ReadingFlag
from labnotes.services.instruments import create_instrument, set_unqualified_policy
from tests.browser.test_grid_page import build_room, cell_id, wedge
from tests.browser.test_page_kit import log_in
from tests.labnotes.conftest import design, run  # noqa: F401  (fixtures)
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@LIVE
def test_flagged_value_shows_in_its_cell_and_refused_value_names_the_instrument(
    page: Page,
    live_server: Any,
    design: Any,  # noqa: F811
    run: Any,  # noqa: F811
) -> None:
    from planner.models import Membership, Role

    animals = build_room(design, run, 3)
    create_instrument(
        lab=design.lab,
        kind="balance",
        name="Balance 3 (spare)",
        serial_number="BAL-0907",
        created_by=design.scientist,
        calibration_due_on=timezone.localdate() - dt.timedelta(days=12),
        daily_check_required=False,
    )
    log_in(page, live_server.url, design.technician, next_path=f"/runs/{run.pk}/grid/")
    page.get_by_label("Balance", exact=True).select_option(label="Balance 3 (spare) (BAL-0907)")
    page.get_by_role("button", name="Use these instruments").click()
    page.wait_for_function("() => document.querySelector('[data-grid]').dataset.gridReady")
    assert_accessible(page)

    page.locator(f"#{cell_id(animals[0], 'weight')}").click()
    wedge(page, "21.40")
    cell = page.locator(f"#{cell_id(animals[0], 'weight')}").locator("xpath=..")
    flag = cell.locator("[data-grid-flag]")
    expect(flag).to_have_text("\u2691 Flagged: Balance 3 (spare): calibration overdue.")
    reading = Measurement.objects.get()
    assert reading.weight_g == Decimal("21.40") and reading.instrument == "BAL-0907"
    assert ReadingFlag.objects.get().measurement == reading
    screenshot(page, "grid-instrument-flag")

    # The flag is still there after a reload (read from the stored ReadingFlag).
    page.reload()
    page.wait_for_function("() => document.querySelector('[data-grid]').dataset.gridReady")
    expect(cell.locator("[data-grid-flag]")).to_contain_text("calibration overdue")

    Membership.objects.filter(user=design.director, lab=design.lab).update(role=Role.LAB_ADMIN)
    set_unqualified_policy(
        lab=design.lab,
        policy="refuse",
        require_registered=False,
        changed_by=design.director,
        reason="SOP-12",
    )
    page.locator(f"#{cell_id(animals[1], 'weight')}").click()
    wedge(page, "22.10")
    status = page.locator(f"#{cell_id(animals[1], 'weight')}-status")
    expect(status).to_contain_text(
        "Not saved: instrument: Readings from Balance 3 (spare) are refused: calibration overdue."
    )
    assert Measurement.objects.count() == 1
    screenshot(page, "grid-instrument-refused")
    assert not [e for e in console_errors(page) if "Failed to load" not in e]


@LIVE
def test_lab_admin_sets_the_rule_on_its_page(page: Page, live_server: Any, lab: Any) -> None:
    from labnotes.models import InstrumentSettings
    from tests.factories import MembershipFactory, UserFactory

    admin = UserFactory()  # type: ignore[no-untyped-call]
    MembershipFactory(user=admin, lab=lab, role="lab_admin")  # type: ignore[no-untyped-call]
    log_in(page, live_server.url, admin, next_path="/lab/instruments/")
    page.get_by_role("link", name="Change the instrument rules").click()
    assert_accessible(page)
    page.get_by_label("Refuse it").check()
    page.get_by_label("Reason for the change").fill("SOP-12 rev 3")
    screenshot(page, "instrument-rules")
    page.get_by_role("button", name="Save the instrument rules").click()
    expect(page.get_by_text("Instrument rules saved.")).to_be_visible()
    expect(page.get_by_text("are refused")).to_be_visible()
    assert InstrumentSettings.objects.get(lab=lab).unqualified_readings == "refuse"
    assert not [e for e in console_errors(page) if "Failed to load" not in e]
