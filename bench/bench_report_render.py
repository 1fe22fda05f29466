"""Benchmark: every report artifact (results, HTML, PDF, XLSX, bundle) for synthetic studies.

Targets (issue 8): the demo-sized run (4 arms x 10 animals x 12 time points) in at most 10 s; a
10-arm x 15-animal x 30-time-point run in at most 30 s; and time growing at most linearly with
the number of animals (3 sizes at 30 time points: 5, 10 and 15 animals per arm, 10 arms).
Not a test: prints a table of seconds per step, the ratio to the target, and the time per
animal across sizes. Run on an otherwise idle machine for comparable figures:

    .venv/bin/python bench/bench_report_render.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from labnotes.reports.bundle import render_bundle  # noqa: E402
from labnotes.reports.html import render_html  # noqa: E402
from labnotes.reports.pdf import render_pdf  # noqa: E402
from labnotes.reports.results import compute_results  # noqa: E402
from labnotes.reports.synthetic import synthetic_study  # noqa: E402
from labnotes.reports.xlsx import render_xlsx  # noqa: E402

DEMO_TARGET_SECONDS = 10.0
LARGE_TARGET_SECONDS = 30.0


def arm_names(count: int) -> tuple[str, ...]:
    if count == 4:
        return ("Vehicle", "Drug A", "Drug B", "Drug A + Drug B")
    return ("Vehicle", *(f"Drug {k}" for k in range(1, count)))


def measure(arms: int, animals: int, time_points: int) -> dict[str, float]:
    """Seconds per step for one synthetic study (bootstrap 2,000 resamples, as planned)."""
    from labnotes.reports.model import AnalysisOptions, SynergyArms

    names = arm_names(arms)
    synergy = SynergyArms(*names) if arms == 4 else None
    study = synthetic_study(
        arm_names=names,
        animals_per_arm=animals,
        time_points=time_points,
        options=AnalysisOptions(tgi_definition="delta", synergy_arms=synergy),
    )
    steps: dict[str, float] = {}
    cpu_start = time.process_time()
    start = time.perf_counter()
    results = compute_results(study)
    steps["results"] = time.perf_counter() - start
    mark = time.perf_counter()
    html = render_html(study, results)
    steps["html"] = time.perf_counter() - mark
    mark = time.perf_counter()
    render_pdf(html)
    steps["pdf"] = time.perf_counter() - mark
    mark = time.perf_counter()
    render_xlsx(study, results)
    steps["xlsx"] = time.perf_counter() - mark
    mark = time.perf_counter()
    render_bundle(study, results)
    steps["bundle"] = time.perf_counter() - mark
    steps["total"] = time.perf_counter() - start
    steps["cpu"] = time.process_time() - cpu_start
    return steps


def main() -> int:
    print(
        f"load average before: {os.getloadavg()[0]:.2f} (2-core machine; wall times grow "
        "with other processes' load, CPU seconds do not)"
    )
    measure(4, 4, 6)  # warm-up: imports and font loading are not part of a report
    rows: list[tuple[str, int, dict[str, float], float | None]] = []
    cases = [
        ("demo 4 x 10 x 12", 4, 10, 12, DEMO_TARGET_SECONDS),
        ("10 x 5 x 30", 10, 5, 30, None),
        ("10 x 10 x 30", 10, 10, 30, None),
        ("10 x 15 x 30", 10, 15, 30, LARGE_TARGET_SECONDS),
    ]
    failed = False
    print(
        f"{'case':<18}{'animals':>8}{'results':>9}{'html':>7}{'pdf':>7}{'xlsx':>7}"
        f"{'bundle':>8}{'total s':>9}{'cpu s':>7}{'target':>8}{'ratio':>7}"
    )
    for name, arms, animals, points, target in cases:
        steps = measure(arms, animals, points)
        ratio = steps["total"] / target if target else None
        failed |= ratio is not None and ratio > 1.0
        rows.append((name, arms * animals, steps, ratio))
        print(
            f"{name:<18}{arms * animals:>8}{steps['results']:>9.2f}{steps['html']:>7.2f}"
            f"{steps['pdf']:>7.2f}{steps['xlsx']:>7.2f}{steps['bundle']:>8.2f}"
            f"{steps['total']:>9.2f}{steps['cpu']:>7.2f}"
            f"{(f'{target:.0f}' if target else '-'):>8}"
            f"{(f'{ratio:.2f}' if ratio is not None else '-'):>7}"
        )
    scaling = [(n, steps["total"]) for name, n, steps, _ in rows if name.startswith("10 x")]
    base_n, base_t = scaling[0]
    print("\nscaling at 10 arms x 30 time points (linear growth means time ratio <= animal ratio)")
    for n, seconds in scaling:
        print(
            f"  {n:>4} animals: {seconds:6.2f} s, {1000 * seconds / n:6.1f} ms/animal, "
            f"animals x{n / base_n:.1f} -> time x{seconds / base_t:.2f}"
        )
        failed |= seconds / base_t > 1.15 * n / base_n
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
