"""Molecular Devices SoftMax Pro text exports ("Export → All / Plates", export version 1.3).

Accepted: files that start with ``##BLOCKS= n`` followed by ``Plate:``, ``Group:`` and
``Note:`` blocks, each closed by ``~End``, in UTF-16 (SoftMax's "Unicode" choice) or ASCII.
Plate blocks in both layouts are read:

* ``PlateFormat`` — one 8 x 12 grid per wavelength, side by side on the same lines and separated
  by one empty column, after a ``Time`` and a ``Temperature`` column; a second grid (without
  the temperature header) holds the reduced values.
* ``TimeFormat`` (the "well list"/columns layout) — one line of well names ``A1 … H12`` and one
  line of values per wavelength, then the reduced line.

Raw grids are labelled ``Raw <wavelength> nm`` and the reduced grid ``Reduced`` (its wavelength
is set only for single-wavelength reads: a dual-wavelength reduction such as 450 - 650 nm is not
one wavelength). Endpoint reads only: kinetic and spectrum raw data have one value per time
point, which an ELISA fit cannot use, so such a file is refused unless it holds reduced data
only. ``Group:`` blocks (standards, back-calculated concentrations) are skipped, because
concentrations are computed in Vivolog from the readings; their names are kept in the metadata.
The ``##BLOCKS`` count is checked: a file with fewer ``~End`` terminated blocks was truncated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labnotes.importers.errors import ImportFileError
from labnotes.importers.plates.model import (
    ROW_LETTERS,
    PlateFormat,
    PlateGrid,
    PlateReading,
    WellValue,
    is_well,
    normalise_well,
    parse_well_value,
)
from labnotes.importers.plates.text import Row, metadata_pair, split_rows

_BLOCKS = re.compile(r"^##BLOCKS=\s*(\d+)\s*$")
_DATA_TYPES = {"Raw", "Reduced", "Both"}


@dataclass(frozen=True)
class _PlateHeader:
    row: Row
    name: str
    export_format: str
    read_type: str
    read_mode: str
    data_type: str
    kinetic_points: int
    wavelengths: tuple[float, ...]
    columns: int
    wells: int

    @property
    def rows(self) -> int:
        return self.wells // self.columns


def parse_softmax(text: str) -> PlateReading:
    rows = split_rows(text, "\t")
    first = next((r for r in rows if not r.is_blank), None)
    match = _BLOCKS.match(first.first) if first is not None else None
    if first is None or match is None:
        raise ImportFileError("a SoftMax Pro export starts with '##BLOCKS= n'", line=1)
    declared = int(match.group(1))
    blocks, trailer = _split_blocks(rows, first.number)
    if len(blocks) < declared:
        raise ImportFileError(
            f"the file declares {declared} blocks but only {len(blocks)} end with '~End': "
            "the file looks truncated",
            line=rows[-1].number,
        )
    metadata: dict[str, str] = {}
    grids: list[PlateGrid] = []
    groups: list[str] = []
    for block in blocks:
        kind = block[0].first
        if kind.startswith("Plate:"):
            header = _plate_header(block[0])
            if not metadata:
                metadata.update(
                    {
                        "Export format": header.export_format,
                        "Read type": header.read_type,
                        "Read mode": header.read_mode,
                        "Data type": header.data_type,
                        "Wavelengths": " ".join(f"{w:g}" for w in header.wavelengths),
                    }
                )
            if any(g.plate == header.name for g in grids):
                raise ImportFileError(
                    f"plate '{header.name}' appears twice: duplicate wells", line=block[0].number
                )
            grids.extend(_plate_grids(header, block[1:]))
        elif kind.startswith("Group:"):
            groups.append(kind.partition(":")[2].strip())
    if groups:
        metadata["Groups"] = ", ".join(groups)
    for row in trailer:
        for part in row.first.split(";"):
            pair = metadata_pair(part)
            if pair is not None:
                metadata[pair[0]] = pair[1]
    if not grids:
        raise ImportFileError("this SoftMax Pro export holds no Plate block, only groups or notes")
    return PlateReading(format=PlateFormat.SOFTMAX_PRO, plates=tuple(grids), metadata=metadata)


def _split_blocks(rows: list[Row], blocks_line: int) -> tuple[list[list[Row]], list[Row]]:
    """Blocks run from a ``Plate:``/``Group:``/``Note:`` line to ``~End``; text after the last
    block (``Original Filename: …``) is returned apart."""
    blocks: list[list[Row]] = []
    current: list[Row] | None = None
    trailer: list[Row] = []
    for row in rows:
        if row.number <= blocks_line:
            continue
        if current is None:
            if row.is_blank:
                continue
            if row.first.split(":")[0] in {"Plate", "Group", "Note", "Graph"}:
                current = [row]
            else:
                trailer.append(row)
            continue
        if row.first.startswith("~End"):
            blocks.append(current)
            current = None
        else:
            current.append(row)
    if current is not None:
        raise ImportFileError(
            f"the block starting '{current[0].first}' has no '~End': the file looks truncated",
            line=current[0].number,
        )
    return blocks, trailer


def _plate_header(row: Row) -> _PlateHeader:
    cells = [c.strip() for c in row.cells]
    # Fluorescence headers carry a read-from-bottom flag after the read mode, shifting the
    # fields after it by one.
    shift = 1 if len(cells) > 7 and cells[6] in {"TRUE", "FALSE"} and cells[7] in _DATA_TYPES else 0

    def field(index: int, name: str) -> str:
        position = index + shift
        if position >= len(cells):
            raise ImportFileError(
                "the Plate: header line is cut short", line=row.number, field=name
            )
        return cells[position]

    def integer(index: int, name: str, default: int | None = None) -> int:
        raw = field(index, name)
        if raw == "" and default is not None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise ImportFileError(
                f"'{raw}' is not a whole number", line=row.number, field=name
            ) from None

    export_format = field(3, "export format")
    if export_format not in {"PlateFormat", "TimeFormat"}:
        raise ImportFileError(
            f"export format '{export_format}' is not supported (PlateFormat or TimeFormat)",
            line=row.number,
            field="export format",
        )
    data_type = field(6, "data type")
    if data_type not in _DATA_TYPES:
        raise ImportFileError(
            f"data type '{data_type}' is not Raw, Reduced or Both",
            line=row.number,
            field="data type",
        )
    try:
        wavelengths = tuple(float(w) for w in field(15, "wavelengths").split())
    except ValueError:
        raise ImportFileError(
            f"'{field(15, 'wavelengths')}' is not a list of wavelengths",
            line=row.number,
            field="wavelengths",
        ) from None
    header = _PlateHeader(
        row=row,
        name=field(1, "plate name") or "Plate",
        export_format=export_format,
        read_type=field(4, "read type"),
        read_mode=cells[5] if len(cells) > 5 else "",
        data_type=data_type,
        kinetic_points=integer(8, "kinetic points", 1),
        wavelengths=wavelengths,
        columns=integer(17, "number of columns"),
        wells=integer(18, "number of wells"),
    )
    if header.columns <= 0 or header.wells % header.columns or header.rows > len(ROW_LETTERS):
        raise ImportFileError(
            f"{header.wells} wells in {header.columns} columns is not a plate layout",
            line=row.number,
        )
    if header.read_type != "Endpoint" and data_type != "Reduced":
        raise ImportFileError(
            f"{header.read_type} raw data is not supported: export the reduced (endpoint) values",
            line=row.number,
            field="read type",
        )
    return header


def _paragraphs(rows: list[Row]) -> list[list[Row]]:
    paragraphs: list[list[Row]] = []
    current: list[Row] = []
    for row in rows:
        if row.is_blank:
            if current:
                paragraphs.append(current)
                current = []
        else:
            current.append(row)
    if current:
        paragraphs.append(current)
    return paragraphs


def _plate_grids(header: _PlateHeader, body: list[Row]) -> list[PlateGrid]:
    paragraphs = _paragraphs(body)
    if not paragraphs:
        raise ImportFileError(f"plate '{header.name}' has no data lines", line=header.row.number)
    if header.export_format == "PlateFormat":
        return _plate_format(header, paragraphs)
    return _time_format(header, paragraphs)


def _reduced_wavelength(header: _PlateHeader) -> float | None:
    return header.wavelengths[0] if len(header.wavelengths) == 1 else None


def _plate_format(header: _PlateHeader, paragraphs: list[list[Row]]) -> list[PlateGrid]:
    grids: list[PlateGrid] = []
    remaining = list(paragraphs)
    if header.data_type in {"Raw", "Both"}:
        raw = remaining.pop(0)
        for index, wavelength in enumerate(header.wavelengths):
            start = 2 + index * (header.columns + 1)
            wells = _grid_block(header, raw, start, what=f"raw {wavelength:g} nm")
            grids.append(
                PlateGrid(
                    plate=header.name,
                    label=f"Raw {wavelength:g} nm",
                    wavelength_nm=wavelength,
                    wells=wells,
                )
            )
    if remaining:
        wells = _grid_block(header, remaining[0], 2, what="reduced")
        grids.append(
            PlateGrid(
                plate=header.name,
                label="Reduced",
                wavelength_nm=_reduced_wavelength(header),
                wells=wells,
            )
        )
    return grids


def _grid_block(
    header: _PlateHeader, paragraph: list[Row], start: int, *, what: str
) -> dict[str, WellValue]:
    """One PlateFormat grid: a column-number line, then one unlabelled line per plate row."""
    column_line, lines = paragraph[0], paragraph[1:]
    columns = []
    for offset in range(header.columns):
        cell = column_line.cell(start + offset)
        if not cell.isdigit():
            raise ImportFileError(
                f"expected column number {offset + 1} of the {what} grid of plate '{header.name}', "
                f"found '{cell}'",
                line=column_line.number,
            )
        columns.append(int(cell))
    if len(lines) < header.rows:
        raise ImportFileError(
            f"the {what} grid of plate '{header.name}' has {len(lines)} of {header.rows} rows: "
            "the file looks truncated",
            line=(lines or [column_line])[-1].number,
        )
    if len(lines) > header.rows:
        raise ImportFileError(
            f"the {what} grid of plate '{header.name}' has {len(lines)} rows, the header declares "
            f"{header.rows}: duplicate rows",
            line=lines[header.rows].number,
        )
    wells: dict[str, WellValue] = {}
    for letter, line in zip(ROW_LETTERS, lines, strict=False):
        if len(line.cells) < start + header.columns:
            raise ImportFileError(
                f"row {letter} of the {what} grid of plate '{header.name}' is cut short: "
                "the file looks truncated",
                line=line.number,
            )
        for offset, column in enumerate(columns):
            well = f"{letter}{column}"
            value = parse_well_value(
                line.cells[start + offset], decimal_comma=True, line=line.number, field=well
            )
            if value is not None:
                wells[well] = value
    return wells


def _time_format(header: _PlateHeader, paragraphs: list[list[Row]]) -> list[PlateGrid]:
    rows = [row for paragraph in paragraphs for row in paragraph]
    well_lines = [i for i, row in enumerate(rows) if is_well(row.cell(2))]
    if not well_lines:
        raise ImportFileError(
            f"plate '{header.name}' has no line of well names (A1, A2, …)", line=header.row.number
        )
    grids: list[PlateGrid] = []
    sections: list[tuple[Row, list[Row]]] = []
    for position, start in enumerate(well_lines):
        end = well_lines[position + 1] if position + 1 < len(well_lines) else len(rows)
        sections.append((rows[start], rows[start + 1 : end]))
    raw_expected = len(header.wavelengths) if header.data_type in {"Raw", "Both"} else 0
    value_lines = [(names, line) for names, lines in sections for line in lines]
    if len(value_lines) < raw_expected + (1 if header.data_type in {"Reduced", "Both"} else 0):
        raise ImportFileError(
            f"plate '{header.name}' has {len(value_lines)} value lines, fewer than its header "
            "declares: the file looks truncated",
            line=(value_lines[-1][1] if value_lines else header.row).number,
        )
    for index, (names, line) in enumerate(value_lines):
        if index < raw_expected:
            wavelength: float | None = header.wavelengths[index]
            label = f"Raw {header.wavelengths[index]:g} nm"
        elif index == raw_expected:
            wavelength, label = _reduced_wavelength(header), "Reduced"
        else:
            raise ImportFileError(
                f"plate '{header.name}' has more value lines than its header declares",
                line=line.number,
            )
        grids.append(
            PlateGrid(
                plate=header.name,
                label=label,
                wavelength_nm=wavelength,
                wells=_well_line(header, names, line),
            )
        )
    return grids


def _well_line(header: _PlateHeader, names: Row, line: Row) -> dict[str, WellValue]:
    wells: dict[str, WellValue] = {}
    seen: dict[str, int] = {}
    for index in range(2, len(names.cells)):
        name = names.cell(index)
        if not name:
            continue
        well = normalise_well(name, line=names.number)
        if well in seen:
            raise ImportFileError(
                f"well {well} is listed twice in plate '{header.name}': duplicate wells",
                line=names.number,
                field=well,
            )
        seen[well] = index
        if index >= len(line.cells):
            raise ImportFileError(
                f"the values of plate '{header.name}' stop before well {well}: "
                "the file looks truncated",
                line=line.number,
            )
        value = parse_well_value(
            line.cells[index], decimal_comma=True, line=line.number, field=well
        )
        if value is not None:
            wells[well] = value
    if len(seen) != header.wells:
        raise ImportFileError(
            f"plate '{header.name}' lists {len(seen)} wells, its header declares {header.wells}",
            line=names.number,
        )
    return wells
