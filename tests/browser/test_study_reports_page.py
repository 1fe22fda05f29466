"""The study's Reports tab in headless Chromium: a scientist picks runs to pool and asks for a
pooled report with a chosen synergy model; keyboard and labels work, the request is queued."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from labnotes.models import Report
from tests.browser.test_page_kit import log_in
from tests.labnotes.reports.report_run import build_report_run
from tests.support.browser import assert_accessible, screenshot

LIVE = pytest.mark.django_db(transaction=True)


@LIVE
def test_scientist_asks_for_a_pooled_report_of_two_runs_from_the_study_tab(
    page: Page, live_server: Any, lab: Any
) -> None:
    first = build_report_run(lab=lab, seed=11)
    second = build_report_run(lab=lab, seed=23, design=first.design, code="RUN-S", days_ago=27)
    study = first.design.study
    base = live_server.url
    log_in(page, base, first.design.scientist, next_path=f"/studies/{study.pk}/reports/")
    expect(
        page.get_by_role("heading", name=f"Reports of study {study.code} pooling runs")
    ).to_be_visible()
    expect(page.get_by_text("No pooled report of this study yet.")).to_be_visible()
    expect(page.get_by_label("RUN-R", exact=False)).to_be_checked()
    expect(page.get_by_label("RUN-S", exact=False)).to_be_checked()
    synergy = page.get_by_label("Synergy model")
    options = synergy.locator("option").all_inner_texts()
    assert any("response additivity" in o for o in options)
    assert any("mixed model" in o for o in options)
    assert any("area under the growth curves" in o for o in options)
    assert_accessible(page)
    screenshot(page, "study-reports-tab")
    # Keyboard: untick "follow the plan", choose the AUC synergy model, submit with Enter.
    page.get_by_label("Follow the approved analysis plan").uncheck()
    synergy.select_option("auc")
    page.get_by_role("button", name="Ask for the pooled report").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("queued: the worker builds it")).to_be_visible()
    report = Report.objects.get(study=study)
    assert report.run is None
    assert report.pooled_runs == sorted([first.run.pk, second.run.pk])
    assert report.options["synergy_model"] == "auc" and report.exploratory
    expect(
        page.get_by_role(
            "heading", name=f"report {report.pk} of {study.code} runs RUN-R + RUN-S (pooled)"
        )
    ).to_be_visible()
    assert_accessible(page)
    screenshot(page, "study-report-queued")
    page.goto(f"{base}/studies/{study.pk}/reports/")
    expect(page.get_by_role("link", name=f"Report {report.pk}")).to_be_visible()
    expect(page.locator(".badge--exploratory")).to_be_visible()
    screenshot(page, "study-reports-tab-with-report")
