"""The deviation log of a run: entries reported by hand or raised from capture flags, the study
director's impact assessment, the corrective action and closure. Every write is audited.

Capture flags raised into the log (``raise_deviations_from_flags``):

* every dose deviation (missed, late, early, amount off, wrong route) of a dose not voided;
* readings entered more than 24 h after they were taken (``Measurement.is_late``);
* readings that correct an earlier one (``Measurement.correction_of``);
* humane endpoints closed more than 24 h after they were first reached;
* samples taken outside their timing window.

Each flag is raised once: ``source_key`` names the flagging row and a unique constraint keeps a
second raise (or a concurrent one) from adding a duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from labnotes.models import (
    Animal,
    Deviation,
    DeviationAnimal,
    DeviationCategory,
    DeviationSource,
    DeviationStatus,
    DoseDeviation,
    EndpointEpisode,
    Measurement,
    Sample,
    StudyRun,
)
from labnotes.services.archive import ensure_study_writable
from labnotes.services.common import RECORDERS, StaleWrite
from planner.audit import audited_change
from planner.models import Role
from planner.services.permissions import require_role

#: Who may report a deviation: anyone who records data, and QA.
REPORTERS = (*RECORDERS, Role.QA)
#: Who assesses the impact and closes a deviation (GLP: the study director).
ASSESSORS = (Role.STUDY_DIRECTOR,)


@dataclass(frozen=True)
class RaiseResult:
    """What one pass over the capture flags did."""

    created: tuple[Deviation, ...]
    already_logged: int
    by_source: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Flag:
    source: DeviationSource
    key: str
    category: DeviationCategory
    description: str
    occurred_at: dt.datetime
    detected_by_id: int
    animal_ids: tuple[int, ...]
    links: dict[str, object]


def _lock_log(run: StudyRun) -> None:
    """Serialize numbering per run (until the transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"deviation-log:{run.pk}"]
        )


def _next_number(run: StudyRun) -> int:
    highest = Deviation.objects.filter(run=run).aggregate(top=Max("number"))["top"]
    return int(highest or 0) + 1


def _study_day(run: StudyRun, day: dt.date) -> int:
    return (day - run.day0).days


def _check_animals(run: StudyRun, animals: Iterable[Animal]) -> list[Animal]:
    chosen = list({animal.pk: animal for animal in animals}.values())
    foreign = [animal.tag for animal in chosen if animal.run_id != run.pk]
    if foreign:
        raise ValidationError(
            {"animals": f"Animal(s) {', '.join(sorted(foreign))} are not in run {run.code}."}
        )
    return chosen


def record_deviation(
    *,
    run: StudyRun,
    category: str,
    description: str,
    occurred_on: dt.date,
    animals: Sequence[Animal] = (),
    detected_by: User,
    recorded_by: User,
    detected_at: dt.datetime | None = None,
) -> Deviation:
    """Report a deviation by hand: what happened (``description``), on which lab-local date,
    to which animals of ``run``, found by whom. It starts ``open``, awaiting the study director's
    impact assessment."""
    lab = run.study.lab
    require_role(recorded_by, lab, REPORTERS, action="report a deviation")
    require_role(detected_by, lab, REPORTERS, action="be named as having found a deviation")
    ensure_study_writable(run.study)
    text = (description or "").strip()
    if not text:
        raise ValidationError({"description": "Say what happened."})
    if category not in DeviationCategory.values:
        raise ValidationError({"category": f"'{category}' is not a deviation category."})
    today = lab.local_date(timezone.now())
    if occurred_on > today:
        raise ValidationError({"occurred_on": f"{occurred_on:%Y-%m-%d} lies in the future."})
    if occurred_on < run.day0 - dt.timedelta(days=365):
        raise ValidationError(
            {"occurred_on": f"{occurred_on:%Y-%m-%d} lies more than a year before day 0."}
        )
    chosen = _check_animals(run, animals)
    detected = detected_at or timezone.now()
    if timezone.is_naive(detected):
        raise ValidationError({"detected_at": "The time must carry its time zone."})
    with transaction.atomic(), audited_change(reason=None, required=False):
        _lock_log(run)
        deviation = Deviation(
            run=run,
            number=_next_number(run),
            source=DeviationSource.MANUAL,
            category=category,
            description=text,
            occurred_on=occurred_on,
            study_day=_study_day(run, occurred_on),
            detected_by=detected_by,
            detected_at=detected,
            recorded_by=recorded_by,
        )
        deviation.full_clean()
        deviation.save()
        DeviationAnimal.objects.bulk_create(
            [DeviationAnimal(deviation=deviation, animal=animal) for animal in chosen]
        )
    return deviation


def _dose_flags(run: StudyRun) -> list[_Flag]:
    flags = []
    rows = (
        DoseDeviation.objects.filter(dose__run=run, dose__voided_at__isnull=True)
        .select_related("dose__animal")
        .order_by("dose__scheduled_for", "dose__animal__tag", "kind", "pk")
    )
    for row in rows:
        dose = row.dose
        when = dose.given_at or dt.datetime.combine(
            dose.scheduled_for, dt.time(12), tzinfo=run.study.lab.zone
        )
        flags.append(
            _Flag(
                source=DeviationSource.DOSE,
                key=f"dose_deviation:{row.pk}",
                category=DeviationCategory.DOSING,
                description=(
                    f"Dose {dose.occurrence} of animal {dose.animal.tag} "
                    f"(scheduled {dose.scheduled_for:%Y-%m-%d}): {row.get_kind_display()} "
                    f"— {row.detail.rstrip('.')}."
                ),
                occurred_at=when,
                detected_by_id=dose.recorded_by_id,
                animal_ids=(dose.animal_id,),
                links={"dose_deviation": row},
            )
        )
    return flags


def _measurement_flags(run: StudyRun) -> list[_Flag]:
    flags = []
    readings = (
        Measurement.objects.filter(animal__run=run)
        .filter(is_late=True)
        .select_related("animal")
        .order_by("taken_at", "pk")
    )
    for reading in readings:
        flags.append(
            _Flag(
                source=DeviationSource.LATE_MEASUREMENT,
                key=f"late_measurement:{reading.pk}",
                category=DeviationCategory.MEASUREMENT,
                description=(
                    f"{reading.get_kind_display()} reading of animal {reading.animal.tag} taken "
                    f"{reading.taken_at:%Y-%m-%d %H:%M} UTC was entered "
                    f"{reading.received_at:%Y-%m-%d %H:%M} UTC, more than 24 h later."
                ),
                occurred_at=reading.taken_at,
                detected_by_id=reading.recorded_by_id,
                animal_ids=(reading.animal_id,),
                links={"measurement": reading},
            )
        )
    corrections = (
        Measurement.objects.filter(animal__run=run, correction_of__isnull=False)
        .select_related("animal", "correction_of")
        .order_by("taken_at", "pk")
    )
    for reading in corrections:
        original = reading.correction_of
        assert original is not None
        why = original.void_reason or "no reason recorded"
        flags.append(
            _Flag(
                source=DeviationSource.CORRECTED_MEASUREMENT,
                key=f"corrected_measurement:{reading.pk}",
                category=DeviationCategory.DOCUMENTATION,
                description=(
                    f"{reading.get_kind_display()} reading of animal {reading.animal.tag} taken "
                    f"{original.taken_at:%Y-%m-%d %H:%M} UTC was corrected: {why}."
                ),
                occurred_at=original.taken_at,
                detected_by_id=reading.recorded_by_id,
                animal_ids=(reading.animal_id,),
                links={"measurement": reading},
            )
        )
    return flags


def _endpoint_flags(run: StudyRun) -> list[_Flag]:
    flags = []
    episodes = (
        EndpointEpisode.objects.filter(animal__run=run, over_24_hours=True)
        .select_related("animal", "endpoint_record")
        .order_by("first_reached_at", "pk")
    )
    for episode in episodes:
        record = episode.endpoint_record
        flags.append(
            _Flag(
                source=DeviationSource.ENDPOINT_OVERRUN,
                key=f"endpoint_overrun:{episode.pk}",
                category=DeviationCategory.WELFARE,
                description=(
                    f"Animal {episode.animal.tag} reached a humane endpoint "
                    f"({episode.get_cause_display().lower()}) on "
                    f"{episode.first_reached_at:%Y-%m-%d %H:%M} UTC and left the study "
                    f"{episode.hours_to_endpoint} h later (limit 24 h)."
                ),
                occurred_at=episode.first_reached_at,
                detected_by_id=record.recorded_by_id if record else run.created_by_id,
                animal_ids=(episode.animal_id,),
                links={"endpoint_episode": episode},
            )
        )
    return flags


def _sample_flags(run: StudyRun) -> list[_Flag]:
    flags = []
    samples = (
        Sample.objects.filter(animal__run=run, outside_window=True, voided_at__isnull=True)
        .select_related("animal")
        .order_by("collected_at", "pk")
    )
    for sample in samples:
        flags.append(
            _Flag(
                source=DeviationSource.SAMPLE_WINDOW,
                key=f"sample_window:{sample.pk}",
                category=DeviationCategory.SAMPLING,
                description=(
                    f"{sample.get_tissue_display()} sample {sample.barcode} of animal "
                    f"{sample.animal.tag} was taken {sample.actual_minutes_after_dose} min after "
                    f"its reference dose, outside the window of "
                    f"{sample.nominal_hours_after_dose} h ± {sample.window_minutes} min."
                ),
                occurred_at=sample.collected_at,
                detected_by_id=sample.recorded_by_id,
                animal_ids=(sample.animal_id,),
                links={"sample": sample},
            )
        )
    return flags


def capture_flags(run: StudyRun) -> list[_Flag]:
    """Every capture flag of ``run`` that belongs in the deviation log, in time order."""
    flags = _dose_flags(run) + _measurement_flags(run) + _endpoint_flags(run) + _sample_flags(run)
    return sorted(flags, key=lambda flag: (flag.occurred_at, flag.key))


def raise_deviations_from_flags(*, run: StudyRun, raised_by: User) -> RaiseResult:
    """Add a log entry for each capture flag of ``run`` not yet in the log; flags already
    logged are left alone (whatever their assessment), so running it twice adds nothing."""
    require_role(raised_by, run.study.lab, REPORTERS, action="raise deviations from flags")
    ensure_study_writable(run.study)
    zone = run.study.lab.zone
    created: list[Deviation] = []
    by_source: dict[str, int] = {}
    with transaction.atomic(), audited_change(reason="raised from capture flags", required=False):
        _lock_log(run)
        flags = capture_flags(run)
        logged = set(
            Deviation.objects.filter(run=run, source_key__in=[flag.key for flag in flags])
            .values_list("source_key", flat=True)
            .iterator()
        )
        number = _next_number(run)
        for flag in flags:
            if flag.key in logged:
                continue
            occurred_on = flag.occurred_at.astimezone(zone).date()
            deviation = Deviation(
                run=run,
                number=number,
                source=flag.source,
                source_key=flag.key,
                category=flag.category,
                description=flag.description,
                occurred_on=occurred_on,
                study_day=_study_day(run, occurred_on),
                detected_by_id=flag.detected_by_id,
                detected_at=flag.occurred_at,
                recorded_by=raised_by,
                **flag.links,
            )
            deviation.full_clean()
            deviation.save()
            DeviationAnimal.objects.bulk_create(
                [
                    DeviationAnimal(deviation=deviation, animal_id=animal_id)
                    for animal_id in flag.animal_ids
                ]
            )
            created.append(deviation)
            by_source[flag.source] = by_source.get(flag.source, 0) + 1
            number += 1
    return RaiseResult(tuple(created), len(logged), by_source)


def _locked_deviation(deviation: Deviation, expected_version: int | None) -> Deviation:
    current = (
        Deviation.objects.select_for_update(of=("self",))
        .select_related("run__study__lab")
        .get(pk=deviation.pk)
    )
    if expected_version is not None and current.row_version != expected_version:
        raise StaleWrite(current)
    return current


def assess_deviation(
    *,
    deviation: Deviation,
    impact_assessment: str,
    corrective_action: str = "",
    assessed_by: User,
    expected_version: int | None = None,
    reason: str | None = None,
) -> Deviation:
    """The study director's impact assessment (and, if known, the corrective action). A first
    assessment needs no reason; changing an earlier one does, and the old text stays in the
    audit trail. A closed deviation cannot be reassessed."""
    require_role(
        assessed_by, deviation.run.study.lab, ASSESSORS, action="assess a deviation's impact"
    )
    ensure_study_writable(deviation.run.study)
    assessment = (impact_assessment or "").strip()
    action = (corrective_action or "").strip()
    if not assessment:
        raise ValidationError(
            {"impact_assessment": f"{deviation.code}: state the impact on the study."}
        )
    with transaction.atomic():
        current = _locked_deviation(deviation, expected_version)
        if current.status == DeviationStatus.CLOSED:
            raise ValidationError(f"{current.code} is closed: its assessment cannot change.")
        changing = bool(current.impact_assessment)
        with audited_change(reason=reason, required=changing):
            Deviation.objects.filter(pk=current.pk).update(
                impact_assessment=assessment,
                corrective_action=action or current.corrective_action,
                assessed_by=assessed_by,
                assessed_at=timezone.now(),
                status=DeviationStatus.ASSESSED,
                row_version=F("row_version") + 1,
            )
        current.refresh_from_db()
    return current


def close_deviation(
    *,
    deviation: Deviation,
    closed_by: User,
    corrective_action: str = "",
    expected_version: int | None = None,
) -> Deviation:
    """Close an assessed deviation once its corrective action is recorded (given here or at
    assessment)."""
    require_role(closed_by, deviation.run.study.lab, ASSESSORS, action="close a deviation")
    ensure_study_writable(deviation.run.study)
    with transaction.atomic():
        current = _locked_deviation(deviation, expected_version)
        if current.status == DeviationStatus.OPEN:
            raise ValidationError(
                f"{current.code} has no impact assessment yet: assess it before closing it."
            )
        if current.status == DeviationStatus.CLOSED:
            raise ValidationError(f"{current.code} is already closed.")
        action = (corrective_action or "").strip() or current.corrective_action
        if not action:
            raise ValidationError(
                {"corrective_action": f"{current.code}: record the corrective action."}
            )
        with audited_change(reason=f"{current.code} closed", required=False):
            Deviation.objects.filter(pk=current.pk).update(
                corrective_action=action,
                status=DeviationStatus.CLOSED,
                closed_by=closed_by,
                closed_at=timezone.now(),
                row_version=F("row_version") + 1,
            )
        current.refresh_from_db()
    return current
