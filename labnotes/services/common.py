"""Pieces every labnotes service shares: who may write, the lab's today, stale writes."""

from __future__ import annotations

import datetime as dt

from django.db.models import Model
from django.utils import timezone

from planner.models import Lab, Role
from planner.services.permissions import EDITORS

#: People who record what happens in the animal room (everyone but viewers and QA).
RECORDERS = (Role.TECHNICIAN, Role.SCIENTIST, Role.STUDY_DIRECTOR, Role.LAB_ADMIN)
#: People who decide about a run (start it, randomize, exclude).
DECIDERS = EDITORS


class StaleWrite(Exception):
    """The record changed since the writer read it. Carries the current row for display."""

    def __init__(self, current: Model) -> None:
        self.current = current
        super().__init__("This record was changed by someone else after you opened it.")


def lab_today(lab: Lab, now: dt.datetime | None = None) -> dt.date:
    """The lab-local calendar date now (or at ``now``)."""
    return lab.local_date(now or timezone.now())
