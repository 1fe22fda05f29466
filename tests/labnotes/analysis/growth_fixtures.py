"""Seeded synthetic tumour growth studies for the growth and synergy tests and the benchmark.

Volumes follow exponential growth with a per-animal random growth rate and log-normal
measurement noise, the generating model of SynergyLMM's ``simulateTumorGrowth``. Every study is
fully determined by its seed.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labnotes.analysis.growth_data import GrowthData, build_growth_data


@dataclass(frozen=True)
class Measurement:
    animal: str
    group: str
    day: float
    volume_mm3: float


def simulate_study(
    *,
    seed: int,
    growth_rates: Mapping[str, float],
    animals_per_group: int = 8,
    days: Sequence[float] = tuple(range(0, 31, 3)),
    baseline_mm3: float = 150.0,
    rate_sd: float = 0.01,
    noise_sd: float = 0.15,
    endpoint_mm3: float | None = None,
    missing_fraction: float = 0.0,
) -> list[Measurement]:
    """One row per measurement. ``endpoint_mm3``: an animal leaves after its first volume above
    it (humane endpoint, so large control tumours drop out); ``missing_fraction``: share of
    post-baseline measurements deleted at random (missed caliper days)."""
    rng = np.random.default_rng(seed)
    rows: list[Measurement] = []
    number = 0
    for group, rate in growth_rates.items():
        for _ in range(animals_per_group):
            number += 1
            animal = f"M{number}"
            v0 = baseline_mm3 * math.exp(rng.normal(0.0, 0.2))
            slope = rate + rng.normal(0.0, rate_sd)
            for k, day in enumerate(days):
                t = day - days[0]
                volume = v0 * math.exp(slope * t + (rng.normal(0.0, noise_sd) if k else 0.0))
                if k and rng.random() < missing_fraction:
                    continue
                rows.append(Measurement(animal, group, float(day), volume))
                if endpoint_mm3 is not None and volume > endpoint_mm3:
                    break
    return rows


def to_growth_data(rows: Sequence[Measurement]) -> GrowthData:
    return build_growth_data(
        [r.animal for r in rows],
        [r.group for r in rows],
        [r.day for r in rows],
        [r.volume_mm3 for r in rows],
    )


def write_growth_csv(path: Path, rows: Sequence[Measurement]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["animal", "group", "day", "volume_mm3"])
        for r in rows:
            day = int(r.day) if float(r.day).is_integer() else r.day
            writer.writerow([r.animal, r.group, day, repr(r.volume_mm3)])
    return path


def write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """A small hand-written CSV (for error and edge-case tests)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
