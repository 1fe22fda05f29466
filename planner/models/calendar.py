"""The lab's working calendar: public holidays and closures (working weekdays live on Lab)."""

from __future__ import annotations

from django.db import models

from planner.audit import audit_trail
from planner.models.tenancy import Lab


@audit_trail()
class Holiday(models.Model):
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="holidays")
    day = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["lab", "day"], name="holiday_unique_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.name}"


@audit_trail()
class Closure(models.Model):
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="closures")
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="closure_last_day_not_before_first",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_day}–{self.last_day}: {self.reason}"
