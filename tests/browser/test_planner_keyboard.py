"""Design a study with the keyboard only, in headless Chromium.

On each planner page the walk presses Tab from the top until focus comes round again and
checks that every visible control of the page was reached and showed a focus ring (a computed
outline or box-shadow); fields are filled by typing into the focused element, boxes ticked with
Space, and forms submitted with Enter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from planner.demo import DEMO_LIBRARY, ENDPOINTS
from planner.models import Arm, ProtocolTemplate, RegimenItem, Study
from tests.browser.test_page_kit import log_in
from tests.conftest import _member
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)

# The focused element: a key to recognise it again, what it is, and whether its focus shows.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  if (!el.dataset.walk) el.dataset.walk = String(Math.random()).slice(2);
  const cs = getComputedStyle(el);
  const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
  const shadow = !!cs.boxShadow && cs.boxShadow !== 'none';
  const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
  return {key: el.dataset.walk, tag: el.tagName, name: el.getAttribute('name') || '',
          text: (label || el.innerText || el.value || '').trim().slice(0, 60),
          ring: outline || shadow};
}"""

# Every control a person could use on the page as it is shown now.
CONTROLS = """() => Array.from(document.querySelectorAll(
    'main a[href], main button, main input:not([type=hidden]), main select, main textarea,'
    + ' main summary'))
  .filter(el => el.getClientRects().length > 0 && !el.disabled && !el.closest('[inert]'))
  // a closed <details> shows only its summary
  .filter(el => el.tagName === 'SUMMARY' || !el.closest('details:not([open])'))
  .map(el => {
    if (!el.dataset.walk) el.dataset.walk = String(Math.random()).slice(2);
    return {key: el.dataset.walk, tag: el.tagName, name: el.getAttribute('name') || '',
            text: (el.innerText || el.value || '').trim().slice(0, 60)};
  })"""


def walk_page(page: Page, *, max_steps: int = 600) -> list[dict[str, Any]]:
    """Tab from the top of the page until focus comes round; every stop must show its focus."""
    from_top(page)
    seen: list[dict[str, Any]] = []
    keys: set[str] = set()
    outside = 0
    for _ in range(max_steps):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:  # past the last control (the browser's own UI), then round again
            outside += 1
            if outside > 3:
                break
            continue
        if focused["key"] in keys:
            break
        keys.add(focused["key"])
        seen.append(focused)
    else:
        raise AssertionError(f"focus never came round after {max_steps} Tab presses")
    invisible = [f"{s['tag']} {s['name']} {s['text']!r}" for s in seen if not s["ring"]]
    assert not invisible, f"focus not visible on: {invisible}"
    missed = [
        f"{c['tag']} {c['name']} {c['text']!r}"
        for c in page.evaluate(CONTROLS)
        if c["key"] not in keys
    ]
    assert not missed, f"not reachable by Tab on {page.url}: {missed}"
    return seen


def tab_to(page: Page, selector: str, *, max_steps: int = 400) -> None:
    """Press Tab (from the current focus) until the element matching ``selector`` has focus."""
    for _ in range(max_steps):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def tab_to_button(page: Page, text: str, *, max_steps: int = 400) -> None:
    """Press Tab until the button reading ``text`` has focus."""
    for _ in range(max_steps):
        page.keyboard.press("Tab")
        if page.evaluate(
            "(t) => document.activeElement.tagName === 'BUTTON'"
            " && document.activeElement.innerText.trim() === t",
            text,
        ):
            return
    raise AssertionError(f"Tab never reached the button {text!r}")


def from_top(page: Page) -> None:
    """Put the sequential focus starting point at the top of the page (blur alone keeps it
    where the last focused element was)."""
    page.evaluate(
        "() => { document.body.tabIndex = -1; document.body.focus();"
        " document.body.removeAttribute('tabindex'); window.scrollTo(0, 0); }"
    )


def type_into(page: Page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def _check(page: Page, name: str) -> None:
    assert_accessible(page)
    screenshot(page, name)


@pytest.fixture
def director_with_library(lab: Any) -> Any:
    from planner.services import ethics, protocols

    director = _member(lab, "study_director")
    for name, (kind, parameters) in DEMO_LIBRARY.items():
        if kind == "dosing":
            version = protocols.create_template(
                lab=lab, name=name, kind=kind, parameters=parameters, created_by=director
            )
            protocols.release_version(version=version, released_by=director)
    ethics.create_ethics_protocol(
        lab=lab,
        number="ETH-9",
        title="Syngeneic tumours",
        approved_on=dt.date(2024, 1, 1),
        expires_on=dt.date(2099, 1, 1),
        endpoint_limits=ENDPOINTS,
        created_by=director,
    )
    return director


@pytest.fixture
def keyboard_page(browser: Any) -> Any:
    context = browser.new_context(
        bypass_csp=True, viewport={"width": 1024, "height": 768}, locale="en-GB"
    )
    try:
        yield context.new_page()
    finally:
        context.close()


@LIVE
def test_director_designs_a_study_with_the_keyboard_only(
    keyboard_page: Page, live_server: Any, director_with_library: Any
) -> None:
    page = keyboard_page
    log_in(page, live_server.url, director_with_library, next_path="/studies/new/")

    # New study: every control reachable, fields typed, Enter submits.
    expect(page.get_by_role("heading", level=1)).to_have_text("New study")
    walk_page(page)
    from_top(page)
    type_into(page, "#id_code", "KB-01")
    type_into(page, "#id_title", "Keyboard-built design")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("KB-01")
    study = Study.objects.get(code="KB-01")

    # The design page: add an arm (Space ticks "Control arm", Enter submits).
    walk_page(page)
    from_top(page)
    type_into(page, "#id_arm-label", "Vehicle")
    type_into(page, "#id_arm-planned_n", "8")
    tab_to(page, "#id_arm-is_control")
    page.keyboard.press("Space")
    tab_to_button(page, "Add arm")
    page.keyboard.press("Enter")
    expect(page.locator("#design")).to_contain_text("Remove arm Vehicle")
    arm = Arm.objects.get(study=study, label="Vehicle")
    assert arm.is_control and arm.planned_n == 8

    # A regimen item: open the <details> with Enter, choose the protocol by typing, submit.
    from_top(page)
    tab_to(page, f"details:has(#id_item-{arm.pk}-agent) > summary")
    page.keyboard.press("Enter")
    tab_to(page, f"#id_item-{arm.pk}-protocol_version")
    page.keyboard.type("Vehicle IP")
    type_into(page, f"#id_item-{arm.pk}-agent", "Vehicle IP")
    type_into(page, f"#id_item-{arm.pk}-dose", "0")
    type_into(page, f"#id_item-{arm.pk}-schedule", "once on day 7")
    tab_to(page, f"#id_item-{arm.pk}-is_vehicle")
    page.keyboard.press("Space")
    tab_to_button(page, "Add regimen item")
    page.keyboard.press("Space")
    expect(page.get_by_role("table", name="Regimen of Vehicle")).to_contain_text("Vehicle IP")
    item = RegimenItem.objects.get(arm=arm)
    assert item.is_vehicle and item.schedule == "once on day 7"
    walk_page(page)
    _check(page, "planner-keyboard-design")

    # Edit the arm: the link opens with Enter, the form walks, Enter saves with a reason.
    from_top(page)
    tab_to(page, f"a[href='/arms/{arm.pk}/edit/']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit arm Vehicle")
    walk_page(page)
    _check(page, "planner-keyboard-arm-edit")
    from_top(page)
    type_into(page, "#id_planned_n", "10")
    type_into(page, "#id_reason", "power calculation")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("KB-01")
    assert Arm.objects.get(pk=arm.pk).planned_n == 10

    # Edit the regimen item the same way.
    from_top(page)
    tab_to(page, f"a[href='/regimen-items/{item.pk}/edit/']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit Vehicle IP in Vehicle")
    walk_page(page)
    _check(page, "planner-keyboard-item-edit")
    from_top(page)
    type_into(page, "#id_schedule", "once on day 8")
    type_into(page, "#id_reason", "later start")
    page.keyboard.press("Enter")
    expect(page.get_by_role("table", name="Regimen of Vehicle")).to_contain_text("once on day 8")

    # A sample-collection protocol through its per-kind form: choose the kind, fill, Enter.
    page.goto(f"{live_server.url}/protocols/new/")
    walk_page(page)
    from_top(page)
    tab_to(page, "#id_kind")
    page.keyboard.type("Sample")
    tab_to_button(page, "Continue")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("New sample collection protocol")
    walk_page(page)
    _check(page, "planner-keyboard-protocol-form")
    from_top(page)
    type_into(page, "#id_name", "Spleen at endpoint")
    tab_to(page, "#p-tissue")
    page.keyboard.type("spleen")
    tab_to(page, "#p-timing")
    page.keyboard.type("at endpoint")
    type_into(page, "#p-processing", "Mash through 70 um strainer")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Spleen at endpoint")
    parameters = ProtocolTemplate.objects.get(name="Spleen at endpoint").versions.get().parameters
    assert (parameters["tissue"], parameters["timing"]) == ("spleen", "at_endpoint")
    assert not console_errors(page)


@LIVE
def test_parameter_form_errors_are_shown_per_field_and_reachable(
    keyboard_page: Page, live_server: Any, director_with_library: Any
) -> None:
    page = keyboard_page
    log_in(page, live_server.url, director_with_library, next_path="/protocols/")
    page.goto(f"{live_server.url}/protocols/new/?kind=implantation")
    expect(page.get_by_role("heading", level=1)).to_have_text("New implantation protocol")
    page.locator("#id_name").fill("Bad implantation")
    page.locator("#p-cell_line-rrid").fill("CVCL_72")
    page.locator("#p-volume_ul").fill("5000")
    page.locator("#p-route").select_option("SC")
    page.get_by_role("button", name="Create draft").first.click()
    summary = page.get_by_role("alert").filter(has_text="The parameters have problems")
    expect(summary).to_contain_text("is not a Cellosaurus RRID")
    expect(page.locator("#p-volume_ul_error")).to_contain_text("must be at most 1000 µL")
    expect(page.locator("#p-cells_per_site_error")).to_contain_text("this field is required")
    walk_page(page)
    _check(page, "planner-keyboard-protocol-errors")
    assert not ProtocolTemplate.objects.filter(name="Bad implantation").exists()
