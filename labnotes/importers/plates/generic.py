"""Exports from readers we have no dedicated parser for: a plate grid, or a list of wells.

Generic grid: a line ``<corner>, 1, 2, …, 12`` (any corner text, "01".."12" accepted, also 24
columns for 384-well plates) followed by rows ``A``-``H``; several grids in one file are kept in
order, each labelled by the one-cell line just above it, or ``Grid n``. A grid must be complete
(rows A-H for 12 columns), so that a truncated file is never taken for a partial plate.

Generic well list: a header line and one well per line. The columns are chosen by the person
importing (the column-mapping step), because a file with several numeric columns cannot be
interpreted safely by guessing; a file with exactly one column besides the well column is the
only case read without a mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from labnotes.importers.errors import ImportFileError
from labnotes.importers.plates.model import (
    PlateFormat,
    PlateGrid,
    PlateReading,
    WellValue,
    normalise_well,
    parse_well_value,
    wavelength_from_label,
)
from labnotes.importers.plates.text import (
    Row,
    collect_wells,
    grid_header,
    metadata_pair,
    read_grid_lines,
)

WELL_COLUMN_NAMES = (
    "well",
    "wells",
    "well id",
    "well position",
    "well positions",
    "position",
    "well name",
)


@dataclass(frozen=True)
class GenericGrids:
    plates: tuple[PlateGrid, ...]
    metadata: dict[str, str]
    end_index: int


def read_generic_grids(rows: Sequence[Row], *, decimal_comma: bool) -> GenericGrids:
    grids: list[PlateGrid] = []
    metadata: dict[str, str] = {}
    title: str | None = None
    end_index = 0
    index = 0
    while index < len(rows):
        row = rows[index]
        if grid_header(row) is not None:
            label = title or f"Grid {len(grids) + 1}"
            title = None
            header, lines, index = read_grid_lines(rows, index, decimal_comma=decimal_comma)
            if any(g.label == label for g in grids):
                label = f"{label} ({len(grids) + 1})"
            wells = collect_wells(header, lines, what=f"grid '{label}'")
            grids.append(
                PlateGrid(
                    plate="Plate 1",
                    label=label,
                    wavelength_nm=wavelength_from_label(label),
                    wells=wells,
                )
            )
            end_index = index
            continue
        cells = row.nonblank
        if len(cells) == 1 and metadata_pair(cells[0]) is None:
            title = cells[0]
        elif cells:
            title = None
            pair = metadata_pair(cells[0])
            if pair is not None and not grids:
                metadata.setdefault(pair[0], pair[1] or (cells[1] if len(cells) > 1 else ""))
        index += 1
    return GenericGrids(plates=tuple(grids), metadata=metadata, end_index=end_index)


def parse_generic_grid(rows: Sequence[Row], *, decimal_comma: bool) -> PlateReading:
    result = read_generic_grids(rows, decimal_comma=decimal_comma)
    if not result.plates:
        raise ImportFileError("no plate grid (a line '1, 2, …, 12' followed by rows A-H) was found")
    return PlateReading(
        format=PlateFormat.GENERIC_GRID, plates=result.plates, metadata=result.metadata
    )


def find_well_list_header(rows: Sequence[Row]) -> Row | None:
    """The first line with a well column whose next non-blank line holds a well position."""
    for index, row in enumerate(rows):
        names = [c.strip().lower() for c in row.cells]
        positions = [i for i, name in enumerate(names) if name in WELL_COLUMN_NAMES]
        if not positions:
            continue
        following = next((r for r in rows[index + 1 :] if not r.is_blank), None)
        if following is not None:
            for position in positions:
                try:
                    normalise_well(following.cell(position))
                except ImportFileError:
                    continue
                return row
    return None


def parse_well_list_rows(
    rows: Sequence[Row],
    *,
    well_column: str,
    value_column: str,
    plate_column: str | None = None,
    decimal_comma: bool,
) -> PlateReading:
    header_index = _header_index(rows, well_column)
    header = rows[header_index]
    names = [c.strip() for c in header.cells]
    well_index = _column_index(names, well_column, header)
    value_index = _column_index(names, value_column, header)
    plate_index = _column_index(names, plate_column, header) if plate_column else None
    plates: dict[str, dict[str, WellValue]] = {}
    seen: dict[tuple[str, str], int] = {}
    for row in rows[header_index + 1 :]:
        well_text = row.cell(well_index)
        if not well_text:
            continue
        plate = row.cell(plate_index) if plate_index is not None else ""
        plate = plate or "Plate 1"
        well = normalise_well(well_text, line=row.number, field=well_column)
        if (plate, well) in seen:
            raise ImportFileError(
                f"well {well} appears twice (also on line {seen[(plate, well)]}): duplicate wells",
                line=row.number,
                field=well_column,
            )
        seen[(plate, well)] = row.number
        if value_index >= len(row.cells):
            raise ImportFileError(
                f"the line stops before the '{value_column}' column: the file looks truncated",
                line=row.number,
            )
        value = parse_well_value(
            row.cells[value_index], decimal_comma=decimal_comma, line=row.number, field=value_column
        )
        wells = plates.setdefault(plate, {})
        if value is not None:
            wells[well] = value
    if not seen:
        raise ImportFileError(
            f"no well is listed under the column '{well_column}'", line=header.number
        )
    grids = tuple(
        PlateGrid(
            plate=plate,
            label=value_column,
            wavelength_nm=wavelength_from_label(value_column),
            wells=wells,
        )
        for plate, wells in plates.items()
    )
    for grid in grids:
        if not any(v.is_numeric for v in grid.wells.values()):
            raise ImportFileError(
                f"the column '{value_column}' holds no numeric reading for plate '{grid.plate}'"
            )
    return PlateReading(format=PlateFormat.GENERIC_WELL_LIST, plates=grids, metadata={})


def _header_index(rows: Sequence[Row], column: str) -> int:
    wanted = column.strip().lower()
    for index, row in enumerate(rows):
        if any(c.strip().lower() == wanted for c in row.cells):
            return index
    first = next((r for r in rows if not r.is_blank), None)
    found = ", ".join(first.nonblank) if first is not None else "nothing"
    raise ImportFileError(f"no header line has the column '{column}' (the first line has: {found})")


def _column_index(names: list[str], column: str, header: Row) -> int:
    lowered = [n.lower() for n in names]
    wanted = column.strip().lower()
    if lowered.count(wanted) > 1:
        raise ImportFileError(f"the header has the column '{column}' twice", line=header.number)
    if wanted not in lowered:
        raise ImportFileError(
            f"no column '{column}' in the header (found: {', '.join(n for n in names if n)})",
            line=header.number,
        )
    return lowered.index(wanted)
