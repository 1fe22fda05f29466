"""Benchmark: balance randomization of 200 animals into 10 arms through the service.

Run: ``.venv/bin/python bench/bench_randomize_service.py [--repeats N]`` with ``DATABASE_URL``
set (a throwaway ``test_…`` database is created and dropped). Times ``preview_randomization``
(snapshot of covariates, 5,000 candidates + swap refinement on volume and weight, balance table,
the batch row) over several seeds, then one ``apply_randomization`` (arms, treatment start and
the task schedule of 200 animals) repeated (each applied batch is voided and the animals are
previewed again, untimed, before the next apply), and prints medians with their ratio to the
2 s target. ``--profile`` prints the 25 costliest functions of one more apply.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TARGET_SECONDS = 2.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds used so far by the PostgreSQL backend serving us (local server only).

    Wall times on a shared machine depend on its load; client + server CPU time does not, so
    both are printed.
    """
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


N_ANIMALS = 200
N_ARMS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        _run(args.repeats, args.profile)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _run(repeats: int, profile: bool) -> None:
    import numpy as np
    from django.utils import timezone

    from labnotes.models import Animal, Measurement, MeasurementKind, Tumour
    from labnotes.services.randomization import (
        apply_randomization,
        preview_randomization,
        void_randomization,
    )
    from labnotes.services.runs import start_study_run
    from planner.audit import audit_context
    from tests.factories import LabFactory
    from tests.labnotes.builders import build_design

    with audit_context(reason="benchmark"):
        design = build_design(
            lab=LabFactory(),
            arms=N_ARMS,
            planned_n=N_ANIMALS // N_ARMS,
            covariates=("tumour_volume", "body_weight"),
            approved_animals=1000,
        )
        run = start_study_run(
            study=design.study,
            code="BENCH",
            day0=timezone.localdate() - dt.timedelta(days=10),
            started_by=design.director,
        )
        rng = np.random.default_rng(1)
        animals = Animal.objects.bulk_create(
            [
                Animal(
                    run=run,
                    tag=f"{i:04d}",
                    sex="female",
                    received_on=run.day0,
                    registered_by=design.technician,
                )
                for i in range(N_ANIMALS)
            ]
        )
        tumours = Tumour.objects.bulk_create(
            [Tumour(animal=a, site="right flank") for a in animals]
        )
        taken_at = timezone.now() - dt.timedelta(hours=1)
        readings = []
        for animal, tumour in zip(animals, tumours, strict=True):
            volume = float(np.clip(rng.lognormal(np.log(100.0), 0.2), 51, 149))
            width = (2 * volume / 1.3) ** (1 / 3)
            readings.append(
                Measurement(
                    kind=MeasurementKind.CALIPER,
                    animal=animal,
                    tumour=tumour,
                    length_mm=round(width * 1.3, 2),
                    width_mm=round(width, 2),
                    volume_mm3=round(1.3 * width**3 / 2, 2),
                    formula="half_length_width_squared",
                    operator=design.technician,
                    recorded_by=design.technician,
                    taken_at=taken_at,
                    study_day=10,
                )
            )
            readings.append(
                Measurement(
                    kind=MeasurementKind.WEIGHT,
                    animal=animal,
                    weight_g=round(rng.normal(20, 1.5), 2),
                    operator=design.technician,
                    recorded_by=design.technician,
                    taken_at=taken_at,
                    study_day=10,
                )
            )
        Measurement.objects.bulk_create(readings)

        times = []
        smds = []
        batch = None
        for seed in range(repeats):
            start = time.perf_counter()
            batch = preview_randomization(run=run, requested_by=design.scientist, seed=seed)
            times.append(time.perf_counter() - start)
            smds.append(max(v for v in batch.balance["largest_smd"].values() if v is not None))
        assert batch is not None
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = int(cursor.fetchone()[0])
        apply_times = []
        apply_cpu: list[float] = []
        tasks = 0
        for repeat in range(repeats):
            if repeat:
                batch = preview_randomization(
                    run=run, requested_by=design.scientist, seed=repeat, candidates=200
                )
            server_before = _backend_cpu_seconds(backend)
            client_before = time.process_time()
            start = time.perf_counter()
            applied = apply_randomization(batch=batch, applied_by=design.scientist)
            apply_times.append(time.perf_counter() - start)
            server_after = _backend_cpu_seconds(backend)
            if server_before is not None and server_after is not None:
                apply_cpu.append(time.process_time() - client_before + server_after - server_before)
            tasks = run.tasks.count()
            void_randomization(batch=applied, voided_by=design.scientist, reason="benchmark")
        if profile:
            import cProfile
            import pstats

            batch = preview_randomization(
                run=run, requested_by=design.scientist, seed=99, candidates=200
            )
            profiler = cProfile.Profile()
            profiler.enable()
            apply_randomization(batch=batch, applied_by=design.scientist)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        apply_seconds = statistics.median(apply_times)

    median = statistics.median(times)
    print(
        f"balance randomization through the service: {N_ANIMALS} animals, {N_ARMS} arms, "
        f"covariates volume + weight, {repeats} seeds"
    )
    print(f"{'figure':<44}{'value':>12}{'ratio to 2 s':>16}")
    print(
        f"{'preview_randomization, median (s)':<44}{median:>12.3f}{median / TARGET_SECONDS:>16.2f}"
    )
    print(
        f"{'preview_randomization, slowest (s)':<44}{max(times):>12.3f}"
        f"{max(times) / TARGET_SECONDS:>16.2f}"
    )
    print(
        f"{f'apply_randomization + {tasks} tasks, median (s)':<44}{apply_seconds:>12.3f}"
        f"{apply_seconds / TARGET_SECONDS:>16.2f}"
    )
    print(
        f"{'apply_randomization, slowest (s)':<44}{max(apply_times):>12.3f}"
        f"{max(apply_times) / TARGET_SECONDS:>16.2f}"
    )
    if apply_cpu:
        cpu = statistics.median(apply_cpu)
        print(
            f"{'apply_randomization CPU, client + server (s)':<44}{cpu:>12.3f}"
            f"{cpu / TARGET_SECONDS:>16.2f}"
        )
    print(f"{'load average (1 min) at the end':<44}{os.getloadavg()[0]:>12.2f}")
    total = median + apply_seconds
    print(f"{'preview + apply, medians (s)':<44}{total:>12.3f}{total / TARGET_SECONDS:>16.2f}")
    print(f"{'largest SMD (volume, weight), worst seed':<44}{max(smds):>12.4f}")


if __name__ == "__main__":
    main()
