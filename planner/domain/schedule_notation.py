"""Dosing and measurement schedule notation: parse it, then expand it into study days.

Grammar (case-insensitive; ``×``, ``x`` and ``X`` are the same sign; spaces are free)::

    schedule  := body [start] [end]
    body      := "QD" | "QOD" | "Q<n>D" | "QW"  ["×" count]      every n days (QW: every 7 days)
               | ("BIW" | "TIW" | weekdays)   ["×" weeks "wk"]   on fixed weekdays
               | ["day" | "days"] day ("," day)*                 an explicit list
               | "once" | "single" ["dose"]                      one occurrence (needs a start)
    start     := ("from" | "on" | "starting" ["on"]) reference
    end       := ("until" | "through") reference                 inclusive
    reference := "day" N                        N days after implantation (day 0)
               | "randomization day" N | "R+N" | "R-N" | "randomization"
                                                N days after the animal's randomization (R+0)
    weekdays  := Mon/Wed/Fri (3-letter or full names, separated by "/" or ",")

Conventions, chosen so that a notation means one thing only:

* Study days are integers relative to the run's day 0 (implantation); the randomization date of
  an animal is its ``R+0`` ("randomization day 0"), so ``from randomization day 1`` is the day
  after randomization. A schedule relative to randomization is expanded per animal.
* ``×n`` after ``QD``/``Q<n>D``/``QW`` counts occurrences (``Q3D×4``: four doses, days s, s+3,
  s+6, s+9); ``QW×3wk`` is accepted as the same as ``QW×3``.
* ``BIW`` is Monday and Thursday, ``TIW`` Monday, Wednesday and Friday (the pairs most animal
  facilities staff; a lab that doses Tue/Fri writes ``Tue/Fri``). After a weekday schedule, ``×n``
  must say ``wk``: ``BIW×3`` could mean three doses or three weeks and is refused. ``×3wk`` is the
  21 days from the start, inclusive of the start day, so it always holds 3 × (days per week)
  occurrences.
* Interval and single schedules need a start (there is no safe default for the first dose).
  Weekday schedules without a start run from day 0: they follow the calendar, not a treatment.
  An explicit list names its own days (relative to implantation, or all ``R+n``) and takes no
  start or end.
* A schedule without a count, weeks or end is open-ended; expanding it needs the study's last day.

Impossible or ambiguous forms raise :class:`~planner.domain.errors.DomainError` with a message
that names the problem and the fix (``Q0D×3``, ``QD×0``, ``Mon/Funday``, duplicate days, days out
of order, an unknown word, a weekday schedule expanded without the run's day-0 date).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from planner.domain.errors import DomainError

WEEKDAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BIW_WEEKDAYS: tuple[int, ...] = (0, 3)
TIW_WEEKDAYS: tuple[int, ...] = (0, 2, 4)
MAX_OCCURRENCES = 365
MAX_INTERVAL_DAYS = 365
MAX_WEEKS = 52

_WEEKDAY_LOOKUP: dict[str, int] = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
_WEEK_UNITS = frozenset({"w", "wk", "wks", "week", "weeks"})
_DOSE_UNITS = frozenset({"dose", "doses"})
_EXAMPLES = (
    "e.g. QD×5 from day 7, Q3D×4 from R+1, QW×3 from day 7, BIW×3wk, TIW×2wk, Mon/Wed/Fri, "
    "7,10,13, once on day 7"
)

_CLAUSES = re.compile(
    r"^(?P<body>.+?)"
    r"(?:\s+(?:from|on|starting(?:\s+on)?)\s+(?P<start>.+?))?"
    r"(?:\s+(?:until|through)\s+(?P<end>.+?))?\s*$",
    re.IGNORECASE,
)
_COUNT = r"(?:\s*[x×]\s*(?P<count>\d+)\s*(?P<unit>[a-z]+)?)?"
_INTERVAL = re.compile(r"^(?P<code>Q(?P<n>\d*)D|QOD|QW)" + _COUNT + "$", re.IGNORECASE)
_WEEKLY_CODE = re.compile(r"^(?P<code>BIW|TIW)" + _COUNT + "$", re.IGNORECASE)
_WEEKDAY_LIST = re.compile(r"^(?P<names>[a-z]+(?:\s*[/,]\s*[a-z]+)*)" + _COUNT + "$", re.IGNORECASE)
_ONCE = re.compile(r"^(?:once|single(?:\s+dose)?)$", re.IGNORECASE)
_EXPLICIT = re.compile(r"^(?:days?\s*)?(?P<items>[\dR+\-\s,]*\d[\dR+\-\s,]*)$", re.IGNORECASE)
_STUDY_DAY = re.compile(r"^[+-]?\d+$")
_RANDOMIZATION_OFFSET = re.compile(r"^R\s*(?P<sign>[+-])\s*(?P<n>\d+)$", re.IGNORECASE)
_DAY_REFERENCE = re.compile(r"^day\s*(?P<n>[+-]?\d+)$", re.IGNORECASE)
_RANDOMIZATION_DAY = re.compile(r"^randomi[sz]ation(?:\s+day\s*(?P<n>[+-]?\d+))?$", re.IGNORECASE)


class Anchor(StrEnum):
    """What a day number counts from."""

    IMPLANTATION = "implantation"
    RANDOMIZATION = "randomization"


@dataclass(frozen=True)
class DayReference:
    """A day given as ``offset_days`` after implantation (a study day) or after randomization."""

    anchor: Anchor
    offset_days: int

    @property
    def notation(self) -> str:
        if self.anchor is Anchor.IMPLANTATION:
            return f"day {self.offset_days}"
        return f"R+{self.offset_days}" if self.offset_days >= 0 else f"R{self.offset_days}"

    def study_day(self, randomization_day: int | None) -> int:
        """The study day this reference falls on, given the animal's randomization study day.

        Raises :class:`DomainError` for a randomization-relative day when ``randomization_day``
        is ``None``: such a schedule is expanded per animal.
        """
        if self.anchor is Anchor.IMPLANTATION:
            return self.offset_days
        if randomization_day is None:
            raise DomainError(
                f"{self.notation} counts from each animal's randomization: expand the schedule "
                "per animal, with its randomization day"
            )
        return randomization_day + self.offset_days


_DAY_ZERO = DayReference(Anchor.IMPLANTATION, 0)


@dataclass(frozen=True)
class IntervalSchedule:
    """Every ``interval_days`` days from ``start``: ``count`` times, until ``end``, or open."""

    interval_days: int
    start: DayReference
    count: int | None = None
    end: DayReference | None = None

    @property
    def notation(self) -> str:
        if self.interval_days == 1:
            code = "QD"
        elif self.interval_days == 7:
            code = "QW"
        else:
            code = f"Q{self.interval_days}D"
        text = code + (f"×{self.count}" if self.count is not None else "")
        text += f" from {self.start.notation}"
        return text + (f" until {self.end.notation}" if self.end is not None else "")


@dataclass(frozen=True)
class WeekdaySchedule:
    """On the given weekdays (0 = Monday) from ``start``, for ``weeks`` weeks or until ``end``.

    ``code`` keeps ``BIW``/``TIW`` when the schedule was written that way, for display only.
    """

    weekdays: tuple[int, ...]
    start: DayReference = _DAY_ZERO
    weeks: int | None = None
    end: DayReference | None = None
    code: str | None = field(default=None, compare=False)

    @property
    def notation(self) -> str:
        text = self.code or "/".join(WEEKDAY_NAMES[day] for day in self.weekdays)
        text += f"×{self.weeks}wk" if self.weeks is not None else ""
        text += f" from {self.start.notation}" if self.start != _DAY_ZERO else ""
        return text + (f" until {self.end.notation}" if self.end is not None else "")


@dataclass(frozen=True)
class ExplicitSchedule:
    """The listed days, all with the same anchor, strictly increasing (``once`` is one day)."""

    days: tuple[DayReference, ...]

    @property
    def notation(self) -> str:
        if len(self.days) == 1:
            return f"once on {self.days[0].notation}"
        if self.days[0].anchor is Anchor.IMPLANTATION:
            return ",".join(str(day.offset_days) for day in self.days)
        return ",".join(day.notation for day in self.days)


Schedule = IntervalSchedule | WeekdaySchedule | ExplicitSchedule


@dataclass(frozen=True)
class PlannedOccurrence:
    """One planned task before the working calendar is applied.

    ``index`` counts from 1 ("dose 1 of 4"); ``study_day`` is relative to the run's day 0 and
    ``nominal_date`` is ``day0 + study_day`` days.
    """

    nominal_date: date
    study_day: int
    index: int


def needs_calendar(schedule: Schedule) -> bool:
    """True when expanding needs the run's day-0 date (the schedule is tied to weekdays)."""
    return isinstance(schedule, WeekdaySchedule)


def is_relative_to_randomization(schedule: Schedule) -> bool:
    """True when the schedule counts from each animal's randomization (expand per animal)."""
    if isinstance(schedule, ExplicitSchedule):
        return schedule.days[0].anchor is Anchor.RANDOMIZATION
    return schedule.start.anchor is Anchor.RANDOMIZATION or (
        schedule.end is not None and schedule.end.anchor is Anchor.RANDOMIZATION
    )


def is_open_ended(schedule: Schedule) -> bool:
    """True when the schedule has no count, duration or end (it runs until the study ends)."""
    if isinstance(schedule, IntervalSchedule):
        return schedule.count is None and schedule.end is None
    if isinstance(schedule, WeekdaySchedule):
        return schedule.weeks is None and schedule.end is None
    return False


def parse_schedule(text: str) -> Schedule:
    """Parse schedule notation (see the module docstring) into a frozen dataclass.

    Raises :class:`DomainError` with a message naming the problem for anything ambiguous,
    impossible or not understood. ``parse_schedule(s.notation) == s`` for every parsed ``s``.
    """
    source = " ".join(text.split())
    if not source:
        raise DomainError(f"the schedule is empty; write one, {_EXAMPLES}")
    match = _CLAUSES.match(source)
    if match is None:  # pragma: no cover - the pattern matches every non-empty string
        raise DomainError(f"'{source}' is not a schedule notation; {_EXAMPLES}")
    body = match["body"].strip()
    start = _parse_reference(match["start"], "start") if match["start"] else None
    end = _parse_reference(match["end"], "end") if match["end"] else None
    if body.lower() in {"from", "on", "until", "starting"} or body.lower().startswith(
        ("from ", "until ")
    ):
        raise DomainError(f"'{source}' says when but not how often; {_EXAMPLES}")

    if _ONCE.match(body):
        return _single(body, start, end)
    if (interval := _INTERVAL.match(body)) is not None:
        return _interval(interval, start, end)
    if (weekly := _WEEKLY_CODE.match(body)) is not None:
        code = weekly["code"].upper()
        weekdays = BIW_WEEKDAYS if code == "BIW" else TIW_WEEKDAYS
        return _weekdays(weekdays, code, weekly, start, end)
    if (explicit := _EXPLICIT.match(body)) is not None:
        return _explicit(explicit["items"], start, end)
    if (listed := _WEEKDAY_LIST.match(body)) is not None:
        weekdays = _parse_weekday_names(listed["names"], body)
        return _weekdays(weekdays, None, listed, start, end)
    raise DomainError(f"'{body}' is not a schedule notation; {_EXAMPLES}")


def _parse_reference(text: str, clause: str) -> DayReference:
    text = text.strip()
    if (day := _DAY_REFERENCE.match(text)) is not None:
        return DayReference(Anchor.IMPLANTATION, int(day["n"]))
    if text.lower() == "implantation":
        return DayReference(Anchor.IMPLANTATION, 0)
    if (randomization := _RANDOMIZATION_DAY.match(text)) is not None:
        offset = int(randomization["n"]) if randomization["n"] is not None else 0
        return DayReference(Anchor.RANDOMIZATION, offset)
    if (relative := _RANDOMIZATION_OFFSET.match(text)) is not None:
        offset = int(relative["n"]) * (-1 if relative["sign"] == "-" else 1)
        return DayReference(Anchor.RANDOMIZATION, offset)
    if text.upper() == "R":
        return DayReference(Anchor.RANDOMIZATION, 0)
    if _STUDY_DAY.match(text):
        raise DomainError(
            f"the {clause} '{text}' is ambiguous: write 'day {int(text)}' (after implantation) "
            f"or 'R+{abs(int(text))}' (after each animal's randomization)"
        )
    raise DomainError(
        f"the {clause} '{text}' is not a day: write 'day 7' (after implantation), "
        "'randomization day 1' or 'R+1' (after each animal's randomization)"
    )


def _single(body: str, start: DayReference | None, end: DayReference | None) -> Schedule:
    if start is None:
        raise DomainError(
            f"'{body}' needs a day: write 'once on day 7' (after implantation) or "
            "'once on R+0' (on each animal's randomization day)"
        )
    if end is not None:
        raise DomainError(f"'{body}' is a single occurrence and has no end; remove 'until …'")
    return ExplicitSchedule((start,))


def _count(match: re.Match[str], shown: str) -> int | None:
    if match["count"] is None:
        return None
    count = int(match["count"])
    if count < 1:
        raise DomainError(f"{shown}×{count} gives no occurrences: the count must be at least 1")
    if count > MAX_OCCURRENCES:
        raise DomainError(
            f"{shown}×{count} is more than {MAX_OCCURRENCES} occurrences; check the number"
        )
    return count


def _interval(
    match: re.Match[str], start: DayReference | None, end: DayReference | None
) -> Schedule:
    code = match["code"].upper()
    if code == "QOD":
        interval = 2
    elif code == "QW":
        interval = 7
    else:
        interval = int(match["n"]) if match["n"] else 1
    if interval < 1:
        raise DomainError(f"{code}: the interval must be at least 1 day (Q1D, i.e. QD, is daily)")
    if interval > MAX_INTERVAL_DAYS:
        raise DomainError(
            f"{code}: an interval of more than {MAX_INTERVAL_DAYS} days is not a schedule"
        )
    count = _count(match, code)
    unit = (match["unit"] or "").lower()
    if unit and not (unit in _DOSE_UNITS or (code == "QW" and unit in _WEEK_UNITS)):
        raise DomainError(
            f"'{match['unit']}' in '{match.group(0)}' is not understood: the number after × counts "
            f"occurrences; write {code}×{count} (or give an end with 'until day N')"
        )
    if start is None:
        shown = code + (f"×{count}" if count is not None else "")
        raise DomainError(
            f"{shown} needs a start: add 'from day N' (days after implantation) or "
            "'from R+N' (days after each animal's randomization)"
        )
    if count is not None and end is not None:
        raise DomainError(f"give either a count (×{count}) or an end ('until …'), not both")
    _check_order(start, end)
    return IntervalSchedule(interval_days=interval, start=start, count=count, end=end)


def _weekdays(
    weekdays: tuple[int, ...],
    code: str | None,
    match: re.Match[str],
    start: DayReference | None,
    end: DayReference | None,
) -> Schedule:
    shown = code or "/".join(WEEKDAY_NAMES[day] for day in weekdays)
    weeks = None
    if match["count"] is not None:
        count = int(match["count"])
        unit = (match["unit"] or "").lower()
        if unit not in _WEEK_UNITS:
            raise DomainError(
                f"{shown}×{count}{match['unit'] or ''} is ambiguous: write {shown}×{count}wk "
                f"for {count} weeks (a weekday schedule counts weeks, not occurrences)"
            )
        if count < 1:
            raise DomainError(f"{shown}×{count}wk gives no occurrences: give at least 1 week")
        if count > MAX_WEEKS:
            raise DomainError(f"{shown}×{count}wk is more than {MAX_WEEKS} weeks; check the number")
        weeks = count
    if weeks is not None and end is not None:
        raise DomainError(f"give either a duration (×{weeks}wk) or an end ('until …'), not both")
    start = start if start is not None else _DAY_ZERO
    _check_order(start, end)
    return WeekdaySchedule(weekdays=weekdays, start=start, weeks=weeks, end=end, code=code)


def _parse_weekday_names(names: str, body: str) -> tuple[int, ...]:
    parts = [part.strip() for part in re.split(r"[/,]", names)]
    if len(parts) == 1 and parts[0].lower() not in _WEEKDAY_LOOKUP:
        raise DomainError(f"'{body}' is not a schedule notation; {_EXAMPLES}")
    found: list[int] = []
    for part in parts:
        weekday = _WEEKDAY_LOOKUP.get(part.lower())
        if weekday is None:
            raise DomainError(
                f"'{part}' is not a weekday; use {', '.join(WEEKDAY_NAMES)} (e.g. Mon/Wed/Fri)"
            )
        if weekday in found:
            raise DomainError(f"{WEEKDAY_NAMES[weekday]} is listed twice in '{body}'")
        found.append(weekday)
    return tuple(sorted(found))


def _explicit(items: str, start: DayReference | None, end: DayReference | None) -> Schedule:
    listed = ",".join(part.strip() for part in items.split(","))
    if start is not None or end is not None:
        raise DomainError(
            f"the list '{listed}' names its own days; remove 'from …'/'until …' "
            "(write R+0,R+3 for days after randomization)"
        )
    days: list[DayReference] = []
    for part in (part.strip() for part in items.split(",")):
        if not part:
            raise DomainError(f"the list '{listed}' has an empty entry; separate days by one comma")
        if _STUDY_DAY.match(part):
            day = DayReference(Anchor.IMPLANTATION, int(part))
        elif (relative := _RANDOMIZATION_OFFSET.match(part)) is not None:
            offset = int(relative["n"]) * (-1 if relative["sign"] == "-" else 1)
            day = DayReference(Anchor.RANDOMIZATION, offset)
        else:
            raise DomainError(
                f"'{part}' in '{listed}' is not a day: use study days (7,10,13) or days after "
                "randomization (R+0,R+3,R+6)"
            )
        if days and day.anchor is not days[0].anchor:
            raise DomainError(
                f"'{listed}' mixes days after implantation with days after randomization; "
                "use one kind per schedule"
            )
        if day in days:
            raise DomainError(f"{day.notation} is listed twice in '{listed}'")
        if days and day.offset_days < days[-1].offset_days:
            raise DomainError(
                f"the days in '{listed}' must be in increasing order: {day.notation} is listed "
                f"after {days[-1].notation}"
            )
        days.append(day)
    if len(days) > MAX_OCCURRENCES:
        raise DomainError(f"'{listed}' lists more than {MAX_OCCURRENCES} days")
    return ExplicitSchedule(tuple(days))


def _check_order(start: DayReference, end: DayReference | None) -> None:
    if end is not None and end.anchor is start.anchor and end.offset_days < start.offset_days:
        raise DomainError(f"the schedule ends ({end.notation}) before it starts ({start.notation})")


def schedule_study_days(
    schedule: Schedule | str,
    *,
    day0: date | None = None,
    randomization_day: int | None = None,
    last_study_day: int | None = None,
) -> list[int]:
    """The study days of every occurrence, strictly increasing.

    ``day0`` (the run's implantation date) is needed only for weekday schedules;
    ``randomization_day`` (the animal's randomization as a study day) only for schedules relative
    to randomization; ``last_study_day`` ends open-ended schedules and drops any occurrence after
    it (the study is over). Each missing input that the schedule needs raises
    :class:`DomainError` naming it.
    """
    if isinstance(schedule, str):
        schedule = parse_schedule(schedule)
    if isinstance(schedule, ExplicitSchedule):
        days = [day.study_day(randomization_day) for day in schedule.days]
        return [day for day in days if last_study_day is None or day <= last_study_day]

    first = schedule.start.study_day(randomization_day)
    limits = [last_study_day] if last_study_day is not None else []
    if schedule.end is not None:
        limits.append(schedule.end.study_day(randomization_day))

    if isinstance(schedule, IntervalSchedule):
        if schedule.count is None and not limits:
            raise DomainError(
                f"'{schedule.notation}' has no end: give the study's last day to expand it"
            )
        last = min(limits) if limits else None
        days = []
        day = first
        while (schedule.count is None or len(days) < schedule.count) and (
            last is None or day <= last
        ):
            days.append(day)
            day += schedule.interval_days
        return days

    if day0 is None:
        raise DomainError(
            f"'{schedule.notation}' falls on weekdays: expanding it needs the run's day-0 date "
            "(a calendar)"
        )
    if schedule.weeks is not None:
        limits.append(first + 7 * schedule.weeks - 1)
    if not limits:
        raise DomainError(
            f"'{schedule.notation}' has no end: give the study's last day to expand it"
        )
    last = min(limits)
    wanted = frozenset(schedule.weekdays)
    return [
        day for day in range(first, last + 1) if (day0 + timedelta(days=day)).weekday() in wanted
    ]


def expand_schedule(
    schedule: Schedule | str,
    *,
    day0: date,
    randomization_day: int | None = None,
    last_study_day: int | None = None,
) -> list[PlannedOccurrence]:
    """Expand a schedule into dated occurrences for a run whose day 0 is ``day0``.

    Same inputs and errors as :func:`schedule_study_days`; ``index`` counts from 1 in date order.
    """
    days = schedule_study_days(
        schedule, day0=day0, randomization_day=randomization_day, last_study_day=last_study_day
    )
    return [
        PlannedOccurrence(nominal_date=day0 + timedelta(days=day), study_day=day, index=number)
        for number, day in enumerate(days, start=1)
    ]
