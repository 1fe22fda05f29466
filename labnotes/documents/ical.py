"""Task calendars as iCalendar (RFC 5545) text for subscription feeds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from icalendar import Calendar, Event, vText

from labnotes.documents.model import CalendarTask

PRODUCT_ID = "-//Vivolog//Study run tasks//EN"


def render_ical(
    tasks: Sequence[CalendarTask],
    *,
    calendar_name: str,
    stamped_at: dt.datetime | None = None,
) -> str:
    """One all-day VEVENT per task, as an iCalendar document (CRLF line ends, lines folded at
    75 octets, TEXT values escaped by the ``icalendar`` library).

    ``DTSTART`` is the task's date and ``DTEND`` the next day (RFC 5545 3.6.1: an all-day event's
    end is exclusive). ``UID`` is the task's own uid, so a re-fetched feed updates events instead
    of duplicating them. ``DTSTAMP`` is ``stamped_at`` (UTC; defaults to now), the time this
    rendering of the feed was produced.
    """
    stamp = (stamped_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # icalendar types NAME (RFC 7986) and X-WR-CALNAME (read by Apple, Google and Outlook) as
    # unknown and would not escape them; they are TEXT, so say so.
    calendar.add("name", vText(calendar_name))
    calendar.add("x-wr-calname", vText(calendar_name))
    for task in tasks:
        event = Event()
        event.add("uid", task.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", task.date)
        event.add("dtend", task.date + dt.timedelta(days=1))
        event.add("summary", task.summary)
        if task.description:
            event.add("description", task.description)
        if task.url is not None:
            event.add("url", task.url)
        event.add("transp", "TRANSPARENT")  # a task does not block the day in free/busy
        calendar.add_component(event)
    document: bytes = calendar.to_ical()
    return document.decode("utf-8")
