"""static/js/grid.js in Chromium, against a fake save endpoint routed inside the browser.

No Django view and no database: the grid page is a static fixture written into tmp_path, and
``page.route`` serves it, the real static files and a tiny in-browser save endpoint that
behaves as GRID.md says the real one must (201 saved, 200 on a replayed Idempotency-Key,
``warning`` / ``needs_repeat`` answers). The page is served with a strict
Content-Security-Policy, so an inline script or style in grid.js's output would show up as a
console error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.support.browser import assert_accessible, console_errors
from tests.support.requirements import REPO_ROOT

ORIGIN = "http://localhost:8765"
CSRF_TOKEN = "test-csrf-token-0123456789"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
STATIC_FILES = {
    "/static/js/grid.js": ("static/js/grid.js", "text/javascript"),
    "/static/js/vivolog.js": ("static/js/vivolog.js", "text/javascript"),
    "/static/vendor/htmx/htmx.min.js": ("static/vendor/htmx/htmx.min.js", "text/javascript"),
    "/static/vendor/axe-core/axe.min.js": (
        "static/vendor/axe-core/axe.min.js",
        "text/javascript",
    ),
    "/static/css/vivolog.css": ("static/css/vivolog.css", "text/css"),
}
OBSERVER = """
window.__gridStates = [];
window.__submits = 0;
document.addEventListener("vivolog:grid-cell-state", (e) => window.__gridStates.push(e.detail));
document.addEventListener("submit", () => { window.__submits += 1; }, true);
"""

Responder = Callable[[dict[str, Any], int], "tuple[int, dict[str, Any]] | None"]


def cell_id(animal: int, field_name: str, tumour: int = 1) -> str:
    if field_name == "weight":
        return f"c-a{animal}-weight"
    return f"c-a{animal}-t{tumour}-{field_name}"


def grid_html(
    *,
    animals: int,
    bilateral: frozenset[int] = frozenset(),
    order: str = "row",
    operator: str = "17",
    retry_ms: int = 200,
) -> str:
    """A grid page as the real view will render it (GRID.md), inside a form with a submit."""
    bodies = []
    for animal in range(1, animals + 1):
        tag = f"{animal:04d}"
        tumours = (1, 2) if animal in bilateral else (1,)
        rows = []
        for tumour in tumours:
            row_id = f"row-a{animal}-t{tumour}"
            side = {1: " left", 2: " right"}[tumour] if len(tumours) > 1 else ""
            cells = [f'<th scope="row" id="{row_id}">{tag}{side}</th>']
            for name in ("length", "width"):
                cells.append(cell_markup(cell_id(animal, name, tumour), row_id, name))
            if tumour == 1:
                cells.append(
                    cell_markup(cell_id(animal, "weight"), row_id, "weight", rowspan=len(tumours))
                )
            rows.append(f'<tr data-tumour="a{animal}-t{tumour}">{"".join(cells)}</tr>')
        bodies.append(f'<tbody data-animal="a{animal}" data-tag="{tag}">{"".join(rows)}</tbody>')
    first = f' autofocus data-first="{cell_id(1, "length")}"'
    html = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="csrf-token" content="{CSRF_TOKEN}">
  <meta name="htmx-config" content='{{"includeIndicatorStyles": false, "allowEval": false}}'>
  <title>Day 14 caliper entry</title>
  <link rel="stylesheet" href="/static/css/vivolog.css">
  <script src="/static/vendor/htmx/htmx.min.js" defer></script>
  <script src="/static/js/vivolog.js" defer></script>
  <script src="/static/js/grid.js" defer></script>
</head>
<body>
<main id="main" tabindex="-1">
  <h1>Day 14 caliper entry</h1>
  <form method="post" action="/submitted">
    <div data-grid data-save-url="/save" data-operator-id="{operator}" data-order="{order}"
         data-tag-prefix="#" data-storage-key="run-1-day-14" data-retry-base-ms="{retry_ms}"
         data-columns="length width weight">
      <div class="table-scroll" role="region" aria-labelledby="grid-caption" tabindex="0">
        <table class="table entry-grid">
          <caption id="grid-caption">Day 14: length and width (mm), body weight (g)</caption>
          <thead><tr>
            <th scope="col" id="col-animal">Animal</th>
            <th scope="col" class="num" id="col-length">Length (mm)</th>
            <th scope="col" class="num" id="col-width">Width (mm)</th>
            <th scope="col" class="num" id="col-weight">Weight (g)</th>
          </tr></thead>
          {"".join(bodies)}
        </table>
      </div>
    </div>
    <button type="submit" class="button">Finish the day</button>
  </form>
</main>
</body>
</html>"""
    return html.replace('data-field="length"><input', f'data-field="length"><input{first}', 1)


def cell_markup(element_id: str, row_id: str, name: str, *, rowspan: int = 1) -> str:
    span = f' rowspan="{rowspan}"' if rowspan > 1 else ""
    return (
        f'<td class="grid-entry" data-cell data-field="{name}"{span}>'
        f'<input type="text" inputmode="decimal" autocomplete="off" id="{element_id}" '
        f'aria-labelledby="{row_id} col-{name}" aria-describedby="{element_id}-status">'
        f'<span class="grid-entry__status" id="{element_id}-status"></span></td>'
    )


@dataclass
class FakeEndpoint:
    """The save endpoint's contract, in memory: one reading per Idempotency-Key."""

    tmp_path: Path
    responder: Responder | None = None
    abort_all: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    saved: dict[str, dict[str, Any]] = field(default_factory=dict)
    submitted: int = 0

    def page_path(self, query: dict[str, list[str]]) -> Path:
        bilateral = frozenset(int(n) for n in query.get("bilateral", [""])[0].split(",") if n)
        html = grid_html(
            animals=int(query.get("animals", ["40"])[0]),
            bilateral=bilateral,
            order=query.get("order", ["row"])[0],
            operator=query.get("operator", ["17"])[0],
            retry_ms=int(query.get("retry", ["200"])[0]),
        )
        path = self.tmp_path / f"grid-{len(list(self.tmp_path.iterdir()))}.html"
        path.write_text(html, encoding="utf-8")
        return path

    def handle(self, route: Route, request: Request) -> None:
        url = urlsplit(request.url)
        if url.path == "/grid":
            body = self.page_path(parse_qs(url.query)).read_text(encoding="utf-8")
            route.fulfill(
                status=200,
                content_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": CSP},
                body=body,
            )
        elif url.path in STATIC_FILES:
            relative, content_type = STATIC_FILES[url.path]
            route.fulfill(
                status=200, content_type=content_type, body=(REPO_ROOT / relative).read_bytes()
            )
        elif url.path == "/save":
            self.save(route, request)
        elif url.path == "/submitted":
            self.submitted += 1
            route.fulfill(status=200, content_type="text/html", body="<p>submitted</p>")
        else:
            route.fulfill(status=404, body="not found")

    def save(self, route: Route, request: Request) -> None:
        key = request.headers.get("idempotency-key", "")
        body: dict[str, Any] = request.post_data_json or {}
        attempt = sum(1 for r in self.requests if r["key"] == key) + 1
        entry: dict[str, Any] = {"key": key, "body": body, "headers": request.headers}
        self.requests.append(entry)
        if self.abort_all:
            entry["status"] = "aborted"
            route.abort("internetdisconnected")
            return
        answer = self.responder(body, attempt) if self.responder else None
        if answer is None:
            answer = (201, {})
        status, data = answer
        if 200 <= status < 300:
            replay = key in self.saved
            if not replay:
                self.saved[key] = body
            status = 200 if replay else status
            data = {"status": "saved", "display": body["raw"].replace(",", "."), **data}
        entry["status"] = status
        route.fulfill(status=status, content_type="application/json", body=json.dumps(data))

    def statuses(self, key: str) -> list[Any]:
        return [r["status"] for r in self.requests if r["key"] == key]


@pytest.fixture
def endpoint(page: Page, tmp_path: Path) -> Iterator[FakeEndpoint]:
    fake = FakeEndpoint(tmp_path)
    page.add_init_script(script=OBSERVER)
    page.route(f"{ORIGIN}/**", fake.handle)
    yield fake
    # Chromium logs every failed request; those the fake caused on purpose are expected.
    caused = sum(1 for r in fake.requests if r.get("status") not in (200, 201))
    errors = console_errors(page)
    unexpected = [e for e in errors if "Failed to load resource" not in e]
    assert not unexpected, unexpected
    assert len(errors) - len(unexpected) <= caused, errors


def open_grid(page: Page, query: str = "") -> None:
    page.goto(f"{ORIGIN}/grid{query}")
    page.wait_for_function("() => document.querySelector('[data-grid]').dataset.gridReady")


def check_accessible(page: Page) -> None:
    """axe-core from our own origin (the CSP refuses the inline copy run_axe would inject)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    assert_accessible(page)


def focused_id(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement && document.activeElement.id"))


def wedge(page: Page, text: str) -> None:
    """What a USB caliper or balance does in keyboard-wedge mode: characters, then Enter."""
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def states_of(page: Page, element_id: str) -> list[str]:
    key = page.evaluate(
        "(id) => { const c = document.getElementById(id).closest('[data-cell]');"
        " const a = c.closest('[data-animal]').dataset.animal;"
        " const t = c.dataset.field === 'weight' ? '' : c.closest('[data-tumour]').dataset.tumour;"
        " return `${a}/${t}/${c.dataset.field}`; }",
        element_id,
    )
    log = page.evaluate("() => window.__gridStates")
    return [entry["state"] for entry in log if entry["key"] == key]


def stored_records(page: Page) -> dict[str, Any]:
    return dict(
        page.evaluate(
            "() => Object.fromEntries(Object.keys(localStorage)"
            ".filter((k) => k.startsWith('vivolog.grid.v1:'))"
            ".map((k) => [k, JSON.parse(localStorage.getItem(k))]))"
        )
    )


def expect_saved(page: Page, element_id: str) -> None:
    expect(page.locator(f"#{element_id}").locator("xpath=..")).to_have_class(
        "grid-entry is-saved", timeout=10_000
    )


# ---------------------------------------------------------------------------------------------


def test_wedge_enters_40_animals_with_keystrokes_only_and_enter_never_submits(
    page: Page, endpoint: FakeEndpoint
) -> None:
    open_grid(page)
    check_accessible(page)
    assert focused_id(page) == cell_id(1, "length")

    typed: dict[tuple[int, str], str] = {}
    for animal in range(1, 41):
        length = f"{8 + animal / 10:.1f}"
        width = f"{6 + animal / 20:.2f}".replace(".", ",")  # a decimal comma now and then
        weight = ("+    %.2f g", "   %.2f g", "S S      %.2f g")[animal % 3] % (20 + animal / 7)
        for name, value in (("length", length), ("width", width), ("weight", weight)):
            assert focused_id(page) == cell_id(animal, name), (animal, name)
            typed[(animal, name)] = value
            wedge(page, value)
    assert focused_id(page) == cell_id(40, "weight"), "the last Enter has nowhere to go"

    page.wait_for_function(
        "() => document.querySelectorAll('[data-cell].is-saved').length === 120", timeout=20_000
    )
    assert len(endpoint.requests) == 120
    keys = {request["key"] for request in endpoint.requests}
    assert len(keys) == 120, "every cell has its own Idempotency-Key"
    assert set(endpoint.saved) == keys
    for request in endpoint.requests:
        body, headers = request["body"], request["headers"]
        assert body["client_id"] == request["key"]
        assert headers["x-csrftoken"] == CSRF_TOKEN
        assert headers["content-type"] == "application/json"
        animal = int(body["animal"][1:])
        assert body["raw"] == typed[(animal, body["field"])].strip()
        assert body["operator"] == "17"
        assert body["tumour"] == (None if body["field"] == "weight" else f"a{animal}-t1")
        assert body["correction_of"] is None and body["repeat_of"] is None
    assert page.input_value(f"#{cell_id(3, 'width')}") == "6.15"  # the server's display value

    assert endpoint.submitted == 0
    assert page.evaluate("() => window.__submits") == 0
    assert page.url == f"{ORIGIN}/grid"
    assert stored_records(page) == {}, "nothing left unsent"


def test_scanned_tag_jumps_to_its_animal_and_an_unknown_tag_warns_keeping_focus(
    page: Page, endpoint: FakeEndpoint
) -> None:
    open_grid(page, "?animals=6")
    wedge(page, "#0004")
    assert focused_id(page) == cell_id(4, "length")
    assert page.input_value(f"#{cell_id(1, 'length')}") == "", "the tag is not left in a cell"

    wedge(page, "#9999")
    assert focused_id(page) == cell_id(4, "length")
    assert page.input_value(f"#{cell_id(4, 'length')}") == ""
    warning = page.locator("[data-grid-message]")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Tag 9999 is not in this grid")
    assert endpoint.requests == [], "a tag is never sent as a reading"

    # An ear tag without the configured prefix looks like a reading, and is one.
    wedge(page, "0006")
    assert focused_id(page) == cell_id(4, "width")
    page.wait_for_function("() => document.querySelectorAll('[data-cell].is-saved').length === 1")
    assert [r["body"]["raw"] for r in endpoint.requests] == ["0006"]

    wedge(page, "#0002")
    assert focused_id(page) == cell_id(2, "length")
    expect(warning).to_be_hidden()
    page.keyboard.press("Enter")  # an empty cell: just moves on, submits nothing
    assert focused_id(page) == cell_id(2, "width")
    assert endpoint.submitted == 0 and page.evaluate("() => window.__submits") == 0


def test_failed_save_retries_with_the_same_key_and_ends_saved_once(
    page: Page, endpoint: FakeEndpoint
) -> None:
    endpoint.responder = lambda body, attempt: (500, {"error": "boom"}) if attempt == 1 else None
    open_grid(page, "?animals=3")
    wedge(page, "9.5")
    wedge(page, "7.25")
    expect_saved(page, cell_id(1, "length"))
    expect_saved(page, cell_id(1, "width"))

    keys = list(dict.fromkeys(r["key"] for r in endpoint.requests))
    assert len(keys) == 2
    for key in keys:
        assert endpoint.statuses(key) == [500, 201], "one failure, one save, nothing more"
    assert len(endpoint.saved) == 2
    for element_id in (cell_id(1, "length"), cell_id(1, "width")):
        states = states_of(page, element_id)
        assert states[:2] == ["pending", "saving"]
        assert "failed" in states and states[-1] == "saved"
    expect(page.locator(f"#{cell_id(1, 'length')}-status")).to_have_text("Saved")
    assert stored_records(page) == {}


def test_reload_shows_an_unsent_cell_pending_then_saves_it_once(
    page: Page, endpoint: FakeEndpoint
) -> None:
    endpoint.abort_all = True
    open_grid(page, "?animals=3&retry=60000")
    wedge(page, "9.5")
    status = page.locator(f"#{cell_id(1, 'length')}-status")
    expect(status).to_contain_text("Not saved (no connection)")
    records = stored_records(page)
    assert list(records) == ["vivolog.grid.v1:run-1-day-14:17"]
    (client_id,) = records["vivolog.grid.v1:run-1-day-14:17"]

    endpoint.abort_all = False
    page.reload()
    page.wait_for_function("() => document.querySelector('[data-grid]').dataset.gridReady")
    expect_saved(page, cell_id(1, "length"))
    assert page.input_value(f"#{cell_id(1, 'length')}") == "9.5"
    assert states_of(page, cell_id(1, "length")) == ["pending", "saving", "saved"]
    assert endpoint.statuses(client_id) == ["aborted", 201]
    assert list(endpoint.saved) == [client_id], "saved exactly once, under the original key"
    assert stored_records(page) == {}


def test_cells_restored_for_another_operator_are_refused_and_shown(
    page: Page, endpoint: FakeEndpoint
) -> None:
    endpoint.abort_all = True
    open_grid(page, "?animals=3&retry=60000")
    wedge(page, "9.5")
    expect(page.locator(f"#{cell_id(1, 'length')}-status")).to_contain_text("Not saved")
    sent_before = len(endpoint.requests)

    endpoint.abort_all = False
    open_grid(page, "?animals=3&retry=60000&operator=99")
    status = page.locator(f"#{cell_id(1, 'length')}-status")
    expect(status).to_contain_text("typed in this browser by another user (operator 17)")
    expect(page.locator(f"#{cell_id(1, 'length')}").locator("xpath=..")).to_have_class(
        "grid-entry is-failed"
    )
    expect(page.locator("[data-grid-message]")).to_contain_text("1 reading(s)")
    assert page.input_value(f"#{cell_id(1, 'length')}") == "", "not offered as this user's value"
    page.wait_for_timeout(300)
    assert len(endpoint.requests) == sent_before, "nothing sent as the wrong user"
    assert endpoint.saved == {}
    assert list(stored_records(page)) == ["vivolog.grid.v1:run-1-day-14:17"], "kept for them"


def test_correction_in_the_same_session_takes_a_one_key_reason(
    page: Page, endpoint: FakeEndpoint
) -> None:
    open_grid(page, "?animals=3")
    wedge(page, "9.5")
    expect_saved(page, cell_id(1, "length"))
    first_key = endpoint.requests[0]["key"]

    page.keyboard.press("Shift+Tab")
    assert focused_id(page) == cell_id(1, "length")
    wedge(page, "9.8")
    dialog = page.get_by_role("dialog", name="Reason for the correction")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("0001 length: 9.5 → 9.8")
    check_accessible(page)
    page.keyboard.press("2")
    expect(dialog).to_be_hidden()
    assert focused_id(page) == cell_id(1, "width")
    expect_saved(page, cell_id(1, "length"))
    correction = endpoint.requests[-1]["body"]
    assert correction["raw"] == "9.8"
    assert correction["correction_of"] == first_key
    assert correction["reason"] == "re-measured"
    assert correction["client_id"] != first_key

    # Esc cancels: the saved value comes back and nothing is sent.
    page.keyboard.press("Shift+Tab")
    wedge(page, "12")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # The dialog's close event (and the restore it triggers) runs after the dialog hides.
    expect(page.locator(f"#{cell_id(1, 'length')}")).to_have_value("9.8")
    assert focused_id(page) == cell_id(1, "length")
    assert len(endpoint.requests) == 2


def test_endpoint_crossing_asks_for_a_repeat_then_warns(page: Page, endpoint: FakeEndpoint) -> None:
    def responder(body: dict[str, Any], attempt: int) -> tuple[int, dict[str, Any]] | None:
        if body["raw"] == "25" and body["field"] == "length":
            return 201, {"needs_repeat": True, "warning": "25 mm reaches the 20 mm limit."}
        if body["repeat_of"]:
            return 201, {"warning": "Endpoint reached: the study director has been alerted."}
        return None

    endpoint.responder = responder
    open_grid(page, "?animals=3")
    wedge(page, "25")
    status = page.locator(f"#{cell_id(1, 'length')}-status")
    expect(status).to_contain_text("Measure again now. 25 mm reaches the 20 mm limit.")
    assert focused_id(page) == cell_id(1, "length"), "back to the cell to repeat"
    assert page.input_value(f"#{cell_id(1, 'length')}") == ""
    first_key = endpoint.requests[0]["key"]

    wedge(page, "24.8")
    expect(status).to_contain_text("Warning: Endpoint reached")
    assert focused_id(page) == cell_id(1, "width")
    repeat = endpoint.requests[-1]["body"]
    assert (repeat["raw"], repeat["repeat_of"]) == ("24.8", first_key)
    assert repeat["correction_of"] is None
    expect(page.locator("[data-grid-message]")).to_contain_text("the study director")


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (
            "row",
            ["a1-t1-length", "a1-t1-width", "a1-weight", "a2-t1-length", "a2-t1-width",
             "a2-t2-length", "a2-t2-width", "a2-weight", "a3-t1-length"],
        ),
        (
            "column",
            ["a1-t1-length", "a2-t1-length", "a2-t2-length", "a3-t1-length", "a1-t1-width",
             "a2-t1-width", "a2-t2-width", "a3-t1-width", "a1-weight"],
        ),
    ],
)  # fmt: skip
def test_enter_follows_the_configured_order_through_a_bilateral_animal(
    page: Page, endpoint: FakeEndpoint, order: str, expected: list[str]
) -> None:
    open_grid(page, f"?animals=3&bilateral=2&order={order}")
    seen = [focused_id(page)]
    for _ in expected[1:]:
        page.keyboard.press("Enter")
        seen.append(focused_id(page))
    assert seen == [f"c-{name}" for name in expected]
    assert endpoint.requests == []


def test_arrows_and_tab_move_between_cells(page: Page, endpoint: FakeEndpoint) -> None:
    open_grid(page, "?animals=3&bilateral=2")
    page.keyboard.press("ArrowDown")
    assert focused_id(page) == cell_id(2, "length", 1)
    page.keyboard.press("ArrowDown")
    assert focused_id(page) == cell_id(2, "length", 2)
    page.keyboard.press("ArrowRight")
    assert focused_id(page) == cell_id(2, "width", 2)
    page.keyboard.press("Tab")
    assert focused_id(page) == cell_id(2, "weight")
    page.keyboard.press("Shift+Tab")
    assert focused_id(page) == cell_id(2, "width", 2)
    page.keyboard.press("ArrowUp")
    assert focused_id(page) == cell_id(2, "width", 1)
    page.keyboard.type("7.5")
    page.keyboard.press("ArrowLeft")  # inside the text: the caret moves, the cell does not
    assert focused_id(page) == cell_id(2, "width", 1)
    page.keyboard.press("ArrowUp")  # leaving the cell saves it
    assert focused_id(page) == cell_id(1, "width")
    expect_saved(page, cell_id(2, "width", 1))
    assert [r["body"]["raw"] for r in endpoint.requests] == ["7.5"]
