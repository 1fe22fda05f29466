"""Set-up shared by the sample, necropsy and notebook tests: a small randomized blinded run.

Dose records are written directly (the dosing service is tested elsewhere): these tests need a
dose given at a known instant to time samples against.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from labnotes.models import Animal, AnimalStatus, StudyRun
from labnotes.models.dosing import DoseRecord, FormulationBatch
from labnotes.services.randomization import apply_randomization, preview_randomization
from labnotes.services.runs import start_study_run
from tests.labnotes.builders import Design, build_design
from tests.labnotes.conftest import stage


@dataclass
class SmallRun:
    design: Design
    run: StudyRun
    animals: list[Animal]


def small_run(lab: Any, *, count: int = 4, blinded: bool = True) -> SmallRun:
    """A two-arm design (blinded by default: arms 'Vehicle' G1 and 'IL-12' G2), a run with
    day 0 ten days ago, ``count`` staged animals randomized seven days ago."""
    design = build_design(lab=lab, arms=2, planned_n=count // 2, blinded=blinded)
    run = start_study_run(
        study=design.study,
        code="RUN-S",
        day0=timezone.localdate() - dt.timedelta(days=10),
        started_by=design.director,
    )
    animals = stage(design, run, count, weights=True)
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=5)
    apply_randomization(
        batch=batch,
        applied_by=design.scientist,
        randomized_on=timezone.localdate() - dt.timedelta(days=7),
    )
    animals = list(Animal.objects.filter(run=run).select_related("arm", "run").order_by("tag"))
    return SmallRun(design, run, animals)


def give_dose(
    small: SmallRun, animal: Animal, *, given_at: dt.datetime, occurrence: int = 1
) -> DoseRecord:
    """A dose of the animal's first regimen item, given at ``given_at``."""
    assert animal.arm is not None
    item = animal.arm.regimen_items.order_by("order", "pk").first()
    assert item is not None
    batch = FormulationBatch.objects.filter(study=small.design.study, agent=item.agent).first()
    if batch is None:
        batch = FormulationBatch.objects.create(
            study=small.design.study,
            agent=item.agent,
            lot=f"LOT-{item.pk}",
            concentration_mg_per_ml=Decimal("1"),
            vehicle="saline",
            prepared_by=small.design.scientist,
            prepared_at=given_at - dt.timedelta(hours=3),
            expires_at=given_at + dt.timedelta(days=30),
            recorded_by=small.design.scientist,
        )
    return DoseRecord.objects.create(
        run=small.run,
        animal=animal,
        regimen_item=item,
        occurrence=occurrence,
        scheduled_for=given_at.date(),
        outcome="given",
        batch=batch,
        route=item.route,
        dose_basis=item.dose_basis,
        dose=item.dose,
        volume_ul=Decimal("200"),
        given_at=given_at,
        operator=small.design.doser,
        recorded_by=small.design.doser,
    )


def end_animal(animal: Animal, reason: str = "tumour volume endpoint") -> Animal:
    """Take the animal off study (what an endpoint record does) so it may be necropsied."""
    Animal.objects.filter(pk=animal.pk).update(
        status=AnimalStatus.ENDPOINT_REACHED,
        status_reason=reason,
        status_changed_at=timezone.now(),
    )
    animal.refresh_from_db()
    return animal
