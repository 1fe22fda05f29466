"""Benchmark: the run documents at realistic sizes (issue 5 targets: each at most 3 s).

Run: ``.venv/bin/python bench/bench_documents.py [--repeats N]``. Prints the median wall time of
repeated renderings (HTML building plus WeasyPrint layout and PDF writing, after one warm-up) of
a daily worksheet for 200 animals and cage cards for 50 cages in both sizes, each with its ratio
to the 3 s target and its page count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import weasyprint

from labnotes.documents import (
    CageCard,
    CardAnimal,
    Worksheet,
    WorksheetRow,
    render_cage_cards_pdf,
    render_worksheet_pdf,
)

TARGET_SECONDS = 3.0
N_ANIMALS = 200
N_CAGES = 50
PER_CAGE = 5
STATUSES = ("ok", "ok", "ok", "approaching", "reached")


def _worksheet(*, dosers_copy: bool) -> Worksheet:
    rows = tuple(
        WorksheetRow(
            rack=f"R{i // 50 + 1}",
            cage_label=f"C-{i // PER_CAGE + 1:02d}",
            tag=f"900182000{i:06d}" if i % 3 == 0 else f"M{i:03d}",
            arm_display=f"K{i % 10}Q",
            last_length_mm=8.0 + (i % 17) / 3,
            last_width_mm=5.0 + (i % 11) / 4,
            last_weight_g=19.0 + (i % 13) / 5,
            last_measured_on=dt.date(2025, 3, 3),
            endpoint_status=STATUSES[i % 5],  # type: ignore[arg-type]
            tasks=("Measure tumour", "Weigh", *(("Observe wound",) if i % 4 == 0 else ())),
            dose_volume_ul=200.0 + i % 9,
        )
        for i in range(N_ANIMALS)
    )
    return Worksheet(
        lab_name="Tumour Pharmacology Lab",
        study_code="CT26-EFF-2025-03",
        run_code="R1",
        day=dt.date(2025, 3, 4),
        study_day=14,
        room="B2.14",
        prepared_for="Alex Doe",
        dosers_copy=dosers_copy,
        rows=rows,
    )


def _cards() -> list[CageCard]:
    return [
        CageCard(
            study_code="CT26-EFF-2025-03",
            run_code="R1",
            cage_label=f"C-{cage:02d}",
            room="B2.14",
            rack=f"R{cage // 13 + 1}",
            arm_display=f"K{cage % 10}Q",
            ethics_protocol_number="AEC-2024-0113",
            animals=tuple(
                CardAnimal(f"900182000{cage * PER_CAGE + i:06d}", "F", dt.date(2025, 1, 2))
                for i in range(PER_CAGE)
            ),
            qr_url=f"https://vivolog.example.org/labnotes/cages/{1000 + cage}/",
        )
        for cage in range(1, N_CAGES + 1)
    ]


def _time(render: Callable[[], bytes], repeats: int) -> tuple[float, float, float, float, int]:
    """Median, min and max wall seconds, median CPU seconds of this process, page count.

    Rendering is single-threaded, so on an idle machine wall time and CPU time agree; on a
    shared one the CPU figure is the one to compare with the target.
    """
    pdf = render()  # warm-up: fonts and templates load once per process
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        render()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return (
        statistics.median(wall),
        min(wall),
        max(wall),
        statistics.median(cpu),
        _page_count(pdf),
    )


def _page_count(pdf: bytes) -> int:
    """Pages as poppler's ``pdfinfo`` reads them (-1 when poppler-utils is missing)."""
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        return -1
    result = subprocess.run([pdfinfo, "-"], input=pdf, capture_output=True, check=True)
    found = re.search(rb"^Pages:\s+(\d+)", result.stdout, flags=re.MULTILINE)
    return int(found.group(1)) if found else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cards = _cards()
    cases: list[tuple[str, Callable[[], bytes]]] = [
        (
            f"worksheet, {N_ANIMALS} animals",
            lambda: render_worksheet_pdf(_worksheet(dosers_copy=False)),
        ),
        (
            f"worksheet, {N_ANIMALS} animals, dosers",
            lambda: render_worksheet_pdf(_worksheet(dosers_copy=True)),
        ),
        (
            f"cage cards, {N_CAGES} cages, A4 sheets",
            lambda: render_cage_cards_pdf(cards, size="cage_card"),
        ),
        (
            f"cage cards, {N_CAGES} cages, thermal",
            lambda: render_cage_cards_pdf(cards, size="thermal_label"),
        ),
    ]
    print(f"WeasyPrint {weasyprint.__version__}, {args.repeats} timed runs after one warm-up")
    print(
        f"{'document':<38}{'wall med s':>11}{'min s':>8}{'max s':>8}{'cpu med s':>10}"
        f"{'pages':>7}{'wall/tgt':>9}{'cpu/tgt':>9}"
    )
    for name, render in cases:
        median, low, high, cpu, page_count = _time(render, args.repeats)
        print(
            f"{name:<38}{median:>11.3f}{low:>8.3f}{high:>8.3f}{cpu:>10.3f}{page_count:>7d}"
            f"{median / TARGET_SECONDS:>9.3f}{cpu / TARGET_SECONDS:>9.3f}"
        )
    print(f"target: each at most {TARGET_SECONDS:.1f} s")


if __name__ == "__main__":
    main()
