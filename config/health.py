"""Reachability checks for /healthz and the launcher."""

from __future__ import annotations

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
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:
        return f"error: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return "ok"
