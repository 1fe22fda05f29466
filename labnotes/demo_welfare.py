"""The demo's welfare history: clinical observations on the observation days since treatment
started, an ulcer that escalates to daily checks (weekend included), two animals euthanized at
the tumour volume limit and one found dead — written through the same services as the pages.

Fourth in ``labnotes.demo._record_history``: it reads the measurements written before it. The
animals it uses are the ones ``labnotes.demo_measurements`` designates (``ENDPOINT_TAGS``,
``FOUND_DEAD_TAG``) when that module names them, else the two control animals with the
largest tumours and the last animal of the combination arm.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils import timezone

from labnotes.models import (
    Animal,
    AnimalStatus,
    EndpointEpisode,
    EntryMethod,
    Measurement,
    MeasurementKind,
    StudyRun,
    TumourRole,
)
from labnotes.models.welfare import OPEN_EPISODE_STATUSES
from labnotes.services.endpoint_status import welfare_limits
from labnotes.services.endpoints import record_endpoint
from labnotes.services.measurements import record_measurement
from labnotes.services.welfare import UlcerInput, record_observation

logger = logging.getLogger(__name__)

#: Observation rounds at this local time on Mondays, Wednesdays and Fridays.
ROUND_TIME = dt.time(10, 30)


def _designated(run: StudyRun, animals: list[Animal]) -> tuple[list[Animal], Animal | None]:
    by_tag = {animal.tag: animal for animal in animals}
    try:
        module: Any = importlib.import_module("labnotes.demo_measurements")
    except ImportError:
        module = None
    tags = list(getattr(module, "ENDPOINT_TAGS", ()) or ())
    dead_tag = getattr(module, "FOUND_DEAD_TAG", None)
    volume = [by_tag[tag] for tag in tags if tag in by_tag][:2]
    dead = by_tag.get(dead_tag) if dead_tag else None
    if len(volume) < 2:
        latest: dict[int, Decimal] = {}
        for row in (
            Measurement.objects.filter(
                animal__in=animals,
                kind=MeasurementKind.CALIPER,
                tumour__role=TumourRole.INJECTED,
                voided_at__isnull=True,
                volume_mm3__isnull=False,
            )
            .order_by("animal_id", "-taken_at")
            .values("animal_id", "volume_mm3")
        ):
            latest.setdefault(row["animal_id"], row["volume_mm3"] or Decimal(0))
        controls = [a for a in animals if a.arm is not None and a.arm.is_control]
        controls.sort(key=lambda a: latest.get(a.pk, Decimal(0)), reverse=True)
        volume = (volume + [a for a in controls if a not in volume])[:2]
    if dead is None:
        arms = run.study.arms.annotate(agents=Count("regimen_items")).order_by(
            "-agents", "is_control", "order"
        )
        combination = arms.first()
        candidates = [a for a in animals if a.arm_id == getattr(combination, "pk", None)]
        dead = next((a for a in reversed(candidates) if a not in volume), None)
    return volume, dead


def _at(run: StudyRun, day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=run.study.lab.zone)


def record_demo_welfare(run: StudyRun, users: dict[str, Any]) -> None:
    """Observations, one escalation, two volume endpoints and one found dead (see module)."""
    lab = run.study.lab
    technician = users["tech_measure"]
    director = users.get("director", technician)
    now = timezone.now()
    today = lab.local_date(now)
    animals = list(
        Animal.objects.filter(run=run, arm__isnull=False, status=AnimalStatus.ON_STUDY)
        .select_related("arm", "run__study__lab")
        .prefetch_related("tumours")
        .order_by("tag")
    )
    if not animals:
        return
    main = [a for a in animals if not a.is_satellite]
    volume_animals, dead = _designated(run, main)
    start = min(a.treatment_start_date or run.day0 for a in animals)
    limits = welfare_limits(run.study)
    items = limits.score_sheet.items if limits.score_sheet is not None else ()
    normal = {item.name: 0 for item in items}
    others = [a for a in main if a not in volume_animals and a != dead]
    others.sort(key=lambda a: not (a.arm is not None and a.arm.is_control))
    ulcer_animal = others[0] if others else None

    # The endpoint readings first (so the rounds stop at each animal's end): a morning reading
    # at the volume limit for each volume animal that has none yet (an instrument reading: it
    # alerts at once), after the animal's last reading.
    # Nothing can happen to an animal before the day after its randomization: a run with no
    # history after it yet (randomized today) gets no endpoints.
    earliest = _at(run, start + dt.timedelta(days=1), dt.time(8, 0))
    max_volume = limits.endpoints.max_volume_mm3 or 2000.0
    ends: dict[int, dt.datetime] = {}
    for index, animal in enumerate(volume_animals):
        injected = next(iter(animal.tumours.all()), None)
        if injected is None:
            continue
        episode = EndpointEpisode.objects.filter(
            animal=animal, status__in=OPEN_EPISODE_STATUSES
        ).first()
        if episode is None:
            last = (
                Measurement.objects.filter(animal=animal, voided_at__isnull=True)
                .order_by("-taken_at")
                .values_list("taken_at", flat=True)
                .first()
            )
            planned = _at(run, today - dt.timedelta(days=2 + 2 * index), dt.time(8, 40))
            taken = min(max(planned, (last or planned) + dt.timedelta(minutes=5)), now)
            if taken < earliest or taken > now - dt.timedelta(hours=2):
                continue
            width = round((2 * max_volume * 1.06 / 1.25) ** (1 / 3), 2)
            record_measurement(
                tumour=injected,
                length_mm=round(width * 1.25, 2),
                width_mm=width,
                taken_at=taken,
                operator=technician,
                instrument="USB caliper 1",
                entry_method=EntryMethod.INSTRUMENT,
                reason="endpoint check",
            )
            episode = EndpointEpisode.objects.filter(
                animal=animal, status__in=OPEN_EPISODE_STATUSES
            ).first()
        reached_at = episode.first_reached_at if episode is not None else now
        # A few hours after the reading, and not in the last two hours (later records — a
        # necropsy, samples — follow the euthanasia).
        ends[animal.pk] = min(
            reached_at + dt.timedelta(hours=3, minutes=20),
            max(reached_at + dt.timedelta(minutes=15), now - dt.timedelta(hours=2)),
        )
    found = _at(run, today - dt.timedelta(days=3), dt.time(7, 45))
    seen_alive = found - dt.timedelta(hours=14, minutes=30)
    if dead is not None and found < now and seen_alive >= earliest:
        ends[dead.pk] = seen_alive

    # Regular rounds: every animal still on study, Mon/Wed/Fri from treatment start.
    rounds = [
        start + dt.timedelta(days=n)
        for n in range((today - start).days + 1)
        if (start + dt.timedelta(days=n)).weekday() in (0, 2, 4)
    ]
    escalated_on = rounds[-3] if len(rounds) >= 3 else None
    for day in rounds:
        when = _at(run, day, ROUND_TIME)
        if when > now:
            continue
        for animal in animals:
            if animal.pk in ends and when >= ends[animal.pk]:
                continue
            injected = next(iter(animal.tumours.all()), None)
            ulcer = 0
            notes = ""
            if animal == ulcer_animal and escalated_on is not None and day >= escalated_on:
                ulcer, notes = 1, "Small scab on the tumour surface."
            scores = dict(normal)
            late = day >= today - dt.timedelta(days=6)
            if animal in volume_animals and late and "Coat" in scores:
                scores["Coat"] = 1
                notes = notes or "Piloerection; large tumour."
            record_observation(
                animal=animal,
                observed_at=when,
                observer=technician,
                scores=scores,
                ulceration=[UlcerInput(injected.pk, ulcer)] if injected is not None else [],
                notes=notes,
                limits=limits,
            )

    # The escalated animal is checked every day after the scab, the weekend included.
    if ulcer_animal is not None and escalated_on is not None:
        injected = next(iter(ulcer_animal.tumours.all()), None)
        day = escalated_on + dt.timedelta(days=1)
        while day < today:
            if day.weekday() not in (0, 2, 4):
                record_observation(
                    animal=ulcer_animal,
                    observed_at=_at(run, day, dt.time(9, 15)),
                    observer=technician,
                    scores=dict(normal),
                    ulceration=[UlcerInput(injected.pk, 1)] if injected is not None else [],
                    notes="Daily check: scab unchanged, no discharge.",
                    limits=limits,
                )
            day += dt.timedelta(days=1)

    # The endpoint records: two at the volume limit, one found dead.
    for animal in volume_animals:
        if animal.pk in ends:
            record_endpoint(
                animal=animal,
                cause="tumour_volume",
                occurred_at=ends[animal.pk],
                actual_severity="moderate",
                notes="Euthanized by CO2 after the volume limit was confirmed.",
                recorded_by=technician,
            )
    if dead is not None and dead.pk in ends:
        record_endpoint(
            animal=dead,
            cause="found_dead",
            occurred_at=found,
            last_seen_alive_at=seen_alive,
            actual_severity="severe",
            notes="Found dead in the cage; no signs the evening before. Necropsy requested.",
            recorded_by=director,
        )
    logger.info(
        "demo welfare: %s observation rounds, volume endpoints for %s, found dead %s",
        len(rounds),
        ", ".join(a.tag for a in volume_animals if a.pk in ends) or "none",
        dead.tag if dead is not None and dead.pk in ends else "none",
    )
