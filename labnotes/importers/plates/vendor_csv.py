"""BMG LABTECH MARS and PerkinElmer EnVision CSV exports: a header, then titled 8 x 12 grids.

BMG MARS ("Export to Excel/CSV", plate layout): ``User:``/``Path:``/``Test run no.:``,
``Test name:``/``Date:``/``Time:`` and ``ID1:``-``ID3:`` cells, a measurement-type line
(``Absorbance``), then one grid per data set, each titled (``Raw Data (450 1)``,
``Blank corrected based on Raw Data (450 1)``…). Every titled grid becomes a
:class:`PlateGrid` labelled with its title.

PerkinElmer EnVision (Workstation CSV, "Plate2" style): per plate a ``Plate information`` table
(its ``Plate`` column names the plate), ``Background information``, and one
``Results for <label>`` grid per measured label; after the plates come ``Basic assay
information``, protocol and plate-map sections. Only ``Results for`` (and ``Calculated results``)
grids are readings: the ``Platemap`` grids further down are deliberately not read. Excel text
escapes (``="1050242"``) are removed. The field separator follows the Windows locale
(``Field separator to use: System``), so ``;`` with decimal commas is read too.
"""

from __future__ import annotations

from labnotes.importers.errors import ImportFileError
from labnotes.importers.plates.model import (
    PlateFormat,
    PlateGrid,
    PlateReading,
    unescape_cell,
    wavelength_from_label,
)
from labnotes.importers.plates.text import (
    Row,
    collect_wells,
    grid_header,
    metadata_pair,
    read_grid_lines,
    sniff_delimiter,
    split_rows,
)


def parse_bmg_mars(text: str) -> PlateReading:
    delimiter = sniff_delimiter(text)
    rows = split_rows(text, delimiter)
    metadata: dict[str, str] = {}
    grids: list[PlateGrid] = []
    title: str | None = None  # the last one-cell line: the title of a grid if one follows
    index = 0
    while index < len(rows):
        row = rows[index]
        if grid_header(row) is not None:
            label = title or f"Grid {len(grids) + 1}"
            title = None
            header, lines, index = read_grid_lines(rows, index, decimal_comma=delimiter != ",")
            if any(g.label == label for g in grids):
                raise ImportFileError(
                    f"the data set '{label}' appears twice: duplicate wells", line=header.row.number
                )
            wells = collect_wells(header, lines, what=f"data set '{label}'")
            grids.append(
                PlateGrid(
                    plate="Plate 1",
                    label=label,
                    wavelength_nm=wavelength_from_label(label),
                    wells=wells,
                )
            )
            continue
        cells = row.nonblank
        pairs = [metadata_pair(cell) for cell in cells]
        if len(cells) == 1 and pairs[0] is None:
            if title is not None:
                # A title not followed by a grid is the measurement type ("Absorbance").
                metadata.setdefault("Measurement type", title)
            title = cells[0]
        else:
            for pair in pairs:
                if pair is not None:
                    metadata.setdefault(pair[0], pair[1])
        index += 1
    if not grids:
        raise ImportFileError("no data grid (a line '1, 2, …, 12' followed by rows A-H) was found")
    return PlateReading(format=PlateFormat.BMG_MARS, plates=tuple(grids), metadata=metadata)


_RESULT_PREFIXES = ("Results for ", "Calculated results")
_PLATE_FIELDS = ("Barcode", "Measurement date", "Label")


def parse_envision(text: str) -> PlateReading:
    delimiter = sniff_delimiter(text)
    rows = split_rows(text, delimiter)
    metadata: dict[str, str] = {}
    grids: list[PlateGrid] = []
    plate = "1"
    index = 0
    while index < len(rows):
        row = rows[index]
        first = unescape_cell(row.first)
        if first == "Plate information" and index + 2 < len(rows):
            plate = _plate_information(rows[index + 1], rows[index + 2], plate, metadata)
            index += 3
            continue
        if first.startswith(_RESULT_PREFIXES) and len(row.nonblank) == 1:
            label = first.removeprefix("Results for ").strip()
            header_index = index + 1
            if header_index >= len(rows) or grid_header(rows[header_index]) is None:
                raise ImportFileError(
                    f"'{first}' is not followed by a grid header (01, 02, …, 12): the file looks "
                    "truncated",
                    line=row.number,
                )
            header, lines, index = read_grid_lines(
                rows, header_index, decimal_comma=delimiter != ","
            )
            if any(g.plate == plate and g.label == label for g in grids):
                raise ImportFileError(
                    f"plate {plate} has the results '{label}' twice: duplicate wells",
                    line=row.number,
                )
            wells = collect_wells(header, lines, what=f"plate {plate}, results '{label}'")
            grids.append(
                PlateGrid(
                    plate=plate,
                    label=label,
                    wavelength_nm=wavelength_from_label(label),
                    wells=wells,
                )
            )
            continue
        if first == "Basic assay information":
            index = _key_value_section(rows, index + 1, metadata)
            continue
        if first.startswith("Exported with EnVision"):
            metadata["Software"] = first.removeprefix("Exported with ").strip()
        index += 1
    if not grids:
        raise ImportFileError("no 'Results for …' grid was found in this EnVision export")
    return PlateReading(format=PlateFormat.ENVISION, plates=tuple(grids), metadata=metadata)


def _plate_information(header: Row, values: Row, plate: str, metadata: dict[str, str]) -> str:
    names = [c.strip() for c in header.cells]
    cells = [unescape_cell(c) for c in values.cells]
    if "Plate" not in names:
        raise ImportFileError(
            "the plate information table has no 'Plate' column", line=header.number
        )
    found = dict(zip(names, cells, strict=False))
    plate = found.get("Plate") or plate
    for name in _PLATE_FIELDS:
        if found.get(name):
            metadata[f"Plate {plate} {name.lower()}"] = found[name]
    return plate


def _key_value_section(rows: list[Row], index: int, metadata: dict[str, str]) -> int:
    """``Key: ,,,,value`` lines until a blank line."""
    while index < len(rows) and not rows[index].is_blank:
        cells = [unescape_cell(c) for c in rows[index].cells if c.strip()]
        if cells:
            key = cells[0].rstrip(":").strip()
            metadata.setdefault(key, cells[-1] if len(cells) > 1 else "")
        index += 1
    return index
