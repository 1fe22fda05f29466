"""The demo's samples, necropsy and notebook entries, written through the services.

Called fifth in ``labnotes.demo._record_history`` (after measurements, transcription, dosing,
welfare and endpoints): it reads the doses and endpoints written before it.

- Satellite samples: at the satellites' planned takedown (serum timed 2 h after that day's
  dose when the dose is recorded, tumour and spleen), with freezer places, when that day has
  come; before it, a pre-dose serum of each satellite on its randomization day.
- One necropsy: an animal that left the study (endpoint, takedown or found dead), with its
  terminal and tumour weights, spleen and liver weights, a lung metastasis count, gross findings
  and the samples taken.
- Three notebook entries linked to the run and its animals, one with an attachment; the third,
  by the unblinded scientist, names the arms and is therefore restricted to unblinded readers.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.utils import timezone

from labnotes.models import (
    Animal,
    AnimalStatus,
    Measurement,
    MeasurementKind,
    Sample,
    StudyRun,
    Task,
    TaskKind,
)
from labnotes.models.dosing import DoseRecord
from labnotes.services import necropsy as necropsy_services
from labnotes.services import notebook as notebook_services
from labnotes.services import samples as sample_services

logger = logging.getLogger(__name__)

SATELLITES = 3
FREEZER = "-80 °C freezer 2"


def _at(run: StudyRun, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    zone = run.study.lab.zone
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def _latest(animal: Animal, kind: str) -> Measurement | None:
    return (
        Measurement.objects.filter(animal=animal, kind=kind, voided_at__isnull=True)
        .order_by("-taken_at", "-pk")
        .first()
    )


def record_demo_samples_and_notes(run: StudyRun, users: dict[str, Any]) -> None:
    """Samples of the satellites, one necropsy and three notebook entries (idempotent: a run
    with samples or entries already is left alone)."""
    if Sample.objects.filter(animal__run=run).exists():
        return
    samples = _satellite_samples(run, users)
    necropsied = _necropsy(run, users)
    _notebook(run, users, samples, necropsied)


def _satellite_samples(run: StudyRun, users: dict[str, Any]) -> list[Sample]:
    technician, doser = users["tech_measure"], users["tech_dose"]
    now = timezone.now()
    satellites = list(
        Animal.objects.filter(run=run, is_satellite=True, arm__isnull=False)
        .select_related("arm")
        .order_by("arm__order", "tag")
    )
    chosen: list[Animal] = []
    for animal in satellites:  # one per arm, first arms first
        if all(other.arm_id != animal.arm_id for other in chosen):
            chosen.append(animal)
        if len(chosen) == SATELLITES:
            break
    recorded: list[Sample] = []
    for box_position, animal in enumerate(chosen, start=1):
        takedown = (
            Task.objects.filter(animal=animal, kind=TaskKind.TAKEDOWN)
            .order_by("nominal_date")
            .first()
        )
        day = takedown.date if takedown is not None else None
        # The takedown follows that day's dose (or the first dose after a planned day that had
        # no working day): serum 2 h after it, then tumour and spleen.
        dose = (
            DoseRecord.objects.filter(
                animal=animal,
                outcome="given",
                voided_at__isnull=True,
                scheduled_for__gte=day,
                scheduled_for__lte=day + dt.timedelta(days=3) if day else None,
                given_at__isnull=False,
                given_at__lte=now - dt.timedelta(hours=3),
            )
            .order_by("scheduled_for", "regimen_item__order", "given_at")
            .first()
            if day is not None
            else None
        )
        if dose is not None:
            day = dose.scheduled_for
        if day is not None and _at(run, day, 12) <= now:
            taken = _at(run, day, 11, 0)
            if dose is not None and dose.given_at is not None:
                # 4, 7 and 19 min after the 2 h point: the third misses its ±12 min window.
                late = (4, 7, 19)[(box_position - 1) % 3]
                taken = dose.given_at + dt.timedelta(hours=2, minutes=late)
            taken = min(taken, now - dt.timedelta(minutes=5))
            due = list(
                Task.objects.filter(animal=animal, kind=TaskKind.SAMPLE, status="due")
                .select_related("procedure__protocol_version")
                .order_by("nominal_date", "pk")
            )

            def task_for(tissue: str, due: list[Task] = due) -> Task | None:
                for task in due:
                    if (
                        task.procedure
                        and sample_services.procedure_tissue(task.procedure) == tissue
                    ):
                        due.remove(task)
                        return task
                return None

            task = task_for("serum")
            recorded.append(
                sample_services.record_sample(
                    animal=animal,
                    tissue="serum",
                    collected_at=taken,
                    collected_by=doser if dose is not None else technician,
                    task=task,
                    dose=dose,
                    nominal_hours_after_dose="2" if dose is not None else None,
                    volume_ul="250",
                    freezer=FREEZER,
                    rack="R3",
                    box="CT26-SAT",
                    position=f"A{box_position}",
                )
            )
            for row, (tissue, mass_mg) in enumerate((("tumour", "180"), ("spleen", "95")), 1):
                recorded.append(
                    sample_services.record_sample(
                        animal=animal,
                        tissue=tissue,
                        task=task_for(tissue),
                        collected_at=min(taken + dt.timedelta(minutes=6 * row), now),
                        collected_by=technician,
                        mass_mg=mass_mg,
                        freezer=FREEZER,
                        rack="R3",
                        box="CT26-SAT",
                        position=f"{'ABC'[row]}{box_position}",
                    )
                )
        elif animal.treatment_start_date is not None:
            # The takedown lies ahead: the pre-dose serum of the randomization day stands in.
            taken = min(_at(run, animal.treatment_start_date, 8, 30), now - dt.timedelta(minutes=5))
            recorded.append(
                sample_services.record_sample(
                    animal=animal,
                    tissue="serum",
                    tissue_detail="pre-dose, tail vein",
                    collected_at=taken,
                    collected_by=technician,
                    volume_ul="30",
                    notes="Baseline for the IFN-gamma ELISA.",
                    freezer=FREEZER,
                    rack="R3",
                    box="CT26-SAT",
                    position=f"A{box_position}",
                )
            )
    if not chosen:
        logger.info("demo: %s has no randomized satellites; no satellite samples", run)
    return recorded


def _necropsy(run: StudyRun, users: dict[str, Any]) -> Animal | None:
    technician = users["tech_measure"]
    candidates = list(
        Animal.objects.filter(
            run=run,
            status__in=[
                AnimalStatus.ENDPOINT_REACHED,
                AnimalStatus.TAKEN_DOWN,
                AnimalStatus.FOUND_DEAD,
            ],
        ).order_by("status", "tag")
    )
    if not candidates:
        logger.info("demo: no animal of %s has left the study yet; no necropsy", run)
        return None
    animal = candidates[0]
    now = timezone.now()
    left = animal.status_changed_at or now - dt.timedelta(hours=2)
    performed = min(left + dt.timedelta(minutes=40), now - dt.timedelta(minutes=5))
    weight = _latest(animal, MeasurementKind.WEIGHT)
    body = (weight.weight_g if weight and weight.weight_g else Decimal("19.0")) - Decimal("0.4")
    tumour_weights = []
    for tumour in animal.tumours.all():
        caliper = (
            Measurement.objects.filter(tumour=tumour, voided_at__isnull=True)
            .order_by("-taken_at")
            .first()
        )
        volume = caliper.volume_mm3 if caliper and caliper.volume_mm3 else Decimal("900")
        # Tumour tissue weighs about 1 mg per mm³.
        tumour_weights.append(
            {"tumour": tumour.pk, "weight_mg": str(round(volume * Decimal("0.97"), 1))}
        )
    necropsy = necropsy_services.record_necropsy(
        animal=animal,
        performed_at=performed,
        performed_by=technician,
        terminal_body_weight_g=body,
        tumour_weights=tumour_weights,
        organ_weights=[
            {"organ": "spleen", "weight_mg": "148.6"},
            {"organ": "liver", "weight_mg": "1012.0"},
        ],
        metastasis_counts=[{"organ": "lung", "count": 2}],
        gross_findings=["tumour_ulceration", "splenomegaly", "lung_nodules"],
        gross_notes="Ulcer 3 mm at the tumour's centre; two pale nodules on the left lung lobe.",
    )
    for tissue, mass_mg in (("tumour", "120"), ("spleen", "60")):
        sample_services.record_sample(
            animal=animal,
            tissue=tissue,
            necropsy=necropsy,
            collected_at=min(performed + dt.timedelta(minutes=10), now),
            collected_by=technician,
            mass_mg=mass_mg,
            freezer=FREEZER,
            rack="R3",
            box="CT26-NEC",
        )
    return animal


CALIPER_CHECK = (
    b"gauge_block_mm,reading_mm,difference_mm\n"
    b"5.00,5.01,0.01\n10.00,10.00,0.00\n20.00,19.98,-0.02\n"
)


def _notebook(
    run: StudyRun, users: dict[str, Any], samples: list[Sample], necropsied: Animal | None
) -> None:
    lab = run.study.lab
    today = lab.local_date(timezone.now())
    randomized = (
        Animal.objects.filter(run=run, treatment_start_date__isnull=False)
        .order_by("treatment_start_date")
        .values_list("treatment_start_date", flat=True)
        .first()
    ) or today
    animals = list(Animal.objects.filter(run=run, arm__isnull=False).order_by("tag")[:2])
    notebook_services.create_entry(
        lab=lab,
        author=users["tech_measure"],
        title=f"Day {(randomized - run.day0).days}: randomization readings and caliper check",
        entry_date=randomized,
        body=(
            "Calipers and weights of every animal before randomization.\n\n"
            "* USB caliper 1 checked against gauge blocks (attached): within 0.02 mm.\n"
            "* Balance 2 checked with the 20 g weight: 20.00 g.\n"
            "* Tumours that did not take were left unenrolled.\n\n"
            "| check | result |\n|---|---|\n| caliper | pass |\n| balance | pass |\n"
        ),
        runs=[run],
        attachments=[
            notebook_services.Upload("caliper-check.csv", "text/csv", CALIPER_CHECK),
        ],
    )
    if samples:
        notebook_services.create_entry(
            lab=lab,
            author=users["tech_measure"],
            title="Satellite sampling",
            entry_date=min(lab.local_date(s.collected_at) for s in samples),
            body=(
                "Serum by cardiac puncture (or tail vein before dosing), clotted 30 min at room "
                "temperature, spun 2000 g for 10 min; aliquots to the -80 °C freezer 2, rack R3, "
                "box CT26-SAT. Tumour and spleen halves snap-frozen for the flow panel.\n\n"
                "Tubes labelled with the printed sample labels."
            ),
            animals=list(dict.fromkeys(sample.animal for sample in samples)),
            samples=samples,
        )
    elif animals:
        notebook_services.create_entry(
            lab=lab,
            author=users["tech_measure"],
            title="Animals settled after dosing",
            body="No signs of distress after the first injections; cages checked at 16:00.",
            animals=animals,
        )
    labels = ", ".join(arm.label for arm in run.study.arms.order_by("order", "pk"))
    notebook_services.create_entry(
        lab=lab,
        author=users["scientist"],
        title="Interim look at tumour growth by arm",
        body=(
            f"Arms: {labels}.\n\n"
            "Growth still overlapping at this point; the combination arm looks slowest. "
            "Not for the blinded team: this entry names the arms."
            + (f"\n\nNecropsy of animal {necropsied.tag} recorded." if necropsied else "")
        ),
        runs=[run],
    )
