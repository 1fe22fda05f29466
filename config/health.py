"""Reachability checks for /healthz and the launcher."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        text = str(error).strip()
        return f"error: {text.splitlines()[0] if text else type(error).__name__}"
    return "ok"


def check_broker() -> str:
    # kombu exports Connection lazily and is untyped.
    from kombu import Connection  # type: ignore[attr-defined]

    transport_options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    try:
        with Connection(  # type: ignore[no-untyped-call]
            settings.CELERY_BROKER_URL, connect_timeout=2, transport_options=transport_options
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:
        return f"error: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return "ok"
