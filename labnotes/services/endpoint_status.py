"""Humane endpoint status, evaluated on every saved reading and observation.

The limits in force are the strictest of the ethics protocol's approved limits and the design's
own (its ``humane_endpoints`` and its humane-endpoint protocol): a design may be stricter than
the ethics committee, never looser. Each reading is judged ok, approaching (80 % of a limit) or
reached; "reached" opens an :class:`EndpointEpisode` that stays open until an endpoint record
closes it, and alerts the study director, the technician and the veterinarians.

Repeat before alert. A reading typed into the interactive measurement grid that reaches a limit
first asks the technician for an immediate repeat (the grid's ``needs_repeat``): the episode
waits (``awaiting_repeat``), nobody is alerted yet. The next reading of the same tumour (or the
weight) on the same study day — linked by ``repeat_of`` or not — is the repeat: at the limit it
confirms the episode and alerts; below it dismisses the episode, kept with the reason. Every
other path (API and instruments, forms, transcription, import) has no one standing at the cage
to repeat, so a reached reading alerts at once. Imported readings (``entry_method=import``: past
data) open episodes without alerting anyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from labnotes.capture.checks import (
    EndpointFinding,
    EndpointLimits,
    EndpointReading,
    EndpointStatus,
    endpoint_findings,
)
from labnotes.capture.projection import weight_loss_percent
from labnotes.models import (
    Animal,
    AnimalStatus,
    CageAssignment,
    EndpointCause,
    EndpointEpisode,
    EndpointLevel,
    EntryMethod,
    EpisodeStatus,
    Measurement,
    MeasurementKind,
    Observation,
)
from labnotes.models.welfare import OPEN_EPISODE_STATUSES
from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import (
    BodyWeightParameters,
    ClinicalObservationParameters,
    HumaneEndpoints,
    WeightBaseline,
)
from planner.models import Membership, ProcedureRole, Role, Study, StudyMember

# -- limits ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WelfareLimits:
    """Every limit and setting the endpoint checks need for one study.

    ``endpoints`` holds the numeric limits (per-tumour and total volume, diameter, weight
    loss); ``sources`` names where the limits came from, for pages and messages.
    """

    endpoints: EndpointLimits
    ulceration_score_limit: int | None
    clinical_score_limit: int | None
    tumour_corrected: bool
    weight_baseline: WeightBaseline
    score_sheet: ClinicalObservationParameters | None
    score_sheet_version_id: int | None
    sources: tuple[str, ...]


def _strictest(values: Iterable[float | int | None]) -> Any:
    present = [value for value in values if value is not None]
    return min(present) if present else None


def welfare_limits(study: Study) -> WelfareLimits:
    """The limits in force for ``study``: the strictest of the ethics protocol's approved
    limits, the design's ``humane_endpoints`` and its humane-endpoint protocol version; the
    DESIGN defaults (2000 mm³, 20 mm, 20 %, ulceration 3) when none of them sets any.

    Two queries (ethics protocol, procedures); :func:`welfare_limits_from` builds the same
    from parts a caller has read already. A source whose parameters do not parse is left out
    (the planner refuses such parameters; stored ones predate a rule change).
    """
    by_role = {
        procedure.role: procedure
        for procedure in study.procedures.filter(
            role__in=[
                ProcedureRole.HUMANE_ENDPOINTS,
                ProcedureRole.BODY_WEIGHT,
                ProcedureRole.CLINICAL_OBSERVATION,
            ]
        ).select_related("protocol_version")
    }  # one procedure per role (study_procedure_one_per_role)
    parameters = {role: p.protocol_version.parameters or {} for role, p in by_role.items()}
    endpoint = by_role.get(ProcedureRole.HUMANE_ENDPOINTS)
    observation = by_role.get(ProcedureRole.CLINICAL_OBSERVATION)
    endpoint_name = (
        f"protocol {endpoint.protocol_version}" if endpoint else "humane-endpoint protocol"
    )
    observation_version = observation.protocol_version_id if observation else None
    return welfare_limits_from(
        study,
        endpoint_parameters=parameters.get(ProcedureRole.HUMANE_ENDPOINTS),
        endpoint_source=endpoint_name,
        body_weight_parameters=parameters.get(ProcedureRole.BODY_WEIGHT),
        observation_parameters=parameters.get(ProcedureRole.CLINICAL_OBSERVATION),
        observation_version_id=observation_version,
    )


def welfare_limits_from(
    study: Study,
    *,
    endpoint_parameters: object,
    body_weight_parameters: object,
    observation_parameters: object,
    observation_version_id: int | None,
    endpoint_source: str = "humane-endpoint protocol",
) -> WelfareLimits:
    """:func:`welfare_limits` from the design's protocol parameters already read (no query
    when ``study.ethics_protocol`` was loaded with it, as ``annotate_capture`` does)."""
    sources: list[tuple[str, HumaneEndpoints]] = []

    def add(name: str, data: object) -> None:
        if isinstance(data, dict) and data:
            try:
                sources.append((name, HumaneEndpoints.from_dict(data)))
            except (ParameterErrors, TypeError, ValueError):
                pass

    if study.ethics_protocol_id is not None:
        ethics = study.ethics_protocol
        assert ethics is not None
        add(f"ethics protocol {ethics.number}", ethics.endpoint_limits)
    add("study design", study.humane_endpoints)
    add(endpoint_source, endpoint_parameters)
    body_weight: BodyWeightParameters | None = None
    sheet: ClinicalObservationParameters | None = None
    if isinstance(body_weight_parameters, dict):
        try:
            body_weight = BodyWeightParameters.from_dict(body_weight_parameters)
        except ParameterErrors:
            body_weight = None
    if isinstance(observation_parameters, dict):
        try:
            sheet = ClinicalObservationParameters.from_dict(observation_parameters)
        except ParameterErrors:
            sheet = None
    found = [limits for _, limits in sources] or [HumaneEndpoints()]
    clinical = _strictest(
        [limits.clinical_score_limit for limits in found]
        + [sheet.total_score_limit if sheet is not None else None]
    )
    return WelfareLimits(
        endpoints=EndpointLimits(
            max_volume_mm3=_strictest(limits.max_volume_mm3 for limits in found),
            max_total_volume_mm3=_strictest(limits.max_total_volume_mm3 for limits in found),
            max_diameter_mm=_strictest(limits.max_diameter_mm for limits in found),
            max_weight_loss_percent=_strictest(limits.max_weight_loss_percent for limits in found),
        ),
        ulceration_score_limit=_strictest(limits.ulceration_score_limit for limits in found),
        clinical_score_limit=clinical,
        tumour_corrected=body_weight.tumour_corrected if body_weight else False,
        weight_baseline=body_weight.baseline if body_weight else WeightBaseline.RANDOMIZATION,
        score_sheet=sheet,
        score_sheet_version_id=observation_version_id if sheet is not None else None,
        sources=tuple(name for name, _ in sources) or ("defaults",),
    )


# -- the readings' values ----------------------------------------------------------------------


def _latest_volumes(animal: Animal, *, until: dt.datetime) -> dict[int, float]:
    """The latest valid volume of each of the animal's tumours taken at or before ``until``."""
    rows = (
        Measurement.objects.filter(
            animal=animal,
            kind=MeasurementKind.CALIPER,
            voided_at__isnull=True,
            volume_mm3__isnull=False,
            taken_at__lte=until,
        )
        .order_by("tumour_id", "-taken_at", "-pk")
        .distinct("tumour_id")
        .values_list("tumour_id", "volume_mm3")
    )
    return {
        tumour_id: float(volume)
        for tumour_id, volume in rows
        if tumour_id is not None and volume is not None
    }


def baseline_weight(
    animal: Animal, baseline: WeightBaseline
) -> tuple[Decimal, dt.datetime | None] | None:
    """The baseline body weight and when it was taken: the latest valid weight on or before the
    baseline day (randomization, i.e. treatment start, or day 0), else the earliest weight
    recorded, else the arrival weight (time unknown)."""
    run = animal.run
    lab = run.study.lab
    day = (
        animal.treatment_start_date
        if baseline is WeightBaseline.RANDOMIZATION and animal.treatment_start_date
        else run.day0
    )
    boundary = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=lab.zone)
    weights = Measurement.objects.filter(
        animal=animal, kind=MeasurementKind.WEIGHT, voided_at__isnull=True, weight_g__isnull=False
    )
    row = (
        weights.filter(taken_at__lt=boundary)
        .order_by("-taken_at", "-pk")
        .values_list("weight_g", "taken_at")
        .first()
    ) or weights.order_by("taken_at", "pk").values_list("weight_g", "taken_at").first()
    if row is not None and row[0] is not None:
        return Decimal(row[0]), row[1]
    if animal.arrival_weight_g:
        return Decimal(animal.arrival_weight_g), None
    return None


def _latest_volumes_in(readings: Sequence[Measurement], *, until: dt.datetime) -> dict[int, float]:
    """:func:`_latest_volumes` over readings in memory (the animal's history as loaded)."""
    latest: dict[int, Measurement] = {}
    for reading in readings:
        if (
            reading.kind != MeasurementKind.CALIPER
            or reading.voided_at is not None
            or reading.volume_mm3 is None
            or reading.tumour_id is None
            or reading.taken_at > until
        ):
            continue
        current = latest.get(reading.tumour_id)
        if current is None or (reading.taken_at, reading.pk or 0) > (
            current.taken_at,
            current.pk or 0,
        ):
            latest[reading.tumour_id] = reading
    return {tumour_id: float(r.volume_mm3) for tumour_id, r in latest.items()}  # type: ignore[arg-type]


def _baseline_weight_in(
    animal: Animal, baseline: WeightBaseline, readings: Sequence[Measurement]
) -> tuple[Decimal, dt.datetime | None] | None:
    """:func:`baseline_weight` over readings in memory (the same rule, no query)."""
    run = animal.run
    day = (
        animal.treatment_start_date
        if baseline is WeightBaseline.RANDOMIZATION and animal.treatment_start_date
        else run.day0
    )
    boundary = dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time.min, tzinfo=run.study.lab.zone
    )
    weights = sorted(
        (
            r
            for r in readings
            if r.kind == MeasurementKind.WEIGHT and r.voided_at is None and r.weight_g is not None
        ),
        key=lambda r: (r.taken_at, r.pk or 0),
    )
    before = [r for r in weights if r.taken_at < boundary]
    chosen = before[-1] if before else (weights[0] if weights else None)
    if chosen is not None:
        return Decimal(chosen.weight_g), chosen.taken_at  # type: ignore[arg-type]
    if animal.arrival_weight_g:
        return Decimal(animal.arrival_weight_g), None
    return None


def _reading_for(
    measurement: Measurement,
    limits: WelfareLimits,
    history: Sequence[Measurement] | None = None,
) -> EndpointReading:
    """The values judged for ``measurement``. ``history``: every reading of the animal, this
    one included, as the caller holds them (else they are read)."""
    animal = measurement.animal

    def volumes(until: dt.datetime) -> dict[int, float]:
        if history is not None:
            return _latest_volumes_in(history, until=until)
        return _latest_volumes(animal, until=until)

    if measurement.kind == MeasurementKind.CALIPER:
        if measurement.volume_mm3 is None:
            return EndpointReading()
        total = None
        if limits.endpoints.max_total_volume_mm3 is not None:
            found = volumes(measurement.taken_at)
            found[measurement.tumour_id or 0] = float(measurement.volume_mm3)
            total = sum(found.values())
        return EndpointReading(
            volume_mm3=float(measurement.volume_mm3),
            diameter_mm=float(measurement.length_mm) if measurement.length_mm else None,
            total_volume_mm3=total,
        )
    if measurement.weight_g is None or limits.endpoints.max_weight_loss_percent is None:
        return EndpointReading()
    base = (
        _baseline_weight_in(animal, limits.weight_baseline, history)
        if history is not None
        else baseline_weight(animal, limits.weight_baseline)
    )
    if base is None:
        return EndpointReading()
    tumour_now = tumour_then = 0.0
    if limits.tumour_corrected:
        tumour_now = sum(volumes(measurement.taken_at).values())
        if base[1] is not None:
            tumour_then = sum(volumes(base[1]).values())
    try:
        loss = weight_loss_percent(
            float(measurement.weight_g),
            float(base[0]),
            tumour_mm3=tumour_now,
            baseline_tumour_mm3=tumour_then,
            tumour_corrected=limits.tumour_corrected,
        )
    except ValueError:
        return EndpointReading()
    return EndpointReading(weight_loss_percent=loss)


# -- evaluation --------------------------------------------------------------------------------

_CAUSE_BY_LIMIT = {
    "volume": EndpointCause.TUMOUR_VOLUME,
    "total volume": EndpointCause.TUMOUR_VOLUME,
    "diameter": EndpointCause.TUMOUR_DIAMETER,
    "weight loss": EndpointCause.WEIGHT_LOSS,
}


@dataclass(frozen=True)
class Finding:
    """A limit approached or reached, as stored on episodes and shown on pages."""

    limit_name: str
    value: float
    limit: float
    level: Literal["approaching", "reached"]
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "limit": self.limit_name,
            "value": round(self.value, 2),
            "limit_value": self.limit,
            "level": self.level,
            "message": self.message,
        }


def _finding(raw: EndpointFinding) -> Finding:
    level: Literal["approaching", "reached"] = (
        "reached" if raw.status is EndpointStatus.REACHED else "approaching"
    )
    return Finding(raw.limit_name, raw.value, raw.limit, level, raw.message)


@dataclass
class EndpointEvaluation:
    """What one save meant: the level, the findings, the episode (if any) and what was done.

    ``awaiting_repeat``: the reading reached a limit and waits for its immediate repeat before
    anyone is alerted. ``alerted``: alerts were queued by this save.
    """

    level: EndpointLevel = EndpointLevel.OK
    findings: list[Finding] = field(default_factory=list)
    episode: EndpointEpisode | None = None
    awaiting_repeat: bool = False
    confirmed: bool = False
    dismissed: bool = False
    alerted: bool = False

    @property
    def reached(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "reached"]

    @property
    def message(self) -> str:
        return "; ".join(f.message for f in self.findings)


def _level(findings: Sequence[Finding]) -> EndpointLevel:
    if any(f.level == "reached" for f in findings):
        return EndpointLevel.REACHED
    if findings:
        return EndpointLevel.APPROACHING
    return EndpointLevel.OK


def _open_episode(animal: Animal) -> EndpointEpisode | None:
    return (
        EndpointEpisode.objects.select_for_update()
        .filter(animal=animal, status__in=OPEN_EPISODE_STATUSES)
        .first()
    )


def _append_findings(episode: EndpointEpisode, findings: Sequence[Finding], when: str) -> None:
    stored = list(episode.findings or [])
    for finding in findings:
        stored.append({**finding.as_dict(), "at": when})
    episode.findings = stored[-50:]


def _is_repeat_of_first(measurement: Measurement, episode: EndpointEpisode) -> bool:
    """The reading repeats the episode's first reading: the same quantity (tumour or weight)
    on the same study day, or linked to it by ``repeat_of``."""
    first = episode.first_measurement
    if first is None or first.pk == measurement.pk:
        return False
    if measurement.repeat_of_id == first.pk:
        return True
    return (
        first.kind == measurement.kind
        and first.tumour_id == measurement.tumour_id
        and first.study_day == measurement.study_day
    )


def evaluate_after_reading(
    measurement: Measurement,
    *,
    limits: WelfareLimits | None = None,
    history: Sequence[Measurement] | None = None,
    episode_open: bool | None = None,
) -> EndpointEvaluation:
    """Judge a saved reading against the humane endpoints; open, confirm or dismiss episodes.

    Called by ``record_measurement`` inside its transaction, after the save. Per reading: the
    tumour's volume and longest axis (diameter), the animal's total tumour volume (when a total
    limit is set: the latest reading of each tumour), and for a weight the loss from the
    baseline (tumour-corrected when the body-weight protocol says so). Voided readings, code
    readings without a value and animals no longer on study change nothing. See the module
    docstring for the repeat-before-alert rule. ``limits`` (from :func:`welfare_limits`) lets a
    caller saving many readings of one study read them once (two queries fewer per reading).
    ``history`` (every reading of the animal, this one included, with corrected ones marked
    void) and ``episode_open`` (whether the animal had an open episode when the caller read it,
    under the caller's lock on the animal) let the grid judge a cell without another query:
    a reading below every limit with no open episode changes nothing.
    """
    evaluation = EndpointEvaluation()
    animal = measurement.animal
    if measurement.voided_at is not None or animal.status != AnimalStatus.ON_STUDY:
        return evaluation
    limits = limits or welfare_limits(animal.run.study)
    findings = [
        _finding(f)
        for f in endpoint_findings(_reading_for(measurement, limits, history), limits.endpoints)
    ]
    evaluation.findings = findings
    evaluation.level = _level(findings)
    reached = evaluation.reached
    if episode_open is False and not reached:
        return evaluation
    from_grid = measurement.entry_method == EntryMethod.GRID
    with transaction.atomic(savepoint=False):
        episode = _open_episode(animal)
        when = measurement.taken_at.isoformat()
        if episode is not None and episode.status == EpisodeStatus.AWAITING_REPEAT:
            evaluation.episode = episode
            if _is_repeat_of_first(measurement, episode) or (
                reached and (not from_grid or measurement.repeat_of_id is not None)
            ):
                if reached:
                    _append_findings(episode, reached, when)
                    episode.status = EpisodeStatus.OPEN
                    episode.confirmed_by = measurement
                    episode.confirmed_at = timezone.now()
                    episode.row_version += 1
                    episode.save()
                    evaluation.confirmed = True
                    evaluation.alerted = _alert(
                        episode,
                        operator=measurement.operator,
                        entry_method=measurement.entry_method,
                    )
                else:
                    episode.status = EpisodeStatus.DISMISSED
                    episode.dismissed_by = measurement
                    episode.status_reason = (
                        f"The repeat reading of day {measurement.study_day} is below the limit."
                    )[:300]
                    episode.row_version += 1
                    episode.save()
                    evaluation.dismissed = True
            elif reached:
                evaluation.awaiting_repeat = True
        elif episode is not None:
            evaluation.episode = episode
            if reached:
                _append_findings(episode, reached, when)
                episode.row_version += 1
                episode.save(update_fields=["findings", "row_version"])
        elif reached:
            waits = from_grid and measurement.repeat_of_id is None
            episode = EndpointEpisode.objects.create(
                animal=animal,
                status=EpisodeStatus.AWAITING_REPEAT if waits else EpisodeStatus.OPEN,
                cause=_CAUSE_BY_LIMIT[reached[0].limit_name],
                findings=[{**f.as_dict(), "at": when} for f in reached],
                first_reached_at=measurement.taken_at,
                first_measurement=measurement,
                confirmed_at=None if waits else timezone.now(),
            )
            evaluation.episode = episode
            evaluation.awaiting_repeat = waits
            if not waits:
                evaluation.alerted = _alert(
                    episode, operator=measurement.operator, entry_method=measurement.entry_method
                )
    return evaluation


def score_findings(
    *,
    scores: dict[str, int],
    ulceration: Sequence[int],
    limits: WelfareLimits,
) -> list[tuple[Finding, EndpointCause]]:
    """The score sheet's endpoints for one observation, each with its endpoint cause.

    Reached: an item at its ``endpoint_score``; the summed item score at the clinical score
    limit (the stricter of the humane-endpoint protocol's and the score sheet's own); the worst
    ulcer at the ulceration limit; an escalation rule with action ``endpoint``. Approaching:
    one point below any of those limits (when the limit is 2 or more).
    """
    found: list[tuple[Finding, EndpointCause]] = []
    sheet = limits.score_sheet

    def judge(name: str, value: int, limit: int | None, cause: EndpointCause) -> None:
        if limit is None:
            return
        if value >= limit:
            message = f"{name} {value}: reached the limit of {limit}"
            found.append((Finding(name, value, limit, "reached", message), cause))
        elif limit >= 2 and value >= limit - 1:
            message = f"{name} {value}: approaching the limit of {limit}"
            found.append((Finding(name, value, limit, "approaching", message), cause))

    if sheet is not None:
        for item in sheet.items:
            if item.name in scores:
                judge(
                    item.name, scores[item.name], item.endpoint_score, EndpointCause.CLINICAL_SCORE
                )
    judge(
        "total score",
        sum(scores.values()),
        limits.clinical_score_limit,
        EndpointCause.CLINICAL_SCORE,
    )
    worst_ulcer = max(ulceration, default=0)
    judge("ulceration", worst_ulcer, limits.ulceration_score_limit, EndpointCause.ULCERATION)
    if sheet is not None:
        from planner.domain.protocol_parameters import ULCERATION, EscalationAction

        lowered = {name.lower(): value for name, value in scores.items()}
        for rule in sheet.escalation_rules:
            if rule.action is not EscalationAction.ENDPOINT:
                continue
            key = rule.item.lower()
            value = worst_ulcer if key == ULCERATION else lowered.get(key)
            cause = EndpointCause.ULCERATION if key == ULCERATION else EndpointCause.CLINICAL_SCORE
            if value is not None and value >= rule.at_score:
                message = f"{rule.item} {value}: the score sheet's endpoint at {rule.at_score}"
                found.append((Finding(rule.item, value, rule.at_score, "reached", message), cause))
    return found


def evaluate_after_observation(
    observation: Observation, *, ulceration: Sequence[int], limits: WelfareLimits
) -> EndpointEvaluation:
    """Judge a saved observation's scores; a reached score opens an episode and alerts at once
    (a clinical judgement, not a slipped caliper: no repeat asked)."""
    evaluation = EndpointEvaluation()
    animal = observation.animal
    if observation.voided_at is not None or animal.status != AnimalStatus.ON_STUDY:
        return evaluation
    scored = score_findings(scores=observation.scores or {}, ulceration=ulceration, limits=limits)
    evaluation.findings = [finding for finding, _ in scored]
    evaluation.level = _level(evaluation.findings)
    reached = [(finding, cause) for finding, cause in scored if finding.level == "reached"]
    if not reached:
        return evaluation
    when = observation.observed_at.isoformat()
    with transaction.atomic(savepoint=False):
        episode = _open_episode(animal)
        if episode is None:
            episode = EndpointEpisode.objects.create(
                animal=animal,
                status=EpisodeStatus.OPEN,
                cause=reached[0][1],
                findings=[{**finding.as_dict(), "at": when} for finding, _ in reached],
                first_reached_at=observation.observed_at,
                first_observation=observation,
                confirmed_at=timezone.now(),
            )
            evaluation.alerted = _alert(episode, operator=observation.observer)
        else:
            _append_findings(episode, [finding for finding, _ in reached], when)
            alert = episode.status == EpisodeStatus.AWAITING_REPEAT
            if alert:
                episode.status = EpisodeStatus.OPEN
                episode.confirmed_at = timezone.now()
            episode.row_version += 1
            episode.save()
            if alert:
                evaluation.alerted = _alert(episode, operator=observation.observer)
        evaluation.episode = episode
    return evaluation


# -- alerts ------------------------------------------------------------------------------------


def alert_recipients(animal: Animal, operator: User | None) -> list[tuple[User, str]]:
    """Who is told that an animal reached an endpoint, each with why (one message per person).

    The study director: the director who approved the design and every study member who is a
    study director of the lab (all the lab's study directors when neither exists); the
    technician who took the reading or made the observation; the lab's veterinarians
    (membership role ``veterinarian``). Inactive accounts are left out.
    """
    study = animal.run.study
    lab = study.lab
    found: dict[int, tuple[User, str]] = {}

    def add(user: User | None, why: str) -> None:
        if user is not None and user.is_active and user.pk not in found:
            found[user.pk] = (user, why)

    directors = list(
        User.objects.filter(
            Q(pk=study.approved_by_id)
            | Q(
                pk__in=StudyMember.objects.filter(study=study).values("user"),
                memberships__lab=lab,
                memberships__role=Role.STUDY_DIRECTOR,
            )
        ).distinct()
    )
    if not directors:
        directors = list(
            User.objects.filter(memberships__lab=lab, memberships__role=Role.STUDY_DIRECTOR)
        )
    for director in directors:
        add(director, "study director")
    add(operator, "technician")
    vets = User.objects.filter(
        pk__in=Membership.objects.filter(lab=lab, role=Role.VETERINARIAN).values("user")
    )
    for vet in vets:
        add(vet, "veterinarian")
    return list(found.values())


def _alert(episode: EndpointEpisode, *, operator: User | None, entry_method: str = "") -> bool:
    """Queue the endpoint alert for every recipient (sent by the worker after commit).

    Past data brought in by a file import alerts nobody. The message names the animal, its run
    and cage and what reached which limit — never its arm, so it is the same for every reader.
    A value transcribed from paper alerts once its sheet is verified
    (``welfare.alert_verified_transcription``), not on the unchecked copy.
    """
    if entry_method == EntryMethod.IMPORT:
        return False
    if entry_method == EntryMethod.TRANSCRIPTION:
        return False
    from planner.services.outbound import queue_message

    animal = episode.animal
    run = animal.run
    study = run.study
    cage = (
        CageAssignment.objects.filter(animal=animal, to_date__isnull=True)
        .values_list("cage__label", flat=True)
        .first()
    ) or "no cage"
    lab = study.lab
    local = episode.first_reached_at.astimezone(lab.zone)
    reached = [f["message"] for f in episode.findings if f.get("level") == "reached"]
    subject = f"Endpoint reached: animal {animal.tag} ({study.code}/{run.code}, cage {cage})"
    body = (
        f"Animal {animal.tag} of {study.code} / {run.code}, cage {cage}, reached a humane "
        f"endpoint at {local:%Y-%m-%d %H:%M} ({lab.time_zone}):\n"
        + "\n".join(f"- {line}" for line in reached)
        + "\n\nEuthanize it within 24 hours of that reading and record the endpoint: "
        f"/animals/{animal.pk}/endpoint/\n"
    )
    sent = False
    for recipient, why in alert_recipients(animal, operator):
        queue_message(
            lab=lab,
            recipient=recipient,
            subject=subject,
            body=body,
            reason=f"endpoint alert ({why})",
            related_object=f"animal {animal.pk}",
        )
        sent = True
    EndpointEpisode.objects.filter(pk=episode.pk).update(alerted_at=timezone.now())
    episode.alerted_at = timezone.now()
    return sent


# -- many readings at once (bulk ingest) -------------------------------------------------------

_LATEST_VOLUME_IDS_SQL = """
SELECT latest.id
  FROM unnest(%s::bigint[], %s::timestamptz[]) AS point(animal_id, until)
  JOIN labnotes_tumour t ON t.animal_id = point.animal_id
  CROSS JOIN LATERAL (
      SELECT m.id FROM labnotes_measurement m
       WHERE m.animal_id = point.animal_id AND m.kind = 'caliper' AND m.tumour_id = t.id
         AND m.voided_at IS NULL AND m.volume_mm3 IS NOT NULL AND m.taken_at <= point.until
       ORDER BY m.taken_at DESC, m.id DESC
       LIMIT 1
  ) AS latest
"""

_BASELINE_WEIGHT_IDS_SQL = """
SELECT before.id, earliest.id
  FROM unnest(%s::bigint[], %s::timestamptz[]) AS point(animal_id, boundary)
  LEFT JOIN LATERAL (
      SELECT m.id FROM labnotes_measurement m
       WHERE m.animal_id = point.animal_id AND m.kind = 'weight' AND m.voided_at IS NULL
         AND m.weight_g IS NOT NULL AND m.taken_at < point.boundary
       ORDER BY m.taken_at DESC, m.id DESC
       LIMIT 1
  ) AS before ON true
  LEFT JOIN LATERAL (
      SELECT m.id FROM labnotes_measurement m
       WHERE m.animal_id = point.animal_id AND m.kind = 'weight' AND m.voided_at IS NULL
         AND m.weight_g IS NOT NULL
       ORDER BY m.taken_at, m.id
       LIMIT 1
  ) AS earliest ON true
"""

_HISTORY_FIELDS = (
    "id",
    "animal_id",
    "kind",
    "tumour_id",
    "taken_at",
    "voided_at",
    "volume_mm3",
    "weight_g",
)


def _baseline_boundary(animal: Animal, baseline: WeightBaseline) -> dt.datetime:
    """The end of the baseline day, as :func:`baseline_weight` computes it."""
    run = animal.run
    day = (
        animal.treatment_start_date
        if baseline is WeightBaseline.RANDOMIZATION and animal.treatment_start_date
        else run.day0
    )
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=run.study.lab.zone)


def _readings_by_id(ids: Iterable[int]) -> dict[int, Measurement]:
    wanted = {pk for pk in ids if pk is not None}
    if not wanted:
        return {}
    return {m.pk: m for m in Measurement.objects.filter(pk__in=wanted).only(*_HISTORY_FIELDS)}


def evaluate_readings_in_bulk(
    readings: Sequence[Measurement], *, limits: WelfareLimits
) -> list[EndpointEvaluation]:
    """Judge many saved readings of one study as :func:`evaluate_after_reading` judges each, in
    the order given, reading what the judgements need for all of them in a few queries: the
    baseline weight of each weighed animal, the latest volume of each tumour at each time a
    judgement looks at, and which animals have an open episode. A reading below every limit of
    an animal without an open episode then costs no query; the others (reached, or an open
    episode) take :func:`evaluate_after_reading`'s usual path.

    ``readings`` are saved (their values are in the database) and carry ``animal__run__study__
    lab`` (``select_related``). Used by the bulk ingest for the latest new reading of each
    tumour and each animal's weight.
    """
    from django.db import connection

    judged = [
        r for r in readings if r.voided_at is None and r.animal.status == AnimalStatus.ON_STUDY
    ]
    endpoints = limits.endpoints
    weighed = [
        r
        for r in judged
        if r.kind == MeasurementKind.WEIGHT
        and r.weight_g is not None
        and endpoints.max_weight_loss_percent is not None
    ]
    weighed_ids = {r.pk for r in weighed}
    history: dict[int, dict[int, Measurement]] = {r.animal_id: {} for r in judged}
    if weighed:
        animals = {r.animal_id: r.animal for r in weighed}
        ids: list[int] = []
        with connection.cursor() as cursor:
            cursor.execute(
                _BASELINE_WEIGHT_IDS_SQL,
                [
                    list(animals),
                    [_baseline_boundary(a, limits.weight_baseline) for a in animals.values()],
                ],
            )
            for before, earliest in cursor.fetchall():
                ids += [before, earliest]
        for reading in _readings_by_id(ids).values():
            history[reading.animal_id][reading.pk] = reading
    points: set[tuple[int, dt.datetime]] = set()
    for reading in judged:
        if reading.kind == MeasurementKind.CALIPER:
            if reading.volume_mm3 is not None and endpoints.max_total_volume_mm3 is not None:
                points.add((reading.animal_id, reading.taken_at))
        elif reading.pk in weighed_ids and limits.tumour_corrected:
            points.add((reading.animal_id, reading.taken_at))
            known = [*history[reading.animal_id].values(), reading]
            base = _baseline_weight_in(reading.animal, limits.weight_baseline, known)
            if base is not None and base[1] is not None:
                points.add((reading.animal_id, base[1]))
    if points:
        ordered = sorted(points)
        with connection.cursor() as cursor:
            cursor.execute(
                _LATEST_VOLUME_IDS_SQL,
                [[animal_id for animal_id, _ in ordered], [until for _, until in ordered]],
            )
            volume_ids = [pk for (pk,) in cursor.fetchall()]
        for reading in _readings_by_id(volume_ids).values():
            history[reading.animal_id][reading.pk] = reading
    open_animals = set(
        EndpointEpisode.objects.filter(
            animal_id__in=list(history), status__in=OPEN_EPISODE_STATUSES
        ).values_list("animal_id", flat=True)
    )
    evaluations: list[EndpointEvaluation] = []
    for reading in readings:
        animal_history = {**history.get(reading.animal_id, {}), reading.pk: reading}
        evaluation = evaluate_after_reading(
            reading,
            limits=limits,
            history=list(animal_history.values()),
            episode_open=reading.animal_id in open_animals,
        )
        if evaluation.episode is not None or evaluation.reached:
            open_animals.add(reading.animal_id)
        evaluations.append(evaluation)
    return evaluations
