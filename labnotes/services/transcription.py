"""Transcription of paper worksheets: enter a day's sheet, verify it (a second person) or send it
back with corrections, and correct a sent-back sheet.

Every value goes through ``record_measurement`` (entry method ``transcribed``) and is linked to
its sheet; ``labnotes.selectors_measurements.counted_measurements`` leaves the values of a sheet
out of analyses and reports until a second person has verified it against the scan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labnotes.models import (
    Animal,
    EntryMethod,
    Measurement,
    MeasurementKind,
    StoredFile,
    StudyRun,
    TranscriptionSheet,
    TranscriptionStatus,
    Tumour,
)
from labnotes.services.common import RECORDERS, StaleWrite
from labnotes.services.measurements import CLOCK_TOLERANCE, record_measurement, void_measurement
from labnotes.services.welfare import alert_verified_transcription
from planner.audit import audited_change
from planner.models import Role
from planner.services.permissions import require_role

#: Who may check a transcription against the paper: anyone who records, and QA.
VERIFIERS = (*RECORDERS, Role.QA)

FIELD_LABELS = {"length_mm": "length", "width_mm": "width", "weight_g": "weight"}


@dataclass(frozen=True)
class SheetEntry:
    """One line of a worksheet as typed: a tumour's length and width, or an animal's weight."""

    animal: Animal
    tumour: Tumour | None = None
    length_mm: Decimal | None = None
    width_mm: Decimal | None = None
    weight_g: Decimal | None = None
    code: str = ""
    code_reason: str = ""

    @property
    def key(self) -> str:
        """The line's name in forms and error dictionaries: ``t<tumour id>`` or ``a<animal id>``."""
        return f"t{self.tumour.pk}" if self.tumour is not None else f"a{self.animal.pk}"

    @property
    def label(self) -> str:
        if self.tumour is not None:
            return f"Animal {self.animal.tag}, {self.tumour.site}"
        return f"Animal {self.animal.tag}, weight"

    @property
    def is_blank(self) -> bool:
        if self.code:
            return False
        if self.tumour is not None:
            return self.length_mm is None and self.width_mm is None
        return self.weight_g is None


@dataclass(frozen=True)
class Correction:
    """What a verifier found: line ``key`` (see :attr:`SheetEntry.key`), which field, the value
    the paper shows and why."""

    key: str
    field: str
    corrected: str
    reason: str = ""


def sheet_taken_at(run: StudyRun, sheet_date: dt.date, sheet_time: dt.time) -> dt.datetime:
    """The instant of the date and time written on the sheet, read in the lab's time zone."""
    return dt.datetime.combine(sheet_date, sheet_time).replace(tzinfo=run.study.lab.zone)


def _field_key(entry_key: str, field: str) -> str:
    return f"{entry_key}_{field}"


def _check_entries(run: StudyRun, entries: Sequence[SheetEntry]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for entry in entries:
        if entry.animal.run_id != run.pk:
            errors.setdefault(entry.key, []).append(
                f"Animal {entry.animal.tag} is not in this run."
            )
            continue
        if entry.tumour is not None and entry.tumour.animal_id != entry.animal.pk:
            errors.setdefault(entry.key, []).append(f"{entry.label}: not this animal's tumour.")
            continue
        if entry.key in seen:
            errors.setdefault(entry.key, []).append(f"{entry.label} appears twice on the sheet.")
        seen.add(entry.key)
        if (
            entry.tumour is not None
            and not entry.code
            and (entry.length_mm is None) != (entry.width_mm is None)
        ):
            missing = "width_mm" if entry.width_mm is None else "length_mm"
            errors.setdefault(_field_key(entry.key, missing), []).append(
                f"{entry.label}: both length and width are needed (or leave both empty)."
            )
    return errors


def _record_entry(
    entry: SheetEntry,
    *,
    sheet: TranscriptionSheet,
    recorded_by: User,
    reason: str | None,
    entered_at: dt.datetime | None = None,
) -> Measurement:
    if entry.tumour is not None:
        measurement = record_measurement(
            tumour=entry.tumour,
            length_mm=entry.length_mm,
            width_mm=entry.width_mm,
            code=entry.code,
            code_reason=entry.code_reason,
            taken_at=sheet.taken_at,
            operator=sheet.measured_by,
            recorded_by=recorded_by,
            entry_method=EntryMethod.TRANSCRIPTION,
            reason=reason,
            entered_at=entered_at,
        )
    else:
        measurement = record_measurement(
            animal=entry.animal,
            weight_g=entry.weight_g,
            code=entry.code,
            code_reason=entry.code_reason,
            taken_at=sheet.taken_at,
            operator=sheet.measured_by,
            recorded_by=recorded_by,
            entry_method=EntryMethod.TRANSCRIPTION,
            reason=reason,
            entered_at=entered_at,
        )
    # record_measurement knows nothing of sheets: link the new reading to its sheet in the
    # same transaction, before anything can read it as counted.
    Measurement.objects.filter(pk=measurement.pk).update(transcription=sheet)
    measurement.transcription = sheet
    return measurement


def _message_errors(entry: SheetEntry, error: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if hasattr(error, "error_dict"):
        for name, items in error.error_dict.items():
            field = name if name in FIELD_LABELS else None
            key = _field_key(entry.key, field) if field else entry.key
            for item in items:
                errors.setdefault(key, []).extend(f"{entry.label}: {m}" for m in item.messages)
    else:
        errors.setdefault(entry.key, []).extend(f"{entry.label}: {m}" for m in error.messages)
    return errors


def _merge(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for key, messages in more.items():
        into.setdefault(key, []).extend(messages)


def create_transcription_sheet(
    *,
    run: StudyRun,
    sheet_date: dt.date,
    sheet_time: dt.time,
    entries: Sequence[SheetEntry],
    transcribed_by: User,
    measured_by: User | None = None,
    scan: StoredFile | None = None,
    notes: str = "",
    reason: str | None = None,
    entered_at: dt.datetime | None = None,
) -> TranscriptionSheet:
    """Enter one paper worksheet: every non-blank line becomes a reading at the sheet's time.

    All or nothing: when any line is refused (by the checks here or by ``record_measurement``),
    nothing is stored and the ``ValidationError`` names each line (``t<tumour>_length_mm``,
    ``a<animal>_weight_g``, …) with the animal's tag and the reason. ``reason`` is passed on to
    readings that repeat a same-day reading already on record (which requires one).
    ``entered_at`` (default: now) is when the sheet was typed in, for the late flag.
    """
    lab = run.study.lab
    require_role(transcribed_by, lab, RECORDERS, action="transcribe worksheets")
    operator = measured_by or transcribed_by
    if operator != transcribed_by:
        require_role(operator, lab, RECORDERS, action="take measurements")
    if scan is not None and scan.lab_id != lab.pk:
        raise ValidationError({"scan": "The scan belongs to another lab."})
    taken_at = sheet_taken_at(run, sheet_date, sheet_time)
    if taken_at > timezone.now() + CLOCK_TOLERANCE:
        raise ValidationError({"sheet_time": "The date and time on the sheet lie in the future."})
    filled = [entry for entry in entries if not entry.is_blank]
    if not filled:
        raise ValidationError("The sheet has no values: type at least one reading.")
    errors = _check_entries(run, filled)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audited_change(reason=reason, required=False):
        sheet = TranscriptionSheet.objects.create(
            run=run,
            sheet_date=sheet_date,
            sheet_time=sheet_time,
            taken_at=taken_at,
            scan=scan,
            notes=notes.strip(),
            transcribed_by=transcribed_by,
            measured_by=operator,
        )
        for entry in filled:
            try:
                _record_entry(
                    entry,
                    sheet=sheet,
                    recorded_by=transcribed_by,
                    reason=reason,
                    entered_at=entered_at,
                )
            except ValidationError as error:
                _merge(errors, _message_errors(entry, error))
        if errors:
            raise ValidationError(errors)
    return sheet


def _locked(sheet: TranscriptionSheet, expected_version: int | None) -> TranscriptionSheet:
    current = TranscriptionSheet.objects.select_for_update().get(pk=sheet.pk)
    if expected_version is not None and current.row_version != expected_version:
        raise StaleWrite(current)
    return current


def live_sheet_readings(sheet: TranscriptionSheet) -> dict[str, Measurement]:
    """The sheet's readings not voided, by line key (``t<tumour>`` or ``a<animal>``)."""
    readings: dict[str, Measurement] = {}
    for measurement in sheet.measurements.filter(voided_at__isnull=True).order_by("pk"):
        if measurement.kind == MeasurementKind.CALIPER:
            readings[f"t{measurement.tumour_id}"] = measurement
        else:
            readings[f"a{measurement.animal_id}"] = measurement
    return readings


def _same_values(entry: SheetEntry, measurement: Measurement) -> bool:
    if entry.code or measurement.reading_code:
        return (entry.code, entry.code_reason.strip()) == (
            measurement.reading_code,
            measurement.code_reason,
        )
    if entry.tumour is not None:
        pair = sorted([entry.length_mm or Decimal(0), entry.width_mm or Decimal(0)], reverse=True)
        return pair == [measurement.length_mm, measurement.width_mm]
    return entry.weight_g == measurement.weight_g


def correct_transcription_sheet(
    *,
    sheet: TranscriptionSheet,
    entries: Sequence[SheetEntry],
    corrected_by: User,
    reason: str,
    expected_version: int | None = None,
    scan: StoredFile | None = None,
) -> TranscriptionSheet:
    """Change a sheet that is not verified yet (by its transcriber): changed lines void the old
    reading and record the new one, cleared lines void theirs, each with ``reason``. The sheet
    then awaits verification again. A scan can be attached here too.
    """
    run = sheet.run
    require_role(corrected_by, run.study.lab, RECORDERS, action="correct transcriptions")
    if corrected_by != sheet.transcribed_by:
        raise PermissionDenied(
            "Only the person who transcribed this sheet corrects it; send it back instead."
        )
    if scan is not None and scan.lab_id != run.study.lab_id:
        raise ValidationError({"scan": "The scan belongs to another lab."})
    errors = _check_entries(run, [entry for entry in entries if not entry.is_blank])
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = _locked(sheet, expected_version)
        if current.status == TranscriptionStatus.VERIFIED:
            raise ValidationError("This sheet is verified: correct its readings one by one.")
        existing = live_sheet_readings(current)
        changes: list[tuple[SheetEntry, Measurement | None]] = []
        for entry in entries:
            old = existing.get(entry.key)
            if entry.is_blank and old is None:
                continue
            if old is not None and not entry.is_blank and _same_values(entry, old):
                continue
            changes.append((entry, old))
        if not changes and scan is None:
            raise ValidationError("Nothing changed on the sheet.")
        with audited_change(reason=reason, required=bool(changes)):
            for entry, old in changes:
                try:
                    if old is not None:
                        void_measurement(measurement=old, voided_by=corrected_by, reason=reason)
                    if not entry.is_blank:
                        _record_entry(entry, sheet=current, recorded_by=corrected_by, reason=reason)
                except ValidationError as error:
                    _merge(errors, _message_errors(entry, error))
            if errors:
                raise ValidationError(errors)
            TranscriptionSheet.objects.filter(pk=current.pk).update(
                status=TranscriptionStatus.AWAITING_VERIFICATION,
                scan=scan or current.scan,
                row_version=F("row_version") + 1,
            )
        current.refresh_from_db()
    return current


def verify_transcription_sheet(
    *, sheet: TranscriptionSheet, verified_by: User, expected_version: int | None = None
) -> TranscriptionSheet:
    """A second person confirms that the typed values match the scanned paper: from now on they
    count in analyses and reports. Refused for the transcriber, without a scan, and for a sheet
    sent back (it must be corrected first)."""
    require_role(verified_by, sheet.run.study.lab, VERIFIERS, action="verify transcriptions")
    if verified_by.pk == sheet.transcribed_by_id:
        raise PermissionDenied(
            "You transcribed this sheet: a second person must verify it against the scan."
        )
    with transaction.atomic(), audited_change(reason=None, required=False):
        current = _locked(sheet, expected_version)
        if current.status == TranscriptionStatus.VERIFIED:
            raise ValidationError("This sheet is verified already.")
        if current.status == TranscriptionStatus.RETURNED:
            raise ValidationError(
                "This sheet was sent back with corrections: the transcriber corrects it first."
            )
        if current.scan_id is None:
            raise ValidationError({"scan": "Attach the scanned sheet before verifying it."})
        TranscriptionSheet.objects.filter(pk=current.pk).update(
            status=TranscriptionStatus.VERIFIED,
            verified_by=verified_by,
            verified_at=timezone.now(),
            row_version=F("row_version") + 1,
        )
        current.refresh_from_db()
        alert_verified_transcription(sheet=current, verified_by=verified_by)
    return current


def return_transcription_sheet(
    *,
    sheet: TranscriptionSheet,
    returned_by: User,
    reason: str,
    corrections: Sequence[Correction],
    expected_version: int | None = None,
) -> TranscriptionSheet:
    """Send a sheet back to its transcriber: what the paper shows instead, line by line, each
    with a reason (the overall ``reason`` where a line gives none). Nothing counts meanwhile."""
    require_role(returned_by, sheet.run.study.lab, VERIFIERS, action="check transcriptions")
    if returned_by.pk == sheet.transcribed_by_id:
        raise PermissionDenied("You transcribed this sheet: correct it instead of sending it back.")
    cleaned = (reason or "").strip()
    if not cleaned:
        raise ValidationError({"reason": "Say why the sheet goes back."})
    if not corrections:
        raise ValidationError("Name at least one value that differs from the paper.")
    with transaction.atomic(), audited_change(reason=cleaned, required=True):
        current = _locked(sheet, expected_version)
        if current.status != TranscriptionStatus.AWAITING_VERIFICATION:
            raise ValidationError("Only a sheet awaiting verification can be sent back.")
        existing = live_sheet_readings(current)
        animals = {
            f"a{a.pk}": a
            for a in Animal.objects.filter(run=current.run).prefetch_related("tumours")
        }
        tumours = {f"t{t.pk}": t for a in animals.values() for t in a.tumours.all()}
        stored = []
        errors: dict[str, list[str]] = {}
        for correction in corrections:
            field_key = _field_key(correction.key, correction.field)
            tumour = tumours.get(correction.key)
            animal = tumour.animal if tumour is not None else animals.get(correction.key)
            allowed = ("length_mm", "width_mm") if tumour is not None else ("weight_g",)
            if animal is None or correction.field not in allowed:
                errors.setdefault(field_key, []).append("Not a value of this sheet.")
                continue
            old = existing.get(correction.key)
            entered = getattr(old, correction.field) if old is not None else None
            stored.append(
                {
                    "key": correction.key,
                    "field": correction.field,
                    "animal": animal.tag,
                    "tumour": tumour.site if tumour is not None else "",
                    "entered": "" if entered is None else f"{entered}",
                    "corrected": correction.corrected.strip(),
                    "reason": correction.reason.strip() or cleaned,
                }
            )
        if errors:
            raise ValidationError(errors)
        TranscriptionSheet.objects.filter(pk=current.pk).update(
            status=TranscriptionStatus.RETURNED,
            returned_by=returned_by,
            returned_at=timezone.now(),
            return_reason=cleaned,
            corrections=stored,
            row_version=F("row_version") + 1,
        )
        current.refresh_from_db()
    return current
