"""Working calendar: which days are worked, and how each rule moves tasks off the others."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.domain.errors import DomainError
from planner.domain.schedule_notation import PlannedOccurrence, expand_schedule
from planner.domain.working_calendar import (
    Closure,
    Holiday,
    ScheduledTask,
    ShiftRule,
    TaskStatus,
    WorkingCalendar,
    apply_calendar,
    format_day,
)

MONDAY = date(2026, 3, 2)  # day 0; Sat 14 Mar is day 12
GOOD_FRIDAY = Holiday(date(2026, 4, 3), "Good Friday")
CALENDAR = WorkingCalendar(holidays=(GOOD_FRIDAY,))


def occurrence(day: date, index: int = 1) -> PlannedOccurrence:
    return PlannedOccurrence(nominal_date=day, study_day=(day - MONDAY).days, index=index)


def test_format_day_is_short_and_english_when_shown_in_task_lists() -> None:
    assert format_day(date(2026, 3, 14)) == "Sat 14 Mar"
    assert format_day(date(2026, 12, 1)) == "Tue 1 Dec"


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 3, 13), None),
        (date(2026, 3, 14), "non-working day"),
        (date(2026, 4, 3), "public holiday (Good Friday)"),
        (date(2026, 8, 4), "closure (fumigation)"),
    ],
)
def test_non_working_reason_names_the_cause_when_nobody_works(
    day: date, reason: str | None
) -> None:
    calendar = WorkingCalendar(
        holidays=(GOOD_FRIDAY,),
        closures=(Closure(date(2026, 8, 3), date(2026, 8, 7), "fumigation"),),
    )
    assert calendar.non_working_reason(day) == reason
    assert calendar.is_working_day(day) is (reason is None)


def test_a_six_day_lab_works_on_saturday_when_its_weekdays_say_so() -> None:
    calendar = WorkingCalendar(working_weekdays=frozenset(range(6)))
    assert calendar.is_working_day(date(2026, 3, 14)) is True
    assert calendar.is_working_day(date(2026, 3, 15)) is False


def test_task_stays_when_its_day_is_a_working_day() -> None:
    [task] = apply_calendar([occurrence(date(2026, 3, 11))], CALENDAR, ShiftRule.EARLIER, 1)
    assert task == ScheduledTask(
        index=1,
        study_day=9,
        nominal_date=date(2026, 3, 11),
        scheduled_date=date(2026, 3, 11),
        shift_days=0,
        rule=None,
        status=TaskStatus.AS_PLANNED,
        per_protocol=True,
        description="on Wed 11 Mar as planned",
    )


def test_task_moves_to_friday_when_saturday_and_rule_earlier() -> None:
    [task] = apply_calendar([occurrence(date(2026, 3, 14))], CALENDAR, "earlier", 1)
    assert task == ScheduledTask(
        index=1,
        study_day=12,
        nominal_date=date(2026, 3, 14),
        scheduled_date=date(2026, 3, 13),
        shift_days=-1,
        rule=ShiftRule.EARLIER,
        status=TaskStatus.SHIFTED,
        per_protocol=True,
        description="moved from Sat 14 Mar to Fri 13 Mar: non-working day, rule 'earlier'",
    )
    assert task.scheduled_study_day == 11


def test_task_moves_to_monday_when_sunday_and_rule_later() -> None:
    [task] = apply_calendar([occurrence(date(2026, 3, 15))], CALENDAR, ShiftRule.LATER, 1)
    assert (task.scheduled_date, task.shift_days, task.status) == (
        date(2026, 3, 16),
        1,
        TaskStatus.SHIFTED,
    )
    assert task.description == (
        "moved from Sun 15 Mar to Mon 16 Mar: non-working day, rule 'later'"
    )


def test_task_skips_the_holiday_and_weekend_when_good_friday_and_rule_later_with_window_4() -> None:
    [task] = apply_calendar([occurrence(GOOD_FRIDAY.day)], CALENDAR, ShiftRule.LATER, 4)
    assert task.scheduled_date == date(2026, 4, 6)
    assert task.shift_days == 3
    assert task.description == (
        "moved from Fri 3 Apr to Mon 6 Apr: public holiday (Good Friday), rule 'later'"
    )


def test_task_is_impossible_when_no_working_day_is_inside_the_window() -> None:
    [task] = apply_calendar([occurrence(GOOD_FRIDAY.day)], CALENDAR, ShiftRule.LATER, 2)
    assert task.scheduled_date is None
    assert task.shift_days == 0
    assert task.status is TaskStatus.IMPOSSIBLE
    assert task.is_impossible is True
    assert task.per_protocol is False
    assert task.rule is ShiftRule.LATER
    assert task.description == (
        "cannot move Fri 3 Apr: public holiday (Good Friday), rule 'later' finds no working day "
        "within the permitted window of ±2 days"
    )


def test_task_is_impossible_when_the_window_is_zero_days() -> None:
    [task] = apply_calendar([occurrence(date(2026, 3, 14))], CALENDAR, ShiftRule.EARLIER, 0)
    assert task.description == (
        "cannot move Sat 14 Mar: non-working day, rule 'earlier' finds no working day within "
        "the permitted window of ±0 days"
    )


def test_window_of_one_day_is_singular_when_described() -> None:
    [task] = apply_calendar([occurrence(date(2026, 3, 15))], CALENDAR, ShiftRule.EARLIER, 1)
    assert task.description == (
        "cannot move Sun 15 Mar: non-working day, rule 'earlier' finds no working day within "
        "the permitted window of ±1 day"
    )


def test_weekend_doses_are_impossible_when_rule_later_would_stack_them_on_monday() -> None:
    occurrences = expand_schedule("QDx5 from day 11", day0=MONDAY)  # Fri 13 .. Tue 17 Mar
    tasks = apply_calendar(occurrences, CALENDAR, ShiftRule.LATER, 3)
    assert [task.status for task in tasks] == [
        TaskStatus.AS_PLANNED,
        TaskStatus.IMPOSSIBLE,
        TaskStatus.IMPOSSIBLE,
        TaskStatus.AS_PLANNED,
        TaskStatus.AS_PLANNED,
    ]
    assert tasks[1].description == (
        "cannot move Sat 14 Mar: non-working day, rule 'later' would reach the next occurrence "
        "(Sun 15 Mar) before a working day"
    )
    assert tasks[2].description == (
        "cannot move Sun 15 Mar: non-working day, rule 'later' would reach the next occurrence "
        "(Mon 16 Mar) before a working day"
    )


def test_sunday_dose_is_impossible_when_rule_earlier_would_reach_the_friday_dose() -> None:
    occurrences = [occurrence(date(2026, 3, 13), 1), occurrence(date(2026, 3, 15), 2)]
    tasks = apply_calendar(occurrences, CALENDAR, ShiftRule.EARLIER, 3)
    assert tasks[0].status is TaskStatus.AS_PLANNED
    assert tasks[1].description == (
        "cannot move Sun 15 Mar: non-working day, rule 'earlier' would reach the previous "
        "occurrence (Fri 13 Mar) before a working day"
    )


def test_q3d_doses_all_move_within_the_window_when_rule_earlier() -> None:
    occurrences = expand_schedule("Q3Dx4 from day 7", day0=MONDAY)  # Mon 9, Thu 12, Sun 15, Wed 18
    tasks = apply_calendar(occurrences, CALENDAR, ShiftRule.EARLIER, 2)
    assert [task.scheduled_date for task in tasks] == [
        date(2026, 3, 9),
        date(2026, 3, 12),
        date(2026, 3, 13),
        date(2026, 3, 18),
    ]
    assert [task.shift_days for task in tasks] == [0, 0, -2, 0]
    assert all(task.per_protocol for task in tasks)


def test_task_keeps_its_weekend_date_when_rule_keep() -> None:
    [task] = apply_calendar([occurrence(date(2026, 3, 14))], CALENDAR, ShiftRule.KEEP, 0)
    assert (task.scheduled_date, task.shift_days, task.rule, task.status, task.per_protocol) == (
        date(2026, 3, 14),
        0,
        ShiftRule.KEEP,
        TaskStatus.KEPT,
        True,
    )
    assert task.description == "kept on Sat 14 Mar: non-working day, rule 'keep' (weekend rota)"


def test_keep_is_impossible_when_the_facility_is_closed() -> None:
    calendar = WorkingCalendar(
        closures=(Closure(date(2026, 8, 3), date(2026, 8, 7), "fumigation"),)
    )
    [task] = apply_calendar([occurrence(date(2026, 8, 5))], calendar, ShiftRule.KEEP, 1)
    assert task.status is TaskStatus.IMPOSSIBLE
    assert task.description == (
        "cannot keep Wed 5 Aug: closure (fumigation); the weekend rota does not cover closures"
    )


def test_task_is_skipped_per_protocol_when_rule_skip() -> None:
    [task] = apply_calendar([occurrence(date(2026, 3, 14))], CALENDAR, ShiftRule.SKIP, 1)
    assert (task.scheduled_date, task.scheduled_study_day, task.status, task.per_protocol) == (
        None,
        None,
        TaskStatus.SKIPPED,
        True,
    )
    assert task.description == "skipped Sat 14 Mar: non-working day, rule 'skip'"


def test_apply_refuses_when_the_rule_is_unknown() -> None:
    with pytest.raises(DomainError) as caught:
        apply_calendar([], CALENDAR, "sooner", 1)
    assert caught.value.field == "rule"
    assert caught.value.message == (
        "'sooner' is not a rule; choose one of 'earlier', 'later', 'keep', 'skip'"
    )


@pytest.mark.parametrize("window", [-1, 1.5, True])
def test_apply_refuses_when_the_window_is_not_a_whole_number_of_days(window: object) -> None:
    with pytest.raises(DomainError) as caught:
        apply_calendar([], CALENDAR, ShiftRule.EARLIER, window)  # type: ignore[arg-type]
    assert caught.value.field == "window_days"
    assert caught.value.message == (
        f"the permitted window must be a whole number of days ≥ 0, not {window!r}"
    )


def test_apply_refuses_when_occurrences_are_out_of_order() -> None:
    with pytest.raises(DomainError) as caught:
        apply_calendar(
            [occurrence(date(2026, 3, 12)), occurrence(date(2026, 3, 10))],
            CALENDAR,
            ShiftRule.EARLIER,
            1,
        )
    assert (
        caught.value.message == "occurrences must be in date order: Tue 10 Mar follows Thu 12 Mar"
    )


@pytest.mark.parametrize(
    ("build", "field", "message"),
    [
        (
            lambda: WorkingCalendar(working_weekdays=frozenset()),
            "working_weekdays",
            "a calendar needs at least one working weekday",
        ),
        (
            lambda: WorkingCalendar(working_weekdays=frozenset({0, 7})),
            "working_weekdays",
            "weekdays are numbered 0 (Monday) to 6 (Sunday), not 7",
        ),
        (
            lambda: WorkingCalendar(holidays=(GOOD_FRIDAY, Holiday(GOOD_FRIDAY.day, "again"))),
            "holidays",
            "Fri 3 Apr 2026 is listed twice as a holiday",
        ),
        (
            lambda: Closure(date(2026, 8, 7), date(2026, 8, 3), "fumigation"),
            "closures",
            "the closure 'fumigation' ends (Mon 3 Aug) before it starts (Fri 7 Aug)",
        ),
    ],
)
def test_calendar_refuses_when_it_is_inconsistent(build: object, field: str, message: str) -> None:
    with pytest.raises(DomainError) as caught:
        build()  # type: ignore[operator]
    assert (caught.value.field, caught.value.message) == (field, message)


_calendars = st.builds(
    WorkingCalendar,
    working_weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    holidays=st.lists(
        st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 6, 30)), unique=True, max_size=8
    ).map(lambda days: tuple(Holiday(day, "holiday") for day in days)),
)


@given(
    calendar=_calendars,
    rule=st.sampled_from(list(ShiftRule)),
    window=st.integers(0, 5),
    offsets=st.sets(st.integers(0, 120), min_size=1, max_size=30),
)
def test_every_task_lands_on_a_working_day_or_is_reported_when_any_calendar_applies(
    calendar: WorkingCalendar, rule: ShiftRule, window: int, offsets: set[int]
) -> None:
    start = date(2026, 1, 5)
    occurrences = [
        PlannedOccurrence(start + timedelta(days=offset), offset, index)
        for index, offset in enumerate(sorted(offsets), start=1)
    ]
    tasks = apply_calendar(occurrences, calendar, rule, window)
    assert len(tasks) == len(occurrences)
    for task in tasks:
        if task.status in (TaskStatus.AS_PLANNED, TaskStatus.SHIFTED):
            assert task.scheduled_date is not None
            assert calendar.is_working_day(task.scheduled_date)
            assert abs(task.shift_days) <= window
            assert task.per_protocol is True
        elif task.status is TaskStatus.KEPT:
            assert task.scheduled_date == task.nominal_date
        else:
            assert task.scheduled_date is None
            assert task.per_protocol is (task.status is TaskStatus.SKIPPED)
    scheduled = [task.scheduled_date for task in tasks if task.scheduled_date is not None]
    assert scheduled == sorted(set(scheduled))
