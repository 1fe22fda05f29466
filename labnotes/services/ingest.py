"""Bulk ingest of caliper readings and body weights from instruments and scripts.

All or nothing: every row is validated first, against lookups read once per request (one query
per kind of lookup: animals, tumours, instruments and their checks, operators, client ids
stored before, the day's latest readings), and every bad row is reported (index, field, value,
code, message); only a clean request writes. The readings are then written with one COPY into
the measurement table, with explicit ids taken from its sequence in one query. The audit
trail stays on: PostgreSQL's triggers fire for COPY, and the audit context (who, which token,
request) is set for the transaction before the COPY, so every inserted reading gets its event
row with the same attribution as a reading saved one by one. On INSERT the measurement table's
audit, run-lock and archive triggers work once per statement over the inserted rows (migration
0018), and the humane endpoints are judged for all the request's animals in a few queries
(``endpoint_status.evaluate_readings_in_bulk``). Each phase's time is returned
(``IngestResult.timings``) and answered as ``Server-Timing``.

The rules are ``record_measurement``'s: volume by the design's caliper formula with L the longer
axis (swapped and flagged), study day from the lab-local date, late after 24 h, refused in the
future or for an animal that left the study, a same-day second reading stored as a repeat of
the day's latest, a ``client_id`` stored before answered with the stored reading (a resend).
Devices never correct or void: those stay with people.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import operator
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast

import pghistory
import pghistory.config
import psycopg
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from labnotes.capture import checks
from labnotes.models import (
    Animal,
    AnimalStatus,
    DeviceToken,
    EntryMethod,
    IngestBatch,
    Instrument,
    InstrumentIssue,
    Measurement,
    MeasurementCode,
    MeasurementKind,
    ReadingFlag,
    StudyRun,
    Tumour,
    UnqualifiedReadingPolicy,
)
from labnotes.services.common import RECORDERS
from labnotes.services.instruments import (
    READING_KINDS,
    instrument_issues,
    instrument_settings,
    passed_check_days,
)
from labnotes.services.measurements import CaliperFormula, rules_for_run, tumour_volume_mm3
from planner.audit import audit_context
from planner.models import Membership

_HUNDREDTH = Decimal("0.01")
_MAX_VALUE = Decimal(100)
UNITS: dict[str, str] = {MeasurementKind.CALIPER: "mm", MeasurementKind.WEIGHT: "g"}
VALUE_FIELDS = ("length_mm", "width_mm", "height_mm", "weight_g")
#: Every field a row may carry (CSV columns have these names).
ROW_FIELDS = (
    "animal",
    "rfid",
    "tumour",
    "kind",
    "length_mm",
    "width_mm",
    "height_mm",
    "weight_g",
    "value",
    "values",
    "code",
    "code_reason",
    "unit",
    "taken_at",
    "instrument",
    "operator",
    "raw",
    "stable",
    "client_id",
)
_ROW_FIELD_SET = frozenset(ROW_FIELDS)
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


@dataclass(frozen=True)
class RowError:
    index: int
    field: str
    value: Any
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        if not isinstance(value, (str, int, float, bool, type(None))):
            value = str(value)
        if isinstance(value, str) and len(value) > 200:
            value = value[:200] + "…"
        return {
            "index": self.index,
            "field": self.field,
            "value": value,
            "code": self.code,
            "message": self.message,
        }


class IngestRefused(Exception):
    """The request had bad rows: nothing was written. ``errors`` lists every one."""

    def __init__(self, errors: Sequence[RowError], rows: int) -> None:
        self.errors = list(errors)
        self.rows = rows
        bad_rows = len({error.index for error in self.errors})
        super().__init__(f"{bad_rows} of {rows} rows refused; nothing was written.")


@dataclass
class IngestResult:
    batch: IngestBatch
    measurement_ids: list[int]
    replayed: list[bool]
    flags: list[dict[str, Any]] = field(default_factory=list)
    #: Seconds spent in each phase (validate, link: replays and repeats, write, endpoints,
    #: commit): the API answers them
    #: in a ``Server-Timing`` header, the benchmark prints them.
    timings: dict[str, float] = field(default_factory=dict)


# -- parsing the body ------------------------------------------------------------------------


def parse_json_items(body: bytes) -> tuple[list[Any], int | None]:
    """Items of a JSON body: an array of rows, one row (an object), or
    ``{"run": <id>, "items": [...]}``; returns the items and the run named in the body."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError({"body": f"Not valid JSON: {error}."}) from None
    run_id: int | None = None
    if isinstance(data, dict) and "items" in data:
        items = data["items"]
        raw_run = data.get("run")
        if raw_run is not None:
            if isinstance(raw_run, bool) or not isinstance(raw_run, int):
                raise ValidationError({"run": "The run's id as a number."})
            run_id = raw_run
    elif isinstance(data, dict):
        items = [data]
    else:
        items = data
    if not isinstance(items, list) or not items:
        raise ValidationError({"items": "Send one row (an object) or a non-empty array of rows."})
    return items, run_id


def parse_csv_items(body: bytes) -> list[dict[str, str]]:
    """Rows of a CSV body (UTF-8, a header row with the row field names; empty cells absent)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"body": "The CSV is not UTF-8 text."}) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    if not header:
        raise ValidationError({"body": "The CSV has no header row."})
    unknown = [name for name in header if name not in ROW_FIELDS or name == "values"]
    if unknown:
        raise ValidationError(
            {
                "body": f"Unknown CSV column(s): {', '.join(unknown)}; "
                f"known: {', '.join(n for n in ROW_FIELDS if n != 'values')}."
            }
        )
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    for record in reader:
        if None in record:
            raise ValidationError(
                {"body": f"CSV line {reader.line_num} has more cells than the header."}
            )
        rows.append({k: v.strip() for k, v in record.items() if v is not None and v.strip()})
    if not rows:
        raise ValidationError({"body": "The CSV has a header but no rows."})
    return rows


# -- validating rows ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    index: int
    animal: dict[str, Any]
    tumour_id: int | None
    kind: str
    values: dict[str, Any]
    taken_at: dt.datetime
    #: The lab-local date of ``taken_at`` and its study day.
    day: dt.date
    study_day: int
    instrument: Instrument | None
    instrument_text: str
    issues: tuple[str, ...]
    operator_id: int
    client_id: str
    replay_of: int | None = None
    repeat_of: int | None = None
    pk: int | None = None


def _text(value: Any) -> str:
    if type(value) is str:  # the common case, first
        return value.strip()
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value).strip()


def _number(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, (bool, dict, list)):
        raise InvalidOperation
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise InvalidOperation
    return number.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)


class _Validator:
    """Checks rows against lookups read once; collects every error."""

    def __init__(
        self,
        *,
        run: StudyRun,
        items: Sequence[Any],
        submitted_by: User,
        token: DeviceToken | None,
        now: dt.datetime,
    ) -> None:
        self.run = run
        self.lab = run.study.lab
        self.items = items
        self.now = now
        self.token = token
        self.submitted_by = submitted_by
        self.errors: list[RowError] = []
        rules = rules_for_run(run)
        self.formula: CaliperFormula = rules.formula
        self.settings = instrument_settings(self.lab)
        self.zone = self.lab.zone
        self.needs_height = self.formula.needs_height
        # Per request: the same raw value (an axis of "8.41", a weight of 21.37) is parsed once,
        # and the volume of the same axes computed once; both are pure functions of the key.
        self._numbers: dict[tuple[type, Any], Decimal] = {}
        self._volumes: dict[tuple[Decimal, Decimal, Decimal | None], Decimal] = {}
        self._preload()

    def error(self, index: int, name: str, value: Any, code: str, message: str) -> None:
        self.errors.append(RowError(index, name, value, code, message))

    def _preload(self) -> None:
        tags: set[str] = set()
        rfids: set[str] = set()
        serials: set[str] = set()
        usernames: set[str] = {self.submitted_by.get_username()}
        for item in self.items:
            if type(item) is not dict and not isinstance(item, Mapping):
                continue
            get = item.get
            # Most rows name the animal by tag and leave the others out: _text only on values.
            if (value := get("animal")) is not None and (text := _text(value)):
                tags.add(text)
            if (value := get("rfid")) is not None and (text := _text(value)):
                rfids.add(text)
            if (value := get("instrument")) is not None and (text := _text(value)):
                serials.add(text)
            if (value := get("operator")) is not None and (text := _text(value)):
                usernames.add(text)
        # A value with a NUL cannot be a query parameter; validation reports it (row error).
        for names in (tags, rfids, serials, usernames):
            names.difference_update([name for name in names if "\x00" in name])
        animals = cast(
            list[dict[str, Any]],
            list(
                Animal.objects.filter(run=self.run)
                .filter(Q(tag__in=tags) | Q(rfid__in=rfids))
                .values("id", "tag", "rfid", "status")
            ),
        )
        self.by_tag = {animal["tag"]: animal for animal in animals}
        self.by_rfid = {animal["rfid"]: animal for animal in animals if animal["rfid"]}
        self.tumours: dict[int, list[dict[str, Any]]] = {}
        for tumour in (
            Tumour.objects.filter(animal_id__in=[animal["id"] for animal in animals])
            .order_by("pk")
            .values("id", "animal_id", "site", "role")
        ):
            self.tumours.setdefault(tumour["animal_id"], []).append(dict(tumour))
        if self.token is not None and self.token.instrument_id is not None:
            assert self.token.instrument is not None
            serials.add(self.token.instrument.serial_number)
        self.instruments = {
            instrument.serial_number: instrument
            for instrument in Instrument.objects.filter(lab=self.lab, serial_number__in=serials)
        }
        self.operators = dict(
            Membership.objects.filter(
                lab=self.lab, role__in=RECORDERS, user__username__in=usernames, user__is_active=True
            ).values_list("user__username", "user_id")
        )

    def _animal(self, index: int, item: Mapping[str, Any]) -> dict[str, Any] | None:
        tag, rfid = _text(item.get("animal")), _text(item.get("rfid"))
        if not tag and not rfid:
            self.error(index, "animal", None, "required", "Give the animal's tag or its RFID.")
            return None
        animal = self.by_tag.get(tag) if tag else self.by_rfid.get(rfid)
        if animal is None:
            name, value = ("animal", tag) if tag else ("rfid", rfid)
            self.error(index, name, value, "not_found", f"No animal {value!r} in this run.")
            return None
        if tag and rfid and animal.get("rfid") != rfid:
            self.error(
                index, "rfid", rfid, "mismatch", f"RFID {rfid!r} is not animal {tag!r}'s RFID."
            )
            return None
        if animal["status"] in (
            AnimalStatus.TRANSFERRED,
            AnimalStatus.EXCLUDED,
            AnimalStatus.FOUND_DEAD,
        ):
            label = AnimalStatus(animal["status"]).label.lower()
            self.error(
                index,
                "animal",
                animal["tag"],
                "not_on_study",
                f"Animal {animal['tag']} is {label}: no new readings.",
            )
            return None
        return animal

    def _tumour(self, index: int, item: Mapping[str, Any], animal: dict[str, Any]) -> int | None:
        given = item.get("tumour")
        tumours = self.tumours.get(animal["id"], [])
        if given is None or given == "":
            if len(tumours) == 1:
                return int(tumours[0]["id"])
            message = (
                f"Animal {animal['tag']} has no tumour registered."
                if not tumours
                else f"Animal {animal['tag']} has {len(tumours)} tumours: name the site "
                f"({', '.join(t['site'] for t in tumours)})."
            )
            self.error(index, "tumour", None, "required", message)
            return None
        text = _text(given)
        for tumour in tumours:
            if text in (str(tumour["id"]), tumour["site"], tumour["role"]):
                return int(tumour["id"])
        self.error(
            index, "tumour", given, "not_found", f"Animal {animal['tag']} has no tumour {text!r}."
        )
        return None

    def _number(self, raw: Any) -> Decimal:
        """:func:`_number` of ``raw``, each distinct string or number parsed once per request
        (a refused value raises again, it is not kept)."""
        kind = type(raw)
        if kind is str or kind is float or kind is int:
            key = (kind, raw)
            number = self._numbers.get(key)
            if number is None:
                number = self._numbers[key] = cast(Decimal, _number(raw))
            return number
        return cast(Decimal, _number(raw))

    def _volume(self, length: Decimal, width: Decimal, height: Decimal | None) -> Decimal:
        key = (length, width, height)
        volume = self._volumes.get(key)
        if volume is None:
            volume = self._volumes[key] = tumour_volume_mm3(
                self.formula.formula, length, width, height
            )
        return volume

    def _values(self, index: int, item: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
        get = item.get
        raw_code = get("code")
        code = _text(raw_code).upper() if raw_code is not None else ""
        named = {name: value for name in VALUE_FIELDS if (value := get(name)) not in (None, "")}
        listed = get("values")
        single = get("value")
        if listed not in (None, "") or single not in (None, ""):
            if named:
                self.error(
                    index, "values", listed or single, "ambiguous",
                    "Send the values either named (length_mm, …) or as value/values, not both.",
                )  # fmt: skip
                return None
            sequence = listed if listed not in (None, "") else [single]
            if not isinstance(sequence, list) or not sequence:
                self.error(index, "values", listed, "invalid", "A list of numbers.")
                return None
            names = ("length_mm", "width_mm", "height_mm") if kind == "caliper" else ("weight_g",)
            if len(sequence) > len(names):
                self.error(
                    index, "values", listed, "too_many",
                    f"A {kind} reading has at most {len(names)} value(s).",
                )  # fmt: skip
                return None
            named = dict(zip(names, sequence, strict=False))
        if code:
            reason = " ".join(_text(get("code_reason")).split())
            if code not in MeasurementCode.values or not code:
                self.error(index, "code", code, "invalid", "A reading code is NP, NM or ND.")
                return None
            if named:
                self.error(index, "code", code, "code_with_value", f"{code} is instead of a value.")
                return None
            if code in ("NM", "ND") and not reason:
                self.error(index, "code_reason", "", "required", f"{code} needs a reason.")
                return None
            if kind == MeasurementKind.WEIGHT and code != "ND":
                self.error(
                    index, "code", code, "invalid",
                    f"{code} is for tumours; a weight not taken is ND.",
                )  # fmt: skip
                return None
            values: dict[str, Any] = {"reading_code": code, "code_reason": reason}
            if kind == MeasurementKind.CALIPER and code == "NP":
                values["volume_mm3"] = Decimal(0)
            if code == "NP":
                values["code_reason"] = ""
            return values
        numbers: dict[str, Decimal] = {}
        ok = True
        for name, raw in named.items():
            try:
                number = self._number(raw)
            except (InvalidOperation, ValueError):
                self.error(index, name, raw, "not_a_number", f"{raw!r} is not a number.")
                ok = False
                continue
            if number <= 0:
                self.error(
                    index, name, raw, "out_of_range",
                    "Must be above 0 (record NP or ND instead of a value).",
                )  # fmt: skip
                ok = False
            elif number > _MAX_VALUE:
                self.error(
                    index, name, raw, "out_of_range", f"{raw} is implausibly large (over 100)."
                )
                ok = False
            numbers[name] = number
        if not ok:
            return None
        if kind == MeasurementKind.WEIGHT:
            wrong = [name for name in numbers if name != "weight_g"]
            if wrong or "weight_g" not in numbers:
                self.error(
                    index, wrong[0] if wrong else "weight_g", None, "required" if not wrong
                    else "not_allowed", "A weight reading carries weight_g (g) only.",
                )  # fmt: skip
                return None
            return {"weight_g": numbers["weight_g"]}
        if "weight_g" in numbers:
            self.error(
                index, "weight_g", named["weight_g"], "not_allowed",
                "A weight belongs to the animal: send it as its own row of kind weight.",
            )  # fmt: skip
            return None
        missing = [n for n in ("length_mm", "width_mm") if n not in numbers]
        if missing:
            for name in missing:
                self.error(index, name, None, "required", "Required for a caliper reading.")
            return None
        height = numbers.get("height_mm")
        if self.needs_height and height is None:
            self.error(index, "height_mm", None, "required", "The ellipsoid formula needs it.")
            return None
        if not self.needs_height and height is not None:
            self.error(
                index, "height_mm", named["height_mm"], "not_allowed",
                f"The formula '{self.formula.formula.value}' uses no height.",
            )  # fmt: skip
            return None
        axes = checks.swap_axes_if_needed(numbers["length_mm"], numbers["width_mm"])
        return {
            "length_mm": axes.length_mm,
            "width_mm": axes.width_mm,
            "height_mm": height,
            "axes_swapped": axes.swapped,
            "volume_mm3": self._volume(axes.length_mm, axes.width_mm, height),
            "formula": self.formula.formula.value,
            "formula_protocol_version_id": self.formula.protocol_version_id,
        }

    def _taken_at(self, index: int, item: Mapping[str, Any]) -> tuple[dt.datetime, dt.date] | None:
        """The reading's aware time and its lab-local date (``Lab.local_date``), or ``None``
        after reporting why not."""
        raw = item.get("taken_at")
        text = _text(raw)
        if not text:
            self.error(index, "taken_at", raw, "required", "When the reading was taken (ISO 8601).")
            return None
        try:
            moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            self.error(index, "taken_at", raw, "invalid", "Not an ISO 8601 date and time.")
            return None
        if timezone.is_naive(moment):
            self.error(index, "taken_at", raw, "no_time_zone", "The time must carry its time zone.")
            return None
        try:
            day = moment.astimezone(self.zone).date()  # Lab.local_date, its zone read once
        except (OverflowError, ValueError):
            self.error(index, "taken_at", raw, "invalid", "Not a usable date and time.")
            return None
        if checks.is_future(moment, self.now, tolerance=checks.FUTURE_TOLERANCE):
            self.error(index, "taken_at", raw, "in_future", "This time lies in the future.")
            return None
        return moment, day

    def validate(self) -> list[_Row]:
        rows: list[_Row] = []
        seen_client_ids: dict[tuple[int, str], int] = {}
        days: set[dt.date] = set()
        day0 = self.run.day0
        default_operator = self.submitted_by.get_username()
        token_serial = (
            self.token.instrument.serial_number
            if self.token is not None and self.token.instrument is not None
            else ""
        )
        require_registered = self.settings.require_registered_instrument
        errors = self.errors
        for index, item in enumerate(self.items):
            if type(item) is not dict and not isinstance(item, Mapping):
                self.error(index, "", item, "invalid", "Each row is an object.")
                continue
            for name, value in item.items():
                if name not in _ROW_FIELD_SET:
                    self.error(index, name, value, "unknown_field", "Not a row field.")
                elif type(value) is str and "\x00" in value:
                    self.error(
                        index, name, value, "invalid",
                        "Contains a NUL character (U+0000), which cannot be stored.",
                    )  # fmt: skip
            errors_before = len(errors)
            get = item.get
            kind = _text(get("kind")).lower()
            if kind not in (MeasurementKind.CALIPER, MeasurementKind.WEIGHT):
                self.error(
                    index, "kind", get("kind"), "invalid_choice",
                    "The kind is 'caliper' (tumour axes in mm) or 'weight' (body weight in g).",
                )  # fmt: skip
                kind = ""
            animal = self._animal(index, item)
            tumour_id = None
            if animal is not None and kind == MeasurementKind.CALIPER:
                tumour_id = self._tumour(index, item, animal)
            elif kind == MeasurementKind.WEIGHT and get("tumour") not in (None, ""):
                self.error(
                    index, "tumour", get("tumour"), "not_allowed",
                    "A weight belongs to the animal, not a tumour.",
                )  # fmt: skip
            values = self._values(index, item, kind) if kind else None
            unit = _text(get("unit"))
            if kind and unit and unit != UNITS[kind]:
                self.error(
                    index, "unit", unit, "wrong_unit",
                    f"A {kind} reading is sent in {UNITS[kind]}, not {unit}.",
                )  # fmt: skip
            taken = self._taken_at(index, item)
            stable = get("stable", True)
            if stable is True or stable is None:
                pass  # the common case, first
            elif stable == "" or _text(stable).lower() in _TRUE:
                pass
            elif stable is False or _text(stable).lower() in _FALSE:
                self.error(
                    index, "stable", stable, "unstable",
                    "The instrument reported an unstable reading: not recorded.",
                )  # fmt: skip
            else:
                self.error(index, "stable", stable, "invalid", "true or false.")
            raw_text = get("raw")
            if raw_text is not None and (not isinstance(raw_text, str) or len(raw_text) > 500):
                self.error(index, "raw", raw_text, "invalid", "A string of at most 500 characters.")
            client_id = _text(get("client_id"))
            if len(client_id) > 100:
                self.error(index, "client_id", client_id, "too_long", "At most 100 characters.")
            operator_name = _text(get("operator")) or default_operator
            operator_id = self.operators.get(operator_name)
            if operator_id is None:
                self.error(
                    index, "operator", operator_name, "not_permitted",
                    f"{operator_name!r} is not a technician, scientist, study director or lab "
                    "admin of this lab.",
                )  # fmt: skip
            serial = _text(get("instrument"))
            if not serial and token_serial:
                serial = token_serial
            instrument = self.instruments.get(serial) if serial else None
            if len(serial) > 100:
                self.error(index, "instrument", serial, "too_long", "At most 100 characters.")
            elif serial and instrument is None and require_registered:
                self.error(
                    index, "instrument", serial, "not_registered",
                    f"No instrument with serial number {serial!r} is registered in this lab.",
                )  # fmt: skip
            elif not serial and require_registered:
                self.error(
                    index, "instrument", None, "required",
                    "This lab records device readings from registered instruments only.",
                )  # fmt: skip
            if instrument is not None and kind and kind not in READING_KINDS[instrument.kind]:
                self.error(
                    index, "instrument", serial, "wrong_instrument",
                    f"{instrument.name} is a {instrument.get_kind_display().lower()}: it "
                    f"takes no {kind} readings.",
                )  # fmt: skip
            if len(errors) > errors_before or animal is None or values is None:
                continue
            assert taken is not None and operator_id is not None
            if client_id:
                key = (animal["id"], client_id)
                if key in seen_client_ids:
                    self.error(
                        index, "client_id", client_id, "duplicate",
                        f"Row {seen_client_ids[key]} has the same client_id for this animal.",
                    )  # fmt: skip
                    continue
                seen_client_ids[key] = index
            taken_at, local_day = taken
            days.add(local_day)
            rows.append(
                _Row(
                    index=index,
                    animal=animal,
                    tumour_id=tumour_id,
                    kind=kind,
                    values=values,
                    taken_at=taken_at,
                    day=local_day,
                    study_day=(local_day - day0).days,
                    instrument=instrument,
                    instrument_text=serial,
                    issues=(),
                    operator_id=operator_id,
                    client_id=client_id,
                )
            )
        self._qualify(rows, days)
        return rows

    def _qualify(self, rows: list[_Row], days: set[dt.date]) -> None:
        used = {row.instrument.pk: row.instrument for row in rows if row.instrument is not None}
        if not used:
            return
        passed = passed_check_days(used.values(), days)
        refuse = self.settings.unqualified_readings == UnqualifiedReadingPolicy.REFUSE
        for row in rows:
            if row.instrument is None:
                continue
            day = row.day
            row.issues = instrument_issues(row.instrument, day, passed)
            if row.issues and (refuse or InstrumentIssue.RETIRED in row.issues):
                labels = "; ".join(InstrumentIssue(i).label.lower() for i in row.issues)
                self.error(
                    row.index, "instrument", row.instrument_text, "instrument_not_qualified",
                    f"{row.instrument.name} on {day}: {labels}. This lab refuses such readings.",
                )  # fmt: skip


# -- writing -----------------------------------------------------------------------------------


def _int_array(values: Iterable[int | None]) -> str:
    """A PostgreSQL array literal of integers (``None`` as NULL), bound as one text parameter.

    A Python list is bound element by element in Python (a quoting check per element): for
    the 5,000 keys of a batch that cost more than the query; this is one join.
    """
    return "{" + ",".join(["NULL" if value is None else str(int(value)) for value in values]) + "}"


def _text_array(values: Iterable[str]) -> str:
    """A PostgreSQL array literal of strings, each double-quoted with ``\\`` and ``"``
    escaped (the array format's only special characters inside quotes); see :func:`_int_array`.
    """
    return (
        "{"
        + ",".join(['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values])
        + "}"
    )


def _link_replays_and_repeats(rows: list[_Row]) -> None:
    """Rows whose client_id is stored already replay the stored reading; the others that follow
    a same-day reading of the series become repeats of the day's latest (the API's rule)."""
    keys = sorted({(row.animal["id"], row.client_id) for row in rows if row.client_id})
    if keys:
        # The (animal, client_id) pairs looked up in the unique index pair by pair (LATERAL:
        # the planner otherwise prefers to sort the whole table for a merge join once the
        # pairs number thousands, and the time grows with the table).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT m.id, k.animal_id, k.client_id "
                "FROM unnest(%s::bigint[], %s::text[]) AS k(animal_id, client_id) "
                "CROSS JOIN LATERAL (SELECT s.id FROM labnotes_measurement s "
                "WHERE s.animal_id = k.animal_id AND s.client_id = k.client_id "
                "AND s.client_id <> '' LIMIT 1) AS m",
                [
                    _int_array([animal_id for animal_id, _ in keys]),
                    _text_array([client_id for _, client_id in keys]),
                ],
            )
            stored = {(animal_id, client_id): pk for pk, animal_id, client_id in cursor.fetchall()}
        for row in rows:
            if row.client_id:
                row.replay_of = stored.get((row.animal["id"], row.client_id))
    fresh = [row for row in rows if row.replay_of is None]
    if not fresh:
        return
    # The day's latest stored reading of each series (animal, kind, tumour) on each study day
    # of the request (latest by taken_at, then id): one backward walk of the (animal, kind,
    # taken_at) index per series and day, stopping at the first reading of that day; then the
    # highest id among that day's readings taken at that same moment. The walk starts two days
    # after the request's latest reading of that series and day and ends two days before its
    # earliest: a reading of the same study day (a lab-local date) lies within a day of them,
    # even across a change of the lab's time zone, and a day with no reading yet no longer
    # walks the animal's whole history.
    window: dict[tuple[int, str, int | None, int], tuple[dt.datetime, dt.datetime]] = {}
    for row in fresh:
        key = (row.animal["id"], row.kind, row.tumour_id, row.study_day)
        found = window.get(key)
        if found is None:
            window[key] = (row.taken_at, row.taken_at)
        elif row.taken_at < found[0]:
            window[key] = (row.taken_at, found[1])
        elif row.taken_at > found[1]:
            window[key] = (found[0], row.taken_at)
    series = sorted(window, key=lambda key: (key[0], key[1], key[2] or 0, key[3]))
    margin = dt.timedelta(days=2)
    latest: dict[tuple[int, str, int | None, int], tuple[dt.datetime, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.id, k.animal_id, k.kind, k.tumour_id, k.study_day, m.taken_at "
            "FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::integer[], "
            "%s::timestamptz[], %s::timestamptz[]) "
            "AS k(animal_id, kind, tumour_id, study_day, low, high) "
            "CROSS JOIN LATERAL (SELECT s.taken_at FROM labnotes_measurement s "
            "WHERE s.animal_id = k.animal_id AND s.kind = k.kind "
            "AND s.taken_at >= k.low AND s.taken_at <= k.high "
            "AND s.tumour_id IS NOT DISTINCT FROM k.tumour_id AND s.study_day = k.study_day "
            "AND s.voided_at IS NULL ORDER BY s.taken_at DESC LIMIT 1) AS t "
            "CROSS JOIN LATERAL (SELECT max(s.id) AS id, t.taken_at FROM labnotes_measurement s "
            "WHERE s.animal_id = k.animal_id AND s.kind = k.kind AND s.taken_at = t.taken_at "
            "AND s.tumour_id IS NOT DISTINCT FROM k.tumour_id AND s.study_day = k.study_day "
            "AND s.voided_at IS NULL) AS m",
            [
                _int_array([key[0] for key in series]),
                _text_array([key[1] for key in series]),
                _int_array([key[2] for key in series]),
                _int_array([key[3] for key in series]),
                _text_array([(window[key][0] - margin).isoformat() for key in series]),
                _text_array([(window[key][1] + margin).isoformat() for key in series]),
            ],
        )
        for pk, animal_id, kind, tumour_id, study_day, taken_at in cursor.fetchall():
            latest[(animal_id, kind, tumour_id, study_day)] = (taken_at, pk)
    # By (taken_at, index): the rows come in index order and the sort is stable.
    for row in sorted(fresh, key=operator.attrgetter("taken_at")):
        key = (row.animal["id"], row.kind, row.tumour_id, row.study_day)
        previous = latest.get(key)
        row.repeat_of = previous[1] if previous is not None else None
        assert row.pk is not None
        if previous is None or row.taken_at >= previous[0]:
            latest[key] = (row.taken_at, row.pk)


def _allocate_ids(count: int) -> list[int]:
    with connection.cursor() as cursor:
        # The sequence's name looked up once (OFFSET 0 keeps the subquery apart), not per id:
        # pg_get_serial_sequence() per row cost 20 ms of a batch of 5,000.
        cursor.execute(
            "SELECT nextval(s.seq) FROM (SELECT pg_get_serial_sequence('labnotes_measurement', "
            "'id')::regclass AS seq OFFSET 0) AS s CROSS JOIN generate_series(1, %s)",
            [count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _set_audit_context() -> None:
    """Set the audit context for the rest of the transaction: COPY cannot carry it itself."""
    tracker = pghistory.runtime._tracker  # the context pghistory.context() entered
    value = tracker.value
    metadata = json.dumps(value.metadata, cls=pghistory.config.json_encoder())
    with connection.cursor() as cursor:
        # ``pgtrigger.ignore`` set (to "ignore nothing"): pgtrigger's per-row check then reads
        # it instead of catching the error of an unset setting, which costs a subtransaction
        # per row (7x slower inserts, measured in bench/bench_ingest.py). No trigger is skipped.
        cursor.execute(
            "SELECT set_config('pghistory.context_id', %s, true), "
            "set_config('pghistory.context_metadata', %s, true), "
            "set_config('pgtrigger.ignore', '{}', true)",
            [str(value.id), metadata],
        )


_COLUMNS: list[Any] | None = None


def _measurement_columns() -> list[Any]:
    """The measurement table's columns we write (database defaults fill the others)."""
    global _COLUMNS
    if _COLUMNS is None:
        from django.db.models.expressions import DatabaseDefault

        chosen = []
        for model_field in Measurement._meta.concrete_fields:
            default = model_field.get_default() if not model_field.primary_key else None
            if isinstance(default, DatabaseDefault):
                continue
            chosen.append(model_field)
        _COLUMNS = chosen
    return _COLUMNS


#: COPY's text format escapes these characters in a field (as psycopg's ``write_row`` does):
#: an unescaped tab or newline would end the field or the row, a backslash starts an escape.
_COPY_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "\t": "\\t",
        "\n": "\\n",
        "\r": "\\r",
        "\b": "\\b",
        "\f": "\\f",
        "\v": "\\v",
    }
)
#: Rows written to the COPY at a time: PostgreSQL inserts each chunk while the next is built.
_COPY_CHUNK = 500


def _copy_text(value: Any) -> str:
    """``value`` as one field of COPY's text format, as psycopg's ``write_row`` writes it:
    ``None`` as ``\\N`` (NULL), booleans as ``t``/``f``, strings with backslash, tab, newline,
    carriage return, backspace, form feed and vertical tab escaped (so a string ``"\\N"``
    stays those two characters), times as ``str`` gives them (ISO 8601 with the offset),
    integers and decimals as ``str`` gives them."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, (int, Decimal, dt.datetime)):
        return str(value)
    raise TypeError(f"No COPY text format for {type(value).__name__}: {value!r}")


def _copy_rows(rows: list[_Row], *, recorded_by: User, now: dt.datetime, entry: str) -> None:
    """COPY the rows into the measurement table, as text built here: the fields the request
    shares are formatted once, each row's own ones per row (``write_row`` per row formatted
    every field of every row, ~7 µs a row)."""
    columns = _measurement_columns()
    base: dict[str, Any] = {}
    for model_field in columns:
        if model_field.primary_key:
            continue
        default = model_field.get_default()
        base[model_field.attname] = default
    base.update(
        {
            "recorded_by_id": recorded_by.pk,
            "received_at": now,
            "entry_method": entry,
            "row_version": 1,
            "voided_at": None,
            "void_reason": "",
            "transcription_id": None,
            "correction_of_id": None,
            "voided_by_id": None,
        }
    )
    shared = {name: _copy_text(value) for name, value in base.items()}
    late_before = now - checks.LATE_AFTER
    fields = operator.itemgetter(*[model_field.attname for model_field in columns])
    quote = connection.ops.quote_name
    column_list = ", ".join(quote(model_field.column) for model_field in columns)
    with connection.cursor() as cursor:
        raw_cursor = cursor.cursor
        with raw_cursor.copy(f"COPY labnotes_measurement ({column_list}) FROM STDIN") as copy:
            lines: list[str] = []
            for row in rows:
                if row.replay_of is not None:
                    continue
                record = shared.copy()
                for name, value in row.values.items():
                    record[name] = _copy_text(value)
                # The row's own fields, their types known: _copy_text's cases inlined.
                record["id"] = str(row.pk)
                record["kind"] = row.kind.translate(_COPY_ESCAPES)
                record["animal_id"] = str(row.animal["id"])
                record["tumour_id"] = "\\N" if row.tumour_id is None else str(row.tumour_id)
                record["operator_id"] = str(row.operator_id)
                record["instrument"] = row.instrument_text.translate(_COPY_ESCAPES)
                record["taken_at"] = str(row.taken_at)
                record["study_day"] = str(row.study_day)
                record["client_id"] = row.client_id.translate(_COPY_ESCAPES)
                record["is_late"] = "t" if row.taken_at < late_before else "f"
                record["repeat_of_id"] = "\\N" if row.repeat_of is None else str(row.repeat_of)
                lines.append("\t".join(fields(record)))
                if len(lines) == _COPY_CHUNK:
                    copy.write("\n".join(lines) + "\n")
                    lines.clear()
            if lines:
                copy.write("\n".join(lines) + "\n")


def _create_batch(batch: IngestBatch) -> IngestBatch:
    """Insert the unsaved ``batch`` as ``save()`` would, in one statement bound on the server:
    the request body (about 1 MB for 5,000 rows) goes as binary bytes and the ids as one array
    literal. The ORM binds parameters on the client, where the body became a 2 MB hex literal
    for the server to parse back (30-40 ms of a batch of 5,000 rows) and each id was
    converted in Python."""
    meta = IngestBatch._meta
    quote = connection.ops.quote_name
    columns: list[str] = []
    placeholders: list[str] = []
    params: list[Any] = []
    for model_field in meta.concrete_fields:
        if model_field.primary_key:
            continue
        value = model_field.pre_save(batch, add=True)  # received_at: auto_now_add
        columns.append(quote(model_field.column))
        if model_field.attname == "body":
            placeholders.append("%b")
            params.append(bytes(value))
        elif model_field.attname == "measurement_ids":
            placeholders.append("%s::bigint[]")
            params.append(_int_array(value))
        else:
            placeholders.append("%s")
            params.append(model_field.get_db_prep_save(value, connection))
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:  # server-side binding
        # Identifiers from the model's fields (quoted); every value is a parameter.
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join(placeholders)}) RETURNING {quote(meta.pk.column)}",
            params,
        )
        row = cursor.fetchone()
    assert row is not None
    batch.pk = row[0]
    batch._state.adding = False
    batch._state.db = connection.alias
    return batch


def ingest_measurements(
    *,
    run: StudyRun,
    items: Sequence[Any],
    submitted_by: User,
    token: DeviceToken | None,
    body: bytes,
    content_type: str,
    entry_method: str = EntryMethod.INSTRUMENT,
    evaluate_endpoints: bool = True,
    body_sha256: str | None = None,
) -> IngestResult:
    """Validate every row of ``items`` for ``run``; when all pass, write them in one transaction
    and return the batch, else raise :class:`IngestRefused` listing every bad row (nothing
    written). ``submitted_by`` is the token's owner (or the person posting); the audit context
    already names the token. Readings from instruments past calibration or without today's
    passed check are stored with a :class:`ReadingFlag` (or refused, as the lab sets).

    ``body_sha256``: the body's SHA-256 when the caller has it already (else computed).

    Humane endpoints are judged after the write on the latest new reading of each tumour and
    each animal's weight in the request (``evaluate_endpoints``), as ``record_measurement``
    judges each reading.
    """
    now = timezone.now()
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(phase: str) -> None:
        nonlocal clock
        moment = time.perf_counter()
        timings[phase] = timings.get(phase, 0.0) + moment - clock
        clock = moment

    validator = _Validator(run=run, items=items, submitted_by=submitted_by, token=token, now=now)
    rows = validator.validate()
    if validator.errors:
        raise IngestRefused(sorted(validator.errors, key=lambda e: e.index), len(items))
    lap("validate")
    with transaction.atomic(), audit_context(reason=None):
        ids = _allocate_ids(len(rows))
        for row, pk in zip(rows, ids, strict=True):
            row.pk = pk
        _link_replays_and_repeats(rows)
        lap("link")
        fresh = [row for row in rows if row.replay_of is None]
        _set_audit_context()
        try:
            with transaction.atomic():
                _copy_rows(fresh, recorded_by=submitted_by, now=now, entry=entry_method)
        except IntegrityError as error:
            # A concurrent request stored the same client_id first, or a rule the database
            # enforces was broken: refuse the whole request, naming the cause.
            raise ValidationError(
                {"items": f"The database refused the rows: {error}".splitlines()[0]}
            ) from None
        except DatabaseError as error:
            raise ValidationError(
                {"items": f"The database refused the rows: {error}".splitlines()[0]}
            ) from None
        flagged = [row for row in fresh if row.issues and row.instrument is not None]
        if flagged:
            ReadingFlag.objects.bulk_create(
                [
                    ReadingFlag(
                        measurement_id=cast(int, row.pk),
                        instrument=row.instrument,
                        issues=list(row.issues),
                    )
                    for row in flagged
                ]
            )
        measurement_ids = [row.replay_of if row.replay_of is not None else row.pk for row in rows]
        batch = _create_batch(
            IngestBatch(
                run=run,
                token=token,
                submitted_by=submitted_by,
                content_type=content_type[:100],
                body_sha256=body_sha256 or hashlib.sha256(body).hexdigest(),
                body=body,
                row_count=len(rows),
                written_count=len(fresh),
                replayed_count=len(rows) - len(fresh),
                flagged_count=len(flagged),
                measurement_ids=[pk for pk in measurement_ids if pk is not None],
            )
        )
        lap("write")
        if evaluate_endpoints and fresh:
            _evaluate_latest(run, fresh, entry=entry_method)
        lap("endpoints")
    # Leaving the block commits when it is the outermost one, and the deferred work (foreign
    # key checks, the audit hash chain sealing the transaction's events in one pass) runs
    # here. Under the API the idempotency record's transaction encloses this one and commits
    # after the answer is built: there this is a savepoint release, and the commit falls
    # outside these timings.
    lap("commit")
    return IngestResult(
        batch=batch,
        measurement_ids=[pk for pk in measurement_ids if pk is not None],
        replayed=[row.replay_of is not None for row in rows],
        flags=[
            {
                "index": row.index,
                "measurement": row.pk,
                "instrument": row.instrument_text,
                "issues": list(row.issues),
            }
            for row in flagged
        ],
        timings=timings,
    )


def _evaluate_latest(run: StudyRun, fresh: list[_Row], *, entry: str) -> None:
    """Judge the latest new reading of each tumour and each animal's weight in the request
    against the humane endpoints, in bulk (a few queries for all of them; readings that reach a
    limit or meet an open episode take the per-reading path that opens, confirms and alerts).

    The judged readings are the rows just written, rebuilt in memory with the values the COPY
    wrote (no second read of them); their animals are read once, with the request's run.
    """
    from labnotes.services.endpoint_status import evaluate_readings_in_bulk, welfare_limits

    latest: dict[tuple[int, str, int | None], _Row] = {}
    for row in fresh:
        key = (row.animal["id"], row.kind, row.tumour_id)
        current = latest.get(key)
        # Latest by (taken_at, index); the rows come in index order, so a later row taken at
        # the same time wins.
        if current is None or row.taken_at >= current.taken_at:
            latest[key] = row
    limits = welfare_limits(run.study)
    animals = Animal.objects.in_bulk({row.animal["id"] for row in latest.values()})
    model_fields = Measurement._meta.concrete_fields
    names = [model_field.attname for model_field in model_fields]
    defaults = {f.attname: f.get_default() for f in model_fields if not f.primary_key}
    readings: list[Measurement] = []
    for row in sorted(latest.values(), key=lambda r: (r.taken_at, cast(int, r.pk))):
        record = {
            **defaults,
            **row.values,
            "id": row.pk,
            "kind": row.kind,
            "animal_id": row.animal["id"],
            "tumour_id": row.tumour_id,
            "taken_at": row.taken_at,
            "study_day": row.study_day,
            "operator_id": row.operator_id,
            "entry_method": entry,
            "repeat_of_id": row.repeat_of,
            "client_id": row.client_id,
            "instrument": row.instrument_text,
            "voided_at": None,
        }
        # As loaded from the database (stored by the COPY above): from_db's positional
        # construction is several times cheaper than keyword arguments.
        reading = Measurement.from_db(connection.alias, names, [record[name] for name in names])
        animal = animals[row.animal["id"]]
        animal.run = run
        reading.animal = animal
        readings.append(reading)
    evaluate_readings_in_bulk(readings, limits=limits)
