"""Benchmark: a report job's work — every artifact (results, HTML, PDF, XLSX, bundle) — by size.

Targets (issue 8; issue 9 for the assay case): the demo-sized run (4 arms x 10 animals x 12
time points) in at most 10 s;
a 10-arm x 15-animal x 30-time-point run in at most 30 s; time growing at most linearly with the
number of animals (10 arms x 30 time points at 5, 10 and 15 animals per arm); the 10 x 15 x 30
run with 2 ELISA plates and 150 flow samples in at most 30 s. Each case is built
``--repeats`` times (default 3) and the median reported, with CPU seconds (wall time on this
2-core machine grows with other processes' load; CPU time does not).

With ``--database`` (Django settings from the environment, the demo loaded by
``manage.py reset_demo``) it also times the database part of a job for the demo run — reading
the run's counted data and building the report input — and that plus every artifact (the job's
work without claiming and storing).

    .venv/bin/python bench/bench_report_job.py [--repeats 3] [--database]

Not a test: prints a table of seconds and ratios; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402

from labnotes.reports import build_report  # noqa: E402
from labnotes.reports.model import (  # noqa: E402
    AnalysisOptions,
    AssayRow,
    ReportInput,
    SynergyArms,
)
from labnotes.reports.synthetic import synthetic_study  # noqa: E402

DEMO_TARGET_SECONDS = 10.0
LARGE_TARGET_SECONDS = 30.0


def arm_names(count: int) -> tuple[str, ...]:
    if count == 4:
        return ("Vehicle", "Drug A", "Drug B", "Drug A + Drug B")
    return ("Vehicle", *(f"Drug {k}" for k in range(1, count)))


def one_build(arms: int, animals: int, time_points: int) -> tuple[float, float]:
    """Wall and CPU seconds of every artifact of one synthetic study (2,000 bootstrap draws)."""
    names = arm_names(arms)
    study = synthetic_study(
        arm_names=names,
        animals_per_arm=animals,
        time_points=time_points,
        options=AnalysisOptions(
            tgi_definition="delta", synergy_arms=SynergyArms(*names) if arms == 4 else None
        ),
    )
    cpu, wall = time.process_time(), time.perf_counter()
    build_report(study)
    return time.perf_counter() - wall, time.process_time() - cpu


FLOW_STATISTICS = (
    ("CD3+ of CD45+", 30.0),
    ("CD4+ of CD3+", 55.0),
    ("CD8+ of CD3+", 35.0),
    ("CD8+ of CD45+", 10.0),
    ("Treg of CD4+", 12.0),
    ("CD8/Treg ratio", 4.0),
)


def with_assay_results(
    study: ReportInput, *, plates: int = 2, flow_samples: int = 150
) -> ReportInput:
    """Issue 9's benchmark load: ``plates`` ELISA plates (40 samples each, serum, day 10) and
    ``flow_samples`` flow samples (tumour and spleen) with six panel statistics each; one animal in
    five sampled at its endpoint instead of the scheduled day."""
    rng = np.random.default_rng(9)
    animals = list(study.animals)
    rows: list[AssayRow] = []
    for index in range(plates * 40):
        animal = animals[index % len(animals)]
        rows.append(
            AssayRow(
                "elisa",
                "IFN-gamma",
                animal.animal_id,
                animal.arm,
                round(float(rng.lognormal(5.0, 0.5)), 1),
                "pg/mL",
                study_day=10,
                timing="scheduled",
                tissue="serum",
                sample=f"E{index}",
            )
        )
    for index in range(flow_samples):
        animal = animals[(index // 2) % len(animals)]
        endpoint = index % 10 >= 8
        for statistic, centre in FLOW_STATISTICS:
            rows.append(
                AssayRow(
                    "flow",
                    statistic,
                    animal.animal_id,
                    animal.arm,
                    round(float(abs(rng.normal(centre, centre / 4))), 2),
                    "%",
                    study_day=30 if endpoint else 10,
                    timing="endpoint" if endpoint else "scheduled",
                    tissue="tumour" if index % 2 == 0 else "spleen",
                    sample=f"F{index}",
                )
            )
    return dataclasses.replace(study, assays=tuple(rows))


def assay_build(arms: int, animals: int, time_points: int) -> tuple[float, float, int]:
    """Wall and CPU seconds of every artifact with issue 9's assay load, and its assay rows."""
    names = arm_names(arms)
    study = with_assay_results(
        synthetic_study(
            arm_names=names,
            animals_per_arm=animals,
            time_points=time_points,
            with_assays=False,
            options=AnalysisOptions(tgi_definition="delta"),
        )
    )
    cpu, wall = time.process_time(), time.perf_counter()
    build_report(study)
    return time.perf_counter() - wall, time.process_time() - cpu, len(study.assays)


def database_figures(repeats: int) -> list[tuple[str, float]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.utils import timezone

    from labnotes.demo import DEMO_RUN_CODE
    from labnotes.models import StudyRun
    from labnotes.services.report_input import (
        build_report_input,
        plan_options,
        snapshot_run,
    )
    from labnotes.services.reports import build_artifacts

    run = StudyRun.objects.filter(code=DEMO_RUN_CODE).select_related("study").first()
    if run is None:
        print("no demo run in this database: run manage.py reset_demo first")
        return []
    reading: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        snapshot = snapshot_run(run)
        build_report_input(
            run=run,
            snapshot=snapshot,
            kind="final",
            blinded=False,
            options=plan_options(run.study, snapshot),
            generated_by="bench",
            generated_at=timezone.now(),
        )
        reading.append(time.perf_counter() - start)
    import tempfile

    whole: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        snapshot = snapshot_run(run)
        report_input = build_report_input(
            run=run,
            snapshot=snapshot,
            kind="final",
            blinded=False,
            options=plan_options(run.study, snapshot),
            generated_by="bench",
            generated_at=timezone.now(),
        )
        with tempfile.TemporaryDirectory() as directory:
            build_artifacts(report_input, Path(directory), lambda percent, step: None)
        whole.append(time.perf_counter() - start)
    return [
        ("demo run: read data + build input (median)", statistics.median(reading)),
        ("demo run: data + every artifact (median)", statistics.median(whole)),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database", action="store_true")
    args = parser.parse_args()
    print(
        f"load average before: {os.getloadavg()[0]:.2f} (2-core machine); "
        f"median of {args.repeats} builds per case"
    )
    one_build(4, 4, 6)  # warm-up: imports and font loading are not part of a report
    cases = [
        ("demo 4 x 10 x 12", 4, 10, 12, DEMO_TARGET_SECONDS),
        ("10 x 5 x 30", 10, 5, 30, None),
        ("10 x 10 x 30", 10, 10, 30, None),
        ("10 x 15 x 30", 10, 15, 30, LARGE_TARGET_SECONDS),
    ]
    failed = False
    print(
        f"{'case':<18}{'animals':>8}{'median s':>10}{'min s':>8}{'cpu s':>8}"
        f"{'target':>8}{'ratio':>7}"
    )
    scaling: list[tuple[int, float]] = []
    for name, arms, animals, points, target in cases:
        runs = [one_build(arms, animals, points) for _ in range(args.repeats)]
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        ratio = wall / target if target else None
        failed |= ratio is not None and ratio > 1.0
        if name.startswith("10 x"):
            scaling.append((arms * animals, wall))
        print(
            f"{name:<18}{arms * animals:>8}{wall:>10.2f}{min(w for w, _ in runs):>8.2f}"
            f"{cpu:>8.2f}{(f'{target:.0f}' if target else '-'):>8}"
            f"{(f'{ratio:.2f}' if ratio is not None else '-'):>7}"
        )
    base_n, base_t = scaling[0]
    print("\nscaling at 10 arms x 30 time points (linear: time ratio <= animal ratio)")
    for n, seconds in scaling:
        print(
            f"  {n:>4} animals: {seconds:6.2f} s, {1000 * seconds / n:6.1f} ms/animal, "
            f"animals x{n / base_n:.1f} -> time x{seconds / base_t:.2f}"
        )
        failed |= seconds / base_t > 1.15 * n / base_n
    assay_runs = [assay_build(10, 15, 30) for _ in range(args.repeats)]
    assay_wall = statistics.median(w for w, _, _ in assay_runs)
    failed |= assay_wall > LARGE_TARGET_SECONDS
    print(
        f"\n10 x 15 x 30 with 2 ELISA plates and 150 flow samples ({assay_runs[0][2]} assay rows): "
        f"{assay_wall:.2f} s median, cpu {statistics.median(c for _, c, _ in assay_runs):.2f} s, "
        f"target {LARGE_TARGET_SECONDS:.0f} s, ratio {assay_wall / LARGE_TARGET_SECONDS:.2f}"
    )
    if args.database:
        print()
        for label, seconds in database_figures(args.repeats):
            print(f"{label:<46}{seconds:8.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
