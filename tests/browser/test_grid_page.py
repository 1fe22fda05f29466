"""The real measurement grid page and save endpoint in headless Chromium, on PostgreSQL.

A keyboard wedge (USB caliper, balance, tag scanner) types characters and Enter: these tests
type exactly that, and check what the database holds afterwards.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, Route, expect

from labnotes.models import CaptureSettings, Measurement, PendingAxis
from tests.browser.test_page_kit import log_in
from tests.labnotes.conftest import design, run  # noqa: F401  (fixtures)
from tests.support.browser import assert_accessible, console_errors, screenshot

LIVE = pytest.mark.django_db(transaction=True)


def build_room(design: Any, run: Any, count: int) -> list[Any]:  # noqa: F811
    from labnotes.services.animals import (
        create_cage,
        move_animals,
        record_implantation,
        register_animals,
    )
    from tests.labnotes.builders import tag_rows

    CaptureSettings.objects.create(lab=design.lab, tag_prefix="#")
    animals = register_animals(run=run, rows=tag_rows(count), registered_by=design.technician)
    for index in range(0, count, 5):
        cage = create_cage(
            lab=design.lab,
            run=run,
            label=f"C{index // 5 + 1:02d}",
            created_by=design.technician,
            room="R101",
            rack="A",
            position=f"A{index // 5 + 1}",
        )
        move_animals(animals=animals[index : index + 5], cage=cage, moved_by=design.technician)
    for animal in animals:
        record_implantation(
            animal=animal,
            site="right flank",
            implanted_on=run.day0,
            cells=500_000,
            operator=design.technician,
        )
    return animals


def focused_id(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement && document.activeElement.id"))


def wedge(page: Page, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def cell_id(animal: Any, field: str) -> str:
    if field == "weight":
        return f"c-a{animal.pk}-weight"
    return f"c-{animal.tumours.first().pk}-{field}"


def status_of(page: Page, animal: Any, field: str) -> Any:
    return page.locator(f"#{cell_id(animal, field)}-status")


@LIVE
def test_wedge_enters_40_animals_with_keystrokes_only(
    page: Page,
    live_server: Any,
    design: Any,  # noqa: F811
    run: Any,  # noqa: F811
) -> None:
    animals = build_room(design, run, 40)
    log_in(page, live_server.url, design.technician, next_path=f"/runs/{run.pk}/grid/")
    page.wait_for_function("() => document.querySelector('[data-grid]').dataset.gridReady")
    assert_accessible(page)
    assert focused_id(page) == cell_id(animals[0], "length")

    expected: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
    for number, animal in enumerate(animals, start=1):
        length = Decimal(f"{8 + number / 10:.1f}")
        width = Decimal(f"{6 + number / 20:.2f}")
        weight = Decimal(f"{20 + number / 7:.2f}")
        expected[animal.pk] = (length, width, weight)
        assert focused_id(page) == cell_id(animal, "length"), number
        wedge(page, str(length))
        wedge(page, str(width).replace(".", ","))  # decimal comma
        wedge(page, ("+    %s g", "   %s g", "S S      %s g")[number % 3] % weight)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-cell].is-saved').length === 120", timeout=60_000
    )
    assert not page.locator("[data-cell].is-failed").count()
    calipers = Measurement.objects.filter(animal__run=run, kind="caliper")
    weights = Measurement.objects.filter(animal__run=run, kind="weight")
    assert calipers.count() == 40 and weights.count() == 40
    for reading in calipers:
        length, width, _ = expected[reading.animal_id]
        assert (reading.length_mm, reading.width_mm) == (max(length, width), min(length, width))
        volume = max(length, width) * min(length, width) ** 2 / 2  # L·W²/2, independent
        assert reading.volume_mm3 == volume.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    for reading in weights:
        assert reading.weight_g == expected[reading.animal_id][2]
    live = page.locator(f"#{cell_id(animals[0], 'length')}").locator(
        "xpath=ancestor::tr//td[@data-volume]"
    )
    first_volume = calipers.get(animal=animals[0]).volume_mm3
    assert first_volume is not None
    expect(live).to_have_text(f"{first_volume.normalize():f}")
    assert page.url.endswith(f"/runs/{run.pk}/grid/"), "Enter never submitted anything"
    screenshot(page, "grid-40-animals")
    assert not [e for e in console_errors(page) if "Failed to load" not in e]


@LIVE
def test_scan_unstable_np_endpoint_repeat_and_reload(
    page: Page,
    live_server: Any,
    design: Any,  # noqa: F811
    run: Any,  # noqa: F811
) -> None:
    from labnotes.services.measurements import record_measurement

    animals = build_room(design, run, 6)
    # Animal 0006 measured two days ago: 1152 mm³, below every limit.
    record_measurement(
        tumour=animals[5].tumours.first(),
        length_mm="16",
        width_mm="12",
        taken_at=timezone.now() - dt.timedelta(days=2),
        operator=design.technician,
    )
    log_in(page, live_server.url, design.technician, next_path=f"/runs/{run.pk}/grid/")
    page.wait_for_function("() => document.querySelector('[data-grid]').dataset.gridReady")

    # A scanned tag jumps to its animal; an unknown tag warns and keeps the cursor.
    wedge(page, "#0004")
    assert focused_id(page) == cell_id(animals[3], "length")
    wedge(page, "#9999")
    assert focused_id(page) == cell_id(animals[3], "length")
    expect(page.locator("[data-grid-message]")).to_contain_text("Tag 9999 is not in this grid")

    # NP accepted, stored as a flagged volume of 0.
    wedge(page, "NP")
    expect(status_of(page, animals[3], "length")).to_contain_text("Saved", timeout=10_000)
    np_reading = Measurement.objects.get(animal=animals[3], kind="caliper")
    assert (np_reading.reading_code, np_reading.volume_mm3) == ("NP", Decimal("0.00"))

    # An unstable balance reading is refused with the reason.
    page.locator(f"#{cell_id(animals[3], 'weight')}").focus()
    wedge(page, "S D      23.41 g")
    expect(status_of(page, animals[3], "weight")).to_contain_text("Not saved: Unstable")
    assert not Measurement.objects.filter(animal=animals[3], kind="weight").exists()

    # An endpoint-crossing reading asks for a repeat; the repeat warns.
    wedge(page, "#0006")
    assert focused_id(page) == cell_id(animals[5], "length")
    wedge(page, "21.5")
    wedge(page, "15")
    expect(status_of(page, animals[5], "width")).to_contain_text("Measure again now")
    assert focused_id(page) == cell_id(animals[5], "width")
    wedge(page, "15.2")
    expect(status_of(page, animals[5], "width")).to_contain_text("Endpoint reached on the repeat")
    today = Measurement.objects.filter(animal=animals[5], kind="caliper").order_by("pk")[1:]
    assert [m.repeat_of_id for m in today] == [None, today[0].pk]
    assert_accessible(page)
    screenshot(page, "grid-endpoint-repeat")

    # A cell whose save never got through survives a reload and is saved once.
    blocked: list[str] = []

    def block(route: Route) -> None:
        blocked.append(route.request.headers.get("idempotency-key", ""))
        route.abort("internetdisconnected")

    page.route("**/grid/save/", block)
    page.locator(f"#{cell_id(animals[1], 'weight')}").focus()
    wedge(page, "19.9")
    expect(status_of(page, animals[1], "weight")).to_contain_text("Not saved (no connection)")
    assert not Measurement.objects.filter(animal=animals[1], kind="weight").exists()
    page.unroute("**/grid/save/")
    page.add_init_script(
        "window.__states = []; document.addEventListener('vivolog:grid-cell-state',"
        " (e) => window.__states.push(e.detail.state));"
    )
    page.reload()
    page.wait_for_function("() => document.querySelector('[data-grid]').dataset.gridReady")
    expect(status_of(page, animals[1], "weight")).to_contain_text("Saved", timeout=10_000)
    assert page.evaluate("() => window.__states")[:1] == ["pending"]
    saved = Measurement.objects.filter(animal=animals[1], kind="weight")
    assert saved.count() == 1 and saved.get().weight_g == Decimal("19.90")
    assert saved.get().client_id == blocked[0]
    assert PendingAxis.objects.filter(animal=animals[1]).count() == 0
