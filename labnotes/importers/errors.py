"""The one error type the instrument parsers raise for a file they cannot read."""

from __future__ import annotations


class ImportFileError(ValueError):
    """A file that cannot be imported, described so that a scientist can fix or re-export it.

    ``line`` is the 1-based line of the text file (or row of the spreadsheet) where the problem
    was found, ``field`` the column, keyword or element concerned; either is ``None`` when the
    problem concerns the whole file (empty, wrong format, unsupported encoding).
    """

    def __init__(self, reason: str, *, line: int | None = None, field: str | None = None) -> None:
        self.reason = reason
        self.line = line
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason
