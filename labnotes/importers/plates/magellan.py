"""Tecan Magellan XLSX exports, and reading any XLSX sheet as rows of text.

Magellan accepted layouts:

* well list — columns such as ``Raw data``, ``Well positions``, ``Plate`` (the plate name is
  written once and carried down; a new name starts a new plate). Every other titled column
  (``Blank corrected``, ``Concentration``…) becomes its own grid.
* grid — a ``<>`` corner, columns 1-12 and rows A-H, one grid per data set.

In both, the measurement parameters follow the data as one line each (``Measurement
wavelength: 595 nm``, ``Instrument serial number: …``, the ``.mth`` method and ``.wsp``
workspace paths); they are kept as metadata and the wavelength is read from them. A workbook is
recognised as Magellan by its sheet name (``Magellan Sheet 1``) or those parameter lines.

Cells are turned into text the way they would read in a text export: integral numbers without
``.0`` (so a header of column numbers reads 1..12), other numbers by Python's shortest exact
form, which round-trips to the same float.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

from labnotes.importers.errors import ImportFileError
from labnotes.importers.plates.generic import read_generic_grids
from labnotes.importers.plates.model import (
    PlateFormat,
    PlateGrid,
    PlateReading,
    WellValue,
    is_well,
    normalise_well,
    parse_well_value,
    wavelength_from_label,
)
from labnotes.importers.plates.text import Row, metadata_pair

_MAGELLAN_MARKERS = re.compile(
    r"^(Measurement mode:|Plate definition file:|Instrument serial number:|Magellan|.*\.mth$)"
)
_WELL_HEADERS = {"well positions", "well position", "well", "wells", "position"}


@dataclass(frozen=True)
class Sheet:
    title: str
    rows: list[Row]


def read_xlsx(data: bytes) -> Sheet:
    """The first worksheet that holds anything, as text rows (trailing blank rows dropped)."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        # openpyxl reports a damaged or truncated workbook through many exception types
        # (BadZipFile, KeyError for a missing part, XML parse errors, TypeError); each means
        # the same thing to the person uploading it.
        raise ImportFileError(
            f"the XLSX workbook cannot be opened ({type(exc).__name__}): is it truncated or "
            "damaged? Re-export it from the instrument software"
        ) from None
    try:
        for worksheet in workbook.worksheets:
            rows = [
                Row(number, tuple(_cell_text(value) for value in values))
                for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1)
            ]
            while rows and rows[-1].is_blank:
                rows.pop()
            if rows:
                return Sheet(title=str(worksheet.title), rows=rows)
    finally:
        workbook.close()
    raise ImportFileError("the XLSX workbook has no sheet with any content")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def is_magellan(sheet: Sheet) -> bool:
    if sheet.title.startswith("Magellan"):
        return True
    return any(_MAGELLAN_MARKERS.match(row.first) for row in sheet.rows)


def parse_magellan(sheet: Sheet) -> PlateReading:
    header_index = next(
        (
            i
            for i, row in enumerate(sheet.rows)
            if any(c.strip().lower() in _WELL_HEADERS for c in row.cells)
        ),
        None,
    )
    if header_index is None:
        generic = read_generic_grids(sheet.rows, decimal_comma=False)
        grids = generic.plates
        trailer_start = generic.end_index
    else:
        grids, trailer_start = _well_list(sheet.rows, header_index)
    metadata = _trailer_metadata(sheet.rows[trailer_start:])
    wavelength = wavelength_from_label(metadata.get("Measurement wavelength", ""))
    if wavelength is not None:
        grids = tuple(
            PlateGrid(plate=g.plate, label=g.label, wavelength_nm=wavelength, wells=g.wells)
            if g.wavelength_nm is None
            else g
            for g in grids
        )
    if not grids:
        raise ImportFileError("no readings were found in this Magellan workbook")
    return PlateReading(format=PlateFormat.MAGELLAN, plates=tuple(grids), metadata=metadata)


def _well_list(rows: list[Row], header_index: int) -> tuple[tuple[PlateGrid, ...], int]:
    header = rows[header_index]
    names = [c.strip() for c in header.cells]
    well_column = next(i for i, n in enumerate(names) if n.lower() in _WELL_HEADERS)
    plate_column = next((i for i, n in enumerate(names) if n.lower() == "plate"), None)
    value_columns = [i for i, n in enumerate(names) if n and i not in {well_column, plate_column}]
    if not value_columns:
        raise ImportFileError("the well list has no value column", line=header.number)
    plates: dict[str, dict[int, dict[str, WellValue]]] = {}
    seen: dict[tuple[str, str], int] = {}
    plate = "Plate 1"
    index = header_index + 1
    while index < len(rows):
        row = rows[index]
        well_text = row.cell(well_column)
        if not is_well(well_text):
            break
        if plate_column is not None and row.cell(plate_column):
            plate = row.cell(plate_column)
        well = normalise_well(well_text, line=row.number, field=names[well_column])
        if (plate, well) in seen:
            raise ImportFileError(
                f"well {well} of plate '{plate}' appears twice "
                f"(also on row {seen[(plate, well)]}): duplicate wells",
                line=row.number,
                field=names[well_column],
            )
        seen[(plate, well)] = row.number
        by_column = plates.setdefault(plate, {column: {} for column in value_columns})
        for column in value_columns:
            value = parse_well_value(row.cell(column), line=row.number, field=names[column])
            if value is not None:
                by_column[column][well] = value
        index += 1
    if not seen:
        raise ImportFileError(
            "the well list header is not followed by any well", line=header.number
        )
    grids = tuple(
        PlateGrid(plate=plate, label=names[column], wavelength_nm=None, wells=wells)
        for plate, columns in plates.items()
        for column, wells in columns.items()
        if wells
    )
    return grids, index


def _trailer_metadata(rows: list[Row]) -> dict[str, str]:
    metadata: dict[str, str] = {}
    notes = 0
    for row in rows:
        text = row.first
        if not text:
            continue
        for part in re.split(r"/(?=Time of measurement:)", text):
            pair = metadata_pair(part) if not re.match(r"^[A-Za-z]:\\", part) else None
            if pair is not None:
                metadata.setdefault(pair[0], pair[1])
            elif part.lower().endswith(".mth"):
                metadata["Method file"] = part
            elif part.lower().endswith(".wsp"):
                metadata["Workspace file"] = part
            elif not re.fullmatch(r"\d+\s*nm", part):
                notes += 1
                metadata[f"Note {notes}"] = part
    return metadata
