"""Cage cards and animal labels: PDFs read back with pdftotext, one snapshot of each size."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
import segno
from defusedxml.ElementTree import fromstring

from labnotes.documents import (
    AnimalLabel,
    CageCard,
    CardAnimal,
    render_animal_labels_pdf,
    render_cage_cards_pdf,
)
from labnotes.documents.cards import cage_cards_html
from labnotes.documents.qr import QUIET_ZONE_MODULES, qr_svg
from tests.labnotes.documents.pdf import pages, pdf_links, pdf_text, snapshot, words

ETHICS = "AEC-2024-0113"
STUDY = "CT26-EFF-2025-03"


def card(number: int, *, animals: int = 5, rfid: bool = False) -> CageCard:
    def tag(index: int) -> str:
        return f"9001820{number:04d}{index:04d}" if rfid else f"M{number:02d}{index}"

    return CageCard(
        study_code=STUDY,
        run_code="R1",
        cage_label=f"C-{number:02d}",
        room="B2.14",
        rack="R3",
        arm_display=f"K{number % 4 + 3}X",
        ethics_protocol_number=ETHICS,
        animals=tuple(
            CardAnimal(tag(i), "F" if i % 2 else "M", dt.date(2025, 1, 2 + i))
            for i in range(animals)
        ),
        qr_url=f"https://vivolog.example.org/labnotes/cages/{1000 + number}/",
    )


def test_cage_cards_show_every_field_when_printed_ten_to_a_sheet(tmp_path: Path) -> None:
    cards = [card(n) for n in range(1, 13)]
    pdf = render_cage_cards_pdf(cards, size="cage_card")
    text = pdf_text(pdf, tmp_path)
    sheets = pages(text)
    assert len(sheets) == 2
    for number, sheet in ((1, 0), (10, 0), (11, 1), (12, 1)):
        page = words(sheets[sheet])
        assert f"Cage C-{number:02d}" in page
        for index in range(5):
            assert f"M{number:02d}{index}" in page
    assert words(sheets[1]).count(ETHICS) == 2
    flat = words(text)
    assert flat.count(f"{STUDY} · Run R1") == 12
    assert flat.count("Room B2.14 · Rack R3") == 12
    assert "Arm K4X" in flat and "Arm K5X" in flat
    assert "2025-01-02" in flat and "2025-01-06" in flat
    assert re.search(r"M010\s+M\s+2025-01-02", text)
    assert re.search(r"M011\s+F\s+2025-01-03", text)
    snapshot(pdf, "documents-cage-cards")


def test_thermal_labels_print_one_cage_per_page_when_tags_are_rfids(tmp_path: Path) -> None:
    cards = [card(1, rfid=True), card(2, animals=10, rfid=True), card(3, animals=1)]
    pdf = render_cage_cards_pdf(cards, size="thermal_label")
    labels = pages(pdf_text(pdf, tmp_path))
    assert len(labels) == 3
    for page, printed in zip(labels, cards, strict=True):
        assert f"Cage {printed.cage_label}" in page
        assert ETHICS in page
        assert STUDY in page
        for animal in printed.animals:
            # 15-digit RFIDs whole on one line, never wrapped
            assert re.search(rf"{animal.tag}\s+{animal.sex}\s+{animal.date_of_birth}", page)
    assert "900182000020009" in labels[1] and "900182000020009" not in labels[0]
    snapshot(render_cage_cards_pdf(cards[1:2], size="thermal_label"), "documents-thermal-label")


def test_card_keeps_ten_rfid_animals_on_one_card_when_printed_on_a_sheet(tmp_path: Path) -> None:
    pdf = render_cage_cards_pdf([card(5, animals=10, rfid=True)], size="cage_card")
    (page,) = pages(pdf_text(pdf, tmp_path))
    for index in range(10):
        assert f"9001820000500{index:02d}" in page


def test_card_is_refused_when_cage_holds_more_animals_than_fit() -> None:
    with pytest.raises(ValueError, match="at most 10"):
        card(1, animals=11)


def test_card_is_refused_when_qr_url_is_not_a_web_address() -> None:
    with pytest.raises(ValueError, match="http"):
        dataclasses.replace(card(1), qr_url="javascript:alert(1)")


@pytest.mark.parametrize("size", ["sheet", ""])
def test_rendering_is_refused_when_size_is_unknown(size: str) -> None:
    with pytest.raises(ValueError, match="size"):
        render_cage_cards_pdf([card(1)], size=size)  # type: ignore[arg-type]


def test_rendering_is_refused_when_there_are_no_cards() -> None:
    with pytest.raises(ValueError, match="nothing to print"):
        render_cage_cards_pdf([], size="cage_card")


def test_markup_is_printed_as_text_when_a_label_contains_script(tmp_path: Path) -> None:
    hostile = dataclasses.replace(
        card(1),
        cage_label="<script>alert(1)</script>",
        arm_display='"><img src=x onerror=alert(2)>',
        animals=(CardAnimal("<b>T1</b>", "F&M", None),),
    )
    html = cage_cards_html([hostile], size="cage_card")
    assert "<script>" not in html and "<img src=x" not in html and "<b>T1" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    text = words(pdf_text(render_cage_cards_pdf([hostile], size="thermal_label"), tmp_path))
    # the narrow label wraps the cage label after "</"
    assert re.search(r"Cage <script>alert\(1\)</ ?script>", text)
    assert "<b>T1</b>" in text and "F&M" in text


def test_every_card_carries_a_qr_code_linking_to_its_cage(tmp_path: Path) -> None:
    cards = [card(1), card(2)]
    html = cage_cards_html(cards, size="cage_card")
    assert html.count("<svg") == 2
    for printed in cards:
        assert f'href="{printed.qr_url}"' in html
        assert qr_svg(printed.qr_url) in html
    pdf = render_cage_cards_pdf(cards, size="cage_card")
    assert pdf_links(pdf, tmp_path) == {printed.qr_url for printed in cards}


def test_qr_svg_is_a_square_code_with_quiet_zone() -> None:
    url = "https://vivolog.example.org/labnotes/cages/1001/"
    root = fromstring(qr_svg(url))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    side = segno.make(url, error="m").symbol_size(border=0)[0] + 2 * QUIET_ZONE_MODULES
    assert root.attrib["viewBox"] == f"0 0 {side} {side}"
    assert "width" not in root.attrib and "height" not in root.attrib
    (path,) = root.findall("{http://www.w3.org/2000/svg}path")
    # the finder pattern's top edge: seven dark modules starting after the quiet zone
    assert path.attrib["d"].startswith(f"M{QUIET_ZONE_MODULES} {QUIET_ZONE_MODULES}.5h7")


def test_animal_labels_show_tag_study_cage_and_qr_one_per_thermal_page(tmp_path: Path) -> None:
    labels = [
        AnimalLabel(STUDY, "R1", tag, "C-01", "K3X", f"https://vivolog.example.org/a/{i}/")
        for i, tag in enumerate(["M001", "900182000123456", "M003"])
    ]
    pdf = render_animal_labels_pdf(labels)
    printed = pages(pdf_text(pdf, tmp_path))
    assert len(printed) == 3
    for page, label in zip(printed, labels, strict=True):
        assert label.tag in page
        assert STUDY in page
        assert "Run R1 · Cage C-01" in words(page)
        assert "Arm K3X" in page
    snapshot(pdf, "documents-animal-label-thermal")
    sheet = render_animal_labels_pdf(labels, size="cage_card")
    assert len(pages(pdf_text(sheet, tmp_path, "sheet"))) == 1
