"""Cage cards and per-animal labels as PDF.

Two sizes:

- ``cage_card``: 89 x 51 mm (3.5 x 2 in) cards, ten to an A4 portrait sheet (2 columns x 5 rows,
  no gutter), crop marks on every cut line in the margin and a dotted hairline round each card.
- ``thermal_label``: 57 x 32 mm, one label per PDF page, for roll-fed thermal label printers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from labnotes.documents._render import esc, html_to_pdf, iso_date, template
from labnotes.documents.model import LABEL_SIZES, AnimalLabel, CageCard, LabelSize
from labnotes.documents.qr import qr_svg

SHEET_COLUMNS = 2
SHEET_ROWS = 5
CARD_WIDTH_MM = 89
CARD_HEIGHT_MM = 51
CARDS_PER_SHEET = SHEET_COLUMNS * SHEET_ROWS
# Above this many animals a card switches to a smaller type so that all of them stay on it.
ANIMALS_AT_FULL_SIZE = 5
# Tags longer than this (RFIDs are 15 digits) print smaller on animal labels so they never wrap.
LONG_TAG_CHARACTERS = 8
_CROP_MARK_MM = 5
_CROP_GAP_MM = 2

Item = TypeVar("Item")


def render_cage_cards_pdf(cards: Sequence[CageCard], *, size: LabelSize) -> bytes:
    """One card per cage, in the order given, as PDF bytes (see the module docstring for sizes).

    Each card shows study code, run code, cage, room and rack, ``arm_display`` (exactly as the
    caller passes it), every animal's tag, sex and date of birth, the ethics protocol number and a
    QR code linking to ``qr_url``. Raises ``ValueError`` for an empty sequence or unknown size.
    """
    return html_to_pdf(cage_cards_html(cards, size=size))


def render_animal_labels_pdf(
    labels: Sequence[AnimalLabel], *, size: LabelSize = "thermal_label"
) -> bytes:
    """One label per animal (tag large, study, run, cage, arm display, QR code) as PDF bytes."""
    return html_to_pdf(animal_labels_html(labels, size=size))


def cage_cards_html(cards: Sequence[CageCard], *, size: LabelSize) -> str:
    """The HTML the cage-card PDF is laid out from (every value HTML-escaped)."""
    fragment = template("cage_card.html" if size == "cage_card" else "thermal_label.html")

    def card_html(card: CageCard) -> str:
        rows = "\n".join(
            template("card_animal_row.html").substitute(
                tag=esc(animal.tag),
                sex=esc(animal.sex),
                date_of_birth=iso_date(animal.date_of_birth),
            )
            for animal in card.animals
        )
        return fragment.substitute(
            study_code=esc(card.study_code),
            run_code=esc(card.run_code),
            cage_label=esc(card.cage_label),
            room=esc(card.room),
            rack=esc(card.rack),
            arm_display=esc(card.arm_display),
            ethics_protocol_number=esc(card.ethics_protocol_number),
            qr_url=esc(card.qr_url),
            qr_svg=qr_svg(card.qr_url),
            animals_class="many" if len(card.animals) > ANIMALS_AT_FULL_SIZE else "",
            animal_rows=rows,
        )

    return _document("Cage cards", cards, card_html, size)


def animal_labels_html(labels: Sequence[AnimalLabel], *, size: LabelSize) -> str:
    """The HTML the animal-label PDF is laid out from (every value HTML-escaped)."""

    def label_html(label: AnimalLabel) -> str:
        return template("animal_label.html").substitute(
            size_class="small" if size == "thermal_label" else "",
            tag=esc(label.tag),
            tag_class="long" if len(label.tag) > LONG_TAG_CHARACTERS else "",
            study_code=esc(label.study_code),
            run_code=esc(label.run_code),
            cage_label=esc(label.cage_label),
            arm_display=esc(label.arm_display),
            qr_url=esc(label.qr_url),
            qr_svg=qr_svg(label.qr_url),
        )

    return _document("Animal labels", labels, label_html, size)


def _document(
    title: str, items: Sequence[Item], item_html: Callable[[Item], str], size: LabelSize
) -> str:
    if size not in LABEL_SIZES:
        raise ValueError(f"size must be one of {LABEL_SIZES}, got {size!r}")
    if not items:
        raise ValueError(f"nothing to print: no {title.lower()} given")
    fragments = [item_html(item) for item in items]
    if size == "thermal_label":
        pages = [f'<div class="thermal">{fragment}</div>' for fragment in fragments]
    else:
        pages = [
            _sheet(fragments[start : start + CARDS_PER_SHEET])
            for start in range(0, len(fragments), CARDS_PER_SHEET)
        ]
    return template("cards.html").substitute(title=esc(title), body="\n".join(pages))


def _sheet(fragments: Sequence[str]) -> str:
    placed = []
    for index, fragment in enumerate(fragments):
        row, column = divmod(index, SHEET_COLUMNS)
        placed.append(
            f'<div class="item" style="left: {column * CARD_WIDTH_MM}mm; '
            f'top: {row * CARD_HEIGHT_MM}mm">{fragment}</div>'
        )
    return f'<div class="sheet">{_crop_marks()}{"".join(placed)}</div>'


def _crop_marks() -> str:
    width = SHEET_COLUMNS * CARD_WIDTH_MM
    height = SHEET_ROWS * CARD_HEIGHT_MM
    before = -(_CROP_GAP_MM + _CROP_MARK_MM)
    marks = []
    for column in range(SHEET_COLUMNS + 1):
        x = column * CARD_WIDTH_MM
        marks.append(f'<div class="crop v" style="left: {x}mm; top: {before}mm"></div>')
        marks.append(
            f'<div class="crop v" style="left: {x}mm; top: {height + _CROP_GAP_MM}mm"></div>'
        )
    for row in range(SHEET_ROWS + 1):
        y = row * CARD_HEIGHT_MM
        marks.append(f'<div class="crop h" style="top: {y}mm; left: {before}mm"></div>')
        marks.append(
            f'<div class="crop h" style="top: {y}mm; left: {width + _CROP_GAP_MM}mm"></div>'
        )
    return "".join(marks)
