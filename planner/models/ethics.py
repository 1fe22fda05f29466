"""Ethics protocols: what the committee approved (numbers, severities, endpoint limits)."""

from __future__ import annotations

from django.db import models

from planner.audit import audit_trail
from planner.models.base import VersionedModel
from planner.models.tenancy import Lab


class Severity(models.TextChoices):
    """EU Directive 2010/63/EU severity categories."""

    NON_RECOVERY = "non_recovery", "Non-recovery"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


@audit_trail()
class EthicsProtocol(VersionedModel):
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="ethics_protocols")
    number = models.CharField(max_length=60, help_text="The committee's approval number.")
    title = models.CharField(max_length=300)
    approved_on = models.DateField()
    expires_on = models.DateField()
    endpoint_limits = models.JSONField(
        default=dict, help_text="Approved humane endpoint limits (humane_endpoints parameters)."
    )

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["lab", "number"], name="ethics_number_unique_in_lab"),
            models.CheckConstraint(
                condition=models.Q(expires_on__gt=models.F("approved_on")),
                name="ethics_expires_after_approval",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} — {self.title}"


@audit_trail()
class EthicsApproval(models.Model):
    """Animals approved under a protocol for one strain and severity category."""

    protocol = models.ForeignKey(EthicsProtocol, on_delete=models.PROTECT, related_name="approvals")
    strain = models.CharField(max_length=100)
    severity = models.CharField(max_length=20, choices=Severity.choices)
    approved_animals = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "strain", "severity"], name="ethics_approval_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.strain}, {self.get_severity_display()}: {self.approved_animals}"
