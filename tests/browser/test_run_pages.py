"""A technician's and scientist's run in headless Chromium: paste 40 tags, enter staging
volumes, randomize, read the balance table, apply, open the cage cards and the worksheet."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from labnotes.models import Animal, BatchStatus, RandomizationBatch, Tumour
from tests.browser.test_page_kit import log_in
from tests.labnotes.conftest import design, run  # noqa: F401  (fixtures)
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@LIVE
def test_paste_stage_randomize_apply_and_print(
    page: Page,
    live_server: Any,
    design: Any,  # noqa: F811  (pytest fixture)
    run: Any,  # noqa: F811  (pytest fixture)
) -> None:
    from labnotes.services.animals import create_cage, move_animals

    base = live_server.url
    scientist = design.scientist
    log_in(page, base, scientist, next_path=f"/runs/{run.pk}/animals/register/")
    assert_accessible(page)
    screenshot(page, "run-register-empty")

    tags = "\n".join(f"{n:04d}" for n in range(1, 41))
    page.get_by_label("Tags or RFIDs").fill(tags)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("All 40 rows are valid")).to_be_visible()
    assert Animal.objects.filter(run=run).count() == 0
    assert_accessible(page)
    screenshot(page, "run-register-preview")
    page.get_by_role("button", name="Register 40 animals").click()
    expect(page.get_by_text("40 animals registered.")).to_be_visible()
    assert sorted(Animal.objects.filter(run=run).values_list("tag", flat=True))[0] == "0001"
    assert_accessible(page)
    screenshot(page, "run-detail-registered")

    # Housing through the services; implantation on its page, all 40 animals at once.
    animals = list(Animal.objects.filter(run=run).order_by("tag"))
    for index in range(0, 40, 5):
        cage = create_cage(
            lab=design.lab,
            run=run,
            label=f"C{index // 5 + 1}",
            created_by=design.technician,
            room="R101",
            rack="A",
        )
        move_animals(animals=animals[index : index + 5], cage=cage, moved_by=design.technician)
    page.goto(f"{base}/runs/{run.pk}/implantation/")
    expect(page.get_by_text("40 of 40 animals on study have no implantation yet")).to_be_visible()
    for box in page.locator("input[name=animals]").all():
        box.check()
    page.get_by_label("Cells per site").fill("500000")
    page.get_by_label("Viability").fill("95")
    page.get_by_label("Passage", exact=True).fill("4")
    page.get_by_role("button", name="Record implantation").click()
    expect(
        page.get_by_text("Implantation recorded for 40 animal(s), 40 tumour(s).")
    ).to_be_visible()
    assert Tumour.objects.filter(animal__run=run, site="right flank").count() == 40
    expect(page.get_by_text("0 of 40 animals on study have no implantation yet")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "run-implantation")

    page.goto(f"{base}/runs/{run.pk}/staging/")
    rng = np.random.default_rng(3)
    for animal in animals:
        length = round(float(rng.uniform(6.0, 8.5)), 1)
        width = round(float(rng.uniform(4.0, min(length, 5.5))), 1)
        page.get_by_label("Animal tag").fill(animal.tag)
        page.get_by_label("Length").fill(str(length))
        page.get_by_label("Width").fill(str(width))
        page.get_by_label("Width").press("Enter")
        expect(page.get_by_text(f"Saved for {animal.tag}.")).to_be_visible()
    expect(page.get_by_text("40 of 40 animals eligible", exact=False)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "run-staging")

    page.goto(f"{base}/runs/{run.pk}/randomize/")
    assert_accessible(page)
    page.get_by_label("Seed").fill("20240611")
    page.get_by_role("button", name="Preview randomization").click()
    table = page.locator("#balance-table")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(4)
    for index in range(4):
        assert rows.nth(index).locator("td").first.inner_text() == "10"
    smd = float(page.locator("[data-smd]").first.inner_text())
    assert smd < 0.1
    assert_accessible(page)
    screenshot(page, "run-randomization-preview")
    page.get_by_role("button", name="Apply this allocation").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Apply").click()
    expect(page.get_by_text("applied: the animals have their arms")).to_be_visible()
    assert RandomizationBatch.objects.get(run=run, status=BatchStatus.APPLIED).seed == 20240611
    assert Animal.objects.filter(run=run, arm__isnull=False).count() == 40
    assert_accessible(page)
    screenshot(page, "run-randomization-applied")

    page.goto(f"{base}/runs/{run.pk}/cages/")
    assert_accessible(page)
    screenshot(page, "run-cages")
    cards = page.request.get(f"{base}/runs/{run.pk}/cage-cards.pdf")
    assert cards.ok and cards.headers["content-type"] == "application/pdf"
    assert cards.body().startswith(b"%PDF")

    page.goto(f"{base}/runs/{run.pk}/")
    assert_accessible(page)
    screenshot(page, "run-detail-randomized")
    worksheet = page.request.get(f"{base}/runs/{run.pk}/worksheet.pdf")
    assert worksheet.ok and worksheet.body().startswith(b"%PDF")
    page.goto(f"{base}/runs/{run.pk}/worksheet/")
    expect(page.get_by_text("0040").first).to_be_visible()
    # The renderer's grouped header row has an empty spanning cell (labnotes/documents, not
    # this page's markup): every other rule applies.
    assert_accessible(page, {"rules": {"empty-table-header": {"enabled": False}}})
    screenshot(page, "run-worksheet-print-view")

    page.goto(f"{base}/runs/{run.pk}/rechallenge/")
    expect(page.get_by_label("0001")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "run-rechallenge")

    page.goto(f"{base}/today/")
    assert_accessible(page)
    screenshot(page, "today")
    assert not console_errors(page)
