"""Benchmark: the measurement grid page for 200 animals and saving one cell.

Run: ``.venv/bin/python bench/bench_grid.py [--repeats N]`` with ``DATABASE_URL`` set (a
throwaway ``test_…`` database is created and dropped). Goes through Django's test client, so
the whole request is measured (middleware, session, audit context, the view, the template),
with the audit trail's triggers installed as in production. Prints medians of repeated runs,
the SQL query counts (the page's must not grow with the number of animals) and the ratio of
each figure to its target: page ≤ 20 queries and ≤ 150 ms, one cell ≤ 10 queries and ≤ 30 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

PAGE_QUERIES, PAGE_MS = 20, 150.0
CELL_QUERIES, CELL_MS = 10, 30.0
N_ANIMALS = 200
SMALL = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--show-queries", action="store_true", help="print the SQL of one page and one cell"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    # As the tests do: no collected-static manifest needed to render a page.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        _run(args.repeats, show_queries=args.show_queries)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _build(count: int, code: str, design: Any) -> tuple[Any, list[Any]]:
    from django.utils import timezone

    from labnotes.services.animals import (
        create_cage,
        move_animals,
        record_implantation,
        register_animals,
    )
    from labnotes.services.measurements import record_measurement
    from labnotes.services.runs import start_study_run
    from tests.labnotes.builders import tag_rows

    run = start_study_run(
        study=design.study,
        code=code,
        day0=timezone.localdate() - dt.timedelta(days=10),
        started_by=design.director,
    )
    animals = register_animals(run=run, rows=tag_rows(count), registered_by=design.technician)
    for index in range(0, count, 5):
        cage = create_cage(
            lab=design.lab,
            run=run,
            label=f"{code}-C{index // 5 + 1:03d}",
            created_by=design.technician,
            room="R1",
            rack="A",
            position=str(index // 5 + 1),
        )
        move_animals(animals=animals[index : index + 5], cage=cage, moved_by=design.technician)
    earlier = timezone.now() - dt.timedelta(days=2)
    for number, animal in enumerate(animals):
        tumour = record_implantation(
            animal=animal,
            site="right flank",
            implanted_on=run.day0,
            cells=500_000,
            operator=design.technician,
        ).tumour
        record_measurement(
            tumour=tumour,
            length_mm=8 + number % 5,
            width_mm=6,
            taken_at=earlier,
            operator=design.technician,
        )
        record_measurement(
            animal=animal, weight_g=20 + number % 3, taken_at=earlier, operator=design.technician
        )
    return run, animals


def _timed(call: Any) -> tuple[Any, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = call()
        elapsed = (time.perf_counter() - started) * 1000
    return response, elapsed, len(queries)


def _show(label: str, call: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    print(f"-- {label}: {len(queries)} queries")
    for number, query in enumerate(queries, start=1):
        print(f"{number:3d} {' '.join(query['sql'].split())[:160]}")


def _run(repeats: int, *, show_queries: bool = False) -> None:
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from planner.audit import audit_context
    from tests.factories import LabFactory
    from tests.labnotes.builders import build_design

    with audit_context(reason="benchmark"):
        design = build_design(lab=LabFactory(), approved_animals=1000)  # type: ignore[no-untyped-call,arg-type]
        small_run, _ = _build(SMALL, "SMALL", design)
        run, animals = _build(N_ANIMALS, "BENCH", design)

    client = Client()
    client.force_login(design.technician)

    def page(of: Any) -> Any:
        return lambda: client.get(reverse("run_grid", kwargs={"pk": of.pk}))

    # The first request of a session writes it (last seen, the second-factor check): warm up
    # so both pages are counted in the same steady state.
    page(small_run)()
    _, _, small_queries = _timed(page(small_run))
    page_times, page_queries = [], []
    for _ in range(repeats):
        response, elapsed, queries = _timed(page(run))
        assert response.status_code == 200, response.status_code
        page_times.append(elapsed)
        page_queries.append(queries)

    save_url = reverse("grid_cell_save", kwargs={"pk": run.pk})

    def cell(animal: Any, field: str, raw: str) -> Any:
        body = {
            "client_id": str(uuid.uuid4()),
            "animal": str(animal.pk),
            "tumour": None if field == "weight" else str(animal.tumours.first().pk),
            "field": field,
            "raw": raw,
            "taken_at": timezone.now().isoformat(),
            "operator": str(design.technician.pk),
            "correction_of": None,
            "reason": None,
            "repeat_of": None,
        }
        return lambda: client.post(
            save_url,
            data=json.dumps(body),
            content_type="application/json",
            headers={"Idempotency-Key": body["client_id"]},
        )

    first_axis, second_axis, weights, replays = [], [], [], []
    for number in range(repeats):
        animal = animals[number]
        response, elapsed, queries = _timed(cell(animal, "length", "9.5"))
        assert response.status_code == 201, response.content
        first_axis.append((elapsed, queries))
        response, elapsed, queries = _timed(cell(animal, "width", "7,25"))
        assert response.status_code == 201 and "volume_mm3" in response.json(), response.content
        second_axis.append((elapsed, queries))
        again = cell(animal, "weight", "+    21.37 g")
        response, elapsed, queries = _timed(again)
        assert response.status_code == 201, response.content
        weights.append((elapsed, queries))
        response, elapsed, queries = _timed(again)
        assert response.status_code == 200, response.content
        replays.append((elapsed, queries))

    if show_queries:
        _show("grid page", page(run))
        _show("first axis", cell(animals[-1], "length", "9.5"))
        _show("second axis", cell(animals[-1], "width", "7.5"))
        _show("weight", cell(animals[-1], "weight", "21.5"))
    rows = [
        (
            f"grid page, {N_ANIMALS} animals",
            statistics.median(page_times),
            max(page_queries),
            PAGE_MS,
            PAGE_QUERIES,
        ),
    ]
    for label, samples in (
        ("cell: first caliper axis (pending half)", first_axis),
        ("cell: second axis (reading, volume, checks)", second_axis),
        ("cell: body weight", weights),
        ("cell: replay of a resent key", replays),
    ):
        rows.append(
            (
                label,
                statistics.median(t for t, _ in samples),
                max(q for _, q in samples),
                CELL_MS,
                CELL_QUERIES,
            )
        )
    load = Path("/proc/loadavg")
    print(f"Grid benchmark, medians of {repeats} runs (test client, audit trail on)")
    if load.exists():
        print(f"load average (1, 5, 15 min): {' '.join(load.read_text().split()[:3])}")
    print(f"{'what':46} {'ms':>8} {'target':>7} {'ratio':>6} {'queries':>8} {'target':>7}")
    for label, ms, queries, ms_target, query_target in rows:
        print(
            f"{label:46} {ms:8.1f} {ms_target:7.0f} {ms / ms_target:6.2f} "
            f"{queries:8d} {query_target:7d}"
        )
    print(
        f"grid page queries: {SMALL} animals {small_queries}, {N_ANIMALS} animals "
        f"{max(page_queries)} (must not grow)"
    )


if __name__ == "__main__":
    main()
