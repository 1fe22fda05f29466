"""Sample tube labels as PDF, in the cage-card sizes of :mod:`labnotes.documents.cards`.

- ``thermal_label``: 57 x 32 mm, one label per PDF page (roll-fed thermal printers).
- ``cage_card``: 89 x 51 mm, ten to an A4 portrait sheet (2 x 5, no gutter).

Each label prints the barcode in large monospaced type, a QR code that encodes the barcode
itself (a scanner at the freezer reads the code, not a web address), and the lines the caller
chose from the protocol's label fields. The caller decides what may be printed: an arm is only
ever its blinded code here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from labnotes.documents._render import esc, html_to_pdf, template
from labnotes.documents.cards import CARD_HEIGHT_MM, CARD_WIDTH_MM, CARDS_PER_SHEET, SHEET_COLUMNS
from labnotes.documents.model import LABEL_SIZES, LabelSize
from labnotes.documents.qr import qr_svg

#: Lines beyond this many do not fit a thermal label; refused rather than cut off.
MAX_LINES = 6


@dataclass(frozen=True, slots=True)
class SampleLabel:
    """One sample label: its barcode and up to :data:`MAX_LINES` (caption, value) lines."""

    barcode: str
    lines: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        if not self.barcode.strip():
            raise ValueError("a sample label needs a barcode")
        if len(self.lines) > MAX_LINES:
            raise ValueError(
                f"sample {self.barcode!r}: {len(self.lines)} lines; a label holds {MAX_LINES}"
            )


def render_sample_labels_pdf(
    labels: Sequence[SampleLabel], *, size: LabelSize = "thermal_label"
) -> bytes:
    """One label per sample, in the order given, as PDF bytes (sizes: see the module docstring).

    Raises ``ValueError`` for an empty sequence or an unknown size.
    """
    return html_to_pdf(sample_labels_html(labels, size=size))


def sample_labels_html(labels: Sequence[SampleLabel], *, size: LabelSize) -> str:
    """The HTML the PDF is laid out from (every printed value HTML-escaped)."""
    if size not in LABEL_SIZES:
        raise ValueError(f"size must be one of {LABEL_SIZES}, got {size!r}")
    if not labels:
        raise ValueError("nothing to print: no sample labels given")
    fragments = [_label_html(label, size) for label in labels]
    if size == "thermal_label":
        pages = [f'<div class="thermal">{fragment}</div>' for fragment in fragments]
    else:
        pages = [
            _sheet(fragments[start : start + CARDS_PER_SHEET])
            for start in range(0, len(fragments), CARDS_PER_SHEET)
        ]
    return template("sample_labels.html").substitute(
        title=esc("Sample labels"), body="\n".join(pages)
    )


def _label_html(label: SampleLabel, size: LabelSize) -> str:
    lines = "\n".join(
        f'<div class="line"><span class="k">{esc(caption)}</span> <b>{esc(value)}</b></div>'
        for caption, value in label.lines
    )
    return template("sample_label.html").substitute(
        size_class="small" if size == "thermal_label" else "",
        barcode=esc(label.barcode),
        qr_svg=qr_svg(label.barcode),
        lines=lines,
    )


def _sheet(fragments: Sequence[str]) -> str:
    placed = []
    for index, fragment in enumerate(fragments):
        row, column = divmod(index, SHEET_COLUMNS)
        placed.append(
            f'<div class="item" style="left: {column * CARD_WIDTH_MM}mm; '
            f'top: {row * CARD_HEIGHT_MM}mm">{fragment}</div>'
        )
    return f'<div class="sheet">{"".join(placed)}</div>'
