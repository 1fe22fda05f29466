"""The measurement record: caliper axes per tumour (volume by the protocol's formula) and body
weight per animal. Staging, randomization and the entry grid all write through here."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from labnotes.models import (
    Animal,
    AnimalStatus,
    EntryMethod,
    Measurement,
    MeasurementKind,
    StudyRun,
    Tumour,
)
from labnotes.services.common import RECORDERS, StaleWrite
from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import CaliperMeasurementParameters, VolumeFormula
from planner.models import ProcedureRole, ProtocolVersion
from planner.services.permissions import require_role

#: Readings up to this far ahead of the server clock are accepted (device clocks drift).
CLOCK_TOLERANCE = dt.timedelta(minutes=2)
_HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class CaliperFormula:
    formula: VolumeFormula
    protocol_version: ProtocolVersion | None

    @property
    def needs_height(self) -> bool:
        return self.formula is VolumeFormula.ELLIPSOID


def caliper_formula(run: StudyRun) -> CaliperFormula:
    """The volume formula of the design's caliper protocol (L·W²/2 when the design has none)."""
    procedure = (
        run.study.procedures.filter(role=ProcedureRole.CALIPER_MEASUREMENT)
        .select_related("protocol_version")
        .first()
    )
    if procedure is None:
        return CaliperFormula(VolumeFormula.HALF_LENGTH_WIDTH_SQUARED, None)
    try:
        parameters = CaliperMeasurementParameters.from_dict(procedure.protocol_version.parameters)
    except ParameterErrors:
        raise ValidationError(
            "The design's caliper protocol has invalid parameters; fix the protocol first."
        ) from None
    return CaliperFormula(parameters.formula, procedure.protocol_version)


def tumour_volume_mm3(
    formula: VolumeFormula,
    length_mm: Decimal,
    width_mm: Decimal,
    height_mm: Decimal | None = None,
) -> Decimal:
    """Tumour volume in mm³ from caliper axes in mm, L the longer axis, rounded to 0.01 mm³.

    ``half_length_width_squared``: V = L·W²/2 (Tomayko & Reynolds 1989, the field's default);
    ``ellipsoid``: V = π/6·L·W·H; ``ellipsoid_length_width``: V = π/6·(L·W)^(3/2)
    (Feldman et al. 2009).
    """
    length, width = float(length_mm), float(width_mm)
    if formula is VolumeFormula.HALF_LENGTH_WIDTH_SQUARED:
        volume = length * width * width / 2
    elif formula is VolumeFormula.ELLIPSOID:
        if height_mm is None:
            raise ValidationError({"height_mm": "The ellipsoid formula needs the height."})
        volume = math.pi / 6 * length * width * float(height_mm)
    else:
        volume = math.pi / 6 * (length * width) ** 1.5
    return Decimal(repr(volume)).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)


def _decimal(name: str, value: object, *, maximum: Decimal) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value)).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValidationError({name: f"'{value}' is not a number."}) from None
    if not number.is_finite() or number < 0:
        raise ValidationError({name: f"{value} must be a number of at least 0."})
    if number > maximum:
        raise ValidationError({name: f"{value} is implausibly large (more than {maximum})."})
    return number


def record_measurement(
    *,
    taken_at: dt.datetime,
    operator: User,
    tumour: Tumour | None = None,
    animal: Animal | None = None,
    length_mm: Decimal | float | str | None = None,
    width_mm: Decimal | float | str | None = None,
    height_mm: Decimal | float | str | None = None,
    weight_g: Decimal | float | str | None = None,
    instrument: str = "",
    reason: str | None = None,
    client_id: str = "",
    entry_method: str = EntryMethod.FORM,
    recorded_by: User | None = None,
) -> Measurement:
    """Record a caliper reading of ``tumour`` (length, width[, height] in mm) or a body weight
    of ``animal`` (g).

    The volume comes from the design's caliper formula, with L the longer axis: when the width
    read is longer than the length the two are swapped, as the formulas assume. ``study_day``
    is the lab-local date of ``taken_at`` minus the run's day 0, so a reading at 00:30 local
    time belongs to that local day whatever UTC says. Refused: times in the future, readings of
    an animal that left the study, and a second reading of the same tumour (or weight) on the
    same study day without a ``reason``. A ``client_id`` seen before for the animal returns the
    stored reading instead of writing twice (an instrument resend).
    """
    if (tumour is None) == (animal is None):
        raise ValidationError("Give either a tumour (caliper) or an animal (weight), not both.")
    if timezone.is_naive(taken_at):
        raise ValidationError({"taken_at": "The time must carry its time zone."})
    recorder = recorded_by or operator
    subject = tumour.animal if tumour is not None else animal
    assert subject is not None
    run = subject.run
    lab = run.study.lab
    require_role(recorder, lab, RECORDERS, action="record measurements")
    if recorder != operator:
        require_role(operator, lab, RECORDERS, action="take measurements")
    client_id = (client_id or "").strip()
    if client_id:
        existing = Measurement.objects.filter(animal=subject, client_id=client_id).first()
        if existing is not None:
            return existing
    now = timezone.now()
    if taken_at > now + CLOCK_TOLERANCE:
        raise ValidationError({"taken_at": "This time lies in the future."})
    if subject.status in (AnimalStatus.TRANSFERRED, AnimalStatus.EXCLUDED, AnimalStatus.FOUND_DEAD):
        raise ValidationError(
            f"Animal {subject.tag} is {subject.get_status_display().lower()}: no new readings."
        )
    study_day = lab.study_day(run.day0, taken_at)
    if tumour is not None:
        if weight_g not in (None, ""):
            raise ValidationError({"weight_g": "A weight belongs to the animal, not a tumour."})
        length = _decimal("length_mm", length_mm, maximum=Decimal(100))
        width = _decimal("width_mm", width_mm, maximum=Decimal(100))
        height = _decimal("height_mm", height_mm, maximum=Decimal(100))
        missing = {
            name: "Required for a caliper reading."
            for name, value in (("length_mm", length), ("width_mm", width))
            if value is None
        }
        if missing:
            raise ValidationError(missing)
        assert length is not None and width is not None
        if width > length:
            length, width = width, length
        formula = caliper_formula(run)
        if not formula.needs_height and height is not None:
            raise ValidationError(
                {"height_mm": f"The formula '{formula.formula.value}' uses no height."}
            )
        values = {
            "kind": MeasurementKind.CALIPER,
            "tumour": tumour,
            "length_mm": length,
            "width_mm": width,
            "height_mm": height,
            "volume_mm3": tumour_volume_mm3(formula.formula, length, width, height),
            "formula": formula.formula.value,
            "formula_protocol_version": formula.protocol_version,
        }
        same_day = Measurement.objects.filter(tumour=tumour, study_day=study_day)
    else:
        if any(value not in (None, "") for value in (length_mm, width_mm, height_mm)):
            raise ValidationError("Caliper axes belong to a tumour, not the animal.")
        weight = _decimal("weight_g", weight_g, maximum=Decimal(100))
        if weight is None or weight == 0:
            raise ValidationError({"weight_g": "A weight above 0 g is required."})
        values = {"kind": MeasurementKind.WEIGHT, "weight_g": weight}
        same_day = Measurement.objects.filter(
            animal=subject, kind=MeasurementKind.WEIGHT, study_day=study_day
        )
    repeat = same_day.filter(voided_at__isnull=True).exists()
    with transaction.atomic(), audited_change(reason=reason, required=repeat):
        measurement = Measurement(
            animal=subject,
            operator=operator,
            recorded_by=recorder,
            instrument=instrument.strip(),
            taken_at=taken_at,
            study_day=study_day,
            entry_method=entry_method,
            client_id=client_id,
            **values,
        )
        measurement.full_clean(exclude=["client_id"] if client_id else None)
        try:
            with transaction.atomic():
                measurement.save()
        except IntegrityError:
            existing = Measurement.objects.filter(animal=subject, client_id=client_id).first()
            if client_id and existing is not None:
                return existing
            raise
    return measurement


def void_measurement(
    *,
    measurement: Measurement,
    voided_by: User,
    reason: str,
    expected_version: int | None = None,
) -> Measurement:
    """Void a reading with a reason. It stays in the record (and the audit trail), marked void."""
    require_role(voided_by, measurement.animal.run.study.lab, RECORDERS, action="void readings")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = Measurement.objects.select_for_update().get(pk=measurement.pk)
        if expected_version is not None and current.row_version != expected_version:
            raise StaleWrite(current)
        if current.voided_at is not None:
            raise ValidationError("This reading is voided already.")
        Measurement.objects.filter(pk=current.pk).update(
            voided_at=timezone.now(),
            voided_by=voided_by,
            void_reason=reason.strip(),
            row_version=F("row_version") + 1,
        )
        current.refresh_from_db()
    return current
