"""The demo's ELISA: one accepted IFN-gamma plate of the satellites' takedown serum.

Called after the samples step in ``labnotes.demo._record_history``: it reads the satellite serum
samples taken at the planned takedown and records the ones missing (satellites the samples step
did not sample) with the samples service, lays out a plate from the study's ELISA protocol
version (7 standards and 2 blanks in duplicate, each sample at the protocol's dilutions in
duplicate), generates the ODs from a 4PL with realistic noise, imports them as a generic CSV
through the same import service as a user's file, and has the scientist accept it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
from django.utils import timezone

from labnotes.models import Animal, ElisaPlate, Sample, StudyRun, Task, TaskKind
from labnotes.services import elisa as elisa_services
from labnotes.services import samples as sample_services
from planner.models import StudyProcedure

logger = logging.getLogger(__name__)

DEMO_SEED = 20240610
PLATE_NAME = "IFN-01"
#: Serum IFN-gamma (pg/mL) the demo draws around, by arm label: IL-12 induces IFN-gamma.
TYPICAL_PG_PER_ML = {
    "Vehicle": 90.0,
    "IL-12": 900.0,
    "Cyclophosphamide": 120.0,
    "IL-12 + cyclophosphamide": 1600.0,
}
#: The 4PL of the demo's reader (blank-corrected OD) and its blank.
BOTTOM, TOP, EC50, HILL, BLANK_OD = 0.02, 2.9, 450.0, 1.15, 0.048


def _od(concentration: float) -> float:
    return float(BOTTOM + (TOP - BOTTOM) / (1.0 + (EC50 / concentration) ** HILL))


def _takedown_serum(run: StudyRun, users: dict[str, Any]) -> list[Sample]:
    """The takedown serum of every randomized satellite (recorded where it is missing and the
    takedown day has passed)."""
    now = timezone.now()
    zone = run.study.lab.zone
    chosen: list[Sample] = []
    satellites = Animal.objects.filter(run=run, is_satellite=True, arm__isnull=False).order_by(
        "arm__order", "tag"
    )
    for animal in satellites:
        existing = (
            Sample.objects.filter(animal=animal, tissue="serum", voided_at__isnull=True)
            .exclude(tissue_detail__startswith="pre-dose")
            .order_by("collected_at")
            .first()
        )
        if existing is not None:
            chosen.append(existing)
            continue
        takedown = (
            Task.objects.filter(animal=animal, kind=TaskKind.TAKEDOWN)
            .order_by("nominal_date")
            .first()
        )
        if takedown is None:
            continue
        day = takedown.date
        taken = dt.datetime(day.year, day.month, day.day, 10, 30, tzinfo=zone)
        if taken > now - dt.timedelta(minutes=5):
            continue
        task = next(
            (
                t
                for t in Task.objects.filter(animal=animal, kind=TaskKind.SAMPLE, status="due")
                .select_related("procedure__protocol_version__template")
                .order_by("nominal_date", "pk")
                if t.procedure and sample_services.procedure_tissue(t.procedure) == "serum"
            ),
            None,
        )
        chosen.append(
            sample_services.record_sample(
                animal=animal,
                tissue="serum",
                collected_at=taken,
                collected_by=users["tech_measure"],
                task=task,
                volume_ul="200",
                freezer="-80 °C freezer 2",
                rack="R3",
                box="CT26-ELISA",
                notes="Takedown serum for the IFN-gamma ELISA.",
            )
        )
    return chosen


def record_demo_elisa(run: StudyRun, users: dict[str, Any]) -> ElisaPlate | None:
    """One accepted IFN-gamma plate (idempotent: a run with a plate is left alone)."""
    if ElisaPlate.objects.filter(run=run).exists():
        return None
    procedure = (
        StudyProcedure.objects.filter(study=run.study, role="elisa")
        .select_related("protocol_version__template")
        .first()
    )
    if procedure is None:
        logger.info("demo: %s has no ELISA procedure; no plate", run.study.code)
        return None
    version = procedure.protocol_version
    parameters = elisa_services.elisa_parameters(version)
    samples = _takedown_serum(run, users)
    capacity = 80 // (len(parameters.sample_dilutions) * parameters.replicates)
    samples = samples[:capacity]
    if not samples:
        logger.info("demo: %s has no satellite serum yet; no ELISA plate", run)
        return None
    rng = np.random.default_rng(DEMO_SEED)
    wells: list[dict[str, Any]] = []
    ods: dict[str, float] = {}
    levels = parameters.standard_concentrations_pg_per_ml
    for row, level in zip("ABCDEFG", levels, strict=False):
        for column in (1, 2):
            name = f"{row}{column}"
            wells.append({"well": name, "role": "standard", "concentration_pg_per_ml": level})
            ods[name] = BLANK_OD + _od(level) * (1 + rng.normal(0, 0.02))
    for name in ("H1", "H2"):
        wells.append({"well": name, "role": "blank"})
        ods[name] = BLANK_OD * (1 + rng.normal(0, 0.03))
    free = iter(f"{row}{column}" for column in range(3, 13) for row in "ABCDEFGH")
    for sample in samples:
        arm = sample.animal.arm
        typical = TYPICAL_PG_PER_ML.get(arm.label if arm else "", 200.0)
        truth = typical * float(np.exp(rng.normal(0, 0.25)))
        for dilution in parameters.sample_dilutions:
            for _ in range(parameters.replicates):
                name = next(free)
                wells.append(
                    {"well": name, "role": "sample", "sample": sample.barcode, "dilution": dilution}
                )
                ods[name] = BLANK_OD + _od(truth / dilution) * (1 + rng.normal(0, 0.03))
    technician, scientist = users["tech_measure"], users["scientist"]
    plate = elisa_services.create_plate(
        run=run, protocol_version=version, name=PLATE_NAME, created_by=technician
    )
    plate = elisa_services.save_layout(plate=plate, wells=wells, changed_by=technician)
    lines = ["Demo reader export, absorbance 450 nm", "," + ",".join(map(str, range(1, 13)))]
    for row in "ABCDEFGH":
        cells = [
            f"{ods[f'{row}{column}']:.4f}" if f"{row}{column}" in ods else ""
            for column in range(1, 13)
        ]
        lines.append(row + "," + ",".join(cells))
    plate = elisa_services.import_reading(
        plate=plate,
        content=("\n".join(lines) + "\n").encode(),
        filename=f"{PLATE_NAME}_A450.csv",
        content_type="text/csv",
        imported_by=technician,
    )
    passed = bool(plate.fit.get("qc_passed"))
    reason = (
        "Standards recover within the protocol's limits and R² meets it: accepted."
        if passed
        else "Accepted for the demo although QC flagged: " + "; ".join(plate.fit["qc_failures"])
    )
    return elisa_services.decide_plate(
        plate=plate, accept=True, decided_by=scientist, reason=reason
    )
