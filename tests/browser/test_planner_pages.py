"""Build the demo's blinded CT26 design through the pages in headless Chromium, and approve it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from planner.demo import DEMO_LIBRARY, ENDPOINTS
from planner.models import Study
from tests.browser.test_page_kit import log_in
from tests.conftest import _member
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)

ARMS = [
    (
        "Vehicle",
        True,
        [
            ("Vehicle IT 20 uL", "Vehicle IT", "0", "7,10,13", True),
            ("Vehicle IP 10 mL/kg", "Vehicle IP", "0", "once on day 7", True),
        ],
    ),
    (
        "IL-12",
        False,
        [
            ("IL-12 IT 1 ug in 20 uL", "murine IL-12", "1", "7,10,13", False),
            ("Vehicle IP 10 mL/kg", "Vehicle IP", "0", "once on day 7", True),
        ],
    ),
    (
        "Cyclophosphamide",
        False,
        [
            ("Vehicle IT 20 uL", "Vehicle IT", "0", "7,10,13", True),
            ("Cyclophosphamide IP 100 mg/kg", "cyclophosphamide", "100", "once on day 7", False),
        ],
    ),
    (
        "IL-12 + cyclophosphamide",
        False,
        [
            ("IL-12 IT 1 ug in 20 uL", "murine IL-12", "1", "7,10,13", False),
            ("Cyclophosphamide IP 100 mg/kg", "cyclophosphamide", "100", "once on day 7", False),
        ],
    ),
]


@pytest.fixture
def director_with_library(lab: Any) -> Any:
    from planner.services import ethics, protocols

    director = _member(lab, "study_director")
    for name, (kind, parameters) in DEMO_LIBRARY.items():
        if kind == "dosing":
            version = protocols.create_template(
                lab=lab, name=name, kind=kind, parameters=parameters, created_by=director
            )
            protocols.release_version(version=version, released_by=director)
    ethics.create_ethics_protocol(
        lab=lab,
        number="ETH-9",
        title="Syngeneic tumours",
        approved_on=dt.date(2024, 1, 1),
        expires_on=dt.date(2099, 1, 1),
        endpoint_limits=ENDPOINTS,
        created_by=director,
    )
    return director


@pytest.fixture
def design_page(browser: Any) -> Any:
    """A page whose context lets axe-core be injected despite the Content-Security-Policy."""
    context = browser.new_context(bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def _check(page: Page, name: str) -> None:
    assert_accessible(page)
    screenshot(page, name)


@LIVE
def test_director_builds_and_approves_the_ct26_design_through_the_pages(
    design_page: Page, live_server: Any, director_with_library: Any
) -> None:
    page = design_page
    page.set_viewport_size({"width": 1024, "height": 900})
    log_in(page, live_server.url, director_with_library, next_path="/studies/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("New study")
    _check(page, "planner-study-new")
    page.get_by_role("textbox", name="Code", exact=True).fill("CT26-IL12-UI")
    page.get_by_role("textbox", name="Title", exact=True).fill(
        "IL-12 IT plus cyclophosphamide in CT26"
    )
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("CT26-IL12-UI")
    _check(page, "planner-study-empty")

    page.get_by_role("link", name="Edit design").click()
    page.get_by_role("textbox", name="Strain", exact=True).fill("BALB/c")
    page.get_by_label("Cell line RRID").fill("CVCL_7256")
    page.get_by_label("Ethics protocol").select_option(label="ETH-9 — Syngeneic tumours")
    page.get_by_role("textbox", name="Reason", exact=True).fill("design details")
    _check(page, "planner-study-design-form")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("RRID:CVCL_7256")

    design = page.locator("#design")
    for label, is_control, items in ARMS:
        page.get_by_role("textbox", name="Arm label", exact=True).fill(label)
        page.get_by_role("spinbutton", name="Planned n", exact=True).fill("10")
        if is_control:
            page.get_by_label("Control arm").check()
        page.get_by_role("button", name="Add arm").click()
        expect(
            design.get_by_role("heading", level=3, name=label, exact=False).first
        ).to_be_visible()
        for protocol, agent, dose, schedule, is_vehicle in items:
            details = design.locator("details").filter(
                has=page.get_by_text(f"Add a regimen item to {label}", exact=True)
            )
            details.locator("summary").click()
            details.get_by_label("Dosing protocol").select_option(label=f"{protocol} v1")
            details.get_by_role("textbox", name="Agent", exact=True).fill(agent)
            details.get_by_role("spinbutton", name="Dose", exact=True).fill(dose)
            details.get_by_role("textbox", name="Schedule", exact=True).fill(schedule)
            if is_vehicle:
                details.get_by_label("Matching vehicle injection").check()
            details.get_by_role("button", name="Add regimen item").click()
            expect(design.get_by_role("table", name=f"Regimen of {label}")).to_contain_text(agent)
    assert page.locator("html").count() == 1
    _check(page, "planner-study-arms")

    page.get_by_role("button", name="Approve design").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Approve").click()
    expect(page.locator(".alert--success")).to_contain_text("is now approved")
    _check(page, "planner-study-approved")
    study = Study.objects.get(code="CT26-IL12-UI")
    assert study.status == "approved"
    assert study.arms.count() == 4 and study.arms.filter(is_control=True).count() == 1
    assert study.analysis_plan["synergy_model"] == "bliss"

    page.get_by_role("link", name="Preview calendar").click()
    page.get_by_label("Day 0 (implantation)").fill("2025-03-03")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("main")).to_contain_text("moved from Sun 16 Mar to Mon 17 Mar")
    _check(page, "planner-study-preview")

    for path, name in (
        ("/protocols/", "planner-protocols"),
        ("/ethics/", "planner-ethics"),
        ("/sample-size/", "planner-sample-size"),
    ):
        page.goto(f"{live_server.url}{path}")
        _check(page, name)
    assert not console_errors(page)
