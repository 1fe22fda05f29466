"""The Today page's measure task opens the run's grid on that day at that animal, by keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from labnotes.models import Task, TaskKind
from tests.browser.test_page_kit import log_in
from tests.labnotes.conftest import design, run  # noqa: F401  (fixtures)
from tests.labnotes.test_run_pages import randomized
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@LIVE
def test_measure_task_link_opens_the_grid_at_its_animal(
    page: Page,
    live_server: Any,
    design: Any,  # noqa: F811
    run: Any,  # noqa: F811
) -> None:
    randomized(design, run, count=10)
    today = design.lab.local_date(timezone.now())
    task = Task.objects.filter(run=run, kind=TaskKind.MEASURE).order_by("-pk").first()
    assert task is not None
    Task.objects.filter(pk=task.pk).update(scheduled_date=today)  # due today (test setup)
    log_in(page, live_server.url, design.technician, next_path=f"/today/?day={today.isoformat()}")
    link = page.get_by_role("link", name="in the measurement grid").filter(has_text=task.animal.tag)
    expect(link.first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "today-measure-links")
    link.first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/runs/{run.pk}/grid/?day={today.isoformat()}#animal-{task.animal_id}")
    expect(page.locator(f"tbody#animal-{task.animal_id}")).to_have_attribute(
        "data-tag", task.animal.tag
    )
    screenshot(page, "grid-from-today-link")
    assert not [e for e in console_errors(page) if "Failed to load" not in e]
