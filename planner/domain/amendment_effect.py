"""Which planned occurrences an amendment changes: only those on or after its effective date.

An approved design changes by amendment, and an amendment never rewrites the past: tasks
before its effective date stay exactly as planned (they may already be done and recorded);
from the effective date on, the old schedule's occurrences that the new schedule no longer has
are cancelled and the new schedule's occurrences that the old one lacked are added. The runs
(labnotes) own the task rows; they apply this difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from planner.domain.schedule_notation import PlannedOccurrence


@dataclass(frozen=True)
class OccurrenceChanges:
    """The effect of an amendment on one item's occurrences, split at ``effective_date``.

    ``kept_before``: old occurrences before the date (untouched); ``unchanged_after``: on or
    after the date and in both schedules; ``cancelled``: old, on or after the date, not in the
    new schedule; ``added``: new, on or after the date, not in the old schedule.
    """

    effective_date: date
    kept_before: tuple[PlannedOccurrence, ...]
    unchanged_after: tuple[PlannedOccurrence, ...]
    cancelled: tuple[PlannedOccurrence, ...]
    added: tuple[PlannedOccurrence, ...]

    @property
    def changes_anything(self) -> bool:
        return bool(self.cancelled or self.added)


def occurrence_changes(
    old: Sequence[PlannedOccurrence], new: Sequence[PlannedOccurrence], *, effective_date: date
) -> OccurrenceChanges:
    """Split ``old`` and ``new`` occurrences (same run, same item) at ``effective_date``.

    Occurrences are matched by their nominal date. New occurrences before the effective date
    are ignored: an amendment cannot add tasks to the past.
    """
    new_dates = {occurrence.nominal_date for occurrence in new}
    old_dates = {occurrence.nominal_date for occurrence in old}
    kept = tuple(item for item in old if item.nominal_date < effective_date)
    after_old = [item for item in old if item.nominal_date >= effective_date]
    after_new = [item for item in new if item.nominal_date >= effective_date]
    return OccurrenceChanges(
        effective_date=effective_date,
        kept_before=kept,
        unchanged_after=tuple(item for item in after_old if item.nominal_date in new_dates),
        cancelled=tuple(item for item in after_old if item.nominal_date not in new_dates),
        added=tuple(item for item in after_new if item.nominal_date not in old_dates),
    )
