"""The study-table parser: rows → typed records, every problem named by row and column."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from labnotes.importers.errors import ImportFileError
from labnotes.importers.study_table import parse_study_table

HEADER = (
    "Animal;Sex;DOB;Cage;Group;Tumour;Date;Time;L (mm);W (mm);Weight (g);Endpoint;Endpoint date"
)


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def test_long_table_gives_animals_readings_and_endpoints() -> None:
    table = parse_study_table(
        _csv(
            "0001;F;2025-11-02;C1;G1;right flank;2026-01-10;09:15;8,5;6,1;20,3;;",
            "0001;;;;;right flank;2026-01-13;09:05;10.2;7.0;20.9;;",
            "0002;f;2025-11-02;C1;Vehicle;;2026-01-10;;NP;;ND sick;;",
            "0002;;;;;;;;;;;tumour volume;2026-01-20",
        ),
        "study.csv",
    )
    assert table.errors == ()
    first, second = table.animals
    assert (first.tag, first.sex, first.cage, first.arm) == ("0001", "female", "C1", "G1")
    assert first.date_of_birth == dt.date(2025, 11, 2)
    assert first.rows == (2, 3)
    assert second.arm == "Vehicle"
    reading = table.readings[0]
    assert (reading.row, reading.date, reading.time) == (2, dt.date(2026, 1, 10), dt.time(9, 15))
    assert (reading.length_mm, reading.width_mm, reading.weight_g) == (
        Decimal("8.5"),
        Decimal("6.1"),
        Decimal("20.3"),
    )
    coded = table.readings[2]
    assert (coded.tumour_code, coded.weight_code, coded.weight_code_reason) == ("NP", "ND", "sick")
    assert coded.time is None
    (endpoint,) = table.endpoints
    assert (endpoint.row, endpoint.tag, endpoint.cause) == (5, "0002", "tumour volume")


def test_each_bad_cell_is_named_by_row_and_column() -> None:
    table = parse_study_table(
        _csv(
            "0001;F;;C1;G1;;2026-01-10;;8,5;;20,3;;",  # width missing
            "0002;X;;C1;G1;;03/04/2026;;8;6;1,234;;",  # sex, ambiguous date, thousands
            ";F;;C1;G1;;2026-01-10;;8;6;20;;",  # no tag
            "0003;F;;C1;G1;;2026-01-10;25:00;8;6;20;;",  # bad time
            "0004;F;;C1;G1;;;;8;6;;;",  # readings without a date
            "0005;F;;C1;G1;;2026-01-10;;8;6;200;;",  # weight out of range
        ),
        "study.csv",
    )
    found = {(error.row, error.field) for error in table.errors}
    assert found == {
        (2, "width_mm"),
        (3, "sex"),
        (3, "date"),
        (3, "weight_g"),
        (4, "tag"),
        (5, "time"),
        (6, "date"),
        (7, "weight_g"),
    }
    assert any("ambiguous" in e.message for e in table.errors if e.field == "date")


def test_conflicting_animal_values_name_the_later_row() -> None:
    table = parse_study_table(_csv("0001;F;;C1;G1;;;;;;;;", "0001;M;;C2;G1;;;;;;;;"), "study.csv")
    messages = {(e.row, e.field): e.message for e in table.errors}
    assert set(messages) == {(3, "sex"), (3, "cage")}
    assert "row 2" in messages[(3, "cage")]


def test_unknown_and_wrong_unit_columns_are_errors_and_volume_is_ignored() -> None:
    data = b"tag,length (cm),width,colour,volume\n0001,1,1,red,12\n"
    table = parse_study_table(data, "s.csv")
    fields = {(e.row, e.field) for e in table.errors}
    assert (1, "colour") in fields
    assert (1, "length (cm)") in fields
    assert table.ignored_columns == ("volume",)


def test_same_time_twice_is_refused_as_duplicate() -> None:
    table = parse_study_table(
        _csv(
            "0001;F;;C1;G1;;2026-01-10;09:00;8;6;20;;",
            "0001;F;;C1;G1;;2026-01-10;09:00;8.2;6;20;;",
        ),
        "s.csv",
    )
    assert {(e.row, e.field) for e in table.errors} == {(3, "length_mm"), (3, "weight_g")}


def test_found_dead_last_seen_needs_date_and_time() -> None:
    data = (
        b"tag,endpoint,endpoint date,last seen alive\n"
        b"0001,found dead,2026-01-20,2026-01-19\n"
        b"0002,found dead,2026-01-20 07:30,2026-01-19 17:00\n"
    )
    table = parse_study_table(data, "s.csv")
    assert [(e.row, e.field) for e in table.errors] == [(2, "last_seen_alive")]
    (endpoint,) = table.endpoints
    assert endpoint.time == dt.time(7, 30)
    assert endpoint.last_seen_alive == dt.datetime(2026, 1, 19, 17, 0)


def test_xlsx_with_typed_cells_reads_like_csv() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Tag", "Sex", "Group", "Date", "Time", "L", "W", "BW"])
    sheet.append([1, "F", "G1", dt.datetime(2026, 1, 10, 9, 30), None, 8.5, 6.25, 20.1])
    sheet.cell(row=2, column=1).number_format = "0000"
    sheet.append(["0002", "F", "G2", dt.date(2026, 1, 10), dt.time(10, 5), 7, 5, 19])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = parse_study_table(buffer.getvalue(), "study.xlsx")
    assert table.errors == ()
    assert [a.tag for a in table.animals] == ["0001", "0002"]
    first, second = table.readings
    assert (first.date, first.time) == (dt.date(2026, 1, 10), dt.time(9, 30))
    assert (first.length_mm, first.width_mm, first.weight_g) == (
        Decimal("8.5"),
        Decimal("6.25"),
        Decimal("20.1"),
    )
    assert second.time == dt.time(10, 5)


def test_unreadable_files_raise_import_file_error() -> None:
    with pytest.raises(ImportFileError, match="neither"):
        parse_study_table(b"x", "study.pdf")
    with pytest.raises(ImportFileError, match="empty"):
        parse_study_table(b"\n\n", "study.csv")
    with pytest.raises(ImportFileError, match="cannot be read"):
        parse_study_table(b"PK not a zip", "study.xlsx")
    with pytest.raises(ImportFileError, match="at most 2"):
        parse_study_table(b"tag\n1\n2\n3\n", "s.csv", max_rows=2)
