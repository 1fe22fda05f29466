"""A dosing-ready run for the dosing tests: the builders' CT26 design with real dosing protocols.

Arms (codes as the builders make them) and their one regimen item each:

* G1 vehicle: saline IP, per kg own weight, 10 mL/kg, concentration 0;
* G2 cyclophosphamide: 100 mg/kg IP per kg own weight at 10 mg/mL, hold at 15 % weight loss,
  resume below 10 %, reduce to 75 %;
* G3 agent-2: 5 mg/kg IV per kg of the arm's mean weight at 1 mg/mL (5 mL/kg);
* G4 the sentinel agent ``AGT-QX9`` at ``123.456`` mg/kg IP per kg own weight.

Animals are staged a week ago (caliper and weight then) and randomized then, so the dose
schedule ``Q3Dx4 from R+1`` has past, today's and future tasks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from labnotes.models import Animal, FormulationBatch, Measurement, Task, TaskKind
from labnotes.services.animals import create_cage, move_animals
from labnotes.services.dosing import create_formulation_batch
from labnotes.services.measurements import record_measurement
from labnotes.services.randomization import apply_randomization, preview_randomization
from planner.models import RegimenItem
from tests.labnotes.builders import SENTINEL_AGENT, Design, released_version
from tests.labnotes.conftest import stage

BACK = 7  # days between randomization and today

PROTOCOLS: dict[str, dict[str, Any]] = {
    "G1": {
        "agent": "saline",
        "vehicle": "0.9 % saline",
        "concentration_mg_per_ml": 0,
        "dose_basis": "per_kg_own_weight",
        "route": "IP",
        "volume_ml_per_kg": 10,
    },
    "G2": {
        "agent": "cyclophosphamide",
        "vehicle": "0.9 % saline",
        "concentration_mg_per_ml": 10,
        "dose_basis": "per_kg_own_weight",
        "route": "IP",
        "dose_mg_per_kg": 100,
        "volume_ml_per_kg": 10,
        "hold_at_weight_loss_percent": 15,
        "resume_below_weight_loss_percent": 10,
        "reduced_dose_percent": 75,
    },
    "G3": {
        "agent": "agent-2",
        "vehicle": "0.9 % saline",
        "concentration_mg_per_ml": 1,
        "dose_basis": "per_kg_arm_mean_weight",
        "route": "IV",
        "dose_mg_per_kg": 5,
        "volume_ml_per_kg": 5,
    },
    "G4": {
        "agent": SENTINEL_AGENT,
        "vehicle": "PBS",
        "concentration_mg_per_ml": 10,
        "dose_basis": "per_kg_own_weight",
        "route": "IP",
        "volume_ml_per_kg": 10,
    },
}
AGENTS = {"G1": "saline", "G2": "cyclophosphamide", "G3": "agent-2", "G4": SENTINEL_AGENT}
DOSES = {"G1": Decimal(0), "G2": Decimal(100), "G3": Decimal(5)}


@dataclass
class DosingRun:
    design: Design
    run: Any
    items: dict[str, RegimenItem]
    batches: dict[str, FormulationBatch]

    def animals(self, code: str) -> list[Animal]:
        return list(Animal.objects.filter(run=self.run, arm__code=code).order_by("tag"))

    def tasks(self, animal: Animal) -> list[Task]:
        return list(Task.objects.filter(animal=animal, kind=TaskKind.DOSE).order_by("occurrence"))

    def today_task(self, animal: Animal) -> Task:
        today = lab_today()
        return next(t for t in self.tasks(animal) if t.date == today)


def lab_today() -> dt.date:
    """The lab-local date (the test labs are in Europe/Berlin, the server clock in UTC)."""
    from planner.models import Lab

    return Lab(time_zone="Europe/Berlin").local_date(timezone.now())


def set_protocols(design: Design) -> dict[str, RegimenItem]:
    items = {}
    for arm in design.arms:
        parameters = PROTOCOLS[arm.code]
        version = released_version(
            design.lab, design.director, "dosing", f"Dosing {arm.code} {design.lab.pk}", parameters
        )
        item = arm.regimen_items.get()
        RegimenItem.objects.filter(pk=item.pk).update(
            protocol_version=version,
            agent=AGENTS[arm.code],
            dose=DOSES.get(arm.code, item.dose),
            dose_basis=parameters["dose_basis"],
            route=parameters["route"],
            # R+1, R+4, R+7 (today), R+10: past, today's and a future dose for every animal.
            schedule="Q3Dx4 from R+1",
            window_days=0,
            non_working_day_rule="keep",
        )
        items[arm.code] = RegimenItem.objects.get(pk=item.pk)
    return items


def weigh(
    animal: Animal, grams: str, user: Any, *, ago: dt.timedelta | None = None, reason: str = ""
) -> Measurement:
    return record_measurement(
        animal=animal,
        weight_g=grams,
        taken_at=timezone.now() - (ago or dt.timedelta(minutes=10)),
        operator=user,
        reason=reason or None,
    )


def build_dosing_run(design: Design, run: Any, count: int = 16) -> DosingRun:
    items = set_protocols(design)
    animals = stage(design, run, count, weights=True)
    # The staging readings were a week ago, and so was the randomization.
    Measurement.objects.filter(animal__run=run).update(
        taken_at=F("taken_at") - dt.timedelta(days=BACK), study_day=F("study_day") - BACK
    )
    for index in range(0, count, 4):
        cage = create_cage(
            lab=design.lab,
            run=run,
            label=f"C{index // 4 + 1}",
            created_by=design.technician,
            room="R101",
            rack="A",
        )
        move_animals(animals=animals[index : index + 4], cage=cage, moved_by=design.technician)
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=11)
    apply_randomization(
        batch=batch,
        applied_by=design.scientist,
        randomized_on=lab_today() - dt.timedelta(days=BACK),
    )
    now = timezone.now()
    batches = {
        code: create_formulation_batch(
            study=design.study,
            agent=AGENTS[code],
            lot=f"LOT-{code}",
            concentration_mg_per_ml=PROTOCOLS[code]["concentration_mg_per_ml"],
            vehicle=PROTOCOLS[code]["vehicle"],
            prepared_by=design.doser,
            prepared_at=now - dt.timedelta(days=BACK + 1),
            expires_at=now + dt.timedelta(days=30),
            recorded_by=design.doser,
        )
        for code in AGENTS
    }
    return DosingRun(design, run, items, batches)
