"""The one error type the analysis engine raises for bad input."""

from __future__ import annotations


class AnalysisInputError(ValueError):
    """Bad input, described so that a scientist can fix the file.

    ``row`` is the 1-based line number in the CSV file (the header is line 1), ``column`` the
    column name; either may be ``None`` when the problem is not tied to one cell.
    """

    def __init__(self, reason: str, *, row: int | None = None, column: str | None = None) -> None:
        self.reason = reason
        self.row = row
        self.column = column
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason
