"""The daily worksheet: PDF read back with pdftotext, HTML checked for what must not be there."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from pathlib import Path

import pytest

from labnotes.documents import (
    Worksheet,
    WorksheetRow,
    render_worksheet_html,
    render_worksheet_pdf,
)
from tests.labnotes.documents.pdf import pages, pdf_text, snapshot, words

PRINTED_AT = dt.datetime(2025, 3, 4, 7, 55, tzinfo=dt.UTC)
DOSE_SENTINEL = 123.456
STATUSES = ("ok", "ok", "approaching", "ok", "reached")


def row(index: int, *, rack: str, cage: str, extra_tasks: int = 0) -> WorksheetRow:
    return WorksheetRow(
        rack=rack,
        cage_label=cage,
        tag=f"T{index:03d}",
        arm_display=f"K{index % 4 + 3}X",
        last_length_mm=10 + index / 10,
        last_width_mm=5 + index / 20,
        last_weight_g=20 + index / 50,
        last_measured_on=dt.date(2025, 3, 3),
        endpoint_status=STATUSES[index % 5],  # type: ignore[arg-type]
        tasks=(
            "Measure tumour",
            "Weigh",
            *(f"Observe T{index:03d} note {n}" for n in range(extra_tasks)),
        ),
        dose_volume_ul=DOSE_SENTINEL,
    )


def cohort(n_cages: int = 8, per_cage: int = 5, extra_tasks: int = 0) -> list[WorksheetRow]:
    rows = []
    for cage in range(n_cages):
        for slot in range(per_cage):
            rack = "R1" if cage < n_cages // 2 else "R2"
            rows.append(
                row(cage * per_cage + slot, rack=rack, cage=f"C{cage + 1}", extra_tasks=extra_tasks)
            )
    return rows


def worksheet(rows: list[WorksheetRow], *, dosers_copy: bool = False) -> Worksheet:
    shuffled = list(rows)
    random.Random(7).shuffle(shuffled)
    return Worksheet(
        lab_name="Tumour Pharmacology Lab",
        study_code="CT26-EFF-2025-03",
        run_code="R1",
        day=dt.date(2025, 3, 4),
        study_day=14,
        room="B2.14",
        prepared_for="Alex Doe",
        dosers_copy=dosers_copy,
        rows=tuple(shuffled),
    )


def test_rows_follow_rack_and_cage_order_when_given_shuffled(tmp_path: Path) -> None:
    rows = cohort(n_cages=12, per_cage=2)
    text = pdf_text(render_worksheet_pdf(worksheet(rows), printed_at=PRINTED_AT), tmp_path)
    printed = re.findall(r"^\s*(R\d)\s+(C\d+)\s+K\dX\s+(T\d{3})", text, flags=re.MULTILINE)
    # C10 after C9 (numbers compared as numbers), rack R1 before R2
    expected = [(r.rack, r.cage_label, r.tag) for r in rows]
    assert printed == expected
    assert [cage for _, cage, _ in printed][10:14] == ["C6", "C6", "C7", "C7"]


def test_header_footer_and_write_in_columns_are_on_every_page(tmp_path: Path) -> None:
    rows = cohort(n_cages=10, per_cage=5)
    pdf = render_worksheet_pdf(worksheet(rows), printed_at=PRINTED_AT)
    printed = pages(pdf_text(pdf, tmp_path))
    assert len(printed) >= 3
    first = words(printed[0])
    assert "Daily worksheet — Tuesday 2025-03-04" in first
    assert "Study CT26-EFF-2025-03 · Run R1 · Study day 14 · Room B2.14" in first
    assert "Tumour Pharmacology Lab" in first
    assert "Prepared for Alex Doe · 50 animals in 10 cages" in first
    for number, page in enumerate(printed, start=1):
        flat = words(page)
        assert f"Page {number} of {len(printed)}" in flat
        assert "Printed at 2025-03-04 07:55 UTC" in flat
        assert "Last reading" in flat and "Today" in flat
        assert re.search(r"Rack Cage Code Tag Endpoint Tasks today L mm W mm Wt g Taken", flat)
        assert "L mm W mm Weight g Observations Initials" in flat
        if number > 1:
            assert "CT26-EFF-2025-03 · Run R1 · Tuesday 2025-03-04 · Room B2.14 · Alex Doe" in flat
    snapshot(pdf, "documents-worksheet")


def test_last_readings_status_and_tasks_are_printed_for_each_animal(tmp_path: Path) -> None:
    rows = [
        dataclasses.replace(row(0, rack="R1", cage="C1"), last_length_mm=12.34, tasks=("Weigh",)),
        dataclasses.replace(
            row(2, rack="R1", cage="C1"),
            last_measured_on=dt.date(2024, 12, 30),
            tasks=("Measure tumour", "Bleed 50 µL"),
        ),
        dataclasses.replace(
            row(4, rack="R1", cage="C2"),
            last_length_mm=None,
            last_width_mm=None,
            last_weight_g=None,
            last_measured_on=None,
        ),
    ]
    text = pdf_text(render_worksheet_pdf(worksheet(rows), printed_at=PRINTED_AT), tmp_path)
    assert re.search(r"T000\s+ok\s+Weigh\s+12\.3\s+5\.0\s+20\.0\s+03 Mar", text)
    assert re.search(r"T002\s+APPROACHING\s+Measure tumour\s+10\.2\s+5\.1\s+20\.0\s+30 Dec\s", text)
    assert re.search(r"30 Dec\n.*2024", text)  # another year: the year is printed
    assert re.search(r"T004\s+!! REACHED\s+Measure tumour\s*$", text, flags=re.MULTILINE)
    assert "Bleed 50 µL" in text


def test_non_dosers_copy_has_no_dose_column_or_volumes(tmp_path: Path) -> None:
    sheet = worksheet(cohort())
    html = render_worksheet_html(sheet, printed_at=PRINTED_AT)
    text = pdf_text(render_worksheet_pdf(sheet, printed_at=PRINTED_AT), tmp_path)
    for document in (html, text):
        assert "dose" not in document.casefold()
        assert "123.4" not in document and "123.5" not in document and "123" not in document
    assert "µL" not in text and "&micro;" not in html


def test_dosers_copy_shows_each_animals_dose_volume(tmp_path: Path) -> None:
    rows = cohort()
    pdf = render_worksheet_pdf(worksheet(rows, dosers_copy=True), printed_at=PRINTED_AT)
    text = pdf_text(pdf, tmp_path)
    assert "DOSERS' COPY" in text
    assert "Dose µL" in text
    assert text.count("123.5") == len(rows)
    assert re.search(r"T000\s+ok\s+Measure tumour\s+123\.5\s+10\.0\s+5\.0\s+20\.0", text)
    snapshot(pdf, "documents-worksheet-dosers")


def test_a_row_is_never_split_across_pages_when_tasks_are_long(tmp_path: Path) -> None:
    rows = cohort(n_cages=6, per_cage=5, extra_tasks=4)
    printed = pages(
        pdf_text(render_worksheet_pdf(worksheet(rows), printed_at=PRINTED_AT), tmp_path)
    )
    assert len(printed) >= 3
    for animal in rows:
        holding = [i for i, page in enumerate(printed) if re.search(rf"\b{animal.tag}\b", page)]
        assert len(holding) == 1, animal.tag
        for task in animal.tasks[2:]:
            where = [i for i, page in enumerate(printed) if task in words(page)]
            assert where == holding, (animal.tag, task)


def test_markup_is_printed_as_text_when_a_tag_contains_script(tmp_path: Path) -> None:
    hostile = dataclasses.replace(
        row(1, rack="R1", cage="C1"),
        tag="<script>alert(1)</script>",
        tasks=('Weigh "<img src=x>"',),
    )
    sheet = dataclasses.replace(worksheet([hostile]), prepared_for="<i>Eve</i> & co")
    html = render_worksheet_html(sheet, printed_at=PRINTED_AT)
    assert "<script>" not in html and "<img" not in html and "<i>Eve" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;Eve&lt;/i&gt; &amp; co" in html
    text = words(pdf_text(render_worksheet_pdf(sheet, printed_at=PRINTED_AT), tmp_path))
    in_reading_order = pdf_text(
        render_worksheet_pdf(sheet, printed_at=PRINTED_AT), tmp_path, layout=False
    )
    assert "<script>alert(1)</\nscript>" in in_reading_order  # wrapped in the tag cell
    assert "Prepared for <i>Eve</i> & co" in text


def test_empty_worksheet_says_so_when_no_animal_is_due(tmp_path: Path) -> None:
    sheet = dataclasses.replace(worksheet([]), study_day=None)
    text = words(pdf_text(render_worksheet_pdf(sheet, printed_at=PRINTED_AT), tmp_path))
    assert "No animals on this worksheet." in text
    assert "Study day —" in text
    assert "Page 1 of 1" in text


def test_row_is_refused_when_endpoint_status_is_unknown() -> None:
    with pytest.raises(ValueError, match="endpoint_status"):
        dataclasses.replace(row(1, rack="R1", cage="C1"), endpoint_status="late")  # type: ignore[arg-type]


def test_html_is_a_complete_document_for_the_browser_print_view() -> None:
    html = render_worksheet_html(worksheet(cohort(n_cages=1)), printed_at=PRINTED_AT)
    assert html.startswith("<!DOCTYPE html>")
    assert "size: A4 landscape" in html
    assert html.count('<tr class="') == 5
    assert "$" not in html  # every placeholder filled
