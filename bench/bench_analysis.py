"""Benchmark: growth + TGI + survival + synergy (TGI and LMM) on a 10-arm study.

10 arms x 15 animals x 30 measurement days (seeded), through the same ``run(args)`` functions the
``analyze`` command calls, so CSV parsing is included. Target (issue 7): at most 2 s in total.
Not a test: prints a table of seconds per step and the ratio to the target.

    .venv/bin/python bench/bench_analysis.py
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from labnotes.analysis import growth, synergy  # noqa: E402

TARGET_SECONDS = 2.0
ARMS = 10
ANIMALS = 15
DAYS = tuple(range(0, 90, 3))  # 30 measurement days
ENDPOINT_MM3 = 2000.0


def write_study(directory: Path, seed: int = 20250101) -> tuple[Path, Path]:
    """Growth CSV and a survival CSV (time to the 2,000 mm3 endpoint) of one seeded study."""
    rng = np.random.default_rng(seed)
    rates = np.linspace(0.06, 0.0, ARMS)
    names = ["Vehicle"] + [f"Arm {k}" for k in range(1, ARMS)]
    growth_path, survival_path = directory / "growth.csv", directory / "survival.csv"
    with growth_path.open("w", newline="") as g, survival_path.open("w", newline="") as s:
        growth_writer, survival_writer = csv.writer(g), csv.writer(s)
        growth_writer.writerow(["animal", "group", "day", "volume_mm3"])
        survival_writer.writerow(["animal", "group", "time_days", "event"])
        for arm, (name, rate) in enumerate(zip(names, rates, strict=True)):
            for i in range(ANIMALS):
                animal = f"A{arm:02d}-{i:02d}"
                v0 = 120.0 * math.exp(rng.normal(0, 0.2))
                slope = rate + rng.normal(0, 0.01)
                event_day, event = DAYS[-1], 0
                for day in DAYS:
                    noise = rng.normal(0, 0.15) if day else 0.0
                    volume = v0 * math.exp(slope * day + noise)
                    growth_writer.writerow([animal, name, day, f"{volume:.3f}"])
                    if volume > ENDPOINT_MM3 and not event:
                        event_day, event = day, 1
                survival_writer.writerow([animal, name, event_day, event])
    return growth_path, survival_path


def timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def namespace(module: object, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)  # type: ignore[attr-defined]
    if not any("--input" in action.option_strings for action in parser._actions):
        parser.add_argument("--input", required=True)  # the dispatcher adds it for some modules
    return parser.parse_args(argv)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        growth_csv, survival_csv = write_study(Path(tmp))
        arms = ["--control", "Vehicle", "--drug-a", "Arm 3", "--drug-b", "Arm 5"]
        arms += ["--combination", "Arm 9"]
        g = str(growth_csv)
        # Library import cost is not counted (paid once per process, not per analysis).
        import scipy.stats  # noqa: F401
        import statsmodels.regression.mixed_linear_model  # noqa: F401

        steps: list[tuple[str, Callable[[], object]]] = [
            ("growth: read + summaries + TGI + mRECIST",
             lambda: growth.run(namespace(growth, ["--input", g]))),
            ("growth: bootstrap TGI CIs (2,000)",
             lambda: growth.run(namespace(growth, ["--input", g, "--bootstrap", "2000"]))),
            ("growth: curves, delay, waterfall, ANOVA..Dunnett",
             lambda: _growth_extras(g)),
        ]  # fmt: skip
        try:
            from labnotes.analysis import survival

            steps.append(
                ("survival: KM + log-rank + Cox",
                 lambda: survival.run(namespace(survival, ["--input", str(survival_csv)])))
            )  # fmt: skip
        except ImportError:
            print("survival: not available")
        steps += [
            ("synergy tgi (bootstrap 2,000)",
             lambda: synergy.run(namespace(synergy, ["--input", g, *arms, "--model", "tgi"]))),
            ("synergy lmm --day 45 (2 fits)",
             lambda: synergy.run(namespace(
                 synergy, ["--input", g, *arms, "--model", "lmm", "--day", "45"]))),
            ("synergy lmm, every day (29 fits)",
             lambda: synergy.run(namespace(synergy, ["--input", g, *arms, "--model", "lmm"]))),
            ("synergy auc",
             lambda: synergy.run(namespace(synergy, ["--input", g, *arms, "--model", "auc"]))),
        ]  # fmt: skip
        figures = [(name, timed(step)) for name, step in steps]
    width = max(len(name) for name, _ in figures)
    rows = ARMS * ANIMALS * len(DAYS)
    print(f"study: {ARMS} arms x {ANIMALS} animals x {len(DAYS)} days ({rows} rows)")
    print(f"{'step':<{width}}  seconds")
    for name, seconds in figures:
        print(f"{name:<{width}}  {seconds:7.3f}")
    total = sum(seconds for _, seconds in figures)
    core = sum(s for n, s in figures if "every day" not in n and "bootstrap TGI" not in n)
    print(
        f"{'total (all steps)':<{width}}  {total:7.3f}   ratio to {TARGET_SECONDS:g} s: "
        f"{total / TARGET_SECONDS:.2f}"
    )
    print(f"{'total (issue 7 set: one lmm day)':<{width}}  {core:7.3f}   ratio to "
          f"{TARGET_SECONDS:g} s: {core / TARGET_SECONDS:.2f}")  # fmt: skip
    command_line_figures()


#: The command line starts without Django (a test checks that); its wall time from a fresh
#: process, the best of a few runs: target 1 s for --help and for a survival run.
CLI_TARGET_SECONDS = 1.0


def command_line_figures(repeats: int = 5) -> None:
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        _, survival_csv = write_study(Path(tmp))
        runs = {
            "python -m labnotes.analysis --help": ["--help"],
            "python -m labnotes.analysis survival (150 animals)": [
                "survival", "--input", str(survival_csv)],
        }  # fmt: skip
        print()
        print(f"{'command line, fresh process (best of ' + str(repeats) + ')':<52}  seconds")
        for label, args in runs.items():
            seconds = []
            for _ in range(repeats):
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "labnotes.analysis", *args],
                    cwd=REPO_ROOT, capture_output=True, check=True, timeout=120,
                )  # fmt: skip
                seconds.append(time.perf_counter() - started)
            best = min(seconds)
            print(f"{label:<52}  {best:7.3f}   ratio to {CLI_TARGET_SECONDS:g} s: "
                  f"{best / CLI_TARGET_SECONDS:.2f}")  # fmt: skip


def _growth_extras(path: str) -> None:
    from labnotes.analysis.growth_data import read_growth_csv

    data = read_growth_csv(path)
    growth.group_curves(data)
    growth.growth_delay(data, control="Vehicle", baseline_day=0)
    growth.best_percent_change(data, baseline_day=0)
    growth.compare_groups(data, day=45, control="Vehicle")


if __name__ == "__main__":
    main()
