"""Turning export bytes into numbered rows of cells, and reading 8 x 12 style grids from them.

Every text format is reduced to :class:`Row` objects (file line number plus cells) so that the
format parsers share one grid reader and every error can name its line. XLSX sheets are turned
into the same rows by :mod:`labnotes.importers.plates.magellan`.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from labnotes.importers.errors import ImportFileError
from labnotes.importers.plates.model import (
    ROW_LETTERS,
    ROWS_FOR_COLUMNS,
    WellValue,
    parse_well_value,
)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes, *, legacy_encoding: str = "cp1252") -> str:
    """Decode an export whose encoding nobody declared, with universal newlines.

    Order: a byte-order mark decides (UTF-8, UTF-16 LE/BE); UTF-16 without a mark is recognised
    by its NUL bytes (SoftMax Pro writes UTF-16 when asked for "Unicode"); then strict UTF-8;
    then ``legacy_encoding`` (cp1252 by default, the Windows instrument PCs' code page, with
    Latin-1 behind it because cp1252 leaves five bytes undefined). FlowJo tables from classic
    Mac OS pass ``mac_roman``. CR LF and lone CR line endings become LF.
    """
    text: str | None = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _decode_or_fail(data, encoding)
            break
    if text is None:
        sample = data[:4000]
        if len(sample) >= 4 and sample.count(0) >= len(sample) // 4:
            # ASCII text in UTF-16 has a NUL in every other byte; which half tells the order.
            odd_nuls = sample[1::2].count(0)
            even_nuls = sample[0::2].count(0)
            text = _decode_or_fail(data, "utf-16-le" if odd_nuls >= even_nuls else "utf-16-be")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    text = data.decode(legacy_encoding)
                except UnicodeDecodeError:
                    text = data.decode("latin-1")
    if "\x00" in text:
        raise ImportFileError("the file is binary, not a text export (it contains NUL bytes)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_or_fail(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"the file claims to be {encoding.upper()} but byte {exc.start} is not valid "
            "(is it truncated or damaged?)"
        ) from None


@dataclass(frozen=True)
class Row:
    """One line of an export: its 1-based ``number`` in the file and its cells."""

    number: int
    cells: tuple[str, ...]

    def cell(self, index: int) -> str:
        return self.cells[index].strip() if 0 <= index < len(self.cells) else ""

    @property
    def is_blank(self) -> bool:
        return all(not c.strip() for c in self.cells)

    @property
    def first(self) -> str:
        return self.cell(0)

    @property
    def nonblank(self) -> list[str]:
        return [c.strip() for c in self.cells if c.strip()]


def sniff_delimiter(text: str) -> str:
    """Tab when most lines have one, else whichever of ';' and ',' is more common."""
    lines = [line for line in text.split("\n")[:200] if line.strip()]
    if not lines:
        return ","
    if sum("\t" in line for line in lines) * 2 >= len(lines):
        return "\t"
    semicolons = sum(line.count(";") for line in lines)
    commas = sum(line.count(",") for line in lines)
    return ";" if semicolons > commas else ","


def split_rows(text: str, delimiter: str) -> list[Row]:
    """Split decoded text into rows. Tabs split plainly (SoftMax formulas contain quotes that
    must stay literal); commas and semicolons follow CSV quoting."""
    lines = text.split("\n")
    if delimiter == "\t":
        return [Row(i, tuple(line.split("\t"))) for i, line in enumerate(lines, start=1)]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for record in reader:
            rows.append(Row(reader.line_num, tuple(record)))
    except csv.Error as exc:
        raise ImportFileError(f"the CSV structure is broken: {exc}", line=reader.line_num) from None
    return rows


@dataclass(frozen=True)
class GridHeader:
    """A grid's column header: the column numbers and where the first one sits."""

    row: Row
    first_index: int
    columns: tuple[int, ...]

    @property
    def expected_rows(self) -> int | None:
        """Rows a full plate of this width has, when the header starts at column 1."""
        if self.columns[0] != 1:
            return None
        return ROWS_FOR_COLUMNS.get(len(self.columns))


def grid_header(row: Row) -> GridHeader | None:
    """Recognise ``<corner>, 1, 2, …, N`` (also "01".."12"); N must be a plate width."""
    cells = [c.strip() for c in row.cells]
    for start, cell in enumerate(cells):
        if cell.lstrip("0") == "1" and cell.isdigit():
            break
        if start >= 2:
            return None
    else:
        return None
    columns: list[int] = []
    for cell in cells[start:]:
        if not cell.isdigit() or int(cell) != len(columns) + 1:
            break
        columns.append(int(cell))
    if len(columns) not in ROWS_FOR_COLUMNS:
        return None
    return GridHeader(row=row, first_index=start, columns=tuple(columns))


@dataclass(frozen=True)
class GridLine:
    """One data line of a grid: the plate row letter, the read label if the line carries one
    (Gen5 puts it after the last column), and one optional reading per column."""

    row: Row
    letter: str
    label: str
    values: tuple[WellValue | None, ...]


def read_grid_lines(
    rows: Sequence[Row],
    header_index: int,
    *,
    decimal_comma: bool,
    trailing_label: bool = False,
) -> tuple[GridHeader, list[GridLine], int]:
    """Read the grid whose header is ``rows[header_index]``; return the lines and the index
    after the grid.

    A line belongs to the grid when its row cell is a letter, or is empty and continues the
    previous letter (Gen5 writes raw, blanked and concentration lines under one letter). The
    grid ends at a blank line or at anything else. A line with fewer cells than the header has
    columns was cut short: that is a truncated file, reported as such, because trailing empty
    wells are still written as empty cells by every exporter we know.
    """
    header = grid_header(rows[header_index])
    if header is None:
        raise ImportFileError(
            "expected a grid header (1, 2, …, 12)", line=rows[header_index].number
        )
    letter_index = header.first_index - 1
    width = len(header.columns)
    lines: list[GridLine] = []
    index = header_index + 1
    current_letter = ""
    while index < len(rows):
        row = rows[index]
        if row.is_blank:
            break
        letter_cell = row.cell(letter_index) if letter_index >= 0 else ""
        if len(letter_cell) == 1 and letter_cell.upper() in ROW_LETTERS:
            current_letter = letter_cell.upper()
        elif not (letter_cell == "" and current_letter and trailing_label):
            break
        if len(row.cells) < header.first_index + width:
            raise ImportFileError(
                f"row {current_letter} has {max(len(row.cells) - header.first_index, 0)} of "
                f"{width} columns: the file looks truncated",
                line=row.number,
            )
        values = tuple(
            parse_well_value(
                row.cells[header.first_index + i],
                decimal_comma=decimal_comma,
                line=row.number,
                field=f"{current_letter}{header.columns[i]}",
            )
            for i in range(width)
        )
        label = row.cell(header.first_index + width) if trailing_label else ""
        lines.append(GridLine(row=row, letter=current_letter, label=label, values=values))
        index += 1
    if not lines:
        raise ImportFileError(
            "the grid header is not followed by any plate row", line=header.row.number
        )
    return header, lines, index


def collect_wells(
    header: GridHeader, lines: Sequence[GridLine], *, what: str
) -> dict[str, WellValue]:
    """Wells of one grid (lines of one label), checking row order and completeness.

    ``what`` names the grid in messages ("plate 1, read abs450:450").
    """
    wells: dict[str, WellValue] = {}
    seen: dict[str, int] = {}
    for line in lines:
        if line.letter in seen:
            raise ImportFileError(
                f"row {line.letter} of {what} appears twice (also on line {seen[line.letter]}): "
                "duplicate wells",
                line=line.row.number,
            )
        seen[line.letter] = line.row.number
        for column, value in zip(header.columns, line.values, strict=True):
            if value is not None:
                wells[f"{line.letter}{column}"] = value
    expected = header.expected_rows
    letters = "".join(seen)
    if expected is not None:
        wanted = ROW_LETTERS[:expected]
        if letters != wanted[: len(letters)]:
            raise ImportFileError(
                f"rows of {what} are {', '.join(letters)}; "
                f"expected {wanted[0]}-{wanted[-1]} in order",
                line=lines[0].row.number,
            )
        if len(letters) < expected:
            raise ImportFileError(
                f"{what} stops after row {letters[-1]} but a {expected * len(header.columns)}-well "
                f"plate has rows {wanted[0]}-{wanted[-1]}: the file looks truncated",
                line=lines[-1].row.number,
            )
    if wells and not any(v.is_numeric for v in wells.values()):
        raise ImportFileError(f"{what} holds no numeric reading at all", line=lines[0].row.number)
    return wells


def metadata_pair(text: str) -> tuple[str, str] | None:
    """ "Key: value" (or "Key:" alone) as a pair with the key stripped of its colon."""
    key, sep, value = text.partition(":")
    if not sep or not key.strip() or len(key) > 60:
        return None
    return key.strip(), value.strip()
