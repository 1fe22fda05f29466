"""Worksheets transcribed from paper: the values count only once a second person verified them."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models

from planner.audit import audit_trail
from planner.models.base import VersionedModel


class TranscriptionStatus(models.TextChoices):
    AWAITING_VERIFICATION = "awaiting", "Awaiting verification"
    RETURNED = "returned", "Sent back with corrections"
    VERIFIED = "verified", "Verified"


@audit_trail()
class TranscriptionSheet(VersionedModel):
    """One paper worksheet of a run for one day, typed in by one person and checked by another.

    ``sheet_date`` and ``sheet_time`` are what is written on the paper (lab-local); ``taken_at``
    is that moment as an instant, the time every reading of the sheet carries. ``scan`` is the
    scanned paper, stored by its SHA-256. ``corrections`` holds what the verifier found when
    sending the sheet back: a list of ``{"animal", "tumour", "field", "entered", "corrected",
    "reason"}``; the transcriber applies them (each change with its reason) and resubmits.
    A verified sheet never changes again, and no sheet is ever deleted (both refused by the
    database).
    """

    run = models.ForeignKey(
        "labnotes.StudyRun", on_delete=models.PROTECT, related_name="transcription_sheets"
    )
    sheet_date = models.DateField(help_text="The day written on the worksheet (lab-local).")
    sheet_time = models.TimeField(help_text="The time written on the worksheet (lab-local).")
    taken_at = models.DateTimeField()
    scan = models.ForeignKey(
        "labnotes.StoredFile",
        on_delete=models.PROTECT,
        related_name="transcription_sheets",
        null=True,
        blank=True,
    )
    notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=10,
        choices=TranscriptionStatus.choices,
        default=TranscriptionStatus.AWAITING_VERIFICATION,
    )
    transcribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transcribed_sheets"
    )
    transcribed_at = models.DateTimeField(auto_now_add=True)
    measured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who took the readings on the paper (the operator of every reading).",
    )
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(blank=True)
    corrections = models.JSONField(default=list, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="verified_sheets",
        null=True,
        blank=True,
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "-sheet_date", "-sheet_time", "-pk"]
        indexes = [models.Index(fields=["run", "status"], name="transcription_run_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(verified_by__isnull=True)
                | ~models.Q(verified_by=models.F("transcribed_by")),
                name="transcription_verifier_is_second_person",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="verified")
                | models.Q(
                    verified_by__isnull=False, verified_at__isnull=False, scan__isnull=False
                ),
                name="transcription_verified_has_who_when_scan",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="returned")
                | (models.Q(returned_by__isnull=False) & ~models.Q(return_reason="")),
                name="transcription_returned_has_who_why",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="transcription_never_deleted", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="transcription_verified_frozen",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__status="verified"),
            ),
        ]

    def __str__(self) -> str:
        return f"worksheet of {self.sheet_date:%Y-%m-%d} {self.sheet_time:%H:%M}"

    @property
    def study_day(self) -> int:
        return (self.sheet_date - self.run.day0).days

    @property
    def is_verified(self) -> bool:
        return self.status == TranscriptionStatus.VERIFIED
