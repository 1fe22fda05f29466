"""QA pages in headless Chromium: QA records an inspection with a finding and the reporting
dates; the study director raises and reports deviations, assesses one and responds to the
finding; the ethics usage and archive pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from labnotes.models import Deviation, DoseDeviation, InspectionFinding, QAInspection
from tests.browser.test_page_kit import log_in
from tests.factories import MembershipFactory, UserFactory
from tests.labnotes.samples_support import give_dose, small_run
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_second_factor(settings: Any) -> None:
    settings.VIVOLOG_OTP_REQUIRED_ROLES = ()


@LIVE
def test_qa_records_an_inspection_and_the_director_responds(
    page: Page, live_server: Any, lab: Any, no_second_factor: None
) -> None:
    small = small_run(lab)
    qa = UserFactory(first_name="Quinn", last_name="Auditor")
    MembershipFactory(user=qa, lab=lab, role="qa")
    base = live_server.url
    log_in(page, base, qa, next_path=f"/runs/{small.run.pk}/qa/")
    expect(
        page.get_by_role("heading", name="QA inspections and audit-trail reviews")
    ).to_be_visible()
    page.get_by_label("Inspected on").fill(
        (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    )
    page.get_by_label("Phase inspected").select_option("dosing")
    page.get_by_label("What was inspected").fill("Dosing records, days 7-10")
    page.get_by_label("First finding: severity").select_option("minor")
    page.get_by_label("First finding", exact=True).fill("Two doses lack the balance ID.")
    page.get_by_role("button", name="Record inspection").click()
    expect(page.get_by_text("Inspection recorded.")).to_be_visible()
    inspection = QAInspection.objects.get()
    assert inspection.inspector == qa
    assert InspectionFinding.objects.filter(inspection=inspection).count() == 1
    page.get_by_label("Reported to the study director on").fill(timezone.localdate().isoformat())
    page.get_by_label("Reported to management on").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Save dates").click()
    expect(page.get_by_text("Reporting dates saved.")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "qa-inspection-detail")

    page.context.clear_cookies()
    log_in(page, base, small.design.director, next_path=f"/qa/inspections/{inspection.pk}/")
    page.get_by_label("Response to finding 1").fill("Balance ID field made mandatory.")
    page.get_by_role("button", name="Save response").click()
    expect(page.get_by_text("Response to finding 1 saved.")).to_be_visible()
    inspection.refresh_from_db()
    assert inspection.status == "responded"
    page.goto(f"{base}/runs/{small.run.pk}/qa/")
    expect(page.locator("ul.qa-statement li")).to_have_count(1)
    expect(page.locator("ul.qa-statement li")).to_contain_text("Dosing inspected by Quinn Auditor")
    assert_accessible(page)
    screenshot(page, "qa-run-statement")
    assert not console_errors(page)


@LIVE
def test_director_raises_reports_and_assesses_deviations(
    page: Page, live_server: Any, lab: Any, no_second_factor: None
) -> None:
    small = small_run(lab)
    dose = give_dose(small, small.animals[0], given_at=timezone.now() - dt.timedelta(days=1))
    DoseDeviation.objects.create(dose=dose, kind="late", detail="given 1 day(s) after the window")
    base = live_server.url
    director = small.design.director
    log_in(page, base, director, next_path=f"/runs/{small.run.pk}/deviations/")
    page.get_by_role("button", name="Raise deviations from capture flags").click()
    expect(page.get_by_text("1 new deviation(s) raised")).to_be_visible()
    # Keyboard path through the report form.
    page.get_by_label("Category").select_option("housing")
    page.get_by_label("What happened").fill("Cage water bottle found empty at 08:00.")
    page.get_by_label("What happened").press("Tab")
    # The date comes filled with the lab's today; Tab lands on it.
    expect(page.get_by_label("When it happened")).to_be_focused()
    expect(page.get_by_label("When it happened")).to_have_value(timezone.localdate().isoformat())
    page.get_by_label("Animals concerned").select_option(label=f"Animal {small.animals[1].tag}")
    page.get_by_role("button", name="Record deviation").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("DEV-002 recorded.")).to_be_visible()
    manual = Deviation.objects.get(number=2)
    assert list(manual.animal_links.values_list("animal__tag", flat=True)) == [small.animals[1].tag]
    page.get_by_label("Impact on the study").fill("None: the bottle was refilled within 1 h.")
    page.get_by_label("Corrective action").first.fill("Bottles checked twice daily.")
    page.get_by_role("button", name="Save assessment").click()
    expect(page.get_by_text("DEV-002 assessed.")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "deviation-detail")
    page.goto(f"{base}/runs/{small.run.pk}/deviations/")
    expect(page.locator("tbody tr")).to_have_count(2)
    assert_accessible(page)
    screenshot(page, "deviation-log")

    # A blinded technician sees the manual entry, never the dose-derived one.
    page.context.clear_cookies()
    log_in(page, base, small.design.technician, next_path=f"/runs/{small.run.pk}/deviations/")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_text("DEV-001")).to_have_count(0)
    assert not console_errors(page)


@LIVE
def test_ethics_usage_and_archive_pages(
    page: Page, live_server: Any, lab: Any, no_second_factor: None
) -> None:
    small = small_run(lab)
    base = live_server.url
    log_in(page, base, small.design.director, next_path=f"/ethics/{small.design.ethics.pk}/usage/")
    expect(
        page.get_by_role("heading", name=f"Animal use under {small.design.ethics.number}")
    ).to_be_visible()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("BALB/c")
    expect(row.locator("td").nth(2)).to_have_text(str(len(small.animals)))
    assert_accessible(page)
    screenshot(page, "ethics-usage")
    page.goto(f"{base}/studies/{small.design.study.pk}/archive/")
    expect(page.get_by_text("A study can be archived once it is completed")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "study-archive")
    assert not console_errors(page)
