"""The task schedule: regimens and procedures expanded into dated tasks per animal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from labnotes.models import Animal, AnimalStatus, StudyRun, Task, TaskKind, TaskStatus
from labnotes.services.common import DECIDERS, RECORDERS, lab_today
from planner.audit import audited_change
from planner.domain.errors import DomainError, ParameterErrors
from planner.domain.protocol_parameters import parse_parameters
from planner.domain.schedule_notation import expand_schedule
from planner.domain.working_calendar import (
    Closure as CalendarClosure,
)
from planner.domain.working_calendar import (
    Holiday as CalendarHoliday,
)
from planner.domain.working_calendar import (
    ScheduledTask,
    WorkingCalendar,
    apply_calendar,
)
from planner.domain.working_calendar import (
    TaskStatus as CalendarStatus,
)
from planner.models import Lab, ProcedureRole, RegimenItem, SatelliteCohort, StudyProcedure
from planner.services.permissions import require_role

PROCEDURE_TASK_KINDS: dict[str, str] = {
    ProcedureRole.CALIPER_MEASUREMENT: TaskKind.MEASURE,
    ProcedureRole.BODY_WEIGHT: TaskKind.WEIGH,
    ProcedureRole.CLINICAL_OBSERVATION: TaskKind.OBSERVE,
    ProcedureRole.SAMPLE_COLLECTION: TaskKind.SAMPLE,
}


@dataclass(frozen=True)
class ExpansionResult:
    created: int
    removed: int


def working_calendar(lab: Lab) -> WorkingCalendar:
    """The lab's working calendar as the pure domain object."""
    return WorkingCalendar(
        working_weekdays=frozenset(lab.working_weekdays),
        holidays=tuple(CalendarHoliday(h.day, h.name) for h in lab.holidays.all()),
        closures=tuple(
            CalendarClosure(c.first_day, c.last_day, c.reason) for c in lab.closures.all()
        ),
    )


def _procedure_schedule(procedure: StudyProcedure) -> str:
    """The procedure's own schedule, else its protocol's (a sampling day becomes ``day N``)."""
    if procedure.schedule.strip():
        return procedure.schedule
    parameters = procedure.protocol_version.parameters or {}
    if isinstance(parameters.get("schedule"), str):
        return str(parameters["schedule"])
    if procedure.role == ProcedureRole.SAMPLE_COLLECTION:
        try:
            parsed = parse_parameters(procedure.protocol_version.template.kind, parameters)
        except ParameterErrors:
            return ""
        day = getattr(parsed, "study_day", None)
        if day is not None:
            return f"once on day {day}"
    return ""


def _tasks_for(
    run: StudyRun,
    animal: Animal,
    calendar: WorkingCalendar,
    regimen: Sequence[RegimenItem],
    procedures: Sequence[StudyProcedure],
    satellites: Sequence[SatelliteCohort],
) -> list[Task]:
    assert animal.treatment_start_date is not None
    randomization_day = (animal.treatment_start_date - run.day0).days
    sources: list[tuple[str, dict[str, object], str, int, str, str]] = []
    for item in regimen:
        sources.append(
            (
                TaskKind.DOSE,
                {"regimen_item": item},
                item.schedule,
                item.window_days,
                item.non_working_day_rule,
                f"dosing item {item.order + 1}",
            )
        )
    for procedure in procedures:
        schedule = _procedure_schedule(procedure)
        if schedule:
            sources.append(
                (
                    PROCEDURE_TASK_KINDS[procedure.role],
                    {"procedure": procedure},
                    schedule,
                    procedure.window_days,
                    procedure.non_working_day_rule,
                    procedure.get_role_display().lower(),
                )
            )
    if animal.is_satellite:
        for cohort in satellites:
            if cohort.takedown_study_day is not None:
                sources.append(
                    (
                        TaskKind.TAKEDOWN,
                        {"satellite_cohort": cohort},
                        f"once on day {cohort.takedown_study_day}",
                        0,
                        "earlier",
                        "satellite takedown",
                    )
                )
    # A satellite leaves the study at its takedown: nothing is planned after that day.
    last_day = (
        min(
            (c.takedown_study_day for c in satellites if c.takedown_study_day is not None),
            default=None,
        )
        if animal.is_satellite
        else None
    )
    tasks: list[Task] = []
    for kind, source, schedule, window, rule, name in sources:
        try:
            occurrences = expand_schedule(
                schedule,
                day0=run.day0,
                randomization_day=randomization_day,
                last_study_day=run.last_study_day,
            )
            placed: list[ScheduledTask] = apply_calendar(occurrences, calendar, rule, window)
        except DomainError as error:
            raise ValidationError(
                f"The schedule of the {name} cannot be expanded: {error}"
            ) from None
        for entry in placed:
            if last_day is not None and entry.study_day > last_day:
                continue
            tasks.append(
                Task(
                    run=run,
                    animal=animal,
                    kind=kind,
                    occurrence=entry.index,
                    study_day=entry.study_day,
                    nominal_date=entry.nominal_date,
                    scheduled_date=entry.scheduled_date,
                    shift_description=entry.description[:300],
                    window_days=window,
                    per_protocol=entry.per_protocol,
                    status=TaskStatus.SKIPPED
                    if entry.status is CalendarStatus.SKIPPED
                    else TaskStatus.DUE,
                    **source,
                )
            )
    return tasks


def _task_key(task: Task) -> tuple[object, ...]:
    return (
        task.animal_id,
        task.kind,
        task.regimen_item_id,
        task.procedure_id,
        task.satellite_cohort_id,
        task.occurrence,
    )


def _replaceable(today: dt.date) -> Q:
    """Tasks a re-expansion may replace: not done, due today or later."""
    return Q(status__in=[TaskStatus.DUE, TaskStatus.SKIPPED]) & Q(task_date__gte=today)


def _expand(run: StudyRun, animals: Iterable[Animal], today: dt.date) -> ExpansionResult:
    study = run.study
    calendar = working_calendar(study.lab)
    procedures = list(
        study.procedures.filter(role__in=list(PROCEDURE_TASK_KINDS)).select_related(
            "protocol_version__template"
        )
    )
    chosen = [a for a in animals if a.arm_id is not None and a.status == AnimalStatus.ON_STUDY]
    arm_ids = {animal.arm_id for animal in chosen if animal.arm_id is not None}
    regimen: dict[int, list[RegimenItem]] = {arm_id: [] for arm_id in arm_ids}
    for item in RegimenItem.objects.filter(arm_id__in=arm_ids).order_by("order", "pk"):
        regimen[item.arm_id].append(item)
    satellites: dict[int, list[SatelliteCohort]] = {arm_id: [] for arm_id in arm_ids}
    for cohort in SatelliteCohort.objects.filter(arm_id__in=arm_ids):
        satellites[cohort.arm_id].append(cohort)
    removable = Task.objects.annotate(task_date=Coalesce("scheduled_date", "nominal_date")).filter(
        _replaceable(today), animal__in=chosen
    )
    removed, _ = removable.delete()
    kept = {_task_key(task) for task in Task.objects.filter(animal__in=chosen)}
    wanted: list[Task] = []
    for animal in chosen:
        arm_id = animal.arm_id
        assert arm_id is not None
        for task in _tasks_for(
            run, animal, calendar, regimen[arm_id], procedures, satellites[arm_id]
        ):
            if (task.scheduled_date or task.nominal_date) >= today and _task_key(task) not in kept:
                wanted.append(task)
    Task.objects.bulk_create(wanted)
    return ExpansionResult(created=len(wanted), removed=removed)


def expand_run_tasks(
    *,
    run: StudyRun,
    requested_by: User,
    animals: Sequence[Animal] | None = None,
    today: dt.date | None = None,
    reason: str | None = None,
) -> ExpansionResult:
    """Expand the design into dated tasks for the run's randomized animals on study.

    Each animal's regimen (its arm's items) and the design's measurement, weighing, observation
    and sampling procedures are expanded (schedules ``from randomization`` from the animal's own
    randomization date), then placed on the lab's working calendar with each item's rule and
    window; satellite animals get their takedown task. Only today's and future tasks are
    written; re-expansion replaces due (not done) tasks from today on and keeps the rest, so it
    can be run again after a design amendment or a calendar change.
    """
    require_role(requested_by, run.study.lab, DECIDERS, action="expand the task schedule")
    day = today or lab_today(run.study.lab)
    with transaction.atomic(), audited_change(reason=reason, required=False):
        selected = (
            list(animals)
            if animals is not None
            else list(
                Animal.objects.filter(run=run, arm__isnull=False, status=AnimalStatus.ON_STUDY)
            )
        )
        return _expand(run, selected, day)


def expand_tasks_after_randomization(
    run: StudyRun, animals: Sequence[Animal], today: dt.date
) -> ExpansionResult:
    """Called inside ``apply_randomization``'s transaction (whose caller was checked)."""
    return _expand(run, animals, today)


def cancel_future_tasks(*, animals: Sequence[Animal], today: dt.date) -> int:
    """Remove due tasks from today on (the animal left the study or lost its allocation).

    Done, missed and past tasks stay: they are part of the record.
    """
    deleted, _ = (
        Task.objects.annotate(task_date=Coalesce("scheduled_date", "nominal_date"))
        .filter(_replaceable(today), animal__in=list(animals))
        .delete()
    )
    return deleted


def complete_task(*, task: Task, completed_by: User) -> Task:
    """Mark a due task done (by whom, when)."""
    require_role(completed_by, task.run.study.lab, RECORDERS, action="complete tasks")
    with transaction.atomic(), audited_change(reason=None, required=False):
        updated = Task.objects.filter(pk=task.pk, status=TaskStatus.DUE).update(
            status=TaskStatus.DONE,
            completed_by=completed_by,
            completed_at=timezone.now(),
            row_version=F("row_version") + 1,
        )
        if not updated:
            raise ValidationError("Only a due task can be marked done.")
    task.refresh_from_db()
    return task
