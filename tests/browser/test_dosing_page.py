"""A doser records doses in headless Chromium with the keyboard only: the first due volume has
the focus, Enter records it (the row is swapped by htmx and shows Done) and the next due
volume takes the focus; a volume over the route's limit is refused in the row, nothing saved."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from labnotes.models import DoseRecord, Task
from tests.browser.test_page_kit import log_in
from tests.labnotes.conftest import design, run  # noqa: F401  (fixtures)
from tests.labnotes.test_dosing_support import build_dosing_run, weigh
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


def _focused_task(page: Page) -> int:
    focused = page.evaluate("() => document.activeElement && document.activeElement.id")
    assert focused and focused.startswith("dose-volume-"), focused
    return int(focused.removeprefix("dose-volume-"))


@LIVE
def test_doser_records_doses_with_enter_and_moves_down_the_list(
    page: Page,
    live_server: Any,
    design: Any,  # noqa: F811  (pytest fixture)
    run: Any,  # noqa: F811  (pytest fixture)
) -> None:
    dr = build_dosing_run(design, run, count=8)
    for code in ("G1", "G2", "G3", "G4"):
        for animal in dr.animals(code):
            weigh(animal, "20.00", design.technician)
    log_in(page, live_server.url, design.doser, next_path=f"/runs/{run.pk}/dosing/")
    expect(page.get_by_role("heading", name=f"Dosing of {run.code}", exact=False)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "dosing-list")

    recorded: list[int] = []
    for _ in range(3):
        task_id = _focused_task(page)
        volume = page.locator(f"#dose-volume-{task_id}").input_value()
        # a wedge-like entry: replace the proposed volume with what was drawn up, then Enter
        page.keyboard.press("Control+A")
        page.keyboard.type(volume)
        page.keyboard.press("Enter")
        expect(page.locator(f"#dose-row-{task_id}")).to_contain_text("Done")
        expect(page.locator(f"#dose-volume-{task_id}")).to_have_count(0)
        recorded.append(task_id)
        # htmx applies the swapped rows' autofocus when they settle, just after the swap
        page.wait_for_function(
            """(done) => { const el = document.activeElement;
                return !!el && el.id.startsWith("dose-volume-") && el.id !== done; }""",
            arg=f"dose-volume-{task_id}",
        )
        assert _focused_task(page) != task_id
    records = DoseRecord.objects.filter(task_id__in=recorded)
    assert records.count() == 3
    assert {r.operator_id for r in records} == {design.doser.pk}
    assert all(Task.objects.get(pk=pk).status == "done" for pk in recorded)

    # a volume far over the route's limit: refused in the row, focus kept, nothing saved
    task_id = _focused_task(page)
    page.keyboard.press("Control+A")
    page.keyboard.type("5000")
    page.keyboard.press("Enter")
    row = page.locator(f"#dose-row-{task_id}")
    expect(row.get_by_role("alert")).to_contain_text("limit")
    assert _focused_task(page) == task_id
    assert not DoseRecord.objects.filter(task_id=task_id).exists()
    screenshot(page, "dosing-list-refused")
    assert_accessible(page)
    errors = console_errors(page)
    assert not errors, errors
