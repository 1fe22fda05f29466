"""A scientist asks for a final report in headless Chromium; a real worker builds it while the
page polls its progress; then the run dashboard with its curves and individual curves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from labnotes.models import Report
from tests.browser.test_page_kit import log_in
from tests.labnotes.reports.report_run import build_report_run
from tests.labnotes.reports.worker_support import WorkerPool
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@pytest.fixture
def report_worker(tmp_path: Path) -> Iterator[WorkerPool]:
    import os

    from config.celery import app
    from tests.conftest import _database_url_for_current_test_db

    queue = f"vivolog-report-browser-{os.getpid()}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    pool = WorkerPool(
        queue=queue,
        database_url=_database_url_for_current_test_db(),
        broker_url=str(app.conf.broker_url),
        log_dir=tmp_path,
    )
    try:
        yield pool
    finally:
        app.conf.task_default_queue = previous
        pool.stop_all()


@LIVE
@pytest.mark.worker
def test_scientist_asks_for_a_report_and_follows_it_to_the_downloads(
    page: Page, live_server: Any, lab: Any, report_worker: WorkerPool
) -> None:
    report_run = build_report_run(lab=lab)
    run = report_run.run
    report_worker.start("browser")
    base = live_server.url
    log_in(page, base, report_run.design.scientist, next_path=f"/runs/{run.pk}/reports/")
    expect(page.get_by_role("heading", name=f"Reports of run {run.code}")).to_be_visible()
    expect(page.get_by_text("No report of this run yet.")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "reports-tab-empty")

    page.get_by_label("Kind").select_option("final")
    expect(page.get_by_label("Follow the approved analysis plan")).to_be_checked()
    page.get_by_role("button", name="Ask for the report").click()
    expect(page.get_by_text("queued: the worker builds it")).to_be_visible()
    report = Report.objects.get(run=run)
    assert page.url.endswith(f"/reports/{report.pk}/")
    screenshot(page, "report-progress")
    # htmx polls the status fragment until the worker has published the files.
    expect(page.locator('[data-report-status="succeeded"]')).to_be_visible(timeout=300_000)
    expect(page.get_by_role("link", name="report.pdf")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "report-succeeded")
    pdf = page.request.get(f"{base}/reports/{report.pk}/files/report.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")

    page.goto(f"{base}/runs/{run.pk}/reports/")
    expect(page.get_by_role("link", name=f"Report {report.pk}")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "reports-tab-with-report")

    page.goto(f"{base}/runs/{run.pk}/dashboard/")
    expect(page.get_by_role("heading", name="Current TGI")).to_be_visible()
    expect(page.locator("#dashboard-live svg").first).to_be_visible()
    page.get_by_role("button", name="Show individual tumour curves").click()
    expect(page.locator("#individual-curves svg")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "run-dashboard")
    assert not console_errors(page)
