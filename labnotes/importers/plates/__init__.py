"""Plate-reader exports → :class:`PlateReading`: detected automatically, bytes in, no Django.

Formats (see each module's docstring for the variants accepted):

======================  ============================================================
``agilent_gen5``        Agilent/BioTek Gen5 text export (:mod:`.gen5`)
``softmax_pro``         Molecular Devices SoftMax Pro, PlateFormat and TimeFormat,
                        UTF-16 or ASCII (:mod:`.softmax`)
``bmg_mars``            BMG LABTECH MARS CSV (:mod:`.vendor_csv`)
``perkinelmer_envision`` PerkinElmer EnVision CSV (:mod:`.vendor_csv`)
``tecan_magellan``      Tecan Magellan XLSX, well list or grid (:mod:`.magellan`)
``generic_grid``        any CSV/TSV/XLSX with 8 x 12 grids (:mod:`.generic`)
``generic_well_list``   any CSV/TSV/XLSX with one well per line, read with a column
                        mapping (:func:`parse_generic_well_list`)
======================  ============================================================

Detection looks at content, never at the file name: instrument PCs save ``.txt``, ``.csv`` and
``.xls`` names for the same layouts, and lab members rename files. Vendor layouts are checked
before the generic ones because every vendor grid would also pass as a generic grid, and the
vendor parser keeps the read labels and header fields the generic one cannot know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labnotes.importers.errors import ImportFileError
from labnotes.importers.plates.gen5 import parse_gen5
from labnotes.importers.plates.generic import (
    WELL_COLUMN_NAMES,
    find_well_list_header,
    parse_generic_grid,
    parse_well_list_rows,
)
from labnotes.importers.plates.magellan import Sheet, is_magellan, parse_magellan, read_xlsx
from labnotes.importers.plates.model import (
    PlateFormat,
    PlateGrid,
    PlateReading,
    WellValue,
    sha256_hex,
)
from labnotes.importers.plates.softmax import parse_softmax
from labnotes.importers.plates.text import (
    Row,
    decode_text,
    grid_header,
    sniff_delimiter,
    split_rows,
)
from labnotes.importers.plates.vendor_csv import parse_bmg_mars, parse_envision

__all__ = [
    "MAX_PLATE_EXPORT_BYTES",
    "PlateFormat",
    "PlateGrid",
    "PlateReading",
    "WellValue",
    "detect_plate_format",
    "parse_generic_well_list",
    "parse_plate_export",
    "sha256_hex",
]

# Plate exports are kilobytes; anything this large is the wrong file (a raw image, a database).
MAX_PLATE_EXPORT_BYTES = 20 * 1024 * 1024

_XLSX_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SIGNATURES = (
    (b"FCS", "an FCS flow cytometry file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


def detect_plate_format(data: bytes) -> str:
    """The :class:`PlateFormat` value of an export, or :class:`ImportFileError` saying why not."""
    return _detect(data).format.value


def parse_plate_export(data: bytes, *, filename: str = "") -> PlateReading:
    """Parse any supported plate-reader export; the format is detected from the content.

    ``filename`` is only used in messages. A generic well list is read here only when it has a
    single column besides the well column; otherwise the message names the columns to map with
    :func:`parse_generic_well_list`.
    """
    try:
        return _parse(_detect(data))
    except ImportFileError as exc:
        if filename:
            raise ImportFileError(
                f"{filename}: {exc.reason}", line=exc.line, field=exc.field
            ) from None
        raise


def parse_generic_well_list(
    data: bytes, *, well_column: str, value_column: str, plate_column: str | None = None
) -> PlateReading:
    """Read a one-well-per-line CSV/TSV/XLSX with the columns the importer chose.

    Column names match case-insensitively. ``plate_column`` splits a file holding several plates;
    without it every line belongs to one plate. Duplicate wells are an error, not a last-wins.
    """
    rows, decimal_comma = _rows_of(data)
    return parse_well_list_rows(
        rows,
        well_column=well_column,
        value_column=value_column,
        plate_column=plate_column,
        decimal_comma=decimal_comma,
    )


def _check_bytes(data: bytes) -> None:
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ImportFileError("the file is empty")
    if len(data) > MAX_PLATE_EXPORT_BYTES:
        raise ImportFileError(
            f"the file is {len(data) / 1024 / 1024:.1f} MiB; plate-reader exports are far smaller "
            f"(limit {MAX_PLATE_EXPORT_BYTES // 1024 // 1024} MiB): is it the right file?"
        )
    if data.startswith(_OLE2_MAGIC):
        raise ImportFileError(
            "this is a legacy Excel .xls (or other OLE) file: save it as .xlsx or export as text"
        )
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            raise ImportFileError(f"this is {what}, not a plate-reader export")


def _rows_of(data: bytes) -> tuple[list[Row], bool]:
    """Rows of a text or XLSX file for the generic readers, and whether decimal commas apply."""
    _check_bytes(data)
    if data.startswith(_XLSX_MAGIC):
        return read_xlsx(data).rows, False
    text = decode_text(data)
    delimiter = sniff_delimiter(text)
    return split_rows(text, delimiter), delimiter != ","


@dataclass(frozen=True)
class _Detected:
    """The detected format and the decoded content, so that nothing is decoded twice."""

    format: PlateFormat
    text: str = ""
    rows: tuple[Row, ...] = ()
    sheet: Sheet | None = None
    decimal_comma: bool = False


def _detect(data: bytes) -> _Detected:
    _check_bytes(data)
    if data.startswith(_XLSX_MAGIC):
        sheet = read_xlsx(data)
        if is_magellan(sheet):
            return _Detected(PlateFormat.MAGELLAN, sheet=sheet)
        return _Detected(_detect_rows(sheet.rows), rows=tuple(sheet.rows))
    text = decode_text(data)
    head = [line.strip() for line in text.split("\n")[:60] if line.strip()]
    if not head:
        raise ImportFileError("the file is empty (only blank lines)")
    if head[0].startswith("##BLOCKS="):
        return _Detected(PlateFormat.SOFTMAX_PRO, text=text)
    if any(line.startswith("Software Version") for line in head[:10]) and any(
        line.strip() in {"Results", "Procedure Details", "Layout"} for line in text.split("\n")
    ):
        return _Detected(PlateFormat.GEN5, text=text)
    if re.match(r"^User:.*Path:", head[0]) or any(
        line.startswith("Test name:") for line in head[:5]
    ):
        return _Detected(PlateFormat.BMG_MARS, text=text)
    if head[0].rstrip(",;") == "Plate information" or "Exported with EnVision" in text:
        return _Detected(PlateFormat.ENVISION, text=text)
    delimiter = sniff_delimiter(text)
    rows = split_rows(text, delimiter)
    return _Detected(_detect_rows(rows), rows=tuple(rows), decimal_comma=delimiter != ",")


def _detect_rows(rows: list[Row]) -> PlateFormat:
    if any(grid_header(row) is not None for row in rows):
        return PlateFormat.GENERIC_GRID
    if find_well_list_header(rows) is not None:
        return PlateFormat.GENERIC_WELL_LIST
    raise ImportFileError(
        "this file is not a plate-reader export we recognise (Gen5 text, SoftMax Pro, BMG MARS, "
        "EnVision, Magellan XLSX, or a CSV with a 1-12 x A-H grid or a 'Well' column)"
    )


def _parse(detected: _Detected) -> PlateReading:
    match detected.format:
        case PlateFormat.SOFTMAX_PRO:
            return parse_softmax(detected.text)
        case PlateFormat.GEN5:
            return parse_gen5(detected.text)
        case PlateFormat.BMG_MARS:
            return parse_bmg_mars(detected.text)
        case PlateFormat.ENVISION:
            return parse_envision(detected.text)
        case PlateFormat.MAGELLAN:
            assert detected.sheet is not None
            return parse_magellan(detected.sheet)
        case PlateFormat.GENERIC_GRID:
            return parse_generic_grid(detected.rows, decimal_comma=detected.decimal_comma)
        case PlateFormat.GENERIC_WELL_LIST:
            return _auto_well_list(detected)
    raise AssertionError(f"unhandled format {detected.format}")


def _auto_well_list(detected: _Detected) -> PlateReading:
    header = find_well_list_header(list(detected.rows))
    assert header is not None
    names = [c.strip() for c in header.cells if c.strip()]
    well_column = next(n for n in names if n.lower() in WELL_COLUMN_NAMES)
    others = [n for n in names if n != well_column]
    if len(others) != 1:
        raise ImportFileError(
            f"this well list has the columns {', '.join(others)} besides '{well_column}': choose "
            "the value column (and plate column, if any) in the column-mapping step",
            line=header.number,
        )
    return parse_well_list_rows(
        detected.rows,
        well_column=well_column,
        value_column=others[0],
        decimal_comma=detected.decimal_comma,
    )
