"""Planner background tasks: outbound messages and broker housekeeping. Thin by rule."""

from __future__ import annotations

import datetime as dt
from typing import cast

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

from planner.audit.tasks import AuditedTask
from planner.models import OutboundMessage, OutboundStatus


@shared_task(base=AuditedTask, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]  # celery is untyped
def send_outbound_message(message_id: int) -> None:
    from planner.services.outbound import deliver_message

    deliver_message(message_id=message_id)


@shared_task(base=AuditedTask)  # type: ignore[untyped-decorator]  # celery is untyped
def send_pending_outbound_messages() -> int:
    """Beat: pick up messages whose first send failed or whose enqueue was lost."""
    from planner.services.outbound import deliver_message

    cutoff = timezone.now() - dt.timedelta(seconds=30)
    pending = OutboundMessage.objects.filter(
        status=OutboundStatus.PENDING, created_at__lt=cutoff
    ).values_list("pk", flat=True)[:100]
    sent = 0
    for message_id in list(pending):
        if deliver_message(message_id=message_id) is not None:
            sent += 1
    return sent


@shared_task  # type: ignore[untyped-decorator]  # celery is untyped
def purge_delivered_broker_messages() -> int:
    """Beat: delete delivered rows of kombu's SQLAlchemy transport (it never deletes them).

    A no-op on Redis and RabbitMQ.
    """
    if not settings.CELERY_BROKER_URL.startswith("sqla+"):
        return 0
    cutoff = timezone.now() - dt.timedelta(seconds=settings.VIVOLOG_BROKER_PURGE_AFTER_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.kombu_message')")
        if cursor.fetchone()[0] is None:
            return 0
        cursor.execute(
            "DELETE FROM kombu_message WHERE visible = false AND timestamp < %s",
            [cutoff.replace(tzinfo=None)],
        )
        return cast(int, cursor.rowcount)


@shared_task  # type: ignore[untyped-decorator]  # celery is untyped
def verify_audit_trail_nightly() -> bool:
    """Beat, nightly: verify the audit chain and trail; the result (and the chain head) goes
    to the security log and the ``vivolog.security`` logger. Read-only, so safe to repeat.

    Not an ``AuditedTask``: it writes no audited rows, and the verifier opens its own
    REPEATABLE READ transaction.
    """
    from planner.services.security import run_audit_verification

    return run_audit_verification(log=True).ok
