"""Schedule notation: the forms the planner accepts, what they expand to, and what is refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.domain.errors import DomainError
from planner.domain.schedule_notation import (
    Anchor,
    DayReference,
    ExplicitSchedule,
    IntervalSchedule,
    PlannedOccurrence,
    WeekdaySchedule,
    expand_schedule,
    is_open_ended,
    is_relative_to_randomization,
    needs_calendar,
    parse_schedule,
    schedule_study_days,
)

MONDAY = date(2026, 3, 2)  # day 0 of the example run
WEDNESDAY = date(2026, 3, 4)


@pytest.mark.parametrize(
    ("text", "expected_days"),
    [
        ("QD×5 from day 7", [7, 8, 9, 10, 11]),
        ("QDx5 from day 7", [7, 8, 9, 10, 11]),
        ("qd X 5 from day 7", [7, 8, 9, 10, 11]),
        ("Q2D×3 from day 7", [7, 9, 11]),
        ("QOD×3 from day 7", [7, 9, 11]),
        ("Q3D×4 from day 7", [7, 10, 13, 16]),
        ("Q4D×3 from day 6", [6, 10, 14]),
        ("QW×3 from day 7", [7, 14, 21]),
        ("QW×3wk from day 7", [7, 14, 21]),
        ("QD×5 doses from day 1", [1, 2, 3, 4, 5]),
        ("Q3D from day 7 until day 20", [7, 10, 13, 16, 19]),
        ("7,10,13", [7, 10, 13]),
        ("days 7, 10, 13", [7, 10, 13]),
        ("-1,7", [-1, 7]),
        ("once on day 7", [7]),
        ("single dose from day 7", [7]),
        ("QD×3 from implantation", [0, 1, 2]),
        ("QD×3 from day -2", [-2, -1, 0]),
    ],
)
def test_study_days_match_the_notation_when_the_schedule_needs_no_calendar(
    text: str, expected_days: list[int]
) -> None:
    assert schedule_study_days(text) == expected_days


@pytest.mark.parametrize(
    ("text", "day0", "expected_days"),
    [
        # Day 0 is a Monday: Mon/Thu are days 0, 3, 7, 10, ...
        ("BIW×3wk from day 7", MONDAY, [7, 10, 14, 17, 21, 24]),
        ("TIW×2wk", MONDAY, [0, 2, 4, 7, 9, 11]),
        ("Mon/Wed/Fri×2wk", MONDAY, [0, 2, 4, 7, 9, 11]),
        ("Mon/Wed/Fri until day 10", MONDAY, [0, 2, 4, 7, 9]),
        ("Fri/Mon×1wk from day 1", MONDAY, [4, 7]),
        ("Monday/Friday×1wk", MONDAY, [0, 4]),
        ("Tue,Fri×1wk", MONDAY, [1, 4]),
        # Day 0 on a Wednesday moves every weekday.
        ("Mon/Wed/Fri×1wk", WEDNESDAY, [0, 2, 5]),
        ("BIW×2wk from day 3", WEDNESDAY, [5, 8, 12, 15]),
    ],
)
def test_weekday_schedules_follow_the_calendar_when_day0_is_given(
    text: str, day0: date, expected_days: list[int]
) -> None:
    days = schedule_study_days(text, day0=day0)
    assert days == expected_days
    assert all((day0 + timedelta(days=day)).strftime("%a") in text or "IW" in text for day in days)


@pytest.mark.parametrize(
    ("text", "randomization_day", "expected_days"),
    [
        ("QD×3 from R+0", 9, [9, 10, 11]),
        ("Q3D×2 from randomization day 1", 9, [10, 13]),
        ("QD×2 from randomization", 12, [12, 13]),
        ("QD×2 from R-1", 12, [11, 12]),
        ("R+0,R+3,R+6", 8, [8, 11, 14]),
        ("once on R+0", 8, [8]),
    ],
)
def test_days_count_from_the_animal_when_the_schedule_starts_at_randomization(
    text: str, randomization_day: int, expected_days: list[int]
) -> None:
    schedule = parse_schedule(text)
    assert is_relative_to_randomization(schedule) is True
    assert schedule_study_days(schedule, randomization_day=randomization_day) == expected_days


def test_weekday_schedule_starts_on_the_first_matching_day_when_it_starts_at_randomization() -> (
    None
):
    # Randomized on day 8 (Tue 10 Mar): the next Mon/Wed/Fri is Wed 11 Mar, day 9.
    days = schedule_study_days("Mon/Wed/Fri×1wk from R+0", day0=MONDAY, randomization_day=8)
    assert days == [9, 11, 14]


def test_expand_dates_each_occurrence_and_counts_from_one_when_day0_is_given() -> None:
    assert expand_schedule("Q3D×3 from day 7", day0=MONDAY) == [
        PlannedOccurrence(nominal_date=date(2026, 3, 9), study_day=7, index=1),
        PlannedOccurrence(nominal_date=date(2026, 3, 12), study_day=10, index=2),
        PlannedOccurrence(nominal_date=date(2026, 3, 15), study_day=13, index=3),
    ]


def test_open_ended_schedule_runs_to_the_last_study_day_when_one_is_given() -> None:
    assert schedule_study_days("Mon/Wed/Fri", day0=MONDAY, last_study_day=9) == [0, 2, 4, 7, 9]
    assert schedule_study_days("Q3D from day 7", last_study_day=16) == [7, 10, 13, 16]


def test_occurrences_after_the_last_study_day_are_dropped_when_the_study_ends_first() -> None:
    assert schedule_study_days("Q3D×4 from day 7", last_study_day=12) == [7, 10]
    assert schedule_study_days("7,10,13", last_study_day=10) == [7, 10]


def test_no_occurrence_is_planned_when_the_animal_is_randomized_after_the_end() -> None:
    assert schedule_study_days("QD from R+0 until day 20", randomization_day=21) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("QDx5 from day 7", IntervalSchedule(1, DayReference(Anchor.IMPLANTATION, 7), count=5)),
        (
            "Q3D from R+1 until day 30",
            IntervalSchedule(
                3,
                DayReference(Anchor.RANDOMIZATION, 1),
                end=DayReference(Anchor.IMPLANTATION, 30),
            ),
        ),
        ("BIW×3wk", WeekdaySchedule((0, 3), weeks=3)),
        ("Fri/Mon", WeekdaySchedule((0, 4))),
        (
            "R+0,R+3",
            ExplicitSchedule(
                (DayReference(Anchor.RANDOMIZATION, 0), DayReference(Anchor.RANDOMIZATION, 3))
            ),
        ),
    ],
)
def test_parse_gives_the_dataclass_when_the_notation_is_valid(text: str, expected: object) -> None:
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(
    ("text", "notation"),
    [
        ("qdx5 from day 7", "QD×5 from day 7"),
        ("QOD×3 from randomization day 1", "Q2D×3 from R+1"),
        ("Q7D×2 from day 0", "QW×2 from day 0"),
        ("biw x 3 wk", "BIW×3wk"),
        ("wed/mon/fri from day 0 until day 21", "Mon/Wed/Fri until day 21"),
        ("Mon/Thu×2wk from R-1", "Mon/Thu×2wk from R-1"),
        ("days 7, 10, 13", "7,10,13"),
        ("single from day 7", "once on day 7"),
    ],
)
def test_notation_is_canonical_when_the_input_used_a_variant(text: str, notation: str) -> None:
    schedule = parse_schedule(text)
    assert schedule.notation == notation
    assert parse_schedule(notation) == schedule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "",
            "the schedule is empty; write one, e.g. QD×5 from day 7, Q3D×4 from R+1, "
            "QW×3 from day 7, BIW×3wk, TIW×2wk, Mon/Wed/Fri, 7,10,13, once on day 7",
        ),
        ("Q0D×3 from day 7", "Q0D: the interval must be at least 1 day (Q1D, i.e. QD, is daily)"),
        ("QD×0 from day 7", "QD×0 gives no occurrences: the count must be at least 1"),
        ("QD×400 from day 7", "QD×400 is more than 365 occurrences; check the number"),
        ("Q400D from day 7", "Q400D: an interval of more than 365 days is not a schedule"),
        (
            "Mon/Funday",
            "'Funday' is not a weekday; use Mon, Tue, Wed, Thu, Fri, Sat, Sun (e.g. Mon/Wed/Fri)",
        ),
        ("Mon/Wed/Mon", "Mon is listed twice in 'Mon/Wed/Mon'"),
        ("7,10,10", "day 10 is listed twice in '7,10,10'"),
        (
            "7,13,10",
            "the days in '7,13,10' must be in increasing order: day 10 is listed after day 13",
        ),
        ("7,,10", "the list '7,,10' has an empty entry; separate days by one comma"),
        (
            "7,R+3",
            "'7,R+3' mixes days after implantation with days after randomization; use "
            "one kind per schedule",
        ),
        (
            "7,10 from day 3",
            "the list '7,10' names its own days; remove 'from …'/'until …' "
            "(write R+0,R+3 for days after randomization)",
        ),
        (
            "fortnightly",
            "'fortnightly' is not a schedule notation; e.g. QD×5 from day 7, "
            "Q3D×4 from R+1, QW×3 from day 7, BIW×3wk, TIW×2wk, Mon/Wed/Fri, 7,10,13, "
            "once on day 7",
        ),
        (
            "QD×5 from day 7 twice",
            "the start 'day 7 twice' is not a day: write 'day 7' (after "
            "implantation), 'randomization day 1' or 'R+1' (after each animal's randomization)",
        ),
        (
            "BIW×3",
            "BIW×3 is ambiguous: write BIW×3wk for 3 weeks (a weekday schedule counts "
            "weeks, not occurrences)",
        ),
        (
            "Mon/Wed/Fri×2",
            "Mon/Wed/Fri×2 is ambiguous: write Mon/Wed/Fri×2wk for 2 weeks (a "
            "weekday schedule counts weeks, not occurrences)",
        ),
        ("TIW×0wk", "TIW×0wk gives no occurrences: give at least 1 week"),
        ("TIW×60wk", "TIW×60wk is more than 52 weeks; check the number"),
        (
            "Q3D×4wk from day 7",
            "'wk' in 'Q3D×4wk' is not understood: the number after × counts "
            "occurrences; write Q3D×4 (or give an end with 'until day N')",
        ),
        (
            "QD×5 from day 7 until day 20",
            "give either a count (×5) or an end ('until …'), not both",
        ),
        ("TIW×2wk until day 20", "give either a duration (×2wk) or an end ('until …'), not both"),
        (
            "QD×5",
            "QD×5 needs a start: add 'from day N' (days after implantation) or 'from R+N' "
            "(days after each animal's randomization)",
        ),
        (
            "QD×5 from 7",
            "the start '7' is ambiguous: write 'day 7' (after implantation) or "
            "'R+7' (after each animal's randomization)",
        ),
        ("Q3D from day 20 until day 7", "the schedule ends (day 7) before it starts (day 20)"),
        (
            "once",
            "'once' needs a day: write 'once on day 7' (after implantation) or 'once on "
            "R+0' (on each animal's randomization day)",
        ),
        (
            "once on day 7 until day 9",
            "'once' is a single occurrence and has no end; remove 'until …'",
        ),
        (
            "from day 7",
            "'from day 7' says when but not how often; e.g. QD×5 from day 7, Q3D×4 "
            "from R+1, QW×3 from day 7, BIW×3wk, TIW×2wk, Mon/Wed/Fri, 7,10,13, once on day 7",
        ),
    ],
)
def test_parse_refuses_with_a_message_when_the_notation_is_ambiguous_or_impossible(
    text: str, message: str
) -> None:
    with pytest.raises(DomainError) as caught:
        parse_schedule(text)
    assert caught.value.message == message


def test_expanding_refuses_when_a_weekday_schedule_has_no_calendar() -> None:
    with pytest.raises(DomainError) as caught:
        schedule_study_days("Mon/Wed/Fri×2wk")
    assert caught.value.message == (
        "'Mon/Wed/Fri×2wk' falls on weekdays: expanding it needs the run's day-0 date (a calendar)"
    )


def test_expanding_refuses_when_an_open_ended_schedule_has_no_last_day() -> None:
    with pytest.raises(DomainError) as caught:
        schedule_study_days("Mon/Wed/Fri", day0=MONDAY)
    assert (
        caught.value.message == "'Mon/Wed/Fri' has no end: give the study's last day to expand it"
    )
    with pytest.raises(DomainError) as caught:
        schedule_study_days("Q3D from day 7")
    assert caught.value.message == (
        "'Q3D from day 7' has no end: give the study's last day to expand it"
    )


def test_expanding_refuses_when_a_randomization_schedule_has_no_randomization_day() -> None:
    with pytest.raises(DomainError) as caught:
        expand_schedule("QD×5 from R+0", day0=MONDAY)
    assert caught.value.message == (
        "R+0 counts from each animal's randomization: expand the schedule per animal, with "
        "its randomization day"
    )


@pytest.mark.parametrize(
    ("text", "calendar", "per_animal", "open_ended"),
    [
        ("QD×5 from day 7", False, False, False),
        ("Q3D from R+0", False, True, True),
        ("BIW×3wk", True, False, False),
        ("Mon/Wed/Fri until R+21", True, True, False),
        ("7,10,13", False, False, False),
    ],
)
def test_schedule_properties_describe_what_expansion_needs_when_asked(
    text: str, calendar: bool, per_animal: bool, open_ended: bool
) -> None:
    schedule = parse_schedule(text)
    assert needs_calendar(schedule) is calendar
    assert is_relative_to_randomization(schedule) is per_animal
    assert is_open_ended(schedule) is open_ended


_notations = st.one_of(
    st.builds(
        lambda interval, count, start: f"Q{interval}D×{count} from day {start}",
        st.integers(1, 30),
        st.integers(1, 40),
        st.integers(-5, 60),
    ),
    st.builds(
        lambda days, weeks, start: "/".join(days) + f"×{weeks}wk from day {start}",
        st.lists(
            st.sampled_from(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
            min_size=1,
            max_size=7,
            unique=True,
        ),
        st.integers(1, 8),
        st.integers(-5, 60),
    ),
    st.builds(
        lambda days: ",".join(str(day) for day in sorted(days)),
        st.sets(st.integers(-5, 120), min_size=1, max_size=20),
    ),
)


@given(
    text=_notations,
    day0=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
)
def test_expanded_days_strictly_increase_and_reparse_when_the_notation_is_valid(
    text: str, day0: date
) -> None:
    schedule = parse_schedule(text)
    occurrences = expand_schedule(schedule, day0=day0)
    days = [occurrence.study_day for occurrence in occurrences]
    assert days == sorted(set(days))
    assert [occurrence.index for occurrence in occurrences] == list(range(1, len(days) + 1))
    assert all(o.nominal_date == day0 + timedelta(days=o.study_day) for o in occurrences)
    assert parse_schedule(schedule.notation) == schedule


@given(
    weekdays=st.sets(st.integers(0, 6), min_size=1),
    weeks=st.integers(1, 10),
    start=st.integers(-5, 30),
    day0=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
)
def test_a_weekday_schedule_holds_one_occurrence_per_weekday_and_week_when_given_weeks(
    weekdays: set[int], weeks: int, start: int, day0: date
) -> None:
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    text = "/".join(names[day] for day in sorted(weekdays)) + f"×{weeks}wk from day {start}"
    occurrences = expand_schedule(text, day0=day0)
    assert len(occurrences) == len(weekdays) * weeks
    assert {o.nominal_date.weekday() for o in occurrences} == weekdays
