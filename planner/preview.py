"""The design's calendar preview: every task of every arm on a hypothetical day 0, with the
moves the lab's working calendar causes and the rule that made them (read-only).

Also the registry of sources for the sample-size helper's default SD of log volume: labnotes
(which knows past control arms) registers one; the planner never imports labnotes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from planner.domain.errors import DomainError
from planner.domain.schedule_notation import expand_schedule
from planner.domain.working_calendar import ScheduledTask, ShiftRule, apply_calendar
from planner.models import Lab, Study
from planner.services.calendar import working_calendar_for


@dataclass(frozen=True)
class PreviewRow:
    what: str
    route: str
    task: ScheduledTask


@dataclass
class ArmPreview:
    name: str
    rows: list[PreviewRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def preview_study(
    *,
    study: Study,
    day0: dt.date,
    last_study_day: int,
    randomization_day: int,
    sees_allocation: bool,
) -> list[ArmPreview]:
    """One calendar per arm: procedures, regimen items and satellite takedowns, date order.

    Blinded viewers get arms by code and dosing without the agent ("Dose (blinded)"): the
    matching vehicle injections make every arm's calendar look alike to them.
    """
    calendar = working_calendar_for(study.lab)
    procedures = list(study.procedures.select_related("protocol_version__template"))
    arms = study.arms.prefetch_related("regimen_items", "satellites").order_by(
        *(("order", "pk") if sees_allocation else ("code",))
    )
    previews: list[ArmPreview] = []
    for arm in arms:
        preview = ArmPreview(name=f"{arm.code} — {arm.label}" if sees_allocation else arm.code)
        sources: list[tuple[str, str, str, str, int]] = [
            (p.get_role_display(), "", p.schedule, p.non_working_day_rule, p.window_days)
            for p in procedures
            if p.schedule
        ]
        for item in arm.regimen_items.all():
            name = (
                f"{item.agent} {item.dose.normalize():f} ({item.dose_basis})"
                if sees_allocation
                else "Dose (blinded)"
            )
            sources.append(
                (name, item.route, item.schedule, item.non_working_day_rule, item.window_days)
            )
        for satellite in arm.satellites.all():
            if satellite.takedown_study_day is not None:
                sources.append(
                    (
                        f"Satellite takedown ({satellite.n} animals)",
                        "",
                        f"once on day {satellite.takedown_study_day}",
                        ShiftRule.EARLIER.value,
                        0,
                    )
                )
        for what, route, schedule, rule, window in sources:
            try:
                occurrences = expand_schedule(
                    schedule,
                    day0=day0,
                    randomization_day=randomization_day,
                    last_study_day=last_study_day,
                )
                tasks = apply_calendar(occurrences, calendar, rule, window)
            except DomainError as error:
                preview.problems.append(f"{what}: {error.message}")
                continue
            preview.rows += [PreviewRow(what=what, route=route, task=task) for task in tasks]
        preview.rows.sort(key=lambda row: (row.task.nominal_date, row.what))
        previews.append(preview)
    return previews


SdLogSource = Callable[[Lab], tuple[float, str] | None]
_SD_LOG_SOURCES: list[SdLogSource] = []


def register_sd_log_source(source: SdLogSource) -> None:
    """Register a function giving (SD of log volume, where it came from) for a lab, or None
    (once; a second registration of the same function is ignored)."""
    if source not in _SD_LOG_SOURCES:
        _SD_LOG_SOURCES.append(source)


def default_sd_log(lab: Lab) -> tuple[float, str] | None:
    """The first registered source's answer for ``lab`` (None: the user types it in)."""
    for source in _SD_LOG_SOURCES:
        found = source(lab)
        if found is not None:
            return found
    return None
