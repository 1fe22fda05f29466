"""Electronic signatures (21 CFR Part 11): who signed which exact version of a record, and why.

A signature points at any record through contenttypes (designs, randomization batches,
verified transcription sheets, reports, measurements, doses, observations, samples …). It
keeps the SHA-256 of the canonical serialization of the record as signed, and that text
itself, so a later change is detected by hashing the record again (see
``planner.services.signatures``). Signatures are append-only: the database refuses UPDATE and
DELETE, whatever the path.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Now

from planner.audit import audit_trail
from planner.models.tenancy import Lab


class SignatureMeaning(models.TextChoices):
    AUTHORED = "authored", "Authored"
    REVIEWED = "reviewed", "Reviewed"
    APPROVED = "approved", "Approved"
    QA_INSPECTED = "qa_inspected", "QA inspected"


class ChangePolicy(models.TextChoices):
    """What a later change to a signed record does to its signature (fixed per record type)."""

    INVALIDATE = "invalidate", "A later change invalidates the signature"
    REFUSE = "refuse", "The database refuses any later change"


@audit_trail()
class Signature(models.Model):
    """One person's signature, with a stated meaning, on one exact version of one record.

    ``signed_at`` is the database server's clock (``now()``), never the browser's.
    ``signer_name`` is the printed name at the time of signing (a later rename does not
    rewrite it). ``second_factor`` says whether a TOTP code was checked too.
    """

    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="signatures")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    record_label = models.CharField(max_length=300)
    meaning = models.CharField(max_length=20, choices=SignatureMeaning.choices)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures"
    )
    signer_name = models.CharField(max_length=300)
    signer_role = models.CharField(max_length=20, blank=True)
    signed_at = models.DateTimeField(db_default=Now())
    content_sha256 = models.CharField(max_length=64)
    canonical = models.TextField(help_text="The canonical serialization that was hashed.")
    policy = models.CharField(max_length=12, choices=ChangePolicy.choices)
    second_factor = models.BooleanField(default=False)

    class Meta:
        ordering = ["signed_at", "pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="signature_record"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(meaning__in=[choice.value for choice in SignatureMeaning]),
                name="signature_meaning_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(policy__in=[choice.value for choice in ChangePolicy]),
                name="signature_policy_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(content_sha256__regex=r"^[0-9a-f]{64}$")
                & ~models.Q(signer_name=""),
                name="signature_hash_and_name_present",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "signer", "meaning", "content_sha256"],
                name="signature_once_per_version_and_meaning",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="signature_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_meaning_display()} by {self.signer_name} — {self.record_label}"
