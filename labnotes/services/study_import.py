"""Importing a running or past study into a run from one table (CSV or XLSX).

The table (see :mod:`labnotes.importers.study_table`) gives animals (tag, sex, date of birth,
cage), their arm, tumours, readings (caliper axes or codes, weights) and endpoints. The import
goes through the same services as everything else — ``register_animals``, ``create_cage``,
``apply_randomization`` (back-dated with ``randomized_on``), ``record_measurement`` (entry
method ``import``) and ``record_endpoint`` — inside one transaction. A *preview* runs exactly
that transaction and rolls it back, so what it shows (and every error, named by file row and
column) is what the import will do; the import itself commits only when not a single row fails.

Every write carries the audit metadata ``imported_from`` = ``"import of <file> sha256 <hash>"``
(and the same ``reason`` wherever the service called takes one), so an auditor can tell
imported rows from typed ones; the file itself is kept as a :class:`StoredFile`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q

from labnotes.importers.errors import ImportFileError
from labnotes.importers.study_table import (
    EndpointRow,
    ReadingRecord,
    RowError,
    StudyTable,
    parse_study_table,
)
from labnotes.models import (
    Animal,
    BatchMethod,
    BatchStatus,
    Cage,
    EntryMethod,
    RandomizationBatch,
    StoredFile,
    StudyRun,
    Tumour,
    TumourRole,
)
from labnotes.selectors import allocation_visible
from labnotes.services.common import DECIDERS, RECORDERS
from planner.audit import audit_context
from planner.models import Arm
from planner.services.permissions import require_role

#: The time given to readings and endpoints whose row has a date only (lab-local).
DEFAULT_TIME = dt.time(12, 0)
#: The site of a tumour whose rows name none.
DEFAULT_SITE = "flank"


class _Rollback(Exception):
    """Raised inside the import transaction to undo a preview (or a failed import)."""


@dataclass
class RowPreview:
    """What one file row does, and what is wrong with it."""

    row: int
    tag: str
    actions: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class ImportPreview:
    """The outcome of a preview or an import: per row, and for the file as a whole."""

    filename: str
    sha256: str
    rows: list[RowPreview] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    shows_arms: bool = False
    stored_file: StoredFile | None = None

    @property
    def errors(self) -> list[RowError]:
        return self.file_errors + [error for row in self.rows for error in row.errors]

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def label(self) -> str:
        return import_label(self.filename, self.sha256)


def import_label(filename: str, sha256: str) -> str:
    """The audit label of an import: ``import of <file> sha256 <hash>``."""
    return f"import of {filename} sha256 {sha256}"


# A service's field name → the file column it came from.
_COLUMN_OF_SERVICE_FIELD = {
    "taken_at": "date",
    "length_mm": "length_mm",
    "width_mm": "width_mm",
    "weight_g": "weight_g",
    "code": "code",
    "code_reason": "code",
    "occurred_at": "endpoint_date",
    "last_seen_alive_at": "last_seen_alive",
    "cause": "endpoint",
    "randomized_on": "treatment_start",
    "animals": "arm",
    "tag": "tag",
    "sex": "sex",
    "date_of_birth": "date_of_birth",
    "cage": "cage",
    "label": "cage",
    "site": "tumour",
}


class _Collector:
    def __init__(self, preview: ImportPreview, rows: Sequence[int], tags: dict[int, str]) -> None:
        self.preview = preview
        self.by_row: dict[int, RowPreview] = {}
        for number in rows:
            self.by_row[number] = RowPreview(number, tags.get(number, ""))
        preview.rows = list(self.by_row.values())

    def error(self, row: int, field_name: str, message: str) -> None:
        if row in self.by_row:
            self.by_row[row].errors.append(RowError(row, field_name, message))
        else:
            self.preview.file_errors.append(RowError(row, field_name, message))

    def service_error(self, row: int, default_field: str, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for name, items in error.error_dict.items():
                column = _COLUMN_OF_SERVICE_FIELD.get(name, default_field)
                for item in items:
                    for message in item.messages:
                        self.error(row, column, message)
        else:
            for message in error.messages:
                self.error(row, default_field, message)

    def action(self, row: int, text: str) -> None:
        if row in self.by_row:
            self.by_row[row].actions.append(text)


def _row_tags(table: StudyTable) -> dict[int, str]:
    tags: dict[int, str] = {}
    for animal in table.animals:
        for number in animal.rows:
            tags[number] = animal.tag
    return tags


def _match_arm(text: str, arms: Sequence[Arm]) -> Arm | None:
    wanted = text.strip().casefold()
    for arm in arms:
        if arm.code.casefold() == wanted:
            return arm
    matches = [arm for arm in arms if arm.label.strip().casefold() == wanted]
    return matches[0] if len(matches) == 1 else None


def _match_cause(text: str) -> str | None:
    from labnotes.models import EndpointCause

    wanted = " ".join(text.replace("_", " ").split()).casefold()
    for choice in EndpointCause:
        if wanted in (choice.value.replace("_", " ").casefold(), str(choice.label).casefold()):
            return choice.value
    return None


def _instant(run: StudyRun, day: dt.date, time: dt.time | None) -> dt.datetime:
    return dt.datetime.combine(day, time or DEFAULT_TIME).replace(tzinfo=run.study.lab.zone)


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def preview_study_import(
    *, run: StudyRun, content: bytes, filename: str, imported_by: User
) -> ImportPreview:
    """Check a study table against ``run`` by running the whole import and rolling it back.

    Returns every row with what it would create and every error (file row, column, reason).
    Nothing is kept. File-level problems (unreadable file, wrong columns, permissions) are in
    ``file_errors``.
    """
    return _run(run=run, content=content, filename=filename, user=imported_by, commit=False)


def import_study(
    *, run: StudyRun, content: bytes, filename: str, imported_by: User
) -> ImportPreview:
    """Import a study table into ``run``: all rows or none.

    Raises ``ValidationError`` (key ``rows``, one message per problem naming row and column)
    when any row fails; then nothing is stored. On success the file is kept as a
    :class:`StoredFile` and the returned preview lists what was created.
    """
    result = attempt_study_import(
        run=run, content=content, filename=filename, imported_by=imported_by
    )
    if not result.is_valid:
        messages = [str(error) for error in result.errors] or ["The file has no rows to import."]
        raise ValidationError({"rows": messages})
    return result


def attempt_study_import(
    *, run: StudyRun, content: bytes, filename: str, imported_by: User
) -> ImportPreview:
    """:func:`import_study` without the exception: the result says whether it was committed
    (``is_valid``) and, when not, every error; nothing is kept unless every row is valid."""
    return _run(run=run, content=content, filename=filename, user=imported_by, commit=True)


def _run(
    *, run: StudyRun, content: bytes, filename: str, user: User, commit: bool
) -> ImportPreview:
    lab = run.study.lab
    require_role(user, lab, RECORDERS, action="import study data")
    sha256 = hashlib.sha256(content).hexdigest()
    preview = ImportPreview(filename=filename, sha256=sha256)
    try:
        table = parse_study_table(content, filename, max_rows=settings.VIVOLOG_MAX_BULK_ROWS)
    except ImportFileError as error:
        preview.file_errors.append(RowError(error.line or 0, error.field or "file", error.reason))
        return preview
    collector = _Collector(preview, table.data_rows, _row_tags(table))
    for row_error in table.errors:
        collector.error(row_error.row, row_error.field, row_error.message)
    if table.ignored_columns:
        preview.notices.append(
            "Ignored columns (recomputed from the readings): " + ", ".join(table.ignored_columns)
        )
    has_arms = any(animal.arm for animal in table.animals)
    preview.shows_arms = has_arms and allocation_visible(user, run.study)
    if has_arms and not (_is_decider(user, lab) and allocation_visible(user, run.study)):
        preview.file_errors.append(
            RowError(
                0,
                "arm",
                "the file allocates animals to arms, which only unblinded scientists or study "
                "directors of this study may import; remove the arm column or ask one of them",
            )
        )
    if preview.errors:
        return preview
    try:
        with transaction.atomic():
            label = import_label(filename, sha256)
            with audit_context(reason=label, imported_from=label):
                _write(run, table, user, collector, label)
                if preview.errors or not commit:
                    raise _Rollback
                from labnotes.services.files import store_file

                preview.stored_file = store_file(
                    content=content,
                    filename=filename,
                    content_type=_content_type(filename),
                    stored_by=user,
                    lab=lab,
                )
    except _Rollback:
        pass
    return preview


def _is_decider(user: User, lab: Any) -> bool:
    try:
        require_role(user, lab, DECIDERS, action="import an allocation")
    except PermissionDenied:
        return False
    return True


def _content_type(filename: str) -> str:
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return "text/csv"


def _write(run: StudyRun, table: StudyTable, user: User, collector: _Collector, label: str) -> None:
    from labnotes.services.animals import create_cage, preview_animal_rows, register_animals

    study = run.study
    lab = study.lab
    counts: Counter[str] = Counter()
    preview = collector.preview
    # Cages named in the file that do not exist yet are created for the run.
    known_cages = set(
        Cage.objects.filter(lab=lab)
        .filter(Q(run__isnull=True) | Q(run=run))
        .values_list("label", flat=True)
    )
    per_cage = Counter(a.cage for a in table.animals if a.cage)
    for label_text, size in sorted(per_cage.items()):
        if label_text in known_cages:
            continue
        first_row = min(a.row for a in table.animals if a.cage == label_text)
        if size > 20:
            collector.error(first_row, "cage", f"{size} animals in cage {label_text} (at most 20)")
            continue
        try:
            create_cage(lab=lab, run=run, label=label_text, created_by=user, capacity=max(5, size))
        except ValidationError as error:
            collector.service_error(first_row, "cage", error)
            continue
        collector.action(first_row, f"new cage {label_text}")
        counts["cages"] += 1
    arms = list(study.arms.order_by("order", "pk"))
    arm_of: dict[str, Arm] = {}
    for animal_record in table.animals:
        if not animal_record.arm:
            continue
        arm = _match_arm(animal_record.arm, arms)
        if arm is None:
            names = ", ".join(f"{a.code} ({a.label})" for a in arms)
            collector.error(
                animal_record.row,
                "arm",
                f"'{animal_record.arm}' is neither the code nor the label of an arm of "
                f"{study.code} (arms: {names})",
            )
        else:
            arm_of[animal_record.tag] = arm
    dates = [r.date for r in table.readings] + [
        a.treatment_start for a in table.animals if a.treatment_start
    ]
    received = min([run.day0, *dates])
    rows = [
        {
            "row": a.row,
            "tag": a.tag,
            "sex": a.sex or "",
            "date_of_birth": a.date_of_birth,
            "cage": a.cage,
        }
        for a in table.animals
    ]
    checked = preview_animal_rows(run=run, rows=rows, received_on=received)
    for row_error in checked.errors:
        collector.error(row_error.row, row_error.field, row_error.reason)
    if checked.errors:
        return  # without the animals nothing further can be checked
    animals = {
        animal.tag: animal
        for animal in register_animals(run=run, rows=rows, registered_by=user, received_on=received)
    }
    for animal_record in table.animals:
        parts = [animal_record.sex or study.sex]
        if animal_record.cage:
            parts.append(f"cage {animal_record.cage}")
        collector.action(animal_record.row, f"new animal {animal_record.tag} ({', '.join(parts)})")
    counts["animals"] = len(animals)
    _allocate(run, table, user, collector, animals, arm_of, counts)
    tumours = _tumours(table, collector, animals, counts)
    _readings(run, table, user, collector, animals, tumours, counts, label)
    _endpoints(run, table.endpoints, user, collector, animals, counts, label)
    preview.counts = dict(counts)


def _allocate(
    run: StudyRun,
    table: StudyTable,
    user: User,
    collector: _Collector,
    animals: dict[str, Animal],
    arm_of: dict[str, Arm],
    counts: Counter[str],
) -> None:
    """One applied batch (method ``imported``) per treatment-start date, oldest first."""
    from labnotes.services.randomization import apply_randomization

    by_day: dict[dt.date, list[tuple[int, Animal, Arm]]] = defaultdict(list)
    for animal_record in table.animals:
        arm = arm_of.get(animal_record.tag)
        if arm is None:
            if animal_record.treatment_start and not animal_record.arm:
                collector.error(
                    animal_record.row, "treatment_start", "a treatment start needs the arm"
                )
            continue
        day = animal_record.treatment_start or run.day0
        by_day[day].append((animal_record.row, animals[animal_record.tag], arm))
    for day in sorted(by_day):
        members = by_day[day]
        applied = RandomizationBatch.objects.filter(run=run, status=BatchStatus.APPLIED).count()
        RandomizationBatch.objects.filter(run=run, status=BatchStatus.PREVIEWED).update(
            status=BatchStatus.DISCARDED, row_version=F("row_version") + 1
        )
        allocation = [
            {
                "animal_id": animal.pk,
                "tag": animal.tag,
                "arm_id": arm.pk,
                "arm_code": arm.code,
                "satellite": False,
            }
            for _row, animal, arm in members
        ]
        batch = RandomizationBatch.objects.create(
            run=run,
            number=applied + 1,
            method=BatchMethod.IMPORTED,
            seed=0,
            numpy_version="",
            bit_generator="",
            candidates=0,
            inputs={
                "imported_from": collector.preview.label,
                "animals": [{"animal_id": a.pk, "tag": a.tag} for _r, a, _arm in members],
                "arm_codes": sorted({arm.code for _r, _a, arm in members}),
            },
            allocation=allocation,
            balance={},
            randomized_on=day,
            previewed_by=user,
        )
        try:
            apply_randomization(batch=batch, applied_by=user, randomized_on=day)
        except (ValidationError, PermissionDenied) as error:
            for row, _animal, _arm in members:
                if isinstance(error, ValidationError):
                    collector.service_error(row, "arm", error)
                else:
                    collector.error(row, "arm", str(error))
            return
        for row, _animal, arm in members:
            collector.action(row, f"arm {arm.code} ({arm.label}) from {day.isoformat()}")
        counts["allocation batches"] += 1


def _tumours(
    table: StudyTable,
    collector: _Collector,
    animals: dict[str, Animal],
    counts: Counter[str],
) -> dict[tuple[str, str], Tumour]:
    tumours: dict[tuple[str, str], Tumour] = {}
    roles: dict[tuple[str, str], tuple[str, int]] = {}
    for reading in table.readings:
        if not reading.has_caliper:
            continue
        key = (reading.tag, reading.tumour or DEFAULT_SITE)
        role = reading.tumour_role or TumourRole.INJECTED
        if key in roles and reading.tumour_role and roles[key][0] != role:
            collector.error(
                reading.row,
                "tumour_role",
                f"'{role}' differs from '{roles[key][0]}' on row {roles[key][1]}",
            )
            continue
        if key in tumours:
            continue
        roles[key] = (role, reading.row)
        tumour = Tumour(animal=animals[reading.tag], site=key[1], role=role)
        try:
            tumour.full_clean()
        except ValidationError as error:
            collector.service_error(reading.row, "tumour", error)
            continue
        tumour.save()
        tumours[key] = tumour
        site = key[1] if reading.tumour else f"{DEFAULT_SITE} (no site given)"
        collector.action(reading.row, f"new {role} tumour, {site}")
        counts["tumours"] += 1
    return tumours


def _readings(
    run: StudyRun,
    table: StudyTable,
    user: User,
    collector: _Collector,
    animals: dict[str, Animal],
    tumours: dict[tuple[str, str], Tumour],
    counts: Counter[str],
    label: str,
) -> None:
    from labnotes.services.measurements import record_measurement

    def when(reading: ReadingRecord) -> tuple[dt.date, dt.time, int]:
        return (reading.date, reading.time or DEFAULT_TIME, reading.row)

    for reading in sorted(table.readings, key=when):
        taken_at = _instant(run, reading.date, reading.time)
        common: dict[str, Any] = {
            "taken_at": taken_at,
            "operator": user,
            "recorded_by": user,
            "entry_method": EntryMethod.IMPORT,
            "reason": label,
        }
        tumour = tumours.get((reading.tag, reading.tumour or DEFAULT_SITE))
        if reading.has_caliper and tumour is not None:
            try:
                measurement = record_measurement(
                    tumour=tumour,
                    length_mm=reading.length_mm,
                    width_mm=reading.width_mm,
                    code=reading.tumour_code,
                    code_reason=reading.tumour_code_reason,
                    **common,
                )
            except ValidationError as error:
                collector.service_error(reading.row, "length_mm", error)
            else:
                counts["caliper readings"] += 1
                if reading.tumour_code:
                    text = f"{reading.tumour_code} {reading.tumour_code_reason}".strip()
                else:
                    text = (
                        f"{_number(measurement.length_mm)} × {_number(measurement.width_mm)} mm "
                        f"= {_number(measurement.volume_mm3)} mm³"
                    )
                collector.action(reading.row, f"caliper day {measurement.study_day}: {text}")
        if reading.has_weight:
            try:
                measurement = record_measurement(
                    animal=animals[reading.tag],
                    weight_g=reading.weight_g,
                    code=reading.weight_code,
                    code_reason=reading.weight_code_reason,
                    **common,
                )
            except ValidationError as error:
                collector.service_error(reading.row, "weight_g", error)
            else:
                counts["weights"] += 1
                text = (
                    f"{reading.weight_code} {reading.weight_code_reason}".strip()
                    if reading.weight_code
                    else f"{_number(measurement.weight_g)} g"
                )
                collector.action(reading.row, f"weight day {measurement.study_day}: {text}")


def _endpoints(
    run: StudyRun,
    endpoints: Sequence[EndpointRow],
    user: User,
    collector: _Collector,
    animals: dict[str, Animal],
    counts: Counter[str],
    label: str,
) -> None:
    from labnotes.services.endpoints import record_endpoint

    for endpoint in endpoints:
        cause = _match_cause(endpoint.cause)
        if cause is None:
            from labnotes.models import EndpointCause

            collector.error(
                endpoint.row,
                "endpoint",
                f"'{endpoint.cause}' is not an endpoint cause "
                f"({', '.join(choice.value for choice in EndpointCause)})",
            )
            continue
        seen = endpoint.last_seen_alive
        try:
            record = record_endpoint(
                animal=animals[endpoint.tag],
                cause=cause,
                occurred_at=_instant(run, endpoint.date, endpoint.time),
                last_seen_alive_at=seen.replace(tzinfo=run.study.lab.zone) if seen else None,
                recorded_by=user,
                reason=label,
            )
        except ValidationError as error:
            collector.service_error(endpoint.row, "endpoint", error)
        except PermissionDenied as error:
            collector.error(endpoint.row, "endpoint", str(error))
        else:
            counts["endpoints"] += 1
            collector.action(
                endpoint.row, f"endpoint day {record.study_day}: {record.get_cause_display()}"
            )
