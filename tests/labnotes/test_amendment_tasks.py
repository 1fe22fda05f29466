"""An approved amendment regenerates the runs' tasks from its effective date on, and only those:
earlier tasks (done or due) stay as they were, done tasks are never repeated, and the result
is exactly what :func:`planner.services.amendments.planned_changes` says."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from labnotes.models import Animal, Task, TaskKind, TaskStatus
from labnotes.services.common import lab_today
from labnotes.services.locks import lock_run
from labnotes.services.randomization import apply_randomization, preview_randomization
from labnotes.services.schedule import complete_task
from planner.models import RegimenItem
from planner.services import amendments
from tests.labnotes.builders import released_version
from tests.labnotes.conftest import stage

pytestmark = pytest.mark.django_db


def _randomized(design: Any, run: Any) -> dt.date:
    """8 animals randomized today; arm G2's item gets a dosing protocol an amendment accepts."""
    version = released_version(
        design.lab,
        design.director,
        "dosing",
        "Agent 1 IP",
        {
            "agent": "agent-1",
            "vehicle": "saline",
            "concentration_mg_per_ml": 1,
            "dose_basis": "per_kg_own_weight",
            "route": "IP",
            "volume_ml_per_kg": 10,
        },
    )
    RegimenItem.objects.filter(arm=design.arms[1]).update(
        protocol_version=version, dose_basis="per_kg_own_weight"
    )
    stage(design, run, 8)
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=3, candidates=50)
    apply_randomization(batch=batch, applied_by=design.scientist)
    return lab_today(design.lab)


def _doses(animal: Animal) -> list[Task]:
    return list(Task.objects.filter(animal=animal, kind=TaskKind.DOSE).order_by("nominal_date"))


def _amend(design: Any, item: RegimenItem, schedule: str, effective: dt.date) -> Any:
    amendment = amendments.propose_amendment(
        study=design.study,
        reason="IL-12 every second day",
        effective_date=effective,
        scope="runs",
        changes={"regimen_items": [{"id": item.pk, "schedule": schedule}]},
        proposed_by=design.scientist,
    )
    return amendments.approve_amendment(amendment=amendment, approved_by=design.director)


def test_approved_amendment_regenerates_only_tasks_from_its_effective_date(design, run):
    today = _randomized(design, run)
    arm = design.arms[1]
    item = RegimenItem.objects.get(arm=arm)
    amended, other = list(Animal.objects.filter(arm=arm).order_by("tag"))[:2]
    other_arm_animal = Animal.objects.filter(arm=design.arms[2]).order_by("tag").first()
    # Q3Dx4 from R+1, randomized today: doses on today +1, +4, +7, +10.
    assert [t.nominal_date - today for t in _doses(amended)] == [
        dt.timedelta(days=d) for d in (1, 4, 7, 10)
    ]
    before = _doses(amended)[0]
    done_later = next(t for t in _doses(other) if t.nominal_date == today + dt.timedelta(days=7))
    complete_task(task=done_later, completed_by=design.technician)
    untouched = [
        (t.kind, t.nominal_date, t.status)
        for t in Task.objects.filter(animal=other_arm_animal).order_by("kind", "nominal_date")
    ]

    effective = today + dt.timedelta(days=4)
    amendment = _amend(design, item, "Q2Dx4 from R+1", effective)

    # Q2Dx4 from R+1: +1, +3, +5, +7. Before the effective date (+4) nothing changes (+3 is
    # not added to the past plan); from it on +4 and +10 go, +5 comes, +7 stays.
    expected = [today + dt.timedelta(days=d) for d in (1, 5, 7)]
    doses = _doses(amended)
    assert [t.nominal_date for t in doses] == expected
    assert doses[0].pk == before.pk and doses[0].row_version == before.row_version
    assert all(t.status == TaskStatus.DUE for t in doses)
    # The done dose on +7 is kept, not repeated.
    other_doses = _doses(other)
    assert [t.nominal_date for t in other_doses] == expected
    assert [t.pk for t in other_doses if t.status == TaskStatus.DONE] == [done_later.pk]
    # The same difference the planner computes from the schedules alone.
    effect = amendments.planned_changes(
        amendment=amendment,
        day0=run.day0,
        last_study_day=run.last_study_day,
        randomization_day=(today - run.day0).days,
    )[f"regimen_item:{item.pk}"]
    planned = {o.nominal_date for o in effect.kept_before + effect.unchanged_after + effect.added}
    assert planned == set(expected)
    # Other arms keep the same plan.
    assert [
        (t.kind, t.nominal_date, t.status)
        for t in Task.objects.filter(animal=other_arm_animal).order_by("kind", "nominal_date")
    ] == untouched
    # The new task rows carry the amendment's number and reason in the audit trail.
    added = next(t for t in doses if t.nominal_date == today + dt.timedelta(days=5))
    event = Task.pgh_event_models["insert"].objects.get(pgh_obj_id=added.pk)
    assert event.pgh_context["reason"] == f"amendment {amendment.number}: IL-12 every second day"


def test_amendment_in_force_since_the_past_leaves_past_tasks_as_recorded(design, run):
    today = _randomized(design, run)
    item = RegimenItem.objects.get(arm=design.arms[1])
    animal = Animal.objects.filter(arm=design.arms[1]).order_by("tag").first()
    Task.objects.filter(animal=animal, kind=TaskKind.DOSE).update(
        nominal_date=today - dt.timedelta(days=1), scheduled_date=None
    )  # pretend an old, unrecorded dose: overdue, part of the record
    overdue = _doses(animal)[0]
    _amend(design, item, "once on day 20", today - dt.timedelta(days=5))
    doses = _doses(animal)
    assert overdue.pk in [t.pk for t in doses]
    assert all(t.nominal_date < today or t.study_day == 20 for t in doses)


def test_endpoint_only_amendment_leaves_the_tasks_alone(design, run):
    _randomized(design, run)
    before = list(Task.objects.order_by("pk").values_list("pk", "row_version"))
    amendment = amendments.propose_amendment(
        study=design.study,
        reason="stricter volume limit",
        effective_date=lab_today(design.lab),
        scope="runs",
        changes={"humane_endpoints": {"max_volume_mm3": 1500}},
        proposed_by=design.scientist,
        ethics_amendment_reference="ETH-A1",
    )
    amendments.approve_amendment(amendment=amendment, approved_by=design.director)
    assert list(Task.objects.order_by("pk").values_list("pk", "row_version")) == before


def test_locked_run_keeps_its_tasks_when_an_amendment_is_approved(design, run):
    today = _randomized(design, run)
    item = RegimenItem.objects.get(arm=design.arms[1])
    lock_run(run=run, by=design.director, reason="data review")
    before = list(Task.objects.order_by("pk").values_list("pk", "nominal_date"))
    _amend(design, item, "Q2Dx4 from R+1", today + dt.timedelta(days=4))
    assert list(Task.objects.order_by("pk").values_list("pk", "nominal_date")) == before


def test_approval_is_refused_and_writes_nothing_when_the_tasks_cannot_be_regenerated(design, run):
    today = _randomized(design, run)
    item = RegimenItem.objects.get(arm=design.arms[1])
    amendment = amendments.propose_amendment(
        study=design.study,
        reason="every weekday",
        effective_date=today + dt.timedelta(days=2),
        scope="runs",
        changes={"regimen_items": [{"id": item.pk, "schedule": "QDx3 from R+1"}]},
        proposed_by=design.scientist,
    )
    before = list(Task.objects.order_by("pk").values_list("pk", "nominal_date"))

    def refuse(amendment: Any, approved_by: Any) -> None:
        raise ValidationError("cannot regenerate")

    amendments.register_approval_listener(refuse)
    try:
        with pytest.raises(ValidationError, match="cannot regenerate"):
            amendments.approve_amendment(amendment=amendment, approved_by=design.director)
    finally:
        amendments._APPROVAL_LISTENERS.remove(refuse)
    amendment.refresh_from_db()
    item.refresh_from_db()
    assert amendment.status == "proposed" and item.schedule == "Q3Dx4 from R+1"
    assert list(Task.objects.order_by("pk").values_list("pk", "nominal_date")) == before
