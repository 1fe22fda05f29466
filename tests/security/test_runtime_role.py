"""The runtime database role: it can work with lab data but cannot rewrite the audit trail."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from django.db import DatabaseError, connection, connections
from psycopg import errors

from planner.models import AuditChainLink, Lab
from planner.security import database_roles
from planner.security.audit_chain import verify_audit_trail
from planner.security.database_roles import PROVISION_ATTEMPTS, RuntimeRole
from planner.services import tenancy
from tests.security.conftest import current_database_url

# The runtime role is one role of the whole PostgreSQL cluster: under pytest-xdist these tests
# run in one worker (``--dist loadgroup``), never provisioning it from two at once.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("runtime_role")]

REFUSED_ON_AUDIT_TABLES = [
    "DELETE FROM planner_labevent",
    "UPDATE planner_labevent SET name = 'rewritten'",
    "TRUNCATE planner_labevent",
    "ALTER TABLE planner_labevent DISABLE TRIGGER ALL",
    "ALTER TABLE planner_lab DISABLE TRIGGER ALL",
    "SET session_replication_role = replica",
    "DELETE FROM planner_auditchainlink",
    "UPDATE planner_auditchainlink SET hash = 'x'",
    "TRUNCATE planner_auditchainlink",
    "INSERT INTO planner_auditchainlink (seq, event_table, event_id, payload, previous_hash, hash)"
    " VALUES (99999, 'planner_labevent', 1, '{}', 'a', 'b')",
    "SELECT vivolog_audit_chain_append('planner_labevent', 1, '{}', false)",
    "DELETE FROM planner_securityevent",
    "UPDATE planner_securityevent SET kind = 'login'",
    "CREATE TABLE planner_shadow (id int)",
]


def test_runtime_role_is_refused_when_it_touches_the_audit_trail(
    runtime_connection: psycopg.Connection[Any],
) -> None:
    tenancy.create_lab(name="Audited lab", slug="audited")
    events_before = _count("planner_labevent")
    links_before = _count("planner_auditchainlink")
    allowed = []
    for statement in REFUSED_ON_AUDIT_TABLES:
        try:
            runtime_connection.execute(statement)
        except errors.InsufficientPrivilege:
            continue
        allowed.append(statement)
    assert not allowed, f"the runtime role was allowed: {allowed}"
    assert _count("planner_labevent") == events_before == 1
    assert _count("planner_auditchainlink") == links_before == 1


def test_runtime_role_writes_lab_data_and_each_write_is_audited_and_sealed(
    runtime_connection: psycopg.Connection[Any],
) -> None:
    lab = tenancy.create_lab(name="Runtime lab", slug="runtime")
    links_before = AuditChainLink.objects.count()
    runtime_connection.execute("UPDATE planner_lab SET name = 'Renamed' WHERE id = %s", [lab.pk])
    lab.refresh_from_db()
    assert lab.name == "Renamed"
    assert lab.events.count() == 2
    assert AuditChainLink.objects.count() == links_before + 1
    assert AuditChainLink.objects.order_by("-seq").first().event_table == "planner_labevent"
    assert verify_audit_trail().ok


def test_runtime_role_owns_nothing_and_inherits_no_role(runtime_role: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = %s",
            [runtime_role.name],
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
            "WHERE rolname = %s",
            [runtime_role.name],
        )
        assert cursor.fetchone() == (False, False, False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member "
            "WHERE u.rolname = %s",
            [runtime_role.name],
        )
        assert cursor.fetchone()[0] == 0


def test_runtime_role_has_only_select_and_insert_on_every_event_table(runtime_role: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) "
            "FROM information_schema.role_table_grants WHERE grantee = %s "
            "AND table_name LIKE '%%event' GROUP BY table_name",
            [runtime_role.name],
        )
        grants = dict(cursor.fetchall())
    assert "planner_labevent" in grants
    assert set(grants.values()) == {"INSERT,SELECT"}


def test_audit_triggers_stay_on_when_owner_switches_to_replica_mode() -> None:
    lab = tenancy.create_lab(name="Replica lab", slug="replica")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute("UPDATE planner_lab SET name = 'Quiet change' WHERE id = %s", [lab.pk])
        finally:
            cursor.execute("SET session_replication_role = origin")
    assert lab.events.order_by("-pgh_id").first().name == "Quiet change"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal "
            "AND (tgname LIKE 'pgtrigger_%%' OR tgname LIKE 'vivolog_%%') AND tgenabled <> 'A'"
        )
        assert cursor.fetchone()[0] == 0
    assert Lab.objects.get(pk=lab.pk).name == "Quiet change"
    assert verify_audit_trail().ok


@pytest.mark.parametrize("attempts", [1, PROVISION_ATTEMPTS])
def test_provisioning_retries_when_another_session_alters_the_role_at_the_same_time(
    runtime_role: RuntimeRole, attempts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another session holds the role's row (uncommitted ALTER ROLE) while we provision: ours
    waits, PostgreSQL then refuses it with "tuple concurrently updated", and provisioning tries
    again. With a single attempt the refusal reaches the caller: the test does reach that path."""
    monkeypatch.setattr(database_roles, "PROVISION_ATTEMPTS", attempts)
    outcome: list[object] = []

    def provision() -> None:
        try:
            outcome.append(database_roles.provision_runtime_role(runtime_role))
        except DatabaseError as error:
            outcome.append(error)
        finally:
            connections.close_all()

    with psycopg.connect(current_database_url()) as other:
        other.execute(f"ALTER ROLE {runtime_role.name} LOGIN")
        worker = threading.Thread(target=provision)
        worker.start()
        _wait_until_blocked_on(other, runtime_role.name)
        other.commit()
    worker.join(timeout=60)
    assert not worker.is_alive()
    if attempts == 1:
        assert isinstance(outcome[0], DatabaseError)
        assert "tuple concurrently updated" in str(outcome[0])
    else:
        assert isinstance(outcome[0], dict), outcome
        assert outcome[0]["role"] == runtime_role.name
        assert outcome[0]["created"] is False


def _wait_until_blocked_on(other: psycopg.Connection[Any], role: str) -> None:
    """Until some session other than ``other`` waits on a lock (ours, on the role's row)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with psycopg.connect(current_database_url(), autocommit=True) as watcher:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND pid <> %s AND query ILIKE %s",
                [other.info.backend_pid, f"%ALTER ROLE%{role}%"],
            ).fetchone()
        if waiting and waiting[0]:
            return
        time.sleep(0.05)
    pytest.fail("provisioning never waited on the role's row")


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed test table names
        return int(cursor.fetchone()[0])
