"""Endpoint records: how and when an animal left the study — the survival data."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labnotes.models import (
    Animal,
    AnimalStatus,
    EndpointCause,
    EndpointEpisode,
    EndpointRecord,
    EpisodeStatus,
    Measurement,
    MeasurementKind,
    WelfareCheck,
    WelfareCheckStatus,
)
from labnotes.models.welfare import OPEN_EPISODE_STATUSES
from labnotes.services.common import StaleWrite, lab_today
from labnotes.services.schedule import cancel_future_tasks
from labnotes.services.welfare import (
    CLOCK_TOLERANCE,
    WELFARE_RECORDERS,
    reopen_episodes_of_voided_record,
)
from planner.audit import audited_change
from planner.domain.errors import ParameterErrors
from planner.domain.study_plan import Outcome, parse_survival_definition
from planner.models import Study
from planner.models.ethics import Severity
from planner.services.permissions import require_role

#: The hours from the first reading at a limit to the euthanasia that are still on time.
ENDPOINT_DEADLINE_HOURS = Decimal(24)

#: The animal's status after an endpoint record of each cause (default: endpoint reached).
STATUS_BY_CAUSE: dict[str, str] = {
    EndpointCause.FOUND_DEAD: AnimalStatus.FOUND_DEAD,
    EndpointCause.SCHEDULED_SACRIFICE: AnimalStatus.TAKEN_DOWN,
    EndpointCause.MISSING: AnimalStatus.EXCLUDED,
}


def survival_causes(study: Study) -> dict[str, str]:
    """The design's mapping of endpoint causes to ``event`` / ``censored`` (defaults filled)."""
    try:
        definition = parse_survival_definition(study.survival_definition or None)
    except ParameterErrors:
        definition = parse_survival_definition(None)
    causes = definition["causes"]
    assert isinstance(causes, dict)
    return {str(cause): str(outcome) for cause, outcome in causes.items()}


def _aware(name: str, value: dt.datetime | None) -> None:
    if value is not None and timezone.is_naive(value):
        raise ValidationError({name: "The time must carry its time zone."})


def record_endpoint(
    *,
    animal: Animal,
    cause: str,
    occurred_at: dt.datetime,
    recorded_by: User,
    last_seen_alive_at: dt.datetime | None = None,
    actual_severity: str = "",
    notes: str = "",
    reason: str | None = None,
) -> EndpointRecord:
    """Record that ``animal`` left the study at ``occurred_at`` (euthanasia or death).

    ``cause`` is one of the design's endpoint causes; the survival definition maps it to an
    event or a censoring (kept on the record as ``outcome``). "Found dead" requires
    ``last_seen_alive_at`` (not after ``occurred_at``): every valid caliper reading taken after
    it is voided with that reason, since nobody measured a living animal then. In the same
    transaction the animal's status changes (found dead, taken down, excluded when missing,
    endpoint reached otherwise) with the actual severity (EU 2010/63 category) recorded, the
    open endpoint episodes close with the hours from their first reading at the limit (flagged
    over 24 h), and the animal's future tasks and welfare checks are cancelled.
    Refused: an animal that left the study already, times in the future or before day 0.
    """
    run = animal.run
    study = run.study
    lab = study.lab
    require_role(recorded_by, lab, WELFARE_RECORDERS, action="record endpoints")
    _aware("occurred_at", occurred_at)
    _aware("last_seen_alive_at", last_seen_alive_at)
    valid_causes = {choice.value for choice in EndpointCause}
    if cause not in valid_causes:
        raise ValidationError(
            {
                "cause": f"'{cause}' is not an endpoint cause of the design "
                f"(causes: {', '.join(sorted(valid_causes))})."
            }
        )
    now = timezone.now()
    if occurred_at > now + CLOCK_TOLERANCE:
        raise ValidationError({"occurred_at": "This time lies in the future."})
    if lab.local_date(occurred_at) < run.day0:
        raise ValidationError({"occurred_at": f"This is before the run's day 0 ({run.day0})."})
    if cause == EndpointCause.FOUND_DEAD and last_seen_alive_at is None:
        raise ValidationError(
            {"last_seen_alive_at": "An animal found dead needs the last time it was seen alive."}
        )
    if last_seen_alive_at is not None and last_seen_alive_at > occurred_at:
        raise ValidationError(
            {"last_seen_alive_at": "The animal was last seen alive after it was found dead."}
        )
    severity = (actual_severity or "").strip()
    if severity and severity not in {choice.value for choice in Severity}:
        raise ValidationError(
            {
                "actual_severity": f"'{severity}' is not a severity category "
                f"({', '.join(choice.value for choice in Severity)})."
            }
        )
    outcome = survival_causes(study).get(cause, Outcome.CENSORED.value)
    with transaction.atomic(), audited_change(reason=reason, required=False):
        current = Animal.objects.select_for_update().get(pk=animal.pk)
        if EndpointRecord.objects.filter(animal=current, voided_at__isnull=True).exists():
            raise ValidationError(f"Animal {current.tag} has an endpoint record already.")
        if current.status != AnimalStatus.ON_STUDY:
            raise ValidationError(
                f"Animal {current.tag} is {current.get_status_display().lower()}: "
                "it left the study already."
            )
        record = EndpointRecord(
            animal=current,
            cause=cause,
            outcome=outcome,
            occurred_at=occurred_at,
            study_day=lab.study_day(run.day0, occurred_at),
            last_seen_alive_at=last_seen_alive_at,
            actual_severity=severity,
            notes=(notes or "").strip(),
            recorded_by=recorded_by,
        )
        record.full_clean()
        record.save()
        if cause == EndpointCause.FOUND_DEAD:
            assert last_seen_alive_at is not None
            local_seen = last_seen_alive_at.astimezone(lab.zone)
            local_found = occurred_at.astimezone(lab.zone)
            with audited_change(reason="taken after the animal was last seen alive"):
                record.excluded_readings = Measurement.objects.filter(
                    animal=current,
                    kind=MeasurementKind.CALIPER,
                    voided_at__isnull=True,
                    taken_at__gt=last_seen_alive_at,
                ).update(
                    voided_at=now,
                    voided_by=recorded_by,
                    void_reason=(
                        "Taken after the animal was last seen alive "
                        f"({local_seen:%Y-%m-%d %H:%M}); it was found dead at "
                        f"{local_found:%Y-%m-%d %H:%M}."
                    ),
                    row_version=F("row_version") + 1,
                )
            if record.excluded_readings:
                EndpointRecord.objects.filter(pk=record.pk).update(
                    excluded_readings=record.excluded_readings
                )
        label = EndpointCause(cause).label
        Animal.objects.filter(pk=current.pk).update(
            status=STATUS_BY_CAUSE.get(cause, AnimalStatus.ENDPOINT_REACHED),
            status_reason=f"{label}: {record.notes}" if record.notes else str(label),
            status_changed_at=occurred_at,
            row_version=F("row_version") + 1,
        )
        for episode in EndpointEpisode.objects.select_for_update().filter(
            animal=current, status__in=OPEN_EPISODE_STATUSES
        ):
            hours = Decimal((occurred_at - episode.first_reached_at).total_seconds() / 3600)
            hours = hours.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            episode.status = EpisodeStatus.CLOSED
            episode.closed_at = now
            episode.endpoint_record = record
            episode.hours_to_endpoint = hours
            episode.over_24_hours = hours > ENDPOINT_DEADLINE_HOURS
            episode.row_version += 1
            episode.save()
        day = min(lab.local_date(occurred_at), lab_today(lab))
        cancel_future_tasks(animals=[current], today=day)
        WelfareCheck.objects.filter(
            animal=current, status=WelfareCheckStatus.DUE, due_date__gte=day
        ).update(
            status=WelfareCheckStatus.CANCELLED,
            status_reason=f"The animal left the study ({label}).",
            row_version=F("row_version") + 1,
        )
    animal.refresh_from_db()
    return record


def void_endpoint_record(
    *,
    record: EndpointRecord,
    voided_by: User,
    reason: str,
    expected_version: int | None = None,
) -> EndpointRecord:
    """Void a wrong endpoint record with a reason: the animal is back on study.

    Readings voided because they followed a found-dead animal's last sighting stay voided (each
    can be re-entered); the episodes the record closed are reopened (the animal is still at
    its endpoint), audited with the reason.
    """
    animal = record.animal
    require_role(voided_by, animal.run.study.lab, WELFARE_RECORDERS, action="void endpoints")
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = EndpointRecord.objects.select_for_update().get(pk=record.pk)
        if expected_version is not None and current.row_version != expected_version:
            raise StaleWrite(current)
        if current.voided_at is not None:
            raise ValidationError("This endpoint record is voided already.")
        EndpointRecord.objects.filter(pk=current.pk).update(
            voided_at=timezone.now(),
            voided_by=voided_by,
            void_reason=reason.strip(),
            row_version=F("row_version") + 1,
        )
        Animal.objects.filter(pk=animal.pk).update(
            status=AnimalStatus.ON_STUDY,
            status_reason="",
            status_changed_at=timezone.now(),
            row_version=F("row_version") + 1,
        )
        reopen_episodes_of_voided_record(record_id=current.pk, reason=reason)
        current.refresh_from_db()
    return current
