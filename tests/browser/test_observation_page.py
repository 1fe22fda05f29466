"""The observation sheet and the endpoint page in headless Chromium, keyboard only: tick "All
normal" with Space, score a row by typing on its lists, Enter saves; a found-dead record
without the last time seen alive is refused and names the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from labnotes.models import AnimalStatus, EndpointRecord, Observation, UlcerationScore
from tests.browser.test_page_kit import log_in
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@LIVE
def test_observation_sheet_is_scored_with_keys_only_and_saved_with_enter(
    page: Page, live_server: Any, lab: Any
) -> None:
    from tests.labnotes.test_welfare_services import welfare_run

    w = welfare_run(lab)
    errors = console_errors(page)
    first, second = w.animals[0], w.animals[1]
    log_in(page, live_server.url, w.technician, next_path=f"/runs/{w.run.pk}/observations/")
    expect(page.get_by_role("heading", name="Clinical observations")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "observation-sheet-empty")

    page.locator(f"#a{first.pk}-normal").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # first row: Activity
    for _ in range(4):  # Coat, ulceration, ulcer diameter, notes of the first row
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # second row: the animal's link
    page.keyboard.press("Tab")  # second row: All normal
    page.keyboard.press("Tab")  # second row: Activity
    assert page.evaluate("document.activeElement.id") == f"a{second.pk}-item0"
    page.keyboard.type("1")  # "1 reduced"
    page.keyboard.press("Tab")
    page.keyboard.type("0")  # Coat "0 smooth"
    page.keyboard.press("Tab")
    page.keyboard.type("2")  # ulceration "2 open"
    page.keyboard.press("Tab")
    page.keyboard.type("3,5")  # ulcer diameter, decimal comma
    page.keyboard.press("Tab")
    page.keyboard.type("hunched, ulcer open")
    page.keyboard.press("Enter")

    expect(page.get_by_text("2 observation(s) saved.")).to_be_visible()
    assert Observation.objects.get(animal=first).scores == {"Activity": 0, "Coat": 0}
    scored = Observation.objects.get(animal=second)
    assert scored.scores == {"Activity": 1, "Coat": 0} and scored.notes == "hunched, ulcer open"
    ulcer = UlcerationScore.objects.get(observation=scored)
    assert ulcer.score == 2 and str(ulcer.diameter_mm) == "3.5"
    expect(page.locator(f"#row-a{second.pk}")).to_contain_text("Activity 1")
    assert_accessible(page)
    screenshot(page, "observation-sheet-saved")
    assert errors == []


@LIVE
def test_endpoint_page_refuses_found_dead_without_last_seen_then_records_it(
    page: Page, live_server: Any, lab: Any
) -> None:
    from tests.labnotes.test_welfare_services import welfare_run

    w = welfare_run(lab)
    animal = w.animals[2]
    zone = w.run.study.lab.zone
    found = timezone.localtime(timezone.now() - dt.timedelta(hours=2), zone)
    log_in(page, live_server.url, w.technician, next_path=f"/animals/{animal.pk}/endpoint/")
    expect(page.get_by_role("heading", name=f"Endpoint of animal {animal.tag}")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Cause").select_option("found_dead")
    page.get_by_label("Euthanized or found at").fill(found.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Record the endpoint").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    expect(page.get_by_text("last time it was seen alive").first).to_be_visible()
    assert not EndpointRecord.objects.exists()
    screenshot(page, "endpoint-found-dead-refused")

    seen = found - dt.timedelta(hours=15)
    page.get_by_label("Last seen alive at").fill(seen.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Actual severity").select_option("severe")
    page.get_by_role("button", name="Record the endpoint").click()
    expect(page.get_by_text(f"Endpoint of animal {animal.tag} recorded.")).to_be_visible()
    record = EndpointRecord.objects.get(animal=animal)
    assert record.cause == "found_dead" and record.actual_severity == "severe"
    assert timezone.localtime(record.last_seen_alive_at, zone).strftime("%H:%M") == seen.strftime(
        "%H:%M"
    )
    animal.refresh_from_db()
    assert animal.status == AnimalStatus.FOUND_DEAD
    assert_accessible(page)
    screenshot(page, "endpoint-found-dead-recorded")
