"""The measurement record: caliper axes per tumour (volume by the protocol's formula) and body
weight per animal. Staging, randomization, the entry grid, the API and instruments all write
through here.

Vocabulary (``labnotes.models.measurements``): a reading is a value or a code (``NP`` volume 0
flagged, ``NM`` / ``ND`` with a reason); a same-day second reading is a *repeat* (both stay,
:func:`counted_readings` picks the last or the mean as the protocol says); a *correction*
voids the reading it corrects (kept, with the reason) and stores the new value; the grid's
first caliper axis waits as a :class:`PendingAxis` until the other arrives
(:func:`save_grid_cell`, contract in ``labnotes/capture/GRID.md``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from labnotes.capture import checks
from labnotes.capture.parsing import (
    EntryConfig,
    PlausibleRange,
)
from labnotes.models import (
    Animal,
    AnimalStatus,
    CaptureSettings,
    EntryMethod,
    GridOrder,
    Measurement,
    MeasurementCode,
    MeasurementKind,
    RepeatPolicy,
    StudyRun,
    Tumour,
)
from labnotes.services.common import RECORDERS, StaleWrite
from labnotes.services.endpoint_status import (
    WelfareLimits,
    evaluate_after_reading,
    welfare_limits_from,
)
from labnotes.services.welfare import reevaluate_episodes_after_void
from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import (
    BodyWeightParameters,
    CaliperMeasurementParameters,
    HumaneEndpoints,
    VolumeFormula,
    WeightBaseline,
)
from planner.models import (
    Lab,
    Membership,
    ProcedureRole,
    ProtocolVersion,
    StudyProcedure,
)
from planner.services.permissions import require_role

#: Readings up to this far ahead of the server clock are accepted (device clocks drift).
CLOCK_TOLERANCE = checks.FUTURE_TOLERANCE
_HUNDREDTH = Decimal("0.01")
AXES: tuple[str, ...] = ("length", "width", "height")
#: One-key correction reasons of the grid (key, code, label); GRID.md's defaults.
CORRECTION_REASONS: tuple[tuple[str, str, str], ...] = (
    ("1", "typo", "Typo"),
    ("2", "re-measured", "Re-measured"),
    ("3", "wrong-animal", "Wrong animal"),
)
_REASON_TEXT = {code: label for _, code, label in CORRECTION_REASONS}


# -- the rules a run's readings follow ----------------------------------------------------------


@dataclass(frozen=True)
class CaliperFormula:
    formula: VolumeFormula
    protocol_version: ProtocolVersion | None
    protocol_version_id: int | None = None

    def __post_init__(self) -> None:
        if self.protocol_version is not None and self.protocol_version_id is None:
            object.__setattr__(self, "protocol_version_id", self.protocol_version.pk)

    @property
    def needs_height(self) -> bool:
        return self.formula is VolumeFormula.ELLIPSOID

    @property
    def axes(self) -> tuple[str, ...]:
        return tuple(axis.value for axis in self.formula.axes)


@dataclass(frozen=True)
class CaptureRules:
    """Everything a reading of one run is checked against, read once per request.

    From the design: the caliper protocol (formula, axis order, and — when the protocol states
    them — ``grid_order`` and ``repeat_policy``), the body-weight protocol (baseline, tumour
    correction) and the humane endpoints (the strictest of the ethics protocol's, the design's
    and its humane-endpoint protocol's limits). From the lab's :class:`CaptureSettings`: tag
    recognition, plausible ranges, the trend factor and the defaults for order and repeats.
    """

    formula: CaliperFormula
    axis_order: tuple[str, ...]
    entry: EntryConfig
    grid_order: str
    repeat_policy: checks.RepeatPolicy
    trend_max_fold_per_day: float
    limits: checks.EndpointLimits
    weight_baseline: WeightBaseline
    tumour_corrected: bool
    #: The endpoint checks' limits (``labnotes.services.endpoint_status``), when read with
    #: the rules (:func:`rules_for_run`); ``None``: read on each save.
    welfare: WelfareLimits | None = None


def _entry_config(settings: CaptureSettings | None) -> EntryConfig:
    if settings is None:
        return EntryConfig()
    axis = PlausibleRange(settings.axis_min_mm, settings.axis_max_mm)
    return EntryConfig(
        ranges={
            "length": axis,
            "width": axis,
            "height": axis,
            "weight": PlausibleRange(settings.weight_min_g, settings.weight_max_g),
        },
        tag_prefix=settings.tag_prefix,
        tag_suffix=settings.tag_suffix,
        tag_pattern=settings.tag_pattern,
    )


def _strictest(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return min(present) if present else None


def _limits(sources: Iterable[object]) -> checks.EndpointLimits:
    found: list[HumaneEndpoints] = []
    for data in sources:
        if isinstance(data, dict) and data:
            try:
                found.append(HumaneEndpoints.from_dict(data))
            except (ParameterErrors, TypeError, ValueError):
                continue
    if not found:
        found = [HumaneEndpoints()]
    return checks.EndpointLimits(
        max_volume_mm3=_strictest(limits.max_volume_mm3 for limits in found),
        max_total_volume_mm3=_strictest(limits.max_total_volume_mm3 for limits in found),
        max_diameter_mm=_strictest(limits.max_diameter_mm for limits in found),
        max_weight_loss_percent=_strictest(limits.max_weight_loss_percent for limits in found),
    )


def rules_from(
    *,
    lab_settings: CaptureSettings | None,
    caliper_version_id: int | None,
    caliper_parameters: Mapping[str, Any] | None,
    body_weight_parameters: Mapping[str, Any] | None,
    endpoint_sources: Sequence[object],
) -> CaptureRules:
    """:class:`CaptureRules` from already-loaded parts (no query)."""
    formula = CaliperFormula(VolumeFormula.HALF_LENGTH_WIDTH_SQUARED, None)
    axis_order: tuple[str, ...] = ("length", "width")
    grid_order = lab_settings.grid_order if lab_settings else GridOrder.ROW
    policy = lab_settings.repeat_policy if lab_settings else RepeatPolicy.LAST
    if caliper_parameters is not None:
        try:
            caliper = CaliperMeasurementParameters.from_dict(caliper_parameters)
        except ParameterErrors:
            raise ValidationError(
                "The design's caliper protocol has invalid parameters; fix the protocol first."
            ) from None
        formula = CaliperFormula(caliper.formula, None, caliper_version_id)
        axis_order = tuple(axis.value for axis in caliper.entry_order)
        # The planner's caliper parameters may state these; the lab's settings are the default.
        grid_order = str(getattr(caliper, "grid_order", None) or grid_order)
        policy = str(getattr(caliper, "repeat_policy", None) or policy)
    baseline, corrected = WeightBaseline.RANDOMIZATION, False
    if body_weight_parameters is not None:
        try:
            weight = BodyWeightParameters.from_dict(body_weight_parameters)
            baseline, corrected = weight.baseline, weight.tumour_corrected
        except ParameterErrors:
            pass
    return CaptureRules(
        formula=formula,
        axis_order=axis_order,
        entry=_entry_config(lab_settings),
        grid_order=str(grid_order),
        repeat_policy=checks.RepeatPolicy(str(policy)),
        trend_max_fold_per_day=float(lab_settings.trend_max_fold_per_day) if lab_settings else 1.5,
        limits=_limits(endpoint_sources),
        weight_baseline=baseline,
        tumour_corrected=corrected,
    )


def _procedure_subquery(role: str, value: str) -> Subquery:
    return Subquery(
        StudyProcedure.objects.filter(study=OuterRef("study"), role=role)
        .order_by("pk")
        .values(value)[:1]
    )


def annotate_capture(runs: Any, user: User | None = None) -> Any:
    """``runs`` with what :func:`rules_for_run` needs, in the same query: the lab's capture
    settings, the ethics protocol and the caliper, body-weight and humane-endpoint protocol
    parameters (and the user's role in the lab when ``user`` is given)."""
    runs = runs.select_related("study__lab__capture_settings", "study__ethics_protocol").annotate(
        caliper_version_id=_procedure_subquery(
            ProcedureRole.CALIPER_MEASUREMENT, "protocol_version"
        ),
        caliper_parameters=_procedure_subquery(
            ProcedureRole.CALIPER_MEASUREMENT, "protocol_version__parameters"
        ),
        body_weight_parameters=_procedure_subquery(
            ProcedureRole.BODY_WEIGHT, "protocol_version__parameters"
        ),
        endpoint_parameters=_procedure_subquery(
            ProcedureRole.HUMANE_ENDPOINTS, "protocol_version__parameters"
        ),
        observation_version_id=_procedure_subquery(
            ProcedureRole.CLINICAL_OBSERVATION, "protocol_version"
        ),
        observation_parameters=_procedure_subquery(
            ProcedureRole.CLINICAL_OBSERVATION, "protocol_version__parameters"
        ),
    )
    if user is not None:
        runs = runs.annotate(
            member_role=Subquery(
                Membership.objects.filter(lab=OuterRef("study__lab"), user=user).values("role")[:1]
            )
        )
    return runs


def _lab_settings(lab: Lab) -> CaptureSettings | None:
    try:
        return lab.capture_settings
    except CaptureSettings.DoesNotExist:
        return None


def rules_for_run(run: StudyRun) -> CaptureRules:
    """The run's :class:`CaptureRules`; free when ``run`` came through :func:`annotate_capture`,
    else two or three queries."""
    study = run.study
    if not hasattr(run, "caliper_parameters"):
        run = annotate_capture(StudyRun.objects.filter(pk=run.pk)).get()
        study = run.study
    ethics = study.ethics_protocol if study.ethics_protocol_id else None
    rules = rules_from(
        lab_settings=_lab_settings(study.lab),
        caliper_version_id=getattr(run, "caliper_version_id", None),
        caliper_parameters=getattr(run, "caliper_parameters", None),
        body_weight_parameters=getattr(run, "body_weight_parameters", None),
        endpoint_sources=[
            ethics.endpoint_limits if ethics is not None else None,
            study.humane_endpoints,
            getattr(run, "endpoint_parameters", None),
        ],
    )
    welfare = welfare_limits_from(
        study,
        endpoint_parameters=getattr(run, "endpoint_parameters", None),
        body_weight_parameters=getattr(run, "body_weight_parameters", None),
        observation_parameters=getattr(run, "observation_parameters", None),
        observation_version_id=getattr(run, "observation_version_id", None),
    )
    return replace(rules, welfare=welfare)


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


# -- recording one reading --------------------------------------------------------------------


def check_subject(subject: Animal) -> None:
    if subject.status in (AnimalStatus.TRANSFERRED, AnimalStatus.EXCLUDED, AnimalStatus.FOUND_DEAD):
        raise ValidationError(
            f"Animal {subject.tag} is {subject.get_status_display().lower()}: no new readings."
        )


def _values(
    *,
    tumour: Tumour | None,
    length_mm: object,
    width_mm: object,
    height_mm: object,
    weight_g: object,
    code: str,
    code_reason: str,
    formula: CaliperFormula,
) -> dict[str, Any]:
    """The stored fields of a reading (kind, axes with L the longer, volume, weight, code)."""
    code = (code or "").strip().upper()
    code_reason = " ".join((code_reason or "").split())
    if code and code not in MeasurementCode.values:
        raise ValidationError({"code": f"'{code}' is not a reading code: NP, NM or ND."})
    if code and any(v not in (None, "") for v in (length_mm, width_mm, height_mm, weight_g)):
        raise ValidationError({"code": f"{code} is instead of a value: send no value with it."})
    if code in ("NM", "ND") and not code_reason:
        raise ValidationError({"code_reason": f"{code} needs a reason, e.g. '{code} ulcerated'."})
    if tumour is not None:
        if weight_g not in (None, ""):
            raise ValidationError({"weight_g": "A weight belongs to the animal, not a tumour."})
        common: dict[str, Any] = {
            "kind": MeasurementKind.CALIPER,
            "tumour": tumour,
            "reading_code": code,
            "code_reason": code_reason if code in ("NM", "ND") else "",
        }
        if code:
            return {**common, "volume_mm3": Decimal(0) if code == "NP" else None}
        length = _decimal("length_mm", length_mm, maximum=Decimal(100))
        width = _decimal("width_mm", width_mm, maximum=Decimal(100))
        height = _decimal("height_mm", height_mm, maximum=Decimal(100))
        missing = {
            name: "Required for a caliper reading (or a code: NP, NM, ND)."
            for name, value in (("length_mm", length), ("width_mm", width))
            if value is None
        }
        if missing:
            raise ValidationError(missing)
        assert length is not None and width is not None
        if length == 0 or width == 0:
            raise ValidationError("An axis of 0 mm is not a reading: record NP (not palpable).")
        axes = checks.swap_axes_if_needed(length, width)
        if not formula.needs_height and height is not None:
            raise ValidationError(
                {"height_mm": f"The formula '{formula.formula.value}' uses no height."}
            )
        return {
            **common,
            "length_mm": axes.length_mm,
            "width_mm": axes.width_mm,
            "height_mm": height,
            "axes_swapped": axes.swapped,
            "volume_mm3": tumour_volume_mm3(formula.formula, axes.length_mm, axes.width_mm, height),
            "formula": formula.formula.value,
            "formula_protocol_version_id": formula.protocol_version_id,
        }
    if any(value not in (None, "") for value in (length_mm, width_mm, height_mm)):
        raise ValidationError("Caliper axes belong to a tumour, not the animal.")
    if code in ("NP", "NM"):
        raise ValidationError({"code": f"{code} is for tumours; a weight not taken is ND."})
    if code:
        return {"kind": MeasurementKind.WEIGHT, "reading_code": code, "code_reason": code_reason}
    weight = _decimal("weight_g", weight_g, maximum=Decimal(100))
    if weight is None or weight == 0:
        raise ValidationError({"weight_g": "A weight above 0 g is required (or ND, not done)."})
    return {"kind": MeasurementKind.WEIGHT, "weight_g": weight}


def _same_series(a: Measurement, b: Measurement) -> bool:
    return a.animal_id == b.animal_id and a.kind == b.kind and a.tumour_id == b.tumour_id


@dataclass(frozen=True)
class Preloaded:
    """What a caller that already read the animal's history passes to skip queries: the valid
    same-day readings of the series (the grid reads them with everything else in one query).
    The caller has also checked ``client_id`` for a resend and holds the animal's lock.

    ``history``: every reading of the animal before this one (corrected ones marked void in
    memory) and ``episode_open``: whether it had an open endpoint episode — for the endpoint
    checks (:func:`labnotes.services.endpoint_status.evaluate_after_reading`)."""

    same_day: Sequence[Measurement]
    history: Sequence[Measurement] | None = None
    episode_open: bool | None = None


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
    code: str = "",
    code_reason: str = "",
    repeat_of: Measurement | None = None,
    correction_of: Measurement | None = None,
    as_repeat: bool = False,
    expected_version: int | None = None,
    formula: CaliperFormula | None = None,
    authorized: bool = False,
    preloaded: Preloaded | None = None,
    entered_at: dt.datetime | None = None,
    limits: WelfareLimits | None = None,
) -> Measurement:
    """Record a caliper reading of ``tumour`` (length, width[, height] in mm), a body weight of
    ``animal`` (g), or a code instead of a value (``code`` NP, NM or ND; NM and ND with a
    ``code_reason``; NP is a tumour reading of volume 0).

    The volume comes from the design's caliper formula, with L the longer axis: when the width
    read is longer than the length the two are swapped (``axes_swapped``), as the formulas
    assume. ``study_day`` is the lab-local date of ``taken_at`` minus the run's day 0, so a
    reading at 00:30 local time belongs to that local day whatever UTC says. Entered more than
    24 h after ``taken_at``: stored with ``is_late``. Refused: times in the future (beyond two
    minutes of clock drift) and readings of an animal that left the study.

    Same day, same tumour (or weight): a second reading is a *repeat*, linked to the day's
    latest by ``repeat_of`` (given, or found when ``as_repeat`` or a ``reason`` is given;
    without either it is refused, so a slip does not pass silently as a repeat). A
    ``correction_of`` reading is voided with ``reason`` (required) and kept; the new one takes
    its time and study day and links to it; ``expected_version`` (the corrected reading's
    ``row_version`` the writer saw) refuses a stale correction with :class:`StaleWrite`. A
    ``client_id`` seen before for the animal returns the stored reading instead of writing
    twice (an instrument resend).

    ``formula``, ``authorized`` (roles checked by the caller) and ``preloaded`` let a caller
    that has read the rules, the roles and the history already save the queries.
    ``entered_at`` (default: now) is when the value was entered, for the late flag: an
    instrument that logs its readings and sends them later, or the demo's history.
    ``limits`` (``rules_for_run(run).welfare``) spares the endpoint checks reading them.
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
    if not authorized:
        require_role(recorder, lab, RECORDERS, action="record measurements")
        if recorder != operator:
            require_role(operator, lab, RECORDERS, action="take measurements")
    client_id = (client_id or "").strip()
    if client_id and preloaded is None:
        existing = Measurement.objects.filter(animal=subject, client_id=client_id).first()
        if existing is not None:
            return existing
    now = timezone.now()
    kind = MeasurementKind.CALIPER if tumour is not None else MeasurementKind.WEIGHT
    if correction_of is not None:
        if (
            correction_of.animal_id != subject.pk
            or correction_of.kind != kind
            or correction_of.tumour_id != (tumour.pk if tumour is not None else None)
        ):
            raise ValidationError(
                {
                    "correction_of": "A correction replaces a reading of the same tumour (or "
                    "the same animal's weight); a reading of another animal is its own reading."
                }
            )
        taken_at = correction_of.taken_at
        if not (reason or "").strip():
            raise ValidationError({"reason": "A correction needs a reason."})
    if checks.is_future(taken_at, now, tolerance=CLOCK_TOLERANCE):
        raise ValidationError({"taken_at": "This time lies in the future."})
    check_subject(subject)
    study_day = lab.study_day(run.day0, taken_at)
    needs_formula = tumour is not None and not code
    values = _values(
        tumour=tumour,
        length_mm=length_mm,
        width_mm=width_mm,
        height_mm=height_mm,
        weight_g=weight_g,
        code=code,
        code_reason=code_reason,
        formula=(formula or caliper_formula(run))
        if needs_formula
        else CaliperFormula(VolumeFormula.HALF_LENGTH_WIDTH_SQUARED, None),
    )
    if correction_of is None:
        repeat_of = _resolve_repeat(
            subject=subject,
            tumour=tumour,
            study_day=study_day,
            repeat_of=repeat_of,
            allowed=as_repeat or bool((reason or "").strip()),
            same_day=preloaded.same_day if preloaded is not None else None,
        )
    with (
        transaction.atomic(savepoint=preloaded is None),
        audited_change(reason=reason, required=correction_of is not None),
    ):
        if correction_of is not None:
            void_for_correction(
                correction_of, voided_by=recorder, reason=reason or "", expected=expected_version
            )
            # What the corrected reading opened, confirmed or dismissed is judged again without
            # it; the new value is then judged like any reading.
            reevaluate_episodes_after_void(
                measurement=correction_of, reason=f"Corrected: {reason_text(reason or '')}"
            )
        measurement = Measurement(
            animal=subject,
            operator=operator,
            recorded_by=recorder,
            instrument=instrument.strip(),
            taken_at=taken_at,
            study_day=study_day,
            entry_method=entry_method,
            client_id=client_id,
            is_late=checks.is_late(taken_at, entered_at or now),
            repeat_of=repeat_of if correction_of is None else None,
            correction_of=correction_of,
            **values,
        )
        # Field formats only: foreign keys and constraints are the database's to check (a
        # full_clean here would cost a query per foreign key and per constraint).
        measurement.clean_fields(
            exclude=[
                "animal",
                "tumour",
                "operator",
                "recorded_by",
                "formula_protocol_version",
                "repeat_of",
                "correction_of",
                "transcription",
                "client_id",
                "voided_by",
            ]
        )
        if preloaded is not None:
            measurement.save()
        else:
            try:
                with transaction.atomic():
                    measurement.save()
            except IntegrityError:
                existing = (
                    Measurement.objects.filter(animal=subject, client_id=client_id).first()
                    if client_id
                    else None
                )
                if existing is not None:
                    return existing
                raise
        # Humane endpoints on every save: status, episodes, repeat-before-alert, alerts.
        history = None
        if preloaded is not None and preloaded.history is not None:
            history = [
                *(r for r in preloaded.history if r.pk != measurement.correction_of_id),
                measurement,
            ]
        evaluate_after_reading(
            measurement,
            limits=limits,
            history=history,
            episode_open=preloaded.episode_open if preloaded is not None else None,
        )
    return measurement


def _resolve_repeat(
    *,
    subject: Animal,
    tumour: Tumour | None,
    study_day: int,
    repeat_of: Measurement | None,
    allowed: bool,
    same_day: Sequence[Measurement] | None,
) -> Measurement | None:
    tumour_id = tumour.pk if tumour is not None else None
    if repeat_of is not None:
        if (
            repeat_of.animal_id != subject.pk
            or repeat_of.tumour_id != tumour_id
            or repeat_of.study_day != study_day
        ):
            raise ValidationError(
                {"repeat_of": "A repeat is of the same tumour (or weight) on the same day."}
            )
        return repeat_of
    if same_day is None:
        readings = Measurement.objects.filter(
            animal=subject, study_day=study_day, voided_at__isnull=True
        )
        readings = (
            readings.filter(tumour=tumour)
            if tumour is not None
            else readings.filter(kind=MeasurementKind.WEIGHT)
        )
        latest = readings.order_by("-taken_at", "-pk").first()
    else:
        latest = max(same_day, key=lambda m: (m.taken_at, m.pk or 0), default=None)
    if latest is None:
        return None
    if not allowed:
        raise ValidationError(
            {
                "reason": "This was measured today already: give a reason to record a "
                "repeat (or correct the earlier reading)."
            }
        )
    return latest


def void_for_correction(
    corrected: Measurement, *, voided_by: User, reason: str, expected: int | None
) -> None:
    current = Measurement.objects.select_for_update().get(pk=corrected.pk)
    if expected is not None and current.row_version != expected:
        raise StaleWrite(current)
    if current.voided_at is not None:
        raise ValidationError(
            {
                "correction_of": "This reading is voided (or corrected) already: correct the "
                "reading that replaced it."
            }
        )
    Measurement.objects.filter(pk=current.pk).update(
        voided_at=timezone.now(),
        voided_by=voided_by,
        void_reason=f"Corrected: {reason_text(reason)}",
        row_version=F("row_version") + 1,
    )


def reason_text(reason: str) -> str:
    """A one-key reason code as words (``typo`` → ``Typo``); typed text as it is."""
    cleaned = " ".join((reason or "").split())
    return _REASON_TEXT.get(cleaned, cleaned)


def correct_measurement(
    *,
    measurement: Measurement,
    corrected_by: User,
    reason: str,
    expected_version: int | None = None,
    length_mm: Decimal | float | str | None = None,
    width_mm: Decimal | float | str | None = None,
    height_mm: Decimal | float | str | None = None,
    weight_g: Decimal | float | str | None = None,
    code: str = "",
    code_reason: str = "",
    client_id: str = "",
    entry_method: str = EntryMethod.FORM,
    entered_at: dt.datetime | None = None,
) -> Measurement:
    """Replace ``measurement`` by a corrected reading: the old one is voided with ``reason``
    (required) and kept; the new one links to it (``correction_of``) and keeps its time.
    ``expected_version`` refuses a stale correction (:class:`StaleWrite`)."""
    return record_measurement(
        tumour=measurement.tumour,
        animal=None if measurement.tumour_id else measurement.animal,
        length_mm=length_mm,
        width_mm=width_mm,
        height_mm=height_mm,
        weight_g=weight_g,
        code=code,
        code_reason=code_reason,
        taken_at=measurement.taken_at,
        operator=corrected_by,
        reason=reason,
        client_id=client_id,
        entry_method=entry_method,
        correction_of=measurement,
        expected_version=expected_version,
        entered_at=entered_at,
    )


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
        reevaluate_episodes_after_void(measurement=current, reason=reason)
    return current


# -- which reading counts -------------------------------------------------------------------


@dataclass(frozen=True)
class CountedReading:
    """The value that counts for one tumour (or an animal's weight) on one study day."""

    animal_id: int
    tumour_id: int | None
    study_day: int
    value: Decimal
    readings: int
    policy: str
    not_palpable: bool


def counted_readings(
    measurements: Iterable[Measurement], *, policy: str | checks.RepeatPolicy
) -> dict[tuple[int, int | None, int], CountedReading]:
    """Per (animal, tumour or ``None`` for the weight, study day): the counting value of the
    day's readings by the protocol's ``policy`` — the last one, or the mean
    (:func:`labnotes.capture.checks.counting_value`). Voided readings and NM/ND codes are left
    out; NP counts as a volume of 0. ``measurements`` is any iterable (a queryset from
    ``counted_measurements`` for analyses)."""
    chosen = checks.RepeatPolicy(str(policy))
    groups: dict[tuple[int, int | None, int], list[Measurement]] = defaultdict(list)
    for reading in measurements:
        if reading.voided_at is not None:
            continue
        value = reading.volume_mm3 if reading.kind == MeasurementKind.CALIPER else reading.weight_g
        if value is None:
            continue
        groups[(reading.animal_id, reading.tumour_id, reading.study_day)].append(reading)
    counted = {}
    for key, readings in groups.items():
        pairs = [
            (
                r.taken_at,
                Decimal(r.volume_mm3 if r.kind == MeasurementKind.CALIPER else r.weight_g),  # type: ignore[arg-type]
            )
            for r in readings
        ]
        value = checks.counting_value(pairs, chosen).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)
        counted[key] = CountedReading(
            animal_id=key[0],
            tumour_id=key[1],
            study_day=key[2],
            value=value,
            readings=len(readings),
            policy=chosen.value,
            not_palpable=all(r.reading_code == MeasurementCode.NOT_PALPABLE for r in readings),
        )
    return counted


def counted_readings_for_run(
    run: StudyRun, *, study_day: int | None = None
) -> dict[tuple[int, int | None, int], CountedReading]:
    """:func:`counted_readings` of a run (one day or all), by the run's repeat policy."""
    readings = Measurement.objects.filter(animal__run=run, voided_at__isnull=True)
    if study_day is not None:
        readings = readings.filter(study_day=study_day)
    return counted_readings(readings, policy=rules_for_run(run).repeat_policy)
