"""The task schedule: regimens and procedures expanded into dated tasks per animal."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from labnotes.models import (
    Animal,
    AnimalStatus,
    RunStatus,
    StudyRun,
    Task,
    TaskKind,
    TaskStatus,
)
from labnotes.services.common import DECIDERS, RECORDERS, lab_today
from labnotes.services.dosing import reapply_dose_modifications
from labnotes.services.locks import active_lock
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
from planner.models import (
    Amendment,
    Lab,
    ProcedureRole,
    RegimenItem,
    SatelliteCohort,
    StudyProcedure,
)
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


class _Planned(NamedTuple):
    """One task to write, as plain values (a 200-animal batch plans about 10,000 of them)."""

    animal_id: int
    kind: str
    regimen_item_id: int | None
    procedure_id: int | None
    satellite_cohort_id: int | None
    occurrence: int
    study_day: int
    nominal_date: dt.date
    scheduled_date: dt.date | None
    shift_description: str
    window_days: int
    per_protocol: bool
    status: str

    @property
    def key(self) -> tuple[object, ...]:
        """Which existing task this one is: same animal and source, same nominal date (as
        :func:`planner.domain.amendment_effect.occurrence_changes` matches occurrences), so
        a schedule changed by an amendment neither repeats a kept task nor drops a new one
        whose position in the schedule moved."""
        return (
            self.animal_id,
            self.kind,
            self.regimen_item_id,
            self.procedure_id,
            self.satellite_cohort_id,
            self.nominal_date,
        )

    @property
    def date(self) -> dt.date:
        return self.scheduled_date or self.nominal_date


@dataclass(frozen=True)
class _Source:
    """Where tasks come from: a regimen item, a procedure or a satellite cohort."""

    kind: str
    regimen_item_id: int | None
    procedure_id: int | None
    satellite_cohort_id: int | None
    schedule: str
    window_days: int
    rule: str
    name: str


def _sources(
    regimen: Sequence[RegimenItem],
    procedures: Sequence[StudyProcedure],
    satellites: Sequence[SatelliteCohort],
    *,
    satellite: bool,
) -> list[_Source]:
    """The task sources of one animal of an arm (satellite or not)."""
    sources = [
        _Source(
            TaskKind.DOSE,
            item.pk,
            None,
            None,
            item.schedule,
            item.window_days,
            item.non_working_day_rule,
            f"dosing item {item.order + 1}",
        )
        for item in regimen
    ]
    for procedure in procedures:
        if procedure.role == ProcedureRole.SAMPLE_COLLECTION and not satellite:
            # Scheduled sampling is what satellite animals are for: the efficacy animals are
            # sampled at their endpoint, not on a planned day.
            continue
        schedule = _procedure_schedule(procedure)
        if schedule:
            sources.append(
                _Source(
                    PROCEDURE_TASK_KINDS[procedure.role],
                    None,
                    procedure.pk,
                    None,
                    schedule,
                    procedure.window_days,
                    procedure.non_working_day_rule,
                    procedure.get_role_display().lower(),
                )
            )
    if satellite:
        sources.extend(
            _Source(
                TaskKind.TAKEDOWN,
                None,
                None,
                cohort.pk,
                f"once on day {cohort.takedown_study_day}",
                0,
                "earlier",
                "satellite takedown",
            )
            for cohort in satellites
            if cohort.takedown_study_day is not None
        )
    return sources


class _Planner:
    """Expands sources into dated tasks for one run, once per (source, randomization day):
    animals randomized on the same day share their dates, so a batch of 200 animals expands
    each schedule once, not 200 times."""

    def __init__(self, run: StudyRun, calendar: WorkingCalendar) -> None:
        self.run = run
        self.calendar = calendar
        self._placed: dict[tuple[_Source, int], list[ScheduledTask]] = {}

    def placed(self, source: _Source, randomization_day: int) -> list[ScheduledTask]:
        key = (source, randomization_day)
        if key not in self._placed:
            try:
                occurrences = expand_schedule(
                    source.schedule,
                    day0=self.run.day0,
                    randomization_day=randomization_day,
                    last_study_day=self.run.last_study_day,
                )
                self._placed[key] = apply_calendar(
                    occurrences, self.calendar, source.rule, source.window_days
                )
            except DomainError as error:
                raise ValidationError(
                    f"The schedule of the {source.name} cannot be expanded: {error}"
                ) from None
        return self._placed[key]

    def tasks_for(
        self,
        animal: Animal,
        regimen: Sequence[RegimenItem],
        procedures: Sequence[StudyProcedure],
        satellites: Sequence[SatelliteCohort],
    ) -> list[_Planned]:
        assert animal.treatment_start_date is not None
        randomization_day = (animal.treatment_start_date - self.run.day0).days
        # A satellite leaves the study at its takedown: nothing is planned after that day.
        last_day = (
            min(
                (c.takedown_study_day for c in satellites if c.takedown_study_day is not None),
                default=None,
            )
            if animal.is_satellite
            else None
        )
        tasks: list[_Planned] = []
        for source in _sources(regimen, procedures, satellites, satellite=animal.is_satellite):
            for entry in self.placed(source, randomization_day):
                if last_day is not None and entry.study_day > last_day:
                    continue
                tasks.append(
                    _Planned(
                        animal.pk,
                        source.kind,
                        source.regimen_item_id,
                        source.procedure_id,
                        source.satellite_cohort_id,
                        entry.index,
                        entry.study_day,
                        entry.nominal_date,
                        entry.scheduled_date,
                        entry.description[:300],
                        source.window_days,
                        entry.per_protocol,
                        TaskStatus.SKIPPED
                        if entry.status is CalendarStatus.SKIPPED
                        else TaskStatus.DUE,
                    )
                )
        return tasks


_TASK_COLUMNS = (
    "run_id",
    "animal_id",
    "kind",
    "regimen_item_id",
    "procedure_id",
    "satellite_cohort_id",
    "occurrence",
    "study_day",
    "nominal_date",
    "scheduled_date",
    "shift_description",
    "window_days",
    "per_protocol",
    "status",
    "row_version",
    "created_at",
)


def _insert_tasks(run: StudyRun, tasks: Sequence[_Planned]) -> None:
    """Write ``tasks`` with one COPY: bulk_create of ~10,000 rows cost seconds in SQL building.

    The audit trigger still records every row. It takes who and why from the audit context,
    which pghistory sets per transaction (``set_config(..., true)``) in front of the ORM's
    writes but not in front of COPY: the no-op statement below carries it, so the events of
    these rows have the same context as the rest of the service's writes.
    """
    if not tasks:
        return
    now = timezone.now()
    table = connection.ops.quote_name(Task._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in _TASK_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("WITH audit_context AS (SELECT 1) SELECT 1")
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for task in tasks:
                copy.write_row(
                    (
                        run.pk,
                        task.animal_id,
                        task.kind,
                        task.regimen_item_id,
                        task.procedure_id,
                        task.satellite_cohort_id,
                        task.occurrence,
                        task.study_day,
                        task.nominal_date,
                        task.scheduled_date,
                        task.shift_description,
                        task.window_days,
                        task.per_protocol,
                        task.status,
                        1,
                        now,
                    )
                )


def _replaceable(since: dt.date) -> Q:
    """Tasks a re-expansion may replace: not done, dated ``since`` or later.

    ``since`` is today for a re-expansion or a cancellation (past tasks are part of the record:
    kept, whether done or still due), and the randomization date when a back-dated batch is
    applied (its past tasks are written then, and only then).
    """
    return Q(status__in=[TaskStatus.DUE, TaskStatus.SKIPPED]) & Q(task_date__gte=since)


def _free_occurrence(task: _Planned, used: set[int]) -> _Planned:
    """``task`` with an occurrence number its source's kept tasks do not hold (and mark it
    used). Re-expanding an unchanged schedule never collides; after an amendment moved the
    source's occurrences, a new task whose position is taken by a kept one gets the next
    free number."""
    occurrence = task.occurrence
    if occurrence in used:
        occurrence = max(used) + 1
    used.add(occurrence)
    return task if occurrence == task.occurrence else task._replace(occurrence=occurrence)


def _expand(
    run: StudyRun, animals: Iterable[Animal], today: dt.date, since: dt.date | None = None
) -> ExpansionResult:
    """Write the tasks dated ``since`` (default ``today``) or later that are not there yet."""
    first_day = min(since or today, today)
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
        _replaceable(first_day), animal__in=chosen
    )
    removed = 0
    if removable.exists():
        removed, _ = removable.delete()
    kept: set[tuple[object, ...]] = set()
    used: dict[tuple[object, ...], set[int]] = defaultdict(set)
    for *source, nominal_date, occurrence in Task.objects.filter(animal__in=chosen).values_list(
        "animal_id",
        "kind",
        "regimen_item_id",
        "procedure_id",
        "satellite_cohort_id",
        "nominal_date",
        "occurrence",
    ):
        kept.add((*source, nominal_date))
        used[tuple(source)].add(occurrence)
    planner = _Planner(run, calendar)
    wanted: list[_Planned] = []
    for animal in chosen:
        arm_id = animal.arm_id
        assert arm_id is not None
        for task in planner.tasks_for(animal, regimen[arm_id], procedures, satellites[arm_id]):
            if task.date >= first_day and task.key not in kept:
                wanted.append(_free_occurrence(task, used[task.key[:-1]]))
    _insert_tasks(run, wanted)
    reapply_dose_modifications(animals=chosen, since=first_day)
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
    can be run again after a design amendment or a calendar change. Sampling procedures expand
    only for satellite animals, and not beyond their takedown day.
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


def regenerate_tasks_after_amendment(amendment: Amendment, approved_by: User) -> None:
    """Approval listener (registered in :mod:`labnotes.apps`): regenerate the tasks of the
    study's active, unlocked runs from the amendment's effective date on.

    Runs inside :func:`planner.services.amendments.approve_amendment`'s transaction and audit
    context (the amendment's number and reason). Tasks dated before the effective date — or
    before today, whichever is later: the past is the record — stay exactly as they are; later
    due tasks are replaced by the amended design's, done ones kept. Amendments that change no
    schedule (endpoints, planned n) leave the tasks alone.
    """
    changes = amendment.changes or {}
    if not (changes.get("regimen_items") or changes.get("procedures")):
        return
    first_day = max(lab_today(amendment.study.lab), amendment.effective_date)
    for run in StudyRun.objects.filter(study_id=amendment.study_id, status=RunStatus.ACTIVE):
        if active_lock(run) is not None:
            continue
        animals = list(
            Animal.objects.filter(run=run, arm__isnull=False, status=AnimalStatus.ON_STUDY)
        )
        _expand(run, animals, first_day)


def expand_tasks_after_randomization(
    run: StudyRun, animals: Sequence[Animal], *, today: dt.date, since: dt.date
) -> ExpansionResult:
    """Called inside ``apply_randomization``'s transaction (whose caller was checked).

    ``since`` is the batch's randomization date: for a back-dated batch the tasks between it
    and today are written too, as due (the Today page lists them as overdue until recorded).
    """
    return _expand(run, animals, today, since)


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
