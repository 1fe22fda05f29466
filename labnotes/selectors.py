"""Reads shared by pages, API and reports, scoped to what the user may see — blinding included.

Blinding (DESIGN invariant 4): in a blinded study a user who is neither an unblinded study
member nor covered by a study-level unblinding sees arm *codes* only — never labels, agents,
doses or per-arm counts — and no dose tasks unless they may dose (``can_dose``). Every read that
could reveal the allocation goes through :func:`blinding_for`, and ordering or filtering by arm
is by code only. Objects outside the user's labs are absent (views answer 404).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from labnotes.models import (
    Animal,
    AnimalStatus,
    BatchStatus,
    Cage,
    CageAssignment,
    Measurement,
    MeasurementKind,
    RandomizationBatch,
    StudyRun,
    Task,
    TaskKind,
    Tumour,
    TumourRole,
    Unblinding,
    UnblindingScope,
)
from labnotes.selectors_measurements import counted_measurements as counted_measurements
from labnotes.selectors_measurements import (
    list_stored_files_for_user as list_stored_files_for_user,
)
from labnotes.selectors_measurements import (
    list_transcription_sheets_for_user as list_transcription_sheets_for_user,
)
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import RandomizationParameters
from planner.models import Arm, ProcedureRole, Study, StudyMember
from planner.selectors import UserLike, list_studies_for_user

# -- blinding --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Blinding:
    """What one user may learn about one study's allocation."""

    sees_allocation: bool
    sees_dosing: bool

    @property
    def blinded(self) -> bool:
        return not self.sees_allocation


def blinding_for(user: UserLike, study: Study) -> Blinding:
    """The user's view of ``study``: allocation (labels, agents, doses) and dosing tasks."""
    if not study.blinded:
        return Blinding(True, True)
    if not user.is_authenticated:
        return Blinding(False, False)
    member = StudyMember.objects.filter(study=study, user=user).first()
    unblinded = (
        bool(member and member.unblinded)
        or Unblinding.objects.filter(study=study, scope=UnblindingScope.STUDY).exists()
    )
    return Blinding(unblinded, unblinded or bool(member and member.can_dose))


def allocation_visible(user: UserLike, study: Study) -> bool:
    return blinding_for(user, study).sees_allocation


def studies_with_allocation_visible(user: UserLike) -> QuerySet[Study]:
    """Studies whose allocation the user may see (unblinded design, member, or unblinded)."""
    studies = list_studies_for_user(user)
    if not user.is_authenticated:
        return studies
    return studies.filter(
        Q(blinded=False)
        | Q(members__user=user, members__unblinded=True)
        | Q(unblindings__scope=UnblindingScope.STUDY)
    ).distinct()


def studies_with_dosing_visible(user: UserLike) -> QuerySet[Study]:
    studies = list_studies_for_user(user)
    if not user.is_authenticated:
        return studies
    return studies.filter(
        Q(pk__in=studies_with_allocation_visible(user).values("pk"))
        | Q(members__user=user, members__can_dose=True)
    ).distinct()


# -- scoped lists ----------------------------------------------------------------------------


def list_runs_for_user(user: UserLike) -> QuerySet[StudyRun]:
    return StudyRun.objects.filter(study__in=list_studies_for_user(user)).select_related(
        "study__lab", "created_by", "parent_run"
    )


def _current_cage_subquery(field: str) -> Subquery:
    return Subquery(
        CageAssignment.objects.filter(animal=OuterRef("pk"), to_date__isnull=True).values(field)[:1]
    )


def list_animals_for_user(user: UserLike) -> QuerySet[Animal]:
    """Animals with ``arm_code`` and the current cage annotated (never the arm label)."""
    return (
        Animal.objects.filter(run__in=list_runs_for_user(user))
        .select_related("run__study", "arm")
        .annotate(
            cage_label=_current_cage_subquery("cage__label"),
            cage_room=_current_cage_subquery("cage__room"),
            cage_rack=_current_cage_subquery("cage__rack"),
            cage_position=_current_cage_subquery("cage__position"),
        )
    )


def list_cages_for_user(user: UserLike) -> QuerySet[Cage]:
    from planner.selectors import list_labs_for_user

    return Cage.objects.filter(lab__in=list_labs_for_user(user)).select_related("run", "lab")


def list_cage_assignments_for_user(user: UserLike) -> QuerySet[CageAssignment]:
    return CageAssignment.objects.filter(cage__in=list_cages_for_user(user))


def list_tumours_for_user(user: UserLike) -> QuerySet[Tumour]:
    return Tumour.objects.filter(animal__run__in=list_runs_for_user(user)).select_related(
        "animal", "implantation"
    )


def list_measurements_for_user(user: UserLike) -> QuerySet[Measurement]:
    return Measurement.objects.filter(animal__run__in=list_runs_for_user(user)).select_related(
        "animal", "tumour", "operator"
    )


def list_batches_for_user(user: UserLike) -> QuerySet[RandomizationBatch]:
    """Randomization batches only where the user may see the allocation (they hold it)."""
    return RandomizationBatch.objects.filter(
        run__study__in=studies_with_allocation_visible(user)
    ).select_related("run__study")


def list_tasks_for_user(user: UserLike) -> QuerySet[Task]:
    """Tasks of the user's labs; dose tasks only in studies where the user may see dosing."""
    return (
        Task.objects.filter(run__in=list_runs_for_user(user))
        .filter(~Q(kind=TaskKind.DOSE) | Q(run__study__in=studies_with_dosing_visible(user)))
        .select_related("animal__arm", "run__study", "regimen_item", "procedure", "assignee")
        .annotate(
            task_date=Coalesce("scheduled_date", "nominal_date"),
            cage_label=Subquery(
                CageAssignment.objects.filter(
                    animal=OuterRef("animal"), to_date__isnull=True
                ).values("cage__label")[:1]
            ),
            cage_room=Subquery(
                CageAssignment.objects.filter(
                    animal=OuterRef("animal"), to_date__isnull=True
                ).values("cage__room")[:1]
            ),
        )
    )


def list_unblindings_for_user(user: UserLike) -> QuerySet[Unblinding]:
    """Unblinding events (for reports and QA): who, when, why — never the allocation."""
    return Unblinding.objects.filter(study__in=list_studies_for_user(user)).select_related(
        "study", "animal", "performed_by"
    )


# -- dosing records: only in studies where the user sees dosing (unblinded or can_dose) ---------


def list_formulation_batches_for_user(user: UserLike) -> QuerySet[Any]:
    from labnotes.models import FormulationBatch

    return FormulationBatch.objects.filter(
        study__in=studies_with_dosing_visible(user)
    ).select_related("study__lab", "regimen_item", "prepared_by", "recorded_by")


def list_doses_for_user(user: UserLike) -> QuerySet[Any]:
    from labnotes.models import DoseRecord

    return DoseRecord.objects.filter(
        run__study__in=studies_with_dosing_visible(user)
    ).select_related("run__study", "animal__arm", "regimen_item", "batch", "operator")


def list_dose_deviations_for_user(user: UserLike) -> QuerySet[Any]:
    from labnotes.models import DoseDeviation

    return DoseDeviation.objects.filter(dose__in=list_doses_for_user(user))


def list_dose_modifications_for_user(user: UserLike) -> QuerySet[Any]:
    from labnotes.models import DoseModification

    return DoseModification.objects.filter(
        run__study__in=studies_with_dosing_visible(user)
    ).select_related("run__study", "animal__arm", "regimen_item", "decided_by")


def list_tasks_for_day(
    user: UserLike, *, day: dt.date, room: str | None = None, person: Any = None
) -> QuerySet[Task]:
    """The Today list: tasks scheduled on ``day`` plus overdue due ones, in rack/cage order."""
    tasks = list_tasks_for_user(user).filter(Q(task_date=day) | Q(task_date__lt=day, status="due"))
    if room:
        tasks = tasks.filter(cage_room=room)  # type: ignore[misc]
    if person is not None:
        tasks = tasks.filter(Q(assignee=person) | Q(assignee__isnull=True))
    return tasks.order_by("cage_room", "cage_label", "animal__tag", "kind", "task_date")


# -- arms as a user may see them ---------------------------------------------------------------


def arm_counts(run: StudyRun, user: UserLike) -> list[dict[str, Any]] | None:
    """Animals per arm for unblinded users; ``None`` for blinded ones (no per-arm counts)."""
    if not allocation_visible(user, run.study):
        return None
    rows = []
    for arm in run.study.arms.all():
        rows.append(
            {
                "arm_code": arm.code,
                "arm_label": arm.label,
                "planned_n": arm.planned_n,
                "allocated": Animal.objects.filter(run=run, arm=arm).count(),
            }
        )
    return rows


# -- staging ---------------------------------------------------------------------------------


def randomization_parameters(study: Study) -> RandomizationParameters | None:
    procedure = (
        study.procedures.filter(role=ProcedureRole.RANDOMIZATION)
        .select_related("protocol_version")
        .first()
    )
    if procedure is None:
        return None
    try:
        return RandomizationParameters.from_dict(procedure.protocol_version.parameters)
    except ParameterErrors:
        return None


@dataclass(frozen=True)
class StagingRow:
    """One animal at staging: its current tumour volume and weight against the window."""

    animal: Animal
    volume_mm3: Decimal | None
    volume_taken_at: dt.datetime | None
    weight_g: Decimal | None
    cage_label: str | None
    eligible: bool
    reason: str


def latest_readings(animals: Sequence[Animal]) -> dict[int, dict[str, Any]]:
    """Per animal: the latest non-voided injected-tumour volume and weight (with when)."""
    found: dict[int, dict[str, Any]] = {animal.pk: {} for animal in animals}
    readings = (
        Measurement.objects.filter(animal__in=list(animals), voided_at__isnull=True)
        .filter(Q(kind=MeasurementKind.WEIGHT) | Q(tumour__role=TumourRole.INJECTED))
        # NM / ND codes carry no value: they never hide the latest real one (NP is volume 0).
        .filter(Q(volume_mm3__isnull=False) | Q(weight_g__isnull=False))
        .order_by("animal_id", "kind", "-taken_at", "-pk")
        .values("animal_id", "kind", "volume_mm3", "weight_g", "taken_at")
    )
    for row in readings:
        slot = found[row["animal_id"]]
        if row["kind"] == MeasurementKind.CALIPER and "volume_mm3" not in slot:
            slot["volume_mm3"] = row["volume_mm3"]
            slot["volume_taken_at"] = row["taken_at"]
        elif row["kind"] == MeasurementKind.WEIGHT and "weight_g" not in slot:
            slot["weight_g"] = row["weight_g"]
            slot["weight_taken_at"] = row["taken_at"]
    return found


def staging_rows(run: StudyRun) -> list[StagingRow]:
    """Animals on study and not yet randomized, by current tumour volume (largest first),
    each marked eligible or not against the randomization protocol's window.

    No arm appears here: staging happens before allocation and is the same for everyone.
    """
    parameters = randomization_parameters(run.study)
    animals = list(
        Animal.objects.filter(run=run, arm__isnull=True, status=AnimalStatus.ON_STUDY)
        .annotate(cage_label=_current_cage_subquery("cage__label"))
        .order_by("tag")
    )
    readings = latest_readings(animals)
    rows: list[StagingRow] = []
    for animal in animals:
        slot = readings[animal.pk]
        volume = slot.get("volume_mm3")
        weight = slot.get("weight_g")
        reason = ""
        if volume is None:
            reason = "no tumour volume yet"
        elif parameters is not None and not (
            parameters.eligible_volume_min_mm3
            <= float(volume)
            <= parameters.eligible_volume_max_mm3
        ):
            reason = (
                f"volume {volume} mm³ outside {parameters.eligible_volume_min_mm3:g}-"
                f"{parameters.eligible_volume_max_mm3:g} mm³"
            )
        elif parameters is not None and (
            parameters.eligible_weight_min_g is not None
            or parameters.eligible_weight_max_g is not None
        ):
            low = parameters.eligible_weight_min_g or 0.0
            high = parameters.eligible_weight_max_g or float("inf")
            if weight is None:
                reason = "no body weight yet"
            elif not low <= float(weight) <= high:
                reason = f"weight {weight} g outside the eligible range"
        rows.append(
            StagingRow(
                animal=animal,
                volume_mm3=volume,
                volume_taken_at=slot.get("volume_taken_at"),
                weight_g=weight,
                cage_label=getattr(animal, "cage_label", None),
                eligible=not reason,
                reason=reason,
            )
        )
    rows.sort(key=lambda row: (row.volume_mm3 is None, -(row.volume_mm3 or 0), row.animal.tag))
    return rows


def applied_batches(run: StudyRun) -> QuerySet[RandomizationBatch]:
    return RandomizationBatch.objects.filter(run=run, status=BatchStatus.APPLIED).order_by("number")


def animal_history_chain(animal: Animal) -> list[Animal]:
    """The same mouse across runs, oldest first (re-challenge keeps its whole history)."""
    chain = [animal]
    while chain[0].origin_id is not None:
        chain.insert(0, Animal.objects.get(pk=chain[0].origin_id))
    current = animal
    while True:
        following = Animal.objects.filter(origin=current).first()
        if following is None:
            break
        chain.append(following)
        current = following
    return chain


def arms_by_code(study: Study) -> dict[str, Arm]:
    return {arm.code: arm for arm in study.arms.all()}


def order_by_arm_code(queryset: QuerySet[Animal], descending: bool = False) -> QuerySet[Animal]:
    return queryset.order_by(("-" if descending else "") + "arm__code", "tag")


def exists_allocation(run: StudyRun) -> bool:
    return Animal.objects.filter(run=run, arm__isnull=False).exists()


# -- run pages -------------------------------------------------------------------------------


def arm_summaries(run: StudyRun, user: UserLike) -> list[dict[str, Any]] | None:
    """:func:`arm_counts` with each arm's regimen as text; ``None`` for blinded users."""
    rows = arm_counts(run, user)
    if rows is None:
        return None
    regimens: dict[str, list[str]] = {}
    for arm in run.study.arms.prefetch_related("regimen_items"):
        regimens[arm.code] = [
            f"{item.agent} {item.dose.normalize():f} {item.dose_basis} {item.route}"
            for item in arm.regimen_items.all()
        ]
    return [{**row, "regimen": regimens.get(row["arm_code"], [])} for row in rows]


def list_run_animals_for_user(user: UserLike, run: StudyRun) -> QuerySet[Animal]:
    """The run's animals in cage order (room, rack, cage, tag) — never ordered by arm."""
    return (
        list_animals_for_user(user)
        .filter(run=run)
        .order_by("cage_room", "cage_rack", "cage_label", "tag")
    )


def list_rooms_for_user(user: UserLike) -> list[str]:
    """Rooms of the user's labs' cages (for the Today page's room choice)."""
    return sorted(
        {room for room in list_cages_for_user(user).values_list("room", flat=True) if room}
    )


def list_run_cages_for_user(user: UserLike, run: StudyRun) -> QuerySet[Cage]:
    from django.db.models import Count

    return (
        list_cages_for_user(user)
        .filter(Q(run=run) | Q(run__isnull=True, assignments__animal__run=run))
        .annotate(
            occupants=Count(
                "assignments",
                filter=Q(assignments__to_date__isnull=True),
                distinct=True,
            )
        )
        .distinct()
    )


def list_endpoint_alerts_for_user(user: UserLike) -> list[dict[str, Any]]:
    """Animals on study in active runs whose latest readings approach or reach a humane
    endpoint: tag, cage, run, status and what. Nothing about arms (same for every reader)."""
    from labnotes.models import RunStatus
    from labnotes.services.prints import endpoint_limits, endpoint_status, last_readings

    alerts: list[dict[str, Any]] = []
    animals = list(
        list_animals_for_user(user).filter(
            status=AnimalStatus.ON_STUDY, run__status=RunStatus.ACTIVE
        )
    )
    readings = last_readings(animals)
    limits: dict[int, Any] = {}
    for animal in animals:
        study = animal.run.study
        if study.pk not in limits:
            limits[study.pk] = endpoint_limits(study)
        status = endpoint_status(readings[animal.pk], limits[study.pk])
        if status != "ok":
            caliper = readings[animal.pk].get("caliper") or {}
            alerts.append(
                {
                    "animal": animal,
                    "status": status,
                    "volume_mm3": caliper.get("volume_mm3"),
                    "cage_label": getattr(animal, "cage_label", None),
                }
            )
    alerts.sort(key=lambda row: (row["status"] != "reached", row["animal"].tag))
    return alerts
