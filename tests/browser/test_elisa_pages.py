"""ELISA pages in headless Chromium: create a plate, lay it out with the plate map editor by
mouse (click and drag) and by keyboard, save it, import a reading, accept the plate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from labnotes.models import ElisaPlate, PlateWell
from tests.browser.test_page_kit import log_in
from tests.labnotes.elisa_support import elisa_setup, expected_ods, grid_csv
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@LIVE
def test_plate_map_editor_by_mouse_and_keyboard(
    page: Page, live_server: Any, lab: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    setup = elisa_setup(lab)
    technician = setup.small.design.technician
    base = live_server.url
    log_in(page, base, technician, next_path=f"/runs/{setup.small.run.pk}/elisa/")
    page.get_by_label("Name").fill("PL-7")
    page.get_by_label("ELISA protocol").select_option(str(setup.version.pk))
    page.get_by_role("button", name="Create plate").click()
    expect(page.get_by_text("Plate PL-7 created")).to_be_visible()
    plate = ElisaPlate.objects.get(name="PL-7")

    # Mouse: drag A1 → G2 selects 14 wells; standards halving down the rows from 2000 pg/mL.
    page.locator("td[data-well='A1']").hover()
    page.mouse.down()
    page.locator("td[data-well='D2']").hover()
    page.locator("td[data-well='G2']").hover()
    page.mouse.up()
    expect(page.locator("#plate-selection-count")).to_have_text("14 wells selected.")
    page.get_by_label("Role").select_option("standard")
    page.get_by_label("Standard concentration (pg/mL)").fill("2000")
    page.get_by_label("Standards as a serial dilution").select_option("2")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.locator("td[data-well='G1']")).to_contain_text("S 31.25")

    # Click H1, Ctrl-click H2: blanks.
    page.locator("td[data-well='H1']").click()
    page.locator("td[data-well='H2']").click(modifiers=["Control"])
    expect(page.locator("#plate-selection-count")).to_have_text("2 wells selected.")
    page.get_by_label("Role").select_option("blank")
    page.get_by_role("button", name="Apply to selected").click()

    # Keyboard: focus A3, Shift+Right selects A3-A4, sample SER-1 at 1:2.
    page.locator("td[data-well='A3']").click()
    page.keyboard.press("Escape")
    expect(page.locator("#plate-selection-count")).to_have_text("No wells selected.")
    page.keyboard.press("Space")
    page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("#plate-selection-count")).to_have_text("2 wells selected.")
    expect(page.locator("td[data-well='A4']")).to_be_focused()
    page.get_by_label("Role").select_option("sample")
    page.get_by_label("Sample", exact=True).select_option("SER-1")
    page.get_by_label("Dilution (1:n)").fill("2")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.locator("td[data-well='A4']")).to_contain_text("SER-1 1:2")
    assert_accessible(page)
    screenshot(page, "elisa-plate-map-editor")
    page.get_by_role("button", name="Save plate map").click()
    expect(page.get_by_text("Plate map saved.")).to_be_visible()
    wells = {w.well: w for w in PlateWell.objects.filter(plate=plate)}
    assert len(wells) == 14 + 2 + 2
    assert wells["G2"].concentration_pg_per_ml == pytest.approx(31.25)
    assert wells["A4"].sample is not None and wells["A4"].sample.barcode == "SER-1"
    assert wells["A4"].dilution == 2 and wells["H2"].role == "blank"

    # Import a reading and accept as the scientist.
    ods = {k: v for k, v in expected_ods(setup).items() if k in wells}
    reading = tmp_path / "PL-7.csv"
    reading.write_bytes(grid_csv(ods))
    page.get_by_label("Plate-reader export").set_input_files(str(reading))
    page.get_by_role("button", name="Import and fit").click()
    expect(page.get_by_text("Reading imported")).to_be_visible()
    expect(page.get_by_text("QC passed")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "elisa-plate-read")
    assert not console_errors(page)


@LIVE
def test_bad_file_shows_the_problem_and_saves_nothing(
    page: Page, live_server: Any, lab: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from labnotes.services import elisa as elisa_services
    from tests.labnotes.elisa_support import standard_layout

    setup = elisa_setup(lab)
    technician = setup.small.design.technician
    plate = elisa_services.create_plate(
        run=setup.small.run, protocol_version=setup.version, name="B-1", created_by=technician
    )
    elisa_services.save_layout(plate=plate, wells=standard_layout(setup), changed_by=technician)
    log_in(page, live_server.url, technician, next_path=f"/elisa/plates/{plate.pk}/")
    bad = tmp_path / "notes.csv"
    bad.write_bytes(b"hello,world\n1,2\n")
    page.get_by_label("Plate-reader export").set_input_files(str(bad))
    page.get_by_role("button", name="Import and fit").click()
    expect(page.get_by_text("Nothing was saved")).to_be_visible()
    expect(page.get_by_text("not a plate-reader export we recognise")).to_be_visible()
    assert ElisaPlate.objects.get(pk=plate.pk).status == "draft"
    screenshot(page, "elisa-bad-file")
