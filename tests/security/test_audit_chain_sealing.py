# ruff: noqa: S608 - fixed test SQL; the interpolated values are integer ids and column names.
"""The audit chain seals a transaction's events in one pass at commit (issue 11): every event
of a transaction with many, in the order it inserted them; concurrent transactions in commit
order; a rolled-back savepoint does not lose the seal; the runtime role cannot touch the
pending events; verify_audit notices pending events left unsealed and a chain trigger of the
wrong kind; install_chain replaces the per-row trigger of before."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from psycopg import errors

from planner.models import AuditChainLink, AuditChainPending, Lab
from planner.security.audit_chain import (
    CHAIN_TRIGGER,
    install_chain,
    link_hash,
    verify_audit_trail,
)
from planner.services import tenancy
from tests.security.conftest import current_database_url, owner_execute

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("runtime_role")]


@pytest.fixture(autouse=True)
def _chain_reinstalled() -> Iterator[None]:
    """Tests here drop or disable chain triggers: put them back for the tests that follow."""
    yield
    install_chain(connection)


def _head() -> int:
    last = AuditChainLink.objects.order_by("-seq").first()
    return last.seq if last is not None else 0


def _links_after(seq: int) -> list[AuditChainLink]:
    return list(AuditChainLink.objects.filter(seq__gt=seq).order_by("seq"))


def _event_columns() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'planner_labevent' AND column_name <> 'pgh_id' "
            "ORDER BY ordinal_position"
        )
        return ", ".join(name for (name,) in cursor.fetchall())


def _assert_chain_intact(links: list[AuditChainLink]) -> None:
    previous = None
    for link in links:
        if previous is not None:
            assert link.seq == previous.seq + 1
            assert link.previous_hash == previous.hash
        assert link.hash == link_hash(link.previous_hash, link.event_table, link.payload)
        previous = link


def test_a_transaction_with_many_events_is_sealed_at_commit_in_the_order_it_wrote_them() -> None:
    tenancy.create_lab(name="First lab", slug="first")
    head = _head()
    columns = _event_columns()
    with transaction.atomic():
        # 30 events one statement each (pghistory's row trigger per lab) ...
        Lab.objects.bulk_create([Lab(name=f"Bulk lab {n}", slug=f"bulk-{n}") for n in range(30)])
        # ... then one statement inserting 30 events at once (the latest event of each lab
        # recorded again: it still equals its row).
        owner_execute(
            f"INSERT INTO planner_labevent ({columns}) SELECT {columns} FROM planner_labevent "
            "WHERE pgh_obj_id IN (SELECT id FROM planner_lab WHERE slug LIKE 'bulk-%%') "
            "ORDER BY pgh_id"
        )
        pending = list(AuditChainPending.objects.order_by("id"))
        # Nothing is sealed before the commit; one pending row per statement, and only the
        # transaction's first one queues the seal.
        assert _head() == head
        assert [len(p.event_ids) for p in pending] == [1] * 30 + [30]
        assert [p.opens for p in pending] == [True] + [False] * 30
        written = [event_id for p in pending for event_id in p.event_ids]
    links = _links_after(head)
    # One link per single-event statement, then one batch link for the statement of 30.
    assert [link.event_id for link in links[:30]] == written[:30]
    assert all(link.event_ids is None for link in links[:30])
    assert links[30].event_ids == written[30:] and links[30].event_id == written[30]
    assert written == sorted(written)
    assert {link.event_table for link in links} == {"planner_labevent"}
    assert links[0].previous_hash == AuditChainLink.objects.get(seq=head).hash
    _assert_chain_intact(links)
    assert not AuditChainPending.objects.exists()
    report = verify_audit_trail()
    assert report.ok, report.problems
    assert report.links == head + 31


def _connect() -> psycopg.Connection[Any]:
    return psycopg.connect(current_database_url())


def test_concurrent_transactions_are_sealed_in_commit_order_without_deadlock() -> None:
    first = tenancy.create_lab(name="Lab A", slug="a")
    second = tenancy.create_lab(name="Lab B", slug="b")
    head = _head()
    with _connect() as early, _connect() as late:
        # ``early`` writes its events first but commits last.
        early.execute("UPDATE planner_lab SET name = 'A one' WHERE id = %s", [first.pk])
        early.execute("UPDATE planner_lab SET name = 'A two' WHERE id = %s", [first.pk])
        late.execute("UPDATE planner_lab SET name = 'B one' WHERE id = %s", [second.pk])
        late.execute("UPDATE planner_lab SET name = 'B two' WHERE id = %s", [second.pk])
        # Both commit at once, from two threads: the chain lock is taken only inside the
        # commits, so neither waits for the other's row locks.
        barrier = threading.Barrier(2)
        failures: list[BaseException] = []

        def commit(conn: psycopg.Connection[Any]) -> None:
            try:
                barrier.wait(timeout=10)
                conn.commit()
            except BaseException as error:
                failures.append(error)

        # ``late`` commits first: ``early`` waits until it has (its lock held by a third
        # connection until both commits queued).
        with _connect() as gate:
            gate.execute("SELECT pg_advisory_xact_lock(hashtext('vivolog.audit_chain'))")
            late_thread = threading.Thread(target=commit, args=(late,))
            early_thread = threading.Thread(target=commit, args=(early,))
            late_thread.start()
            early_thread.start()
            both_waiting = _wait_for_waiters(2)
            gate.commit()
        late_thread.join(timeout=30)
        early_thread.join(timeout=30)
        assert not late_thread.is_alive() and not early_thread.is_alive()
        assert failures == []
        assert both_waiting
    links = _links_after(head)
    assert len(links) == 4
    _assert_chain_intact(links)
    order = [link.event_table for link in links]
    assert order == ["planner_labevent"] * 4
    names = [_payload_name(link) for link in links]
    # Each transaction's events are contiguous and in its own order; which of the two
    # committed first is the lock queue's order, and the chain follows the commits.
    assert names in (["A one", "A two", "B one", "B two"], ["B one", "B two", "A one", "A two"])
    assert verify_audit_trail().ok


def test_chain_order_is_commit_order_when_the_first_writer_commits_last() -> None:
    first = tenancy.create_lab(name="Lab A", slug="a")
    second = tenancy.create_lab(name="Lab B", slug="b")
    head = _head()
    with _connect() as early, _connect() as late:
        early.execute("UPDATE planner_lab SET name = 'A one' WHERE id = %s", [first.pk])
        late.execute("UPDATE planner_lab SET name = 'B one' WHERE id = %s", [second.pk])
        late.execute("UPDATE planner_lab SET name = 'B two' WHERE id = %s", [second.pk])
        early.execute("UPDATE planner_lab SET name = 'A two' WHERE id = %s", [first.pk])
        late.commit()
        early.commit()
    links = _links_after(head)
    assert [_payload_name(link) for link in links] == ["B one", "B two", "A one", "A two"]
    # The early transaction's events have the lower ids, yet are sealed after: commit order.
    assert links[2].event_id < links[0].event_id
    _assert_chain_intact(links)
    assert verify_audit_trail().ok


def _payload_name(link: AuditChainLink) -> str:
    import json

    return str(json.loads(link.payload)["name"])


def _wait_for_waiters(count: int) -> bool:
    """Wait until ``count`` sessions wait for the chain's advisory lock."""
    import time

    deadline = time.monotonic() + 20
    with _connect() as probe:
        probe.autocommit = True
        while time.monotonic() < deadline:
            row = probe.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()
            if row is not None and row[0] >= count:
                return True
            time.sleep(0.05)
    return False


def test_a_rolled_back_savepoint_does_not_take_the_seal_of_later_events_with_it() -> None:
    head = _head()
    with transaction.atomic():
        try:
            with transaction.atomic():
                tenancy.create_lab(name="Rolled back", slug="rolled-back")
                assert AuditChainPending.objects.get().opens is True
                raise RuntimeError("roll the savepoint back")
        except RuntimeError:
            pass
        assert not AuditChainPending.objects.exists()
        tenancy.create_lab(name="Kept", slug="kept")
        tenancy.create_lab(name="Kept too", slug="kept-too")
        assert [p.opens for p in AuditChainPending.objects.order_by("id")] == [True, False]
    links = _links_after(head)
    assert [_payload_name(link) for link in links] == ["Kept", "Kept too"]
    assert not AuditChainPending.objects.exists()
    assert verify_audit_trail().ok


def test_runtime_role_can_neither_write_nor_clear_pending_events(
    runtime_connection: psycopg.Connection[Any],
) -> None:
    lab = tenancy.create_lab(name="Runtime lab", slug="runtime")
    refused = []
    for statement in (
        "INSERT INTO planner_auditchainpending (txid, event_table, event_ids, opens) "
        "VALUES (1, 'planner_labevent', '{1}', true)",
        "DELETE FROM planner_auditchainpending",
        "UPDATE planner_auditchainpending SET opens = false",
        "TRUNCATE planner_auditchainpending",
        "ALTER TABLE planner_auditchainpending DISABLE TRIGGER ALL",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            runtime_connection.execute(statement)
        refused.append(statement)
    assert len(refused) == 5
    # Its own writes are still collected and sealed, many in one transaction too.
    head = _head()
    with runtime_connection.transaction():
        for n in range(5):
            runtime_connection.execute(
                "UPDATE planner_lab SET name = %s WHERE id = %s", [f"Renamed {n}", lab.pk]
            )
        # It can see its pending events (SELECT) but not alter them.
        row = runtime_connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE opens) FROM planner_auditchainpending"
        ).fetchone()
        assert row == (5, 1)
        with pytest.raises(errors.InsufficientPrivilege):
            with runtime_connection.transaction():
                runtime_connection.execute("DELETE FROM planner_auditchainpending")
    assert [_payload_name(link) for link in _links_after(head)] == [
        f"Renamed {n}" for n in range(5)
    ]
    assert verify_audit_trail().ok


def test_verify_audit_reports_events_collected_but_never_sealed() -> None:
    lab = tenancy.create_lab(name="Lab", slug="lab")
    seal = "vivolog_audit_chain_seal"
    owner_execute(f"ALTER TABLE planner_auditchainpending DISABLE TRIGGER {seal}")
    with transaction.atomic():
        Lab.objects.filter(pk=lab.pk).update(name="Never sealed")
    problems = verify_audit_trail().problems
    assert any("collected but never sealed" in problem for problem in problems)
    assert any("is not sealed in the chain" in problem for problem in problems)
    assert f"trigger {seal} on planner_auditchainpending is disabled, not ENABLE ALWAYS" in problems


def test_verify_audit_reports_a_chain_trigger_of_the_wrong_kind_and_install_replaces_it() -> None:
    tenancy.create_lab(name="Lab", slug="lab")
    # The per-row deferred trigger of before issue 11, as an existing database has it.
    owner_execute(
        f"DROP TRIGGER {CHAIN_TRIGGER} ON planner_labevent",
        "CREATE FUNCTION vivolog_seal_audit_event() RETURNS trigger LANGUAGE plpgsql "
        "SECURITY DEFINER SET search_path = pg_catalog, public SET timezone = 'UTC' "
        "SET extra_float_digits = 1 AS $$ BEGIN PERFORM vivolog_audit_chain_append("
        "TG_TABLE_NAME, NEW.pgh_id, to_jsonb(NEW)::text, false); RETURN NULL; END $$",
        f"CREATE CONSTRAINT TRIGGER {CHAIN_TRIGGER} AFTER INSERT ON planner_labevent "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION vivolog_seal_audit_event()",
        f"ALTER TABLE planner_labevent ENABLE ALWAYS TRIGGER {CHAIN_TRIGGER}",
    )
    problems = verify_audit_trail().problems
    assert problems == [
        f"the chain trigger {CHAIN_TRIGGER} on planner_labevent is not the statement trigger "
        "calling vivolog_audit_chain_collect"
    ]
    counts = install_chain(connection)
    assert counts["replaced"] == 1 and counts["tables"] == 0 and counts["backfilled"] == 0
    assert install_chain(connection) == {"tables": 0, "replaced": 0, "backfilled": 0, "always": 0}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'vivolog_seal_audit_event'")
        assert cursor.fetchone()[0] == 0
    head = _head()
    tenancy.create_lab(name="After", slug="after")
    assert [_payload_name(link) for link in _links_after(head)] == ["After"]
    assert verify_audit_trail().ok


def test_verify_audit_reports_a_missing_seal_trigger() -> None:
    tenancy.create_lab(name="Lab", slug="lab")
    owner_execute("DROP TRIGGER vivolog_audit_chain_seal ON planner_auditchainpending")
    assert verify_audit_trail().problems == [
        "the pending table planner_auditchainpending has no seal trigger"
    ]
    install_chain(connection)
    assert verify_audit_trail().ok
