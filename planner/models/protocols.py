"""Protocol templates and their versions. A released version never changes: the database
refuses it. Editing a released template makes version n + 1."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.domain.protocol_parameters import KIND_CHOICES
from planner.models.base import VersionedModel
from planner.models.tenancy import Lab


class ProtocolVersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RELEASED = "released", "Released"


@audit_trail()
class ProtocolTemplate(VersionedModel):
    """A reusable procedure of one kind (implantation, dosing, ELISA …) in a lab's library."""

    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="protocol_templates")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=KIND_CHOICES)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["lab", "name"], name="protocol_template_name_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=[value for value, _ in KIND_CHOICES]),
                name="protocol_template_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


@audit_trail()
class ProtocolVersion(models.Model):
    """One numbered version of a template with its typed, validated parameters (JSON)."""

    template = models.ForeignKey(
        ProtocolTemplate, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=ProtocolVersionStatus.choices, default=ProtocolVersionStatus.DRAFT
    )
    parameters = models.JSONField(default=dict)
    change_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    released_at = models.DateTimeField(null=True, blank=True)
    row_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["template", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="protocol_version_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in ProtocolVersionStatus]),
                name="protocol_version_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status=ProtocolVersionStatus.DRAFT)
                | models.Q(released_at__isnull=False, released_by__isnull=False),
                name="protocol_version_released_has_who_and_when",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="released_protocol_version_immutable",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__status=ProtocolVersionStatus.RELEASED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"

    @property
    def is_released(self) -> bool:
        return self.status == ProtocolVersionStatus.RELEASED
