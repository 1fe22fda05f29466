"""Randomization batches: preview, apply (then immutable in the database), void with a reason."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models.base import VersionedModel


class BatchStatus(models.TextChoices):
    PREVIEWED = "previewed", "Previewed"
    DISCARDED = "discarded", "Discarded (a newer preview replaced it)"
    APPLIED = "applied", "Applied"
    VOIDED = "voided", "Voided"


class BatchMethod(models.TextChoices):
    SIMPLE = "simple", "Simple (seeded)"
    STRATIFIED = "stratified", "Stratified on tumour volume"
    BALANCE = "balance", "Multi-covariate balance"
    IMPORTED = "imported", "Imported (allocation from a past or running study)"


# Columns an applied batch may still change: only voiding it (status, who, when, why).
_VOID_COLUMNS = ("status", "void_reason", "voided_by", "voided_at", "row_version")
_FROZEN_COLUMNS = (
    "run",
    "number",
    "method",
    "seed",
    "numpy_version",
    "bit_generator",
    "candidates",
    "inputs",
    "allocation",
    "balance",
    "randomized_on",
    "previewed_by",
    "previewed_at",
    "applied_by",
    "applied_at",
)


def _any_frozen_column_changes() -> pgtrigger.Q:
    condition = pgtrigger.Q()
    for name in _FROZEN_COLUMNS:
        column = f"{name}_id" if name in {"run", "previewed_by", "applied_by"} else name
        condition |= pgtrigger.Q(**{f"old__{column}__df": pgtrigger.F(f"new__{column}")})
    return condition


@audit_trail()
class RandomizationBatch(VersionedModel):
    """One randomization of a run's animals, with everything needed to reproduce and audit it.

    ``inputs``: the animals and covariates as randomized; ``allocation``: animal → arm (codes
    only, never labels); ``balance``: the running balance table over every animal allocated so
    far. Once applied, the database refuses any change but voiding (applied → voided, with who,
    when and why); a voided batch never changes again, and no batch is ever deleted.
    """

    run = models.ForeignKey(
        "labnotes.StudyRun", on_delete=models.PROTECT, related_name="randomization_batches"
    )
    number = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=12, choices=BatchMethod.choices)
    seed = models.BigIntegerField()
    numpy_version = models.CharField(max_length=20)
    bit_generator = models.CharField(max_length=40)
    candidates = models.PositiveIntegerField(default=1)
    inputs = models.JSONField()
    allocation = models.JSONField()
    balance = models.JSONField()
    randomized_on = models.DateField(help_text="Lab-local date: the animals' treatment start.")
    status = models.CharField(
        max_length=10, choices=BatchStatus.choices, default=BatchStatus.PREVIEWED
    )
    previewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    previewed_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "number", "pk"]
        verbose_name_plural = "randomization batches"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in BatchStatus]),
                name="randomization_batch_status_valid",
            ),
            models.UniqueConstraint(
                fields=["run", "number"],
                condition=models.Q(status="applied"),
                name="randomization_batch_applied_number_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="applied")
                | models.Q(applied_by__isnull=False, applied_at__isnull=False),
                name="randomization_batch_applied_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="voided")
                | (
                    models.Q(voided_by__isnull=False, voided_at__isnull=False)
                    & ~models.Q(void_reason="")
                ),
                name="randomization_batch_voided_has_who_when_why",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="randomization_batch_never_deleted", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="applied_randomization_batch_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__status=BatchStatus.VOIDED)
                | (
                    pgtrigger.Q(old__status=BatchStatus.APPLIED)
                    & (~pgtrigger.Q(new__status=BatchStatus.VOIDED) | _any_frozen_column_changes())
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"randomization batch {self.number} of {self.run} ({self.status})"
