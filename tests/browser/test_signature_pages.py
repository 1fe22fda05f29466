"""Signing and locking in headless Chromium: the study director signs the design with the
password (a wrong one first), sees the signature on the study page, locks the run; a write to
the locked run shows the lock's readable refusal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from labnotes.models import AnimalStatus, RunLock
from planner.models import Signature
from tests.browser.test_page_kit import log_in
from tests.factories import TEST_PASSWORD
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@dataclass
class _Run:
    design: Any
    run: Any
    animals: list[Any]


def _unrandomized_run(lab: Any) -> _Run:
    """A design, a run and three staged animals (not randomized: the staging page lists them)."""
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
    return _Run(design=design, run=run, animals=stage(design, run, count=3))


@LIVE
def test_sign_the_design_lock_the_run_and_see_a_write_refused(
    page: Page, live_server: Any, lab: Any
) -> None:
    small = _unrandomized_run(lab)
    director = small.design.director
    study = small.design.study
    base = live_server.url
    sign_path = f"/sign/planner/study/{study.pk}/?next=/studies/{study.pk}/"
    log_in(page, base, director, next_path=sign_path)
    expect(page.get_by_role("heading", name="Sign: Study design")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Meaning").select_option("approved")
    page.get_by_label("Your password").fill("not my password")
    page.get_by_label("Your password").press("Enter")
    expect(page.get_by_text("The password is not correct", exact=False).first).to_be_visible()
    assert Signature.objects.count() == 0
    page.get_by_label("Meaning").select_option("approved")
    page.get_by_label("Your password").fill(TEST_PASSWORD)
    screenshot(page, "signature-form")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("heading", name="Signatures")).to_be_visible()
    signature = Signature.objects.get()
    row = page.locator("section[aria-labelledby='signatures-title'] tbody tr")
    expect(row).to_contain_text("Approved")
    expect(row).to_contain_text(signature.signer_name)
    expect(row).to_contain_text("valid")
    assert_accessible(page)
    screenshot(page, "signature-on-design")

    page.goto(f"{base}/runs/{small.run.pk}/lock/")
    assert_accessible(page)
    page.get_by_label("Reason").fill("before unblinding for the final analysis")
    page.get_by_role("button", name="Lock the run").click()
    expect(page.get_by_text("Locked since", exact=False)).to_be_visible()
    assert RunLock.objects.filter(run=small.run, released_at__isnull=True).count() == 1
    assert_accessible(page)
    screenshot(page, "lock-detail")

    animal = small.animals[0]
    page.goto(f"{base}/runs/{small.run.pk}/staging/")
    page.get_by_label(f"Reason to exclude {animal.tag}").fill("ulcerated")
    page.get_by_label(f"Reason to exclude {animal.tag}").press("Enter")
    expect(page.get_by_role("heading", name="This run's data is locked")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("is locked since")
    animal.refresh_from_db()
    assert animal.status == AnimalStatus.ON_STUDY
    screenshot(page, "lock-refused")
    assert not [e for e in console_errors(page) if "Content Security Policy" in e]
