# ruff: noqa: S608 - identifiers come from the model registry and pg_catalog (quoted); values are parameters.
"""Tamper evidence for the audit trail: a hash chain over every audit event, and its verifier.

How it works (what a QA auditor is asked to trust):

* Every pghistory event table carries a deferred constraint trigger, ``vivolog_audit_chain``,
  that fires once per event row **at commit**. It takes a transaction-scoped advisory lock,
  reads the last link and appends ``AuditChainLink(seq + 1, table, event id, payload,
  previous_hash, hash)`` with ``hash = SHA-256(previous_hash | table | payload)`` and
  ``payload`` PostgreSQL's canonical ``jsonb`` text of the event row. Sealing at commit (not at
  the INSERT statement) means the chain lock is held only for the commit itself: writers never
  wait on it while holding row locks, so it cannot deadlock with them, and chain order is
  commit order.
* The trigger function is ``SECURITY DEFINER``, owned by the owner role: the runtime role can
  read the chain but cannot write it (it has SELECT only on the link table, and no EXECUTE on
  the append function).
* All audit triggers (pghistory's insert/update/delete triggers, the append-only triggers on
  event tables and the chain triggers) are set ``ENABLE ALWAYS`` so that
  ``session_replication_role = replica`` does not switch them off.
* ``verify_audit`` recomputes every hash in Python from the stored payloads, checks the
  sequence has no gap, that every event row still equals its sealed payload, that every event
  is sealed, that every tracked row equals its latest audit event (a change made with the
  tracking trigger bypassed shows up here), and that every audit trigger is present and
  enabled ALWAYS. It prints the chain head (sequence number and hash): recording that value
  outside the database (the nightly log, backup manifests) is what makes a rewrite of the
  whole chain by the database owner detectable too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pghistory.models
from django.apps import apps
from django.db import connection as default_connection
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

GENESIS_HASH = "0" * 64
CHAIN_TRIGGER = "vivolog_audit_chain"
LINK_TABLE = "planner_auditchainlink"
# pg_advisory_xact_lock key of the chain: hashtext('vivolog.audit_chain') computed once, so
# the verifier and the installer take the same lock as the trigger.
CHAIN_LOCK_SQL = "pg_advisory_xact_lock(hashtext('vivolog.audit_chain'))"

# The chain functions. ``SET timezone`` and ``extra_float_digits`` pin the text form of
# timestamps and floats in the payload, whatever the writing session's settings were.
CHAIN_FUNCTIONS_SQL = f"""
CREATE OR REPLACE FUNCTION vivolog_audit_chain_append(
    p_table text, p_event_id bigint, p_payload text, p_backfilled boolean
) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    PERFORM {CHAIN_LOCK_SQL};
    SELECT seq, hash INTO last_seq, last_hash
      FROM {LINK_TABLE} ORDER BY seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    INSERT INTO {LINK_TABLE}
        (seq, event_table, event_id, payload, previous_hash, hash, sealed_at, backfilled)
    VALUES (
        last_seq + 1, p_table, p_event_id, p_payload, last_hash,
        encode(sha256(convert_to(last_hash || '|' || p_table || '|' || p_payload, 'UTF8')), 'hex'),
        clock_timestamp(), p_backfilled
    );
END
$$;
REVOKE ALL ON FUNCTION vivolog_audit_chain_append(text, bigint, text, boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION vivolog_seal_audit_event() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
SET timezone = 'UTC'
SET extra_float_digits = 1
AS $$
BEGIN
    PERFORM vivolog_audit_chain_append(TG_TABLE_NAME, NEW.pgh_id, to_jsonb(NEW)::text, false);
    RETURN NULL;
END
$$;
"""

DROP_CHAIN_FUNCTIONS_SQL = """
DROP FUNCTION IF EXISTS vivolog_seal_audit_event() CASCADE;
DROP FUNCTION IF EXISTS vivolog_audit_chain_append(text, bigint, text, boolean);
"""


def link_hash(previous_hash: str, table: str, payload: str) -> str:
    """The chain hash, recomputed independently of the database function."""
    return hashlib.sha256(f"{previous_hash}|{table}|{payload}".encode()).hexdigest()


def event_models() -> list[type[pghistory.models.Event]]:
    """Every concrete pghistory event model (one table of audit events each)."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event)
        and not model._meta.abstract
        and not model._meta.proxy
        and model._meta.managed
    ]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _existing_tables(cursor: Any) -> set[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
    )
    return {row[0] for row in cursor.fetchall()}


def _triggers(cursor: Any) -> dict[tuple[str, str], str]:
    """(table, trigger name) → tgenabled for every user trigger in the current schema."""
    cursor.execute(
        "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND NOT t.tgisinternal"
    )
    return {(table, name): enabled for table, name, enabled in cursor.fetchall()}


def audit_trigger_names(triggers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The triggers that must never be switched off: pgtrigger's (audit, append-only,
    immutability) and ours, on any table."""
    return sorted(
        (table, name) for table, name in triggers if name.startswith(("pgtrigger_", "vivolog_"))
    )


def install_chain(using: BaseDatabaseWrapper | None = None) -> dict[str, int]:
    """Create the chain functions, put the chain trigger on every event table, seal events
    that predate their table's trigger (marked ``backfilled``), and set every audit trigger
    ENABLE ALWAYS. Idempotent; run as the owner role after every migrate.

    Returns counts: ``tables`` newly given a chain trigger, ``backfilled`` events,
    ``always`` triggers switched to ENABLE ALWAYS.
    """
    conn = using or default_connection
    counts = {"tables": 0, "backfilled": 0, "always": 0}
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        tables = _existing_tables(cursor)
        if LINK_TABLE not in tables:
            return counts
        cursor.execute(CHAIN_FUNCTIONS_SQL)
        cursor.execute("SET LOCAL timezone = 'UTC'")
        cursor.execute("SET LOCAL extra_float_digits = 1")
        triggers = _triggers(cursor)
        for model in event_models():
            table = model._meta.db_table
            if table not in tables or (table, CHAIN_TRIGGER) in triggers:
                continue
            cursor.execute(
                f"CREATE CONSTRAINT TRIGGER {CHAIN_TRIGGER} AFTER INSERT ON {_quote(table)} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "EXECUTE FUNCTION vivolog_seal_audit_event()"
            )
            counts["tables"] += 1
            # Events written before the trigger existed (earlier versions, data migrations in
            # the same migrate run) are sealed now, in id order, and marked as backfilled.
            cursor.execute(
                f"SELECT e.pgh_id, to_jsonb(e)::text FROM {_quote(table)} e "
                f"WHERE NOT EXISTS (SELECT 1 FROM {LINK_TABLE} l "
                "WHERE l.event_table = %s AND l.event_id = e.pgh_id) ORDER BY e.pgh_id",
                [table],
            )
            for event_id, payload in cursor.fetchall():
                cursor.execute(
                    "SELECT vivolog_audit_chain_append(%s, %s, %s, true)",
                    [table, event_id, payload],
                )
                counts["backfilled"] += 1
        triggers = _triggers(cursor)
        for table, name in audit_trigger_names(triggers):
            if triggers[(table, name)] != "A":
                cursor.execute(f"ALTER TABLE {_quote(table)} ENABLE ALWAYS TRIGGER {_quote(name)}")
                counts["always"] += 1
    return counts


@dataclass
class AuditReport:
    """What ``verify_audit`` found. ``problems`` empty means the trail verified clean."""

    links: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    backfilled: int = 0
    events: int = 0
    tracked_rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "links": self.links,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "backfilled": self.backfilled,
            "events": self.events,
            "tracked_rows": self.tracked_rows,
            "problems": self.problems,
        }


MAX_PROBLEMS_PER_CHECK = 50


def verify_audit_trail(using: BaseDatabaseWrapper | None = None) -> AuditReport:
    """Check the chain and the audit tables in one consistent snapshot (read only).

    Runs in a REPEATABLE READ read-only transaction (when not called inside one already): a
    tracked row, its audit event and the event's chain link are written in one transaction,
    so a snapshot sees all or none.
    """
    conn = using or default_connection
    report = AuditReport()
    outermost = not conn.in_atomic_block
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        if outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SET LOCAL timezone = 'UTC'")
        cursor.execute("SET LOCAL extra_float_digits = 1")
        tables = _existing_tables(cursor)
        if LINK_TABLE not in tables:
            report.problems.append(f"the chain table {LINK_TABLE} does not exist")
            return report
        _verify_links(cursor, report)
        triggers = _triggers(cursor)
        for model in event_models():
            table = model._meta.db_table
            if table not in tables:
                continue
            _verify_event_table(cursor, table, triggers, report)
            tracked = model.pgh_tracked_model
            trackers: list[Any] = list(model.pgh_trackers or [])
            labels = {tracker.label for tracker in trackers}
            has_object = any(f.name == "pgh_obj" for f in model._meta.concrete_fields)
            if tracked is not None and has_object and {"insert", "update"} <= labels:
                _verify_tracked_table(cursor, model, tracked, tables, triggers, report)
        for table, name in audit_trigger_names(triggers):
            if triggers[(table, name)] != "A":
                state = {"O": "enabled (origin only)", "D": "disabled", "R": "replica only"}
                report.problems.append(
                    f"trigger {name} on {table} is {state.get(triggers[(table, name)], '?')}, "
                    "not ENABLE ALWAYS"
                )
    return report


def _verify_links(cursor: Any, report: AuditReport) -> None:
    previous = GENESIS_HASH
    expected_seq = 1
    broken = 0
    cursor.execute(
        f"SELECT seq, event_table, payload, previous_hash, hash, backfilled FROM {LINK_TABLE} "
        "ORDER BY seq"
    )
    while rows := cursor.fetchmany(2000):
        for seq, table, payload, previous_hash, stored_hash, backfilled in rows:
            report.links += 1
            report.backfilled += int(backfilled)
            problem = None
            if seq != expected_seq:
                problem = f"chain link #{expected_seq} is missing (next link is #{seq})"
            elif previous_hash != previous:
                problem = f"chain link #{seq} does not point at the hash of link #{seq - 1}"
            elif link_hash(previous_hash, table, payload) != stored_hash:
                problem = f"chain link #{seq} ({table}) has a hash that does not match its content"
            if problem:
                broken += 1
                if broken <= MAX_PROBLEMS_PER_CHECK:
                    report.problems.append(problem)
            previous = stored_hash
            expected_seq = seq + 1
            report.head_seq, report.head_hash = seq, stored_hash
    if broken > MAX_PROBLEMS_PER_CHECK:
        report.problems.append(f"… and {broken - MAX_PROBLEMS_PER_CHECK} more chain breaks")


def _collect(cursor: Any, sql: str, params: list[Any], describe: Any, report: AuditReport) -> None:
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    for row in rows[:MAX_PROBLEMS_PER_CHECK]:
        report.problems.append(describe(row))
    if len(rows) > MAX_PROBLEMS_PER_CHECK:
        report.problems.append(f"… and {len(rows) - MAX_PROBLEMS_PER_CHECK} more like the above")


def _verify_event_table(
    cursor: Any, table: str, triggers: dict[tuple[str, str], str], report: AuditReport
) -> None:
    quoted = _quote(table)
    cursor.execute(f"SELECT count(*) FROM {quoted}")
    report.events += cursor.fetchone()[0]
    if (table, CHAIN_TRIGGER) not in triggers:
        report.problems.append(f"event table {table} has no chain trigger ({CHAIN_TRIGGER})")
    # Events never sealed: inserted while the chain trigger was disabled or bypassed.
    _collect(
        cursor,
        f"SELECT e.pgh_id FROM {quoted} e WHERE NOT EXISTS (SELECT 1 FROM {LINK_TABLE} l "
        "WHERE l.event_table = %s AND l.event_id = e.pgh_id) ORDER BY e.pgh_id",
        [table],
        lambda row: f"audit event {table}#{row[0]} is not sealed in the chain",
        report,
    )
    # Sealed events whose row was deleted or no longer equals the sealed payload. Columns
    # added to the event table after sealing are ignored (they did not exist then).
    _collect(
        cursor,
        f"SELECT l.seq, l.event_id, e.pgh_id IS NULL FROM {LINK_TABLE} l "
        f"LEFT JOIN {quoted} e ON e.pgh_id = l.event_id WHERE l.event_table = %s AND ("
        "e.pgh_id IS NULL OR l.payload::jsonb IS DISTINCT FROM (to_jsonb(e) - ARRAY("
        "SELECT k FROM jsonb_object_keys(to_jsonb(e)) k WHERE NOT (l.payload::jsonb ? k))))"
        " ORDER BY l.seq",
        [table],
        lambda row: (
            f"audit event {table}#{row[1]} (chain link #{row[0]}) was deleted"
            if row[2]
            else f"audit event {table}#{row[1]} (chain link #{row[0]}) was altered after sealing"
        ),
        report,
    )


def _verify_tracked_table(
    cursor: Any,
    event_model: type[pghistory.models.Event],
    tracked: type[models.Model],
    tables: set[str],
    triggers: dict[tuple[str, str], str],
    report: AuditReport,
) -> None:
    table = tracked._meta.db_table
    if table not in tables:
        return
    event_table = event_model._meta.db_table
    if not any(t == table and name.startswith("pgtrigger_insert") for t, name in triggers):
        report.problems.append(f"tracked table {table} has no audit insert trigger")
    pk = tracked._meta.pk.column
    event_columns = {
        f.column for f in event_model._meta.concrete_fields if not f.column.startswith("pgh_")
    }
    columns = [f.column for f in tracked._meta.concrete_fields if f.column in event_columns]
    row_t = ", ".join(f"t.{_quote(c)}" for c in columns)
    row_l = ", ".join(f"l.{_quote(c)}" for c in columns)
    cursor.execute(f"SELECT count(*) FROM {_quote(table)}")
    report.tracked_rows += cursor.fetchone()[0]
    sql = (
        f"WITH latest AS (SELECT DISTINCT ON (pgh_obj_id) * FROM {_quote(event_table)} "
        "ORDER BY pgh_obj_id, pgh_id DESC) "
        f"SELECT coalesce(t.{_quote(pk)}, l.pgh_obj_id), "
        f"CASE WHEN t.{_quote(pk)} IS NULL THEN 'deleted without an audit event' "
        "WHEN l.pgh_obj_id IS NULL THEN 'has no audit event' "
        "WHEN l.pgh_label = 'delete' THEN 'exists although its latest audit event is a delete' "
        "ELSE 'differs from its latest audit event' END "
        f"FROM {_quote(table)} t FULL OUTER JOIN latest l ON l.pgh_obj_id = t.{_quote(pk)} "
        f"WHERE (t.{_quote(pk)} IS NULL AND l.pgh_label <> 'delete') "
        "OR (l.pgh_obj_id IS NULL) "
        f"OR (l.pgh_label = 'delete' AND t.{_quote(pk)} IS NOT NULL) "
        f"OR (t.{_quote(pk)} IS NOT NULL AND l.pgh_label <> 'delete' "
        f"AND ROW({row_t}) IS DISTINCT FROM ROW({row_l})) "
        "ORDER BY 1"
    )
    _collect(
        cursor,
        sql,
        [],
        lambda row: f"{tracked._meta.label} #{row[0]} {row[1]} (changed with the audit bypassed)",
        report,
    )


def format_report(report: AuditReport) -> str:
    lines = [
        f"audit chain: {report.links} links ({report.backfilled} backfilled), "
        f"head #{report.head_seq} {report.head_hash}",
        f"audit events: {report.events}; tracked rows checked: {report.tracked_rows}",
    ]
    if report.ok:
        lines.append("verify_audit: OK, no problem found")
    else:
        lines.append(f"verify_audit: {len(report.problems)} problem(s):")
        lines.extend(f"  - {problem}" for problem in report.problems)
    return "\n".join(lines)


def report_json(report: AuditReport) -> str:
    return json.dumps(report.as_dict(), indent=2)
