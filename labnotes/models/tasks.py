"""Dated tasks per animal, expanded from the design's regimens and procedures."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models import RegimenItem, SatelliteCohort, StudyProcedure
from planner.models.base import VersionedModel


class TaskKind(models.TextChoices):
    MEASURE = "measure", "Measure tumours"
    WEIGH = "weigh", "Weigh"
    OBSERVE = "observe", "Clinical observation"
    DOSE = "dose", "Dose"
    SAMPLE = "sample", "Collect samples"
    TAKEDOWN = "takedown", "Satellite takedown"


class TaskStatus(models.TextChoices):
    DUE = "due", "Due"
    DONE = "done", "Done"
    MISSED = "missed", "Missed"
    SKIPPED = "skipped", "Skipped"


BLINDED_TASK_KINDS = (TaskKind.MEASURE, TaskKind.WEIGH, TaskKind.OBSERVE)


@audit_trail()
class Task(VersionedModel):
    """One planned piece of work on one animal on one day.

    ``nominal_date`` is the schedule's date; ``scheduled_date`` the date after the lab's working
    calendar and the item's rule (empty when the rule skips it or no working day fits the
    window: then ``per_protocol`` is False and a person decides). Exactly one source: a regimen
    item (dose), a study procedure (measure, weigh, observe, sample) or a satellite cohort
    (takedown).
    """

    run = models.ForeignKey("labnotes.StudyRun", on_delete=models.PROTECT, related_name="tasks")
    animal = models.ForeignKey("labnotes.Animal", on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=10, choices=TaskKind.choices)
    regimen_item = models.ForeignKey(
        RegimenItem, on_delete=models.PROTECT, related_name="tasks", null=True, blank=True
    )
    procedure = models.ForeignKey(
        StudyProcedure, on_delete=models.PROTECT, related_name="tasks", null=True, blank=True
    )
    satellite_cohort = models.ForeignKey(
        SatelliteCohort, on_delete=models.PROTECT, related_name="tasks", null=True, blank=True
    )
    occurrence = models.PositiveSmallIntegerField(help_text="1 for the first occurrence.")
    study_day = models.IntegerField(help_text="Nominal study day.")
    nominal_date = models.DateField()
    scheduled_date = models.DateField(null=True, blank=True)
    shift_description = models.CharField(max_length=300, blank=True)
    window_days = models.PositiveSmallIntegerField(default=0)
    per_protocol = models.BooleanField(default=True)
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.DUE)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assigned_tasks",
        null=True,
        blank=True,
    )
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scheduled_date", "nominal_date", "animal", "kind", "pk"]
        indexes = [models.Index(fields=["run", "scheduled_date"], name="task_run_date")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in TaskStatus]),
                name="task_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind="dose",
                    regimen_item__isnull=False,
                    procedure__isnull=True,
                    satellite_cohort__isnull=True,
                )
                | models.Q(
                    kind="takedown",
                    regimen_item__isnull=True,
                    procedure__isnull=True,
                    satellite_cohort__isnull=False,
                )
                | models.Q(
                    kind__in=["measure", "weigh", "observe", "sample"],
                    regimen_item__isnull=True,
                    procedure__isnull=False,
                    satellite_cohort__isnull=True,
                ),
                name="task_kind_has_its_source",
            ),
            models.UniqueConstraint(
                fields=[
                    "animal",
                    "kind",
                    "regimen_item",
                    "procedure",
                    "satellite_cohort",
                    "occurrence",
                ],
                name="task_occurrence_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} {self.animal} on {self.scheduled_date or self.nominal_date}"
        )

    @property
    def date(self):  # type: ignore[no-untyped-def]
        return self.scheduled_date or self.nominal_date
