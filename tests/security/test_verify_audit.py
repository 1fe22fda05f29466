# ruff: noqa: S608 - fixed test SQL; the interpolated values are integer ids and trigger names.
"""verify_audit: the hash chain, sealed events and tracked rows against their audit events."""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from config.celery import app as celery_app
from planner.models import AuditChainLink, SecurityEvent, SecurityEventKind
from planner.security.audit_chain import GENESIS_HASH, link_hash, verify_audit_trail
from planner.services import tenancy
from planner.tasks import verify_audit_trail_nightly
from tests.security.conftest import owner_execute, trigger_name

pytestmark = pytest.mark.django_db


def _seal() -> None:
    """Chain links are written at commit; inside the test's transaction, fire them now."""
    owner_execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def sealed_lab():
    _seal()
    lab = tenancy.create_lab(name="Chain lab", slug="chain")
    tenancy.create_lab(name="Second lab", slug="second")
    return lab


def test_chain_links_each_event_to_the_previous_hash_when_events_are_written(sealed_lab) -> None:
    links = list(AuditChainLink.objects.order_by("seq"))
    assert [link.seq for link in links] == list(range(1, len(links) + 1))
    assert links[0].previous_hash == GENESIS_HASH
    for previous, link in itertools.pairwise(links):
        assert link.previous_hash == previous.hash
    for link in links:
        assert link.hash == link_hash(link.previous_hash, link.event_table, link.payload)
    assert {link.event_table for link in links} == {"planner_labevent"}
    report = verify_audit_trail()
    assert report.ok, report.problems
    assert report.links == 2 and report.head_hash == links[-1].hash


def test_verify_audit_reports_a_change_made_with_the_audit_trigger_disabled(sealed_lab) -> None:
    update_trigger = trigger_name("planner_lab", "pgtrigger_update_update")
    owner_execute(
        f"ALTER TABLE planner_lab DISABLE TRIGGER {update_trigger}",
        f"UPDATE planner_lab SET name = 'Quietly renamed' WHERE id = {sealed_lab.pk}",
        f"ALTER TABLE planner_lab ENABLE ALWAYS TRIGGER {update_trigger}",
    )
    report = verify_audit_trail()
    assert report.problems == [
        f"planner.Lab #{sealed_lab.pk} differs from its latest audit event "
        "(changed with the audit bypassed)"
    ]


def test_verify_audit_reports_a_trigger_left_disabled_and_rows_written_meanwhile(
    sealed_lab,
) -> None:
    insert_trigger = trigger_name("planner_lab", "pgtrigger_insert_insert")
    owner_execute(
        f"ALTER TABLE planner_lab DISABLE TRIGGER {insert_trigger}",
        "INSERT INTO planner_lab (name, slug, time_zone, working_weekdays, created_at) "
        "VALUES ('Ghost lab', 'ghost', 'UTC', '[0,1,2,3,4]', now())",
    )
    problems = verify_audit_trail().problems
    assert any("has no audit event" in problem for problem in problems)
    assert f"trigger {insert_trigger} on planner_lab is disabled, not ENABLE ALWAYS" in problems


def test_verify_audit_reports_an_event_row_tampered_by_the_owner(sealed_lab) -> None:
    append_only = trigger_name("planner_labevent", "pgtrigger_append_only")
    event = sealed_lab.events.get()
    owner_execute(
        f"ALTER TABLE planner_labevent DISABLE TRIGGER {append_only}",
        f"UPDATE planner_labevent SET name = 'Rewritten history' WHERE pgh_id = {event.pgh_id}",
        f"ALTER TABLE planner_labevent ENABLE ALWAYS TRIGGER {append_only}",
    )
    problems = verify_audit_trail().problems
    link = AuditChainLink.objects.get(event_table="planner_labevent", event_id=event.pgh_id)
    assert (
        f"audit event planner_labevent#{event.pgh_id} (chain link #{link.seq}) "
        "was altered after sealing"
    ) in problems
    # The row itself now disagrees with the (rewritten) event, too.
    assert any(problem.startswith(f"planner.Lab #{sealed_lab.pk} differs") for problem in problems)


def test_verify_audit_reports_a_deleted_event_and_an_unsealed_one(sealed_lab) -> None:
    append_only = trigger_name("planner_labevent", "pgtrigger_append_only")
    event = sealed_lab.events.get()
    owner_execute(
        f"ALTER TABLE planner_labevent DISABLE TRIGGER {append_only}",
        f"DELETE FROM planner_labevent WHERE pgh_id = {event.pgh_id}",
        f"ALTER TABLE planner_labevent ENABLE ALWAYS TRIGGER {append_only}",
        "ALTER TABLE planner_labevent DISABLE TRIGGER vivolog_audit_chain",
        f"UPDATE planner_lab SET name = 'Unsealed' WHERE id = {sealed_lab.pk}",
        "ALTER TABLE planner_labevent ENABLE ALWAYS TRIGGER vivolog_audit_chain",
    )
    problems = verify_audit_trail().problems
    assert any(f"planner_labevent#{event.pgh_id}" in p and "was deleted" in p for p in problems)
    assert any("is not sealed in the chain" in problem for problem in problems)


def test_verify_audit_reports_a_rewritten_chain_link(sealed_lab) -> None:
    protect = trigger_name("planner_auditchainlink", "pgtrigger_audit_chain_append_only")
    owner_execute(
        f"ALTER TABLE planner_auditchainlink DISABLE TRIGGER {protect}",
        "UPDATE planner_auditchainlink SET payload = replace(payload, 'Chain lab', 'Other') "
        "WHERE seq = 1",
        f"ALTER TABLE planner_auditchainlink ENABLE ALWAYS TRIGGER {protect}",
    )
    problems = verify_audit_trail().problems
    assert "chain link #1 (planner_labevent) has a hash that does not match its content" in problems


def test_verify_audit_command_exits_non_zero_and_logs_when_it_finds_problems(sealed_lab) -> None:
    call_command("verify_audit")
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.AUDIT_VERIFIED).count() == 1
    delete_trigger = trigger_name("planner_lab", "pgtrigger_delete_delete")
    owner_execute(
        f"ALTER TABLE planner_lab DISABLE TRIGGER {delete_trigger}",
        f"DELETE FROM planner_lab WHERE id = {sealed_lab.pk}",
        f"ALTER TABLE planner_lab ENABLE ALWAYS TRIGGER {delete_trigger}",
    )
    with pytest.raises(CommandError, match="problem"):
        call_command("verify_audit")
    logged = SecurityEvent.objects.get(kind=SecurityEventKind.AUDIT_PROBLEM)
    assert logged.detail["problem_count"] >= 1
    assert "deleted without an audit event" in logged.detail["problems"][0]


def test_nightly_task_verifies_the_trail_when_beat_runs_it(sealed_lab) -> None:
    assert verify_audit_trail_nightly() is True
    event = SecurityEvent.objects.get(kind=SecurityEventKind.AUDIT_VERIFIED)
    assert event.detail["head_seq"] == 2
    schedule = celery_app.conf.beat_schedule
    assert any(
        entry["task"] == "planner.tasks.verify_audit_trail_nightly" for entry in schedule.values()
    )


def test_events_written_before_the_chain_existed_are_backfilled_once() -> None:
    from planner.security.audit_chain import install_chain

    owner_execute("DROP TRIGGER vivolog_audit_chain ON planner_labevent")
    tenancy.create_lab(name="Old lab", slug="old")
    counts = install_chain(connection)
    assert counts["tables"] == 1 and counts["backfilled"] == 1
    assert AuditChainLink.objects.get().backfilled is True
    assert install_chain(connection)["backfilled"] == 0
    report = verify_audit_trail()
    assert report.ok and report.backfilled == 1


def _event_columns() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'planner_labevent' ORDER BY ordinal_position"
        )
        return [name for (name,) in cursor.fetchall()]


def _batch_of_events(count: int) -> list[int]:
    """One statement inserting ``count`` events (each lab's latest event recorded again: it
    still equals its row), sealed: the chain gets one batch link for them."""
    for n in range(count):
        tenancy.create_lab(name=f"Batch lab {n}", slug=f"batch-{n}")
    columns = ", ".join(c for c in _event_columns() if c != "pgh_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO planner_labevent ({columns}) SELECT {columns} FROM planner_labevent "
            "WHERE pgh_obj_id IN (SELECT id FROM planner_lab WHERE slug LIKE 'batch-%%') "
            "ORDER BY pgh_id RETURNING pgh_id"
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    _seal()
    return ids


def test_a_statement_of_many_events_is_sealed_as_one_batch_link_of_their_digests(
    sealed_lab,
) -> None:
    ids = _batch_of_events(4)
    link = AuditChainLink.objects.order_by("-seq").first()
    assert link.event_ids == ids and link.event_id == ids[0]
    previous = AuditChainLink.objects.get(seq=link.seq - 1)
    assert link.previous_hash == previous.hash
    assert link.hash == link_hash(link.previous_hash, "planner_labevent", link.payload)
    sealed = json.loads(link.payload)
    assert sealed["events"] == 4
    assert sealed["columns"] == _event_columns()
    # Each digest: SHA-256 (computed here, in Python) of the event row's text form, in order.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL timezone = 'UTC'")
        cursor.execute("SET LOCAL DateStyle = 'ISO, MDY'")
        cursor.execute("SET LOCAL extra_float_digits = 1")
        cursor.execute(
            "SELECT e::text FROM planner_labevent e WHERE pgh_id = ANY(%s) ORDER BY pgh_id",
            [ids],
        )
        texts = [row[0] for row in cursor.fetchall()]
    assert sealed["digests"] == [hashlib.sha256(text.encode()).hexdigest() for text in texts]
    assert all(f"Batch lab {n}" in texts[n] for n in range(4))
    report = verify_audit_trail()
    assert report.ok, report.problems
    assert report.links == link.seq


def test_verify_audit_reports_an_altered_and_a_deleted_event_of_a_batch_link(sealed_lab) -> None:
    ids = _batch_of_events(3)
    seq = AuditChainLink.objects.get(event_id=ids[0]).seq
    append_only = trigger_name("planner_labevent", "pgtrigger_append_only")
    owner_execute(
        f"ALTER TABLE planner_labevent DISABLE TRIGGER {append_only}",
        f"UPDATE planner_labevent SET name = 'Rewritten' WHERE pgh_id = {ids[1]}",
        f"DELETE FROM planner_labevent WHERE pgh_id = {ids[2]}",
        f"ALTER TABLE planner_labevent ENABLE ALWAYS TRIGGER {append_only}",
    )
    problems = verify_audit_trail().problems
    assert (
        f"audit event planner_labevent#{ids[1]} (chain link #{seq}) was altered after sealing"
    ) in problems
    assert f"audit event planner_labevent#{ids[2]} (chain link #{seq}) was deleted" in problems
    assert not any(f"planner_labevent#{ids[0]} " in problem for problem in problems)


def test_verify_audit_reports_an_event_sealed_twice_and_a_rewritten_batch_link(
    sealed_lab,
) -> None:
    ids = _batch_of_events(2)
    seq = AuditChainLink.objects.get(event_id=ids[0]).seq
    other = sealed_lab.events.get().pgh_id  # sealed by a link of its own
    protect = trigger_name("planner_auditchainlink", "pgtrigger_audit_chain_append_only")
    owner_execute(
        f"ALTER TABLE planner_auditchainlink DISABLE TRIGGER {protect}",
        f"UPDATE planner_auditchainlink SET event_ids = ARRAY[{ids[0]}, {ids[1]}, {other}] "
        f"WHERE seq = {seq}",
        f"UPDATE planner_auditchainlink SET payload = replace(payload, '\"events\": 2', "
        f"'\"events\": 3') WHERE seq = {seq}",
        f"ALTER TABLE planner_auditchainlink ENABLE ALWAYS TRIGGER {protect}",
    )
    problems = verify_audit_trail().problems
    assert f"chain link #{seq} (planner_labevent) has a hash that does not match its content" in (
        problems
    )
    assert f"audit event planner_labevent#{other} is sealed in 2 chain links" in problems
    assert (
        f"chain link #{seq} (planner_labevent) lists another number of events than it sealed"
        in (problems)
    )


def test_batch_events_verify_after_a_column_is_added_and_a_dropped_sealed_column_is_reported(
    sealed_lab,
) -> None:
    owner_execute("ALTER TABLE planner_labevent ADD COLUMN scratch integer DEFAULT 7")
    _batch_of_events(2)
    owner_execute("ALTER TABLE planner_labevent ADD COLUMN later text DEFAULT 'added later'")
    assert verify_audit_trail().ok, verify_audit_trail().problems
    owner_execute("ALTER TABLE planner_labevent DROP COLUMN scratch")
    problems = verify_audit_trail().problems
    assert (
        "1 batch chain link(s) of planner_labevent sealed columns the table no longer has "
        "(scratch): their events cannot be checked"
    ) in problems
