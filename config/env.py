"""Typed reading of environment variables.

Every setting comes from the environment. A missing or malformed value raises
:class:`ConfigError` whose message names the variable; the entry points (manage.py, WSGI,
Celery) print that one line and exit instead of showing a traceback.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlsplit


class ConfigError(Exception):
    """A configuration value is missing or invalid. The message names the variable."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ConfigError(f"{name} is not set; see README.md 'Configuration'")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name}={value!r} must be at least {minimum}")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def parse_database_url(url: str, *, variable: str = "DATABASE_URL") -> dict[str, object]:
    """Turn ``postgresql://user:pass@host:port/name?host=/socket/dir`` into a DATABASES entry.

    Only PostgreSQL is accepted: the audit trail, locks and concurrency rely on it.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise ConfigError(
            f"{variable} must be a postgresql:// URL (PostgreSQL is the only database), "
            f"got scheme {parts.scheme or '(none)'!r}"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ConfigError(f"{variable} names no database (postgresql://user@host:port/DBNAME)")
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or ""])[0]
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{variable} has an invalid port") from None
    options: dict[str, object] = {}
    if "sslmode" in query:
        options["sslmode"] = query["sslmode"][0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or "postgres"),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": options,
    }


def sqlalchemy_broker_url(database: dict[str, object]) -> str:
    """The kombu SQLAlchemy broker URL for the same PostgreSQL server as ``database``."""
    user = database["USER"]
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    host = str(database["HOST"])
    port = f":{database['PORT']}" if database["PORT"] else ""
    name = database["NAME"]
    if host.startswith("/"):
        return f"sqla+postgresql+psycopg://{user}{password}@/{name}?host={host}"
    return f"sqla+postgresql+psycopg://{user}{password}@{host}{port}/{name}"
