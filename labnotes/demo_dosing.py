"""The demo's dosing history, written through the dosing services: formulation batches (one
expired, never used), every dose task up to today given per protocol by the demo doser, one
given late, one missed, and — where the schedule leaves a later dose of an agent whose protocol
permits a hold — a hold after ≥ 15 % weight loss and its resume after recovery."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.db.models.functions import Coalesce
from django.utils import timezone

from labnotes.models import StudyRun, Task, TaskKind, TaskStatus
from labnotes.services import dosing
from labnotes.services.measurements import record_measurement
from planner.models import RegimenItem

logger = logging.getLogger(__name__)

DOSING_HOUR = 10


def _concentration(item: RegimenItem) -> Decimal:
    parameters = dosing.item_protocol(item).parameters
    return Decimal(str(parameters.concentration_mg_per_ml)) if parameters else Decimal(0)


def _batches(run: StudyRun, users: dict[str, Any], first_day: dt.date) -> None:
    lab = run.study.lab
    prepared = dt.datetime.combine(first_day - dt.timedelta(days=1), dt.time(16), tzinfo=lab.zone)
    seen: set[str] = set()
    expired_made = False
    for number, item in enumerate(RegimenItem.objects.filter(arm__study=run.study), start=1):
        if item.agent in seen:
            continue
        seen.add(item.agent)
        parameters = dosing.item_protocol(item).parameters
        dosing.create_formulation_batch(
            study=run.study,
            agent=item.agent,
            lot=f"{run.code}-F{number:02d}",
            concentration_mg_per_ml=_concentration(item),
            vehicle=parameters.vehicle if parameters else "",
            prepared_by=users["scientist"],
            prepared_at=prepared,
            expires_at=prepared + dt.timedelta(days=42),
            recorded_by=users["scientist"],
        )
        if not item.is_vehicle and not expired_made:
            expired_made = True
            dosing.create_formulation_batch(
                study=run.study,
                agent=item.agent,
                lot=f"{run.code}-OLD{number:02d}",
                concentration_mg_per_ml=_concentration(item),
                vehicle=parameters.vehicle if parameters else "",
                prepared_by=users["scientist"],
                prepared_at=prepared - dt.timedelta(days=60),
                expires_at=prepared - dt.timedelta(days=30),
                recorded_by=users["scientist"],
                notes="Expired before the study started: kept for the record, never used.",
            )


def _given_at(run: StudyRun, day: dt.date, minute: int) -> dt.datetime:
    lab = run.study.lab
    moment = dt.datetime.combine(day, dt.time(DOSING_HOUR), tzinfo=lab.zone)
    moment += dt.timedelta(minutes=minute % 120)
    return min(moment, timezone.now() - dt.timedelta(minutes=5))


def _weigh_if_needed(task: Task, given_at: dt.datetime, doser: Any) -> None:
    """Dosers weigh before a per-kg dose when the last weight is too old."""
    row = dosing._row(dosing._context(task.run, [task], at=given_at), task)
    if row.state is not dosing.RowState.WEIGH:
        return
    last = dosing.latest_weights([task.animal_id], at=timezone.now()).get(task.animal_id)
    grams = last.weight_g if last else (task.animal.arrival_weight_g or Decimal("20"))
    record_measurement(
        animal=task.animal,
        weight_g=grams,
        taken_at=given_at - dt.timedelta(minutes=15),
        operator=doser,
        instrument="Balance 2",
        reason="weighed before dosing",
    )


def _give(task: Task, given_at: dt.datetime, doser: Any) -> None:
    _weigh_if_needed(task, given_at, doser)
    row = dosing._row(dosing._context(task.run, [task], at=given_at), task)
    if row.state is not dosing.RowState.DUE or row.plan is None or row.batch is None:
        logger.info("demo: dose task %s not given (%s)", task.pk, row.message)
        return
    dosing.record_dose(
        task=task,
        batch=row.batch,
        volume_ul=row.plan.volume_ul or Decimal(0),
        given_at=given_at,
        route=task.regimen_item.route if task.regimen_item else "",
        operator=doser,
    )


def _hold_and_resume(run: StudyRun, users: dict[str, Any], today: dt.date) -> Task | None:
    """Find an animal whose hold-permitting item has a second dose already due: it lost ≥ 15 %
    before that dose (held), and recovered three days later (resumed). Returns the held task."""
    for task in _tasks(run).filter(occurrence__gte=2, status=TaskStatus.DUE):
        item = task.regimen_item
        assert item is not None
        parameters = dosing.item_protocol(item).parameters
        if parameters is None or parameters.hold_at_weight_loss_percent is None:
            continue
        animal = task.animal
        start = animal.treatment_start_date
        hold_day = task.task_date
        if start is None or hold_day <= start or hold_day + dt.timedelta(days=3) > today:
            continue
        baseline = dosing.baseline_weight(animal)
        if not baseline:
            continue
        lab = run.study.lab
        loss = Decimal(str(parameters.hold_at_weight_loss_percent)) + 1
        light = record_measurement(
            animal=animal,
            weight_g=(baseline * (100 - loss) / 100).quantize(Decimal("0.01")),
            taken_at=dt.datetime.combine(hold_day, dt.time(8, 30), tzinfo=lab.zone),
            operator=users["tech_dose"],
            instrument="Balance 2",
            reason="weighed before dosing",
        )
        dosing.apply_dose_modification(
            animal=animal,
            kind="hold",
            regimen_item=item,
            decided_by=users["scientist"],
            reason=f"Weight loss {loss} % before dose {task.occurrence}: held per protocol.",
            effective_from=hold_day,
            weight=light,
        )
        back = hold_day + dt.timedelta(days=3)
        recovered = record_measurement(
            animal=animal,
            weight_g=(baseline * Decimal("0.95")).quantize(Decimal("0.01")),
            taken_at=dt.datetime.combine(back, dt.time(8, 30), tzinfo=lab.zone),
            operator=users["tech_dose"],
            instrument="Balance 2",
            reason="weighed to decide on resuming",
        )
        dosing.apply_dose_modification(
            animal=animal,
            kind="resume",
            regimen_item=item,
            decided_by=users["scientist"],
            reason="Weight back within 5 % of baseline: resumed per protocol.",
            effective_from=back,
            weight=recovered,
        )
        return task  # type: ignore[no-any-return]
    logger.info("demo: no later dose of a hold-permitting agent is due yet; no hold shown")
    return None


def _tasks(run: StudyRun) -> Any:
    return (
        Task.objects.filter(run=run, kind=TaskKind.DOSE)
        .annotate(task_date=Coalesce("scheduled_date", "nominal_date"))
        .select_related("animal", "regimen_item__protocol_version", "regimen_item__arm", "run")
        .order_by("task_date", "animal__tag", "regimen_item__order", "pk")
    )


def record_demo_dosing(run: StudyRun, users: dict[str, Any]) -> None:
    """Batches, then every dose up to today, with one late, one missed, one hold and resume."""
    lab = run.study.lab
    today = lab.local_date(timezone.now())
    first = _tasks(run).first()
    if first is None:
        return
    _batches(run, users, first.task_date)
    _hold_and_resume(run, users, today)
    doser = users["tech_dose"]
    due = list(_tasks(run).filter(status=TaskStatus.DUE, task_date__lte=today))
    missed = late = None
    for candidate in due:
        closes = candidate.nominal_date + dt.timedelta(days=candidate.window_days)
        if late is None and closes + dt.timedelta(days=1) <= today:
            late = candidate
        elif missed is None and candidate.animal_id != getattr(late, "animal_id", None):
            missed = candidate
        if late is not None and missed is not None:
            break
    for index, task in enumerate(due):
        task.refresh_from_db()
        if task.status != TaskStatus.DUE:
            continue
        if task == missed:
            dosing.record_missed_dose(
                task=task,
                recorded_by=doser,
                reason="Could not be restrained safely; the veterinarian was informed.",
            )
            continue
        day = task.scheduled_date or task.nominal_date
        if task == late:
            day = task.nominal_date + dt.timedelta(days=task.window_days + 1)
        _give(task, _given_at(run, day, index), doser)
