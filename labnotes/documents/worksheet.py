"""The printable daily worksheet: one row per animal in rack and cage order.

The same HTML serves the browser's print view (``render_worksheet_html``) and the PDF
(``render_worksheet_pdf``): landscape A4, header with lab, study, run, day, study day and room,
footer with "Page x of y" and the printing time, the table header repeated on every page and no
row split across pages.
"""

from __future__ import annotations

import datetime as dt
import re

from labnotes.documents._render import esc, html_to_pdf, number, template
from labnotes.documents.model import Worksheet, WorksheetRow

# Only a dosers' copy carries the dose column, its header and its style: nothing about doses,
# not even a CSS class name, reaches anyone else's copy.
_DOSE_CSS = (
    "col.c-dose { width: 15mm; }\n"
    "td.dose { text-align: right; font-weight: bold; font-size: 11pt; }\n"
)
_DOSERS_BADGE = '<div class="copy">DOSERS\' COPY</div>'
_ENDPOINT_TEXT = {"ok": "ok", "approaching": "APPROACHING", "reached": "!! REACHED"}
# Longer tags (RFIDs are 15 digits) print in a smaller type so that they stay on one line.
LONG_TAG_CHARACTERS = 10
_DIGITS = re.compile(r"(\d+)")


def render_worksheet_pdf(worksheet: Worksheet, *, printed_at: dt.datetime | None = None) -> bytes:
    """The worksheet as PDF bytes; ``printed_at`` defaults to now in the machine's time zone."""
    return html_to_pdf(render_worksheet_html(worksheet, printed_at=printed_at))


def render_worksheet_html(worksheet: Worksheet, *, printed_at: dt.datetime | None = None) -> str:
    """The worksheet as a self-contained HTML document (inline CSS, every value HTML-escaped).

    Rows are sorted by rack, cage and tag with numbers compared as numbers (``C2`` before
    ``C10``). Each row shows the caller's ``arm_display``, tag, last length, width and weight
    with the date taken, endpoint status and today's tasks, then empty boxes for today's length,
    width, weight, observations and initials. The dose volume column exists only when
    ``worksheet.dosers_copy`` is true; otherwise ``dose_volume_ul`` is never read.
    """
    when = printed_at if printed_at is not None else dt.datetime.now().astimezone()
    dosers = worksheet.dosers_copy
    rows = sorted(worksheet.rows, key=_rack_cage_order)
    row_html: list[str] = []
    previous_cage: tuple[str, str] | None = None
    for row in rows:
        cage = (row.rack, row.cage_label)
        row_html.append(_row(row, worksheet.day, dosers=dosers, new_cage=cage != previous_cage))
        previous_cage = cage
    if rows:
        table = template("worksheet_table.html").substitute(
            dose_col='<col class="c-dose">' if dosers else "",
            dose_th="<th>Dose &micro;L</th>" if dosers else "",
            identity_span=7 if dosers else 6,
            rows="\n".join(row_html),
        )
    else:
        table = '<p class="none">No animals on this worksheet.</p>'
    cages = len({(row.rack, row.cage_label) for row in rows})
    day_long = f"{worksheet.day:%A} {worksheet.day.isoformat()}"
    return template("worksheet.html").substitute(
        title=esc(f"Worksheet {worksheet.study_code} {worksheet.run_code} {worksheet.day}"),
        extra_css=_DOSE_CSS if dosers else "",
        lab_name=esc(worksheet.lab_name),
        study_code=esc(worksheet.study_code),
        run_code=esc(worksheet.run_code),
        day_long=esc(day_long),
        study_day_text=(
            "Study day <b>—</b>"
            if worksheet.study_day is None
            else f"Study day <b>{worksheet.study_day}</b>"
        ),
        room=esc(worksheet.room),
        running=esc(
            f"{worksheet.study_code} · Run {worksheet.run_code} · {day_long} · "
            f"Room {worksheet.room} · {worksheet.prepared_for}"
        ),
        prepared_for=esc(worksheet.prepared_for),
        animal_count=esc(_plural(len(rows), "animal") + " in " + _plural(cages, "cage")),
        copy_badge=_DOSERS_BADGE if dosers else "",
        printed_at=esc(_timestamp(when)),
        table=table,
    )


def _row(row: WorksheetRow, day: dt.date, *, dosers: bool, new_cage: bool) -> str:
    dose_td = ""
    if dosers:
        dose_td = f'<td class="dose">{number(row.dose_volume_ul)}</td>'
    return template("worksheet_row.html").substitute(
        row_class="new-cage" if new_cage else "",
        rack=esc(row.rack),
        cage_label=esc(row.cage_label),
        arm_display=esc(row.arm_display),
        tag=esc(row.tag),
        tag_class="long" if len(row.tag) > LONG_TAG_CHARACTERS else "",
        endpoint_status=row.endpoint_status,
        endpoint_text=_ENDPOINT_TEXT[row.endpoint_status],
        tasks="<br>".join(esc(task) for task in row.tasks),
        dose_td=dose_td,
        last_length_mm=number(row.last_length_mm),
        last_width_mm=number(row.last_width_mm),
        last_weight_g=number(row.last_weight_g),
        last_measured_on=esc(_short_date(row.last_measured_on, day)),
    )


def _rack_cage_order(row: WorksheetRow) -> tuple[object, ...]:
    return (_natural(row.rack), _natural(row.cage_label), _natural(row.tag))


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    # (0, number) sorts before (1, text) so that mixed keys never compare int with str.
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in _DIGITS.split(text)
        if part
    )


def _short_date(value: dt.date | None, day: dt.date) -> str:
    # The year is implied by the worksheet's own day unless the reading is from another year.
    if value is None:
        return ""
    return f"{value:%d %b}" if value.year == day.year else f"{value:%d %b %Y}"


def _timestamp(when: dt.datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} {when:%Z}".strip()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
