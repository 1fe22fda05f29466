"""Randomization through the service: each method, batches, immutability, voiding, blinding."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import ProgrammingError, connection, transaction
from django.utils import timezone

from labnotes.analysis.randomization import largest_smd_of
from labnotes.models import Animal, BatchStatus, RandomizationBatch, Task
from labnotes.selectors import staging_rows
from labnotes.services.animals import exclude_animal
from labnotes.services.randomization import (
    apply_randomization,
    preview_randomization,
    void_randomization,
)
from labnotes.services.runs import start_study_run
from tests.labnotes.builders import build_design
from tests.labnotes.conftest import stage

pytestmark = pytest.mark.django_db


def _sizes(batch):
    counts: dict[str, int] = {}
    for row in batch.allocation:
        counts[row["arm_code"]] = counts.get(row["arm_code"], 0) + 1
    return counts


@pytest.mark.parametrize("method", ["simple", "stratified", "balance"])
def test_preview_randomization_gives_planned_sizes_when_40_animals_go_to_4_arms(
    design, run, method
):
    stage(design, run, 40)
    batch = preview_randomization(
        run=run, requested_by=design.scientist, method=method, seed=11, candidates=2000
    )
    assert batch.method == method and batch.status == "previewed"
    assert _sizes(batch) == {"G1": 10, "G2": 10, "G3": 10, "G4": 10}
    assert batch.seed == 11 and batch.numpy_version == np.__version__
    assert batch.bit_generator == "PCG64"
    assert len(batch.inputs["animals"]) == 40
    assert Animal.objects.filter(arm__isnull=False).count() == 0


def test_balance_method_keeps_largest_volume_smd_below_0_1(design, run):
    stage(design, run, 40)
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=3)
    assert batch.balance["largest_smd"]["volume_mm3"] < 0.1
    volumes = np.array([e["volume_mm3"] for e in batch.inputs["animals"]])
    codes = sorted({row["arm_code"] for row in batch.allocation})
    arm = np.array([codes.index(row["arm_code"]) for row in batch.allocation])
    assert largest_smd_of(arm, volumes, 4) == pytest.approx(
        batch.balance["largest_smd"]["volume_mm3"], abs=1e-6
    )


def test_preview_randomization_repeats_allocation_when_seed_is_the_same(design, run):
    stage(design, run, 40)
    first = preview_randomization(run=run, requested_by=design.scientist, seed=99, candidates=500)
    second = preview_randomization(run=run, requested_by=design.scientist, seed=99, candidates=500)
    assert first.allocation == second.allocation
    first.refresh_from_db()
    assert first.status == BatchStatus.DISCARDED


def test_apply_randomization_sets_arms_treatment_start_and_tasks(design, run):
    stage(design, run, 40)
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=5, candidates=500)
    applied = apply_randomization(batch=batch, applied_by=design.scientist)
    assert applied.status == "applied" and applied.applied_by == design.scientist
    today = design.lab.local_date(timezone.now())
    animals = Animal.objects.filter(run=run)
    assert animals.filter(arm__isnull=True).count() == 0
    assert set(animals.values_list("treatment_start_date", flat=True)) == {today}
    dose_tasks = Task.objects.filter(kind="dose")
    assert dose_tasks.count() == 40 * 4  # Q3Dx4 from R+1 per animal
    first_dose = dose_tasks.order_by("nominal_date").first()
    assert first_dose.nominal_date == today + dt.timedelta(days=1)
    assert Task.objects.filter(kind="measure").exists()
    assert staging_rows(run) == []


def test_two_batches_are_balanced_together_when_enrolment_rolls(design, run):
    stage(design, run, 20, seed=1)
    first = preview_randomization(run=run, requested_by=design.scientist, seed=1, candidates=1000)
    apply_randomization(batch=first, applied_by=design.scientist)
    stage(design, run, 20, seed=2, start=21)
    second = preview_randomization(run=run, requested_by=design.scientist, seed=2, candidates=1000)
    assert second.number == 2 and len(second.allocation) == 20
    assert [row["n"] for row in second.balance["arms"]] == [10, 10, 10, 10]
    assert second.balance["largest_smd"]["volume_mm3"] < 0.1
    apply_randomization(batch=second, applied_by=design.scientist)
    counts = {
        code: Animal.objects.filter(arm__code=code).count() for code in ["G1", "G2", "G3", "G4"]
    }
    assert counts == {"G1": 10, "G2": 10, "G3": 10, "G4": 10}


def test_applied_batch_is_immutable_in_the_database(design, run):
    stage(design, run, 8)
    batch = apply_randomization(
        batch=preview_randomization(run=run, requested_by=design.scientist, seed=1, candidates=50),
        applied_by=design.scientist,
    )
    for statement in (
        "UPDATE labnotes_randomizationbatch SET seed = 2 WHERE id = %s",
        "UPDATE labnotes_randomizationbatch SET allocation = '[]' WHERE id = %s",
        "UPDATE labnotes_randomizationbatch SET status = 'previewed' WHERE id = %s",
        "UPDATE labnotes_randomizationbatch SET status = 'voided', seed = 3, void_reason = 'x' "
        "WHERE id = %s",
        "DELETE FROM labnotes_randomizationbatch WHERE id = %s",
    ):
        with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement, [batch.pk])
    batch.refresh_from_db()
    assert batch.seed == 1 and batch.status == "applied"


def test_void_randomization_clears_arms_and_then_batch_is_frozen(design, run):
    stage(design, run, 8)
    batch = apply_randomization(
        batch=preview_randomization(run=run, requested_by=design.scientist, seed=1, candidates=50),
        applied_by=design.scientist,
    )
    with pytest.raises(ValidationError, match="reason"):
        void_randomization(batch=batch, voided_by=design.scientist, reason="")
    voided = void_randomization(
        batch=batch, voided_by=design.scientist, reason="wrong staging volumes"
    )
    assert voided.status == "voided" and voided.void_reason == "wrong staging volumes"
    assert voided.allocation == batch.allocation
    assert Animal.objects.filter(arm__isnull=False).count() == 0
    assert Task.objects.filter(status="due").count() == 0
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE labnotes_randomizationbatch SET void_reason = 'y' WHERE id = %s", [batch.pk]
        )
    again = preview_randomization(run=run, requested_by=design.scientist, seed=2, candidates=50)
    assert again.number == 1 and len(again.allocation) == 8


def test_randomization_refused_when_user_is_blinded(design, run):
    from planner.models import StudyMember

    stage(design, run, 8)
    with pytest.raises(PermissionDenied, match="Only Lab admin, Scientist, Study director"):
        preview_randomization(run=run, requested_by=design.technician)
    StudyMember.objects.filter(study=design.study, user=design.scientist).update(unblinded=False)
    with pytest.raises(PermissionDenied, match="unblinded members"):
        preview_randomization(run=run, requested_by=design.scientist)
    assert RandomizationBatch.objects.count() == 0


def test_randomization_refused_when_animals_exceed_planned_places(lab):
    design = build_design(lab=lab, planned_n=2)
    run = start_study_run(
        study=design.study,
        code="R",
        day0=timezone.localdate() - dt.timedelta(days=10),
        started_by=design.director,
    )
    stage(design, run, 9)
    with pytest.raises(ValidationError, match="8 planned places left"):
        preview_randomization(run=run, requested_by=design.scientist)


def test_apply_randomization_refused_when_animal_excluded_after_preview(design, run):
    animals = stage(design, run, 8)
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=1, candidates=50)
    exclude_animal(animal=animals[0], reason="sick", excluded_by=design.scientist)
    with pytest.raises(ValidationError):
        apply_randomization(batch=batch, applied_by=design.scientist)
    assert Animal.objects.filter(arm__isnull=False).count() == 0


def test_satellites_are_drawn_per_arm_and_get_takedown_tasks(lab):
    design = build_design(lab=lab, planned_n=8, satellites=2)
    run = start_study_run(
        study=design.study,
        code="R",
        day0=timezone.localdate() - dt.timedelta(days=10),
        started_by=design.director,
    )
    stage(design, run, 40)
    batch = apply_randomization(
        batch=preview_randomization(run=run, requested_by=design.scientist, seed=4, candidates=200),
        applied_by=design.scientist,
    )
    assert sum(row["satellite"] for row in batch.allocation) == 8
    for arm in design.arms:
        assert Animal.objects.filter(arm=arm, is_satellite=True).count() == 2
    takedowns = Task.objects.filter(kind="takedown")
    assert takedowns.count() == 8
    assert {t.study_day for t in takedowns} == {20}


def test_staging_rows_mark_eligibility_against_protocol_window(design, run):
    from labnotes.services.measurements import record_measurement

    animals = stage(design, run, 3)
    tumour = animals[0].tumours.get()
    record_measurement(
        tumour=tumour,
        length_mm=12,
        width_mm=10,
        taken_at=timezone.now(),
        operator=design.technician,
        reason="re-measured",
    )
    rows = {row.animal.tag: row for row in staging_rows(run)}
    assert rows["0001"].volume_mm3 == 600
    assert not rows["0001"].eligible and "outside 50-150" in rows["0001"].reason
    assert rows["0002"].eligible and rows["0003"].eligible


def test_apply_randomization_writes_past_tasks_as_due_when_randomized_on_is_back_dated(design, run):
    from labnotes.selectors import list_tasks_for_day
    from labnotes.services.schedule import expand_run_tasks

    stage(design, run, 8)
    today = design.lab.local_date(timezone.now())
    randomized_on = today - dt.timedelta(days=8)
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=5, candidates=50)
    applied = apply_randomization(
        batch=batch, applied_by=design.scientist, randomized_on=randomized_on
    )
    assert applied.randomized_on == randomized_on
    assert set(Animal.objects.filter(run=run).values_list("treatment_start_date", flat=True)) == {
        randomized_on
    }
    doses = Task.objects.filter(kind="dose")
    # Q3Dx4 from R+1: R+1, R+4, R+7 are past, R+10 is in two days.
    assert doses.count() == 8 * 4
    assert sorted({t.nominal_date for t in doses}) == [
        randomized_on + dt.timedelta(days=offset) for offset in (1, 4, 7, 10)
    ]
    past = Task.objects.filter(nominal_date__lt=today)
    assert past.filter(kind="dose").count() == 8 * 3
    assert past.filter(kind="measure").exists()
    assert set(past.values_list("status", flat=True)) <= {"due", "skipped"}
    overdue = list_tasks_for_day(design.scientist, day=today).filter(task_date__lt=today)
    assert overdue.filter(kind="dose").count() == past.filter(kind="dose", status="due").count()
    kept = set(past.values_list("pk", flat=True))
    expand_run_tasks(run=run, requested_by=design.scientist)
    assert set(Task.objects.filter(nominal_date__lt=today).values_list("pk", flat=True)) == kept
    assert Task.objects.filter(kind="dose").count() == 8 * 4


def test_apply_randomization_refused_when_randomized_on_is_in_future_or_before_day0(design, run):
    stage(design, run, 8)
    today = design.lab.local_date(timezone.now())
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=5, candidates=50)
    with pytest.raises(ValidationError, match="in the future"):
        apply_randomization(
            batch=batch, applied_by=design.scientist, randomized_on=today + dt.timedelta(days=1)
        )
    with pytest.raises(ValidationError, match="before the run's day 0"):
        apply_randomization(
            batch=batch, applied_by=design.scientist, randomized_on=run.day0 - dt.timedelta(days=1)
        )
    batch.refresh_from_db()
    assert batch.status == "previewed"
    assert Animal.objects.filter(arm__isnull=False).count() == 0
    assert Task.objects.count() == 0


def test_apply_randomization_refused_when_batch_is_dated_before_the_previous_batch(design, run):
    stage(design, run, 8, seed=1)
    today = design.lab.local_date(timezone.now())
    first = preview_randomization(run=run, requested_by=design.scientist, seed=1, candidates=50)
    apply_randomization(
        batch=first, applied_by=design.scientist, randomized_on=today - dt.timedelta(days=3)
    )
    stage(design, run, 8, seed=2, start=9)
    second = preview_randomization(run=run, requested_by=design.scientist, seed=2, candidates=50)
    with pytest.raises(ValidationError, match="before the previous batch"):
        apply_randomization(
            batch=second, applied_by=design.scientist, randomized_on=today - dt.timedelta(days=5)
        )
    applied = apply_randomization(
        batch=second, applied_by=design.scientist, randomized_on=today - dt.timedelta(days=1)
    )
    assert applied.status == "applied"
    assert Animal.objects.filter(treatment_start_date=today - dt.timedelta(days=1)).count() == 8


def test_void_randomization_removes_overdue_unrecorded_tasks_of_a_back_dated_batch(design, run):
    stage(design, run, 8)
    today = design.lab.local_date(timezone.now())
    batch = apply_randomization(
        batch=preview_randomization(run=run, requested_by=design.scientist, seed=1, candidates=50),
        applied_by=design.scientist,
        randomized_on=today - dt.timedelta(days=6),
    )
    assert Task.objects.filter(nominal_date__lt=today, status="due").exists()
    void_randomization(batch=batch, voided_by=design.scientist, reason="wrong animals")
    assert Task.objects.filter(status="due").count() == 0


def test_sample_collection_tasks_are_expanded_only_for_satellites_up_to_takedown(lab):
    from planner.models import ProcedureRole, StudyProcedure
    from tests.labnotes.builders import released_version

    design = build_design(lab=lab, planned_n=8, satellites=2)
    for day, tissue in ((14, "serum"), (25, "spleen")):
        StudyProcedure.objects.create(
            study=design.study,
            role=ProcedureRole.SAMPLE_COLLECTION,
            protocol_version=released_version(
                lab,
                design.director,
                "sample_collection",
                f"{tissue} day {day}",
                {
                    "tissue": tissue,
                    "timing": "fixed_day",
                    "study_day": day,
                    "processing": "spin, aliquot, -80 °C",
                    **({"volume_ul": 100} if tissue == "serum" else {}),
                },
            ),
        )
    run = start_study_run(
        study=design.study,
        code="R",
        day0=timezone.localdate() - dt.timedelta(days=10),
        started_by=design.director,
    )
    stage(design, run, 40)
    apply_randomization(
        batch=preview_randomization(run=run, requested_by=design.scientist, seed=4, candidates=50),
        applied_by=design.scientist,
    )
    satellites = set(Animal.objects.filter(is_satellite=True).values_list("pk", flat=True))
    assert len(satellites) == 8
    samples = Task.objects.filter(kind="sample")
    # day 14 serum for each satellite; day 25 spleen is after their day-20 takedown
    assert set(samples.values_list("animal_id", flat=True)) == satellites
    assert samples.count() == 8
    assert set(samples.values_list("study_day", flat=True)) == {14}
    assert Task.objects.filter(kind="measure").exclude(animal_id__in=satellites).exists()


def test_apply_randomization_task_rows_carry_the_audit_context_of_the_animal_updates(design, run):
    from planner.audit import audit_context

    stage(design, run, 8)
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=2, candidates=20)
    with audit_context(username="audit-probe", client="command"):
        apply_randomization(batch=batch, applied_by=design.scientist)
    task_events = Task.pgh_event_models["insert"].objects.filter(run_id=run.pk)
    animal_events = Animal.pgh_event_models["update"].objects.filter(
        run_id=run.pk, arm_id__isnull=False
    )
    assert task_events.count() == Task.objects.filter(run=run).count() > 8 * 4
    assert animal_events.count() == 8
    contexts = {e.pgh_context_id for e in task_events} | {e.pgh_context_id for e in animal_events}
    assert len(contexts) == 1 and None not in contexts
    assert {e.pgh_context["username"] for e in task_events} == {"audit-probe"}


def _whole_cage_protocol(design):
    from planner.models import StudyProcedure
    from tests.labnotes.builders import released_version

    version = released_version(
        design.lab,
        design.director,
        "randomization",
        "Randomization by cage",
        {
            "eligible_volume_min_mm3": 50,
            "eligible_volume_max_mm3": 150,
            "method": "covariate_balance",
            "covariates": ["tumour_volume"],
            "cage_constraint": "whole_cages",
            "max_batches": 3,
        },
    )
    StudyProcedure.objects.filter(study=design.study, role="randomization").update(
        protocol_version=version
    )


def _house(design, run, animals, cage_sizes):
    from labnotes.services.animals import create_cage, move_animals

    start = 0
    for number, size in enumerate(cage_sizes, start=1):
        cage = create_cage(
            lab=design.lab, run=run, label=f"K{number}", capacity=size, created_by=design.technician
        )
        move_animals(animals=animals[start : start + size], cage=cage, moved_by=design.technician)
        start += size


def test_preview_randomization_allocates_whole_cages_when_protocol_says_so(design, run):
    _whole_cage_protocol(design)
    animals = stage(design, run, 40)
    _house(design, run, animals, [5] * 8)
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=6)
    assert batch.inputs["cage_constraint"] == "whole_cages"
    assert _sizes(batch) == {"G1": 10, "G2": 10, "G3": 10, "G4": 10}
    assert batch.balance["cage_note"] == ""
    cage_of = {entry["animal_id"]: entry["cage"] for entry in batch.inputs["animals"]}
    arms_by_cage: dict[str, set[str]] = {}
    for row in batch.allocation:
        arms_by_cage.setdefault(cage_of[row["animal_id"]], set()).add(row["arm_code"])
    assert len(arms_by_cage) == 8 and all(len(arms) == 1 for arms in arms_by_cage.values())
    again = preview_randomization(run=run, requested_by=design.scientist, seed=6)
    assert again.allocation == batch.allocation


def test_preview_randomization_explains_sizes_when_cages_cannot_meet_the_plan(design, run):
    _whole_cage_protocol(design)
    animals = stage(design, run, 40)
    _house(design, run, animals, [3] * 13 + [1])
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=6)
    sizes = _sizes(batch)
    assert sum(sizes.values()) == 40 and sorted(sizes.values()) != [10, 10, 10, 10]
    note = batch.balance["cage_note"]
    assert "arms of exactly 10/10/10/10" in note and "closest allocation" in note


def test_preview_randomization_refused_when_whole_cages_and_an_animal_has_no_cage(design, run):
    _whole_cage_protocol(design)
    animals = stage(design, run, 8)
    _house(design, run, animals[:5], [5])
    with pytest.raises(ValidationError, match="0006: in no cage"):
        preview_randomization(run=run, requested_by=design.scientist, seed=1)
    assert RandomizationBatch.objects.count() == 0
