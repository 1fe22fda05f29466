"""The demo's run (issue 5, "demo afterwards"): a randomized CT26 run with cages, tumours,
staging measurements and today's tasks, built through the services (history left out here:
the capture areas test their own demo parts)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from labnotes.demo import DEMO_RUN_CODE, DEMO_SEED, EXTRA_ANIMALS, RANDOMIZATION_DAY, _build_run
from labnotes.models import (
    Animal,
    BatchStatus,
    Measurement,
    RandomizationBatch,
    TaskKind,
    Tumour,
)
from labnotes.selectors import list_tasks_for_day
from labnotes.services.common import lab_today
from planner.audit import ClientKind, audit_context
from planner.demo import load_demo

pytestmark = pytest.mark.django_db


def test_demo_run_is_randomized_with_cages_tumours_staging_readings_and_todays_tasks() -> None:
    planner = load_demo()
    study, users = planner["study"], planner["users"]
    with transaction.atomic(), audit_context(client=ClientKind.COMMAND, reason="demo data"):
        run = _build_run(study, users)  # type: ignore[arg-type]
    study.refresh_from_db()  # type: ignore[union-attr]
    assert run.code == DEMO_RUN_CODE and study.status == "active"  # type: ignore[union-attr]
    animals = list(Animal.objects.filter(run=run).select_related("arm"))
    randomized = [a for a in animals if a.arm_id is not None]
    assert len(animals) == 56 and len(randomized) == 56 - EXTRA_ANIMALS
    assert sum(a.is_satellite for a in randomized) == 12  # 3 per arm
    assert {a.arm.code for a in randomized} == set(  # type: ignore[union-attr]
        study.arms.values_list("code", flat=True)  # type: ignore[union-attr]
    )
    # Cages of four with a dated history; every animal is in one.
    assert run.cages.count() == 14
    assert all(a.cage_assignments.filter(to_date__isnull=True).count() == 1 for a in animals)
    # One injected tumour each, implanted as the protocol says (1 × 10⁶ CT26 cells).
    tumours = Tumour.objects.filter(animal__run=run).select_related("implantation")
    assert tumours.count() == 56 and {t.role for t in tumours} == {"injected"}
    assert {t.implantation.cells for t in tumours} == {1_000_000}  # type: ignore[union-attr]
    # Staging on day 7: a caliper reading and a weight per animal; the eligible ones randomized.
    staging = Measurement.objects.filter(animal__run=run, study_day=RANDOMIZATION_DAY)
    assert staging.filter(kind="caliper").count() == 56 and staging.filter(kind="weight").count()
    batch = RandomizationBatch.objects.get(run=run)
    assert batch.status == BatchStatus.APPLIED and batch.seed == DEMO_SEED
    assert batch.randomized_on == run.day0 + dt.timedelta(days=RANDOMIZATION_DAY)
    assert batch.balance["largest_smd"]["volume_mm3"] < 0.1
    # Today's list: measuring, weighing and observing for the blinded technician, no doses;
    # the doser also sees the dose tasks.
    today = lab_today(study.lab)  # type: ignore[union-attr]
    measure = list(list_tasks_for_day(users["tech_measure"], day=today))
    dose = list(list_tasks_for_day(users["tech_dose"], day=today))
    assert measure and TaskKind.DOSE not in {t.kind for t in measure}
    assert TaskKind.MEASURE in {t.kind for t in measure}
    assert TaskKind.DOSE in {t.kind for t in dose}
