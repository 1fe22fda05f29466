# ruff: noqa: RUF001, RUF003  (report text is typeset: −, ×, – and γ are intended)
"""A seeded, realistic synthetic study (CT26-like syngeneic model) as a :class:`ReportInput`.

Used by the tests, the benchmark and demos: it exercises every section of a report without a
database. Biology, roughly after published CT26 BALB/c studies: tumours start at ~80–120 mm³ at
randomization and grow exponentially (vehicle doubling time ~3 days) with animal-to-animal
variation in rate and lognormal caliper noise; the animals reach the 2,000 mm³ volume endpoint
(or an ulceration endpoint, or are found dead) and leave; the combination arm regresses, with
some complete responders. Measurements on a Monday–Wednesday–Friday rhythm; two randomization
batches a day apart. All randomness comes from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from labnotes.reports.model import (
    AnalysisOptions,
    Animal,
    AnimalFlow,
    Arm,
    ArriveItem,
    AssayRow,
    BodyWeightRow,
    CountWithReason,
    GrowthRow,
    LogEntry,
    ReportInput,
    Signature,
    SurvivalRow,
    SynergyArms,
)

ENDPOINT_MM3 = 2000.0

ARRIVE_ESSENTIAL_10 = (
    ("1", "Study design"),
    ("2", "Sample size"),
    ("3", "Inclusion and exclusion criteria"),
    ("4", "Randomisation"),
    ("5", "Blinding/masking"),
    ("6", "Outcome measures"),
    ("7", "Statistical methods"),
    ("8", "Experimental animals"),
    ("9", "Experimental procedures"),
    ("10", "Results"),
)


@dataclass(frozen=True)
class ArmBiology:
    """Per-day log growth rate before and after ``switch_day`` (regression, then regrowth)."""

    early_rate: float
    late_rate: float
    switch_day: float
    complete_response_probability: float = 0.0


DEFAULT_BIOLOGY = (
    ArmBiology(0.23, 0.23, 0.0),
    ArmBiology(0.16, 0.16, 0.0),
    ArmBiology(0.18, 0.18, 0.0),
    ArmBiology(-0.12, 0.08, 12.0, complete_response_probability=0.3),
)


def measurement_days(count: int) -> tuple[int, ...]:
    """Monday–Wednesday–Friday days since treatment start: 0, 3, 5, 7, 10, 12, 14, 17 …"""
    days = [0]
    steps = (3, 2, 2)
    while len(days) < count:
        days.append(days[-1] + steps[(len(days) - 1) % 3])
    return tuple(days)


def synthetic_study(
    *,
    arm_names: Sequence[str] = ("Vehicle", "Drug A", "Drug B", "Drug A + Drug B"),
    animals_per_arm: int = 10,
    time_points: int = 12,
    seed: int = 20250817,
    blinded: bool = False,
    regimens: Sequence[str] | None = None,
    options: AnalysisOptions | None = None,
    plan_differences: Sequence[str] = (),
    kind: str = "final",
    with_survival: bool = True,
    with_body_weight: bool = True,
    with_assays: bool = True,
    with_contralateral: bool = False,
) -> ReportInput:
    """A study with ``len(arm_names)`` arms (the first is the vehicle control).

    With four arms the design is control / A / B / A + B and synergy arms are set; with more arms
    the extra arms get single-agent growth rates between the control's and drug A's. One control
    animal is found dead; one drug-A animal reaches an ulceration endpoint.
    """
    rng = np.random.default_rng(seed)
    names = tuple(arm_names)
    if regimens is None:
        regimens = (
            "vehicle 10 mL/kg p.o. QD×14",
            *(f"{name} 10 mg/kg i.p. Q3D×4" for name in names[1:]),
        )
    biology = [
        DEFAULT_BIOLOGY[k]
        if len(names) == 4 or k == 0
        else ArmBiology(0.23 - 0.07 * k / len(names), 0.23 - 0.07 * k / len(names), 0.0)
        for k in range(len(names))
    ]
    days = measurement_days(time_points)
    arms = tuple(Arm(name, k == 0, animals_per_arm, regimens[k]) for k, name in enumerate(names))
    animals: list[Animal] = []
    growth: list[GrowthRow] = []
    weights: list[BodyWeightRow] = []
    survival: list[SurvivalRow] = []
    assays: list[AssayRow] = []
    endpoint_causes: dict[str, int] = {}
    last_day = days[-1]
    number = 0
    for k, name in enumerate(names):
        bio = biology[k]
        for _ in range(animals_per_arm):
            number += 1
            animal_id = f"M{number:03d}"
            v0 = float(rng.uniform(80.0, 120.0))
            rate_shift = float(rng.normal(0.0, 0.025))
            complete = bool(rng.random() < bio.complete_response_probability)
            base_weight = float(rng.normal(20.0, 1.0))
            exit_day: float | None = None
            cause: str | None = None
            found_dead = k == 0 and number == 3
            ulcer = len(names) > 1 and k == 1 and number == animals_per_arm + 2
            for day in days:
                if day <= bio.switch_day:
                    log_v = math.log(v0) + (bio.early_rate + rate_shift) * day
                else:
                    log_v = (
                        math.log(v0)
                        + (bio.early_rate + rate_shift) * bio.switch_day
                        + (bio.late_rate + rate_shift) * (day - bio.switch_day)
                    )
                volume = math.exp(log_v + float(rng.normal(0.0, 0.12)))
                if complete and day >= 10:
                    volume = 0.0
                weight_change = (
                    -0.07 * math.sin(math.pi * min(day, 14) / 14)
                    if k == len(names) - 1 and day <= 14
                    else 0.004 * day
                )
                weight = base_weight * (1.0 + weight_change) + float(rng.normal(0.0, 0.2))
                growth.append(GrowthRow(animal_id, name, float(day), round(volume, 1)))
                if with_contralateral:
                    growth.append(
                        GrowthRow(
                            animal_id, name, float(day), round(volume * 0.4, 1), "contralateral"
                        )
                    )
                weights.append(BodyWeightRow(animal_id, name, float(day), round(weight, 2)))
                if found_dead and day >= 7:
                    exit_day, cause = float(day), "found dead"
                    break
                if ulcer and day >= 10:
                    exit_day, cause = float(day), "tumour ulceration"
                    break
                if volume >= ENDPOINT_MM3:
                    exit_day, cause = float(day), "tumour volume ≥ 2000 mm³"
                    break
            if cause is not None:
                endpoint_causes[cause] = endpoint_causes.get(cause, 0) + 1
            status = (
                ("found dead" if cause == "found dead" else "endpoint")
                if cause
                else ("end of study")
            )
            animals.append(Animal(animal_id, name, 10 + (number % 2), status, cause, exit_day))
            survival.append(
                SurvivalRow(
                    animal_id,
                    name,
                    exit_day if exit_day is not None else float(last_day),
                    1 if cause else 0,
                    cause or "end of study",
                )
            )
            if with_assays and number % 2 == 0:
                assays.append(
                    AssayRow(
                        "elisa",
                        "IFN-γ",
                        animal_id,
                        name,
                        round(float(rng.lognormal(3.0 + 0.3 * k, 0.3)), 1),
                        "pg/mL",
                        study_day=10,
                        timing="scheduled",
                        tissue="serum",
                        sample=f"S-{animal_id}",
                    )
                )
                assays.append(
                    AssayRow(
                        "flow",
                        "CD8+ of CD45+",
                        animal_id,
                        name,
                        round(float(rng.normal(8 + 4 * k, 2)), 1),
                        "%",
                        study_day=10,
                        timing="scheduled",
                        tissue="tumour",
                        sample=f"T-{animal_id}",
                    )
                )
            if with_assays and number % 2 == 1 and exit_day is not None:
                # Serum taken at the endpoint: a different day for every animal, not compared.
                assays.append(
                    AssayRow(
                        "elisa",
                        "IFN-γ",
                        animal_id,
                        name,
                        round(18.0 + 3.0 * k + number % 5, 1),
                        "pg/mL",
                        study_day=10 + (number % 2) + int(exit_day),
                        timing="endpoint",
                        tissue="serum",
                        sample=f"E-{animal_id}",
                    )
                )
    n_total = len(animals)
    synergy = SynergyArms(names[0], names[1], names[2], names[3]) if len(names) == 4 else None
    if options is None:
        options = AnalysisOptions(
            tgi_definition="delta", synergy_arms=synergy, bootstrap_resamples=1000
        )
    flow = AnimalFlow(
        received=n_total + 6,
        implanted=n_total + 4,
        enrolled=n_total + 2,
        randomized=n_total,
        excluded=(
            CountWithReason("tumour outside 80–120 mm³ at randomization", 2),
            CountWithReason("ulcerated before randomization", 2),
        ),
        satellite=2,
        endpoint_by_cause=tuple(CountWithReason(c, n) for c, n in sorted(endpoint_causes.items())),
        analysed=n_total,
    )
    arrive = tuple(
        ArriveItem(
            number_,
            item,
            None
            if number_ == "5" and not blinded
            else f"{item}: recorded in the study design and run records.",
        )
        for number_, item in ARRIVE_ESSENTIAL_10
    )
    return ReportInput(
        study_code="ST-0042",
        study_title="CT26 syngeneic efficacy: single agents and combination",
        run_code="RUN-0042-01",
        day0=dt.date(2025, 3, 3),
        kind="final" if kind == "final" else "interim",
        generated_by="A. Researcher",
        generated_at=dt.datetime(2025, 4, 14, 9, 30, tzinfo=dt.UTC),
        data_hash="sha256:3f5a9c0d1e2b4a6c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e",
        arms=arms,
        animals=tuple(animals),
        options=options,
        objective="Compare tumour growth and survival under two agents alone and combined.",
        hypothesis="The combination inhibits CT26 growth more than either agent alone.",
        exploratory=bool(plan_differences),
        plan_differences=tuple(plan_differences),
        blinded=blinded,
        software_versions=(("vivolog", "0.1.0"), ("numpy", np.__version__)),
        growth=tuple(growth),
        body_weight=tuple(weights) if with_body_weight else (),
        survival=tuple(survival) if with_survival else (),
        survival_definition=(
            "time from treatment start to a humane endpoint (tumour volume ≥ 2000 mm³, "
            "ulceration) or death; animals alive at the end of the study are censored"
        ),
        assays=tuple(assays),
        flow=flow,
        arrive=arrive,
        deviations=(
            LogEntry(
                dt.date(2025, 3, 20),
                "Day 7 measurement of M014 taken 1 day late",
                "caliper out of calibration",
                "B. Tech",
            ),
        ),
        corrections=(
            LogEntry(
                dt.date(2025, 3, 25),
                "M021 day 10 width corrected 6.1 → 6.7 mm",
                "transcription error",
                "B. Tech",
            ),
        ),
        amendments=(
            LogEntry(
                dt.date(2025, 3, 1),
                "Endpoint volume lowered to 2000 mm³",
                "ethics committee request",
                "Study director",
            ),
        ),
        signatures=(Signature("Study director", "A. Researcher"), Signature("Quality assurance")),
    )


__all__ = ["ARRIVE_ESSENTIAL_10", "ENDPOINT_MM3", "measurement_days", "synthetic_study"]
