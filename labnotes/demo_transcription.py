"""The demo's paper worksheets: one day typed in from the barrier room's paper sheet and verified
by a second person, and an earlier, smaller sheet still awaiting verification.

Second in ``labnotes.demo._record_history``: it reads the readings written before it and types
the sheet for a past day that has no caliper readings yet (at least five days back, before the
welfare area's endpoints). The values follow each tumour's own log-linear growth between its
neighbouring readings (or 0.2/day from the nearest one, at most ``MAX_EXTRAPOLATION_DAYS``
away: an animal without readings around the sheet's day — a satellite taken down, an animal
not yet measured — is not on the sheet); the "scan" is a small PDF of the sheet. Each sheet is
typed in the afternoon of its day (``entered_at``), as the barrier room does: not late.
Measure and weigh tasks of the sheet's day are then done (:func:`complete_measured_tasks`).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from labnotes.models import (
    Animal,
    AnimalStatus,
    Measurement,
    MeasurementKind,
    StudyRun,
    TranscriptionSheet,
)
from labnotes.services.files import store_file
from labnotes.services.transcription import (
    SheetEntry,
    create_transcription_sheet,
    verify_transcription_sheet,
)

logger = logging.getLogger(__name__)

GROWTH_PER_DAY = 0.2  # CT26 in BALB/c: volume doubles in about 3.5 days
#: No value is made up further than this from the animal's nearest real reading.
MAX_EXTRAPOLATION_DAYS = 3.0
#: The sheet is typed in this long after the time written on it.
TYPED_IN_AFTER = dt.timedelta(hours=5)
LENGTH_TO_WIDTH = 1.3
_HUNDREDTH = Decimal("0.01")


def record_demo_transcription(run: StudyRun, users: dict[str, Any]) -> list[TranscriptionSheet]:
    """A verified sheet for the latest free day at least five days back, and an awaiting one
    (one cage) for the free day before it. Nothing happens when no such day exists."""
    if TranscriptionSheet.objects.filter(run=run).exists():
        return list(TranscriptionSheet.objects.filter(run=run))
    lab = run.study.lab
    technician = users["tech_measure"]
    checker = users.get("scientist") or users["director"]
    today = lab.local_date(_now())
    days_with_readings = {
        lab.local_date(taken_at)
        for taken_at in Measurement.objects.filter(
            animal__run=run, kind=MeasurementKind.CALIPER
        ).values_list("taken_at", flat=True)
    }
    free = [
        run.day0 + dt.timedelta(days=n)
        for n in range(1, (today - run.day0).days)
        if run.day0 + dt.timedelta(days=n) <= today - dt.timedelta(days=5)
        and run.day0 + dt.timedelta(days=n) not in days_with_readings
    ]
    if not free:
        logger.info("demo: no free past day for a transcribed worksheet of %s", run.code)
        return []
    animals = list(
        Animal.objects.filter(run=run, status=AnimalStatus.ON_STUDY)
        .select_related("arm")
        .prefetch_related("tumours", "arm__satellites")
        .order_by("tag")
    )
    sheets = []
    verified_day = free[-1]
    sheet = _sheet(run, animals, verified_day, dt.time(8, 50), technician)
    if sheet is not None:
        sheets.append(verify_transcription_sheet(sheet=sheet, verified_by=checker))
    if len(free) > 1:
        awaiting = _sheet(run, animals[:4], free[-2], dt.time(9, 10), technician)
        if awaiting is not None:
            sheets.append(awaiting)
    from labnotes.demo_measurements import complete_measured_tasks

    complete_measured_tasks(run, technician)
    return sheets


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def _sheet(
    run: StudyRun, animals: list[Animal], day: dt.date, time: dt.time, technician: Any
) -> TranscriptionSheet | None:
    instant = dt.datetime.combine(day, time).replace(tzinfo=run.study.lab.zone)
    entered_at = min(instant + TYPED_IN_AFTER, _now())
    entries: list[SheetEntry] = []
    for animal in animals:
        if _taken_down_by(animal, (day - run.day0).days):
            continue
        for tumour in animal.tumours.all():
            volume = _volume_at(Measurement.objects.filter(tumour=tumour), instant)
            if volume is None:
                continue
            width = (2 * volume / LENGTH_TO_WIDTH) ** (1 / 3)
            entries.append(
                SheetEntry(
                    animal=animal,
                    tumour=tumour,
                    length_mm=_mm(width * LENGTH_TO_WIDTH),
                    width_mm=_mm(width),
                )
            )
        weight = _weight_near(animal, instant)
        if weight is not None:
            entries.append(SheetEntry(animal=animal, weight_g=weight))
    if not entries:
        return None
    scan = store_file(
        content=_scan_pdf(run, day, time, entries),
        filename=f"{run.code}-worksheet-{day.isoformat()}-scan.pdf",
        content_type="application/pdf",
        stored_by=technician,
        lab=run.study.lab,
    )
    return create_transcription_sheet(
        run=run,
        sheet_date=day,
        sheet_time=time,
        entries=entries,
        transcribed_by=technician,
        measured_by=technician,
        scan=scan,
        notes="Barrier room 2.14: readings on paper, typed in the same afternoon.",
        entered_at=entered_at,
    )


def _taken_down_by(animal: Animal, study_day: int) -> bool:
    """A satellite animal is not on the sheet from its cohort's takedown day on."""
    if not animal.is_satellite or animal.arm is None:
        return False
    days = [
        cohort.takedown_study_day
        for cohort in animal.arm.satellites.all()
        if cohort.takedown_study_day is not None
    ]
    return bool(days) and study_day >= min(days)


def _mm(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)


def _volume_at(readings: Any, instant: dt.datetime) -> float | None:
    """Log-linear interpolation of the tumour's volume between its neighbouring readings."""
    rows = [
        (taken_at, float(volume))
        for taken_at, volume in readings.filter(
            voided_at__isnull=True, volume_mm3__gt=0
        ).values_list("taken_at", "volume_mm3")
    ]
    before = [row for row in rows if row[0] <= instant]
    after = [row for row in rows if row[0] > instant]
    if before and after:
        (t0, v0), (t1, v1) = max(before), min(after)
        share = (instant - t0) / (t1 - t0)
        return math.exp(math.log(v0) + share * (math.log(v1) - math.log(v0)))
    if not rows:
        return None
    taken_at, volume = max(before) if before else min(after)
    days = (instant - taken_at).total_seconds() / 86400
    if abs(days) > MAX_EXTRAPOLATION_DAYS:
        return None  # not measured around that day: not on the sheet
    return volume * math.exp(GROWTH_PER_DAY * days)


def _weight_near(animal: Animal, instant: dt.datetime) -> Decimal | None:
    rows = list(
        Measurement.objects.filter(
            animal=animal, kind=MeasurementKind.WEIGHT, voided_at__isnull=True, weight_g__gt=0
        ).values_list("taken_at", "weight_g")
    )
    if not rows:
        return None
    taken, weight = min(rows, key=lambda row: abs((row[0] - instant).total_seconds()))
    if abs((taken - instant).total_seconds()) > MAX_EXTRAPOLATION_DAYS * 86400:
        return None
    return None if weight is None else Decimal(weight).quantize(_HUNDREDTH)


def _scan_pdf(run: StudyRun, day: dt.date, time: dt.time, entries: list[SheetEntry]) -> bytes:
    """A one-page PDF standing in for the scanned paper (the demo has no scanner)."""
    from labnotes.documents._render import html_to_pdf

    lines = []
    for entry in entries:
        if entry.tumour is not None:
            value = f"L {entry.length_mm} &nbsp; W {entry.width_mm}"
            what = html.escape(entry.tumour.site)
        else:
            value = f"{entry.weight_g} g"
            what = "weight"
        lines.append(
            f"<tr><td>{html.escape(entry.animal.tag)}</td><td>{what}</td><td>{value}</td></tr>"
        )
    document = (
        "<!doctype html><html><head><meta charset='utf-8'><style>"
        "body{font-family:serif;font-size:10pt} td{padding:1pt 8pt;border-bottom:1px solid #999}"
        "h1{font-size:13pt}</style></head><body>"
        f"<h1>Worksheet {html.escape(run.code)} — {day.isoformat()} {time:%H:%M}</h1>"
        "<p>Scanned paper sheet (demo): written by hand in the barrier room.</p>"
        f"<table>{''.join(lines)}</table></body></html>"
    )
    return html_to_pdf(document)
