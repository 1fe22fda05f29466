"""A record's page in headless Chromium: from the animal page's Records list to a caliper
reading's page, its signatures and the Sign button; a scientist signs it as reviewed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from labnotes.models import Measurement
from planner.models import Signature
from tests.browser.test_page_kit import log_in
from tests.factories import TEST_PASSWORD
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@LIVE
def test_scientist_signs_a_reading_from_its_page(page: Page, live_server: Any, lab: Any) -> None:
    from labnotes.services.runs import start_study_run
    from tests.labnotes.builders import build_design
    from tests.labnotes.conftest import stage

    design = build_design(lab=lab)
    run = start_study_run(
        study=design.study,
        code="RUN-1",
        day0=timezone.localdate() - dt.timedelta(days=10),
        started_by=design.director,
    )
    animal = stage(design, run, count=1)[0]
    reading = Measurement.objects.filter(animal=animal).latest("pk")
    base = live_server.url
    log_in(page, base, design.scientist, next_path=f"/animals/{animal.pk}/")
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    page.get_by_role("link", name="Caliper reading").first.click()
    expect(page.get_by_role("heading", name="Signatures")).to_be_visible()
    expect(page.get_by_text("Not signed yet.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Sign", exact=True).click()
    page.get_by_label("Meaning").select_option("reviewed")
    page.get_by_label("Your password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()
    row = page.locator("section[aria-labelledby='signatures-title'] tbody tr")
    expect(row).to_contain_text("Reviewed")
    expect(row).to_contain_text("valid")
    signature = Signature.objects.get()
    assert signature.object_id == reading.pk and signature.signer_id == design.scientist.pk
    assert_accessible(page)
    screenshot(page, "record-signatures-measurement")
    assert not [e for e in console_errors(page) if "Content Security Policy" in e]
