"""Unblinding events: a study director's unblinding of a study, a vet's of one animal."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models import Study


class UnblindingScope(models.TextChoices):
    STUDY = "study", "Whole study (study director)"
    ANIMAL = "animal", "One animal (emergency)"


@audit_trail()
class Unblinding(models.Model):
    """Who unblinded what, when and why. Never changes once written (the database refuses).

    The record itself holds no allocation: an emergency unblinding shows the arm to the person
    who asked, once, and this row only proves that it happened.
    """

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="unblindings")
    scope = models.CharField(max_length=10, choices=UnblindingScope.choices)
    animal = models.ForeignKey(
        "labnotes.Animal",
        on_delete=models.PROTECT,
        related_name="unblindings",
        null=True,
        blank=True,
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="unblindings"
    )
    performed_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField()
    password_confirmed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-performed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="study", animal__isnull=True)
                | models.Q(scope="animal", animal__isnull=False),
                name="unblinding_scope_matches_animal",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="unblinding_reason_required"
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="unblinding_immutable", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        what = f"animal {self.animal.tag}" if self.animal_id else "study"  # type: ignore[union-attr]
        return f"Unblinding of {self.study.code} ({what})"
