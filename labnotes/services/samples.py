"""Sample records: what was taken from which animal (and tumour), when — against a named dose
where the protocol times it so —, how much, under which barcode, and where it is stored."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from labnotes.documents.sample_labels import SampleLabel
from labnotes.models import (
    Animal,
    Necropsy,
    Sample,
    SampleTissue,
    Task,
    TaskKind,
    TaskStatus,
    Tumour,
)
from labnotes.models.dosing import DoseOutcome, DoseRecord
from labnotes.models.samples import TUMOUR_TISSUES
from labnotes.selectors import blinding_for
from labnotes.services.common import RECORDERS, StaleWrite
from labnotes.services.measurements import CLOCK_TOLERANCE
from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import (
    DEFAULT_LABEL_FIELDS,
    LabelField,
    SampleCollectionParameters,
)
from planner.models import Lab, ProcedureRole, StudyProcedure
from planner.services.permissions import require_role

GENERATED_PREFIX = "VS-"
_GENERATED = re.compile(r"^VS-(\d{6,})$")
BARCODE_PATTERN = re.compile(r"^[A-Za-z0-9._\-/]{1,64}$")
#: Default window around a nominal post-dose time: ±10 % of the offset, at least ±5 minutes
#: (a common bioanalytical convention for timed PK/PD samples; the record keeps the window used).
DEFAULT_WINDOW_FRACTION = Decimal("0.10")
MINIMUM_WINDOW_MINUTES = 5
_TENTH = Decimal("0.1")
_HUNDREDTH = Decimal("0.01")
#: Fields a correction after the fact may change (always with a reason).
CORRECTABLE_FIELDS = (
    "collected_at",
    "tissue_detail",
    "volume_ul",
    "mass_mg",
    "freezer",
    "rack",
    "box",
    "position",
    "notes",
)


@dataclass(frozen=True)
class DoseTiming:
    """How far after its reference dose a sample was taken, against the nominal time."""

    actual_minutes: Decimal
    nominal_minutes: Decimal
    window_minutes: int
    outside_window: bool

    @property
    def deviation_minutes(self) -> Decimal:
        return self.actual_minutes - self.nominal_minutes


def default_window_minutes(nominal_hours_after_dose: Decimal) -> int:
    """±10 % of the nominal offset, rounded to whole minutes, at least 5 minutes."""
    minutes = abs(nominal_hours_after_dose) * 60 * DEFAULT_WINDOW_FRACTION
    return max(MINIMUM_WINDOW_MINUTES, int(minutes.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def dose_timing(
    *,
    dose_given_at: dt.datetime,
    collected_at: dt.datetime,
    nominal_hours_after_dose: Decimal,
    window_minutes: int,
) -> DoseTiming:
    """The actual offset (minutes, 0.1 min) of ``collected_at`` after ``dose_given_at`` and
    whether it lies outside ``nominal ± window`` (the window's edges count as inside)."""
    seconds = Decimal(str((collected_at - dose_given_at).total_seconds()))
    actual = (seconds / 60).quantize(_TENTH, rounding=ROUND_HALF_UP)
    nominal = nominal_hours_after_dose * 60
    return DoseTiming(
        actual_minutes=actual,
        nominal_minutes=nominal,
        window_minutes=window_minutes,
        outside_window=abs(actual - nominal) > window_minutes,
    )


def _amount(name: str, value: object, *, unit: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).replace(",", ".").strip()).quantize(
            _TENTH, rounding=ROUND_HALF_UP
        )
    except InvalidOperation:
        raise ValidationError({name: f"'{value}' is not a number."}) from None
    if not number.is_finite() or number <= 0:
        raise ValidationError({name: f"{value} {unit}: the amount must be above 0."})
    if number >= Decimal("10000000"):
        raise ValidationError({name: f"{value} {unit} is implausibly large."})
    return number


def _hours(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        hours = Decimal(str(value).replace(",", ".").strip()).quantize(
            _HUNDREDTH, rounding=ROUND_HALF_UP
        )
    except InvalidOperation:
        raise ValidationError(
            {"nominal_hours_after_dose": f"'{value}' is not a number of hours."}
        ) from None
    if not hours.is_finite() or abs(hours) > 24 * 60:
        raise ValidationError(
            {"nominal_hours_after_dose": f"{value} h lies more than 60 days from the dose."}
        )
    return hours


def _check_time(name: str, value: dt.datetime) -> None:
    if timezone.is_naive(value):
        raise ValidationError({name: "The time must carry its time zone."})
    if value > timezone.now() + CLOCK_TOLERANCE:
        raise ValidationError({name: "This time lies in the future."})


def clean_barcode(value: str) -> str:
    """A scanned barcode as stored: surrounding blanks (and a scanner's CR/LF) removed."""
    barcode = (value or "").strip()
    if barcode and not BARCODE_PATTERN.match(barcode):
        raise ValidationError(
            {
                "barcode": f"'{barcode}' is not a barcode we can print and scan: use up to 64 "
                "letters, digits and . _ - / without spaces."
            }
        )
    return barcode


def _lock_barcodes(lab: Lab) -> None:
    """Serialize barcode generation per lab (until the transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"sample-barcode:{lab.pk}"]
        )


def next_generated_barcode(lab: Lab) -> str:
    """``VS-`` and the next number after the highest ``VS-nnnnnn`` in the lab (scanned ones of
    that shape included, so a generated code never collides with a scanned one)."""
    numbers = [
        int(match.group(1))
        for barcode in Sample.objects.filter(lab=lab, barcode__startswith=GENERATED_PREFIX)
        .values_list("barcode", flat=True)
        .iterator()
        if (match := _GENERATED.match(barcode))
    ]
    return f"{GENERATED_PREFIX}{max(numbers, default=0) + 1:06d}"


def _barcode_taken(lab: Lab, barcode: str) -> ValidationError:
    other = Sample.objects.filter(lab=lab, barcode=barcode).select_related("animal").first()
    where = (
        f" (the {other.get_tissue_display().lower()} of animal {other.animal.tag})" if other else ""
    )
    return ValidationError(
        {"barcode": f"Barcode {barcode} is already used by another sample in this lab{where}."}
    )


def _resolve_tumour(animal: Animal, tissue: str, tumour: Tumour | None) -> Tumour | None:
    if tumour is not None:
        if tumour.animal_id != animal.pk:
            raise ValidationError({"tumour": f"That tumour is not one of animal {animal.tag}'s."})
        if tissue not in TUMOUR_TISSUES:
            raise ValidationError(
                {"tumour": f"A {SampleTissue(tissue).label.lower()} sample has no tumour."}
            )
        return tumour
    if tissue in TUMOUR_TISSUES:
        tumours = list(animal.tumours.all())
        if len(tumours) == 1:
            return tumours[0]
        if not tumours:
            raise ValidationError({"tumour": f"Animal {animal.tag} has no tumour recorded."})
        sites = ", ".join(t.site for t in tumours)
        raise ValidationError(
            {"tumour": f"Animal {animal.tag} has {len(tumours)} tumours ({sites}): say which."}
        )
    return None


def procedure_tissue(procedure: StudyProcedure) -> str | None:
    try:
        parameters = SampleCollectionParameters.from_dict(procedure.protocol_version.parameters)
    except ParameterErrors:
        return None
    return parameters.tissue.value


def _check_procedure(animal: Animal, tissue: str, procedure: StudyProcedure) -> None:
    if procedure.study_id != animal.run.study_id or procedure.role != (
        ProcedureRole.SAMPLE_COLLECTION
    ):
        raise ValidationError(
            {"procedure": "Choose one of this study's sample-collection procedures."}
        )
    planned = procedure_tissue(procedure)
    if planned is not None and planned != tissue:
        raise ValidationError(
            {
                "tissue": f"The procedure '{procedure.protocol_version}' collects {planned}, "
                f"not {tissue}."
            }
        )


def _check_task(animal: Animal, task: Task) -> None:
    if task.animal_id != animal.pk:
        raise ValidationError({"task": f"That task is not animal {animal.tag}'s."})
    if task.kind not in (TaskKind.SAMPLE, TaskKind.TAKEDOWN):
        raise ValidationError({"task": "Only a sample-collection or takedown task fits here."})


def _check_dose(animal: Animal, dose: DoseRecord, recorder: User) -> dt.datetime:
    if not blinding_for(recorder, animal.run.study).sees_dosing:
        raise ValidationError(
            {"dose": "Only members who may see dosing can time a sample against a dose."}
        )
    if dose.animal_id != animal.pk:
        raise ValidationError({"dose": f"That dose was not given to animal {animal.tag}."})
    if dose.voided_at is not None or dose.outcome != DoseOutcome.GIVEN or dose.given_at is None:
        raise ValidationError(
            {"dose": "That dose is not recorded as given: a sample cannot be timed against it."}
        )
    return dose.given_at


def record_sample(
    *,
    animal: Animal,
    tissue: str,
    collected_at: dt.datetime,
    collected_by: User,
    recorded_by: User | None = None,
    tumour: Tumour | None = None,
    tissue_detail: str = "",
    procedure: StudyProcedure | None = None,
    task: Task | None = None,
    necropsy: Necropsy | None = None,
    dose: DoseRecord | None = None,
    nominal_hours_after_dose: Decimal | float | str | None = None,
    window_minutes: int | None = None,
    volume_ul: Decimal | float | str | None = None,
    mass_mg: Decimal | float | str | None = None,
    barcode: str = "",
    freezer: str = "",
    rack: str = "",
    box: str = "",
    position: str = "",
    notes: str = "",
) -> Sample:
    """Record one sample of ``animal``.

    ``barcode``: the scanned one (unique in the lab), or empty to generate the next
    ``VS-nnnnnn``. A tumour sample needs its tumour (taken as the animal's only one when it has
    one). A sample timed against a dose names the ``dose`` (given, to this animal) and
    ``nominal_hours_after_dose`` (negative before it); ``window_minutes`` defaults to
    :func:`default_window_minutes`, and the sample is flagged ``outside_window`` when the actual
    offset misses it — recorded, never refused, since the material exists either way. A due
    sample-collection ``task`` of the animal is marked done (a takedown task is only noted).
    Refused: future times, amounts not above 0, a barcode already used in the lab.
    """
    recorder = recorded_by or collected_by
    run = animal.run
    lab = run.study.lab
    require_role(recorder, lab, RECORDERS, action="record samples")
    if recorder != collected_by:
        require_role(collected_by, lab, RECORDERS, action="collect samples")
    if tissue not in SampleTissue.values:
        raise ValidationError({"tissue": f"'{tissue}' is not one of the tissues we know."})
    if tissue == SampleTissue.OTHER and not tissue_detail.strip():
        raise ValidationError({"tissue_detail": "Say what tissue 'other' is."})
    _check_time("collected_at", collected_at)
    tumour = _resolve_tumour(animal, tissue, tumour)
    if task is not None:
        _check_task(animal, task)
        if procedure is None and task.kind == TaskKind.SAMPLE:
            procedure = task.procedure
    if procedure is not None:
        _check_procedure(animal, tissue, procedure)
    if necropsy is not None and (necropsy.animal_id != animal.pk or necropsy.is_voided):
        raise ValidationError({"necropsy": f"That necropsy is not animal {animal.tag}'s."})
    hours = _hours(nominal_hours_after_dose)
    timing: DoseTiming | None = None
    if (dose is None) != (hours is None):
        raise ValidationError(
            {
                "nominal_hours_after_dose": "A sample timed against a dose needs both the dose "
                "and the nominal time after it."
            }
        )
    if dose is not None and hours is not None:
        given_at = _check_dose(animal, dose, recorder)
        if window_minutes is not None and not 0 <= int(window_minutes) <= 24 * 60:
            raise ValidationError({"window_minutes": "The window is 0 to 1440 minutes."})
        window = (
            int(window_minutes) if window_minutes is not None else default_window_minutes(hours)
        )
        timing = dose_timing(
            dose_given_at=given_at,
            collected_at=collected_at,
            nominal_hours_after_dose=hours,
            window_minutes=window,
        )
    scanned = clean_barcode(barcode)
    with transaction.atomic(), audited_change(reason=None, required=False):
        if scanned:
            code, generated = scanned, False
        else:
            _lock_barcodes(lab)
            code, generated = next_generated_barcode(lab), True
        if Sample.objects.filter(lab=lab, barcode=code).exists():
            raise _barcode_taken(lab, code)
        sample = Sample(
            lab=lab,
            animal=animal,
            tumour=tumour,
            tissue=tissue,
            tissue_detail=tissue_detail.strip(),
            procedure=procedure,
            task=task,
            necropsy=necropsy,
            collected_at=collected_at,
            study_day=lab.study_day(run.day0, collected_at),
            dose=dose,
            dose_given_at=dose.given_at if dose is not None else None,
            nominal_hours_after_dose=hours,
            window_minutes=timing.window_minutes if timing else None,
            actual_minutes_after_dose=timing.actual_minutes if timing else None,
            outside_window=timing.outside_window if timing else False,
            volume_ul=_amount("volume_ul", volume_ul, unit="µL"),
            mass_mg=_amount("mass_mg", mass_mg, unit="mg"),
            barcode=code,
            barcode_generated=generated,
            freezer=freezer.strip(),
            rack=rack.strip(),
            box=box.strip(),
            position=position.strip(),
            notes=notes.strip(),
            collected_by=collected_by,
            recorded_by=recorder,
        )
        sample.full_clean(exclude=["lab", "barcode"])
        try:
            with transaction.atomic():
                sample.save()
        except IntegrityError as error:
            if "sample_barcode_unique_in_lab" in str(error):
                raise _barcode_taken(lab, code) from None
            raise
        if task is not None and task.kind == TaskKind.SAMPLE and task.status == TaskStatus.DUE:
            # The task is the plan; the sample is what happened: one marks the other done. A
            # takedown task is closed by the animal's endpoint record, not by its samples.
            Task.objects.filter(pk=task.pk, status=TaskStatus.DUE).update(
                status=TaskStatus.DONE,
                completed_by=collected_by,
                completed_at=timezone.now(),
                row_version=F("row_version") + 1,
            )
    return sample


def correct_sample(
    *,
    sample: Sample,
    changed_by: User,
    reason: str,
    expected_version: int | None = None,
    **changes: Any,
) -> Sample:
    """Change a recorded sample with a reason: its storage place (the usual case: a box moved to
    another freezer), amounts, notes or collection time (the dose timing and window flag are
    recomputed). Tissue, animal, dose and barcode are not corrected: void and record anew."""
    unknown = sorted(set(changes) - set(CORRECTABLE_FIELDS))
    if unknown:
        raise ValidationError(
            {
                name: "This cannot be corrected: void the sample and record it again."
                for name in unknown
            }
        )
    require_role(changed_by, sample.lab, RECORDERS, action="correct samples")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = (
            Sample.objects.select_for_update()
            .select_related("lab", "animal__run")
            .get(pk=sample.pk)
        )
        if expected_version is not None and current.row_version != expected_version:
            raise StaleWrite(current)
        if current.is_voided:
            raise ValidationError("This sample is voided: it cannot be changed.")
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name in ("volume_ul", "mass_mg"):
                values[name] = _amount(name, value, unit="µL" if name == "volume_ul" else "mg")
            elif name == "collected_at":
                _check_time(name, value)
                values[name] = value
                values["study_day"] = current.lab.study_day(current.animal.run.day0, value)
                if current.dose_given_at is not None:
                    assert current.nominal_hours_after_dose is not None
                    assert current.window_minutes is not None
                    timing = dose_timing(
                        dose_given_at=current.dose_given_at,
                        collected_at=value,
                        nominal_hours_after_dose=current.nominal_hours_after_dose,
                        window_minutes=current.window_minutes,
                    )
                    values["actual_minutes_after_dose"] = timing.actual_minutes
                    values["outside_window"] = timing.outside_window
            else:
                values[name] = (value or "").strip()
        for name, value in values.items():
            setattr(current, name, value)
        current.full_clean(exclude=["lab", "barcode"])
        Sample.objects.filter(pk=current.pk).update(**values, row_version=F("row_version") + 1)
        current.refresh_from_db()
    return current


def void_sample(
    *, sample: Sample, voided_by: User, reason: str, expected_version: int | None = None
) -> Sample:
    """Void a sample record (recorded in error). It stays, marked void; its barcode stays taken."""
    require_role(voided_by, sample.lab, RECORDERS, action="void samples")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = Sample.objects.select_for_update().get(pk=sample.pk)
        if expected_version is not None and current.row_version != expected_version:
            raise StaleWrite(current)
        if current.is_voided:
            raise ValidationError("This sample is voided already.")
        Sample.objects.filter(pk=current.pk).update(
            voided_at=timezone.now(),
            voided_by=voided_by,
            void_reason=reason.strip(),
            row_version=F("row_version") + 1,
        )
        current.refresh_from_db()
    return current


# -- labels -------------------------------------------------------------------------------------


def label_fields_for(sample: Sample) -> tuple[LabelField, ...]:
    """The protocol's label fields for the sample's procedure (the defaults without one)."""
    if sample.procedure is not None:
        try:
            return SampleCollectionParameters.from_dict(
                sample.procedure.protocol_version.parameters
            ).label_fields
        except ParameterErrors:
            pass
    return DEFAULT_LABEL_FIELDS


def build_sample_labels(samples: Sequence[Sample]) -> list[SampleLabel]:
    """Each sample's label, with the lines its protocol asks for. An arm appears only as its
    blinded code (labels travel to freezers and other labs)."""
    labels: list[SampleLabel] = []
    for sample in samples:
        animal = sample.animal
        run = animal.run
        tissue = sample.get_tissue_display()
        if sample.tumour is not None:
            tissue = f"{tissue}, {sample.tumour.site}"
        elif sample.tissue_detail:
            tissue = f"{tissue}, {sample.tissue_detail}"
        values: dict[LabelField, tuple[str, str]] = {
            LabelField.STUDY_CODE: ("Study", f"{run.study.code} / {run.code}"),
            LabelField.ANIMAL_TAG: ("Animal", animal.tag),
            LabelField.ARM_CODE: ("Arm", animal.arm.code if animal.arm is not None else "—"),
            LabelField.STUDY_DAY: ("Day", str(sample.study_day)),
            LabelField.TISSUE: ("Tissue", tissue),
            LabelField.COLLECTION_DATE: (
                "Taken",
                run.study.lab.local_date(sample.collected_at).isoformat(),
            ),
        }
        lines = tuple(values[field] for field in label_fields_for(sample) if field in values)
        labels.append(SampleLabel(barcode=sample.barcode, lines=lines))
    return labels
