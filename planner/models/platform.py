"""Infrastructure rows every feature uses: idempotency keys and outbound messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from planner.audit import audit_trail


class IdempotencyRecord(models.Model):
    """A processed ``Idempotency-Key``: the same key and body replays the stored response.

    Written in the same transaction as the data it protects, so a crash leaves neither.
    Keys are scoped to the caller (user or device token) so two callers never collide.
    """

    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.BinaryField()
    response_content_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique_in_scope")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class OutboundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


@audit_trail()
class OutboundMessage(models.Model):
    """An email (or other alert) we owe someone: persisted first, sent by the worker."""

    lab = models.ForeignKey(
        "planner.Lab", on_delete=models.PROTECT, related_name="outbound_messages", null=True
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="outbound_messages",
        null=True,
        blank=True,
    )
    to_address = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    reason = models.CharField(max_length=200, help_text="Why this person was alerted.")
    related_object = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="outbound_status_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in OutboundStatus]),
                name="outbound_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_address} ({self.status})"
