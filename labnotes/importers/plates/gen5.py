"""Agilent (BioTek) Gen5 text exports.

Accepted: the default Gen5 3.x "Export to text" layout (tab-separated; comma-separated also
read): a header of ``Key<TAB>Value`` lines, ``Procedure Details``, an optional ``Layout`` grid,
then ``Results``. In ``Results`` each plate row has one line per read or computed data set
(raw, ``Blank …``, ``[Concentration]``), the first carrying the row letter and every line
ending with the data set's label; each label becomes one :class:`PlateGrid`. Sections headed
by a data set name followed by a grid (the "one table per data set" export) are read the same
way. Several plates in one file are told apart by their ``Plate Number`` lines.

The ``Layout`` grid (plate map) is skipped on purpose: the plate map is defined in Vivolog, and
a second source of truth for it would have to be reconciled. Kinetic and spectrum tables (a
``Time`` column with wells across) are not read; such a file gives a clear error.
"""

from __future__ import annotations

from labnotes.importers.errors import ImportFileError
from labnotes.importers.plates.model import (
    PlateFormat,
    PlateGrid,
    PlateReading,
    wavelength_from_label,
)
from labnotes.importers.plates.text import (
    GridHeader,
    GridLine,
    Row,
    collect_wells,
    grid_header,
    read_grid_lines,
    sniff_delimiter,
    split_rows,
)

_SKIPPED_SECTIONS = {"layout"}


def parse_gen5(text: str) -> PlateReading:
    delimiter = sniff_delimiter(text)
    rows = split_rows(text, delimiter)
    decimal_comma = delimiter != ","
    metadata: dict[str, str] = {}
    grids: list[PlateGrid] = []
    plate = "Plate 1"
    in_header = True
    index = 0
    while index < len(rows):
        row = rows[index]
        if row.is_blank:
            index += 1
            continue
        heading = _section_heading(row)
        if heading == "Plate Number":
            plate = row.cell(1) or plate
            in_header = True
        if heading is not None and heading.lower() == "procedure details":
            in_header = False
            index = _read_procedure(rows, index + 1, metadata)
            continue
        next_index = _next_nonblank(rows, index + 1)
        if (
            heading is not None
            and next_index is not None
            and grid_header(rows[next_index]) is not None
        ):
            in_header = False
            header, lines, index = read_grid_lines(
                rows, next_index, decimal_comma=decimal_comma, trailing_label=True
            )
            if heading.lower() not in _SKIPPED_SECTIONS:
                grids.extend(_grids_from_section(plate, heading, header, lines, grids))
            continue
        if in_header and len(row.nonblank) >= 2:
            key = row.first.rstrip(":").strip()
            if key and key not in metadata:
                metadata[key] = row.nonblank[1]
        index += 1
    if not grids:
        raise ImportFileError(
            "no Results grid found in this Gen5 export (kinetic and spectrum tables are not "
            "supported; export the endpoint results)"
        )
    return PlateReading(format=PlateFormat.GEN5, plates=tuple(grids), metadata=metadata)


def _section_heading(row: Row) -> str | None:
    """The text of a line that has one cell of text (a section title, or a key of the header)."""
    cells = row.nonblank
    if not cells:
        return None
    if len(cells) == 1 and row.first:
        return row.first
    if row.first == "Plate Number":
        return "Plate Number"
    return None


def _next_nonblank(rows: list[Row], index: int) -> int | None:
    while index < len(rows):
        if not rows[index].is_blank:
            return index
        index += 1
    return None


def _read_procedure(rows: list[Row], index: int, metadata: dict[str, str]) -> int:
    """Keep the procedure's key lines (``Plate Type``, ``Read``, ``Wavelengths:``) as metadata."""
    while index < len(rows):
        row = rows[index]
        if row.is_blank:
            following = _next_nonblank(rows, index + 1)
            if following is None or _section_heading(rows[following]) is not None:
                return index + 1
            index += 1
            continue
        cells = row.nonblank
        if row.first:
            key = row.first.rstrip(":").strip()
            value = cells[1] if len(cells) > 1 else ""
        else:
            key, _, value = cells[0].partition(":")
            key, value = key.strip(), value.strip()
        if key and key not in metadata:
            metadata[key] = value
        index += 1
    return index


def _grids_from_section(
    plate: str,
    heading: str,
    header: GridHeader,
    lines: list[GridLine],
    earlier: list[PlateGrid],
) -> list[PlateGrid]:
    by_label: dict[str, list[GridLine]] = {}
    for line in lines:
        by_label.setdefault(line.label or heading, []).append(line)
    grids = []
    for label, label_lines in by_label.items():
        if any(g.plate == plate and g.label == label for g in earlier):
            raise ImportFileError(
                f"plate '{plate}' has the data set '{label}' twice: duplicate wells",
                line=label_lines[0].row.number,
            )
        wells = collect_wells(header, label_lines, what=f"plate '{plate}', data set '{label}'")
        grids.append(
            PlateGrid(
                plate=plate, label=label, wavelength_nm=wavelength_from_label(label), wells=wells
            )
        )
    return grids
