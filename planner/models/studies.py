"""Study designs and per-study access. (The full design — arms, regimens, plans — grows here.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models.base import VersionedModel
from planner.models.tenancy import Lab


class StudyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    ARCHIVED = "archived", "Archived"


@audit_trail()
class Study(VersionedModel):
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="studies")
    code = models.CharField(max_length=40, help_text="Short unique code within the lab, e.g. CT26-IL12-01.")
    title = models.CharField(max_length=300)
    objective = models.TextField(blank=True)
    blinded = models.BooleanField(
        default=True, help_text="Blinded members see arm codes only, never labels or agents."
    )
    status = models.CharField(max_length=20, choices=StudyStatus.choices, default=StudyStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_studies"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "studies"
        constraints = [
            models.UniqueConstraint(fields=["lab", "code"], name="study_code_unique_in_lab"),
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in StudyStatus]),
                name="study_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


@audit_trail()
class StudyMember(models.Model):
    """A user's access to one study: whether they may see the allocation, and dose."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="study_memberships"
    )
    unblinded = models.BooleanField(default=False)
    can_dose = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="study_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.study.code}"
