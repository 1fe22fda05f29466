"""labnotes' part of the demo: a randomized CT26 run with cages, tumours, staging readings and
today's tasks — written through the same services the pages and the API use."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from labnotes.models import StudyRun
from labnotes.services import animals as animal_services
from labnotes.services.measurements import record_measurement
from labnotes.services.randomization import apply_randomization, preview_randomization
from labnotes.services.runs import start_study_run
from planner.audit import ClientKind, audit_context
from planner.models import ProcedureRole, Study, StudyStatus

logger = logging.getLogger(__name__)

DEMO_RUN_CODE = "RUN-1"
DEMO_SEED = 20240607
CAGE_SIZE = 4
EXTRA_ANIMALS = 4  # received but never enrolled: their tumours did not take
DAYS_SINCE_DAY0 = 28  # four weeks of history: staging and randomization on day 7
RANDOMIZATION_DAY = 7


def load_demo(planner_result: dict[str, object]) -> StudyRun | None:
    """Ensure the CT26 design has a randomized run (idempotent: an existing run is kept).

    Day 0 is four weeks ago; the animals were staged and randomized on study day 7, and three
    weeks of history follow (``_record_history``). Every animal the design plans (arms plus
    satellites) gets a tumour in the eligibility window; a few extras stay below it and are not
    enrolled.
    """
    study = planner_result.get("study")
    users: Any = planner_result.get("users")
    if not isinstance(study, Study) or not users:
        return None
    existing = StudyRun.objects.filter(study=study, code=DEMO_RUN_CODE).first()
    if existing is not None:
        return existing
    if study.status not in (StudyStatus.APPROVED, StudyStatus.ACTIVE) or not study.arms.exists():
        logger.warning("demo: %s is not an approved design with arms; no run loaded", study.code)
        return None
    with transaction.atomic(), audit_context(client=ClientKind.COMMAND, reason="demo data"):
        run = _build_run(study, users)
        _record_history(run, users)
        return run


def _record_history(run: StudyRun, users: dict[str, Any]) -> None:
    """The run's recorded history after randomization, one area at a time, in this order
    (each area reads what the ones before it wrote)."""
    # Each capture area adds its one call here, in this order:
    # measurements, transcription, dosing, welfare and endpoints, samples and notebook, reports.
    from labnotes.demo_measurements import record_demo_measurements

    record_demo_measurements(run, users)  # caliper and weight readings: first
    from labnotes.demo_transcription import record_demo_transcription

    record_demo_transcription(run, users)  # paper worksheets: second
    from labnotes.demo_dosing import record_demo_dosing

    record_demo_dosing(run, users)  # batches, doses, deviations, hold and resume: third
    from labnotes.demo_welfare import record_demo_welfare

    record_demo_welfare(run, users)  # observations, escalation, endpoints: fourth
    from labnotes.demo_samples import record_demo_samples_and_notes

    record_demo_samples_and_notes(run, users)  # samples, necropsy and notebook: fifth
    from labnotes.demo_elisa import record_demo_elisa

    record_demo_elisa(run, users)  # the accepted IFN-gamma plate of the satellites' serum
    from labnotes.demo_flow import record_demo_flow

    record_demo_flow(run, users)  # Treg panel results of the satellites' tumours and spleens
    from labnotes.demo_qa import record_demo_qa

    record_demo_qa(run, users)  # deviation log, QA inspection, audit-trail review: before reports
    from labnotes.demo_instruments import record_demo_instruments

    record_demo_instruments(run, users)  # the caliper, the balance and a device token
    from labnotes.demo_reports import request_demo_report

    request_demo_report(run, users)  # reports: keep last


def _build_run(study: Study, users: dict[str, Any]) -> StudyRun:
    lab = study.lab
    technician, scientist, director = users["tech_measure"], users["scientist"], users["director"]
    today = lab.local_date(timezone.now())
    run = start_study_run(
        study=study,
        code=DEMO_RUN_CODE,
        day0=today - dt.timedelta(days=DAYS_SINCE_DAY0),
        started_by=director,
    )
    randomized_on = run.day0 + dt.timedelta(days=RANDOMIZATION_DAY)
    planned = sum(
        arm.planned_n + sum(s.n for s in arm.satellites.all()) for arm in study.arms.all()
    )
    total = planned + EXTRA_ANIMALS
    rows = [
        {
            "tag": f"{number:04d}",
            "sex": "female",
            "arrival_weight_g": f"{18 + (number % 7) * 0.4:.1f}",
            "date_of_birth": (today - dt.timedelta(days=60)).isoformat(),
        }
        for number in range(1, total + 1)
    ]
    received = run.day0 - dt.timedelta(days=7)
    animals = animal_services.register_animals(
        run=run, rows=rows, registered_by=technician, received_on=received
    )
    for index in range(0, total, CAGE_SIZE):
        number = index // CAGE_SIZE + 1
        cage = animal_services.create_cage(
            lab=lab,
            run=run,
            label=f"C{number:02d}",
            capacity=5,
            room="Room 2.14",
            rack="A",
            position=f"{'ABCD'[(number - 1) // 6]}{(number - 1) % 6 + 1}",
            created_by=technician,
        )
        animal_services.move_animals(
            animals=animals[index : index + CAGE_SIZE],
            cage=cage,
            moved_by=technician,
            reason="arrival",
            moved_on=received,
        )
    implantation_protocol = study.procedures.get(role=ProcedureRole.IMPLANTATION)
    cells = int(implantation_protocol.protocol_version.parameters["cells_per_site"])
    rng = np.random.default_rng(DEMO_SEED)
    # Staging readings on the morning of the randomization day.
    taken_at = dt.datetime.combine(randomized_on, dt.time(9, 30), tzinfo=lab.zone)
    for position, animal in enumerate(animals):
        implantation = animal_services.record_implantation(
            animal=animal,
            site="right flank",
            implanted_on=run.day0,
            cells=cells,  # as the protocol says: 1 × 10⁶ CT26 cells
            operator=technician,
            viability_percent=96,
            passage=5,
        )
        target = rng.uniform(82, 118) if position < planned else rng.uniform(20, 60)
        width = round(float((2 * target / 1.3) ** (1 / 3)), 2)
        record_measurement(
            tumour=implantation.tumour,
            length_mm=round(width * 1.3, 2),
            width_mm=width,
            taken_at=taken_at,
            operator=technician,
            instrument="USB caliper 1",
            entered_at=taken_at,
        )
        record_measurement(
            animal=animal,
            weight_g=round(float(rng.uniform(18.0, 21.5)), 2),
            taken_at=taken_at,
            operator=technician,
            instrument="Balance 2",
            entered_at=taken_at,
        )
    batch = preview_randomization(run=run, requested_by=scientist, seed=DEMO_SEED)
    apply_randomization(batch=batch, applied_by=scientist, randomized_on=randomized_on)
    return run
