"""A running or past study as one table (CSV or XLSX) → typed records with row/field errors.

One row per animal and time point (the "long" layout most spreadsheets of tumour studies use).
The first row is a header; columns are recognised by name in any case, with ``_``, ``-`` and
spaces alike and a unit in brackets allowed (``L (mm)``, ``Weight [g]``):

==================  ===============================================================
``tag``             required on every row (``animal``, ``animal id``, ``mouse``, ``ear tag``);
                    kept as text, leading zeros included
``sex``             ``f``/``female``/``m``/``male``
``date_of_birth``   (``dob``, ``birth date``)
``cage``            the cage label
``arm``             arm code or label (``group``, ``treatment``)
``treatment_start`` the animal's randomization day (``randomized on``)
``tumour``          tumour site (``site``, ``tumor``); ``tumour_role`` injected,
                    contralateral or rechallenge
``date``, ``time``  when the row's readings were taken (``measured on``); a date cell may
                    carry the time too
``length_mm``       (``length``, ``L``), ``width_mm`` (``width``, ``W``): caliper axes in mm
``weight_g``        (``weight``, ``body weight``, ``BW``): body weight in g
``code``            ``NP``, ``NM <reason>`` or ``ND <reason>`` for the tumour when it has no
                    axes; the axis and weight cells accept the same codes themselves
``endpoint``        the endpoint cause (``cause``, ``endpoint cause``) with ``endpoint_date``
                    and ``endpoint_time``; ``last_seen_alive`` (date and time) for found dead
==================  ===============================================================

Animal columns (sex, date of birth, cage, arm, treatment start) may be repeated on every row of
the animal or given once; two different values for one animal are an error on the later row.
A row's readings need its ``date``. Numbers take a decimal dot or comma and the grid's rules
(:func:`labnotes.capture.parsing.parse_reading`: plausible ranges, no thousands separators,
units must match the column). Dates are ``YYYY-MM-DD`` or ``DD.MM.YYYY``; ``DD/MM/YYYY`` only
when it cannot be read as ``MM/DD/YYYY`` as well (``03/04/2026`` is refused as ambiguous).
Volume and study-day columns are recognised and ignored (the volume is recomputed with the
design's formula). Any other column is an error: an unrecognised column is data that would be
silently lost.

:func:`parse_study_table` never touches a database; it returns every problem it finds, each
naming the file row (as a spreadsheet shows it: the header is row 1) and the column.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeAlias

from labnotes.capture.parsing import (
    EntryConfig,
    Kind,
    ParsedReading,
    ReadingCode,
    ReadingError,
    parse_reading,
)
from labnotes.importers.errors import ImportFileError
from labnotes.importers.plates.text import decode_text, sniff_delimiter, split_rows

Cell: TypeAlias = str | int | float | dt.datetime | dt.date | dt.time | None

COLUMNS: tuple[str, ...] = (
    "tag",
    "sex",
    "date_of_birth",
    "cage",
    "arm",
    "treatment_start",
    "tumour",
    "tumour_role",
    "date",
    "time",
    "length_mm",
    "width_mm",
    "weight_g",
    "code",
    "endpoint",
    "endpoint_date",
    "endpoint_time",
    "last_seen_alive",
)
IGNORED_COLUMNS: tuple[str, ...] = ("volume", "study_day")

_ALIASES: dict[str, str] = {
    **{name.replace("_", " "): name for name in COLUMNS + IGNORED_COLUMNS},
    "animal": "tag",
    "animal id": "tag",
    "animal tag": "tag",
    "mouse": "tag",
    "mouse id": "tag",
    "ear tag": "tag",
    "id": "tag",
    "gender": "sex",
    "dob": "date_of_birth",
    "birth date": "date_of_birth",
    "born": "date_of_birth",
    "cage label": "cage",
    "group": "arm",
    "arm code": "arm",
    "arm label": "arm",
    "treatment": "arm",
    "treatment group": "arm",
    "randomized on": "treatment_start",
    "randomised on": "treatment_start",
    "randomization date": "treatment_start",
    "site": "tumour",
    "tumor": "tumour",
    "tumour site": "tumour",
    "tumor site": "tumour",
    "role": "tumour_role",
    "tumor role": "tumour_role",
    "measured on": "date",
    "measurement date": "date",
    "measured at": "time",
    "length": "length_mm",
    "l": "length_mm",
    "length mm": "length_mm",
    "width": "width_mm",
    "w": "width_mm",
    "width mm": "width_mm",
    "weight": "weight_g",
    "body weight": "weight_g",
    "bw": "weight_g",
    "weight g": "weight_g",
    "reading code": "code",
    "cause": "endpoint",
    "endpoint cause": "endpoint",
    "death date": "endpoint_date",
    "date of death": "endpoint_date",
    "endpoint on": "endpoint_date",
    "last seen": "last_seen_alive",
    "volume mm3": "volume",
    "tumour volume": "volume",
    "tumor volume": "volume",
    "tv": "volume",
    "day": "study_day",
    "study day": "study_day",
}
_UNIT_OF_COLUMN = {"length_mm": "mm", "width_mm": "mm", "weight_g": "g"}
_SEX = {"f": "female", "female": "female", "m": "male", "male": "male"}
_ROLES = {"injected", "contralateral", "rechallenge"}
_HEADER_UNIT = re.compile(r"[\(\[]\s*([^\)\]]*?)\s*[\)\]]")
_TIME = re.compile(r"(\d{1,2})[:.h](\d{2})(?::(\d{2}))?")


@dataclass(frozen=True)
class RowError:
    """A problem at file row ``row`` (1 is the header; 0 the file as a whole) in ``field``."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return f"{where}, {self.field}: {self.message}"


@dataclass(frozen=True)
class AnimalRecord:
    """An animal as the table describes it; ``row`` is the first row that names it."""

    row: int
    tag: str
    sex: str | None = None
    date_of_birth: dt.date | None = None
    cage: str = ""
    arm: str = ""
    treatment_start: dt.date | None = None
    rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class ReadingRecord:
    """The readings of one row: a tumour's axes (or its code) and/or the body weight.

    ``time`` is ``None`` when the table gives none (the importer chooses the hour).
    ``tumour_code`` is ``NP``, ``NM`` or ``ND`` (with ``tumour_code_reason``) when the tumour
    was not measured with numbers; ``weight_code`` is ``ND`` likewise.
    """

    row: int
    tag: str
    date: dt.date
    time: dt.time | None
    tumour: str = ""
    tumour_role: str = ""
    length_mm: Decimal | None = None
    width_mm: Decimal | None = None
    tumour_code: str = ""
    tumour_code_reason: str = ""
    weight_g: Decimal | None = None
    weight_code: str = ""
    weight_code_reason: str = ""

    @property
    def has_caliper(self) -> bool:
        return self.length_mm is not None or bool(self.tumour_code)

    @property
    def has_weight(self) -> bool:
        return self.weight_g is not None or bool(self.weight_code)


@dataclass(frozen=True)
class EndpointRow:
    row: int
    tag: str
    cause: str
    date: dt.date
    time: dt.time | None
    last_seen_alive: dt.datetime | None = None


@dataclass(frozen=True)
class StudyTable:
    """Everything read from the file, and every problem found (empty when the file is valid)."""

    animals: tuple[AnimalRecord, ...]
    readings: tuple[ReadingRecord, ...]
    endpoints: tuple[EndpointRow, ...]
    errors: tuple[RowError, ...]
    columns: tuple[str, ...]
    ignored_columns: tuple[str, ...]
    data_rows: tuple[int, ...]

    @property
    def is_valid(self) -> bool:
        return not self.errors


# -- reading the file ------------------------------------------------------------------------


def read_cells(data: bytes, filename: str) -> list[tuple[int, list[Cell]]]:
    """The file's rows as (spreadsheet row number, cells), blank rows left out.

    XLSX: the first worksheet, with typed cells (numbers, dates); integers formatted with
    leading zeros (``0000``) come back as text with their zeros. CSV/TSV/TXT: any of the
    encodings and delimiters :mod:`labnotes.importers.plates.text` recognises.
    """
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        rows = _xlsx_cells(data)
    elif name.endswith((".csv", ".tsv", ".txt")):
        text = decode_text(data)
        rows = [(row.number, [*row.cells]) for row in split_rows(text, sniff_delimiter(text))]
    else:
        raise ImportFileError(f"'{filename}' is neither a .csv nor an .xlsx file", field="file")
    return [(number, cells) for number, cells in rows if any(_text(c) for c in cells)]


def _xlsx_cells(data: bytes) -> list[tuple[int, list[Cell]]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl reports a damaged file through many exception types
        raise ImportFileError(f"the XLSX file cannot be read ({error})", field="file") from None
    try:
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[Cell]]] = []
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            values: list[Cell] = []
            for cell in cells:
                value = getattr(cell, "value", None)
                if isinstance(value, bool):
                    value = str(value)
                if isinstance(value, int | float) and float(value).is_integer():
                    number_format = getattr(cell, "number_format", "") or ""
                    if re.fullmatch(r"0+", number_format):
                        value = str(int(value)).zfill(len(number_format))
                if (
                    not isinstance(value, str | int | float | dt.date | dt.time)
                    and value is not None
                ):
                    value = str(value)
                values.append(value)
            rows.append((number, values))
    finally:
        workbook.close()
    return rows


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())


# -- headers ---------------------------------------------------------------------------------


def _header(cells: Sequence[Cell], row: int) -> tuple[list[str], list[RowError]]:
    names: list[str] = []
    errors: list[RowError] = []
    seen: dict[str, str] = {}
    for cell in cells:
        raw = _text(cell)
        if not raw:
            names.append("")
            continue
        unit_match = _HEADER_UNIT.search(raw)
        unit = unit_match.group(1).strip().lower() if unit_match else ""
        base = _HEADER_UNIT.sub(" ", raw).lower().replace("_", " ").replace("-", " ")
        base = " ".join(base.split())
        name = _ALIASES.get(base, "")
        if not name:
            known = ", ".join(COLUMNS)
            errors.append(RowError(row, raw, f"unknown column; the columns read are: {known}"))
            names.append("")
            continue
        expected_unit = _UNIT_OF_COLUMN.get(name)
        if unit and expected_unit and unit != expected_unit:
            errors.append(RowError(row, raw, f"the column must be in {expected_unit}, not {unit}"))
        if name in seen:
            errors.append(RowError(row, raw, f"a second '{name}' column (first: '{seen[name]}')"))
            names.append("")
            continue
        seen[name] = raw
        names.append(name)
    if "tag" not in names:
        errors.append(RowError(row, "tag", "the header has no tag (animal) column"))
    return names, errors


# -- values ----------------------------------------------------------------------------------


def _date(value: Cell) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    text = text.split(" ")[0] if re.match(r"\d{4}-\d{2}-\d{2}[ T]", text) else text
    text = text.split("T")[0] if re.match(r"\d{4}-\d{2}-\d{2}T", text) else text
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    slash = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if slash:
        first, second, year = (int(part) for part in slash.groups())
        if first <= 12 and second <= 12 and first != second:
            raise ValueError(
                f"'{text}' is ambiguous (day/month or month/day?); write it as YYYY-MM-DD"
            )
        day, month = (first, second) if first > 12 or first == second else (second, first)
        try:
            return dt.date(year, month, day)
        except ValueError:
            pass
    raise ValueError(f"'{text}' is not a date; write it as YYYY-MM-DD")


def _time(value: Cell) -> dt.time:
    if isinstance(value, dt.datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, dt.time):
        return value.replace(microsecond=0)
    if isinstance(value, float) and 0 <= value < 1:  # an Excel time read as a day fraction
        seconds = round(value * 86400)
        return dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
    text = _text(value)
    match = _TIME.fullmatch(text)
    if match:
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour < 24 and minute < 60 and second < 60:
            return dt.time(hour, minute, second)
    raise ValueError(f"'{text}' is not a time of day; write it as HH:MM")


def _date_time_in(value: Cell) -> dt.time | None:
    """The time carried by a date cell (``2026-03-02 14:30``), if any."""
    if isinstance(value, dt.datetime):
        return None if value.time() == dt.time(0) else value.time().replace(microsecond=0)
    text = _text(value)
    match = re.fullmatch(r"(\S+)[ T](\d{1,2}:\d{2}(?::\d{2})?)", text)
    return _time(match[2]) if match else None


def _number_text(value: Cell) -> str:
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return _text(value)


def _reading(
    value: Cell, kind: Kind, config: EntryConfig
) -> ParsedReading | ReadingCode | ReadingError | None:
    text = _number_text(value)
    if not text:
        return None
    return parse_reading(text, kind=kind, config=config)


# -- the table -------------------------------------------------------------------------------


@dataclass
class _AnimalDraft:
    row: int
    tag: str
    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)


def parse_study_table(
    data: bytes,
    filename: str,
    *,
    max_rows: int = 10_000,
    config: EntryConfig | None = None,
) -> StudyTable:
    """Read a study table (module doc) into animals, readings and endpoints.

    Raises :class:`ImportFileError` only for a file that cannot be read at all (wrong type,
    damaged, empty, more than ``max_rows`` data rows); everything else is a :class:`RowError`
    in the result, so one pass names every problem.
    """
    rows = read_cells(data, filename)
    if not rows:
        raise ImportFileError("the file is empty", field="file")
    header_row, header_cells = rows[0]
    names, errors = _header(header_cells, header_row)
    body = rows[1:]
    if not body:
        raise ImportFileError("the file has a header but no rows", field="file")
    if len(body) > max_rows:
        raise ImportFileError(
            f"the file has {len(body)} rows; at most {max_rows} can be imported at once",
            field="file",
        )
    if "tag" not in names:
        return StudyTable((), (), (), tuple(errors), tuple(n for n in names if n), (), ())
    config = config or EntryConfig()
    drafts: dict[str, _AnimalDraft] = {}
    readings: list[ReadingRecord] = []
    endpoints: list[EndpointRow] = []
    for number, cells in body:
        record = {
            name: cells[i] if i < len(cells) else None for i, name in enumerate(names) if name
        }
        row_errors = _parse_row(number, record, drafts, readings, endpoints, config)
        errors.extend(row_errors)
    animals = tuple(
        AnimalRecord(
            row=draft.row,
            tag=draft.tag,
            sex=_str_or_none(draft.values.get("sex")),
            date_of_birth=_date_or_none(draft.values.get("date_of_birth")),
            cage=str(draft.values.get("cage") or ""),
            arm=str(draft.values.get("arm") or ""),
            treatment_start=_date_or_none(draft.values.get("treatment_start")),
            rows=tuple(draft.rows),
        )
        for draft in drafts.values()
    )
    _check_repeats(readings, endpoints, errors)
    errors.sort(key=lambda error: (error.row, _column_order(error.field)))
    return StudyTable(
        animals=animals,
        readings=tuple(readings),
        endpoints=tuple(endpoints),
        errors=tuple(errors),
        columns=tuple(name for name in names if name and name not in IGNORED_COLUMNS),
        ignored_columns=tuple(name for name in names if name in IGNORED_COLUMNS),
        data_rows=tuple(number for number, _cells in body),
    )


def _str_or_none(value: object) -> str | None:
    return str(value) if value else None


def _date_or_none(value: object) -> dt.date | None:
    return value if isinstance(value, dt.date) else None


def _column_order(name: str) -> int:
    return COLUMNS.index(name) if name in COLUMNS else len(COLUMNS)


def _parse_row(
    number: int,
    record: dict[str, Cell],
    drafts: dict[str, _AnimalDraft],
    readings: list[ReadingRecord],
    endpoints: list[EndpointRow],
    config: EntryConfig,
) -> list[RowError]:
    errors: list[RowError] = []
    tag = _text(record.get("tag"))
    if not tag:
        return [RowError(number, "tag", "every row needs the animal's tag")]
    if len(tag) > 40:
        return [RowError(number, "tag", "a tag has at most 40 characters")]
    draft = drafts.setdefault(tag, _AnimalDraft(row=number, tag=tag))
    draft.rows.append(number)
    errors.extend(_animal_values(number, record, draft))

    date_cell = record.get("date")
    taken_on: dt.date | None = None
    taken_time: dt.time | None = None
    if _text(date_cell):
        try:
            taken_on = _date(date_cell)
            taken_time = _date_time_in(date_cell)
        except ValueError as error:
            errors.append(RowError(number, "date", str(error)))
    if _text(record.get("time")):
        try:
            taken_time = _time(record.get("time"))
        except ValueError as error:
            errors.append(RowError(number, "time", str(error)))

    length = _reading(record.get("length_mm"), "length", config)
    width = _reading(record.get("width_mm"), "width", config)
    weight = _reading(record.get("weight_g"), "weight", config)
    code_text = _text(record.get("code"))
    code = parse_reading(code_text, kind="length", config=config) if code_text else None
    for name, result in (("length_mm", length), ("width_mm", width), ("weight_g", weight)):
        if isinstance(result, ReadingError):
            errors.append(RowError(number, name, result.message))
    if isinstance(code, ReadingError | ParsedReading):
        message = code.message if isinstance(code, ReadingError) else "give NP, NM or ND here"
        errors.append(RowError(number, "code", message))

    tumour_values: dict[str, object] = {}
    axis_codes = [r for r in (length, width, code) if isinstance(r, ReadingCode)]
    axis_numbers = [r for r in (length, width) if isinstance(r, ParsedReading)]
    if axis_codes and axis_numbers:
        errors.append(
            RowError(number, "code", "a tumour is either measured (L and W) or coded, not both")
        )
    elif axis_codes:
        distinct = {(c.code, c.reason) for c in axis_codes}
        if len(distinct) > 1:
            errors.append(RowError(number, "code", "the tumour has two different codes"))
        else:
            tumour_values = {
                "tumour_code": axis_codes[0].code,
                "tumour_code_reason": axis_codes[0].reason,
            }
    elif axis_numbers:
        if len(axis_numbers) == 1:
            missing = "width_mm" if isinstance(length, ParsedReading) else "length_mm"
            if not isinstance(length if missing == "length_mm" else width, ReadingError):
                errors.append(RowError(number, missing, "both length and width are needed"))
        else:
            tumour_values = {"length_mm": axis_numbers[0].value, "width_mm": axis_numbers[1].value}
    weight_values: dict[str, object] = {}
    if isinstance(weight, ParsedReading):
        weight_values = {"weight_g": weight.value}
    elif isinstance(weight, ReadingCode):
        weight_values = {"weight_code": weight.code, "weight_code_reason": weight.reason}

    site = _text(record.get("tumour"))
    role = _text(record.get("tumour_role")).lower()
    if role and role not in _ROLES:
        errors.append(
            RowError(number, "tumour_role", f"'{role}' is not one of {', '.join(sorted(_ROLES))}")
        )
    if len(site) > 60:
        errors.append(RowError(number, "tumour", "a tumour site has at most 60 characters"))
    if tumour_values or weight_values:
        if taken_on is None and not _text(date_cell):
            errors.append(RowError(number, "date", "readings need the date they were taken"))
        elif taken_on is not None:
            readings.append(
                ReadingRecord(
                    row=number,
                    tag=tag,
                    date=taken_on,
                    time=taken_time,
                    tumour=site,
                    tumour_role=role,
                    **tumour_values,  # type: ignore[arg-type]
                    **weight_values,  # type: ignore[arg-type]
                )
            )
    errors.extend(_endpoint(number, tag, record, endpoints))
    return errors


def _animal_values(number: int, record: dict[str, Cell], draft: _AnimalDraft) -> list[RowError]:
    errors: list[RowError] = []
    parsed: dict[str, object] = {}
    sex_text = _text(record.get("sex")).lower()
    if sex_text:
        if sex_text in _SEX:
            parsed["sex"] = _SEX[sex_text]
        else:
            errors.append(RowError(number, "sex", f"'{sex_text}' is not a sex; use f or m"))
    for name in ("date_of_birth", "treatment_start"):
        if _text(record.get(name)):
            try:
                parsed[name] = _date(record.get(name))
            except ValueError as error:
                errors.append(RowError(number, name, str(error)))
    for name in ("cage", "arm"):
        text = _text(record.get(name))
        if text:
            parsed[name] = text
    for name, value in parsed.items():
        if name not in draft.values:
            draft.values[name] = value
            draft.sources[name] = number
        elif draft.values[name] != value:
            errors.append(
                RowError(
                    number,
                    name,
                    f"'{_shown(value)}' differs from '{_shown(draft.values[name])}' given for "
                    f"animal {draft.tag} on row {draft.sources[name]}",
                )
            )
    return errors


def _shown(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _endpoint(
    number: int, tag: str, record: dict[str, Cell], endpoints: list[EndpointRow]
) -> list[RowError]:
    cause = _text(record.get("endpoint"))
    date_cell = record.get("endpoint_date")
    seen_cell = record.get("last_seen_alive")
    if not cause and not _text(date_cell) and not _text(seen_cell):
        return []
    errors: list[RowError] = []
    if not cause:
        errors.append(RowError(number, "endpoint", "an endpoint date needs its cause"))
    occurred_on: dt.date | None = None
    occurred_time: dt.time | None = None
    if not _text(date_cell):
        errors.append(RowError(number, "endpoint_date", "an endpoint needs its date"))
    else:
        try:
            occurred_on = _date(date_cell)
            occurred_time = _date_time_in(date_cell)
        except ValueError as error:
            errors.append(RowError(number, "endpoint_date", str(error)))
    if _text(record.get("endpoint_time")):
        try:
            occurred_time = _time(record.get("endpoint_time"))
        except ValueError as error:
            errors.append(RowError(number, "endpoint_time", str(error)))
    seen: dt.datetime | None = None
    if _text(seen_cell):
        try:
            seen_time = _date_time_in(seen_cell)
            if seen_time is None:
                raise ValueError("give the date and the time, e.g. 2026-03-02 17:30")
            seen = dt.datetime.combine(_date(seen_cell), seen_time)
        except ValueError as error:
            errors.append(RowError(number, "last_seen_alive", str(error)))
    if not errors and occurred_on is not None:
        endpoints.append(EndpointRow(number, tag, cause, occurred_on, occurred_time, seen))
    return errors


def _check_repeats(
    readings: Iterable[ReadingRecord], endpoints: Iterable[EndpointRow], errors: list[RowError]
) -> None:
    caliper_seen: dict[tuple[str, str, dt.date, dt.time | None], int] = {}
    weight_seen: dict[tuple[str, dt.date, dt.time | None], int] = {}
    for reading in readings:
        if reading.has_caliper:
            key = (reading.tag, reading.tumour, reading.date, reading.time)
            if key in caliper_seen:
                errors.append(
                    RowError(
                        reading.row,
                        "length_mm",
                        f"animal {reading.tag}'s tumour is measured at the same date and time "
                        f"on row {caliper_seen[key]}",
                    )
                )
            caliper_seen.setdefault(key, reading.row)
        if reading.has_weight:
            weight_key = (reading.tag, reading.date, reading.time)
            if weight_key in weight_seen:
                errors.append(
                    RowError(
                        reading.row,
                        "weight_g",
                        f"animal {reading.tag} is weighed at the same date and time on row "
                        f"{weight_seen[weight_key]}",
                    )
                )
            weight_seen.setdefault(weight_key, reading.row)
    endpoint_seen: dict[str, int] = {}
    for endpoint in endpoints:
        if endpoint.tag in endpoint_seen:
            errors.append(
                RowError(
                    endpoint.row,
                    "endpoint",
                    f"animal {endpoint.tag} has an endpoint on row {endpoint_seen[endpoint.tag]} "
                    "already",
                )
            )
        endpoint_seen.setdefault(endpoint.tag, endpoint.row)
