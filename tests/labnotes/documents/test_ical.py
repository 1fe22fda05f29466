"""The iCal feed, parsed back with icalendar and checked against RFC 5545 line rules."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from icalendar import Calendar

from labnotes.documents import CalendarTask, render_ical

STAMP = dt.datetime(2025, 3, 1, 6, 30, tzinfo=dt.UTC)
TRICKY = "Cage C-01; animals M001, M002\\M003\nthen weigh: Ärger, naïve; 小鼠"


def tasks() -> list[CalendarTask]:
    return [
        CalendarTask(
            uid="task-101@vivolog.example.org",
            summary="Measure, weigh; observe",
            date=dt.date(2025, 3, 4),
            description=TRICKY + " and a long tail " * 6,
            url="https://vivolog.example.org/labnotes/tasks/101/?room=B2,14",
        ),
        CalendarTask(
            uid="task-102@vivolog.example.org",
            summary="Tumour measurements",
            date=dt.date(2025, 12, 31),
            description="",
            url=None,
        ),
    ]


def test_feed_parses_to_all_day_events_with_their_uids_dates_and_texts() -> None:
    feed = render_ical(tasks(), calendar_name="CT26, run R1; tasks", stamped_at=STAMP)
    calendar = Calendar.from_ical(feed)
    events = calendar.walk("VEVENT")
    assert [str(event["UID"]) for event in events] == [
        "task-101@vivolog.example.org",
        "task-102@vivolog.example.org",
    ]
    first, second = events
    assert first.decoded("DTSTART") == dt.date(2025, 3, 4)
    assert not isinstance(first.decoded("DTSTART"), dt.datetime)
    assert first.decoded("DTEND") == dt.date(2025, 3, 5)
    assert second.decoded("DTSTART") == dt.date(2025, 12, 31)
    assert second.decoded("DTEND") == dt.date(2026, 1, 1)
    assert first.decoded("DTSTAMP") == STAMP
    assert str(first["SUMMARY"]) == "Measure, weigh; observe"
    assert str(first["DESCRIPTION"]) == TRICKY + " and a long tail " * 6
    assert str(first["URL"]) == "https://vivolog.example.org/labnotes/tasks/101/?room=B2,14"
    assert "DESCRIPTION" not in second and "URL" not in second
    assert str(calendar["VERSION"]) == "2.0"
    assert "CT26\\, run R1\\; tasks" in feed


def test_feed_escapes_text_and_folds_lines_at_75_octets() -> None:
    feed = render_ical(tasks(), calendar_name="Run R1", stamped_at=STAMP)
    assert "SUMMARY:Measure\\, weigh\\; observe\r\n" in feed
    assert "DESCRIPTION:Cage C-01\\; animals M001\\, M002\\\\M003\\nthen weigh" in feed
    raw = feed.encode("utf-8")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    folded = [line for line in lines if line.startswith(b" ")]
    assert folded, "the long description must have been folded"
    for line in lines:
        line.decode("utf-8")  # folding never splits a multi-byte character


def test_uids_and_contents_stay_the_same_when_the_feed_is_fetched_again() -> None:
    first = render_ical(tasks(), calendar_name="Run R1", stamped_at=STAMP)
    later = render_ical(tasks(), calendar_name="Run R1", stamped_at=STAMP + dt.timedelta(days=2))
    assert first != later
    assert first.replace("DTSTAMP:20250301T063000Z", "DTSTAMP:20250303T063000Z") == later


def test_feed_is_an_empty_calendar_when_there_are_no_tasks() -> None:
    calendar = Calendar.from_ical(render_ical([], calendar_name="Nothing due"))
    assert calendar.walk("VEVENT") == []
    assert str(calendar["PRODID"]).startswith("-//Vivolog//")


def test_task_is_refused_when_its_date_carries_a_time() -> None:
    with pytest.raises(TypeError, match="date"):
        dataclasses.replace(tasks()[0], date=dt.datetime(2025, 3, 4, 9, 0))


def test_task_is_refused_when_uid_is_blank() -> None:
    with pytest.raises(ValueError, match="uid"):
        dataclasses.replace(tasks()[0], uid="  ")
