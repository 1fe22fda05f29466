"""Reading the analysis engine's CSV inputs with errors that name the line and column."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from labnotes.analysis.errors import AnalysisInputError


@dataclass(frozen=True)
class Table:
    """A CSV read into strings; ``line_numbers[i]`` is the file line of ``rows[i]``."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    line_numbers: tuple[int, ...]

    def has(self, column: str) -> bool:
        return column in self.columns


def read_table(source: str | Path | io.TextIOBase, *, required: Sequence[str] = ()) -> Table:
    """Read a CSV file (path, or an open text stream) into a :class:`Table`.

    Header names are stripped and lower-cased; empty lines are skipped. A missing required
    column raises :class:`AnalysisInputError` naming it; so does an empty file.
    """
    if isinstance(source, (str, Path)):
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise AnalysisInputError(f"input file {source} does not exist") from None
        except UnicodeDecodeError as exc:
            raise AnalysisInputError(
                f"input file {source} is not UTF-8 text ({exc.reason})"
            ) from None
    else:
        text = source.read()
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    for record in reader:
        if not record or all(not cell.strip() for cell in record):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in record]
            continue
        line = reader.line_num
        if len(record) != len(header):
            raise AnalysisInputError(
                f"expected {len(header)} values, found {len(record)}", row=line
            )
        rows.append({name: cell.strip() for name, cell in zip(header, record, strict=True)})
        lines.append(line)
    if header is None:
        raise AnalysisInputError("the input is empty: no header line")
    for name in required:
        if name not in header:
            raise AnalysisInputError(
                f"required column '{name}' is missing (found: {', '.join(header)})", row=1
            )
    return Table(columns=tuple(header), rows=tuple(rows), line_numbers=tuple(lines))


def parse_float(table: Table, index: int, column: str, *, allow_blank: bool = False) -> float:
    """The value of ``column`` in row ``index`` as a finite float, or NaN for a permitted blank."""
    raw = table.rows[index].get(column, "")
    line = table.line_numbers[index]
    if raw == "" or raw.upper() in {"NA", "NAN"}:
        if allow_blank:
            return math.nan
        raise AnalysisInputError(
            "a number is required here, the cell is blank", row=line, column=column
        )
    try:
        value = (
            float(raw.replace(",", ".")) if raw.count(",") == 1 and "." not in raw else float(raw)
        )
    except ValueError:
        raise AnalysisInputError(f"'{raw}' is not a number", row=line, column=column) from None
    if not math.isfinite(value):
        raise AnalysisInputError(f"'{raw}' is not a finite number", row=line, column=column)
    return value


def parse_int(table: Table, index: int, column: str) -> int:
    """The value of ``column`` in row ``index`` as an integer (``7`` or ``7.0``, not ``7.5``)."""
    value = parse_float(table, index, column)
    if value != int(value):
        raw = table.rows[index][column]
        raise AnalysisInputError(
            f"'{raw}' is not a whole number", row=table.line_numbers[index], column=column
        )
    return int(value)


def require_text(table: Table, index: int, column: str) -> str:
    raw = table.rows[index].get(column, "")
    if raw == "":
        raise AnalysisInputError(
            "a value is required here, the cell is blank",
            row=table.line_numbers[index],
            column=column,
        )
    return raw


def distinct_in_order(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)
