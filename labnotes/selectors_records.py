"""An animal's signable records for the animal page: each links to its record page (its audit
history and electronic signatures, with the Sign button for people who may sign).

Reads through the same scoped selectors as every other page, so a blinded technician sees no
dose record of a study whose dosing is hidden from them; a row names only the kind of record,
when it was made and the study day: never an arm, an agent or a dose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.urls import reverse

from labnotes.models import Animal, MeasurementKind
from labnotes.selectors import list_doses_for_user, list_measurements_for_user
from labnotes.selectors_samples import list_necropsies_for_user, list_samples_for_user
from labnotes.selectors_welfare import list_endpoint_records_for_user, list_observations_for_user
from planner.selectors import UserLike


@dataclass(frozen=True)
class RecordRow:
    kind: str
    at: dt.datetime | None
    study_day: int | None
    text: str
    url: str


def _url(record: models.Model) -> str:
    return reverse(
        "object_history", args=[record._meta.app_label, record._meta.model_name, record.pk]
    )


def animal_records(user: UserLike, animal: Animal) -> list[RecordRow]:
    """The animal's measurements, doses, observations, endpoint record, samples and necropsy
    that ``user`` may see, newest first."""
    rows: list[RecordRow] = []
    for reading in list_measurements_for_user(user).filter(animal=animal):
        state = " (voided)" if reading.voided_at else ""
        rows.append(
            RecordRow(
                "Caliper reading" if reading.kind == MeasurementKind.CALIPER else "Weight reading",
                reading.taken_at,
                reading.study_day,
                f"{reading}{state}",
                _url(reading),
            )
        )
    for dose in list_doses_for_user(user).filter(animal=animal):
        rows.append(
            RecordRow(
                "Dose record",
                dose.given_at,
                None,
                f"Dose {dose.occurrence}: {dose.get_outcome_display().lower()}",
                _url(dose),
            )
        )
    for observation in list_observations_for_user(user).filter(animal=animal):
        rows.append(
            RecordRow(
                "Observation",
                observation.observed_at,
                observation.study_day,
                "Clinical observation",
                _url(observation),
            )
        )
    for record in list_endpoint_records_for_user(user).filter(animal=animal):
        rows.append(
            RecordRow(
                "Endpoint record",
                record.occurred_at,
                record.study_day,
                record.get_cause_display(),
                _url(record),
            )
        )
    for sample in list_samples_for_user(user).filter(animal=animal):
        rows.append(
            RecordRow(
                "Sample",
                sample.collected_at,
                sample.study_day,
                f"{sample.get_tissue_display()} {sample.barcode}",
                reverse("sample_detail", args=[sample.pk]),
            )
        )
    for necropsy in list_necropsies_for_user(user).filter(animal=animal):
        rows.append(
            RecordRow(
                "Necropsy",
                None,
                necropsy.study_day,
                "Necropsy",
                reverse("animal_necropsy", args=[animal.pk]),
            )
        )
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda row: (row.at or epoch, row.study_day or 0), reverse=True)
    return rows
