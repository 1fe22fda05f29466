"""Survival data of a run, per randomized animal: time from the design's origin to the endpoint
(or to the last time seen alive), event or censored by the design's survival definition.

Reports (and the analysis engine's Kaplan-Meier and log-rank) read these rows; they carry the
arm's id and code only — whoever renders them applies blinding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Min
from django.db.models.functions import Coalesce

from labnotes.models import (
    Animal,
    AnimalStatus,
    EndpointRecord,
    Measurement,
    Observation,
    StudyRun,
    Task,
    TaskKind,
)
from labnotes.services.common import lab_today
from labnotes.services.endpoints import survival_causes
from planner.domain.errors import ParameterErrors
from planner.domain.study_plan import Outcome, TimeOrigin, parse_survival_definition


@dataclass(frozen=True)
class SurvivalRow:
    """One animal's survival time.

    ``days``: whole days from ``origin_date`` to ``end_date`` (lab-local dates). ``event``:
    the endpoint cause counts as an event in the design's survival definition; every other
    animal is censored — at its endpoint for a censoring cause, at the last time it was seen
    (a reading or an observation) while still on study. ``cause`` is empty for animals still on
    study; ``excluded`` marks animals excluded from the study without an endpoint record
    (the analysis plan's dropout policy decides what to do with them).
    """

    animal_id: int
    tag: str
    arm_id: int
    arm_code: str
    is_satellite: bool
    time_origin: str
    origin_date: dt.date
    end_date: dt.date
    days: int
    event: bool
    outcome: str
    cause: str
    occurred_at: dt.datetime | None
    endpoint_record_id: int | None
    excluded: bool


def _origin(run: StudyRun) -> TimeOrigin:
    try:
        definition = parse_survival_definition(run.study.survival_definition or None)
    except ParameterErrors:
        definition = parse_survival_definition(None)
    return TimeOrigin(str(definition["time_origin"]))


def survival_rows(run: StudyRun) -> list[SurvivalRow]:
    """Per randomized animal of ``run`` (tag order): time and event/censored for survival.

    Time origin from the design: ``implantation`` — the run's day 0; ``randomization`` — the
    animal's randomization (treatment start) date; ``first_treatment`` — the date of its first
    planned dose task, else its treatment start. The end is the lab-local date of the endpoint
    record's ``occurred_at`` (for a found-dead animal the day it was found); event or censored
    follows the design's mapping of the cause (read now, so an amended mapping applies).
    Animals without a record are censored at their last valid reading or observation (today
    at the latest). A fixed number of queries, whatever the animal count.
    """
    study = run.study
    lab = study.lab
    origin = _origin(run)
    causes = survival_causes(study)
    animals = list(
        Animal.objects.filter(run=run, arm__isnull=False).select_related("arm").order_by("tag")
    )
    ids = [animal.pk for animal in animals]
    records = {
        record.animal_id: record
        for record in EndpointRecord.objects.filter(animal_id__in=ids, voided_at__isnull=True)
    }
    first_dose = dict(
        Task.objects.filter(animal_id__in=ids, kind=TaskKind.DOSE)
        .values("animal_id")
        .annotate(first=Min(Coalesce("scheduled_date", "nominal_date")))
        .values_list("animal_id", "first")
    )
    last_reading = dict(
        Measurement.objects.filter(animal_id__in=ids, voided_at__isnull=True)
        .values("animal_id")
        .annotate(last=Max("taken_at"))
        .values_list("animal_id", "last")
    )
    last_observation = dict(
        Observation.objects.filter(animal_id__in=ids, voided_at__isnull=True)
        .values("animal_id")
        .annotate(last=Max("observed_at"))
        .values_list("animal_id", "last")
    )
    today = lab_today(lab)
    rows: list[SurvivalRow] = []
    for animal in animals:
        assert animal.arm is not None and animal.treatment_start_date is not None
        if origin is TimeOrigin.IMPLANTATION:
            origin_date = run.day0
        elif origin is TimeOrigin.RANDOMIZATION:
            origin_date = animal.treatment_start_date
        else:
            origin_date = first_dose.get(animal.pk) or animal.treatment_start_date
        record = records.get(animal.pk)
        if record is not None:
            end_date = lab.local_date(record.occurred_at)
            outcome = causes.get(record.cause, Outcome.CENSORED.value)
            cause = record.cause
            occurred_at: dt.datetime | None = record.occurred_at
        else:
            seen = [
                moment
                for moment in (last_reading.get(animal.pk), last_observation.get(animal.pk))
                if moment is not None
            ]
            end_date = min(lab.local_date(max(seen)), today) if seen else origin_date
            outcome = Outcome.CENSORED.value
            cause = ""
            occurred_at = None
        rows.append(
            SurvivalRow(
                animal_id=animal.pk,
                tag=animal.tag,
                arm_id=animal.arm.pk,
                arm_code=animal.arm.code,
                is_satellite=animal.is_satellite,
                time_origin=origin.value,
                origin_date=origin_date,
                end_date=end_date,
                days=(end_date - origin_date).days,
                event=outcome == Outcome.EVENT.value,
                outcome=outcome,
                cause=cause,
                occurred_at=occurred_at,
                endpoint_record_id=record.pk if record is not None else None,
                excluded=record is None and animal.status == AnimalStatus.EXCLUDED,
            )
        )
    return rows
