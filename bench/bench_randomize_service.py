"""Benchmark: balance randomization of 200 animals into 10 arms through the service.

Run: ``.venv/bin/python bench/bench_randomize_service.py [--repeats N]`` with ``DATABASE_URL``
set (a throwaway ``test_…`` database is created and dropped). Times ``preview_randomization``
(snapshot of covariates, 5,000 candidates + swap refinement on volume and weight, balance table,
the batch row) over several seeds, then one ``apply_randomization`` (arms, treatment start and
the task schedule of 200 animals), and prints the figures with their ratio to the 2 s target.
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
N_ANIMALS = 200
N_ARMS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        _run(args.repeats)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _run(repeats: int) -> None:
    import numpy as np
    from django.utils import timezone

    from labnotes.models import Animal, Measurement, MeasurementKind, Tumour
    from labnotes.services.randomization import apply_randomization, preview_randomization
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
        start = time.perf_counter()
        apply_randomization(batch=batch, applied_by=design.scientist)
        apply_seconds = time.perf_counter() - start
        tasks = run.tasks.count()

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
        f"{f'apply_randomization + {tasks} tasks (s)':<44}{apply_seconds:>12.3f}"
        f"{apply_seconds / TARGET_SECONDS:>16.2f}"
    )
    print(f"{'largest SMD (volume, weight), worst seed':<44}{max(smds):>12.4f}")


if __name__ == "__main__":
    main()
