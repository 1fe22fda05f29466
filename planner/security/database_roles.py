"""The runtime database role: what web, worker and beat connect as.

Migrations run as the owner role (whatever ``DATABASE_URL`` names when ``migrate`` runs); the
runtime role owns nothing and gets, table by table:

* audit event tables, the security log: SELECT, INSERT (append only);
* the audit chain, its pending events and ``django_migrations``: SELECT;
* every other table: SELECT, INSERT, UPDATE, DELETE;
* no TRUNCATE, REFERENCES or TRIGGER anywhere, and no CREATE on the schema.

``provision_runtime_role`` (the management command) is idempotent and is run after every
``migrate``: new tables get their grants there, and nothing is granted by default privileges,
so a forgotten provisioning fails closed ("permission denied"), never open.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from django.apps import apps
from django.db import InternalError, transaction
from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

from config.env import ConfigError, env_str, parse_database_url
from planner.security.audit_chain import LINK_TABLE, PENDING_TABLE, event_models, install_chain

DEFAULT_RUNTIME_ROLE = "vivolog_app"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class RuntimeRole:
    name: str
    password: str
    url: str


def runtime_role_from_environment(owner_url: str) -> RuntimeRole:
    """The runtime role to provision and the URL web/worker/beat should use.

    ``VIVOLOG_RUNTIME_DATABASE_URL`` names it completely (compose, production). Without it the
    URL is derived from the owner's: same server and database, user ``VIVOLOG_RUNTIME_DB_ROLE``
    (default ``vivolog_app``), password ``VIVOLOG_RUNTIME_DB_PASSWORD`` (none: for servers
    that trust local connections, like CI's and the embedded one).
    """
    explicit = os.environ.get("VIVOLOG_RUNTIME_DATABASE_URL")
    if explicit:
        settings_dict = parse_database_url(explicit, variable="VIVOLOG_RUNTIME_DATABASE_URL")
        name, password, url = str(settings_dict["USER"]), str(settings_dict["PASSWORD"]), explicit
    else:
        name = env_str("VIVOLOG_RUNTIME_DB_ROLE", DEFAULT_RUNTIME_ROLE)
        password = os.environ.get("VIVOLOG_RUNTIME_DB_PASSWORD", "")
        url = with_user(owner_url, name, password)
    if not _ROLE_NAME.match(name):
        raise ConfigError(f"runtime database role {name!r} is not a plain lower-case identifier")
    return RuntimeRole(name=name, password=password, url=url)


def with_user(url: str, user: str, password: str) -> str:
    """``url`` with its user (and password) replaced; host, port, database and query kept."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = quote(user, safe="")
    if password:
        netloc += ":" + quote(password, safe="")
    netloc += "@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def append_only_tables() -> set[str]:
    tables = {model._meta.db_table for model in event_models()}
    tables.add(apps.get_model("planner", "SecurityEvent")._meta.db_table)
    return tables


READ_ONLY_TABLES = {LINK_TABLE, PENDING_TABLE, "django_migrations"}


#: How often provisioning is tried when another session changes the same catalog row.
PROVISION_ATTEMPTS = 5


def provision_runtime_role(
    role: RuntimeRole, *, using: BaseDatabaseWrapper | None = None
) -> dict[str, Any]:
    """Create or update the runtime role and grant it exactly what it needs (idempotent).

    Must run as the owner of the tables (or a superuser), after ``migrate``. Also installs
    the audit chain and sets every audit trigger ENABLE ALWAYS (see ``install_chain``).

    The role is one row of the whole cluster: two databases provisioned at once (two apps on
    one server, parallel test databases) can update it together, and PostgreSQL then refuses
    the second ``ALTER ROLE``/``GRANT`` with "tuple concurrently updated" instead of waiting.
    Provisioning is idempotent, so that refusal is retried a few times, with a short pause,
    whenever the call owns its transaction.
    """
    conn = using or default_connection
    attempt = 1
    while True:
        try:
            return _provision_once(role, conn)
        except InternalError as error:
            retryable = "tuple concurrently updated" in str(error) and not conn.in_atomic_block
            if not retryable or attempt >= PROVISION_ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)
            attempt += 1


def _provision_once(role: RuntimeRole, conn: BaseDatabaseWrapper) -> dict[str, Any]:
    chain = install_chain(conn)
    summary: dict[str, Any] = {"role": role.name, "chain": chain}
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database(), current_schema()")
        owner, database, schema = cursor.fetchone()
        if owner == role.name:
            raise ConfigError(
                f"provision_runtime_role is connected as {owner!r}, the runtime role itself: "
                "run it with DATABASE_URL naming the owner role"
            )
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role.name])
        found = cursor.fetchone()
        attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
        if found is None:
            cursor.execute(f"CREATE ROLE {_quote(role.name)} {attributes}")
            summary["created"] = True
        else:
            cursor.execute(f"ALTER ROLE {_quote(role.name)} {attributes}")
            summary["created"] = False
        if role.password:
            cursor.execute(f"ALTER ROLE {_quote(role.name)} PASSWORD %s", [role.password])
        # The runtime role must not inherit anyone's rights (least of all the owner's).
        cursor.execute(
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
            [role.name],
        )
        for (granted_role,) in cursor.fetchall():
            cursor.execute(f"REVOKE {_quote(granted_role)} FROM {_quote(role.name)}")
        cursor.execute(f"GRANT CONNECT ON DATABASE {_quote(database)} TO {_quote(role.name)}")
        cursor.execute(f"GRANT USAGE ON SCHEMA {_quote(schema)} TO {_quote(role.name)}")
        cursor.execute(f"REVOKE CREATE ON SCHEMA {_quote(schema)} FROM {_quote(role.name)}")
        cursor.execute(
            "SELECT c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'S')"
        )
        relations = cursor.fetchall()
        append_only = append_only_tables()
        counts = {"append_only": 0, "read_only": 0, "read_write": 0, "sequences": 0}
        for name, kind in relations:
            target = f"{_quote(schema)}.{_quote(name)}"
            cursor.execute(f"REVOKE ALL ON {target} FROM {_quote(role.name)}")
            if kind == "S":
                cursor.execute(
                    f"GRANT USAGE, SELECT, UPDATE ON SEQUENCE {target} TO {_quote(role.name)}"
                )
                counts["sequences"] += 1
            elif name in READ_ONLY_TABLES:
                cursor.execute(f"GRANT SELECT ON {target} TO {_quote(role.name)}")
                counts["read_only"] += 1
            elif name in append_only:
                cursor.execute(f"GRANT SELECT, INSERT ON {target} TO {_quote(role.name)}")
                counts["append_only"] += 1
            else:
                cursor.execute(
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON {target} TO {_quote(role.name)}"
                )
                counts["read_write"] += 1
        # Tables the runtime role owned (say, created by an older set-up) move to the owner.
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE n.nspname = current_schema() AND r.rolname = %s AND c.relkind IN ('r','p','S')",
            [role.name],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {_quote(schema)}.{_quote(name)} OWNER TO {_quote(owner)}")
        summary.update(counts)
        summary["owner"] = owner
    return summary


def ensure_broker_tables(broker_url: str) -> bool:
    """Create kombu's SQLAlchemy transport tables as the owner (the runtime role cannot create
    tables). Returns False when the broker is not the SQLAlchemy transport."""
    if not broker_url.startswith("sqla+"):
        return False
    from kombu.connection import Connection

    # Opening a channel defines kombu's table classes and runs its create_all.
    with Connection(broker_url) as broker:  # type: ignore[no-untyped-call]
        channel = broker.channel()
        try:
            channel.session  # noqa: B018
        finally:
            channel.close()
    return True


def runtime_settings_dict(role: RuntimeRole) -> dict[str, object]:
    return parse_database_url(role.url, variable="VIVOLOG_RUNTIME_DATABASE_URL")
