"""The lab's working calendar: working weekdays, public holidays and closures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from planner.audit import audited_change
from planner.domain import working_calendar as domain
from planner.models import Closure, Holiday, Lab, Role
from planner.services.permissions import require_role

CALENDAR_EDITORS = (Role.STUDY_DIRECTOR, Role.LAB_ADMIN)


def working_calendar_for(lab: Lab) -> domain.WorkingCalendar:
    """The lab's calendar as the pure domain object the schedule preview uses."""
    return domain.WorkingCalendar(
        working_weekdays=frozenset(int(day) for day in lab.working_weekdays),
        holidays=tuple(domain.Holiday(h.day, h.name) for h in lab.holidays.all()),
        closures=tuple(
            domain.Closure(c.first_day, c.last_day, c.reason) for c in lab.closures.all()
        ),
    )


def set_working_weekdays(
    *, lab: Lab, weekdays: Iterable[int], changed_by: User, reason: str | None
) -> Lab:
    """Set the weekdays the lab works (0 = Monday); at least one."""
    require_role(changed_by, lab, CALENDAR_EDITORS, action="change the working calendar")
    days = sorted({int(day) for day in weekdays})
    if not days:
        raise ValidationError({"working_weekdays": "Choose at least one working weekday."})
    if any(day not in range(7) for day in days):
        raise ValidationError({"working_weekdays": "Weekdays run from 0 (Monday) to 6 (Sunday)."})
    if days == sorted(lab.working_weekdays):
        return lab
    with transaction.atomic(), audited_change(reason=reason, required=True):
        Lab.objects.filter(pk=lab.pk).update(working_weekdays=days)
    lab.refresh_from_db()
    return lab


def add_holiday(*, lab: Lab, day: dt.date, name: str, created_by: User) -> Holiday:
    require_role(created_by, lab, CALENDAR_EDITORS, action="change the working calendar")
    if Holiday.objects.filter(lab=lab, day=day).exists():
        raise ValidationError({"day": f"{day:%Y-%m-%d} is already a holiday."})
    with transaction.atomic(), audited_change(reason=None, required=False):
        holiday = Holiday(lab=lab, day=day, name=name.strip())
        holiday.full_clean()
        holiday.save()
    return holiday


def remove_holiday(*, holiday: Holiday, removed_by: User, reason: str | None) -> None:
    require_role(removed_by, holiday.lab, CALENDAR_EDITORS, action="change the working calendar")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        holiday.delete()


def add_closure(
    *,
    lab: Lab,
    first_day: dt.date,
    last_day: dt.date,
    reason_text: str,
    created_by: User,
) -> Closure:
    """Record a facility closure (no rota either), first and last day inclusive."""
    require_role(created_by, lab, CALENDAR_EDITORS, action="change the working calendar")
    if last_day < first_day:
        raise ValidationError({"last_day": "The closure cannot end before it starts."})
    with transaction.atomic(), audited_change(reason=None, required=False):
        closure = Closure(lab=lab, first_day=first_day, last_day=last_day, reason=reason_text)
        closure.full_clean()
        closure.save()
    return closure


def remove_closure(*, closure: Closure, removed_by: User, reason: str | None) -> None:
    require_role(removed_by, closure.lab, CALENDAR_EDITORS, action="change the working calendar")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        closure.delete()
