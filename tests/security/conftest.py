"""Fixtures for the security tests: the runtime database role, OTP switched on, helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection

from planner.security.database_roles import RuntimeRole, provision_runtime_role, with_user

RUNTIME_ROLE = "vivolog_app"
SECOND_FACTOR_ROLES = ("study_director", "qa", "lab_admin")


def current_database_url(*, user: str | None = None) -> str:
    """A libpq URL for the test database, as the connected user or as ``user``."""
    s = connection.settings_dict
    host = s["HOST"] or ""
    name = s["NAME"]
    owner = s["USER"] or "postgres"
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    if host.startswith("/"):
        url = f"postgresql://{owner}{password}@/{name}?host={host}"
    else:
        port = f":{s['PORT']}" if s["PORT"] else ""
        url = f"postgresql://{owner}{password}@{host}{port}/{name}"
    return with_user(url, user, "") if user else url


@pytest.fixture
def second_factor_on(settings: Any) -> None:
    settings.VIVOLOG_OTP_REQUIRED_ROLES = SECOND_FACTOR_ROLES


@pytest.fixture
def runtime_role(transactional_db: None) -> RuntimeRole:
    """The runtime role provisioned on the test database (servers here trust local users)."""
    role = RuntimeRole(name=RUNTIME_ROLE, password="", url=current_database_url(user=RUNTIME_ROLE))
    provision_runtime_role(role)
    return role


@pytest.fixture
def runtime_connection(runtime_role: RuntimeRole) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit psycopg connection as the runtime role."""
    with psycopg.connect(
        runtime_role.url.replace("postgresql://", "postgresql://", 1), autocommit=True
    ) as conn:
        yield conn


def owner_execute(*statements: str) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def trigger_name(table: str, prefix: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relname = %s AND t.tgname LIKE %s",
            [table, prefix + "%"],
        )
        return str(cursor.fetchone()[0])
