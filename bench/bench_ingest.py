"""Benchmark: 100,000 measurements posted over HTTP by one client in batches of 5,000.

Run: ``.venv/bin/python bench/bench_ingest.py [--rows N] [--batch N] [--workers N] [--keepdb]``
with ``DATABASE_URL`` set. A throwaway database ``test_bench_ingest_<name>`` is created (kept
with ``--keepdb``, so a second run skips the migrations), a run with 200 animals is built, and
a real gunicorn serves ``config.wsgi`` on a free port against it. One client posts the rows as
JSON with a device token and an Idempotency-Key per batch, one batch after the other; the audit
trail is on (every inserted reading gets its event row, checked at the end). Printed next to:
a raw COPY of the same rows into a plain table of the measurement table's shape (no indexes,
constraints or triggers), and a COPY into the real table with its triggers (rolled back), in
the same run on the same machine; with the ratio and the target (≥ 10,000 measurements/s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TARGET_PER_SECOND = 10_000
N_ANIMALS = 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def _build(rows: int) -> tuple[Any, str, list[dict[str, Any]]]:
    # A kept database holds earlier runs' labs and users: start the factories' sequences apart.
    import random

    import factory
    from django.utils import timezone

    from labnotes.models import DeviceAction
    from labnotes.services.instruments import create_device_token
    from labnotes.services.runs import start_study_run
    from tests import factories
    from tests.factories import LabFactory
    from tests.labnotes.api.device_support import animals_with_tumours
    from tests.labnotes.builders import build_design

    offset = random.randrange(10**6, 10**9)
    for value in vars(factories).values():
        if isinstance(value, type) and issubclass(value, factory.django.DjangoModelFactory):
            if value._meta.model is not None:
                value.reset_sequence(offset)  # type: ignore[no-untyped-call]
    design = build_design(lab=LabFactory())  # type: ignore[no-untyped-call,arg-type]
    run = start_study_run(
        study=design.study,
        code=f"BENCH-{uuid.uuid4().hex[:6]}",
        day0=timezone.localdate() - dt.timedelta(days=30),
        started_by=design.director,
    )
    animals = animals_with_tumours(design, run, N_ANIMALS)
    issued = create_device_token(
        created_by=design.director,
        name="bench",
        run=run,
        actions=[DeviceAction.POST_MEASUREMENTS, DeviceAction.POST_WEIGHTS],
        rate_limit_per_minute=100_000,
    )
    # Readings over the last 25 days, one every ~20 s, caliper and weight alternately.
    end = timezone.now() - dt.timedelta(hours=1)
    step = dt.timedelta(days=25) / rows
    items: list[dict[str, Any]] = []
    for index in range(rows):
        animal = animals[index % N_ANIMALS]
        taken = (end - step * (rows - index)).isoformat()
        if (index // N_ANIMALS) % 2 == 0:
            items.append(
                {
                    "animal": animal.tag,
                    "kind": "caliper",
                    "length_mm": f"{6 + (index % 70) / 10:.2f}",
                    "width_mm": f"{4 + (index % 20) / 10:.2f}",
                    "unit": "mm",
                    "taken_at": taken,
                    "raw": f"L{6 + (index % 70) / 10:.2f} W{4 + (index % 20) / 10:.2f}",
                    "stable": True,
                    "client_id": f"c{index}",
                }
            )
        else:
            items.append(
                {
                    "animal": animal.tag,
                    "kind": "weight",
                    "weight_g": f"{18 + (index % 40) / 10:.2f}",
                    "unit": "g",
                    "taken_at": taken,
                    "raw": f"S S {18 + (index % 40) / 10:8.2f} g",
                    "stable": True,
                    "client_id": f"w{index}",
                }
            )
    return run, issued.secret, items


def _serve(database: str, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=_database_url(database))
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/v1/device/tasks/")
            connection.getresponse().read()
            return server, port
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


#: Server-Timing of each batch's answer: phase → milliseconds, one dict per batch.
PHASES: list[dict[str, float]] = []


def _server_timing(header: str | None) -> dict[str, float]:
    phases: dict[str, float] = {}
    for part in (header or "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if name and duration:
            phases[name] = float(duration)
    return phases


def _post_all(port: int, secret: str, run_id: int, items: list[Any], batch: int) -> float:
    bodies = [
        json.dumps(items[start : start + batch]).encode() for start in range(0, len(items), batch)
    ]
    started = time.perf_counter()
    for body in bodies:
        sent = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        connection.request(
            "POST",
            f"/api/v1/device/measurements/?run={run_id}",
            body=body,
            headers={
                "Authorization": f"Token {secret}",
                "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex,
            },
        )
        response = connection.getresponse()
        answer = response.read()
        if response.status != 201:
            raise RuntimeError(f"HTTP {response.status}: {answer[:500]!r}")
        phases = _server_timing(response.getheader("Server-Timing"))
        phases["request"] = (time.perf_counter() - sent) * 1000
        PHASES.append(phases)
        connection.close()
    return time.perf_counter() - started


def _measurement_triggers() -> list[tuple[str, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid::regclass::text IN ('labnotes_measurement', 'labnotes_measurementevent')"
        )
        return [(table, name) for table, name in cursor.fetchall()]


#: (label, triggers disabled, pgtrigger.ignore set, SQL run first in the rolled-back transaction)
TRIGGER_SETS: list[tuple[str, list[tuple[str, str]], bool, str]] = []


def _row_triggers_before_0018() -> str:
    """Migration 0018's reverse: the per-row audit insert, run-lock and archive triggers on the
    measurement table as they were, for a COPY in a transaction that is rolled back."""
    import importlib

    return str(importlib.import_module("labnotes.migrations.0018_ingest_speed").BACKWARD)


def _trigger_sets(unset_ignore: bool) -> None:
    """COPY into the real table (each rolled back): every trigger, as a session that has not
    set ``pgtrigger.ignore`` and as ingest does; without the audit hash chain; with only
    pghistory's insert trigger (the audit rows themselves)."""
    found = _measurement_triggers()
    chain = [t for t in found if t[1] == "vivolog_audit_chain"]
    others = [
        t
        for t in found
        if t[0] == "labnotes_measurement" and not t[1].startswith("pgtrigger_insert")
        and not t[1].startswith(("pgtrigger_update", "pgtrigger_delete"))
    ]  # fmt: skip
    if unset_ignore:
        # Slow: pgtrigger's check catches an error per row (a subtransaction each), and past 64
        # subtransactions per transaction PostgreSQL slows down further; 100,000 rows took
        # longer than 9 minutes here. Off unless asked for.
        TRIGGER_SETS.append(("COPY into labnotes_measurement, all triggers", [], False, ""))
    TRIGGER_SETS.extend(
        [
            ("  the same, pgtrigger.ignore set (as ingest does)", [], True, ""),
            (
                "  the same with the row triggers of before migration 0018",
                [],
                True,
                _row_triggers_before_0018(),
            ),
            ("  the same without the audit hash chain trigger", chain, True, ""),
            ("  the same with only pghistory's insert trigger", chain + others, True, ""),
            (
                "  the same without any trigger (indexes, checks, FKs only)",
                chain + [t for t in found if t[0] == "labnotes_measurement"],
                True,
                "",
            ),
        ]
    )


def _copy_figures(run: Any, items: list[dict[str, Any]]) -> tuple[float, list[tuple[str, float]]]:
    """Seconds for a raw COPY of the same rows (plain table) and for COPYs into the real
    table with its triggers, all or some (each rolled back)."""
    from django.db import connection, transaction

    from labnotes.models import Animal, Tumour
    from labnotes.services.measurements import tumour_volume_mm3
    from planner.domain.protocol_parameters import VolumeFormula

    animals = dict(Animal.objects.filter(run=run).values_list("tag", "id"))
    tumours = dict(Tumour.objects.filter(animal__run=run).values_list("animal_id", "id"))
    user_id = run.created_by_id
    lab = run.study.lab
    from decimal import Decimal

    from django.utils.dateparse import parse_datetime

    records = []
    now = dt.datetime.now(dt.UTC)
    for item in items:
        taken = parse_datetime(item["taken_at"])
        assert taken is not None
        animal_id = animals[item["animal"]]
        day = (lab.local_date(taken) - run.day0).days
        if item["kind"] == "caliper":
            length, width = Decimal(item["length_mm"]), Decimal(item["width_mm"])
            volume = tumour_volume_mm3(VolumeFormula.HALF_LENGTH_WIDTH_SQUARED, length, width)
            values: tuple[Any, ...] = (tumours[animal_id], length, width, volume, None)
        else:
            values = (None, None, None, None, Decimal(item["weight_g"]))
        records.append(
            (item["kind"], animal_id, *values, user_id, user_id, taken, now, day, item["client_id"])
        )
    columns = (
        "kind, animal_id, tumour_id, length_mm, width_mm, volume_mm3, weight_g, operator_id, "
        "recorded_by_id, taken_at, received_at, study_day, client_id"
    )
    extra = (
        "formula, instrument, entry_method, void_reason, reading_code, code_reason, "
        "axes_swapped, is_late, row_version"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_raw "
            "(LIKE labnotes_measurement INCLUDING DEFAULTS INCLUDING IDENTITY)"
        )
        started = time.perf_counter()
        with cursor.cursor.copy(f"COPY bench_raw ({columns}, {extra}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(
                    (*record, "half_length_width_squared" if record[0] == "caliper" else "", "",
                     "instrument", "", "", "", False, False, 1)
                )  # fmt: skip
        raw_seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_raw")
    figures: list[tuple[str, float]] = []
    for label, disabled, set_ignore, setup in TRIGGER_SETS:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if setup:
                    cursor.execute(setup)  # transactional DDL, rolled back below
                if set_ignore:
                    cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")
                for table, trigger in disabled:
                    # Transactional DDL, rolled back below: only this measurement sees it.
                    cursor.execute(f'ALTER TABLE {table} DISABLE TRIGGER "{trigger}"')
                started = time.perf_counter()
                with cursor.cursor.copy(
                    f"COPY labnotes_measurement ({columns}, {extra}) FROM STDIN"
                ) as copy:
                    for record in records:
                        copy.write_row(
                            (*record[:-1], f"copy-{record[-1]}",
                             "half_length_width_squared" if record[0] == "caliper" else "", "",
                             "instrument", "", "", "", False, False, 1)
                        )  # fmt: skip
                # The audit chain seals at commit (deferred): fire it inside the timing.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                figures.append((label, time.perf_counter() - started))
            transaction.set_rollback(True)
    return raw_seconds, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keepdb", action="store_true", help="keep (and reuse) the database")
    parser.add_argument(
        "--unset-ignore",
        action="store_true",
        help="also time the COPY without pgtrigger.ignore set (slow: minutes for 100,000 rows)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_bench_ingest_{old_name}"
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keepdb)
    server = None
    try:
        from django.apps import apps

        from labnotes.models import Measurement

        build_started = time.perf_counter()
        run, secret, items = _build(args.rows)
        print(f"set-up: {N_ANIMALS} animals, {len(items):,} rows in "
              f"{time.perf_counter() - build_started:.1f} s")  # fmt: skip
        server, port = _serve(database, args.workers)
        before = Measurement.objects.filter(animal__run=run).count()
        seconds = _post_all(port, secret, run.pk, items, args.batch)
        stored = Measurement.objects.filter(animal__run=run).count() - before
        events = (
            apps.get_model("labnotes", "MeasurementEvent")
            .objects.filter(pgh_label="insert", animal_id__in=run.animals.values("id"))
            .count()
        )
        _trigger_sets(args.unset_ignore)
        raw_seconds, figures = _copy_figures(run, items)
        http_rate = len(items) / seconds
        raw_rate = len(items) / raw_seconds
        print()
        print(f"{'path':<58} {'seconds':>8} {'rows/s':>10}")
        print(
            f"{'HTTP ingest, 1 client, batches of ' + format(args.batch, ',') + ', audit on':<58}"
            f" {seconds:8.2f} {http_rate:10,.0f}"
        )
        print(
            f"{'raw COPY into a plain table (same rows)':<58} {raw_seconds:8.2f} {raw_rate:10,.0f}"
        )
        for label, figure in figures:
            print(f"{label:<58} {figure:8.2f} {len(items) / figure:10,.0f}")
        print()
        print(f"rows stored: {stored:,} of {len(items):,}; audit insert events: {events:,}")
        print(f"HTTP ingest / raw COPY: {http_rate / raw_rate:.2f}")
        if PHASES:
            names = [name for name in PHASES[0] if name != "request"]
            mean = {
                name: sum(p.get(name, 0.0) for p in PHASES) / len(PHASES)
                for name in [*names, "request"]
            }
            outside = mean["request"] - sum(mean[name] for name in names)
            split = ", ".join(f"{name} {mean[name]:.0f}" for name in names)
            print(
                f"per batch of {args.batch:,} (mean ms over {len(PHASES)}): {split}, "
                f"outside the service (HTTP, auth, parsing, idempotency, commit) {outside:.0f}; "
                f"request {mean['request']:.0f}"
            )
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(
            f"HTTP ingest vs target {TARGET_PER_SECOND:,}/s: {http_rate / TARGET_PER_SECOND:.2f}"
            f" ({'met' if http_rate >= TARGET_PER_SECOND else 'NOT met'})"
        )
        if stored != len(items) or events < len(items):
            raise SystemExit("rows or audit events missing")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        connection.close()
        if not args.keepdb:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
