"""Clinical observations: the protocol's score sheet, ulceration per tumour, notes; the extra
checks the sheet's escalation rules ask for; the endpoint status of every observation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from labnotes.capture.checks import EndpointStatus, endpoint_findings
from labnotes.models import (
    Animal,
    AnimalStatus,
    CageAssignment,
    EndpointEpisode,
    EpisodeStatus,
    Measurement,
    Observation,
    Task,
    TaskKind,
    TaskStatus,
    TranscriptionSheet,
    Tumour,
    UlcerationScore,
    WelfareCheck,
    WelfareCheckKind,
    WelfareCheckStatus,
)
from labnotes.models.welfare import OPEN_EPISODE_STATUSES
from labnotes.services.common import RECORDERS, StaleWrite
from labnotes.services.endpoint_status import (
    _CAUSE_BY_LIMIT,
    EndpointEvaluation,
    WelfareLimits,
    _finding,
    _reading_for,
    alert_recipients,
    evaluate_after_observation,
    score_findings,
    welfare_limits,
)
from planner.audit import audited_change
from planner.domain.protocol_parameters import (
    ULCERATION,
    ULCERATION_LEVELS,
    ClinicalObservationParameters,
    EscalationAction,
    EscalationRule,
)
from planner.models import Membership, Role
from planner.services.permissions import require_role

#: People who record observations and endpoints: the animal room's recorders and the vets.
WELFARE_RECORDERS = (*RECORDERS, Role.VETERINARIAN)
#: Daily checks an escalation asks for run this many days ahead of the observation that
#: triggered them; every later observation still at the rule's score extends them again.
ESCALATION_HORIZON_DAYS = 7
CLOCK_TOLERANCE = dt.timedelta(minutes=2)
MAX_ULCER_DIAMETER_MM = Decimal(50)


@dataclass(frozen=True)
class UlcerInput:
    """The ulceration of one tumour: score on the 0-3 scale, diameter in mm when recorded."""

    tumour_id: int
    score: int | str
    diameter_mm: Decimal | float | str | None = None


@dataclass
class ObservationResult:
    """A saved observation and what it set off."""

    observation: Observation
    evaluation: EndpointEvaluation
    checks_created: list[WelfareCheck] = field(default_factory=list)
    checks_cancelled: int = 0
    checks_completed: int = 0
    replayed: bool = False


def _score(name: str, raw: object, maximum: int) -> int:
    if isinstance(raw, bool):
        raise ValidationError({name: f"'{raw}' is not a score."})
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationError({name: f"'{raw}' is not a score (a whole number)."}) from None
    if not 0 <= value <= maximum:
        raise ValidationError({name: f"{value} is outside this item's scores 0 to {maximum}."})
    return value


def validate_scores(
    sheet: ClinicalObservationParameters | None, scores: Mapping[str, object]
) -> dict[str, int]:
    """Scores checked against the score sheet, keyed as the sheet spells its items.

    Every item must be scored (an incomplete sheet is not an observation) with one of its
    levels; names are matched ignoring case; unknown names are refused. Without a score sheet
    in the design only ulceration and notes can be recorded.
    """
    if sheet is None or not sheet.items:
        if scores:
            raise ValidationError(
                {"scores": "The design's score sheet has no items: record ulceration and notes."}
            )
        return {}
    items = {item.name.lower(): item for item in sheet.items}
    errors: dict[str, list[str]] = {}
    result: dict[str, int] = {}
    for name, raw in scores.items():
        item = items.get(str(name).strip().lower())
        if item is None:
            known = ", ".join(item.name for item in sheet.items)
            errors.setdefault(f"scores.{name}", []).append(
                f"'{name}' is not an item of the score sheet (items: {known})."
            )
            continue
        try:
            result[item.name] = _score(f"scores.{item.name}", raw, item.max_score)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    for item in sheet.items:
        if item.name not in result and f"scores.{item.name}" not in errors:
            errors.setdefault(f"scores.{item.name}", []).append("Score every item of the sheet.")
    if errors:
        raise ValidationError(errors)
    return result


def _ulcerations(
    animal: Animal, sheet: ClinicalObservationParameters | None, ulceration: Sequence[UlcerInput]
) -> list[tuple[Tumour, int, Decimal | None]]:
    if not ulceration:
        return []
    if sheet is not None and not sheet.ulceration_per_tumour:
        raise ValidationError(
            {"ulceration": "The score sheet does not score ulceration per tumour."}
        )
    record_diameter = sheet is None or sheet.record_ulcer_diameter
    tumours = {tumour.pk: tumour for tumour in animal.tumours.all()}
    maximum = ULCERATION_LEVELS[-1][0]
    seen: set[int] = set()
    result: list[tuple[Tumour, int, Decimal | None]] = []
    for entry in ulceration:
        tumour = tumours.get(int(entry.tumour_id))
        key = f"ulceration.{entry.tumour_id}"
        if tumour is None:
            raise ValidationError({key: f"Tumour {entry.tumour_id} is not one of {animal}'s."})
        if tumour.pk in seen:
            raise ValidationError({key: f"{tumour.site} is scored twice."})
        seen.add(tumour.pk)
        score = _score(f"{key}.score", entry.score, maximum)
        diameter: Decimal | None = None
        if entry.diameter_mm not in (None, ""):
            if not record_diameter:
                raise ValidationError(
                    {f"{key}.diameter_mm": "The score sheet records no ulcer diameter."}
                )
            try:
                diameter = Decimal(str(entry.diameter_mm).replace(",", ".")).quantize(
                    Decimal("0.1")
                )
            except InvalidOperation:
                raise ValidationError(
                    {f"{key}.diameter_mm": f"'{entry.diameter_mm}' is not a number of mm."}
                ) from None
            if not diameter.is_finite() or not 0 <= diameter <= MAX_ULCER_DIAMETER_MM:
                raise ValidationError(
                    {
                        f"{key}.diameter_mm": f"{entry.diameter_mm} mm is outside 0 to "
                        f"{MAX_ULCER_DIAMETER_MM} mm."
                    }
                )
            if score == 0 and diameter > 0:
                raise ValidationError(
                    {f"{key}.diameter_mm": "An ulcer diameter with ulceration score 0."}
                )
        result.append((tumour, score, diameter))
    return result


def _rule_value(rule: EscalationRule, scores: Mapping[str, int], worst_ulcer: int) -> int | None:
    if rule.item.lower() == ULCERATION:
        return worst_ulcer
    lowered = {name.lower(): value for name, value in scores.items()}
    return lowered.get(rule.item.lower())


def _rule_text(rule: EscalationRule) -> str:
    return f"{rule.item} ≥ {rule.at_score}: {rule.action.value.replace('_', ' ')}"


def _escalate(
    observation: Observation,
    sheet: ClinicalObservationParameters | None,
    worst_ulcer: int,
    result: ObservationResult,
) -> None:
    """Create, complete and cancel the extra checks the score sheet's escalation rules ask for.

    ``daily_checks``: a check on each of the next :data:`ESCALATION_HORIZON_DAYS` calendar days
    — Saturdays, Sundays and holidays included, whatever the lab's working calendar says; an
    observation no longer at any daily-check rule's score cancels the later ones.
    ``veterinary_review``: a review due the same day, and a message to the lab's vets.
    Any observation completes the animal's daily check of its day; a veterinary review is
    completed by a veterinarian's observation.
    """
    animal = observation.animal
    lab = animal.run.study.lab
    day = lab.local_date(observation.observed_at)
    is_vet = Membership.objects.filter(
        lab=lab, user=observation.observer, role=Role.VETERINARIAN
    ).exists()
    completing = WelfareCheck.objects.filter(
        animal=animal, status=WelfareCheckStatus.DUE, due_date=day
    )
    if not is_vet:
        completing = completing.filter(kind=WelfareCheckKind.DAILY_CHECK)
    result.checks_completed = completing.update(
        status=WelfareCheckStatus.DONE,
        done_by_observation=observation,
        status_reason=f"Observed at {observation.observed_at.astimezone(lab.zone):%H:%M}.",
        row_version=F("row_version") + 1,
    )
    rules = sheet.escalation_rules if sheet is not None else ()
    scores = observation.scores or {}
    triggered = [
        rule
        for rule in rules
        if (value := _rule_value(rule, scores, worst_ulcer)) is not None and value >= rule.at_score
    ]
    daily = [rule for rule in triggered if rule.action is EscalationAction.DAILY_CHECKS]
    review = [rule for rule in triggered if rule.action is EscalationAction.VETERINARY_REVIEW]
    if daily:
        wanted = [
            day + dt.timedelta(days=offset) for offset in range(1, ESCALATION_HORIZON_DAYS + 1)
        ]
        have = set(
            WelfareCheck.objects.filter(
                animal=animal, kind=WelfareCheckKind.DAILY_CHECK, due_date__in=wanted
            )
            .exclude(status=WelfareCheckStatus.CANCELLED)
            .values_list("due_date", flat=True)
        )
        created = WelfareCheck.objects.bulk_create(
            [
                WelfareCheck(
                    animal=animal,
                    kind=WelfareCheckKind.DAILY_CHECK,
                    due_date=due,
                    rule="; ".join(_rule_text(rule) for rule in daily)[:200],
                    triggered_by=observation,
                )
                for due in wanted
                if due not in have
            ]
        )
        result.checks_created.extend(created)
    elif any(rule.action is EscalationAction.DAILY_CHECKS for rule in rules):
        result.checks_cancelled = WelfareCheck.objects.filter(
            animal=animal,
            kind=WelfareCheckKind.DAILY_CHECK,
            status=WelfareCheckStatus.DUE,
            due_date__gt=day,
        ).update(
            status=WelfareCheckStatus.CANCELLED,
            status_reason=f"Observation of {day:%Y-%m-%d}: below every daily-check score.",
            row_version=F("row_version") + 1,
        )
    if review and not is_vet:
        exists = (
            WelfareCheck.objects.filter(
                animal=animal, kind=WelfareCheckKind.VETERINARY_REVIEW, due_date=day
            )
            .exclude(status=WelfareCheckStatus.CANCELLED)
            .exists()
        )
        if not exists:
            check = WelfareCheck.objects.create(
                animal=animal,
                kind=WelfareCheckKind.VETERINARY_REVIEW,
                due_date=day,
                rule="; ".join(_rule_text(rule) for rule in review)[:200],
                triggered_by=observation,
            )
            result.checks_created.append(check)
            _ask_vets(observation, review)


def _ask_vets(observation: Observation, rules: Sequence[EscalationRule]) -> None:
    from planner.services.outbound import queue_message

    animal = observation.animal
    run = animal.run
    lab = run.study.lab
    vets = User.objects.filter(
        memberships__lab=lab, memberships__role=Role.VETERINARIAN, is_active=True
    )
    for vet in vets:
        queue_message(
            lab=lab,
            recipient=vet,
            subject=f"Veterinary review asked: animal {animal.tag} ({run.study.code}/{run.code})",
            body=(
                f"The observation of animal {animal.tag} at "
                f"{observation.observed_at.astimezone(lab.zone):%Y-%m-%d %H:%M} met the score "
                f"sheet's rule(s): {'; '.join(_rule_text(rule) for rule in rules)}.\n"
                f"Notes: {observation.notes or '—'}\n/animals/{animal.pk}/endpoint/\n"
            ),
            reason="veterinary review (escalation rule)",
            related_object=f"animal {animal.pk}",
        )


def record_observation(
    *,
    animal: Animal,
    observed_at: dt.datetime,
    observer: User,
    scores: Mapping[str, object] | None = None,
    ulceration: Sequence[UlcerInput] = (),
    notes: str = "",
    recorded_by: User | None = None,
    client_id: str = "",
    limits: WelfareLimits | None = None,
) -> ObservationResult:
    """Record a clinical observation of ``animal`` at ``observed_at``.

    Scores are validated against the design's score sheet (every item, one of its levels);
    ulceration per tumour on the 0-3 scale with the ulcer diameter (mm) where the sheet records
    it; free-text notes. Then, in the same transaction: the endpoint status of the scores (a
    reached score opens an endpoint episode and alerts), the escalation rules' extra checks,
    and the day's observation task marked done. A second observation on a day is a new one
    (twice-daily checks), not a correction. Refused: future times, animals off study. A
    ``client_id`` seen before for the animal returns the stored observation.
    ``limits`` lets a page saving many rows compute them once.
    """
    if timezone.is_naive(observed_at):
        raise ValidationError({"observed_at": "The time must carry its time zone."})
    recorder = recorded_by or observer
    run = animal.run
    lab = run.study.lab
    require_role(recorder, lab, WELFARE_RECORDERS, action="record observations")
    if recorder != observer:
        require_role(observer, lab, WELFARE_RECORDERS, action="make observations")
    client_id = (client_id or "").strip()
    if client_id:
        existing = Observation.objects.filter(animal=animal, client_id=client_id).first()
        if existing is not None:
            return ObservationResult(existing, EndpointEvaluation(), replayed=True)
    if observed_at > timezone.now() + CLOCK_TOLERANCE:
        raise ValidationError({"observed_at": "This time lies in the future."})
    if animal.status != AnimalStatus.ON_STUDY:
        raise ValidationError(
            f"Animal {animal.tag} is {animal.get_status_display().lower()}: no new observations."
        )
    limits = limits or welfare_limits(run.study)
    sheet = limits.score_sheet
    checked = validate_scores(sheet, scores or {})
    ulcers = _ulcerations(animal, sheet, ulceration)
    notes = (notes or "").strip()
    if not checked and not ulcers and not notes:
        raise ValidationError("Nothing to record: score the sheet, the ulceration or write notes.")
    with transaction.atomic(), audited_change(reason=None, required=False):
        observation = Observation(
            animal=animal,
            observed_at=observed_at,
            study_day=lab.study_day(run.day0, observed_at),
            scores=checked,
            total_score=sum(checked.values()),
            notes=notes,
            protocol_version_id=limits.score_sheet_version_id,
            observer=observer,
            recorded_by=recorder,
            client_id=client_id,
        )
        observation.full_clean(exclude=["client_id"] if client_id else None)
        try:
            with transaction.atomic():
                observation.save()
        except IntegrityError:
            existing = Observation.objects.filter(animal=animal, client_id=client_id).first()
            if client_id and existing is not None:
                return ObservationResult(existing, EndpointEvaluation(), replayed=True)
            raise
        UlcerationScore.objects.bulk_create(
            [
                UlcerationScore(
                    observation=observation, tumour=tumour, score=score, diameter_mm=diameter
                )
                for tumour, score, diameter in ulcers
            ]
        )
        worst = max((score for _, score, _ in ulcers), default=0)
        evaluation = evaluate_after_observation(
            observation, ulceration=[score for _, score, _ in ulcers], limits=limits
        )
        if evaluation.level != observation.endpoint_level:
            Observation.objects.filter(pk=observation.pk).update(endpoint_level=evaluation.level)
            observation.endpoint_level = evaluation.level
        result = ObservationResult(observation, evaluation)
        _escalate(observation, sheet, worst, result)
        day = lab.local_date(observed_at)
        Task.objects.annotate(task_date=Coalesce("scheduled_date", "nominal_date")).filter(
            animal=animal, kind=TaskKind.OBSERVE, status=TaskStatus.DUE, task_date=day
        ).update(
            status=TaskStatus.DONE,
            completed_by=observer,
            completed_at=timezone.now(),
            row_version=F("row_version") + 1,
        )
    return result


def void_observation(
    *,
    observation: Observation,
    voided_by: User,
    reason: str,
    expected_version: int | None = None,
) -> Observation:
    """Void an observation with a reason; it stays in the record (and the audit trail).

    An endpoint episode it opened is re-evaluated (:func:`reevaluate_episodes_after_void`);
    checks it set off stay as they are (the next observation cancels them).
    """
    require_role(
        voided_by, observation.animal.run.study.lab, WELFARE_RECORDERS, action="void observations"
    )
    with transaction.atomic(), audited_change(reason=reason, required=True):
        current = Observation.objects.select_for_update().get(pk=observation.pk)
        if expected_version is not None and current.row_version != expected_version:
            raise StaleWrite(current)
        if current.voided_at is not None:
            raise ValidationError("This observation is voided already.")
        Observation.objects.filter(pk=current.pk).update(
            voided_at=timezone.now(),
            voided_by=voided_by,
            void_reason=reason.strip(),
            row_version=F("row_version") + 1,
        )
        current.refresh_from_db()
        reevaluate_episodes_after_void(observation=current, reason=reason)
    return current


# -- endpoint episodes after a void -----------------------------------------------------------


@dataclass(frozen=True)
class _Reached:
    """A valid reading or observation at a limit: when, what, and the findings stored."""

    at: dt.datetime
    measurement: Measurement | None
    observation: Observation | None
    cause: str
    findings: tuple[dict[str, object], ...]


def _still_reached(
    animal: Animal, *, since: dt.datetime, until: dt.datetime | None, limits: WelfareLimits
) -> list[_Reached]:
    """The animal's valid readings and observations from ``since`` (to ``until``) that reach a
    limit, judged again as they were on their save, oldest first."""
    found: list[_Reached] = []
    readings = Measurement.objects.filter(
        animal=animal, voided_at__isnull=True, taken_at__gte=since
    ).select_related("animal__run__study__lab")
    observations = Observation.objects.filter(
        animal=animal, voided_at__isnull=True, observed_at__gte=since
    ).prefetch_related("ulcerations")
    if until is not None:
        readings = readings.filter(taken_at__lte=until)
        observations = observations.filter(observed_at__lte=until)
    for reading in readings.order_by("taken_at", "pk"):
        reached = [
            _finding(raw)
            for raw in endpoint_findings(_reading_for(reading, limits), limits.endpoints)
            if raw.status is EndpointStatus.REACHED
        ]
        if reached:
            when = reading.taken_at.isoformat()
            found.append(
                _Reached(
                    reading.taken_at,
                    reading,
                    None,
                    _CAUSE_BY_LIMIT[reached[0].limit_name],
                    tuple({**f.as_dict(), "at": when} for f in reached),
                )
            )
    for observation in observations.order_by("observed_at", "pk"):
        scored = [
            (finding, cause)
            for finding, cause in score_findings(
                scores=observation.scores or {},
                ulceration=[u.score for u in observation.ulcerations.all()],
                limits=limits,
            )
            if finding.level == "reached"
        ]
        if scored:
            when = observation.observed_at.isoformat()
            found.append(
                _Reached(
                    observation.observed_at,
                    None,
                    observation,
                    scored[0][1],
                    tuple({**f.as_dict(), "at": when} for f, _ in scored),
                )
            )
    return sorted(found, key=lambda r: r.at)


def reevaluate_episodes_after_void(
    *,
    reason: str,
    measurement: Measurement | None = None,
    observation: Observation | None = None,
) -> list[EndpointEpisode]:
    """Re-evaluate the endpoint episodes a just-voided reading (or observation) opened or
    confirmed; called inside the void's transaction, so the episode's change is audited with
    the void's reason.

    The animal's remaining valid readings and observations from the episode's first reading on
    are judged again against the limits. If one still reaches a limit, the episode starts at
    the earliest of them (its findings, cause and — for a closed episode — the hours to the
    endpoint recomputed); a confirmation by the voided reading passes to the next remaining
    reading at the limit, if any. If none does, an open or waiting episode is dismissed; a
    closed one stays closed (the animal left the study) with a note. Returns the episodes
    changed.
    """
    voided = measurement or observation
    if voided is None:
        return []
    revived = _revive_episodes_dismissed_by(measurement, reason) if measurement else []
    if measurement is not None:
        touches = Q(first_measurement=measurement) | Q(confirmed_by=measurement)
        animal = measurement.animal
        zone = animal.run.study.lab.zone
        what = f"reading of {measurement.taken_at.astimezone(zone):%Y-%m-%d %H:%M}"
    else:
        assert observation is not None
        touches = Q(first_observation=observation)
        animal = observation.animal
        zone = animal.run.study.lab.zone
        what = f"observation of {observation.observed_at.astimezone(zone):%Y-%m-%d %H:%M}"
    episodes = list(
        EndpointEpisode.objects.select_for_update(of=("self",))
        .filter(touches, animal=animal)
        .exclude(status=EpisodeStatus.DISMISSED)
        .select_related("endpoint_record")
    )
    if not episodes:
        return revived
    limits = welfare_limits(animal.run.study)
    why = (reason or "").strip()
    for episode in episodes:
        record = episode.endpoint_record if episode.status == EpisodeStatus.CLOSED else None
        remaining = _still_reached(
            animal,
            since=episode.first_reached_at,
            until=record.occurred_at if record is not None else None,
            limits=limits,
        )
        if not remaining:
            if episode.status == EpisodeStatus.CLOSED:
                episode.status_reason = (
                    f"The {what} that opened it was voided ({why}); no other reading reached a "
                    "limit before the endpoint record."
                )[:300]
            else:
                episode.status = EpisodeStatus.DISMISSED
                episode.status_reason = (
                    f"Dismissed: the {what} that opened it was voided ({why}); no valid "
                    "reading or observation at a limit remains."
                )[:300]
        else:
            first = remaining[0]
            episode.first_reached_at = first.at
            episode.first_measurement = first.measurement
            episode.first_observation = first.observation
            episode.cause = first.cause
            episode.findings = [f for r in remaining for f in r.findings][-50:]
            if measurement is not None and episode.confirmed_by_id == measurement.pk:
                episode.confirmed_by = next(
                    (r.measurement for r in remaining[1:] if r.measurement is not None), None
                )
            if record is not None:
                hours = Decimal((record.occurred_at - first.at).total_seconds() / 3600)
                episode.hours_to_endpoint = hours.quantize(Decimal("0.01"))
                episode.over_24_hours = episode.hours_to_endpoint > 24
            episode.status_reason = (
                f"Re-evaluated: the {what} was voided ({why}); first reached now "
                f"{first.at.astimezone(zone):%Y-%m-%d %H:%M}."
            )[:300]
        episode.row_version += 1
        episode.save()
    return [*revived, *episodes]


def _revive_episodes_dismissed_by(measurement: Measurement, reason: str) -> list[EndpointEpisode]:
    """Episodes a just-voided repeat reading dismissed wait for a repeat again: the first
    reading at the limit stands and nothing valid says it was wrong. Left dismissed (with a
    note) when the first reading is void too, or when the animal has another open episode
    (its own repeat rule runs there)."""
    episodes = list(
        EndpointEpisode.objects.select_for_update(of=("self",))
        .filter(dismissed_by=measurement, status=EpisodeStatus.DISMISSED)
        .select_related("first_measurement")
    )
    if not episodes:
        return []
    zone = measurement.animal.run.study.lab.zone
    what = f"repeat reading of {measurement.taken_at.astimezone(zone):%Y-%m-%d %H:%M}"
    why = (reason or "").strip()
    for episode in episodes:
        first = episode.first_measurement
        other_open = (
            EndpointEpisode.objects.filter(
                animal_id=episode.animal_id, status__in=OPEN_EPISODE_STATUSES
            )
            .exclude(pk=episode.pk)
            .exists()
        )
        if first is None or first.voided_at is not None or other_open:
            episode.status_reason = (
                f"The {what} that dismissed it was voided ({why}); it stays dismissed: "
                + (
                    "the animal has another open episode."
                    if other_open
                    else "its first reading is void."
                )
            )[:300]
        else:
            episode.status = EpisodeStatus.AWAITING_REPEAT
            episode.dismissed_by = None
            episode.status_reason = (
                f"Awaiting a repeat again: the {what} that dismissed it was voided ({why})."
            )[:300]
        episode.row_version += 1
        episode.save()
    return episodes


def reopen_episodes_of_voided_record(*, record_id: int, reason: str) -> list[EndpointEpisode]:
    """Reopen the episodes a just-voided endpoint record closed: the animal is back on study
    and still at its endpoint, the clock running from its first reading at the limit. Called
    inside the void's transaction (audited with its reason)."""
    episodes = list(
        EndpointEpisode.objects.select_for_update().filter(
            endpoint_record_id=record_id, status=EpisodeStatus.CLOSED
        )
    )
    for episode in episodes:
        episode.status = EpisodeStatus.OPEN
        episode.closed_at = None
        episode.endpoint_record = None
        episode.hours_to_endpoint = None
        episode.over_24_hours = False
        episode.status_reason = (
            f"Reopened: the endpoint record that closed it was voided ({(reason or '').strip()})."
        )[:300]
        episode.row_version += 1
        episode.save()
    return episodes


# -- endpoint alerts from paper ------------------------------------------------------------------


def alert_verified_transcription(*, sheet: TranscriptionSheet, verified_by: User) -> int:
    """Send the endpoint alerts a verified paper worksheet's readings held back.

    A value transcribed from paper is a copy until a second person has checked it against the
    scan: its endpoint episode opens at once (the Today page and the animal's endpoint page
    show it), but nobody is messaged on an unchecked copy — a typing slip would send the
    director, the technician and the vets to a healthy animal. Once the sheet is verified,
    every episode its readings opened or confirmed that has not alerted yet alerts, saying the
    value came from paper and who verified it when. Called inside the verification's
    transaction; the messages go out after commit. Returns the episodes alerted.
    """
    from planner.services.outbound import queue_message

    episodes = list(
        EndpointEpisode.objects.select_for_update(of=("self",))
        .filter(
            Q(first_measurement__transcription=sheet) | Q(confirmed_by__transcription=sheet),
            status=EpisodeStatus.OPEN,
            alerted_at__isnull=True,
        )
        .select_related("animal__run__study__lab")
    )
    if not episodes:
        return 0
    lab = sheet.run.study.lab
    written = sheet.taken_at.astimezone(lab.zone)
    checked = (sheet.verified_at or timezone.now()).astimezone(lab.zone)
    for episode in episodes:
        animal = episode.animal
        run = animal.run
        study = run.study
        cage = (
            CageAssignment.objects.filter(animal=animal, to_date__isnull=True)
            .values_list("cage__label", flat=True)
            .first()
        ) or "no cage"
        reached = [f["message"] for f in episode.findings if f.get("level") == "reached"]
        subject = (
            f"Endpoint reached (from a verified paper sheet): animal {animal.tag} "
            f"({study.code}/{run.code}, cage {cage})"
        )
        body = (
            f"Animal {animal.tag} of {study.code} / {run.code}, cage {cage}, reached a humane "
            f"endpoint at {episode.first_reached_at.astimezone(lab.zone):%Y-%m-%d %H:%M} "
            f"({lab.time_zone}):\n"
            + "\n".join(f"- {line}" for line in reached)
            + f"\n\nThe value was written on the paper worksheet of {written:%Y-%m-%d %H:%M} "
            f"and transcribed; {verified_by.get_username()} verified it against the scan at "
            f"{checked:%Y-%m-%d %H:%M}. Alerts from paper wait for that check, so this one is "
            "late: see the animal today.\n\nEuthanize it within 24 hours of that reading and "
            f"record the endpoint: /animals/{animal.pk}/endpoint/\n"
        )
        for recipient, why in alert_recipients(animal, sheet.measured_by):
            queue_message(
                lab=lab,
                recipient=recipient,
                subject=subject,
                body=body,
                reason=f"endpoint alert ({why}), transcription verified",
                related_object=f"animal {animal.pk}",
            )
        EndpointEpisode.objects.filter(pk=episode.pk).update(
            alerted_at=timezone.now(), row_version=F("row_version") + 1
        )
    return len(episodes)
