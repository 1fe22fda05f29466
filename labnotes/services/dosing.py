"""Dosing: formulation batches, today's dosing list, recording doses (with deviations) and the
dosing protocol's permitted modifications.

The amount a dose should deliver comes from the regimen item's dose and basis:

* ``per_kg_own_weight``: dose mg/kg × the animal's latest weight (kg), a weight no older than
  the protocol's ``weight_max_age_days`` (default 3) — older, and the list asks to weigh first;
* ``per_kg_arm_mean_weight``: dose mg/kg × the mean of the latest (recent enough) weights of
  the arm's animals on study in the run;
* ``fixed_per_animal``: dose µg (÷ 1000 for mg);
* ``fixed_per_tumour``: dose µg × the animal's injected tumours (palpable ones only when the
  protocol skips non-palpable tumours).

The volume is amount ÷ the chosen batch's concentration. A vehicle (or a dose of 0) has no
amount: its volume is the protocol's ``volume_ml_per_kg`` × weight, or its fixed ``volume_ul``
(per tumour for a per-tumour basis), so vehicle animals get the volume the treated ones get.
Volumes are rounded to 0.1 µL. A volume above the route's limit (the protocol's own, else PO 10,
SC 10, IP 20, IV 5 mL/kg; Diehl et al. 2001) for the animal's weight is refused.

Who sees what (DESIGN invariant 4): the dosing list and recording are for study members with
``can_dose``. Dose records, batches and modifications are read by those who see dosing
(unblinded, or ``can_dose``). In a double-blind study — one whose formulation batches carry a
coded label — a blinded doser sees the vial codes, volumes and routes, never agents, doses or
amounts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from labnotes.models import (
    Animal,
    AnimalStatus,
    DeviationKind,
    DoseDeviation,
    DoseModification,
    DoseOutcome,
    DoseRecord,
    FormulationBatch,
    Measurement,
    MeasurementKind,
    ModificationKind,
    StudyRun,
    Task,
    TaskKind,
    TaskStatus,
    TumourRole,
)
from labnotes.selectors import blinding_for
from labnotes.services.common import RECORDERS, StaleWrite, lab_today
from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import (
    DEFAULT_ROUTE_VOLUME_LIMITS_ML_PER_KG,
    BodyWeightParameters,
    DoseBasis,
    DosingParameters,
    WeightBaseline,
)
from planner.models import ProcedureRole, RegimenItem, Study, StudyMember
from planner.selectors import UserLike
from planner.services.permissions import require_role

#: A dose more than this fraction off the computed amount (or volume, for a vehicle) deviates.
AMOUNT_TOLERANCE = Decimal("0.10")
DEFAULT_WEIGHT_MAX_AGE_DAYS = 3
#: Doses up to this far ahead of the server clock are accepted (device and wall clocks drift).
CLOCK_TOLERANCE = dt.timedelta(minutes=2)
_TENTH = Decimal("0.1")
_MICRO = Decimal("0.000001")
_PER_KG = {DoseBasis.PER_KG_OWN_WEIGHT.value, DoseBasis.PER_KG_ARM_MEAN_WEIGHT.value, "mg_per_kg"}


# -- pure computation --------------------------------------------------------------------------


@dataclass(frozen=True)
class DosePlan:
    """What one dose should be: the dose after any reduction, the amount and the volume."""

    dose: Decimal
    amount_mg: Decimal | None
    volume_ul: Decimal | None
    problem: str = ""


def normalized_basis(basis: str) -> str:
    """The basis as :class:`DoseBasis` names it (``mg_per_kg``, an older spelling, is per kg of
    the animal's own weight)."""
    return DoseBasis.PER_KG_OWN_WEIGHT.value if basis == "mg_per_kg" else basis


def plan_dose(
    *,
    basis: str,
    dose: Decimal,
    weight_g: Decimal | None,
    tumour_count: int,
    concentration_mg_per_ml: Decimal | None,
    volume_ml_per_kg: Decimal | None = None,
    fixed_volume_ul: Decimal | None = None,
    reduced_to_percent: Decimal | None = None,
) -> DosePlan:
    """The amount (mg) and volume (µL) of one dose; ``problem`` says why one is missing.

    Per-kg bases: amount = dose mg/kg × weight g ÷ 1000. Fixed bases: amount = dose µg ÷ 1000
    (× tumours for per tumour). A reduction multiplies the dose by ``reduced_to_percent`` ÷ 100.
    Volume = amount ÷ concentration × 1000 (µL); without an amount (vehicle, dose 0) or a
    concentration, the protocol's volume: mL/kg × weight g (= µL), or the fixed µL (× tumours
    for per tumour), reduced alike. Amounts round to 1e-6 mg, volumes to 0.1 µL (half up).
    """
    factor = (reduced_to_percent / 100) if reduced_to_percent is not None else Decimal(1)
    effective = (Decimal(dose) * factor).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    basis = normalized_basis(basis)
    per_kg = basis in _PER_KG
    if per_kg and (weight_g is None or weight_g <= 0):
        return DosePlan(effective, None, None, "no weight to compute the dose from")
    multiplier = tumour_count if basis == DoseBasis.FIXED_PER_TUMOUR else 1
    if basis == DoseBasis.FIXED_PER_TUMOUR and tumour_count <= 0:
        return DosePlan(effective, None, None, "no tumour to dose")
    if per_kg:
        assert weight_g is not None
        amount = Decimal(dose) * factor * Decimal(weight_g) / 1000
    else:
        amount = Decimal(dose) * factor / 1000 * multiplier
    amount = amount.quantize(_MICRO, rounding=ROUND_HALF_UP)
    volume: Decimal | None = None
    if amount > 0 and concentration_mg_per_ml is not None and concentration_mg_per_ml > 0:
        volume = amount / Decimal(concentration_mg_per_ml) * 1000
    elif amount > 0:
        return DosePlan(effective, amount, None, "the batch has no concentration for this dose")
    elif volume_ml_per_kg is not None and weight_g is not None and weight_g > 0:
        volume = Decimal(volume_ml_per_kg) * Decimal(weight_g) * factor
    elif fixed_volume_ul is not None:
        volume = Decimal(fixed_volume_ul) * multiplier * factor
    else:
        return DosePlan(effective, amount, None, "the protocol gives no volume for this dose")
    return DosePlan(effective, amount, volume.quantize(_TENTH, rounding=ROUND_HALF_UP))


def ml_per_kg(volume_ul: Decimal, weight_g: Decimal) -> Decimal:
    """A volume as mL per kg of body weight: µL ÷ g (1 µL/g = 1 mL/kg)."""
    return Decimal(volume_ul) / Decimal(weight_g)


def relative_difference(actual: Decimal, planned: Decimal) -> Decimal:
    """abs(actual - planned) ÷ planned (planned > 0)."""
    return abs(Decimal(actual) - Decimal(planned)) / Decimal(planned)


# -- the protocol of a regimen item -------------------------------------------------------------


@dataclass(frozen=True)
class ItemProtocol:
    """The dosing protocol's numbers for a regimen item (defaults when its parameters are
    missing or invalid: the route's limit, a 3-day weight, no permitted modifications)."""

    parameters: DosingParameters | None
    limit_ml_per_kg: Decimal | None
    weight_max_age_days: int
    reference_weight_g: Decimal

    @property
    def volume_ml_per_kg(self) -> Decimal | None:
        value = self.parameters.volume_ml_per_kg if self.parameters else None
        return None if value is None else Decimal(str(value))

    @property
    def fixed_volume_ul(self) -> Decimal | None:
        value = self.parameters.volume_ul if self.parameters else None
        return None if value is None else Decimal(str(value))


def item_protocol(item: RegimenItem) -> ItemProtocol:
    try:
        parameters: DosingParameters | None = DosingParameters.from_dict(
            item.protocol_version.parameters or {}
        )
    except (ParameterErrors, TypeError, ValueError, KeyError):
        parameters = None
    limit = route_limit(item.route, parameters)
    age = DEFAULT_WEIGHT_MAX_AGE_DAYS
    if parameters is not None and parameters.weight_max_age_days is not None:
        age = parameters.weight_max_age_days
    reference = Decimal(str(parameters.reference_body_weight_g)) if parameters else Decimal(20)
    return ItemProtocol(parameters, limit, age, reference)


def route_limit(route: str, parameters: DosingParameters | None) -> Decimal | None:
    """The route's volume limit in mL/kg: the protocol's own when it is for this route, else
    the good-practice default (none for IT and IM)."""
    if (
        parameters is not None
        and parameters.max_volume_ml_per_kg is not None
        and parameters.route.value == route
    ):
        return Decimal(str(parameters.max_volume_ml_per_kg))
    default = DEFAULT_ROUTE_VOLUME_LIMITS_ML_PER_KG.get(route)
    return None if default is None else Decimal(str(default))


# -- who may dose, who sees agents --------------------------------------------------------------


def may_dose(user: UserLike, study: Study) -> bool:
    """Study members allowed to dose (``can_dose``)."""
    if not user.is_authenticated:
        return False
    return StudyMember.objects.filter(study=study, user=user, can_dose=True).exists()


def is_double_blind(study: Study) -> bool:
    """A blinded study whose formulations are coded (a batch carries a coded label)."""
    return (
        study.blinded
        and FormulationBatch.objects.filter(study=study, voided_at__isnull=True)
        .exclude(coded_label="")
        .exists()
    )


def sees_agents(user: UserLike, study: Study) -> bool:
    """Agents, doses, amounts, lots and concentrations: for those who see the allocation, and
    for dosers unless the study runs double-blind."""
    blinding = blinding_for(user, study)
    if blinding.sees_allocation:
        return True
    return blinding.sees_dosing and not is_double_blind(study)


def _require_doser(user: User, study: Study, action: str) -> None:
    require_role(user, study.lab, RECORDERS, action=action)
    if not may_dose(user, study):
        raise PermissionDenied(f"Only study members who may dose may {action}.")


# -- readings the computation needs ---------------------------------------------------------------


@dataclass(frozen=True)
class WeightReading:
    measurement_id: int
    weight_g: Decimal
    taken_at: dt.datetime


def latest_weights(animal_ids: Iterable[int], *, at: dt.datetime) -> dict[int, WeightReading]:
    """Each animal's latest non-voided body weight taken at or before ``at``."""
    rows = (
        Measurement.objects.filter(
            animal_id__in=list(animal_ids),
            kind=MeasurementKind.WEIGHT,
            voided_at__isnull=True,
            weight_g__isnull=False,
            taken_at__lte=at,
        )
        .order_by("animal_id", "-taken_at", "-pk")
        .distinct("animal_id")
        .values_list("animal_id", "pk", "weight_g", "taken_at")
    )
    return {
        animal: WeightReading(pk, weight, taken)
        for animal, pk, weight, taken in rows
        if weight is not None
    }


def baseline_weight(animal: Animal) -> Decimal | None:
    """The weight that weight loss is relative to, as the body-weight protocol says: the latest
    weight on or before the randomization day (default) or day 0; else the first weight; else the
    arrival weight."""
    run = animal.run
    baseline = WeightBaseline.RANDOMIZATION
    procedure = (
        run.study.procedures.filter(role=ProcedureRole.BODY_WEIGHT)
        .select_related("protocol_version")
        .first()
    )
    if procedure is not None:
        try:
            baseline = BodyWeightParameters.from_dict(
                procedure.protocol_version.parameters
            ).baseline
        except (ParameterErrors, TypeError, ValueError):
            pass
    on = run.day0 if baseline is WeightBaseline.DAY_0 else (animal.treatment_start_date or run.day0)
    weights = Measurement.objects.filter(
        animal=animal,
        kind=MeasurementKind.WEIGHT,
        voided_at__isnull=True,
        weight_g__isnull=False,
    )
    lab = run.study.lab
    until = dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min, tzinfo=lab.zone)
    before = weights.filter(taken_at__lt=until).order_by("-taken_at", "-pk").first()
    chosen = before or weights.order_by("taken_at", "pk").first()
    if chosen is not None:
        return chosen.weight_g
    return animal.arrival_weight_g


def weight_loss_percent(baseline: Decimal, weight: Decimal) -> Decimal:
    """(baseline - weight) ÷ baseline × 100, rounded to 0.1 % (a gain is negative)."""
    return ((baseline - weight) / baseline * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)


def _tumour_counts(animal_ids: Sequence[int], *, palpable_only: bool) -> dict[int, int]:
    """Injected tumours per animal; with ``palpable_only``, those whose latest caliper reading
    has a volume above 0 (a tumour never measured counts)."""
    from labnotes.models import Tumour

    counts: dict[int, int] = defaultdict(int)
    tumours = list(
        Tumour.objects.filter(animal_id__in=animal_ids, role=TumourRole.INJECTED).values_list(
            "pk", "animal_id"
        )
    )
    latest: dict[int, Decimal | None] = {}
    if palpable_only:
        for tumour_id, volume in (
            Measurement.objects.filter(
                tumour_id__in=[pk for pk, _ in tumours],
                kind=MeasurementKind.CALIPER,
                voided_at__isnull=True,
            )
            .order_by("tumour_id", "-taken_at", "-pk")
            .distinct("tumour_id")
            .values_list("tumour_id", "volume_mm3")
        ):
            latest[tumour_id] = volume
    for tumour_id, animal_id in tumours:
        volume = latest.get(tumour_id)
        if palpable_only and tumour_id in latest and (volume is None or volume <= 0):
            continue
        counts[animal_id] += 1
    return counts


# -- modifications in force ---------------------------------------------------------------------


@dataclass(frozen=True)
class ItemState:
    """The permitted modifications in force for one dose of one animal's regimen item."""

    hold: DoseModification | None = None
    skip: DoseModification | None = None
    reduce: DoseModification | None = None

    @property
    def withheld(self) -> DoseModification | None:
        return self.hold or self.skip


def item_state(
    modifications: Sequence[DoseModification], *, item_id: int, occurrence: int, on: dt.date
) -> ItemState:
    """Which modifications apply to the ``occurrence``-th dose of item ``item_id`` due ``on``.

    ``modifications`` are one animal's, oldest first (effective date, then order of decision):
    the last hold or resume in force decides the hold; the last reduction in force the dose; a
    skip names its occurrence.
    """
    hold = reduce = skip = None
    for modification in modifications:
        if modification.regimen_item_id != item_id:
            continue
        if modification.kind == ModificationKind.SKIP:
            if modification.occurrence == occurrence:
                skip = modification
            continue
        if modification.effective_from > on:
            continue
        if modification.kind == ModificationKind.HOLD:
            hold = modification
        elif modification.kind == ModificationKind.RESUME:
            hold = None
        elif modification.kind == ModificationKind.REDUCE:
            reduce = modification
    return ItemState(hold=hold, skip=skip, reduce=reduce)


def _modifications_by_animal(animal_ids: Iterable[int]) -> dict[int, list[DoseModification]]:
    found: dict[int, list[DoseModification]] = defaultdict(list)
    for modification in DoseModification.objects.filter(animal_id__in=list(animal_ids)).order_by(
        "effective_from", "pk"
    ):
        found[modification.animal_id].append(modification)
    return found


# -- batches ------------------------------------------------------------------------------------


def batch_serves(batch: FormulationBatch, item: RegimenItem) -> bool:
    return (
        batch.study_id == item.arm.study_id
        and batch.agent == item.agent
        and (batch.regimen_item_id is None or batch.regimen_item_id == item.pk)
    )


def usable_batches(
    batches: Sequence[FormulationBatch], item: RegimenItem, at: dt.datetime
) -> list[FormulationBatch]:
    """Batches for ``item`` that may be used at ``at``: prepared, not expired, not voided;
    the one expiring first comes first (first expired, first out)."""
    return sorted(
        (
            b
            for b in batches
            if batch_serves(b, item) and b.voided_at is None and b.prepared_at <= at < b.expires_at
        ),
        key=lambda b: (b.expires_at, b.pk),
    )


def list_study_batches(study: Study) -> list[FormulationBatch]:
    return list(
        FormulationBatch.objects.filter(study=study, voided_at__isnull=True).select_related(
            "prepared_by"
        )
    )


# -- the dosing list ------------------------------------------------------------------------------


class RowState(StrEnum):
    DUE = "due"
    DONE = "done"
    MISSED = "missed"
    HELD = "held"
    SKIPPED = "skipped"
    WEIGH = "weigh"
    NO_BATCH = "no_batch"
    OVER_LIMIT = "over_limit"
    CANNOT_COMPUTE = "cannot_compute"
    OFF_STUDY = "off_study"


@dataclass
class DosingRow:
    """One dose task of one animal as the dosing list shows it."""

    task: Task
    animal: Animal
    item: RegimenItem
    state: RowState
    message: str = ""
    overdue: bool = False
    late: bool = False
    weight: WeightReading | None = None
    weight_g: Decimal | None = None
    weight_source: str = ""
    weight_age_days: int | None = None
    tumour_count: int = 0
    batches: list[FormulationBatch] = field(default_factory=list)
    batch: FormulationBatch | None = None
    plan: DosePlan | None = None
    limit_ml_per_kg: Decimal | None = None
    dose_record: DoseRecord | None = None
    state_of_modifications: ItemState = field(default_factory=ItemState)

    @property
    def recordable(self) -> bool:
        return self.state is RowState.DUE

    @property
    def window_closes(self) -> dt.date:
        return self.task.nominal_date + dt.timedelta(days=self.task.window_days)


@dataclass
class _Context:
    """Everything computing a run's doses needs, loaded once."""

    run: StudyRun
    at: dt.datetime
    day: dt.date
    weights: dict[int, WeightReading]
    modifications: dict[int, list[DoseModification]]
    batches: list[FormulationBatch]
    protocols: dict[int, ItemProtocol]
    tumours: dict[int, int]
    palpable: dict[int, int]
    arm_means: dict[int, tuple[Decimal, int] | None]


def _context(run: StudyRun, tasks: Sequence[Task], *, at: dt.datetime) -> _Context:
    lab = run.study.lab
    day = lab.local_date(at)
    animal_ids = sorted({t.animal_id for t in tasks})
    items = {t.regimen_item.pk: t.regimen_item for t in tasks if t.regimen_item is not None}
    protocols = {pk: item_protocol(item) for pk, item in items.items()}
    arm_ids = {
        item.arm_id
        for item in items.values()
        if normalized_basis(item.dose_basis) == DoseBasis.PER_KG_ARM_MEAN_WEIGHT
    }
    arm_animals: dict[int, list[int]] = defaultdict(list)
    for pk, arm_id in Animal.objects.filter(
        run=run, arm_id__in=arm_ids, status=AnimalStatus.ON_STUDY
    ).values_list("pk", "arm_id"):
        arm_animals[arm_id].append(pk)
    weights = latest_weights(
        set(animal_ids) | {pk for pks in arm_animals.values() for pk in pks}, at=at
    )
    arm_means: dict[int, tuple[Decimal, int] | None] = {}
    for arm_id in arm_ids:
        age = min(
            (p.weight_max_age_days for pk, p in protocols.items() if items[pk].arm_id == arm_id),
            default=DEFAULT_WEIGHT_MAX_AGE_DAYS,
        )
        recent = [
            weights[pk].weight_g
            for pk in arm_animals[arm_id]
            if pk in weights and (day - lab.local_date(weights[pk].taken_at)).days <= age
        ]
        arm_means[arm_id] = (
            (
                (sum(recent, Decimal(0)) / len(recent)).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                ),
                len(recent),
            )
            if recent
            else None
        )
    skip_not_palpable = any(
        p.parameters is not None and p.parameters.skip_when_tumour_not_palpable
        for p in protocols.values()
    )
    return _Context(
        run=run,
        at=at,
        day=day,
        weights=weights,
        modifications=_modifications_by_animal(animal_ids),
        batches=list_study_batches(run.study),
        protocols=protocols,
        tumours=_tumour_counts(animal_ids, palpable_only=False),
        palpable=_tumour_counts(animal_ids, palpable_only=True) if skip_not_palpable else {},
        arm_means=arm_means,
    )


def _row(
    context: _Context,
    task: Task,
    *,
    batch_id: int | None = None,
    dose_record: DoseRecord | None = None,
) -> DosingRow:
    """Compute one task's row: its state, the weight used, the batch, the amount and volume."""
    item = task.regimen_item
    assert item is not None
    animal = task.animal
    lab = context.run.study.lab
    protocol = context.protocols.get(item.pk) or item_protocol(item)
    task_date = task.scheduled_date or task.nominal_date
    row = DosingRow(
        task=task,
        animal=animal,
        item=item,
        state=RowState.DUE,
        overdue=task_date < context.day,
        late=context.day > task.nominal_date + dt.timedelta(days=task.window_days),
        limit_ml_per_kg=protocol.limit_ml_per_kg,
        dose_record=dose_record,
    )
    state = item_state(
        context.modifications.get(animal.pk, []),
        item_id=item.pk,
        occurrence=task.occurrence,
        on=task_date,
    )
    row.state_of_modifications = state
    if dose_record is not None:
        row.state = RowState.DONE if dose_record.outcome == DoseOutcome.GIVEN else RowState.MISSED
        return row
    if task.status == TaskStatus.DONE:
        row.state, row.message = RowState.DONE, "done (no dose record)"
        return row
    if task.status == TaskStatus.MISSED:
        row.state = RowState.MISSED
        return row
    if state.hold is not None:
        row.state, row.message = RowState.HELD, _modification_text(state.hold)
        return row
    if state.skip is not None:
        row.state, row.message = RowState.SKIPPED, _modification_text(state.skip)
        return row
    if task.status == TaskStatus.SKIPPED:
        row.state, row.message = RowState.SKIPPED, task.shift_description or "skipped"
        return row
    if animal.status != AnimalStatus.ON_STUDY:
        row.state = RowState.OFF_STUDY
        row.message = f"animal is {animal.get_status_display().lower()}"
        return row
    basis = normalized_basis(item.dose_basis)
    own = context.weights.get(animal.pk)
    row.weight = own
    if own is not None:
        row.weight_age_days = (context.day - lab.local_date(own.taken_at)).days
    if basis == DoseBasis.PER_KG_OWN_WEIGHT:
        if own is None:
            row.state, row.message = RowState.WEIGH, "weigh first: no weight recorded"
            return row
        assert row.weight_age_days is not None
        if row.weight_age_days > protocol.weight_max_age_days:
            row.state = RowState.WEIGH
            row.message = (
                f"weigh first: the last weight ({own.weight_g} g) is {row.weight_age_days} days "
                f"old; the protocol allows {protocol.weight_max_age_days}"
            )
            return row
        row.weight_g, row.weight_source = own.weight_g, "own weight"
    elif basis == DoseBasis.PER_KG_ARM_MEAN_WEIGHT:
        mean = context.arm_means.get(item.arm_id)
        if mean is None:
            row.state = RowState.WEIGH
            row.message = (
                "weigh first: no animal of the arm has a weight from the last "
                f"{protocol.weight_max_age_days} days"
            )
            return row
        row.weight_g, row.weight_source = mean[0], f"arm mean of {mean[1]}"
    elif own is not None:
        row.weight_g, row.weight_source = own.weight_g, "own weight"
    if basis == DoseBasis.FIXED_PER_TUMOUR:
        palpable = (
            protocol.parameters is not None and protocol.parameters.skip_when_tumour_not_palpable
        )
        row.tumour_count = (context.palpable if palpable else context.tumours).get(animal.pk, 0)
        if row.tumour_count == 0:
            row.state = RowState.SKIPPED if palpable else RowState.CANNOT_COMPUTE
            row.message = (
                "skip per protocol: tumour not palpable" if palpable else "no injected tumour"
            )
            return row
    row.batches = usable_batches(context.batches, item, context.at)
    chosen = next((b for b in row.batches if b.pk == batch_id), None)
    row.batch = chosen or (row.batches[0] if row.batches else None)
    if row.batch is None:
        row.state = RowState.NO_BATCH
        row.message = "no usable formulation batch (prepared, not expired): prepare one"
        return row
    reduce = state.reduce
    row.plan = plan_dose(
        basis=basis,
        dose=item.dose,
        weight_g=row.weight_g,
        tumour_count=row.tumour_count,
        concentration_mg_per_ml=row.batch.concentration_mg_per_ml,
        volume_ml_per_kg=protocol.volume_ml_per_kg,
        fixed_volume_ul=protocol.fixed_volume_ul,
        reduced_to_percent=reduce.reduced_to_percent if reduce is not None else None,
    )
    if row.plan.problem or row.plan.volume_ul is None:
        row.state, row.message = RowState.CANNOT_COMPUTE, row.plan.problem
        return row
    reference = row.weight_g or (own.weight_g if own else None) or protocol.reference_weight_g
    if protocol.limit_ml_per_kg is not None and reference > 0:
        per_kg = ml_per_kg(row.plan.volume_ul, reference)
        if per_kg > protocol.limit_ml_per_kg:
            row.state = RowState.OVER_LIMIT
            row.message = (
                f"{row.plan.volume_ul} µL is {per_kg:.1f} mL/kg for {reference} g, above the "
                f"{item.route} limit of {protocol.limit_ml_per_kg.normalize():f} mL/kg: refused"
            )
            return row
    if reduce is not None:
        row.message = _modification_text(reduce)
    return row


def _modification_text(modification: DoseModification) -> str:
    what = {
        ModificationKind.HOLD: "held",
        ModificationKind.RESUME: "resumed",
        ModificationKind.SKIP: "skipped",
        ModificationKind.REDUCE: f"reduced to {modification.reduced_to_percent} %",
    }[ModificationKind(modification.kind)]
    loss = (
        f", weight loss {modification.weight_loss_percent} %"
        if modification.weight_loss_percent is not None
        else ""
    )
    return f"{what} per protocol from {modification.effective_from.isoformat()}{loss}"


def _dose_tasks(run: StudyRun) -> Any:
    return (
        Task.objects.filter(run=run, kind=TaskKind.DOSE)
        .select_related("animal__arm", "regimen_item__protocol_version", "regimen_item__arm")
        .annotate(task_date=Coalesce("scheduled_date", "nominal_date"))
    )


def _moment(run: StudyRun, day: dt.date) -> dt.datetime:
    """Now for today; the end of ``day`` (lab time) for a past day; the start of a future day."""
    now = timezone.now()
    lab = run.study.lab
    today = lab.local_date(now)
    if day == today:
        return now
    if day < today:
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=lab.zone)
    return dt.datetime.combine(day, dt.time(8, 0), tzinfo=lab.zone)


def dosing_list(
    *,
    user: UserLike,
    run: StudyRun,
    day: dt.date,
    tasks: Any,
    batch_choice: dict[int, int] | None = None,
) -> list[DosingRow]:
    """The dosing list of ``run`` on ``day``: its dose tasks that day and the overdue ones still
    due, each with the weight, batch, amount and volume, or why it cannot be dosed.

    ``tasks`` are the dose tasks the user may see (``list_tasks_for_day``), already in cage
    order. Only members who may dose get the list (``PermissionDenied`` otherwise).
    """
    if not may_dose(user, run.study):
        raise PermissionDenied("The dosing list is for study members who may dose.")
    chosen = list(tasks)
    if not chosen:
        return []
    context = _context(run, chosen, at=_moment(run, day))
    records = {
        record.task_id: record
        for record in DoseRecord.objects.filter(
            task__in=chosen, voided_at__isnull=True
        ).select_related("batch", "operator")
    }
    choice = batch_choice or {}
    return [
        _row(context, task, batch_id=choice.get(task.pk), dose_record=records.get(task.pk))
        for task in chosen
    ]


def dosing_row(*, user: UserLike, task: Task, batch_id: int | None = None) -> DosingRow:
    """One row of the dosing list (after recording, or with another batch chosen)."""
    run = task.run
    if not may_dose(user, run.study):
        raise PermissionDenied("The dosing list is for study members who may dose.")
    context = _context(run, [task], at=_moment(run, lab_today(run.study.lab)))
    record = (
        DoseRecord.objects.filter(task=task, voided_at__isnull=True)
        .select_related("batch", "operator")
        .first()
    )
    return _row(context, task, batch_id=batch_id, dose_record=record)


# -- writes: batches ------------------------------------------------------------------------------


def _decimal(name: str, value: object, *, places: str = "0.0001") -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, AttributeError):
        raise ValidationError({name: f"'{value}' is not a number."}) from None
    if not number.is_finite():
        raise ValidationError({name: f"'{value}' is not a number."})
    return number.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def create_formulation_batch(
    *,
    study: Study,
    agent: str,
    lot: str,
    concentration_mg_per_ml: Decimal | float | str,
    vehicle: str,
    prepared_by: User,
    prepared_at: dt.datetime,
    expires_at: dt.datetime,
    recorded_by: User,
    regimen_item: RegimenItem | None = None,
    coded_label: str = "",
    notes: str = "",
) -> FormulationBatch:
    """Record a prepared formulation batch of ``agent`` (an agent of the study's regimen).

    Allowed to those who may dose, and to unblinded recorders (a pharmacist preparing coded
    vials). A batch already expired may be recorded (the record is complete) but is never
    offered, nor accepted, for dosing.
    """
    require_role(recorded_by, study.lab, RECORDERS, action="record formulation batches")
    if not (may_dose(recorded_by, study) or blinding_for(recorded_by, study).sees_allocation):
        raise PermissionDenied(
            "Only study members who may dose, or who see the allocation, record batches."
        )
    agent = (regimen_item.agent if regimen_item is not None else agent or "").strip()
    if regimen_item is not None and regimen_item.arm.study_id != study.pk:
        raise ValidationError({"regimen_item": "This regimen item is not of the batch's study."})
    agents = set(RegimenItem.objects.filter(arm__study=study).values_list("agent", flat=True))
    if agent not in agents:
        raise ValidationError(
            {"agent": f"'{agent}' is not an agent of this study's regimens."}
            if agent
            else {"agent": "Name the agent."}
        )
    errors: dict[str, str] = {}
    lot = (lot or "").strip()
    if not lot:
        errors["lot"] = "Give the lot number."
    elif FormulationBatch.objects.filter(study=study, lot=lot).exists():
        errors["lot"] = f"Lot {lot} is recorded for this study already."
    concentration = _decimal("concentration_mg_per_ml", concentration_mg_per_ml)
    if concentration < 0:
        errors["concentration_mg_per_ml"] = "The concentration cannot be negative."
    for name, value in (("prepared_at", prepared_at), ("expires_at", expires_at)):
        if timezone.is_naive(value):
            errors[name] = "The time must carry its time zone."
    if "prepared_at" not in errors and prepared_at > timezone.now() + CLOCK_TOLERANCE:
        errors["prepared_at"] = "The preparation time lies in the future."
    if not errors and expires_at <= prepared_at:
        errors["expires_at"] = "The batch must expire after it was prepared."
    coded_label = (coded_label or "").strip()
    if (
        coded_label
        and FormulationBatch.objects.filter(study=study, coded_label=coded_label).exists()
    ):
        errors["coded_label"] = f"The code {coded_label} is used by another batch."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audited_change(reason=None, required=False):
        batch = FormulationBatch(
            study=study,
            agent=agent,
            regimen_item=regimen_item,
            lot=lot,
            concentration_mg_per_ml=concentration,
            vehicle=(vehicle or "").strip(),
            coded_label=coded_label,
            prepared_by=prepared_by,
            prepared_at=prepared_at,
            expires_at=expires_at,
            notes=(notes or "").strip(),
            recorded_by=recorded_by,
        )
        batch.full_clean()
        batch.save()
    return batch


def void_formulation_batch(
    *, batch: FormulationBatch, voided_by: User, reason: str
) -> FormulationBatch:
    """Void a batch with a reason: it is no longer offered; doses given from it stay."""
    require_role(voided_by, batch.study.lab, RECORDERS, action="void formulation batches")
    if not (
        may_dose(voided_by, batch.study) or blinding_for(voided_by, batch.study).sees_allocation
    ):
        raise PermissionDenied("Only those who may record batches may void them.")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        updated = FormulationBatch.objects.filter(pk=batch.pk, voided_at__isnull=True).update(
            voided_at=timezone.now(),
            voided_by=voided_by,
            void_reason=reason.strip(),
            row_version=F("row_version") + 1,
        )
        if not updated:
            raise ValidationError("This batch is voided already.")
    batch.refresh_from_db()
    return batch


# -- writes: doses --------------------------------------------------------------------------------


def _locked_dose_task(task: Task) -> Task:
    current = (
        Task.objects.select_for_update(of=("self",))
        .select_related("animal__arm", "regimen_item__protocol_version", "regimen_item__arm", "run")
        .get(pk=task.pk)
    )
    if current.kind != TaskKind.DOSE or current.regimen_item is None:
        raise ValidationError("This task is not a dose.")
    return current


def _refuse_unless_due(task: Task, row: DosingRow) -> None:
    tag = task.animal.tag
    if row.state in (RowState.DONE, RowState.MISSED):
        raise ValidationError(
            f"Dose {task.occurrence} of animal {tag} is recorded already "
            f"({task.get_status_display().lower()})."
        )
    if row.state in (RowState.HELD, RowState.SKIPPED):
        raise ValidationError(
            f"Animal {tag} is not to be dosed: {row.message}. Resume it first if the protocol "
            "permits."
        )
    if row.state is RowState.OFF_STUDY:
        raise ValidationError(f"Animal {tag}: {row.message}; no doses.")


def record_dose(
    *,
    task: Task,
    batch: FormulationBatch,
    volume_ul: Decimal | float | str,
    given_at: dt.datetime,
    route: str,
    operator: User,
    recorded_by: User | None = None,
    notes: str = "",
    expected_version: int | None = None,
) -> DoseRecord:
    """Record the dose of a due dose task: the batch, the actual volume, time, route, operator.

    Refused (nothing written), each naming the animal and the reason: a task not due (done,
    missed, held or skipped per protocol), an animal off study, a batch of another agent, voided
    or expired at ``given_at`` (or not yet prepared), a per-kg dose without a recent enough
    weight, a volume above the route's limit for the animal's weight, a time in the future,
    someone else's change meanwhile (:class:`StaleWrite` with ``expected_version``).

    Recorded as deviations (a dose may have several): a route other than the regimen's, a time
    after (late) or before (early) the permitted window around the nominal date, an amount — or
    for a vehicle the volume — more than 10 % off the computed one.
    """
    recorder = recorded_by or operator
    run = task.run
    study = run.study
    _require_doser(recorder, study, "record doses")
    if operator != recorder:
        _require_doser(operator, study, "dose")
    if timezone.is_naive(given_at):
        raise ValidationError({"given_at": "The time must carry its time zone."})
    if given_at > timezone.now() + CLOCK_TOLERANCE:
        raise ValidationError({"given_at": "This time lies in the future."})
    volume = _decimal("volume_ul", volume_ul, places="0.1")
    if volume <= 0:
        raise ValidationError({"volume_ul": "Give the volume injected, above 0 µL."})
    route = (route or "").strip().upper()
    if route not in {choice for choice, _ in RegimenItem._meta.get_field("route").choices or []}:
        raise ValidationError({"route": f"'{route}' is not a route (IP, IV, SC, PO, IT, IM)."})
    with transaction.atomic(), audited_change(reason=notes or None, required=False):
        current = _locked_dose_task(task)
        if expected_version is not None and current.row_version != expected_version:
            raise StaleWrite(current)
        item = current.regimen_item
        assert item is not None
        tag = current.animal.tag
        if not batch_serves(batch, item):
            raise ValidationError(
                {"batch": f"Batch {batch.lot} is not a formulation of this dose's agent."}
            )
        if batch.voided_at is not None:
            raise ValidationError({"batch": f"Batch {batch.lot} is voided: {batch.void_reason}"})
        lab = study.lab
        if batch.expires_at <= given_at:
            raise ValidationError(
                {
                    "batch": f"Batch {batch.lot} expired on "
                    f"{timezone.localtime(batch.expires_at, lab.zone):%Y-%m-%d %H:%M}: "
                    "an expired batch cannot be used for dosing."
                }
            )
        if batch.prepared_at > given_at:
            raise ValidationError(
                {"batch": f"Batch {batch.lot} was prepared after {given_at:%Y-%m-%d %H:%M}."}
            )
        context = _context(run, [current], at=given_at)
        context.batches = [batch]
        row = _row(context, current, batch_id=batch.pk)
        _refuse_unless_due(current, row)
        if row.state is RowState.WEIGH:
            raise ValidationError({"weight": f"Animal {tag}: {row.message}."})
        if row.state in (RowState.NO_BATCH, RowState.CANNOT_COMPUTE) or row.plan is None:
            raise ValidationError(f"Animal {tag}: {row.message or 'the dose cannot be computed'}.")
        plan = row.plan
        assert plan.volume_ul is not None
        protocol = context.protocols[item.pk]
        reference = row.weight_g or (row.weight.weight_g if row.weight else None)
        reference = reference or protocol.reference_weight_g
        limit = route_limit(route, protocol.parameters)
        if limit is not None and ml_per_kg(volume, reference) > limit:
            raise ValidationError(
                {
                    "volume_ul": f"Animal {tag}: {volume} µL {route} is "
                    f"{ml_per_kg(volume, reference):.1f} mL/kg for {reference} g, above the "
                    f"{route} limit of {limit.normalize():f} mL/kg: refused."
                }
            )
        amount = (volume * batch.concentration_mg_per_ml / 1000).quantize(
            _MICRO, rounding=ROUND_HALF_UP
        )
        reduce = row.state_of_modifications.reduce
        record = DoseRecord(
            run=run,
            animal=current.animal,
            task=current,
            regimen_item=item,
            occurrence=current.occurrence,
            scheduled_for=current.scheduled_date or current.nominal_date,
            outcome=DoseOutcome.GIVEN,
            batch=batch,
            route=route,
            dose_basis=normalized_basis(item.dose_basis),
            dose=plan.dose,
            reduced_to_percent=reduce.reduced_to_percent if reduce is not None else None,
            modification=reduce,
            weight_g=row.weight_g,
            weight_taken_at=row.weight.taken_at
            if row.weight is not None and row.weight_source == "own weight"
            else None,
            tumour_count=row.tumour_count or None,
            planned_amount_mg=plan.amount_mg,
            planned_volume_ul=plan.volume_ul,
            amount_mg=amount,
            volume_ul=volume,
            given_at=given_at,
            operator=operator,
            notes=(notes or "").strip(),
            recorded_by=recorder,
        )
        record.full_clean(exclude=["task"])
        record.save()
        deviations = _deviations(record, current, item, lab.local_date(given_at))
        DoseDeviation.objects.bulk_create(deviations)
        Task.objects.filter(pk=current.pk).update(
            status=TaskStatus.DONE,
            completed_by=operator,
            completed_at=given_at,
            row_version=F("row_version") + 1,
        )
    return record


def _deviations(
    record: DoseRecord, task: Task, item: RegimenItem, given_on: dt.date
) -> list[DoseDeviation]:
    found: list[DoseDeviation] = []
    if record.route != item.route:
        found.append(
            DoseDeviation(
                dose=record,
                kind=DeviationKind.WRONG_ROUTE,
                detail=f"given {record.route}, the regimen says {item.route}",
            )
        )
    first = task.nominal_date - dt.timedelta(days=task.window_days)
    last = task.nominal_date + dt.timedelta(days=task.window_days)
    window = f"{first.isoformat()} to {last.isoformat()}" if first != last else first.isoformat()
    if given_on > last:
        found.append(
            DoseDeviation(
                dose=record,
                kind=DeviationKind.LATE,
                detail=f"given {given_on.isoformat()}, {(given_on - last).days} day(s) after the "
                f"permitted window ({window})",
            )
        )
    elif given_on < first:
        found.append(
            DoseDeviation(
                dose=record,
                kind=DeviationKind.EARLY,
                detail=f"given {given_on.isoformat()}, {(first - given_on).days} day(s) before "
                f"the permitted window ({window})",
            )
        )
    planned_amount, planned_volume = record.planned_amount_mg, record.planned_volume_ul
    if planned_amount is not None and planned_amount > 0 and record.amount_mg is not None:
        off = relative_difference(record.amount_mg, planned_amount)
        what = f"{record.amount_mg.normalize():f} mg for {planned_amount.normalize():f} mg"
    elif planned_volume is not None and planned_volume > 0 and record.volume_ul is not None:
        off = relative_difference(record.volume_ul, planned_volume)
        what = f"{record.volume_ul} µL for {planned_volume} µL"
    else:
        off = Decimal(0)
        what = ""
    if off > AMOUNT_TOLERANCE:
        found.append(
            DoseDeviation(
                dose=record,
                kind=DeviationKind.AMOUNT_OFF,
                detail=f"{what} computed: {(off * 100).quantize(_TENTH)} % off",
            )
        )
    return found


def record_missed_dose(*, task: Task, recorded_by: User, reason: str) -> DoseRecord:
    """Record that a due dose was not given (a deviation), with why. Held or skipped doses are
    per protocol and have nothing to record."""
    run = task.run
    _require_doser(recorded_by, run.study, "record doses")
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the dose was not given."})
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = _locked_dose_task(task)
        return _write_missed(current, recorded_by, reason.strip())


def _write_missed(task: Task, recorded_by: User, reason: str) -> DoseRecord:
    item = task.regimen_item
    assert item is not None
    context = _context(task.run, [task], at=timezone.now())
    row = _row(context, task)
    _refuse_unless_due(task, row)
    record = DoseRecord.objects.create(
        run=task.run,
        animal=task.animal,
        task=task,
        regimen_item=item,
        occurrence=task.occurrence,
        scheduled_for=task.scheduled_date or task.nominal_date,
        outcome=DoseOutcome.MISSED,
        dose_basis=normalized_basis(item.dose_basis),
        dose=item.dose,
        notes=reason,
        recorded_by=recorded_by,
    )
    DoseDeviation.objects.create(dose=record, kind=DeviationKind.MISSED, detail=reason[:300])
    Task.objects.filter(pk=task.pk).update(
        status=TaskStatus.MISSED, row_version=F("row_version") + 1
    )
    return record


def flag_missed_doses(
    *, run: StudyRun, recorded_by: User, today: dt.date | None = None
) -> list[DoseRecord]:
    """Record as missed every dose task of ``run`` still due after its permitted window closed
    (nominal date + window before ``today``). Held and skipped doses are not touched."""
    _require_doser(recorded_by, run.study, "record doses")
    day = today or lab_today(run.study.lab)
    records = []
    with transaction.atomic(), audited_change(reason="permitted window closed", required=False):
        for task in (
            _dose_tasks(run)
            .filter(status=TaskStatus.DUE)
            .select_for_update(of=("self",))
            .order_by("nominal_date", "animal__tag", "pk")
        ):
            if task.nominal_date + dt.timedelta(days=task.window_days) >= day:
                continue
            row = _row(_context(run, [task], at=timezone.now()), task)
            if row.state in (RowState.HELD, RowState.SKIPPED, RowState.OFF_STUDY):
                continue
            closed = task.nominal_date + dt.timedelta(days=task.window_days)
            records.append(
                _write_missed(
                    task,
                    recorded_by,
                    f"not given by the end of its window ({closed.isoformat()})",
                )
            )
    return records


def void_dose(*, dose: DoseRecord, voided_by: User, reason: str) -> DoseRecord:
    """Void a dose record entered in error: it stays in the record, and its task is due again."""
    _require_doser(voided_by, dose.run.study, "void dose records")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = DoseRecord.objects.select_for_update().get(pk=dose.pk)
        if current.voided_at is not None:
            raise ValidationError("This dose record is voided already.")
        DoseRecord.objects.filter(pk=current.pk).update(
            voided_at=timezone.now(),
            voided_by=voided_by,
            void_reason=reason.strip(),
            row_version=F("row_version") + 1,
        )
        if current.task_id is not None:
            Task.objects.filter(pk=current.task_id).update(
                status=TaskStatus.DUE,
                completed_by=None,
                completed_at=None,
                row_version=F("row_version") + 1,
            )
        current.refresh_from_db()
    return current


# -- writes: permitted modifications -------------------------------------------------------------


def _permits(
    kind: ModificationKind,
    parameters: DosingParameters | None,
    loss: Decimal | None,
    *,
    held: bool,
    not_palpable: bool,
) -> tuple[str, str]:
    """(rule, refusal): the protocol rule permitting ``kind`` for this weight loss, or why not."""
    if parameters is None:
        return "", "its dosing protocol has no valid parameters, so it permits no modification"
    hold = parameters.hold_at_weight_loss_percent
    resume = parameters.resume_below_weight_loss_percent
    loss_text = "no weight loss known" if loss is None else f"a weight loss of {loss} %"
    if kind is ModificationKind.HOLD:
        if hold is None:
            return "", "its dosing protocol permits no hold"
        if held:
            return "", "it is on hold already"
        if loss is None or loss < Decimal(str(hold)):
            return "", f"the protocol holds at ≥ {hold:g} % weight loss; the animal has {loss_text}"
        return f"hold at weight loss ≥ {hold:g} %", ""
    if kind is ModificationKind.RESUME:
        if not held:
            return "", "it is not on hold"
        if resume is None:
            return "", "its dosing protocol names no weight loss to resume below"
        if loss is None or loss >= Decimal(str(resume)):
            return (
                "",
                f"the protocol resumes below {resume:g} % weight loss; the animal has {loss_text}",
            )
        return f"resume when weight loss < {resume:g} %", ""
    if kind is ModificationKind.REDUCE:
        if parameters.reduced_dose_percent is None:
            return "", "its dosing protocol permits no reduced dose"
        return f"reduce to {parameters.reduced_dose_percent:g} %", ""
    if parameters.skip_when_tumour_not_palpable and not_palpable:
        return "skip when the tumour is not palpable", ""
    if hold is not None and loss is not None and loss >= Decimal(str(hold)):
        return f"skip at weight loss ≥ {hold:g} %", ""
    return "", (
        "the protocol permits a skip only for a non-palpable tumour (IT) or at its hold "
        f"threshold; the animal has {loss_text}: record the dose as missed instead"
    )


def _sync_tasks(animal: Animal, item_ids: Sequence[int], since: dt.date) -> int:
    """Rewrite the status of ``animal``'s dose tasks of ``item_ids`` dated ``since`` or later
    that are not recorded (due, or skipped by a modification) to what the modifications in
    force say. Tasks the working calendar skipped stay skipped. Returns how many changed."""
    modifications = _modifications_by_animal([animal.pk]).get(animal.pk, [])
    changed = 0
    tasks = (
        Task.objects.annotate(task_date=Coalesce("scheduled_date", "nominal_date"))
        .filter(
            animal=animal,
            kind=TaskKind.DOSE,
            regimen_item_id__in=list(item_ids),
            status__in=[TaskStatus.DUE, TaskStatus.SKIPPED],
            scheduled_date__isnull=False,
            task_date__gte=since,
        )
        .select_for_update(of=("self",))
    )
    for task in tasks:
        assert task.regimen_item_id is not None
        state = item_state(
            modifications,
            item_id=task.regimen_item_id,
            occurrence=task.occurrence,
            on=task.scheduled_date or task.nominal_date,
        )
        wanted = TaskStatus.SKIPPED if state.withheld is not None else TaskStatus.DUE
        if task.status != wanted:
            Task.objects.filter(pk=task.pk).update(status=wanted, row_version=F("row_version") + 1)
            changed += 1
    return changed


def reapply_dose_modifications(*, animals: Iterable[Animal], since: dt.date) -> int:
    """Put the permitted modifications in force back on ``animals``' dose tasks dated ``since``
    or later: a re-expanded schedule (after an amendment or a calendar change) writes its tasks
    as due, and a held or skipped animal must stay held or skipped. Only animals with
    modifications are touched; called inside the expansion's transaction. Returns how many
    tasks changed."""
    by_animal: dict[int, set[int]] = defaultdict(set)
    for animal_id, item_id in DoseModification.objects.filter(animal__in=list(animals)).values_list(
        "animal_id", "regimen_item_id"
    ):
        by_animal[animal_id].add(item_id)
    changed = 0
    for animal in Animal.objects.filter(pk__in=list(by_animal)):
        changed += _sync_tasks(animal, sorted(by_animal[animal.pk]), since)
    return changed


def apply_dose_modification(
    *,
    animal: Animal,
    kind: ModificationKind | str,
    decided_by: User,
    reason: str,
    regimen_item: RegimenItem | None = None,
    effective_from: dt.date | None = None,
    weight: Measurement | None = None,
    occurrence: int | None = None,
) -> list[DoseModification]:
    """Apply a modification the dosing protocol permits to ``animal`` — hold, resume, reduce or
    skip — for ``regimen_item`` (default: each item of its arm whose protocol permits it).

    The weight that triggers it is ``weight`` (default: the animal's latest weight); the weight
    loss is relative to :func:`baseline_weight`. Hold: loss ≥ the protocol's hold threshold;
    resume: on hold and loss below the resume threshold; reduce: to the protocol's reduced dose
    percent; skip (one occurrence, default the next due one): tumour not palpable for IT dosing
    that skips those, or loss at the hold threshold. Only this animal's dose tasks from
    ``effective_from`` (default today) are rewritten (held/skipped tasks become skipped,
    resumed ones due again); doses computed later use the reduced dose. Refused with the
    protocol's rule when not permitted; nothing then changes. Reported as per protocol.
    """
    study = animal.run.study
    require_role(decided_by, study.lab, RECORDERS, action="apply dose modifications")
    if not blinding_for(decided_by, study).sees_dosing:
        raise PermissionDenied("Only those who see dosing may apply dose modifications.")
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why (e.g. the weight loss observed)."})
    try:
        kind = ModificationKind(kind)
    except ValueError:
        raise ValidationError({"kind": f"'{kind}' is not hold, resume, reduce or skip."}) from None
    if animal.arm_id is None:
        raise ValidationError(f"Animal {animal.tag} is not randomized: it has no doses.")
    if animal.status != AnimalStatus.ON_STUDY and kind is not ModificationKind.HOLD:
        raise ValidationError(f"Animal {animal.tag} is no longer on study.")
    lab = study.lab
    day = effective_from or lab_today(lab)
    items = list(
        RegimenItem.objects.filter(arm_id=animal.arm_id).select_related("protocol_version")
    )
    if regimen_item is not None:
        if regimen_item.arm_id != animal.arm_id:
            raise ValidationError(
                {"regimen_item": f"This regimen item is not of animal {animal.tag}'s arm."}
            )
        items = [regimen_item]
    if weight is None:
        latest = latest_weights([animal.pk], at=timezone.now()).get(animal.pk)
        weight = Measurement.objects.get(pk=latest.measurement_id) if latest else None
    elif weight.animal_id != animal.pk or weight.kind != MeasurementKind.WEIGHT:
        raise ValidationError({"weight": f"This is not a body weight of animal {animal.tag}."})
    if weight is not None and weight.voided_at is not None:
        raise ValidationError({"weight": "This weight is voided."})
    if weight is not None and lab.local_date(weight.taken_at) > day:
        raise ValidationError(
            {"effective_from": "A modification cannot take effect before its weight was taken."}
        )
    if kind in (ModificationKind.HOLD, ModificationKind.RESUME) and weight is None:
        raise ValidationError({"weight": f"Weigh animal {animal.tag} first: a {kind} needs it."})
    baseline = baseline_weight(animal)
    loss = (
        weight_loss_percent(baseline, weight.weight_g)
        if weight is not None and weight.weight_g is not None and baseline
        else None
    )
    not_palpable = _tumour_counts([animal.pk], palpable_only=True).get(animal.pk, 0) == 0
    modifications = _modifications_by_animal([animal.pk]).get(animal.pk, [])
    decided: list[tuple[RegimenItem, str, int | None, Decimal | None]] = []
    refusals: list[str] = []
    for item in items:
        parameters = item_protocol(item).parameters
        held = item_state(modifications, item_id=item.pk, occurrence=0, on=day).hold is not None
        rule, refusal = _permits(kind, parameters, loss, held=held, not_palpable=not_palpable)
        if refusal:
            refusals.append(f"{_item_name(decided_by, item)}: {refusal}")
            continue
        which = occurrence
        if kind is ModificationKind.SKIP and which is None:
            upcoming = (
                Task.objects.annotate(task_date=Coalesce("scheduled_date", "nominal_date"))
                .filter(
                    animal=animal,
                    regimen_item=item,
                    status=TaskStatus.DUE,
                    task_date__gte=day,
                )
                .order_by("task_date", "occurrence")
                .first()
            )
            if upcoming is None:
                refusals.append(f"{_item_name(decided_by, item)}: no due dose left to skip")
                continue
            which = upcoming.occurrence
        percent = (
            Decimal(str(parameters.reduced_dose_percent))
            if kind is ModificationKind.REDUCE
            and parameters is not None
            and parameters.reduced_dose_percent is not None
            else None
        )
        decided.append((item, rule, which, percent))
    if not decided:
        raise ValidationError(
            f"Not a permitted modification for animal {animal.tag}: " + "; ".join(refusals)
        )
    created: list[DoseModification] = []
    with transaction.atomic(), audited_change(reason=reason, required=True):
        Animal.objects.select_for_update().filter(pk=animal.pk).first()
        for item, rule, which, percent in decided:
            created.append(
                DoseModification.objects.create(
                    run=animal.run,
                    animal=animal,
                    regimen_item=item,
                    kind=kind,
                    effective_from=day,
                    occurrence=which if kind is ModificationKind.SKIP else None,
                    reduced_to_percent=percent,
                    trigger_measurement=weight,
                    trigger_weight_g=weight.weight_g if weight is not None else None,
                    baseline_weight_g=baseline if weight is not None else None,
                    weight_loss_percent=loss,
                    rule=rule,
                    reason=reason.strip(),
                    decided_by=decided_by,
                )
            )
        for modification in created:
            changed = _sync_tasks(animal, [modification.regimen_item_id], day)
            DoseModification.objects.filter(pk=modification.pk).update(tasks_changed=changed)
            modification.tasks_changed = changed
    return created


def _item_name(user: UserLike, item: RegimenItem) -> str:
    """How a refusal names a regimen item: the agent for those who see agents, else its order."""
    if sees_agents(user, item.arm.study):
        return item.agent
    return f"dosing item {item.order + 1}"


# -- dose tasks as a reader may see them (Today, worksheet, task API) ------------------------------


class DoseTaskNames:
    """How dose tasks read for one user, wherever they are listed (DESIGN invariant 4).

    Those who see agents get the agent, dose and route. A blinded doser of a double-blind study
    gets the code on the vial instead — the coded labels of the batches that serve the task's
    regimen item (the usable ones first) — and the route: never the agent, the dose or whether
    it is the vehicle. Everyone else gets no dose details at all (the callers decide that).
    Two queries per study, cached for the instance's life (one request).
    """

    def __init__(self, user: UserLike) -> None:
        self.user = user
        self._agents: dict[int, bool] = {}
        self._batches: dict[int, list[FormulationBatch]] = {}

    def sees_agents(self, study: Study) -> bool:
        if study.pk not in self._agents:
            self._agents[study.pk] = sees_agents(self.user, study)
        return self._agents[study.pk]

    def code(self, item: RegimenItem, study: Study, *, at: dt.datetime | None = None) -> str:
        """The vial code(s) of ``item``: usable batches' codes, else any valid batch's."""
        if study.pk not in self._batches:
            self._batches[study.pk] = list(
                FormulationBatch.objects.filter(study=study, voided_at__isnull=True)
                .exclude(coded_label="")
                .order_by("expires_at", "pk")
            )
        moment = at or timezone.now()
        serving = [
            batch
            for batch in self._batches[study.pk]
            if batch.agent == item.agent
            and (batch.regimen_item_id is None or batch.regimen_item_id == item.pk)
        ]
        usable = [b for b in serving if b.prepared_at <= moment < b.expires_at] or serving
        codes = list(dict.fromkeys(batch.coded_label for batch in usable))
        return " / ".join(codes) if codes else "coded formulation"

    def coded(self, task: Task) -> str | None:
        """The coded name of a dose task for this user, ``None`` when they see agents."""
        item = task.regimen_item
        if task.kind != TaskKind.DOSE or item is None:
            return None
        study = task.run.study
        if self.sees_agents(study):
            return None
        return self.code(item, study)

    def api(self, task: Task) -> dict[str, Any] | None:
        """The task API's ``dosing`` field for a reader who sees dosing."""
        item = task.regimen_item
        if task.kind != TaskKind.DOSE or item is None:
            return None
        code = self.coded(task)
        if code is not None:
            return {"formulation": code, "route": item.route}
        return {
            "agent": item.agent,
            "dose": str(item.dose.normalize()),
            "dose_basis": item.dose_basis,
            "route": item.route,
            "is_vehicle": item.is_vehicle,
        }


@dataclass(frozen=True)
class WorksheetDose:
    """A dose task as the dosers' copy of the daily worksheet prints it."""

    label: str
    volume_ul: Decimal | None


def worksheet_doses(
    *, user: UserLike, run: StudyRun, day: dt.date, tasks: Sequence[Task]
) -> dict[int, WorksheetDose]:
    """Per dose task: the line and volume the dosers' copy prints, computed as the dosing list
    computes them — from the concentration of the formulation batch in use (the usable batch
    expiring first), named on the line, never the protocol's nominal concentration.

    Without a usable batch the line says so and prints the nominal volume as nominal. A task
    that cannot be dosed (weigh first, held, over the route limit …) prints why, no volume.
    Blinded dosers of a double-blind study get vial codes, never agents, lots or doses.
    """
    dose_tasks = [t for t in tasks if t.kind == TaskKind.DOSE and t.regimen_item is not None]
    if not dose_tasks:
        return {}
    names = DoseTaskNames(user)
    shows = names.sees_agents(run.study)
    found: dict[int, WorksheetDose] = {}
    for row in dosing_list(user=user, run=run, day=day, tasks=dose_tasks):
        item = row.item
        batch = row.batch or (row.dose_record.batch if row.dose_record else None)
        if shows:
            name = f"{item.agent} {dose_text(item, row.plan.dose if row.plan else None)}"
        elif batch is not None and batch.coded_label:
            name = batch.coded_label
        else:
            name = names.code(item, run.study)
        head = f"Dose {name} {item.route}"
        if row.state is RowState.DUE and row.plan is not None and row.batch is not None:
            used = (
                f"batch {row.batch.lot} at {row.batch.concentration_mg_per_ml.normalize():f} mg/mL"
                if shows
                else f"vial {row.batch.coded_label or 'coded'}"
            )
            found[row.task.pk] = WorksheetDose(
                f"{head}: {row.plan.volume_ul} µL ({row.weight_source or 'fixed'}; {used})",
                row.plan.volume_ul,
            )
        elif row.state is RowState.NO_BATCH:
            from labnotes.services.prints import dose_volume_for

            nominal = dose_volume_for(item, row.weight_g)
            text = f"{head}: no usable formulation batch — prepare one"
            if nominal is not None:
                text += f" (nominal {nominal} µL)"
            found[row.task.pk] = WorksheetDose(text, None)
        else:
            found[row.task.pk] = WorksheetDose(
                f"{head}: {row.message or row.state.value.replace('_', ' ')}", None
            )
    return found


# -- display helpers shared by pages and API ----------------------------------------------------


def amount_text(amount_mg: Decimal | None) -> str:
    """An amount for people: µg below 1 mg, else mg."""
    if amount_mg is None:
        return "—"
    if amount_mg < 1:
        return f"{(amount_mg * 1000).quantize(Decimal('0.01')).normalize():f} µg"
    return f"{amount_mg.quantize(Decimal('0.001')).normalize():f} mg"


def dose_text(item: RegimenItem, dose: Decimal | None = None) -> str:
    value = item.dose if dose is None else dose
    unit = "mg/kg" if normalized_basis(item.dose_basis) in _PER_KG else "µg"
    return f"{Decimal(value).normalize():f} {unit}"
