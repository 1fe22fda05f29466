"""The measurement grid's save endpoint as a service: one cell per request (GRID.md).

A cell arrives as the text typed or sent by a keyboard-wedge instrument; it is parsed by
``labnotes.capture.parsing`` (the only parser), judged by ``labnotes.capture.checks`` and stored
through :func:`labnotes.services.measurements.record_measurement`. Length and width come as
separate cells: the first waits as a :class:`PendingAxis`, the second completes the reading.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from labnotes.capture import checks
from labnotes.capture.parsing import (
    Kind,
    ParsedReading,
    ReadingCode,
    ReadingError,
    parse_reading,
    plain_number,
)
from labnotes.models import (
    Animal,
    EndpointEpisode,
    EntryMethod,
    Instrument,
    Measurement,
    MeasurementKind,
    PendingAxis,
    PendingAxisStatus,
    StudyRun,
    Tumour,
)
from labnotes.models.welfare import OPEN_EPISODE_STATUSES
from labnotes.services.common import RECORDERS, StaleWrite
from labnotes.services.instruments import InstrumentStatus, flag_reading, qualify_instrument
from labnotes.services.measurements import (
    CLOCK_TOLERANCE,
    CaptureRules,
    Preloaded,
    check_subject,
    counted_readings,
    reason_text,
    record_measurement,
    rules_for_run,
    void_for_correction,
)
from planner.domain.protocol_parameters import WeightBaseline
from planner.models import IdempotencyRecord

# -- the grid: one cell per request -----------------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    """One cell's request body (GRID.md, "The request")."""

    client_id: str
    animal: int
    tumour: int | None
    field: Kind
    raw: str
    taken_at: dt.datetime
    operator: str
    correction_of: str
    reason: str
    repeat_of: str

    @classmethod
    def from_json(cls, data: object) -> GridCell:
        """Validate the body; a ``ValidationError`` names what is wrong."""
        if not isinstance(data, dict):
            raise ValidationError("The request body must be a JSON object.")

        def text(name: str, *, required: bool = False, limit: int = 300) -> str:
            value = data.get(name)
            if value is None:
                value = ""
            if not isinstance(value, str | int):
                raise ValidationError({name: "Must be text."})
            value = str(value).strip()
            if required and not value:
                raise ValidationError({name: "Required."})
            if len(value) > limit:
                raise ValidationError({name: f"At most {limit} characters."})
            return value

        client_id = text("client_id", required=True, limit=100)
        field_name = text("field", required=True)
        if field_name not in ("length", "width", "height", "weight"):
            raise ValidationError({"field": "One of length, width, height or weight."})
        try:
            animal = int(text("animal", required=True))
            tumour_text = text("tumour")
            tumour = int(tumour_text) if tumour_text and field_name != "weight" else None
        except ValueError:
            raise ValidationError("The animal and tumour are given by their ids.") from None
        if field_name != "weight" and tumour is None:
            raise ValidationError({"tumour": "A caliper axis belongs to a tumour."})
        taken_at = parse_datetime(text("taken_at", required=True))
        if taken_at is None or timezone.is_naive(taken_at):
            raise ValidationError({"taken_at": "An ISO 8601 time with its zone is required."})
        kind: Kind = (
            "length"
            if field_name == "length"
            else "width"
            if field_name == "width"
            else "height"
            if field_name == "height"
            else "weight"
        )
        return cls(
            client_id=client_id,
            animal=animal,
            tumour=tumour,
            field=kind,
            raw=text("raw", limit=200),
            taken_at=taken_at,
            operator=text("operator", required=True),
            correction_of=text("correction_of", limit=100),
            reason=text("reason", limit=500),
            repeat_of=text("repeat_of", limit=100),
        )


@dataclass
class CellAnswer:
    """The endpoint's answer: HTTP status and JSON body (GRID.md, "The answer")."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _moment(value: Any) -> Any:
    """A timestamp from the JSON history (``None`` stays ``None``)."""
    return None if value is None else parse_datetime(str(value))


_HISTORY_FIELDS = {
    "id": "pk",
    "kind": "kind",
    "tumour_id": "tumour_id",
    "length_mm": "length_mm",
    "width_mm": "width_mm",
    "height_mm": "height_mm",
    "volume_mm3": "volume_mm3",
    "weight_g": "weight_g",
    "reading_code": "reading_code",
    "code_reason": "code_reason",
    "taken_at": "taken_at",
    "study_day": "study_day",
    "voided_at": "voided_at",
    "client_id": "client_id",
    "row_version": "row_version",
    "axes_swapped": "axes_swapped",
    "repeat_of_id": "repeat_of_id",
    "correction_of_id": "correction_of_id",
}
_HALF_FIELDS = {
    "id": "pk",
    "tumour_id": "tumour_id",
    "axis": "axis",
    "value_mm": "value_mm",
    "study_day": "study_day",
    "taken_at": "taken_at",
    "status": "status",
    "client_id": "client_id",
    "measurement_id": "measurement_id",
}


def load_grid_subject(
    run: StudyRun,
    animal_id: int,
    client_ids: Sequence[str],
    *,
    idempotency: tuple[str, str] | None = None,
) -> Animal | None:
    """The run's animal with, in the same query, its tumours' ids, every reading it has (as
    ``history``), its open caliper halves plus any half named in ``client_ids`` and, with
    ``idempotency`` (scope, key), the stored answer of that key (``stored_sha256``,
    ``stored_response``), and whether it has an open endpoint episode (``episode_open``)."""
    animals = Animal.objects.filter(run=run, pk=animal_id)
    if idempotency is not None:
        stored = IdempotencyRecord.objects.filter(scope=idempotency[0], key=idempotency[1])
        animals = animals.annotate(
            stored_sha256=Subquery(stored.values("body_sha256")[:1]),
            stored_response=Subquery(stored.values("response_body")[:1]),
        )
    animal = animals.annotate(
        episode_open=Exists(
            EndpointEpisode.objects.filter(animal=OuterRef("pk"), status__in=OPEN_EPISODE_STATUSES)
        ),
        tumour_ids=ArraySubquery(
            Tumour.objects.filter(animal=OuterRef("pk")).order_by("pk").values("pk")
        ),
        history=ArraySubquery(
            Measurement.objects.filter(animal=OuterRef("pk"))
            .order_by("taken_at", "pk")
            .values(row=JSONObject(**_HISTORY_FIELDS))
        ),
        halves=ArraySubquery(
            PendingAxis.objects.filter(animal=OuterRef("pk"))
            .filter(Q(status=PendingAxisStatus.OPEN) | Q(client_id__in=list(client_ids)))
            .order_by("pk")
            .values(row=JSONObject(**_HALF_FIELDS))
        ),
    ).first()
    if animal is None:
        return None
    animal.run = run
    readings = []
    rows: Any = animal
    for row in rows.history or []:
        readings.append(
            Measurement(
                id=row["id"],
                animal=animal,
                kind=row["kind"],
                tumour_id=row["tumour_id"],
                length_mm=_number(row["length_mm"]),
                width_mm=_number(row["width_mm"]),
                height_mm=_number(row["height_mm"]),
                volume_mm3=_number(row["volume_mm3"]),
                weight_g=_number(row["weight_g"]),
                reading_code=row["reading_code"],
                code_reason=row["code_reason"],
                taken_at=_moment(row["taken_at"]),
                study_day=row["study_day"],
                voided_at=_moment(row["voided_at"]),
                client_id=row["client_id"],
                row_version=row["row_version"],
                axes_swapped=row["axes_swapped"],
                repeat_of_id=row["repeat_of_id"],
                correction_of_id=row["correction_of_id"],
            )
        )
    animal.readings = readings  # type: ignore[attr-defined]
    animal.open_halves = [  # type: ignore[attr-defined]
        PendingAxis(
            id=row["id"],
            animal=animal,
            tumour_id=row["tumour_id"],
            axis=row["axis"],
            value_mm=Decimal(str(row["value_mm"])),
            study_day=row["study_day"],
            taken_at=_moment(row["taken_at"]),
            status=row["status"],
            client_id=row["client_id"],
            measurement_id=row["measurement_id"],
        )
        for row in rows.halves or []
    ]
    return animal


@dataclass
class _Cell:
    """One cell being saved: the request, its run, rules, user and the animal's history."""

    run: StudyRun
    rules: CaptureRules
    user: User
    animal: Animal
    cell: GridCell
    entry_method: str
    answer: dict[str, Any] = field(default_factory=dict)
    #: The instrument in use for this cell's kind (the grid's selector), and its qualification.
    instrument: Instrument | None = None
    instrument_status: InstrumentStatus | None = None

    @property
    def readings(self) -> list[Measurement]:
        return self.animal.readings  # type: ignore[attr-defined,no-any-return]

    @property
    def halves(self) -> list[PendingAxis]:
        return self.animal.open_halves  # type: ignore[attr-defined,no-any-return]

    def find(self, client_id: str) -> Measurement | PendingAxis | None:
        if not client_id:
            return None
        for reading in self.readings:
            if reading.client_id == client_id:
                return reading
        for half in self.halves:
            if half.client_id == client_id:
                return half
        raise ValidationError(
            "The reading this one refers to is not recorded for this animal: reload the page."
        )

    def reading(self, pk: int | None) -> Measurement | None:
        return next((r for r in self.readings if r.pk == pk), None)

    def series(self, tumour_id: int | None) -> list[Measurement]:
        kind = MeasurementKind.CALIPER if tumour_id is not None else MeasurementKind.WEIGHT
        return [
            r
            for r in self.readings
            if r.voided_at is None and r.kind == kind and r.tumour_id == tumour_id
        ]


def _display(parsed: ParsedReading | ReadingCode) -> str:
    if isinstance(parsed, ReadingCode):
        return f"{parsed.code} {parsed.reason}".strip()
    return plain_number(parsed.value)


def save_grid_cell(
    *,
    run: StudyRun,
    user: User,
    body: bytes,
    path: str,
    entry_method: str = EntryMethod.GRID,
    idempotent: bool = True,
    instruments: dict[str, Instrument] | None = None,
) -> CellAnswer:
    """Save one grid cell as GRID.md says and return the answer for the browser.

    ``run`` comes from :func:`annotate_capture` with ``user`` (rules and role in one query).
    One transaction: the cell's ``client_id`` (its Idempotency-Key) and the animal are locked,
    a key seen before replays its first answer (200), the value is parsed by
    ``labnotes.capture.parsing`` (refusals name the reason, nothing is written), and the
    reading is stored — a first caliper axis as a pending half, the second with the first as
    a :class:`Measurement` whose answer carries the volume, the swap, the trend warning and the
    endpoint checks (``needs_repeat`` asks for an immediate repeat before anyone is alerted).
    With ``idempotent`` the answer is stored as an ``IdempotencyRecord`` (scope: the user),
    the same mechanism as the API's; the API passes ``False`` as its own mixin stores it.

    ``instruments`` (``{"caliper": …, "balance": …}``, the grid's "instrument in use") names
    the instrument of a value: it is recorded on the reading, and an unqualified instrument's
    value is refused (400, naming the instrument and why, nothing written) or saved with a
    :class:`ReadingFlag` and ``instrument_flag`` in the answer, as the lab's rule says.
    """
    try:
        cell = GridCell.from_json(json.loads(body or b"null"))
    except (ValueError, UnicodeDecodeError):
        return CellAnswer(400, {"error": "The request body is not JSON."})
    except ValidationError as error:
        return CellAnswer(400, {"error": _message(error)})
    if cell.operator != str(user.pk):
        return CellAnswer(
            403,
            {
                "error": "This reading was typed by another user than the one logged in now: "
                "it is not saved under your name."
            },
        )
    if getattr(run, "member_role", None) not in RECORDERS:
        return CellAnswer(
            403,
            {
                "error": "Only technicians, scientists, study directors and "
                "lab admins may record measurements."
            },
        )
    scope = f"user:{user.pk}"
    digest = hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Same key: the second request waits for the first and then replays it. Same
                # animal: L and W of one tumour, sent at once, meet in order.
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0)), "
                    "pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    [f"idempotency:{scope}:{cell.client_id}", f"grid-animal:{cell.animal}"],
                )
            # The stored answer of this key, if any, comes with the animal (one query).
            animal = load_grid_subject(
                run,
                cell.animal,
                [c for c in (cell.correction_of, cell.repeat_of) if c],
                idempotency=(scope, cell.client_id) if idempotent else None,
            )
            if animal is None:
                raise ValidationError("This animal is not in this run: reload the page.")
            stored: Any = animal
            if idempotent and stored.stored_sha256 is not None:
                if stored.stored_sha256 != digest:
                    return CellAnswer(
                        422, {"error": "This reading's id was already used for another value."}
                    )
                return CellAnswer(200, json.loads(bytes(stored.stored_response)))
            context = _Cell(
                run=run,
                rules=rules_for_run(run),
                user=user,
                animal=animal,
                cell=cell,
                entry_method=entry_method,
                instrument=(instruments or {}).get(
                    "balance" if cell.field == "weight" else "caliper"
                ),
            )
            status, answer = _save_cell(context)
            if idempotent:
                IdempotencyRecord.objects.create(
                    scope=scope,
                    key=cell.client_id,
                    method="POST",
                    path=path,
                    body_sha256=digest,
                    response_status=status,
                    response_body=json.dumps(answer).encode(),
                    response_content_type="application/json",
                )
            return CellAnswer(status, answer)
    except StaleWrite:
        return CellAnswer(
            409, {"error": "This reading was changed by someone else: reload the page."}
        )
    except PermissionDenied as error:
        return CellAnswer(403, {"error": str(error)})
    except ValidationError as error:
        return CellAnswer(400, {"error": _message(error)})


def _message(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        parts = []
        for name, items in error.error_dict.items():
            text = " ".join(" ".join(item.messages) for item in items)
            parts.append(text if name == "__all__" else f"{name.replace('_', ' ')}: {text}")
        return " ".join(parts)
    return " ".join(error.messages)


def _save_cell(context: _Cell) -> tuple[int, dict[str, Any]]:
    cell, rules = context.cell, context.rules
    parsed = parse_reading(cell.raw, kind=cell.field, config=rules.entry)
    if isinstance(parsed, ReadingError):
        raise ValidationError(parsed.message)
    # A resend whose first answer was lost before the idempotency record (API path, or a
    # reading sent by another route with the same id): the stored reading answers.
    for reading in context.readings:
        if reading.client_id == cell.client_id:
            return 200, {"status": "saved", "display": _display(parsed), "measurement": reading.pk}
    for half in context.halves:
        if half.client_id == cell.client_id:
            return 200, {"status": "saved", "display": _display(parsed)}
    context.answer = {"status": "saved", "display": _display(parsed)}
    if context.instrument is not None and isinstance(parsed, ParsedReading):
        # Before anything is written: a refused instrument leaves no trace of the value.
        context.instrument_status = qualify_instrument(
            instrument=context.instrument, taken_at=cell.taken_at
        )
        if not context.instrument_status.qualified:
            context.answer["instrument_flag"] = context.instrument_status.flag_text
    if cell.field == "weight":
        _save_weight(context, parsed)
    else:
        if cell.tumour not in (context.animal.tumour_ids or []):  # type: ignore[attr-defined]
            raise ValidationError("This tumour is not the animal's: reload the page.")
        if cell.field not in rules.formula.axes:
            raise ValidationError(
                f"The caliper protocol's formula uses no {cell.field}: leave the cell empty."
            )
        _save_axis(context, parsed)
    if checks.is_late(context.cell.taken_at, timezone.now()):
        _note(context, "Entered more than 24 h after it was taken: flagged late.")
    return 201, context.answer


def _note(context: _Cell, text: str) -> None:
    previous = context.answer.get("message")
    context.answer["message"] = f"{previous} {text}" if previous else text


def _warn(context: _Cell, text: str) -> None:
    previous = context.answer.get("warning")
    context.answer["warning"] = f"{previous} {text}" if previous else text


def _record(context: _Cell, **values: Any) -> Measurement:
    """record_measurement with what the grid has read already (rules, role, history)."""
    cell = context.cell
    tumour = Tumour(pk=cell.tumour, animal=context.animal) if cell.field != "weight" else None
    correction = values.pop("correction_of", None)
    repeat = values.pop("repeat_of", None)
    if context.instrument_status is not None and "code" not in values:
        values["instrument"] = context.instrument_status.instrument.serial_number
    measurement = record_measurement(
        tumour=tumour,
        animal=None if tumour is not None else context.animal,
        taken_at=cell.taken_at,
        operator=context.user,
        client_id=cell.client_id,
        entry_method=context.entry_method,
        reason=reason_text(cell.reason) or None,
        correction_of=correction,
        repeat_of=repeat,
        as_repeat=True,
        formula=context.rules.formula,
        authorized=True,
        preloaded=Preloaded(
            same_day=[
                r
                for r in context.series(cell.tumour if tumour is not None else None)
                if r.study_day == context.run.study.lab.study_day(context.run.day0, cell.taken_at)
            ],
            history=context.readings,
            episode_open=bool(getattr(context.animal, "episode_open", True)),
        ),
        limits=context.rules.welfare,
        **values,
    )
    context.answer["measurement"] = measurement.pk
    if context.instrument_status is not None and "code" not in values:
        flag_reading(measurement=measurement, status=context.instrument_status)
    if correction is not None:
        correction.voided_at = measurement.received_at or timezone.now()  # as in the database
    if measurement.is_late:
        pass  # the answer notes it once, for every kind of cell (_save_cell)
    return measurement


def _code_values(parsed: ReadingCode) -> dict[str, Any]:
    return {"code": parsed.code, "code_reason": parsed.reason}


def _correction_target(context: _Cell) -> Measurement | PendingAxis | None:
    target = context.find(context.cell.correction_of)
    if target is not None and not context.cell.reason:
        raise ValidationError("A correction needs a reason.")
    return target


def _save_weight(context: _Cell, parsed: ParsedReading | ReadingCode) -> None:
    values = _code_values(parsed) if isinstance(parsed, ReadingCode) else {"weight_g": parsed.value}
    target = _correction_target(context)
    if isinstance(target, PendingAxis):
        raise ValidationError("A weight corrects a weight: reload the page.")
    repeat = context.find(context.cell.repeat_of)
    measurement = _record(
        context,
        correction_of=target,
        repeat_of=repeat if isinstance(repeat, Measurement) else None,
        **values,
    )
    if measurement.weight_g is not None:
        _assess_weight(context, measurement)


def _typed_axes(measurement: Measurement) -> dict[str, Decimal | None]:
    """The axes as they were typed: the stored ones with a swap undone."""
    length, width = measurement.length_mm, measurement.width_mm
    if measurement.axes_swapped:
        length, width = width, length
    return {"length": length, "width": width, "height": measurement.height_mm}


def _replace_halves(halves: Iterable[PendingAxis], reason: str) -> None:
    ids = [half.pk for half in halves]
    if ids:
        PendingAxis.objects.filter(pk__in=ids, status=PendingAxisStatus.OPEN).update(
            status=PendingAxisStatus.REPLACED, status_reason=reason[:300]
        )


def _save_axis(context: _Cell, parsed: ParsedReading | ReadingCode) -> None:
    cell = context.cell
    study_day = context.run.study.lab.study_day(context.run.day0, cell.taken_at)
    open_halves = [
        h
        for h in context.halves
        if h.status == PendingAxisStatus.OPEN
        and h.tumour_id == cell.tumour
        and h.study_day == study_day
    ]
    target = _correction_target(context)
    repeat = context.find(cell.repeat_of)
    base = target if target is not None else repeat
    if isinstance(base, PendingAxis):
        if base.status == PendingAxisStatus.OPEN:
            # The first axis is still waiting: this value takes its place.
            why = f"Corrected: {reason_text(cell.reason)}" if target is not None else "Repeated"
            _replace_halves([base], why)
            open_halves = [h for h in open_halves if h.pk != base.pk]
            base = None
            target = repeat = None
        else:
            base = context.reading(base.measurement_id)
            if base is None:
                raise ValidationError("The reading this one refers to is gone: reload the page.")
    if isinstance(parsed, ReadingCode):
        _replace_halves(open_halves, f"Replaced by {parsed.code}")
        if base is None:
            same = [
                r
                for r in context.series(cell.tumour)
                if r.study_day == study_day and r.reading_code == parsed.code
            ]
            if same:
                # NP typed in the length cell and again in the width cell: one reading.
                context.answer["measurement"] = same[-1].pk
                _note(context, f"{parsed.code} is recorded for this tumour today.")
                return
        _record(
            context,
            correction_of=base if target is not None else None,
            repeat_of=base if target is None else None,
            **_code_values(parsed),
        )
        return
    if base is not None:
        # A correction or a repeat of one axis of a stored reading: the other axes as typed.
        typed = _typed_axes(base)
        if any(typed[axis] is None for axis in context.rules.formula.axes):
            # The stored reading was a code: the value starts a new reading (a half) instead.
            if target is not None:
                void_for_correction(base, voided_by=context.user, reason=cell.reason, expected=None)
                base.voided_at = timezone.now()  # the history in memory follows the database
            _start_or_combine(context, parsed.value, open_halves, study_day)
            return
        typed[cell.field] = parsed.value
        measurement = _record(
            context,
            correction_of=base if target is not None else None,
            repeat_of=base if target is None else None,
            length_mm=typed["length"],
            width_mm=typed["width"],
            height_mm=typed["height"] if context.rules.formula.needs_height else None,
        )
        _assess_caliper(context, measurement)
        return
    _start_or_combine(context, parsed.value, open_halves, study_day)


def _start_or_combine(
    context: _Cell, value: Decimal, open_halves: list[PendingAxis], study_day: int
) -> None:
    cell = context.cell
    same_axis = [h for h in open_halves if h.axis == cell.field]
    if same_axis:
        _replace_halves(same_axis, f"Replaced by a later {cell.field} of the same day")
    others = {h.axis: h for h in open_halves if h.axis != cell.field}
    typed: dict[str, Decimal | None] = {axis: h.value_mm for axis, h in others.items()}
    typed[cell.field] = value
    needed = context.rules.formula.axes
    if all(typed.get(axis) is not None for axis in needed):
        measurement = _record(
            context,
            length_mm=typed["length"],
            width_mm=typed["width"],
            height_mm=typed.get("height") if context.rules.formula.needs_height else None,
        )
        PendingAxis.objects.filter(pk__in=[h.pk for h in others.values()]).update(
            status=PendingAxisStatus.COMBINED, measurement=measurement
        )
        _assess_caliper(context, measurement)
        return
    missing = [axis for axis in needed if typed.get(axis) is None]
    check_subject(context.animal)
    if checks.is_future(cell.taken_at, timezone.now(), tolerance=CLOCK_TOLERANCE):
        raise ValidationError({"taken_at": "This time lies in the future."})
    assert cell.tumour is not None
    PendingAxis.objects.create(
        animal=context.animal,
        tumour_id=cell.tumour,
        axis=cell.field,
        value_mm=value,
        study_day=study_day,
        taken_at=cell.taken_at,
        operator=context.user,
        recorded_by=context.user,
        entry_method=context.entry_method,
        client_id=cell.client_id,
        instrument=(
            context.instrument_status.instrument.serial_number
            if context.instrument_status is not None
            else ""
        ),
    )
    _note(context, f"Waiting for the {' and '.join(missing)}.")


def _previous_days(
    readings: Sequence[Measurement], day: int, policy: checks.RepeatPolicy
) -> list[tuple[float, float]]:
    counted = counted_readings([r for r in readings if r.study_day < day], policy=policy)
    return sorted((float(c.study_day), float(c.value)) for c in counted.values())


def _endpoint_answer(
    context: _Cell,
    measurement: Measurement,
    previous: checks.EndpointReading | None,
    new: checks.EndpointReading,
) -> None:
    limits = context.rules.limits
    findings = checks.endpoint_findings(new, limits)
    reached = [f for f in findings if f.status is checks.EndpointStatus.REACHED]
    if measurement.repeat_of_id is not None and reached:
        _warn(
            context,
            "Endpoint reached on the repeat: "
            + "; ".join(f.message for f in reached)
            + ". The study director, the technician and the veterinarian are alerted.",
        )
    elif reached and checks.needs_repeat(previous, new, limits):
        context.answer["needs_repeat"] = True
        _warn(context, "; ".join(f.message for f in reached).capitalize() + ": measure again now.")
    elif reached:
        _warn(context, "Endpoint reached: " + "; ".join(f.message for f in reached) + ".")
    elif findings:
        _note(context, "; ".join(f.message for f in findings).capitalize() + ".")


def _assess_caliper(context: _Cell, measurement: Measurement) -> None:
    assert measurement.volume_mm3 is not None and measurement.length_mm is not None
    volume = float(measurement.volume_mm3)
    context.answer["volume_mm3"] = plain_number(measurement.volume_mm3)
    context.answer["display"] = _display_axis(context, measurement)
    if measurement.axes_swapped:
        _note(context, "L and W swapped: L is the longer axis.")
    series = [r for r in context.series(measurement.tumour_id) if r.pk != measurement.pk]
    history = _previous_days(series, measurement.study_day, context.rules.repeat_policy)
    trend = checks.trend_warning(
        history,
        measurement.study_day,
        volume,
        max_fold_per_day=context.rules.trend_max_fold_per_day,
    )
    if trend is not None:
        _warn(context, trend.message)
    previous_reading = next(
        (
            r
            for r in reversed(series)
            if r.volume_mm3 is not None and r.pk != measurement.repeat_of_id
        ),
        None,
    )
    if measurement.repeat_of_id is not None:
        previous_reading = context.reading(measurement.repeat_of_id)
    total = None
    if context.rules.limits.max_total_volume_mm3 is not None:
        latest: dict[int | None, float] = {}
        for reading in context.readings:
            if (
                reading.voided_at is None
                and reading.kind == MeasurementKind.CALIPER
                and reading.volume_mm3 is not None
            ):
                latest[reading.tumour_id] = float(reading.volume_mm3)
        latest[measurement.tumour_id] = volume
        total = sum(latest.values())
    previous = (
        checks.EndpointReading(
            volume_mm3=float(previous_reading.volume_mm3),
            diameter_mm=float(previous_reading.length_mm)
            if previous_reading.length_mm is not None
            else None,
        )
        if previous_reading is not None and previous_reading.volume_mm3 is not None
        else None
    )
    new = checks.EndpointReading(
        volume_mm3=volume, diameter_mm=float(measurement.length_mm), total_volume_mm3=total
    )
    _endpoint_answer(context, measurement, previous, new)


def _display_axis(context: _Cell, measurement: Measurement) -> str:
    typed = _typed_axes(measurement)
    value = typed.get(context.cell.field)
    return plain_number(value) if value is not None else context.answer.get("display", "")


def _baseline_weight(context: _Cell, exclude: int) -> float | None:
    animal, run = context.animal, context.run
    day = (
        animal.treatment_start_date
        if context.rules.weight_baseline is WeightBaseline.RANDOMIZATION
        and animal.treatment_start_date
        else run.day0
    )
    baseline_day = (day - run.day0).days
    weights = [r for r in context.series(None) if r.weight_g is not None and r.pk != exclude]
    before = [r for r in weights if r.study_day <= baseline_day]
    if before:
        return float(before[-1].weight_g)  # type: ignore[arg-type]
    if weights:
        return float(weights[0].weight_g)  # type: ignore[arg-type]
    return float(animal.arrival_weight_g) if animal.arrival_weight_g else None


def _assess_weight(context: _Cell, measurement: Measurement) -> None:
    assert measurement.weight_g is not None
    baseline = _baseline_weight(context, measurement.pk)
    if baseline is None or baseline <= 0:
        return

    def loss(weight: Decimal) -> float:
        return round((baseline - float(weight)) / baseline * 100.0, 1)

    earlier = [
        r
        for r in context.series(None)
        if r.weight_g is not None and r.pk not in (measurement.pk, measurement.repeat_of_id)
    ]
    previous_reading = (
        context.reading(measurement.repeat_of_id)
        if measurement.repeat_of_id is not None
        else (earlier[-1] if earlier else None)
    )
    previous = (
        checks.EndpointReading(weight_loss_percent=loss(previous_reading.weight_g))
        if previous_reading is not None and previous_reading.weight_g is not None
        else None
    )
    new = checks.EndpointReading(weight_loss_percent=loss(measurement.weight_g))
    _endpoint_answer(context, measurement, previous, new)
