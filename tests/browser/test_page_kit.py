"""The page kit in a real browser: base.html, the component page, the login page, vivolog.js.

Every page visited here is checked with axe-core, and screenshots land in var/screenshots/ for
a human to look at (at 1280 px, a desk, and 800 px, a tablet in portrait).
"""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.template.loader import render_to_string
from playwright.sync_api import Page, expect

from tests.factories import TEST_PASSWORD
from tests.support.browser import assert_accessible, console_errors, screenshot
from tests.support.requirements import REPO_ROOT

LIVE = pytest.mark.django_db(transaction=True)

BADGES = (
    "Draft",
    "Approved",
    "Active",
    "Completed",
    "Archived",
    "OK",
    "Approaching",
    "Reached",
    "Blinded",
    "Stale",
    "Exploratory",
)


def log_in(
    page: Page, base_url: str, user: Any, *, next_path: str, password: str = TEST_PASSWORD
) -> None:
    """Sign in through the login form, as a person would (``technician`` is tests/conftest's)."""
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("domcontentloaded")


def assert_skip_link_is_first_tab_stop(page: Page) -> None:
    """Tab from the top of the page lands on the skip link, which shows with a focus ring."""
    if page.evaluate("() => document.activeElement !== document.body"):
        # The page put focus somewhere itself (autofocus): start again from the top.
        page.evaluate(
            "() => { document.body.tabIndex = -1; document.body.focus();"
            " document.body.removeAttribute('tabindex'); }"
        )
    skip_link = page.locator(".skip-link")
    box_before = skip_link.bounding_box()
    assert box_before is not None and box_before["y"] + box_before["height"] <= 0, (
        "the skip link should sit out of sight until focused"
    )

    page.keyboard.press("Tab")

    focused = page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return {cls: e.className, href: e.getAttribute('href'), text: e.textContent.trim(),"
        " width: parseFloat(s.outlineWidth), style: s.outlineStyle}; }"
    )
    assert focused["cls"] == "skip-link", f"first Tab stop was {focused}"
    assert focused["href"] == "#main"
    assert focused["text"] == "Skip to main content"
    assert focused["style"] != "none" and focused["width"] >= 2, f"focus ring too faint: {focused}"
    box_after = skip_link.bounding_box()
    assert box_after is not None and box_after["y"] >= 0, "the focused skip link must be in sight"

    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def shoot_at_widths(page: Page, name: str) -> None:
    for width, height in ((1280, 900), (800, 1024)):
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"{name}-{width}")
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px wide"
    page.set_viewport_size({"width": 1024, "height": 768})


@LIVE
def test_login_page_is_labelled_keyboard_reachable_and_accessible(
    page: Page, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/components/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Vivolog")
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.locator('input[type="hidden"][name="next"]')).to_have_value("/components/")
    expect(page.get_by_role("link", name="Vivolog")).to_be_visible()
    expect(page.locator("footer")).to_contain_text("0.")
    assert_skip_link_is_first_tab_stop(page)
    assert_accessible(page)
    shoot_at_widths(page, "login")
    assert not console_errors(page)


@LIVE
def test_login_shows_error_text_when_password_is_wrong(
    page: Page, live_server: Any, technician: Any
) -> None:
    log_in(page, live_server.url, technician, next_path="/components/", password="wrong")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("There is a problem")
    expect(alert).to_contain_text("Error:")
    expect(page.get_by_label("Username")).to_have_value(technician.get_username())
    assert_accessible(page)
    screenshot(page, "login-error")


@LIVE
def test_components_page_shows_every_piece_when_signed_in(
    page: Page, live_server: Any, technician: Any
) -> None:
    log_in(page, live_server.url, technician, next_path="/components/")
    assert page.url == f"{live_server.url}/components/"

    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Today")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit trail")).to_have_count(0)
    expect(page.get_by_role("contentinfo").get_by_role("link", name="Page kit")).to_be_visible()
    expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    expect(nav).to_contain_text(technician.get_username())
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)

    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Page kit")
    for section in (
        "Typography",
        "Buttons",
        "Badges",
        "Alerts",
        "Forms",
        "Data table",
        "Tabs",
        "Card and definition list",
        "Pagination",
        "Grid entry",
        "Dialogs",
    ):
        expect(main.get_by_role("heading", level=2, name=section)).to_be_visible()
    for badge in BADGES:
        expect(main.locator(".kit-swatches .badge", has_text=badge).first).to_be_visible()
    expect(main.locator(".alert")).to_have_count(5)  # four kinds + the form's error summary
    expect(main.get_by_label("Tumour volume")).to_have_value("736.6")
    expect(main.locator(".input-unit__suffix", has_text="mm³")).to_be_visible()
    weight = main.get_by_label("Body weight")
    expect(weight).to_have_attribute("aria-invalid", "true")
    expect(main.locator("#kit-weight_error")).to_contain_text("Error:")
    expect(main.get_by_role("radio", name="Intraperitoneal (IP)")).to_be_checked()
    expect(main.get_by_role("checkbox", name="Tumour ulcerated")).to_be_visible()
    for state in ("Saved", "Saving…", "Pending", "Error: not saved"):
        expect(main.locator(".grid-entry__status", has_text=state).first).to_be_visible()

    volume_cell = main.locator("#tables td.num").nth(4)
    alignment = volume_cell.evaluate(
        "e => [getComputedStyle(e).textAlign, getComputedStyle(e).fontVariantNumeric]"
    )
    assert alignment == ["right", "tabular-nums"]
    header = main.locator("#tables thead th").first
    assert header.evaluate("e => getComputedStyle(e).position") == "sticky"

    assert_skip_link_is_first_tab_stop(page)
    assert_accessible(page)
    shoot_at_widths(page, "components")
    assert not console_errors(page)


@LIVE
def test_pages_carry_no_inline_script_or_style(page: Page, live_server: Any) -> None:
    for path in ("/components/", "/accounts/login/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_function("() => window.htmx !== undefined")
        found = page.evaluate(
            "() => ({inlineScripts: document.querySelectorAll('script:not([src])').length,"
            " styleElements: document.querySelectorAll('style').length,"
            " styleAttributes: document.querySelectorAll('[style]').length,"
            " handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes]"
            "   .some(a => a.name.startsWith('on'))).length,"
            " htmx: htmx.version, indicatorStyles: htmx.config.includeIndicatorStyles})"
        )
        assert found == {
            "inlineScripts": 0,
            "styleElements": 0,
            "styleAttributes": 0,
            "handlers": 0,
            "htmx": found["htmx"],
            "indicatorStyles": False,
        }, path
        assert found["htmx"].startswith("2."), found
        scripts = page.locator("script[src]")
        for index in range(scripts.count()):
            assert scripts.nth(index).get_attribute("defer") is not None
            assert (scripts.nth(index).get_attribute("src") or "").startswith("/static/")


@LIVE
def test_htmx_requests_carry_the_csrf_token(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/components/")
    page.wait_for_function("() => window.htmx !== undefined")
    page.route("**/kit-csrf-probe", lambda route: route.fulfill(status=204, body=""))

    with page.expect_request("**/kit-csrf-probe") as request_info:
        page.evaluate("() => htmx.ajax('POST', '/kit-csrf-probe', {target: 'main', swap: 'none'})")

    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    assert cookies.get("csrftoken"), "rendering {{ csrf_token }} should have set the cookie"
    assert request_info.value.headers.get("x-csrftoken") == cookies["csrftoken"]


@LIVE
def test_question_mark_opens_shortcuts_and_escape_closes_them(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/components/")
    page.wait_for_function("() => window.htmx !== undefined")
    dialog = page.locator("#shortcuts-dialog")

    page.get_by_label("Observation notes").fill("")
    page.keyboard.type("?")
    expect(page.get_by_label("Observation notes")).to_have_value("?")
    expect(dialog).to_be_hidden()

    opener = page.get_by_role("button", name="Open a dialog")
    opener.focus()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    assert page.evaluate("() => document.activeElement.closest('dialog')?.id") == "shortcuts-dialog"
    assert_accessible(page)
    screenshot(page, "shortcuts-dialog", full_page=False)

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


@LIVE
def test_data_confirm_asks_before_following_a_link(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/components/")
    page.wait_for_function("() => window.htmx !== undefined")
    start = page.url
    danger = page.get_by_role("link", name="Danger (asks first)")
    confirm = page.locator("#confirm-dialog")

    danger.click()
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Void this measurement?")
    expect(confirm.get_by_role("button", name="Void measurement")).to_be_visible()
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    screenshot(page, "confirm-dialog", full_page=False)
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    assert page.url == start

    danger.click()
    confirm.get_by_role("button", name="Void measurement").click()
    expect(page).to_have_url(f"{start}#buttons")


@LIVE
def test_dismissing_an_alert_removes_it_and_keeps_focus_nearby(
    page: Page, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/components/")
    page.wait_for_function("() => window.htmx !== undefined")
    alerts = page.locator("#alerts .alert")
    expect(alerts).to_have_count(4)

    alerts.first.get_by_role("button", name="Dismiss information").press("Enter")

    expect(alerts).to_have_count(3)
    expect(alerts.first.get_by_role("button")).to_be_focused()


@LIVE
def test_print_styles_drop_navigation_and_print_black_on_white(
    page: Page, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/components/")
    page.emulate_media(media="print")

    expect(page.locator(".site-nav")).to_be_hidden()
    expect(page.locator(".pagination")).to_be_hidden()
    colours = page.evaluate(
        "() => [getComputedStyle(document.body).color, getComputedStyle(document.body)"
        ".backgroundColor, getComputedStyle(document.querySelector('#tables tbody tr'))"
        ".breakInside]"
    )
    assert colours == ["rgb(0, 0, 0)", "rgb(255, 255, 255)", "avoid"]
    screenshot(page, "components-print")


class MeasurementForm(forms.Form):
    tag = forms.CharField(label="Animal tag", help_text="Leading zeros are kept.")
    volume_mm3 = forms.DecimalField(label="Tumour volume", min_value=0)
    route = forms.ChoiceField(
        label="Route",
        choices=[("IP", "Intraperitoneal"), ("IV", "Intravenous")],
        widget=forms.RadioSelect,
    )
    ulcerated = forms.BooleanField(label="Tumour ulcerated", required=False)
    measured_on = forms.DateField(
        label="Measurement date", widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(label="Notes", widget=forms.Textarea, required=False)
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volume_mm3"].unit = "mm³"  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        raise forms.ValidationError("This animal is no longer on study.")


def test_form_include_links_labels_help_and_errors(page: Page) -> None:
    form = MeasurementForm(data={"tag": "", "volume_mm3": "-3", "measured_on": "2024-03-14"})
    assert not form.is_valid()
    fields = render_to_string("_form.html", {"form": form})
    page.set_content(
        '<!DOCTYPE html><html lang="en"><head><title>Form</title></head><body><main>'
        f'<h1>Record a measurement</h1><form class="form">{fields}</form></main></body></html>'
    )
    page.add_style_tag(path=str(REPO_ROOT / "static" / "css" / "vivolog.css"))

    tag = page.get_by_label("Animal tag")
    expect(tag).to_have_attribute("aria-invalid", "true")
    expect(tag).to_have_attribute("aria-describedby", "id_tag_helptext id_tag_error")
    expect(page.locator("#id_tag_helptext")).to_have_text("Leading zeros are kept.")
    expect(page.locator("#id_tag_error")).to_have_text("Error: This field is required.")
    expect(page.get_by_label("Tumour volume")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".input-unit__suffix")).to_have_text("mm³")
    expect(page.get_by_role("group", name="Route")).to_have_attribute(
        "aria-describedby", "id_route_error"
    )
    expect(page.get_by_role("checkbox", name="Tumour ulcerated")).not_to_be_checked()
    expect(page.get_by_label("Measurement date")).to_have_attribute("type", "date")
    expect(page.get_by_label("Notes")).not_to_have_attribute("aria-invalid", "true")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Error: This animal is no longer on study.")
    expect(summary.get_by_role("link", name="Route: This field is required.")).to_have_attribute(
        "href", "#id_route_0"
    )
    expect(page.locator(".form__note")).to_have_count(1)
    assert_accessible(page)
    screenshot(page, "form-include")
