"""Randomization of a run's animals in batches: preview, apply (immutable), void with a reason.

The algorithms live in :mod:`labnotes.analysis.randomization` (pure, shared with the analysis
command); this service chooses the animals, snapshots their covariates, calls the algorithm,
stores everything needed to reproduce the result, and applies it to the animals.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from labnotes.analysis import randomization as algorithms
from labnotes.models import (
    Animal,
    AnimalStatus,
    BatchMethod,
    BatchStatus,
    RandomizationBatch,
    StudyRun,
    Task,
    TaskKind,
    TaskStatus,
)
from labnotes.selectors import (
    allocation_visible,
    latest_readings,
    randomization_parameters,
    staging_rows,
)
from labnotes.services.common import DECIDERS, lab_today
from labnotes.services.schedule import cancel_future_tasks, expand_tasks_after_randomization
from planner.audit import audited_change
from planner.domain.protocol_parameters import (
    CageConstraint,
    Covariate,
    RandomizationMethod,
    RandomizationParameters,
)
from planner.models import Arm
from planner.services.permissions import require_role

_METHODS = {
    RandomizationMethod.SIMPLE: BatchMethod.SIMPLE,
    RandomizationMethod.STRATIFIED_VOLUME: BatchMethod.STRATIFIED,
    RandomizationMethod.COVARIATE_BALANCE: BatchMethod.BALANCE,
}


def _check_may_randomize(user: User, run: StudyRun) -> None:
    require_role(user, run.study.lab, DECIDERS, action="randomize")
    if not allocation_visible(user, run.study):
        raise PermissionDenied(
            "Randomizing shows the allocation: only unblinded members of this study may do it."
        )


def _arms(run: StudyRun) -> list[Arm]:
    arms = list(run.study.arms.prefetch_related("satellites").order_by("order", "pk"))
    if len(arms) < 2:
        raise ValidationError("The design has fewer than two arms: there is nothing to allocate.")
    return arms


def _planned_totals(arms: Sequence[Arm]) -> list[int]:
    """Animals an arm takes: its planned n plus its satellite animals."""
    return [arm.planned_n + sum(s.n for s in arm.satellites.all()) for arm in arms]


def _float_or_none(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _cohort(
    entries: Sequence[dict[str, Any]], use_weight: bool, use_cage: bool
) -> algorithms.Cohort:
    return algorithms.Cohort(
        animals=tuple(str(entry["animal_id"]) for entry in entries),
        volume_mm3=np.array([entry["volume_mm3"] for entry in entries], dtype=np.float64),
        weight_g=np.array([entry["weight_g"] for entry in entries], dtype=np.float64)
        if use_weight
        else None,
        cage=tuple(str(entry["cage"] or "-") for entry in entries) if use_cage else None,
    )


def _already_allocated(
    run: StudyRun, arms: Sequence[Arm]
) -> tuple[list[dict[str, Any]], list[int]]:
    """Inputs and arms (0-based) of animals of applied batches, as snapshotted then."""
    index = {arm.pk: position for position, arm in enumerate(arms)}
    entries: list[dict[str, Any]] = []
    arm_of: list[int] = []
    for batch in RandomizationBatch.objects.filter(run=run, status=BatchStatus.APPLIED).order_by(
        "number"
    ):
        allocated = {row["animal_id"]: row for row in batch.allocation}
        for entry in batch.inputs["animals"]:
            entries.append(entry)
            arm_of.append(index[allocated[entry["animal_id"]]["arm_id"]])
    return entries, arm_of


def _choose_animals(run: StudyRun, animals: Sequence[Animal] | None) -> list[Animal]:
    rows = {row.animal.pk: row for row in staging_rows(run)}
    if animals is None:
        chosen = [row.animal for row in rows.values() if row.eligible]
        if not chosen:
            raise ValidationError("No animal is eligible for randomization yet.")
        return sorted(chosen, key=lambda a: a.tag)
    problems: list[str] = []
    for animal in animals:
        row = rows.get(animal.pk)
        if animal.run_id != run.pk:
            problems.append(f"{animal.tag}: not an animal of this run")
        elif row is None:
            problems.append(f"{animal.tag}: randomized already or no longer on study")
        elif not row.eligible:
            problems.append(f"{animal.tag}: not eligible ({row.reason})")
    if problems:
        raise ValidationError({"animals": problems})
    if len({a.pk for a in animals}) != len(animals):
        raise ValidationError({"animals": "An animal is listed twice."})
    return sorted(animals, key=lambda a: a.tag)


def preview_randomization(
    *,
    run: StudyRun,
    requested_by: User,
    animals: Sequence[Animal] | None = None,
    method: str | None = None,
    seed: int | None = None,
    candidates: int = algorithms.DEFAULT_CANDIDATES,
) -> RandomizationBatch:
    """Allocate the eligible (or the given) animals to the design's arms; store it as a preview.

    The method comes from the design's randomization protocol unless ``method`` overrides it
    (simple, stratified, balance). Arm sizes follow the planned n (plus satellites); a later
    batch is balanced against the animals already allocated (their covariates as snapshotted
    when they were randomized) and sized so that the running totals stay as planned. Satellite
    animals are drawn at random within each arm from the same generator. The seed (random when
    not given), numpy version, bit generator, the inputs, the allocation and the running
    balance table are stored; a newer preview discards the older ones.
    """
    _check_may_randomize(requested_by, run)
    parameters = randomization_parameters(run.study)
    batch_method = (
        BatchMethod(method)
        if method
        else (_METHODS[parameters.method] if parameters is not None else BatchMethod.BALANCE)
    )
    if batch_method == BatchMethod.IMPORTED:
        raise ValidationError(
            {"method": "Imported allocations come from an import, not a preview."}
        )
    whole_cages = (
        parameters is not None and parameters.cage_constraint is CageConstraint.WHOLE_CAGES
    )
    applied = RandomizationBatch.objects.filter(run=run, status=BatchStatus.APPLIED).count()
    max_batches = parameters.max_batches if parameters is not None else 1
    if applied >= max_batches:
        raise ValidationError(
            f"The protocol allows {max_batches} randomization batch(es) and {applied} are applied."
        )
    arms = _arms(run)
    chosen = _choose_animals(run, animals)
    use_weight = _uses_weight(parameters, batch_method)
    readings = latest_readings(chosen)
    cages = {row.animal.pk: row.cage_label for row in staging_rows(run)}
    entries: list[dict[str, Any]] = []
    missing_weight: list[str] = []
    for animal in chosen:
        slot = readings[animal.pk]
        if use_weight and slot.get("weight_g") is None:
            missing_weight.append(animal.tag)
        entries.append(
            {
                "animal_id": animal.pk,
                "tag": animal.tag,
                "volume_mm3": _float_or_none(slot.get("volume_mm3")),
                "weight_g": _float_or_none(slot.get("weight_g")),
                "cage": cages.get(animal.pk),
            }
        )
    if missing_weight:
        raise ValidationError(
            {"animals": [f"{tag}: no body weight to balance on" for tag in missing_weight]}
        )
    if whole_cages:
        unhoused = [entry["tag"] for entry in entries if not entry["cage"]]
        if unhoused:
            raise ValidationError(
                {
                    "animals": [
                        f"{tag}: in no cage (the protocol allocates whole cages)"
                        for tag in unhoused
                    ]
                }
            )
    earlier, earlier_arm = _already_allocated(run, arms)
    planned = _planned_totals(arms)
    spread = parameters is not None and parameters.cage_constraint is CageConstraint.MIXED_CAGES
    existing_sizes = np.bincount(np.array(earlier_arm, dtype=np.int64), minlength=len(arms))
    try:
        sizes = algorithms.batch_sizes(existing_sizes.astype(int).tolist(), len(entries), planned)
    except ValueError:
        left = sum(planned) - len(earlier)
        raise ValidationError(
            f"{len(entries)} animals chosen but the design has {left} planned places left."
        ) from None
    seed_value = seed if seed is not None else secrets.randbits(62)
    if seed_value < 0:
        raise ValidationError({"seed": "The seed must not be negative."})
    rng = np.random.default_rng(seed_value)
    new = _cohort(entries, use_weight, spread or whole_cages)
    constraint = algorithms.CageConstraint.SPREAD if spread else algorithms.CageConstraint.NONE
    cage_note = ""
    try:
        if whole_cages:
            cage_result = algorithms.randomize_whole_cages(
                new,
                len(arms),
                rng,
                planned_sizes=sizes,
                # One draw is simple cage randomization; the search over cages converges with
                # far fewer draws than over animals (there are ~5 times fewer units).
                candidates=1
                if batch_method == BatchMethod.SIMPLE
                else min(candidates, WHOLE_CAGE_CANDIDATES),
                forced=_cages_allocated_before(earlier, earlier_arm),
                allocated=_cohort(earlier, use_weight, False) if earlier else None,
                allocated_arm=earlier_arm if earlier else None,
            )
            result = cage_result.allocation
            cage_note = cage_result.message
        elif batch_method == BatchMethod.SIMPLE:
            result = algorithms.randomize_simple(new, len(arms), rng, planned_sizes=sizes)
        elif batch_method == BatchMethod.STRATIFIED:
            result = algorithms.randomize_stratified(new, len(arms), rng, planned_sizes=sizes)
        elif earlier:
            result = algorithms.randomize_batch(
                _cohort(earlier, use_weight, spread),
                earlier_arm,
                new,
                len(arms),
                rng,
                planned_sizes=planned,
                candidates=candidates,
                cage_constraint=constraint,
            )
        else:
            result = algorithms.randomize_balanced(
                new,
                len(arms),
                rng,
                planned_sizes=sizes,
                candidates=candidates,
                cage_constraint=constraint,
            )
    except ValueError as error:
        raise ValidationError(f"The randomization cannot be done: {error}") from None
    satellites = _draw_satellites(run, arms, result.arm, rng)
    allocation = [
        {
            "animal_id": entry["animal_id"],
            "tag": entry["tag"],
            "arm_id": arms[int(a)].pk,
            "arm_code": arms[int(a)].code,
            "satellite": position in satellites,
        }
        for position, (entry, a) in enumerate(zip(entries, result.arm, strict=True))
    ]
    everyone = earlier + entries
    table = algorithms.balance_table(
        _cohort(everyone, use_weight, False), earlier_arm + [int(a) for a in result.arm], len(arms)
    )
    provenance = result.provenance
    with transaction.atomic(), audited_change(reason=None, required=False):
        StudyRun.objects.select_for_update().filter(pk=run.pk).first()
        RandomizationBatch.objects.filter(run=run, status=BatchStatus.PREVIEWED).update(
            status=BatchStatus.DISCARDED, row_version=F("row_version") + 1
        )
        batch = RandomizationBatch.objects.create(
            run=run,
            number=applied + 1,
            method=batch_method,
            seed=seed_value,
            numpy_version=provenance.numpy_version,
            bit_generator=provenance.bit_generator,
            candidates=result.candidates_searched,
            inputs={
                "animals": entries,
                "covariates": list(new.covariates),
                "cage_constraint": "whole_cages" if whole_cages else constraint.value,
                "planned_sizes": planned,
                "batch_sizes": sizes,
                "arm_codes": [arm.code for arm in arms],
            },
            allocation=allocation,
            balance={
                **_balance_json(table, arms, result.criterion_largest_smd),
                "cage_note": cage_note,
            },
            randomized_on=lab_today(run.study.lab),
            previewed_by=requested_by,
        )
    return batch


WHOLE_CAGE_CANDIDATES = 1_000


def _cages_allocated_before(
    earlier: Sequence[dict[str, Any]], earlier_arm: Sequence[int]
) -> dict[str, int]:
    """Cages whose animals were allocated in an earlier batch: their cage-mates follow them."""
    decided: dict[str, int] = {}
    for entry, arm in zip(earlier, earlier_arm, strict=True):
        cage = entry.get("cage")
        if not cage:
            continue
        if decided.setdefault(cage, arm) != arm:
            raise ValidationError(
                f"Cage {cage} holds animals of different arms from earlier batches: whole-cage "
                "randomization cannot place its new animals."
            )
    return decided


def _uses_weight(parameters: RandomizationParameters | None, method: str) -> bool:
    if method != BatchMethod.BALANCE:
        return False
    if parameters is None:
        return False
    return Covariate.BODY_WEIGHT in parameters.covariates


def _draw_satellites(
    run: StudyRun, arms: Sequence[Arm], arm_of: Any, rng: np.random.Generator
) -> set[int]:
    """Positions of new animals that become satellites: within each arm with satellite places
    left, a random choice (after the allocation, from the same generator)."""
    chosen: set[int] = set()
    for index, arm in enumerate(arms):
        places = sum(s.n for s in arm.satellites.all())
        if not places:
            continue
        taken = Animal.objects.filter(run=run, arm=arm, is_satellite=True).count()
        members = [position for position, a in enumerate(arm_of) if int(a) == index]
        count = min(max(places - taken, 0), len(members))
        if count:
            picked = rng.permutation(len(members))[:count]
            chosen.update(members[int(p)] for p in picked)
    return chosen


def _number(value: float | None) -> float | None:
    import math

    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def _balance_json(
    table: algorithms.BalanceTable, arms: Sequence[Arm], criterion: float
) -> dict[str, Any]:
    """The running balance table, arms by code (never label)."""
    return {
        "arms": [
            {
                "arm_code": arms[row.arm].code,
                "n": row.n,
                **{f"{name}_mean": _number(s.mean) for name, s in row.covariates.items()},
                **{f"{name}_sd": _number(s.sd) for name, s in row.covariates.items()},
            }
            for row in table.arms
        ],
        "largest_smd": {name: _number(v) for name, v in table.largest_smd.items()},
        "anova_p": {name: _number(v) for name, v in table.anova_p.items()},
        "criterion_largest_smd": _number(criterion),
    }


def apply_randomization(
    *,
    batch: RandomizationBatch,
    applied_by: User,
    randomized_on: dt.date | None = None,
) -> RandomizationBatch:
    """Apply a previewed batch: each animal gets its arm and its treatment start (its
    randomization day R+0), then its tasks are expanded. The batch becomes immutable.

    ``randomized_on`` (default: the lab's today) records a randomization after the fact (an
    imported past study): the batch date and every animal's treatment start are that date and
    the tasks expand from it, the past ones included (due, so they show as overdue until someone
    records them). A date in the future, before the run's day 0 or before an earlier applied
    batch is refused.

    Refused when the preview is not the latest, an animal was allocated, excluded or left the
    study meanwhile, or the protocol's number of batches is reached.
    """
    run = batch.run
    _check_may_randomize(applied_by, run)
    today = lab_today(run.study.lab)
    day = randomized_on or today
    if day > today:
        raise ValidationError(
            {"randomized_on": f"{day.isoformat()} is in the future (today is {today.isoformat()})."}
        )
    if day < run.day0:
        raise ValidationError(
            {
                "randomized_on": f"{day.isoformat()} is before the run's day 0 "
                f"({run.day0.isoformat()})."
            }
        )
    with transaction.atomic(), audited_change(reason=None, required=False):
        StudyRun.objects.select_for_update().filter(pk=run.pk).first()
        current = RandomizationBatch.objects.select_for_update().get(pk=batch.pk)
        if current.status != BatchStatus.PREVIEWED:
            raise ValidationError(
                f"Batch {current.number} is {current.get_status_display().lower()}: only the "
                "latest preview can be applied."
            )
        applied = RandomizationBatch.objects.filter(run=run, status=BatchStatus.APPLIED)
        if applied.count() + 1 != current.number:
            raise ValidationError("Another batch was applied since this preview; preview again.")
        previous = applied.aggregate(last=Max("randomized_on"))["last"]
        if previous is not None and day < previous:
            raise ValidationError(
                {
                    "randomized_on": f"{day.isoformat()} is before the previous batch's "
                    f"randomization ({previous.isoformat()})."
                }
            )
        ids = [row["animal_id"] for row in current.allocation]
        animals = {a.pk: a for a in Animal.objects.select_for_update().filter(pk__in=ids)}
        stale = [
            row["tag"]
            for row in current.allocation
            if row["animal_id"] not in animals
            or animals[row["animal_id"]].arm_id is not None
            or animals[row["animal_id"]].status != AnimalStatus.ON_STUDY
        ]
        if stale:
            raise ValidationError(
                {
                    "animals": [
                        f"{tag}: allocated, excluded or off study since the preview"
                        for tag in stale
                    ]
                }
            )
        # One UPDATE per (arm, satellite) group, not one per animal; the audit trigger still
        # records every animal's change.
        groups: dict[tuple[int, bool], list[int]] = {}
        for row in current.allocation:
            groups.setdefault((row["arm_id"], bool(row["satellite"])), []).append(row["animal_id"])
        for (arm_id, satellite), members in sorted(groups.items()):
            Animal.objects.filter(pk__in=members).update(
                arm_id=arm_id,
                randomization_batch=current,
                treatment_start_date=day,
                is_satellite=satellite,
                row_version=F("row_version") + 1,
            )
        RandomizationBatch.objects.filter(pk=current.pk).update(
            status=BatchStatus.APPLIED,
            applied_by=applied_by,
            applied_at=timezone.now(),
            randomized_on=day,
            row_version=F("row_version") + 1,
        )
        expand_tasks_after_randomization(
            run, list(Animal.objects.filter(pk__in=ids)), today=today, since=day
        )
        current.refresh_from_db()
    return current


def void_randomization(
    *,
    batch: RandomizationBatch,
    voided_by: User,
    reason: str,
    today: dt.date | None = None,
) -> RandomizationBatch:
    """Void an applied batch with a reason: its animals lose their arm and unrecorded tasks,
    the batch stays (voided) for the record. Re-randomizing them is a new batch.

    Refused when a later batch is applied (it was balanced against this one: void it first) or
    when any of its animals was already dosed.
    """
    run = batch.run
    _check_may_randomize(voided_by, run)
    day = today or lab_today(run.study.lab)
    with transaction.atomic(), audited_change(reason=reason, required=True):
        StudyRun.objects.select_for_update().filter(pk=run.pk).first()
        current = RandomizationBatch.objects.select_for_update().get(pk=batch.pk)
        if current.status != BatchStatus.APPLIED:
            raise ValidationError("Only an applied batch can be voided.")
        later = RandomizationBatch.objects.filter(
            run=run, status=BatchStatus.APPLIED, number__gt=current.number
        ).aggregate(last=Max("number"))["last"]
        if later is not None:
            raise ValidationError(
                f"Batch {later} was balanced against this one: void batch {later} first."
            )
        animals = list(Animal.objects.select_for_update().filter(randomization_batch=current))
        if Task.objects.filter(
            animal__in=animals, kind=TaskKind.DOSE, status=TaskStatus.DONE
        ).exists():
            raise ValidationError(
                "Animals of this batch were dosed already: the allocation cannot be undone. "
                "Record a deviation instead."
            )
        # The allocation is void: its tasks that nobody recorded go, the overdue ones too (done
        # tasks stay, they are part of the record).
        cancel_future_tasks(animals=animals, today=min(current.randomized_on, day))
        Animal.objects.filter(pk__in=[a.pk for a in animals]).update(
            arm=None,
            randomization_batch=None,
            treatment_start_date=None,
            is_satellite=False,
            row_version=F("row_version") + 1,
        )
        RandomizationBatch.objects.filter(pk=current.pk).update(
            status=BatchStatus.VOIDED,
            voided_by=voided_by,
            voided_at=timezone.now(),
            void_reason=reason.strip(),
            row_version=F("row_version") + 1,
        )
        current.refresh_from_db()
    return current
