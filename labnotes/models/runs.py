"""Study runs: one execution (cohort) of an approved design, with its day 0."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models import Study
from planner.models.base import VersionedModel

DEFAULT_LAST_STUDY_DAY = 60


class RunStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    ABANDONED = "abandoned", "Abandoned"


@audit_trail()
class StudyRun(VersionedModel):
    """One cohort of a study design. Study days count from ``day0`` (the implantation date).

    A re-challenge run points at its ``parent_run``: its cured animals come from there.
    """

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="runs")
    code = models.CharField(max_length=40, help_text="Unique within the study, e.g. RUN-1.")
    day0 = models.DateField(help_text="Day 0: the implantation date.")
    last_study_day = models.PositiveSmallIntegerField(
        default=DEFAULT_LAST_STUDY_DAY,
        help_text="Planned last study day: ends open-ended schedules (e.g. Mon/Wed/Fri).",
    )
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.ACTIVE)
    parent_run = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="rechallenge_runs",
        null=True,
        blank=True,
        help_text="For a re-challenge run: the run its cured animals come from.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_runs"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "day0", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="study_run_code_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in RunStatus]),
                name="study_run_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(parent_run=models.F("pk")),
                name="study_run_not_own_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study.code} / {self.code}"

    @property
    def lab(self):  # type: ignore[no-untyped-def]
        return self.study.lab

    def date_of_study_day(self, study_day: int) -> dt.date:
        return self.day0 + dt.timedelta(days=study_day)
