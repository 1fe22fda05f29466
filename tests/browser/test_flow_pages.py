"""Flow cytometry pages in headless Chromium: import a FlowJo table through the mapping step
(the default barcode pattern fails, the tag/tissue pattern with aliases maps every name, the
mapping is saved for the lab and loaded by the next import), read the results, upload an FCS
file and read its metadata; a blinded technician sees arm codes only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from labnotes.models import FlowImport, FlowPopulationValue, FlowSampleMapping
from tests.browser.test_page_kit import log_in
from tests.labnotes.flow_support import counts_row, flow_run, flowjo10_table
from tests.support.browser import assert_accessible, console_errors, screenshot
from tests.support.requirements import require_shared

LIVE = pytest.mark.django_db(transaction=True)


@LIVE
def test_mapping_step_previews_maps_saves_and_imports_a_flowjo_table(
    page: Page, live_server: Any, lab: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    flow = flow_run(lab)
    animal = flow.small.animals[0]
    assert animal.arm is not None
    table = tmp_path / "treg_panel.csv"
    table.write_bytes(
        flowjo10_table(
            {"0001_T.fcs": counts_row(cd8=800, treg=200), "0001_S.fcs": counts_row(cd8=300)}
        )
    )
    base = live_server.url
    log_in(page, base, flow.technician, next_path=f"/runs/{flow.small.run.pk}/flow/")
    expect(page.get_by_role("heading", name=str(flow.panel.protocol_version))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Import FlowJo results").click()

    # Step 1 with the default pattern (barcodes): no name maps, nothing can be imported.
    page.get_by_label("FlowJo file").set_input_files(str(table))
    page.get_by_role("button", name="Preview mapping").click()
    expect(page.get_by_text("0 of 2 sample names mapped")).to_be_visible()
    expect(page.get_by_text("no sample of this run has barcode 0001_T").first).to_be_visible()
    assert page.get_by_role("button", name="Import 2 samples").count() == 0
    assert_accessible(page)
    screenshot(page, "flow-mapping-unmatched")

    # Step 1 again, keyboard only: the tag/tissue pattern and aliases; the file is carried.
    page.get_by_label("Sample-name pattern").focus()
    page.keyboard.press("Control+a")
    page.keyboard.type(r"^(?P<animal>\d{4})_(?P<tissue>[A-Z])")
    page.keyboard.press("Tab")
    page.keyboard.type("T=tumour, S=spleen")
    page.keyboard.press("Tab")
    page.keyboard.type("tag_tissue.fcs")
    page.get_by_role("button", name="Preview mapping").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("2 of 2 sample names mapped")).to_be_visible()
    names = page.get_by_role("table", name="Sample names → collected samples")
    expect(names.get_by_role("row", name="0001_T.fcs")).to_contain_text("FL-0001-T")
    expect(names.get_by_role("row", name="0001_S.fcs")).to_contain_text("Spleen")
    expect(page.get_by_text("File: treg_panel.csv")).to_be_visible()
    # Blinding: the mapping step never names the arm.
    assert animal.arm.label not in names.inner_text()
    assert FlowImport.objects.count() == 0
    assert_accessible(page)
    screenshot(page, "flow-mapping-preview")

    page.get_by_role("button", name="Import 2 samples").click()
    expect(page.get_by_text("Imported 22 values of 2 samples from treg_panel.csv.")).to_be_visible()
    assert FlowPopulationValue.objects.count() == 22
    mapping = FlowSampleMapping.objects.get()
    assert (mapping.name, mapping.tissue_aliases) == (
        "tag_tissue.fcs",
        {"t": "tumour", "s": "spleen"},
    )
    results = page.get_by_role("table", name="Results per sample", exact=False)
    tumour_row = results.get_by_role("row", name="FL-0001-T")
    # CD8+ % of CD45+ = 800 / 4000 = 20.00; CD8/Treg = 800 / 200 = 4.00.
    expect(tumour_row).to_contain_text("20.00")
    expect(tumour_row).to_contain_text("4.00")
    expect(tumour_row).to_contain_text(animal.arm.code)
    assert animal.arm.label not in results.inner_text()
    assert_accessible(page)
    screenshot(page, "flow-results-blinded")

    # The next import loads the lab's saved mapping.
    page.goto(f"{base}/flow-panels/{flow.panel.pk}/import/")
    expect(page.get_by_label("Sample-name pattern")).to_have_value(
        r"^(?P<animal>\d{4})_(?P<tissue>[A-Z])"
    )
    # (PostgreSQL's jsonb keeps the aliases sorted by name.)
    expect(page.get_by_label("Tissue aliases")).to_have_value("s=spleen, t=tumour")
    assert console_errors(page) == []


@LIVE
def test_fcs_upload_page_keeps_file_and_shows_metadata(
    page: Page, live_server: Any, lab: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    source = require_shared("data/instruments/flow_cytometry") / "fcs3.1_bd_accuri_c6plus_B01.fcs"
    flow = flow_run(lab)
    base = live_server.url
    log_in(page, base, flow.technician, next_path=f"/flow-panels/{flow.panel.pk}/fcs/")
    assert_accessible(page)
    bad = tmp_path / "notes.fcs"
    bad.write_bytes(b"this is not an FCS file at all, just text" * 3)
    page.get_by_label("FCS file").set_input_files(str(bad))
    sample = flow.samples[("0002", "tumour")]
    page.get_by_label("Sample").select_option(value=str(sample.pk))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("not an FCS file", exact=False).first).to_be_visible()
    page.get_by_label("FCS file").set_input_files(str(source))
    page.get_by_label("Sample").select_option(value=str(sample.pk))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("1589 events from BD Accuri C6 Plus")).to_be_visible()
    expect(
        page.get_by_role("table", name="Spillover matrix ($SPILLOVER)", exact=False)
    ).to_be_visible()
    channels = page.get_by_role("table", name="Channels", exact=False)
    expect(channels.locator("tr", has_text="FL1-A").first).to_contain_text("FITC-A")
    assert_accessible(page)
    screenshot(page, "flow-acquisition")
    # The refused file was answered 400 on purpose (the browser logs that); nothing else.
    errors = [e for e in console_errors(page) if "status of 400 (Bad Request)" not in e]
    assert errors == []
