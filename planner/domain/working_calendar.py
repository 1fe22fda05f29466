"""A lab's working calendar and the rules that move planned tasks off non-working days.

A task whose nominal date is a working day stays there. On a non-working day (a weekday the
lab does not work, a public holiday, or a closure) the regimen item's rule decides:

* ``earlier`` — the nearest earlier working day; ``later`` — the nearest later working day;
  both only within the item's permitted window (± ``window_days``), and never onto or past the
  neighbouring occurrence (an earlier move must stay after the previous task, a later move
  before the next one: two doses of a QD schedule on one Monday are not a shift but a change of
  regimen). A move that cannot satisfy both is reported as *impossible* with the reason, so a
  person decides; nothing is moved silently.
* ``keep`` — the weekend/holiday rota does the task on the nominal date. A closure (the facility
  is shut, e.g. for fumigation) is not covered by the rota, so keeping a task on a closure is
  impossible.
* ``skip`` — the task is not done; the protocol says so, so this is not a deviation.

A shift inside the window, a kept date and a planned skip are *per protocol* (``per_protocol``
is True): the protocol allowed them, so they are not deviations. Only an impossible task is not.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from planner.domain.errors import DomainError
from planner.domain.schedule_notation import WEEKDAY_NAMES, PlannedOccurrence

MONTH_NAMES: tuple[str, ...] = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def format_day(day: date) -> str:
    """``Sat 14 Mar``: short, locale-independent, as written on animal-room task lists."""
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]}"


@dataclass(frozen=True)
class Holiday:
    """A public holiday: nobody works unless the rota covers it."""

    day: date
    name: str


@dataclass(frozen=True)
class Closure:
    """The facility is closed from ``first_day`` to ``last_day`` inclusive (no rota either)."""

    first_day: date
    last_day: date
    reason: str

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise DomainError(
                f"the closure '{self.reason}' ends ({format_day(self.last_day)}) before it "
                f"starts ({format_day(self.first_day)})",
                field="closures",
            )


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days the lab works: ``working_weekdays`` (0 = Monday) minus holidays and closures.

    The default is Monday to Friday with no holidays or closures.
    """

    working_weekdays: frozenset[int] = frozenset(range(5))
    holidays: tuple[Holiday, ...] = ()
    closures: tuple[Closure, ...] = ()

    def __post_init__(self) -> None:
        if not self.working_weekdays:
            raise DomainError(
                "a calendar needs at least one working weekday", field="working_weekdays"
            )
        invalid = sorted(day for day in self.working_weekdays if day not in range(7))
        if invalid:
            raise DomainError(
                f"weekdays are numbered 0 (Monday) to 6 (Sunday), not {invalid[0]}",
                field="working_weekdays",
            )
        seen: set[date] = set()
        for holiday in self.holidays:
            if holiday.day in seen:
                raise DomainError(
                    f"{format_day(holiday.day)} {holiday.day.year} is listed twice as a holiday",
                    field="holidays",
                )
            seen.add(holiday.day)

    def non_working_reason(self, day: date) -> str | None:
        """Why nobody works on ``day`` (``None`` on a working day); a closure is named first."""
        for closure in self.closures:
            if closure.first_day <= day <= closure.last_day:
                return f"closure ({closure.reason})"
        for holiday in self.holidays:
            if holiday.day == day:
                return f"public holiday ({holiday.name})"
        if day.weekday() not in self.working_weekdays:
            return "non-working day"
        return None

    def is_working_day(self, day: date) -> bool:
        return self.non_working_reason(day) is None

    def is_closed(self, day: date) -> bool:
        """True during a closure, when even the weekend rota cannot do a task."""
        return any(closure.first_day <= day <= closure.last_day for closure in self.closures)


class ShiftRule(StrEnum):
    """What happens to a task that falls on a non-working day."""

    EARLIER = "earlier"
    LATER = "later"
    KEEP = "keep"
    SKIP = "skip"


SHIFT_RULE_CHOICES: list[tuple[str, str]] = [
    (ShiftRule.EARLIER.value, "Move to the previous working day"),
    (ShiftRule.LATER.value, "Move to the next working day"),
    (ShiftRule.KEEP.value, "Keep the date (weekend/holiday rota)"),
    (ShiftRule.SKIP.value, "Skip the task"),
]


class TaskStatus(StrEnum):
    AS_PLANNED = "as_planned"
    SHIFTED = "shifted"
    KEPT = "kept"
    SKIPPED = "skipped"
    IMPOSSIBLE = "impossible"


@dataclass(frozen=True)
class ScheduledTask:
    """A planned occurrence after the working calendar and the item's rule were applied.

    ``scheduled_date`` is ``None`` for a skipped or impossible task; ``shift_days`` is the
    signed move (negative = earlier), 0 when not moved; ``rule`` is the rule that moved, kept or
    skipped the task, or that could not place it (``None`` when the nominal day is a working
    day); ``description`` is the sentence shown in the preview and the task list.
    """

    index: int
    study_day: int
    nominal_date: date
    scheduled_date: date | None
    shift_days: int
    rule: ShiftRule | None
    status: TaskStatus
    per_protocol: bool
    description: str

    @property
    def scheduled_study_day(self) -> int | None:
        return None if self.scheduled_date is None else self.study_day + self.shift_days

    @property
    def is_impossible(self) -> bool:
        return self.status is TaskStatus.IMPOSSIBLE


def _days(count: int) -> str:
    return f"±{count} day" if count == 1 else f"±{count} days"


def apply_calendar(
    occurrences: Sequence[PlannedOccurrence],
    calendar: WorkingCalendar,
    rule: ShiftRule | str,
    window_days: int,
) -> list[ScheduledTask]:
    """Place each occurrence of one regimen item on the lab's calendar (see the module docstring).

    ``occurrences`` must be in strictly increasing date order (as
    :func:`~planner.domain.schedule_notation.expand_schedule` returns them); ``window_days`` is
    the permitted window, ≥ 0. Returns one task per occurrence, in the same order.
    """
    try:
        rule = ShiftRule(rule)
    except ValueError:
        choices = ", ".join(f"'{choice}'" for choice in ShiftRule)
        raise DomainError(
            f"'{rule}' is not a rule; choose one of {choices}", field="rule"
        ) from None
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 0:
        raise DomainError(
            f"the permitted window must be a whole number of days ≥ 0, not {window_days!r}",
            field="window_days",
        )
    for previous, current in itertools.pairwise(occurrences):
        if current.nominal_date <= previous.nominal_date:
            raise DomainError(
                f"occurrences must be in date order: {format_day(current.nominal_date)} follows "
                f"{format_day(previous.nominal_date)}"
            )

    tasks: list[ScheduledTask] = []
    for position, occurrence in enumerate(occurrences):
        previous_date = _last_date(tasks)
        next_date = (
            occurrences[position + 1].nominal_date if position + 1 < len(occurrences) else None
        )
        tasks.append(_place(occurrence, calendar, rule, window_days, previous_date, next_date))
    return tasks


def _last_date(tasks: Sequence[ScheduledTask]) -> date | None:
    """The date the previous task occupies: its scheduled date, or (impossible) its nominal one."""
    for task in reversed(tasks):
        if task.scheduled_date is not None:
            return task.scheduled_date
        if task.status is TaskStatus.IMPOSSIBLE:
            return task.nominal_date
    return None


def _place(
    occurrence: PlannedOccurrence,
    calendar: WorkingCalendar,
    rule: ShiftRule,
    window_days: int,
    previous_date: date | None,
    next_date: date | None,
) -> ScheduledTask:
    nominal = occurrence.nominal_date
    shown = format_day(nominal)
    reason = calendar.non_working_reason(nominal)

    def task(
        status: TaskStatus, scheduled: date | None, description: str, applied: ShiftRule | None
    ) -> ScheduledTask:
        shift = (scheduled - nominal).days if scheduled is not None else 0
        return ScheduledTask(
            index=occurrence.index,
            study_day=occurrence.study_day,
            nominal_date=nominal,
            scheduled_date=scheduled,
            shift_days=shift,
            rule=applied,
            status=status,
            per_protocol=status is not TaskStatus.IMPOSSIBLE,
            description=description,
        )

    if reason is None:
        return task(TaskStatus.AS_PLANNED, nominal, f"on {shown} as planned", None)
    if rule is ShiftRule.SKIP:
        return task(TaskStatus.SKIPPED, None, f"skipped {shown}: {reason}, rule 'skip'", rule)
    if rule is ShiftRule.KEEP:
        if calendar.is_closed(nominal):
            return task(
                TaskStatus.IMPOSSIBLE,
                None,
                f"cannot keep {shown}: {reason}; the weekend rota does not cover closures",
                rule,
            )
        return task(
            TaskStatus.KEPT, nominal, f"kept on {shown}: {reason}, rule 'keep' (weekend rota)", rule
        )

    step = -1 if rule is ShiftRule.EARLIER else 1
    for distance in range(1, window_days + 1):
        candidate = nominal + timedelta(days=step * distance)
        if step < 0 and previous_date is not None and candidate <= previous_date:
            return task(
                TaskStatus.IMPOSSIBLE,
                None,
                f"cannot move {shown}: {reason}, rule 'earlier' would reach the previous "
                f"occurrence ({format_day(previous_date)}) before a working day",
                rule,
            )
        if step > 0 and next_date is not None and candidate >= next_date:
            return task(
                TaskStatus.IMPOSSIBLE,
                None,
                f"cannot move {shown}: {reason}, rule 'later' would reach the next "
                f"occurrence ({format_day(next_date)}) before a working day",
                rule,
            )
        if calendar.is_working_day(candidate):
            return task(
                TaskStatus.SHIFTED,
                candidate,
                f"moved from {shown} to {format_day(candidate)}: {reason}, rule '{rule}'",
                rule,
            )
    return task(
        TaskStatus.IMPOSSIBLE,
        None,
        f"cannot move {shown}: {reason}, rule '{rule}' finds no working day within the "
        f"permitted window of {_days(window_days)}",
        rule,
    )
