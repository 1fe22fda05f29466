"""Dosing: batches, the dosing list's amounts and volumes per dose basis, recording doses with
their deviations, route volume limits and the protocol's permitted modifications.

Expected numbers are worked out by hand from the inputs in each test's comments (mg/kg × kg ÷
mg/mL = mL), never taken from the code under test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from labnotes.models import (
    DeviationKind,
    DoseDeviation,
    DoseModification,
    DoseOutcome,
    DoseRecord,
    Implantation,
    TaskStatus,
)
from labnotes.selectors import list_tasks_for_day
from labnotes.services import dosing
from labnotes.services.animals import record_implantation
from labnotes.services.dosing import (
    RowState,
    apply_dose_modification,
    create_formulation_batch,
    dosing_list,
    dosing_row,
    flag_missed_doses,
    plan_dose,
    record_dose,
    record_missed_dose,
)
from planner.models import RegimenItem
from tests.labnotes.builders import released_version
from tests.labnotes.test_dosing_support import DosingRun, build_dosing_run, lab_today, weigh

pytestmark = pytest.mark.django_db


@pytest.fixture
def dr(design: Any, run: Any) -> DosingRun:
    return build_dosing_run(design, run)


def _row(dr: DosingRun, task: Any, batch_id: int | None = None) -> Any:
    return dosing_row(user=dr.design.doser, task=task, batch_id=batch_id)


def _now() -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=1)


# -- amounts and volumes per dose basis ----------------------------------------------------------


def test_own_weight_basis_gives_dose_times_weight_over_concentration(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    weigh(animal, "20.00", dr.design.technician)
    row = _row(dr, dr.today_task(animal))
    # 100 mg/kg × 0.020 kg = 2 mg; 2 mg ÷ 10 mg/mL = 0.2 mL = 200 µL
    assert row.state is RowState.DUE, row.message
    assert row.plan.amount_mg == Decimal("2")
    assert row.plan.volume_ul == Decimal("200.0")
    assert row.weight_g == Decimal("20.00")


def test_arm_mean_basis_uses_the_mean_of_the_arms_recent_weights(dr: DosingRun) -> None:
    animals = dr.animals("G3")
    assert len(animals) >= 2
    grams = ["18.00", "22.00", "20.00", "24.00", "16.00"][: len(animals)]
    for animal, value in zip(animals, grams, strict=True):
        weigh(animal, value, dr.design.technician)
    mean = sum((Decimal(g) for g in grams), Decimal(0)) / len(grams)
    row = _row(dr, dr.today_task(animals[0]))
    # 5 mg/kg × mean g ÷ 1000 = amount mg; at 1 mg/mL the volume is amount × 1000 µL
    assert row.state is RowState.DUE, row.message
    assert row.weight_g == mean.quantize(Decimal("0.01"))
    assert row.plan.amount_mg == (5 * mean / 1000).quantize(Decimal("0.000001"))
    assert row.plan.volume_ul == (5 * mean).quantize(Decimal("0.1"))
    # every animal of the arm gets the same volume, whatever its own weight
    other = _row(dr, dr.today_task(animals[1]))
    assert other.plan.volume_ul == row.plan.volume_ul


def _fixed_item(dr: DosingRun, basis: str, route: str) -> RegimenItem:
    """Turn G1's item into IL-12 1 µg at 0.05 mg/mL, 20 µL fixed, per animal or per tumour."""
    version = released_version(
        dr.design.lab,
        dr.design.director,
        "dosing",
        f"IL-12 {basis}",
        {
            "agent": "IL-12",
            "vehicle": "PBS",
            "concentration_mg_per_ml": 0.05,
            "dose_basis": basis,
            "route": route,
            "dose_ug": 1,
            "volume_ul": 20,
        },
    )
    item = dr.items["G1"]
    RegimenItem.objects.filter(pk=item.pk).update(
        protocol_version=version, agent="IL-12", dose=1, dose_basis=basis, route=route
    )
    create_formulation_batch(
        study=dr.design.study,
        agent="IL-12",
        lot="IL12-1",
        concentration_mg_per_ml="0.05",
        vehicle="PBS",
        prepared_by=dr.design.doser,
        prepared_at=timezone.now() - dt.timedelta(days=1),
        expires_at=timezone.now() + dt.timedelta(days=5),
        recorded_by=dr.design.doser,
    )
    return RegimenItem.objects.get(pk=item.pk)


def test_fixed_per_animal_basis_gives_the_fixed_amount(dr: DosingRun) -> None:
    _fixed_item(dr, "fixed_per_animal", "SC")
    animal = dr.animals("G1")[0]
    row = _row(dr, dr.today_task(animal))
    # 1 µg = 0.001 mg; 0.001 mg ÷ 0.05 mg/mL = 0.02 mL = 20 µL
    assert row.state is RowState.DUE, row.message
    assert row.plan.amount_mg == Decimal("0.001")
    assert row.plan.volume_ul == Decimal("20.0")


def test_fixed_per_tumour_basis_multiplies_by_the_injected_tumours(dr: DosingRun) -> None:
    _fixed_item(dr, "fixed_per_tumour", "IT")
    animal = dr.animals("G1")[0]
    record_implantation(
        animal=animal,
        site="left flank",
        implanted_on=dr.run.day0,
        cells=500_000,
        operator=dr.design.technician,
    )
    assert Implantation.objects.filter(tumour__animal=animal).count() == 2
    row = _row(dr, dr.today_task(animal))
    # 2 tumours × 1 µg = 2 µg = 0.002 mg; ÷ 0.05 mg/mL = 0.04 mL = 40 µL
    assert row.tumour_count == 2
    assert row.plan.amount_mg == Decimal("0.002")
    assert row.plan.volume_ul == Decimal("40.0")


def test_vehicle_volume_is_the_protocols_volume_per_kg(dr: DosingRun) -> None:
    animal = dr.animals("G1")[0]
    weigh(animal, "21.50", dr.design.technician)
    row = _row(dr, dr.today_task(animal))
    # no amount (vehicle); 10 mL/kg × 21.5 g = 215 µL
    assert row.plan.amount_mg == Decimal("0")
    assert row.plan.volume_ul == Decimal("215.0")


def test_plan_dose_applies_a_reduction_to_the_amount() -> None:
    plan = plan_dose(
        basis="per_kg_own_weight",
        dose=Decimal("100"),
        weight_g=Decimal("18.00"),
        tumour_count=1,
        concentration_mg_per_ml=Decimal("10"),
        reduced_to_percent=Decimal("75"),
    )
    # 100 mg/kg × 75 % = 75 mg/kg; × 0.018 kg = 1.35 mg; ÷ 10 mg/mL = 135 µL
    assert plan.dose == Decimal("75")
    assert plan.amount_mg == Decimal("1.35")
    assert plan.volume_ul == Decimal("135.0")


def test_weight_older_than_the_protocol_allows_asks_to_weigh(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    # the staging weight is a week old (8 lab days just after the lab's midnight); the
    # protocol default allows 3
    weight = animal.measurements.get(kind="weight")
    age = (lab_today() - dr.design.lab.local_date(weight.taken_at)).days
    assert age in (7, 8)
    row = _row(dr, dr.today_task(animal))
    assert row.state is RowState.WEIGH
    assert f"{age} days old" in row.message and "allows 3" in row.message
    with pytest.raises(ValidationError, match="weigh first"):
        record_dose(
            task=dr.today_task(animal),
            batch=dr.batches["G2"],
            volume_ul="200",
            given_at=_now(),
            route="IP",
            operator=dr.design.doser,
        )
    assert not DoseRecord.objects.exists()


# -- batches -------------------------------------------------------------------------------------


def test_dose_from_an_expired_batch_is_refused_and_writes_nothing(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    weigh(animal, "20.00", dr.design.technician)
    expired = create_formulation_batch(
        study=dr.design.study,
        agent="cyclophosphamide",
        lot="CPA-OLD",
        concentration_mg_per_ml="10",
        vehicle="0.9 % saline",
        prepared_by=dr.design.doser,
        prepared_at=timezone.now() - dt.timedelta(days=20),
        expires_at=timezone.now() - dt.timedelta(days=2),
        recorded_by=dr.design.doser,
    )
    task = dr.today_task(animal)
    with pytest.raises(ValidationError) as caught:
        record_dose(
            task=task,
            batch=expired,
            volume_ul="200",
            given_at=_now(),
            route="IP",
            operator=dr.design.doser,
        )
    assert "CPA-OLD expired" in str(caught.value)
    assert not DoseRecord.objects.exists()
    task.refresh_from_db()
    assert task.status == TaskStatus.DUE
    # and the list never offers it
    assert expired not in _row(dr, task).batches


def test_batch_of_an_agent_outside_the_regimen_is_refused(dr: DosingRun) -> None:
    with pytest.raises(ValidationError, match="not an agent"):
        create_formulation_batch(
            study=dr.design.study,
            agent="aspirin",
            lot="X-1",
            concentration_mg_per_ml="1",
            vehicle="water",
            prepared_by=dr.design.doser,
            prepared_at=timezone.now(),
            expires_at=timezone.now() + dt.timedelta(days=1),
            recorded_by=dr.design.doser,
        )


# -- recording and deviations --------------------------------------------------------------------


def _record(dr: DosingRun, task: Any, code: str, **overrides: Any) -> DoseRecord:
    values: dict[str, Any] = {
        "task": task,
        "batch": dr.batches[code],
        "volume_ul": "200",
        "given_at": _now(),
        "route": "IP",
        "operator": dr.design.doser,
    }
    values.update(overrides)
    return record_dose(**values)


def _kinds(record: DoseRecord) -> set[str]:
    return set(DoseDeviation.objects.filter(dose=record).values_list("kind", flat=True))


def test_dose_per_protocol_has_no_deviation_and_marks_the_task_done(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    weigh(animal, "20.00", dr.design.technician)
    task = dr.today_task(animal)
    record = _record(dr, task, "G2", volume_ul="205")  # 2.5 % over 200 µL: within 10 %
    assert record.outcome == DoseOutcome.GIVEN
    # 205 µL × 10 mg/mL = 2.05 mg given for 2 mg planned
    assert record.amount_mg == Decimal("2.05")
    assert record.planned_amount_mg == Decimal("2")
    assert _kinds(record) == set()
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    with pytest.raises(ValidationError, match="recorded already"):
        _record(dr, task, "G2")


def test_more_than_ten_percent_off_is_a_deviation(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    weigh(animal, "20.00", dr.design.technician)
    record = _record(dr, dr.today_task(animal), "G2", volume_ul="225")  # 12.5 % over
    assert _kinds(record) == {DeviationKind.AMOUNT_OFF}
    detail = DoseDeviation.objects.get(dose=record).detail
    assert "12.5 % off" in detail


def test_wrong_route_is_a_deviation(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    weigh(animal, "20.00", dr.design.technician)
    record = _record(dr, dr.today_task(animal), "G2", route="SC")
    assert _kinds(record) == {DeviationKind.WRONG_ROUTE}


def test_dose_after_the_window_is_late(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    weigh(animal, "20.00", dr.design.technician)
    # the R+4 dose was due 3 days ago with a window of 0 days
    task = dr.tasks(animal)[1]
    assert task.date == lab_today() - dt.timedelta(days=3)
    record = _record(dr, task, "G2")
    assert _kinds(record) == {DeviationKind.LATE}
    assert "3 day(s) after" in DoseDeviation.objects.get(dose=record).detail


def test_missed_doses_are_deviations_and_flagging_skips_held_ones(dr: DosingRun) -> None:
    first, second = dr.animals("G2")[:2]
    record = record_missed_dose(
        task=dr.tasks(first)[0], recorded_by=dr.design.doser, reason="animal escaped briefly"
    )
    assert record.outcome == DoseOutcome.MISSED
    assert _kinds(record) == {DeviationKind.MISSED}
    # the second animal is held per protocol from R+4 on (23 % loss): its R+4 dose is not missed
    weigh(second, "15.00", dr.design.technician, ago=dt.timedelta(days=3, hours=1))
    apply_dose_modification(
        animal=second,
        kind="hold",
        decided_by=dr.design.scientist,
        reason="weight loss",
        effective_from=lab_today() - dt.timedelta(days=3),
    )
    flagged = flag_missed_doses(run=dr.run, recorded_by=dr.design.doser)
    past_due = {r.animal_id for r in flagged}
    assert second.pk in past_due  # its R+1 dose, before the hold, was missed
    assert all(r.occurrence == 1 for r in flagged if r.animal_id == second.pk)
    assert first.pk in past_due  # its R+4 dose
    assert all(_kinds(r) == {DeviationKind.MISSED} for r in flagged)
    # nothing due today or later is flagged
    assert all(r.scheduled_for < lab_today() for r in flagged)


# -- route volume limits -------------------------------------------------------------------------


def test_volume_over_the_route_limit_is_refused(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    weigh(animal, "20.00", dr.design.technician)
    task = dr.today_task(animal)
    # IP limit 20 mL/kg × 20 g = 400 µL: 401 µL is refused, 400 µL accepted (as 100 % off)
    with pytest.raises(ValidationError, match="above the IP limit of 20 mL/kg"):
        _record(dr, task, "G2", volume_ul="401")
    assert not DoseRecord.objects.exists()
    # the same 120 µL given IV (limit 5 mL/kg × 20 g = 100 µL) is refused too
    with pytest.raises(ValidationError, match="above the IV limit of 5 mL/kg"):
        _record(dr, task, "G2", volume_ul="120", route="IV")
    record = _record(dr, task, "G2", volume_ul="400")
    assert _kinds(record) == {DeviationKind.AMOUNT_OFF}


def test_a_computed_volume_over_the_limit_is_shown_refused(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    weigh(animal, "20.00", dr.design.technician)
    # a weak batch: 2 mg at 2 mg/mL = 1000 µL = 50 mL/kg for 20 g, above IP's 20 mL/kg
    weak = create_formulation_batch(
        study=dr.design.study,
        agent="cyclophosphamide",
        lot="CPA-WEAK",
        concentration_mg_per_ml="2",
        vehicle="saline",
        prepared_by=dr.design.doser,
        prepared_at=timezone.now() - dt.timedelta(hours=2),
        expires_at=timezone.now() + dt.timedelta(days=3),
        recorded_by=dr.design.doser,
    )
    row = _row(dr, dr.today_task(animal), batch_id=weak.pk)
    assert row.state is RowState.OVER_LIMIT
    assert "1000.0 µL" in row.message


# -- permitted modifications ---------------------------------------------------------------------


def test_hold_after_fifteen_percent_loss_rewrites_only_that_animals_future_doses(
    dr: DosingRun,
) -> None:
    held, other = dr.animals("G2")[:2]
    baseline = dosing.baseline_weight(held)
    assert baseline is not None
    # 16 % below the baseline: at or above the 15 % hold threshold
    lost = (baseline * Decimal("0.84")).quantize(Decimal("0.01"))
    reading = weigh(held, str(lost), dr.design.technician)
    past = dr.tasks(held)[0]
    before_other = {t.pk: t.status for t in dr.tasks(other)}
    (modification,) = apply_dose_modification(
        animal=held, kind="hold", decided_by=dr.design.scientist, reason="16 % weight loss"
    )
    assert modification.trigger_measurement == reading
    assert modification.weight_loss_percent == Decimal("16.0")
    assert modification.rule == "hold at weight loss ≥ 15 %"
    today = lab_today()
    statuses = {t.occurrence: t.status for t in dr.tasks(held)}
    assert statuses[3] == TaskStatus.SKIPPED and statuses[4] == TaskStatus.SKIPPED
    assert statuses[past.occurrence] == TaskStatus.DUE  # before the hold: untouched
    assert modification.tasks_changed == 2
    assert {t.pk: t.status for t in dr.tasks(other)} == before_other
    row = _row(dr, dr.today_task(held))
    assert row.state is RowState.HELD and "held per protocol" in row.message
    with pytest.raises(ValidationError, match="not to be dosed"):
        _record(dr, dr.today_task(held), "G2")
    # held doses are per protocol: nothing is flagged for them, ever
    flag_missed_doses(run=dr.run, recorded_by=dr.design.doser, today=today + dt.timedelta(days=9))
    assert not DoseDeviation.objects.filter(dose__animal=held, dose__occurrence__gte=3).exists()
    # resume is refused until the loss is below 10 %
    with pytest.raises(ValidationError, match="resumes below 10 %"):
        apply_dose_modification(
            animal=held, kind="resume", decided_by=dr.design.scientist, reason="better"
        )
    weigh(
        held,
        str((baseline * Decimal("0.95")).quantize(Decimal("0.01"))),
        dr.design.doser,
        ago=dt.timedelta(minutes=1),
        reason="weighed again before dosing",
    )
    apply_dose_modification(
        animal=held, kind="resume", decided_by=dr.design.scientist, reason="weight back"
    )
    assert dr.today_task(held).status == TaskStatus.DUE


def test_hold_below_the_threshold_is_refused(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    baseline = dosing.baseline_weight(animal)
    assert baseline is not None
    weigh(animal, str((baseline * Decimal("0.90")).quantize(Decimal("0.01"))), dr.design.doser)
    with pytest.raises(ValidationError, match="holds at ≥ 15 % weight loss"):
        apply_dose_modification(
            animal=animal, kind="hold", decided_by=dr.design.scientist, reason="thin"
        )
    assert not DoseModification.objects.exists()
    assert all(t.status == TaskStatus.DUE for t in dr.tasks(animal))


def test_reduce_changes_the_amount_of_later_doses_only(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    weigh(animal, "20.00", dr.design.technician)
    (modification,) = apply_dose_modification(
        animal=animal, kind="reduce", decided_by=dr.design.scientist, reason="tolerability"
    )
    assert modification.reduced_to_percent == Decimal("75.0")
    row = _row(dr, dr.today_task(animal))
    # 100 mg/kg × 75 % × 0.020 kg = 1.5 mg; ÷ 10 mg/mL = 150 µL
    assert row.plan.amount_mg == Decimal("1.5")
    assert row.plan.volume_ul == Decimal("150.0")
    record = _record(dr, dr.today_task(animal), "G2", volume_ul="150")
    assert _kinds(record) == set()  # per protocol: not a deviation
    assert record.reduced_to_percent == Decimal("75.0")
    other = dr.animals("G2")[1]
    weigh(other, "20.00", dr.design.technician)
    assert _row(dr, dr.today_task(other)).plan.volume_ul == Decimal("200.0")


def test_modification_the_protocol_does_not_permit_is_refused(dr: DosingRun) -> None:
    animal = dr.animals("G4")[0]
    weigh(animal, "10.00", dr.design.technician)  # a large loss, but G4 permits no hold
    with pytest.raises(ValidationError, match="permits no hold"):
        apply_dose_modification(
            animal=animal, kind="hold", decided_by=dr.design.scientist, reason="loss"
        )


# -- who may dose --------------------------------------------------------------------------------


def test_only_members_who_may_dose_get_the_list_and_record(dr: DosingRun) -> None:
    animal = dr.animals("G2")[0]
    weigh(animal, "20.00", dr.design.technician)
    task = dr.today_task(animal)
    for user in (dr.design.technician, dr.design.director):
        with pytest.raises(PermissionDenied):
            dosing_list(user=user, run=dr.run, day=lab_today(), tasks=[task])
        with pytest.raises(PermissionDenied):
            _record(dr, task, "G2", operator=user)
    rows = dosing_list(
        user=dr.design.doser,
        run=dr.run,
        day=lab_today(),
        tasks=list_tasks_for_day(dr.design.doser, day=lab_today()).filter(run=dr.run, kind="dose"),
    )
    assert {r.animal.pk for r in rows} >= {animal.pk}
