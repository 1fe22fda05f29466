"""Benchmark: balance randomization of 200 animals into 10 arms (issue 5 target: at most 2 s).

Run: ``.venv/bin/python bench/bench_randomization.py [--repeats N]``. Prints the median wall time
of repeated runs (each with its own seed, default candidate count and swap rounds) and the ratio
to the 2 s target, plus the balance reached.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labnotes.analysis.randomization import (
    DEFAULT_CANDIDATES,
    DEFAULT_REFINE_ROUNDS,
    Cohort,
    balance_table,
    randomize_balanced,
)

TARGET_SECONDS = 2.0
N_ANIMALS = 200
N_ARMS = 10


def _cohort(seed: int) -> Cohort:
    rng = np.random.default_rng(seed)
    return Cohort(
        animals=tuple(f"M{i:03d}" for i in range(N_ANIMALS)),
        volume_mm3=rng.lognormal(np.log(120.0), 0.3, N_ANIMALS),
        weight_g=rng.normal(20.0, 1.5, N_ANIMALS),
        cage=tuple(f"C{i // 5:02d}" for i in range(N_ANIMALS)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    cohort = _cohort(2024)
    randomize_balanced(cohort, N_ARMS, np.random.default_rng(0), candidates=100)  # warm-up
    timings: list[float] = []
    worst_smd: list[float] = []
    for repeat in range(args.repeats):
        started = time.perf_counter()
        allocation = randomize_balanced(cohort, N_ARMS, np.random.default_rng(repeat))
        timings.append(time.perf_counter() - started)
        table = balance_table(cohort, allocation.arm, N_ARMS)
        worst_smd.append(max(v for v in table.largest_smd.values() if v is not None))
    median = statistics.median(timings)
    print(
        f"balance randomization, {N_ANIMALS} animals -> {N_ARMS} arms, volume + weight, "
        f"{DEFAULT_CANDIDATES} candidates + up to {DEFAULT_REFINE_ROUNDS} swap rounds, "
        f"numpy {np.__version__}"
    )
    print(f"{'figure':<34}{'value':>12}")
    print(f"{'runs':<34}{args.repeats:>12d}")
    print(f"{'median wall time (s)':<34}{median:>12.3f}")
    print(f"{'min / max (s)':<34}{min(timings):>6.3f}/{max(timings):.3f}")
    print(f"{'target (s)':<34}{TARGET_SECONDS:>12.1f}")
    print(f"{'ratio median / target':<34}{median / TARGET_SECONDS:>12.3f}")
    print(f"{'median largest SMD reached':<34}{statistics.median(worst_smd):>12.4f}")


if __name__ == "__main__":
    main()
