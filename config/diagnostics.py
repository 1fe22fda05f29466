"""One-line explanations of start-up failures, instead of tracebacks."""

from __future__ import annotations

from django.conf import settings


def describe_database_error(error: Exception) -> str:
    database = settings.DATABASES["default"]
    where = database.get("HOST") or "local socket"
    if database.get("PORT"):
        where = f"{where}:{database['PORT']}"
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (
        f"vivolog: cannot reach the database {database['NAME']!r} at {where} "
        f"(check DATABASE_URL): {first_line}"
    )
