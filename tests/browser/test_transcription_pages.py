"""Paper worksheets and study import in headless Chromium: a technician types a day's sheet with
the keyboard and attaches the scan, a scientist sends it back with a correction, the technician
applies it, the scientist verifies it and the growth summary shows it; then a study table with
one bad row is refused row by row and the corrected one is imported."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from labnotes.models import Animal, Measurement, TranscriptionSheet, TranscriptionStatus, Tumour
from tests.browser.test_page_kit import log_in
from tests.labnotes.conftest import design, run  # noqa: F401  (fixtures)
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


def _animals(study_design: Any, study_run: Any, count: int) -> list[Any]:
    from labnotes.services.animals import create_cage, move_animals

    animals = []
    for index in range(count):
        animal = Animal.objects.create(
            run=study_run,
            tag=f"{index + 1:04d}",
            sex="female",
            received_on=study_run.day0,
            registered_by=study_design.technician,
            arm=study_design.arms[index % 2],
            treatment_start_date=study_run.day0,
        )
        Tumour.objects.create(animal=animal, site="right flank")
        animals.append(animal)
    cage = create_cage(
        lab=study_design.lab,
        run=study_run,
        label="C10",
        created_by=study_design.technician,
        room="R1",
        rack="A",
    )
    move_animals(animals=animals, cage=cage, moved_by=study_design.technician)
    return animals


def _second_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    return context.new_page()


@LIVE
def test_type_sheet_send_back_correct_verify_and_see_growth(
    page: Page,
    browser: Browser,
    live_server: Any,
    tmp_path: Any,
    settings: Any,
    design: Any,  # noqa: F811  (pytest fixture)
    run: Any,  # noqa: F811  (pytest fixture)
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    animals = _animals(design, run, 4)
    errors = console_errors(page)
    day = run.day0 + dt.timedelta(days=4)
    log_in(page, base, design.technician, next_path=f"/runs/{run.pk}/transcriptions/")
    page.get_by_label("Day of the worksheet").fill(day.isoformat())
    page.get_by_role("button", name="Enter a worksheet").click()
    expect(page.get_by_role("heading", name="Enter a paper worksheet")).to_be_visible()
    page.get_by_label("Time written on the sheet").fill("09:40")
    scan = tmp_path / "sheet-scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n% scanned worksheet\n")
    page.get_by_label("Scanned sheet").set_input_files(str(scan))

    # Keyboard only, in sheet order: L, W, weight per animal. Enter moves on as Tab does (a
    # wedge caliper ends each value with Enter) and never submits the half-typed sheet.
    values = [("8,0", "6,0", "20,1"), ("9.0", "7.0", "21.4"), ("7.5", "5.5", "19.8"),
              ("10", "8", "22")]  # fmt: skip
    first = page.locator(f"#id_t{animals[0].tumours.get().pk}_length_mm")
    first.focus()
    for number, (length, width, weight) in enumerate(values):
        for value in (length, width, weight):
            page.keyboard.type(value)
            page.keyboard.press("Enter" if number % 2 == 0 else "Tab")
    assert TranscriptionSheet.objects.count() == 0
    assert_accessible(page)
    screenshot(page, "transcription-entry")
    page.get_by_role("button", name="Save the worksheet").click()
    expect(page.get_by_text("Awaiting verification").first).to_be_visible()
    sheet = TranscriptionSheet.objects.get()
    assert Measurement.objects.filter(transcription=sheet).count() == 8
    local = sheet.taken_at.astimezone(design.lab.zone)
    assert (local.date(), local.time()) == (day, dt.time(9, 40))
    expect(page.get_by_text("you cannot", exact=False)).to_be_visible()
    assert page.get_by_role("button", name="All values match the paper: verify").count() == 0

    # The scientist checks against the scan and sends one value back.
    checker = _second_page(browser)
    log_in(checker, base, design.scientist, next_path=f"/transcriptions/{sheet.pk}/")
    expect(checker.locator("#scan-link")).to_have_text("sheet-scan.pdf")
    assert_accessible(checker)
    screenshot(checker, "transcription-check")
    tumour = animals[1].tumours.get()
    checker.locator(f"#fix_t{tumour.pk}_width_mm").fill("6.0")
    checker.locator(f"#why_t{tumour.pk}_width_mm").fill("the paper shows 6, not 7")
    checker.get_by_label("Why the sheet goes back").fill("one width mistyped")
    checker.get_by_role("button", name="Send back with these corrections").click()
    expect(checker.get_by_text("Sent back to the transcriber")).to_be_visible()

    # The technician applies the correction (prefilled), with a reason.
    page.goto(f"{base}/transcriptions/{sheet.pk}/correct/")
    expect(page.locator(f"#id_t{tumour.pk}_width_mm")).to_have_value("6.0")
    page.get_by_label("Reason for the changes").fill("verifier: width 6 on the paper")
    assert_accessible(page)
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_text("awaits verification again")).to_be_visible()

    # The run page shows no growth from the sheet until it is verified.
    checker.goto(f"{base}/runs/{run.pk}/")
    expect(checker.get_by_text("No counted caliper readings")).to_be_visible()
    checker.goto(f"{base}/transcriptions/{sheet.pk}/")
    checker.get_by_role("button", name="All values match the paper: verify").click()
    expect(checker.get_by_text("Verified: the sheet's values now count")).to_be_visible()
    sheet.refresh_from_db()
    assert sheet.status == TranscriptionStatus.VERIFIED
    checker.goto(f"{base}/runs/{run.pk}/")
    # G2 holds animals 0002 (9 × 6 → 162) and 0004 (10 × 8 → 320): mean 241.0
    expect(checker.locator(".growth-table")).to_contain_text("241.0")
    assert_accessible(checker)
    screenshot(checker, "run-growth-summary")
    assert not errors, errors


@LIVE
def test_import_names_the_bad_row_then_imports_the_corrected_file(
    page: Page,
    live_server: Any,
    tmp_path: Any,
    settings: Any,
    design: Any,  # noqa: F811  (pytest fixture)
    run: Any,  # noqa: F811  (pytest fixture)
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    d2 = (run.day0 + dt.timedelta(days=2)).isoformat()
    d5 = (run.day0 + dt.timedelta(days=5)).isoformat()
    header = "tag,sex,cage,arm,treatment start,date,time,L,W,weight\n"
    good = (
        header
        + f"0101,F,K1,G1,{d2},{d2},09:00,6.0,5.0,19.5\n"
        + f"0102,F,K1,G2,{d2},{d2},09:05,7.0,5.5,20.0\n"
        + f"0101,,,,,{d5},09:00,8.0,6.0,19.9\n"
    )
    bad = good.replace("7.0,5.5,20.0", "7.0,5.5,2000")
    (tmp_path / "bad.csv").write_text(bad)
    (tmp_path / "good.csv").write_text(good)
    log_in(page, base, design.director, next_path=f"/runs/{run.pk}/import/")
    page.get_by_label("Study table (XLSX or CSV)").set_input_files(str(tmp_path / "bad.csv"))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("nothing was saved")).to_be_visible()
    problems = page.locator(".import-errors tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("3")
    expect(problems.first).to_contain_text("weight_g")
    assert_accessible(page)
    screenshot(page, "import-bad-row")
    assert Animal.objects.filter(run=run).count() == 0

    page.get_by_label("Study table (XLSX or CSV)").set_input_files(str(tmp_path / "good.csv"))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("All 3 rows are valid")).to_be_visible()
    screenshot(page, "import-preview")
    page.get_by_role("button", name="Import 3 rows").click()
    expect(page.get_by_text("Imported good.csv")).to_be_visible()
    assert sorted(Animal.objects.filter(run=run).values_list("tag", flat=True)) == ["0101", "0102"]
    assert Measurement.objects.filter(animal__run=run, entry_method="import").count() == 6
