"""Outbound messages: persisted first, sent by the worker, every attempt recorded."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from planner.audit import audited_change
from planner.models import Lab, OutboundMessage, OutboundStatus

MAX_ATTEMPTS = 5


def queue_message(
    *,
    lab: Lab | None,
    recipient: User,
    subject: str,
    body: str,
    reason: str,
    related_object: str = "",
) -> OutboundMessage:
    """Persist a message for ``recipient`` and have the worker send it after commit."""
    address = getattr(recipient, "email", "") or ""
    with transaction.atomic(), audited_change(reason=reason, required=False):
        message = OutboundMessage(
            lab=lab,
            recipient=recipient,
            to_address=address or "invalid@localhost",
            subject=subject[:200],
            body=body,
            reason=reason[:200],
            related_object=related_object,
        )
        if not address:
            message.status = OutboundStatus.FAILED
            message.error = "The recipient has no email address."
        message.full_clean()
        message.save()
        if message.status == OutboundStatus.PENDING:
            from planner.tasks import send_outbound_message

            transaction.on_commit(lambda: send_outbound_message.delay(message.pk))
    return message


def deliver_message(*, message_id: int) -> OutboundMessage | None:
    """Send one pending message. Claims it first, so two workers never send it twice."""
    claimed = OutboundMessage.objects.filter(
        pk=message_id, status=OutboundStatus.PENDING, attempts__lt=MAX_ATTEMPTS
    ).select_for_update(skip_locked=True)
    with transaction.atomic():
        message = claimed.first()
        if message is None:
            return None
        message.attempts += 1
        try:
            send_mail(
                message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.to_address]
            )
        except OSError as error:
            message.error = f"attempt {message.attempts}: {error}"
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboundStatus.FAILED
        else:
            message.status = OutboundStatus.SENT
            message.sent_at = timezone.now()
            message.error = ""
        message.save(update_fields=["attempts", "error", "status", "sent_at"])
    return message
