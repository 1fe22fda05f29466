"""Notebook, sample and necropsy pages in headless Chromium: write an entry with Markdown (a
script and a javascript: link in it) and an attachment, find it by a stemmed word, edit it with a
reason; record a sample and open its label; record a necropsy and read its organ/body ratio."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from labnotes.models import Necropsy, NotebookEntry, Sample
from tests.browser.test_page_kit import log_in
from tests.labnotes.samples_support import end_animal, small_run
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@LIVE
def test_write_find_and_edit_a_notebook_entry(
    page: Page, live_server: Any, lab: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    small = small_run(lab)
    technician = small.design.technician
    base = live_server.url
    log_in(page, base, technician, next_path=f"/notebook/new/?run={small.run.pk}")
    assert_accessible(page)
    page.get_by_label("Title").fill("Tumours measured after the cage change")
    page.get_by_label("Text").fill(
        "**All** animals calm.\n\n<script>document.title='pwned'</script>\n\n"
        "[sop](javascript:alert(1)) and [protocol](https://example.org/sop)\n\n"
        "| tag | note |\n|---|---|\n| 0001 | fine |"
    )
    page.get_by_label("Animals").fill(small.animals[0].tag)
    content = b"gauge_block_mm,reading_mm\n10.00,10.01\n"
    attachment = tmp_path / "caliper-check.csv"
    attachment.write_bytes(content)
    page.get_by_label("Attachment").set_input_files(str(attachment))
    page.get_by_role("button", name="Save entry").click()
    expect(page.get_by_text("Entry saved.")).to_be_visible()
    entry = NotebookEntry.objects.get()
    body = page.locator("article.notebook-body")
    expect(body.locator("strong")).to_have_text("All")
    expect(body.locator("table td").first).to_have_text("0001")
    assert body.locator("script").count() == 0
    assert page.title() != "pwned"
    assert body.locator("a[href^='javascript']").count() == 0
    expect(body.get_by_role("link", name="protocol")).to_have_attribute(
        "href", "https://example.org/sop"
    )
    expect(page.locator("code.sha256")).to_have_text(hashlib.sha256(content).hexdigest())
    expect(page.get_by_role("link", name=small.animals[0].tag)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "notebook-entry")

    page.goto(f"{base}/notebook/")
    page.get_by_label("Search entries").fill("measuring")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Tumours measured after the cage change")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "notebook-search")
    page.get_by_label("Search entries").fill("necropsy")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No entry matches")).to_be_visible()

    page.goto(f"{base}/notebook/{entry.pk}/edit/")
    page.get_by_label("Text").fill("**All** animals calm; 0002 scratched.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("link", name="Reason: This field is required.")).to_be_visible()
    assert NotebookEntry.objects.get().version == 1
    page.get_by_label("Reason").fill("forgot animal 0002")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Entry changed.")).to_be_visible()
    expect(page.get_by_text("version 2", exact=False).first).to_be_visible()
    expect(page.get_by_text("forgot animal 0002", exact=False)).to_be_visible()
    assert NotebookEntry.objects.get().version == 2
    assert_accessible(page)
    screenshot(page, "notebook-entry-edited")
    assert not console_errors(page)


@LIVE
def test_record_a_sample_print_its_label_and_record_a_necropsy(
    page: Page, live_server: Any, lab: Any
) -> None:
    small = small_run(lab)
    technician = small.design.technician
    animal = small.animals[0]
    base = live_server.url
    log_in(
        page, base, technician, next_path=f"/runs/{small.run.pk}/samples/new/?animal={animal.pk}"
    )
    assert_accessible(page)
    screenshot(page, "sample-form")
    page.get_by_role("combobox", name="Tissue", exact=True).select_option("serum")
    page.get_by_label("Volume").fill("45")
    page.get_by_label("Freezer").fill("F-80-2")
    page.get_by_label("Box").fill("B7")
    page.get_by_role("button", name="Save sample").click()
    expect(page.get_by_text("Sample VS-000001 recorded.")).to_be_visible()
    expect(page.get_by_text("freezer F-80-2, box B7")).to_be_visible()
    assert Sample.objects.get().volume_ul == Decimal("45.0")
    assert_accessible(page)
    screenshot(page, "sample-detail")
    label = page.request.get(f"{base}/samples/{Sample.objects.get().pk}/label.pdf")
    assert label.ok and label.body().startswith(b"%PDF")

    page.goto(f"{base}/runs/{small.run.pk}/samples/")
    expect(page.get_by_role("link", name="VS-000001")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "sample-list")

    end_animal(animal)
    page.goto(f"{base}/animals/{animal.pk}/necropsy/")
    page.get_by_label("Terminal body weight").fill("20")
    page.get_by_label("Organ 1", exact=True).fill("spleen")
    page.get_by_label("Weight of organ 1").fill("100")
    page.get_by_label("Metastasis organ 1").fill("lung")
    page.get_by_label("Count in organ 1").fill("3")
    page.get_by_label("Enlarged spleen").check()
    page.get_by_role("button", name="Save necropsy").click()
    expect(page.get_by_text(f"Necropsy of animal {animal.tag} recorded.")).to_be_visible()
    # 100 mg / 20 000 mg × 100 = 0.500 %
    expect(page.locator("[data-ratio='spleen']")).to_have_text("0.500")
    assert Necropsy.objects.get().metastasis_counts == [{"organ": "lung", "count": 3}]
    assert_accessible(page)
    screenshot(page, "necropsy-form")
    page.goto(f"{base}/runs/{small.run.pk}/necropsies/")
    expect(page.get_by_text("spleen 100.0 (0.500 %)")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "necropsy-list")
    assert not console_errors(page)
