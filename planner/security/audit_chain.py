# ruff: noqa: S608 - identifiers come from the model registry and pg_catalog (quoted); values are parameters.
"""Tamper evidence for the audit trail: a hash chain over every audit event, and its verifier.

How it works (what a QA auditor is asked to trust):

* Every audit event is sealed **at the commit of the transaction that wrote it** as a link
  ``AuditChainLink(seq, table, event id, payload, previous_hash, hash)`` with
  ``hash = SHA-256(previous_hash | table | payload)`` and ``payload`` PostgreSQL's canonical
  ``jsonb`` text of the event row; ``seq`` counts up from 1 with no gap.
* Collecting: every pghistory event table carries a statement-level ``AFTER INSERT`` trigger,
  ``vivolog_audit_chain``, that records the ids of the events the statement inserted (its
  transition table) as one ``AuditChainPending`` row of the transaction. A reading-by-reading
  write records one row per event; a bulk ingest of 5,000 readings, whose events are inserted
  by one statement, records one row.
* Sealing: the transaction's first pending row carries a deferred constraint trigger,
  ``vivolog_audit_chain_seal`` (``WHEN (NEW.opens)``: later pending rows of the same
  transaction queue nothing), that fires **at commit**. It takes a transaction-scoped advisory
  lock, reads the last link, appends one link per pending event — pending rows in the order
  they were written, events of a row in id order, i.e. the order the transaction inserted them
  — and deletes the transaction's pending rows. A pending row of many events (one statement
  inserted them: a bulk ingest) becomes one *batch link* instead: its payload is the canonical
  ``jsonb`` text of ``{"events": n, "columns": [...], "digests": [...]}``: the event table's
  columns at sealing, in order, and the SHA-256 of each event row's text form (``row::text``,
  with the text settings pinned like the timezone) in the order written; its ``event_ids`` list
  the events. Same hash rule, one link: sealing 5,000 readings writes 320 kB of digests instead
  of 5 MB of copied payloads, in a fifth of the time. A pending row written after the seal (by
  work that runs at commit after it) finds none left, opens again and is sealed by its own
  firing before the commit ends. A savepoint rolled back takes its events, their pending row
  and (when it was the opening one) its queued seal away together, so the next pending row
  opens again. Sealing at commit (not at the INSERT statement) means the chain lock is held
  only for the commit itself: writers never wait on it while holding row locks, so it cannot
  deadlock with them, and chain order is commit order (a transaction's events are contiguous in
  the chain).
* The trigger functions are ``SECURITY DEFINER``, owned by the owner role: the runtime role
  can read the chain and the pending table but cannot write either (SELECT only on both, and
  no EXECUTE on the chain functions), so it can neither add, alter nor skip a link.
* All audit triggers (pghistory's insert/update/delete triggers, the append-only triggers on
  event tables and the chain triggers) are set ``ENABLE ALWAYS`` so that
  ``session_replication_role = replica`` does not switch them off.
* ``verify_audit`` recomputes every hash in Python from the stored payloads, checks the
  sequence has no gap, that every event row still equals its sealed payload (for a batch link:
  still has its sealed digest), that every event is sealed, and sealed once, that no committed
  transaction left pending events behind, that every tracked row equals its latest audit event
  (a change made with the tracking trigger bypassed shows up here), and that every audit
  trigger is present, is the chain trigger it should be, and is enabled ALWAYS. It prints the
  chain head (sequence number and hash): recording that value outside the database (the nightly
  log, backup manifests) is what makes a rewrite of the whole chain by the database owner
  detectable too.
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
SEAL_TRIGGER = "vivolog_audit_chain_seal"
COLLECT_FUNCTION = "vivolog_audit_chain_collect"
SEAL_FUNCTION = "vivolog_audit_chain_seal"
LINK_TABLE = "planner_auditchainlink"
PENDING_TABLE = "planner_auditchainpending"
# pg_advisory_xact_lock key of the chain: hashtext('vivolog.audit_chain') computed once, so
# the verifier and the installer take the same lock as the trigger.
CHAIN_LOCK_SQL = "pg_advisory_xact_lock(hashtext('vivolog.audit_chain'))"
# Links are inserted this many at a time by the seal (bounds its memory on huge transactions).
SEAL_FLUSH_ROWS = 10_000
# A statement that inserted at least this many events (a bulk ingest) is sealed as one batch
# link over their digests instead of one link per event.
BATCH_LINK_MIN_EVENTS = 2

# The chain functions. ``SET timezone`` and ``extra_float_digits`` pin the text form of
# timestamps and floats in the payload, whatever the writing session's settings were.
# The seal's one-event links collected so far (arrays of table, id, payload, previous hash and
# hash), inserted in one statement after the chain's last ``seq``; the arrays start again empty.
FLUSH_SINGLE_LINKS_SQL = f"""INSERT INTO {LINK_TABLE}
                    (seq, event_table, event_id, payload, previous_hash, hash, sealed_at,
                     backfilled)
                SELECT last_seq + u.n, u.t, u.i, u.p, u.r, u.h, clock_timestamp(), false
                  FROM unnest(tables, ids, payloads, previous, hashes)
                       WITH ORDINALITY AS u(t, i, p, r, h, n);
                last_seq := last_seq + cardinality(ids);
                tables := '{{}}'; ids := '{{}}'; payloads := '{{}}';
                previous := '{{}}'; hashes := '{{}}';"""

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

-- Statement level, AFTER INSERT on an event table: the statement's events (transition table
-- vivolog_new_events) become one pending row of the transaction. The transaction's first
-- pending row "opens": its deferred seal trigger fires at commit.
CREATE OR REPLACE FUNCTION {COLLECT_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    me bigint := pg_current_xact_id()::text::bigint;
    ids bigint[];
BEGIN
    SELECT array_agg(pgh_id ORDER BY pgh_id) INTO ids FROM vivolog_new_events;
    IF ids IS NOT NULL THEN
        INSERT INTO {PENDING_TABLE} (txid, event_table, event_ids, opens)
        VALUES (me, TG_TABLE_NAME, ids,
                NOT EXISTS (SELECT 1 FROM {PENDING_TABLE} WHERE txid = me));
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION {COLLECT_FUNCTION}() FROM PUBLIC;

-- Deferred, on the transaction's opening pending row: seal every pending event of the
-- transaction in order (pending rows by id, events of a row by id), then forget them.
CREATE OR REPLACE FUNCTION {SEAL_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
SET timezone = 'UTC'
SET extra_float_digits = 1
SET DateStyle = 'ISO, MDY'
SET IntervalStyle = 'postgres'
SET bytea_output = 'hex'
AS $$
DECLARE
    me bigint := pg_current_xact_id()::text::bigint;
    pending record;
    event record;
    last_seq bigint;
    last_hash text;
    found_events integer;
    tables text[] := '{{}}';
    ids bigint[] := '{{}}';
    payloads text[] := '{{}}';
    previous text[] := '{{}}';
    hashes text[] := '{{}}';
    digests text[];
    event_columns text[];
    batch text;
BEGIN
    PERFORM {CHAIN_LOCK_SQL};
    SELECT seq, hash INTO last_seq, last_hash
      FROM {LINK_TABLE} ORDER BY seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    FOR pending IN
        SELECT p.event_table, p.event_ids FROM {PENDING_TABLE} p WHERE p.txid = me ORDER BY p.id
    LOOP
        IF cardinality(pending.event_ids) >= {BATCH_LINK_MIN_EVENTS} THEN
            -- One statement's many events (a bulk ingest): one link for them all. The links
            -- collected so far go first, so the chain keeps the order the events were written.
            IF cardinality(ids) > 0 THEN
                {FLUSH_SINGLE_LINKS_SQL}
            END IF;
            -- Each event's digest is over its row's text form (record output: a third of
            -- the cost of its jsonb text), with the table's columns recorded in order.
            EXECUTE format(
                'SELECT count(*)::integer, array_agg(encode(sha256(convert_to('
                'e::text, ''UTF8'')), ''hex'') ORDER BY k.n) '
                'FROM unnest($1) WITH ORDINALITY AS k(id, n) JOIN %I e ON e.pgh_id = k.id',
                pending.event_table
            ) USING pending.event_ids INTO found_events, digests;
            IF found_events <> cardinality(pending.event_ids) THEN
                RAISE EXCEPTION 'audit chain: % of % pending % events not found',
                    cardinality(pending.event_ids) - found_events,
                    cardinality(pending.event_ids), pending.event_table;
            END IF;
            SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO event_columns
              FROM pg_attribute a
             WHERE a.attrelid = to_regclass(quote_ident(pending.event_table))
               AND a.attnum > 0 AND NOT a.attisdropped;
            batch := jsonb_build_object(
                'events', found_events, 'columns', to_jsonb(event_columns),
                'digests', to_jsonb(digests)
            )::text;
            INSERT INTO {LINK_TABLE}
                (seq, event_table, event_id, event_ids, payload, previous_hash, hash,
                 sealed_at, backfilled)
            VALUES (
                last_seq + 1, pending.event_table, pending.event_ids[1], pending.event_ids,
                batch, last_hash,
                encode(sha256(convert_to(
                    last_hash || '|' || pending.event_table || '|' || batch, 'UTF8'
                )), 'hex'),
                clock_timestamp(), false
            ) RETURNING hash INTO last_hash;
            last_seq := last_seq + 1;
            CONTINUE;
        END IF;
        found_events := 0;
        -- The events by their ids (one index probe each), in the pending row's order.
        FOR event IN EXECUTE format(
            'SELECT e.pgh_id, to_jsonb(e)::text AS payload '
            'FROM unnest($1) WITH ORDINALITY AS k(id, n) JOIN %I e ON e.pgh_id = k.id '
            'ORDER BY k.n', pending.event_table
        ) USING pending.event_ids
        LOOP
            tables := array_append(tables, pending.event_table::text);
            ids := array_append(ids, event.pgh_id);
            payloads := array_append(payloads, event.payload);
            previous := array_append(previous, last_hash);
            last_hash := encode(sha256(convert_to(
                last_hash || '|' || pending.event_table || '|' || event.payload, 'UTF8'
            )), 'hex');
            hashes := array_append(hashes, last_hash);
            found_events := found_events + 1;
            IF cardinality(ids) >= {SEAL_FLUSH_ROWS} THEN
                {FLUSH_SINGLE_LINKS_SQL}
            END IF;
        END LOOP;
        IF found_events <> cardinality(pending.event_ids) THEN
            RAISE EXCEPTION 'audit chain: % of % pending % events not found',
                cardinality(pending.event_ids) - found_events, cardinality(pending.event_ids),
                pending.event_table;
        END IF;
    END LOOP;
    IF cardinality(ids) > 0 THEN
        {FLUSH_SINGLE_LINKS_SQL}
    END IF;
    DELETE FROM {PENDING_TABLE} WHERE txid = me;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION {SEAL_FUNCTION}() FROM PUBLIC;
"""

# Before issue 11 each event row had its own deferred row trigger calling this function.
OLD_SEAL_FUNCTION = "vivolog_seal_audit_event"

DROP_CHAIN_FUNCTIONS_SQL = f"""
DROP FUNCTION IF EXISTS {COLLECT_FUNCTION}() CASCADE;
DROP FUNCTION IF EXISTS {SEAL_FUNCTION}() CASCADE;
DROP FUNCTION IF EXISTS {OLD_SEAL_FUNCTION}() CASCADE;
DROP FUNCTION IF EXISTS vivolog_audit_chain_append(text, bigint, text, boolean);
"""

COLLECT_TRIGGER_SQL = (
    "CREATE TRIGGER {trigger} AFTER INSERT ON {table} REFERENCING NEW TABLE AS vivolog_new_events "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {COLLECT_FUNCTION}()"
)
SEAL_TRIGGER_SQL = (
    f"CREATE CONSTRAINT TRIGGER {SEAL_TRIGGER} AFTER INSERT ON {PENDING_TABLE} "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.opens) "
    f"EXECUTE FUNCTION {SEAL_FUNCTION}()"
)


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


def _chain_triggers(cursor: Any) -> dict[tuple[str, str], tuple[str, int, bool]]:
    """(table, trigger name) → (function, tgtype, initially deferred) of every chain trigger."""
    cursor.execute(
        "SELECT c.relname, t.tgname, p.proname, t.tgtype, t.tginitdeferred "
        "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE n.nspname = current_schema() AND NOT t.tgisinternal AND t.tgname IN (%s, %s)",
        [CHAIN_TRIGGER, SEAL_TRIGGER],
    )
    return {
        (table, name): (function, int(kind), bool(deferred))
        for table, name, function, kind, deferred in cursor.fetchall()
    }


# pg_trigger.tgtype bits: ROW 1, BEFORE 2, INSERT 4 (AFTER and FOR EACH STATEMENT are 0 bits).
_ROW, _BEFORE, _INSERT = 1, 2, 4


def _is_collect_trigger(found: tuple[str, int, bool] | None) -> bool:
    """The event table's chain trigger as it should be: statement level, after insert."""
    return (
        found is not None
        and found[0] == COLLECT_FUNCTION
        and found[1] & (_ROW | _BEFORE) == 0
        and found[1] & _INSERT != 0
    )


def _is_seal_trigger(found: tuple[str, int, bool] | None) -> bool:
    """The pending table's seal trigger as it should be: row level, after insert, deferred."""
    return (
        found is not None
        and found[0] == SEAL_FUNCTION
        and found[1] & (_ROW | _BEFORE | _INSERT) == _ROW | _INSERT
        and found[2]
    )


def install_chain(using: BaseDatabaseWrapper | None = None) -> dict[str, int]:
    """Create the chain functions, put the chain trigger on every event table and the seal
    trigger on the pending table, seal events that predate their table's trigger (marked
    ``backfilled``), and set every audit trigger ENABLE ALWAYS. Idempotent; run as the owner
    role after every migrate. A chain or seal trigger of another definition (an earlier
    version's per-row ``vivolog_audit_chain``) is dropped and created anew; events it sealed
    stay sealed, so nothing is backfilled for it.

    Returns counts: ``tables`` newly given a chain trigger, ``replaced`` chain or seal triggers
    of an earlier definition, ``backfilled`` events, ``always`` triggers switched to ENABLE
    ALWAYS.
    """
    conn = using or default_connection
    counts = {"tables": 0, "replaced": 0, "backfilled": 0, "always": 0}
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        tables = _existing_tables(cursor)
        if LINK_TABLE not in tables or PENDING_TABLE not in tables:
            return counts
        cursor.execute(CHAIN_FUNCTIONS_SQL)
        cursor.execute("SET LOCAL timezone = 'UTC'")
        cursor.execute("SET LOCAL extra_float_digits = 1")
        chain_triggers = _chain_triggers(cursor)
        seal = chain_triggers.get((PENDING_TABLE, SEAL_TRIGGER))
        if not _is_seal_trigger(seal):
            if seal is not None:
                cursor.execute(f"DROP TRIGGER {SEAL_TRIGGER} ON {PENDING_TABLE}")
                counts["replaced"] += 1
            cursor.execute(SEAL_TRIGGER_SQL)
        for model in event_models():
            table = model._meta.db_table
            found = chain_triggers.get((table, CHAIN_TRIGGER))
            if table not in tables or _is_collect_trigger(found):
                continue
            if found is not None:
                cursor.execute(f"DROP TRIGGER {CHAIN_TRIGGER} ON {_quote(table)}")
            cursor.execute(COLLECT_TRIGGER_SQL.format(trigger=CHAIN_TRIGGER, table=_quote(table)))
            if found is not None:
                counts["replaced"] += 1
                continue
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
        # The per-row seal function of before, once no trigger calls it any more.
        cursor.execute(
            "SELECT p.oid FROM pg_proc p WHERE p.proname = %s AND p.pronamespace = "
            "(SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND NOT EXISTS "
            "(SELECT 1 FROM pg_trigger t WHERE t.tgfoid = p.oid)",
            [OLD_SEAL_FUNCTION],
        )
        if cursor.fetchone() is not None:
            cursor.execute(f"DROP FUNCTION {OLD_SEAL_FUNCTION}()")
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
        # The text forms the seal hashed: jsonb (single events) and row text (batches).
        cursor.execute("SET LOCAL timezone = 'UTC'")
        cursor.execute("SET LOCAL extra_float_digits = 1")
        cursor.execute("SET LOCAL DateStyle = 'ISO, MDY'")
        cursor.execute("SET LOCAL IntervalStyle = 'postgres'")
        cursor.execute("SET LOCAL bytea_output = 'hex'")
        tables = _existing_tables(cursor)
        if LINK_TABLE not in tables:
            report.problems.append(f"the chain table {LINK_TABLE} does not exist")
            return report
        _verify_links(cursor, report)
        triggers = _triggers(cursor)
        chain_triggers = _chain_triggers(cursor)
        _verify_pending(cursor, tables, chain_triggers, report)
        for model in event_models():
            table = model._meta.db_table
            if table not in tables:
                continue
            _verify_event_table(cursor, table, chain_triggers, report)
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


def _verify_pending(
    cursor: Any,
    tables: set[str],
    chain_triggers: dict[tuple[str, str], tuple[str, int, bool]],
    report: AuditReport,
) -> None:
    if PENDING_TABLE not in tables:
        report.problems.append(f"the chain's pending table {PENDING_TABLE} does not exist")
        return
    seal = chain_triggers.get((PENDING_TABLE, SEAL_TRIGGER))
    if seal is None:
        report.problems.append(f"the pending table {PENDING_TABLE} has no seal trigger")
    elif not _is_seal_trigger(seal):
        report.problems.append(
            f"the seal trigger {SEAL_TRIGGER} on {PENDING_TABLE} is not the deferred row "
            f"trigger calling {SEAL_FUNCTION}"
        )
    # A pending row seen here (other than the calling transaction's own, not committed yet)
    # belongs to a committed transaction, which should have sealed and deleted it.
    _collect(
        cursor,
        f"SELECT txid, event_table, cardinality(event_ids) FROM {PENDING_TABLE} "
        "WHERE txid IS DISTINCT FROM pg_current_xact_id_if_assigned()::text::bigint ORDER BY id",
        [],
        lambda row: (
            f"{row[2]} {row[1]} audit event(s) of committed transaction {row[0]} were collected "
            "but never sealed"
        ),
        report,
    )


def _verify_event_table(
    cursor: Any,
    table: str,
    chain_triggers: dict[tuple[str, str], tuple[str, int, bool]],
    report: AuditReport,
) -> None:
    quoted = _quote(table)
    cursor.execute(f"SELECT count(*) FROM {quoted}")
    report.events += cursor.fetchone()[0]
    found = chain_triggers.get((table, CHAIN_TRIGGER))
    if found is None:
        report.problems.append(f"event table {table} has no chain trigger ({CHAIN_TRIGGER})")
    elif not _is_collect_trigger(found):
        report.problems.append(
            f"the chain trigger {CHAIN_TRIGGER} on {table} is not the statement trigger "
            f"calling {COLLECT_FUNCTION}"
        )
    sealed = (
        f"SELECT l.event_id AS id FROM {LINK_TABLE} l "
        "WHERE l.event_table = %s AND l.event_ids IS NULL "
        f"UNION ALL SELECT unnest(l.event_ids) FROM {LINK_TABLE} l "
        "WHERE l.event_table = %s AND l.event_ids IS NOT NULL"
    )
    # Events never sealed: inserted while the chain trigger was disabled or bypassed.
    _collect(
        cursor,
        f"WITH sealed AS MATERIALIZED ({sealed}) SELECT e.pgh_id FROM {quoted} e "
        "WHERE NOT EXISTS (SELECT 1 FROM sealed s WHERE s.id = e.pgh_id) ORDER BY e.pgh_id",
        [table, table],
        lambda row: f"audit event {table}#{row[0]} is not sealed in the chain",
        report,
    )
    # An event in two links (only a rewrite of the chain can do that).
    _collect(
        cursor,
        f"SELECT id, count(*) FROM ({sealed}) s GROUP BY id HAVING count(*) > 1 ORDER BY id",
        [table, table],
        lambda row: f"audit event {table}#{row[0]} is sealed in {row[1]} chain links",
        report,
    )
    # Sealed events whose row was deleted or no longer equals the sealed payload. Columns
    # added to the event table after sealing are ignored (they did not exist then).
    _collect(
        cursor,
        f"SELECT l.seq, l.event_id, e.pgh_id IS NULL FROM {LINK_TABLE} l "
        f"LEFT JOIN {quoted} e ON e.pgh_id = l.event_id "
        "WHERE l.event_table = %s AND l.event_ids IS NULL AND ("
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
    _verify_batch_links(cursor, table, report)


def _verify_batch_links(cursor: Any, table: str, report: AuditReport) -> None:
    """The events of ``table``'s batch links: each event's row text, over the columns the
    table had at sealing and in their order, must still have the digest the link sealed at
    its position. Columns added later are left out; a sealed column dropped since is reported
    (those events can no longer be checked)."""
    quoted = _quote(table)
    cursor.execute(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) "
        "AND a.attnum > 0 AND NOT a.attisdropped",
        [quoted],
    )
    existing = {row[0] for row in cursor.fetchall()}
    cursor.execute(
        f"SELECT (payload::jsonb -> 'columns')::text, count(*) FROM {LINK_TABLE} "
        "WHERE event_table = %s AND event_ids IS NOT NULL GROUP BY 1 ORDER BY 1",
        [table],
    )
    for columns_json, links in cursor.fetchall():
        columns = json.loads(columns_json) if columns_json else []
        gone = [column for column in columns if column not in existing]
        if not columns or gone:
            report.problems.append(
                f"{links} batch chain link(s) of {table} sealed columns the table no longer "
                f"has ({', '.join(gone) or 'none listed'}): their events cannot be checked"
            )
            continue
        row_text = "ROW(" + ", ".join(f"e.{_quote(column)}" for column in columns) + ")::text"
        _collect(
            cursor,
            "WITH l AS MATERIALIZED ("
            "SELECT seq, event_ids, ARRAY(SELECT jsonb_array_elements_text(p -> 'digests')) "
            f"AS digests FROM (SELECT seq, event_ids, payload::jsonb AS p FROM {LINK_TABLE} "
            "WHERE event_table = %s AND event_ids IS NOT NULL) b "
            "WHERE (p -> 'columns')::text = %s) "
            "SELECT l.seq, u.id, CASE WHEN u.id IS NULL OR u.digest IS NULL THEN 'count' "
            "WHEN e.pgh_id IS NULL THEN 'deleted' ELSE 'altered' END "
            "FROM l CROSS JOIN LATERAL unnest(l.event_ids, l.digests) WITH ORDINALITY "
            "AS u(id, digest, n) "
            f"LEFT JOIN {quoted} e ON e.pgh_id = u.id "
            "WHERE u.id IS NULL OR u.digest IS NULL OR e.pgh_id IS NULL OR u.digest "
            f"IS DISTINCT FROM encode(sha256(convert_to({row_text}, 'UTF8')), 'hex') "
            "ORDER BY l.seq, u.n",
            [table, columns_json],
            lambda row: (
                f"chain link #{row[0]} ({table}) lists another number of events than it sealed"
                if row[2] == "count"
                else f"audit event {table}#{row[1]} (chain link #{row[0]}) was {row[2]}"
                + (" after sealing" if row[2] == "altered" else "")
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
