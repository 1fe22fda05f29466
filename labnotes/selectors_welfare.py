"""Welfare reads for pages and the API, scoped to the user's labs: observations, checks,
endpoint episodes and records, the observation sheet of a run's day, and the animals projected
to pass a limit over a weekend or holiday. Nothing here names an arm."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from labnotes.capture.projection import (
    ProjectedCrossing,
    WeightLossProjection,
    fit_log_linear,
    project_weight_loss,
    projected_crossing,
    weight_loss_percent,
)
from labnotes.models import (
    Animal,
    AnimalStatus,
    CageAssignment,
    EndpointEpisode,
    EndpointRecord,
    Measurement,
    MeasurementKind,
    Observation,
    RunStatus,
    StudyRun,
    Tumour,
    UlcerationScore,
    WelfareCheck,
    WelfareCheckStatus,
)
from labnotes.models.welfare import OPEN_EPISODE_STATUSES
from labnotes.selectors import list_animals_for_user, list_runs_for_user
from labnotes.services.endpoint_status import WelfareLimits, welfare_limits
from labnotes.services.schedule import working_calendar
from planner.domain.protocol_parameters import WeightBaseline
from planner.models import Lab
from planner.selectors import UserLike


def _cage(field_name: str, path: str = "animal") -> Subquery:
    return Subquery(
        CageAssignment.objects.filter(animal=OuterRef(path), to_date__isnull=True).values(
            f"cage__{field_name}"
        )[:1]
    )


def list_observations_for_user(user: UserLike) -> QuerySet[Observation]:
    return (
        Observation.objects.filter(animal__run__in=list_runs_for_user(user))
        .select_related("animal__run__study", "observer")
        .prefetch_related(
            Prefetch("ulcerations", queryset=UlcerationScore.objects.select_related("tumour"))
        )
    )


def list_ulceration_scores_for_user(user: UserLike) -> QuerySet[UlcerationScore]:
    return UlcerationScore.objects.filter(
        observation__animal__run__in=list_runs_for_user(user)
    ).select_related("tumour", "observation")


def list_welfare_checks_for_user(user: UserLike) -> QuerySet[WelfareCheck]:
    return (
        WelfareCheck.objects.filter(animal__run__in=list_runs_for_user(user))
        .select_related("animal__run__study")
        .annotate(cage_label=_cage("label"), cage_room=_cage("room"))
    )


def list_episodes_for_user(user: UserLike) -> QuerySet[EndpointEpisode]:
    return (
        EndpointEpisode.objects.filter(animal__run__in=list_runs_for_user(user))
        .select_related("animal__run__study", "endpoint_record")
        .annotate(cage_label=_cage("label"), cage_room=_cage("room"))
    )


def list_endpoint_records_for_user(user: UserLike) -> QuerySet[EndpointRecord]:
    return EndpointRecord.objects.filter(animal__run__in=list_runs_for_user(user)).select_related(
        "animal__run__study", "recorded_by"
    )


def list_open_episodes_for_user(user: UserLike) -> QuerySet[EndpointEpisode]:
    """Episodes still open (or awaiting their repeat reading), oldest first."""
    return (
        list_episodes_for_user(user)
        .filter(status__in=OPEN_EPISODE_STATUSES)
        .order_by("first_reached_at", "pk")
    )


def list_checks_for_day(
    user: UserLike, *, day: dt.date, room: str | None = None
) -> QuerySet[WelfareCheck]:
    """Welfare checks due on ``day`` and overdue ones still due, done ones of ``day``."""
    checks = list_welfare_checks_for_user(user).filter(
        Q(due_date=day) & ~Q(status=WelfareCheckStatus.CANCELLED)
        | Q(due_date__lt=day, status=WelfareCheckStatus.DUE)
    )
    if room:
        checks = checks.filter(cage_room=room)  # type: ignore[misc]
    return checks.order_by("cage_room", "cage_label", "animal__tag", "due_date", "kind")


# -- the observation sheet of a run's day --------------------------------------------------------


@dataclass
class SheetRow:
    """One animal of the observation page: its tumours and the day's observations so far."""

    animal: Animal
    cage_label: str | None
    tumours: list[Tumour]
    observations: list[Observation] = field(default_factory=list)
    checks_due: list[WelfareCheck] = field(default_factory=list)
    weight_projection: WeightLossProjection | None = None


def observation_sheet(
    user: UserLike, run: StudyRun, day: dt.date, *, limits: WelfareLimits | None = None
) -> list[SheetRow]:
    """Animals of ``run`` on study (and those that left on ``day``), in cage order, with their
    tumours, the day's valid observations, the welfare checks due that day and the projection
    of their weight loss to the endpoint (weights up to the end of ``day``). Five queries."""
    lab = run.study.lab
    start = dt.datetime.combine(day, dt.time.min, tzinfo=lab.zone)
    end = start + dt.timedelta(days=1)
    animals = list(
        list_animals_for_user(user)
        .filter(run=run, arm__isnull=False)
        .filter(Q(status=AnimalStatus.ON_STUDY) | Q(status_changed_at__gte=start))
        .order_by("cage_room", "cage_rack", "cage_label", "tag")
        .prefetch_related(Prefetch("tumours", queryset=Tumour.objects.order_by("pk")))
    )
    observations: dict[int, list[Observation]] = defaultdict(list)
    for observation in (
        Observation.objects.filter(
            animal__in=animals, observed_at__gte=start, observed_at__lt=end, voided_at__isnull=True
        )
        .select_related("observer")
        .prefetch_related(
            Prefetch("ulcerations", queryset=UlcerationScore.objects.select_related("tumour"))
        )
        .order_by("observed_at", "pk")
    ):
        observations[observation.animal_id].append(observation)
    checks: dict[int, list[WelfareCheck]] = defaultdict(list)
    for check in WelfareCheck.objects.filter(
        animal__in=animals, due_date__lte=day, status=WelfareCheckStatus.DUE
    ):
        checks[check.animal_id].append(check)
    projections = weight_projections(
        animals, run=run, limits=limits or welfare_limits(run.study), until=end
    )
    return [
        SheetRow(
            animal=animal,
            cage_label=getattr(animal, "cage_label", None),
            tumours=list(animal.tumours.all()),
            observations=observations[animal.pk],
            checks_due=checks[animal.pk],
            weight_projection=projections.get(animal.pk),
        )
        for animal in animals
    ]


# -- body-weight projection ----------------------------------------------------------------------


def weight_projections(
    animals: list[Animal], *, run: StudyRun, limits: WelfareLimits, until: dt.datetime
) -> dict[int, WeightLossProjection]:
    """Per animal of ``run``: the projection of its weight loss to the weight-loss endpoint
    from its last three valid weights taken before ``until`` (one query; two when corrected).

    The loss is measured as the endpoint status measures it: from the same baseline (the
    latest weight on or before the baseline day — treatment start or day 0 —, else the
    earliest weight) and, when the body-weight protocol corrects for the tumour, on the weight
    less the animal's tumour mass at the time of each weighing (its latest valid caliper volume
    per tumour at or before then). A projection on the raw weight would lag the judgement it
    forecasts exactly for the animals with the largest tumours.
    """
    limit = limits.endpoints.max_weight_loss_percent
    if limit is None or not animals:
        return {}
    lab = run.study.lab
    weights: dict[int, list[tuple[dt.datetime, float]]] = defaultdict(list)
    for animal_id, taken_at, weight in (
        Measurement.objects.filter(
            animal__in=animals,
            kind=MeasurementKind.WEIGHT,
            voided_at__isnull=True,
            weight_g__isnull=False,
            taken_at__lt=until,
        )
        .order_by("taken_at", "pk")
        .values_list("animal_id", "taken_at", "weight_g")
    ):
        if weight is not None:
            weights[animal_id].append((taken_at, float(weight)))
    calipers: dict[int, list[tuple[dt.datetime, int, float]]] = defaultdict(list)
    if limits.tumour_corrected:
        for animal_id, taken_at, tumour_id, volume in (
            Measurement.objects.filter(
                animal__in=animals,
                kind=MeasurementKind.CALIPER,
                voided_at__isnull=True,
                volume_mm3__isnull=False,
                tumour__isnull=False,
                taken_at__lt=until,
            )
            .order_by("taken_at", "pk")
            .values_list("animal_id", "taken_at", "tumour_id", "volume_mm3")
        ):
            if volume is not None and tumour_id is not None:
                calipers[animal_id].append((taken_at, tumour_id, float(volume)))

    def tumour_mm3(animal_id: int, at: dt.datetime) -> float:
        """The animal's total tumour volume at ``at``: the latest reading of each tumour."""
        latest: dict[int, float] = {}
        for taken_at, tumour_id, volume in calipers.get(animal_id, []):
            if taken_at > at:
                break
            latest[tumour_id] = volume
        return sum(latest.values())

    found: dict[int, WeightLossProjection] = {}
    for animal in animals:
        readings = weights.get(animal.pk, [])
        if not readings:
            continue
        by_randomization = limits.weight_baseline is WeightBaseline.RANDOMIZATION
        day = (
            animal.treatment_start_date
            if by_randomization and animal.treatment_start_date
            else run.day0
        )
        boundary = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=lab.zone)
        before = [reading for reading in readings if reading[0] < boundary]
        baseline_at, baseline = before[-1] if before else readings[0]
        baseline_tumour = tumour_mm3(animal.pk, baseline_at) if limits.tumour_corrected else 0.0
        try:
            points = [
                (
                    _study_day_float(run.day0, lab, taken_at),
                    weight_loss_percent(
                        weight,
                        baseline,
                        tumour_mm3=(
                            tumour_mm3(animal.pk, taken_at) if limits.tumour_corrected else 0.0
                        ),
                        baseline_tumour_mm3=baseline_tumour,
                        tumour_corrected=limits.tumour_corrected,
                    ),
                )
                for taken_at, weight in readings
            ]
        except ValueError:  # no baseline left above 0 g: no loss to project
            continue
        projection = project_weight_loss(points, limit_percent=float(limit))
        if projection is not None:
            found[animal.pk] = projection
    return found


# -- projections before a weekend or holiday -------------------------------------------------------


@dataclass(frozen=True)
class ProjectionRow:
    """An animal projected to pass a limit before the lab's next working day."""

    animal: Animal
    cage_label: str | None
    next_working_day: dt.date
    crossings: tuple[ProjectedCrossing, ...]

    @property
    def message(self) -> str:
        return "; ".join(crossing.message for crossing in self.crossings)


def next_working_day(lab: Lab, today: dt.date) -> tuple[dt.date, bool]:
    """The lab's next working day after ``today``, and whether a non-working day comes first
    (a weekend, a holiday or a closure): only then are projections worth showing."""
    calendar = working_calendar(lab)
    day = today + dt.timedelta(days=1)
    for _ in range(60):
        if calendar.is_working_day(day):
            break
        day += dt.timedelta(days=1)
    return day, day > today + dt.timedelta(days=1)


def _study_day_float(day0: dt.date, lab: Lab, moment: dt.datetime) -> float:
    origin = dt.datetime.combine(day0, dt.time.min, tzinfo=lab.zone)
    return (moment - origin).total_seconds() / 86400


#: Projections aim at this local time of the next working day (the morning round).
MORNING = dt.time(9, 0)


def projected_before_break(user: UserLike, *, lab: Lab, today: dt.date) -> list[ProjectionRow]:
    """Animals of ``lab``'s active runs projected (log-linear fit of each tumour's last three
    volumes, and of its last three lengths for the diameter) to pass a volume or diameter
    limit before the morning of the next working day. Empty when tomorrow is a working day.

    Total volume (with a total limit) is the sum of the tumours' projections.
    """
    target_day, breaks = next_working_day(lab, today)
    if not breaks:
        return []
    animals = list(
        list_animals_for_user(user)
        .filter(
            run__study__lab=lab,
            run__status=RunStatus.ACTIVE,
            status=AnimalStatus.ON_STUDY,
            arm__isnull=False,
        )
        .select_related("run__study__ethics_protocol", "run__study__lab")
        .order_by("cage_room", "cage_label", "tag")
    )
    if not animals:
        return []
    readings: dict[int, list[Any]] = defaultdict(list)
    for row in (
        Measurement.objects.filter(
            animal__in=animals,
            kind=MeasurementKind.CALIPER,
            voided_at__isnull=True,
            volume_mm3__isnull=False,
        )
        .order_by("taken_at", "pk")
        .values("animal_id", "tumour_id", "taken_at", "volume_mm3", "length_mm")
    ):
        readings[row["animal_id"]].append(row)
    limits_by_study: dict[int, WelfareLimits] = {}
    target = dt.datetime.combine(target_day, MORNING, tzinfo=lab.zone)
    rows: list[ProjectionRow] = []
    for animal in animals:
        run = animal.run
        if run.study_id not in limits_by_study:
            limits_by_study[run.study_id] = welfare_limits(run.study)
        limits = limits_by_study[run.study_id].endpoints
        at_day = _study_day_float(run.day0, lab, target)
        by_tumour: dict[int, list[Any]] = defaultdict(list)
        for row in readings.get(animal.pk, []):
            by_tumour[row["tumour_id"]].append(row)
        crossings: list[ProjectedCrossing] = []
        total = 0.0
        for tumour_rows in by_tumour.values():
            volumes = [
                (_study_day_float(run.day0, lab, r["taken_at"]), float(r["volume_mm3"]))
                for r in tumour_rows
            ]
            lengths = [
                (_study_day_float(run.day0, lab, r["taken_at"]), float(r["length_mm"]))
                for r in tumour_rows
                if r["length_mm"] is not None
            ]
            volume = projected_crossing(volumes, at_day=at_day, limit=limits.max_volume_mm3)
            if volume is not None:
                crossings.append(volume)
            diameter = projected_crossing(
                lengths, at_day=at_day, limit=limits.max_diameter_mm, limit_name="diameter"
            )
            if diameter is not None:
                crossings.append(diameter)
            fit = fit_log_linear(volumes)
            total += fit.value_at(at_day) if fit is not None else volumes[-1][1]
        if (
            limits.max_total_volume_mm3 is not None
            and len(by_tumour) > 1
            and total >= limits.max_total_volume_mm3
        ):
            crossings.append(
                ProjectedCrossing("total volume", total, limits.max_total_volume_mm3, at_day)
            )
        if crossings:
            rows.append(
                ProjectionRow(
                    animal=animal,
                    cage_label=getattr(animal, "cage_label", None),
                    next_working_day=target_day,
                    crossings=tuple(crossings),
                )
            )
    return rows
