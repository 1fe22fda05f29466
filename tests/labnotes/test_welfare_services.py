"""Observations, escalation checks and endpoint status after every reading and observation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from labnotes.models import (
    Animal,
    EndpointEpisode,
    EntryMethod,
    EpisodeStatus,
    Observation,
    UlcerationScore,
    WelfareCheck,
    WelfareCheckKind,
    WelfareCheckStatus,
)
from labnotes.services.animals import record_implantation, register_animals
from labnotes.services.endpoint_status import welfare_limits
from labnotes.services.measurements import record_measurement
from labnotes.services.runs import start_study_run
from labnotes.services.welfare import (
    ESCALATION_HORIZON_DAYS,
    UlcerInput,
    record_observation,
    void_observation,
)
from planner.models import (
    EthicsProtocol,
    Holiday,
    OutboundMessage,
    ProcedureRole,
    Study,
    StudyProcedure,
)
from tests.factories import MembershipFactory, UserFactory
from tests.labnotes.builders import Design, build_design, released_version, tag_rows

pytestmark = pytest.mark.django_db

SCORE_SHEET: dict[str, Any] = {
    "schedule": "Mon/Wed/Fri",
    "items": [
        {
            "name": "Activity",
            "levels": [
                {"score": 0, "description": "normal"},
                {"score": 1, "description": "reduced"},
                {"score": 2, "description": "moribund"},
            ],
            "endpoint_score": 2,
        },
        {
            "name": "Coat",
            "levels": [
                {"score": 0, "description": "smooth"},
                {"score": 1, "description": "piloerection"},
            ],
        },
    ],
    "ulceration_per_tumour": True,
    "record_ulcer_diameter": True,
    "escalation_rules": [
        {"item": "ulceration", "at_score": 1, "action": "daily_checks"},
        {"item": "ulceration", "at_score": 3, "action": "endpoint"},
        {"item": "Coat", "at_score": 1, "action": "veterinary_review"},
    ],
}


@dataclass
class WelfareRun:
    design: Design
    run: Any
    animals: list[Animal]
    tumours: list[Any]
    vet: Any

    @property
    def technician(self) -> Any:
        return self.design.technician


def welfare_run(
    lab: Any,
    *,
    count: int = 4,
    ethics_limits: dict[str, Any] | None = None,
    humane_endpoints: dict[str, Any] | None = None,
    weight_parameters: dict[str, Any] | None = None,
    day0_days_ago: int = 14,
) -> WelfareRun:
    """A randomized run of ``count`` animals (one tumour each) with a score sheet, humane
    endpoint limits, a veterinarian in the lab; treatment started on day 7."""
    design = build_design(lab=lab, arms=2, planned_n=count)
    director = design.director
    vet = UserFactory()
    MembershipFactory(user=vet, lab=lab, role="veterinarian")
    sheet = released_version(lab, director, "clinical_observation", "Sheet", SCORE_SHEET)
    StudyProcedure.objects.create(
        study=design.study, role=ProcedureRole.CLINICAL_OBSERVATION, protocol_version=sheet
    )
    endpoints = released_version(
        lab, director, "humane_endpoints", "Endpoints", humane_endpoints or {}
    )
    StudyProcedure.objects.create(
        study=design.study, role=ProcedureRole.HUMANE_ENDPOINTS, protocol_version=endpoints
    )
    if weight_parameters is not None:
        weight = released_version(lab, director, "body_weight", "Weight v2", weight_parameters)
        StudyProcedure.objects.filter(study=design.study, role=ProcedureRole.BODY_WEIGHT).update(
            protocol_version=weight
        )
    if ethics_limits is not None:
        EthicsProtocol.objects.filter(pk=design.ethics.pk).update(endpoint_limits=ethics_limits)
    run = start_study_run(
        study=design.study,
        code="W1",
        day0=timezone.localdate() - dt.timedelta(days=day0_days_ago),
        started_by=director,
    )
    animals = register_animals(run=run, rows=tag_rows(count), registered_by=design.technician)
    tumours = [
        record_implantation(
            animal=animal,
            site="right flank",
            implanted_on=run.day0,
            cells=500_000,
            operator=design.technician,
        ).tumour
        for animal in animals
    ]
    for index, animal in enumerate(animals):
        Animal.objects.filter(pk=animal.pk).update(
            arm=design.arms[index % 2], treatment_start_date=run.day0 + dt.timedelta(days=7)
        )
        animal.refresh_from_db()
    return WelfareRun(design, run, animals, tumours, vet)


@pytest.fixture
def w(lab: Any) -> WelfareRun:
    return welfare_run(lab)


def at_day(w: WelfareRun, day: int, hour: int = 9) -> dt.datetime:
    zone = w.run.study.lab.zone
    return dt.datetime.combine(w.run.day0 + dt.timedelta(days=day), dt.time(hour), tzinfo=zone)


def caliper(w: WelfareRun, index: int, length: str, width: str, when: dt.datetime, **extra: Any):
    return record_measurement(
        tumour=w.tumours[index],
        length_mm=length,
        width_mm=width,
        taken_at=when,
        operator=w.technician,
        **extra,
    )


# -- limits --------------------------------------------------------------------------------------


def test_limits_take_the_strictest_of_ethics_and_design_when_both_set(lab):
    w = welfare_run(
        lab,
        ethics_limits={"max_volume_mm3": 1500, "max_diameter_mm": 25},
        humane_endpoints={"max_volume_mm3": 1800, "max_diameter_mm": 18},
    )
    Study.objects.filter(pk=w.run.study_id).update(
        humane_endpoints={"max_volume_mm3": 2000, "max_weight_loss_percent": 15}
    )
    limits = welfare_limits(Study.objects.get(pk=w.run.study_id))
    assert limits.endpoints.max_volume_mm3 == 1500
    assert limits.endpoints.max_diameter_mm == 18
    assert limits.endpoints.max_weight_loss_percent == 15
    assert limits.ulceration_score_limit == 3
    assert limits.score_sheet is not None and [i.name for i in limits.score_sheet.items] == [
        "Activity",
        "Coat",
    ]
    assert any("ethics protocol" in source for source in limits.sources)


# -- readings --------------------------------------------------------------------------------


def test_api_reading_over_ethics_volume_limit_opens_episode_and_alerts_when_saved(lab):
    w = welfare_run(lab, ethics_limits={"max_volume_mm3": 1500})
    # 16 x 14.5² / 2 = 1682 mm³: over the ethics limit (1500), under the default 2000.
    reading = caliper(w, 0, "16", "14.5", at_day(w, 12), entry_method=EntryMethod.API)
    episode = EndpointEpisode.objects.get(animal=w.animals[0])
    assert episode.status == EpisodeStatus.OPEN
    assert episode.cause == "tumour_volume"
    assert episode.first_measurement == reading and episode.first_reached_at == reading.taken_at
    assert episode.alerted_at is not None
    reasons = sorted(
        (m.recipient.username, m.reason)
        for m in OutboundMessage.objects.filter(related_object=f"animal {w.animals[0].pk}")
    )
    assert reasons == sorted(
        [
            (w.design.director.username, "endpoint alert (study director)"),
            (w.technician.username, "endpoint alert (technician)"),
            (w.vet.username, "endpoint alert (veterinarian)"),
        ]
    )
    message = OutboundMessage.objects.filter(recipient=w.vet).get()
    assert w.animals[0].tag in message.subject
    assert "1500" in message.body and "volume" in message.body
    for sentinel in ("ARMLBL-7f3a", "AGT-QX9", "G1", "G2"):
        assert sentinel not in message.body + message.subject


def test_grid_reading_over_limit_waits_for_repeat_then_alerts_when_repeat_confirms(w):
    first = caliper(w, 0, "22", "12", at_day(w, 12), entry_method=EntryMethod.GRID)
    episode = EndpointEpisode.objects.get(animal=w.animals[0])
    assert episode.status == EpisodeStatus.AWAITING_REPEAT and episode.cause == "tumour_diameter"
    assert OutboundMessage.objects.count() == 0
    caliper(
        w,
        0,
        "21.5",
        "12",
        at_day(w, 12) + dt.timedelta(minutes=2),
        entry_method=EntryMethod.GRID,
        reason="repeat",
    )
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.OPEN
    assert episode.first_reached_at == first.taken_at
    assert OutboundMessage.objects.filter(related_object=f"animal {w.animals[0].pk}").count() == 3


def test_grid_reading_over_limit_is_dismissed_when_repeat_is_below(w):
    caliper(w, 1, "20.4", "10", at_day(w, 12), entry_method=EntryMethod.GRID)
    caliper(
        w,
        1,
        "19.0",
        "10",
        at_day(w, 12) + dt.timedelta(minutes=1),
        entry_method=EntryMethod.GRID,
        reason="repeat",
    )
    episode = EndpointEpisode.objects.get(animal=w.animals[1])
    assert episode.status == EpisodeStatus.DISMISSED and "below the limit" in episode.status_reason
    assert OutboundMessage.objects.count() == 0


def test_reading_below_limits_opens_nothing_when_saved(w):
    caliper(w, 2, "10", "8", at_day(w, 12))
    assert not EndpointEpisode.objects.exists()


def test_weight_loss_is_tumour_corrected_when_protocol_says_so(lab):
    w = welfare_run(
        lab,
        weight_parameters={"schedule": "Mon/Wed/Fri", "tumour_corrected": True},
        humane_endpoints={"max_volume_mm3": 4000, "max_diameter_mm": 30},
    )
    animal, tumour_index = w.animals[0], 0
    # Baseline on the randomization day (day 7): 20.0 g with a 100 mm³ tumour (10 x √20).
    caliper(w, tumour_index, "10", "4.47", at_day(w, 7, 8))
    record_measurement(animal=animal, weight_g="20.0", taken_at=at_day(w, 7), operator=w.technician)
    # Day 13: 17.5 g with a 1900 mm³ tumour (20 x 13.784² / 2 = 1900.0).
    caliper(w, tumour_index, "20", "13.784", at_day(w, 13, 8))
    record_measurement(
        animal=animal, weight_g="17.5", taken_at=at_day(w, 13), operator=w.technician
    )
    episode = EndpointEpisode.objects.get(animal=animal)
    assert episode.cause == "weight_loss"
    [finding] = [f for f in episode.findings if f["limit"] == "weight loss"]
    baseline_corrected = 20.0 - (10 * 4.47**2 / 2) / 1000  # tumour grams at 1 mg/mm³
    now_corrected = 17.5 - 1.9000  # 1900 mm³ = 1.9 g
    expected = (baseline_corrected - now_corrected) / baseline_corrected * 100
    assert finding["value"] == pytest.approx(expected, abs=0.05)
    assert finding["value"] > 20  # uncorrected the loss is 12.5 %: no endpoint


def test_weight_projection_measures_the_loss_as_the_endpoint_does(lab):
    """With tumour correction on, the projection's latest loss is the corrected loss the
    endpoint judges (a raw-weight trend would lag it for animals with large tumours)."""
    from labnotes.selectors_welfare import weight_projections
    from labnotes.services.endpoint_status import _reading_for

    w = welfare_run(
        lab,
        weight_parameters={"schedule": "Mon/Wed/Fri", "tumour_corrected": True},
        humane_endpoints={"max_volume_mm3": 4000, "max_diameter_mm": 30},
    )
    animal = w.animals[0]
    caliper(w, 0, "10", "4.47", at_day(w, 7, 8))  # 99.9 mm³ (stored to 0.1 mm³)
    record_measurement(animal=animal, weight_g="20.0", taken_at=at_day(w, 7), operator=w.technician)
    caliper(w, 0, "16", "10", at_day(w, 10, 8))  # 800 mm³
    record_measurement(
        animal=animal, weight_g="19.4", taken_at=at_day(w, 10), operator=w.technician
    )
    caliper(w, 0, "20", "10", at_day(w, 12, 8))  # 1000 mm³
    latest = record_measurement(
        animal=animal, weight_g="18.9", taken_at=at_day(w, 12), operator=w.technician
    )
    animal.refresh_from_db()
    limits = welfare_limits(w.run.study)
    [projection] = weight_projections(
        [animal], run=w.run, limits=limits, until=at_day(w, 13)
    ).values()

    baseline = 20.0 - 10 * 4.47**2 / 2 / 1000
    losses = [
        (baseline - (weight - tumour_g)) / baseline * 100
        for weight, tumour_g in [(20.0, 10 * 4.47**2 / 2 / 1000), (19.4, 0.8), (18.9, 1.0)]
    ]
    assert projection.latest_loss_percent == pytest.approx(losses[-1], abs=1e-3)
    assert projection.latest_loss_percent > 10  # raw weight: 5.5 %
    # The trend is the least-squares line through the three corrected points (numpy agrees).
    import numpy as np

    days = [7 + 9 / 24, 10 + 9 / 24, 12 + 9 / 24]
    slope, _ = np.polyfit(days, losses, 1)
    assert projection.slope_percent_per_day == pytest.approx(slope, rel=1e-4)
    # ... and the endpoint status judges the same reading at the same loss.
    assert _reading_for(latest, limits).weight_loss_percent == pytest.approx(
        projection.latest_loss_percent, abs=1e-9
    )


def test_weight_loss_is_not_corrected_when_protocol_does_not_say_so(w):
    animal = w.animals[3]
    record_measurement(animal=animal, weight_g="20.0", taken_at=at_day(w, 7), operator=w.technician)
    record_measurement(
        animal=animal, weight_g="17.5", taken_at=at_day(w, 12), operator=w.technician
    )
    assert not EndpointEpisode.objects.filter(animal=animal).exists()  # 12.5 % < 20 %
    record_measurement(
        animal=animal, weight_g="15.9", taken_at=at_day(w, 13), operator=w.technician
    )
    episode = EndpointEpisode.objects.get(animal=animal)
    assert episode.status == EpisodeStatus.OPEN and episode.cause == "weight_loss"
    assert episode.findings[-1]["value"] == pytest.approx(20.5, abs=0.01)


# -- observations ----------------------------------------------------------------------------


def test_observation_is_refused_when_scores_break_the_sheet(w):
    animal = w.animals[0]
    cases = [
        ({"Activity": 0}, "scores.Coat"),
        ({"Activity": 3, "Coat": 0}, "scores.Activity"),
        ({"Activity": 0, "Coat": 0, "Gait": 1}, "scores.Gait"),
        ({"Activity": "x", "Coat": 0}, "scores.Activity"),
    ]
    for scores, field in cases:
        with pytest.raises(ValidationError) as raised:
            record_observation(
                animal=animal, observed_at=at_day(w, 12), observer=w.technician, scores=scores
            )
        assert field in raised.value.message_dict, (scores, raised.value.message_dict)
    with pytest.raises(ValidationError, match="not one of"):
        record_observation(
            animal=animal,
            observed_at=at_day(w, 12),
            observer=w.technician,
            scores={"Activity": 0, "Coat": 0},
            ulceration=[UlcerInput(w.tumours[1].pk, 1)],
        )
    assert not Observation.objects.exists()


def test_observation_is_refused_when_observer_is_a_viewer(w):
    with pytest.raises(PermissionDenied):
        record_observation(
            animal=w.animals[0],
            observed_at=at_day(w, 12),
            observer=w.design.viewer,
            scores={"activity": 0, "coat": 0},
        )


def test_observation_stores_scores_and_ulceration_per_tumour_when_valid(w):
    result = record_observation(
        animal=w.animals[0],
        observed_at=at_day(w, 12),
        observer=w.technician,
        scores={"activity": "1", "COAT": 0},
        ulceration=[UlcerInput(w.tumours[0].pk, 2, "3,5")],
        notes="hunched in the morning",
    )
    observation = result.observation
    assert observation.scores == {"Activity": 1, "Coat": 0} and observation.total_score == 1
    assert observation.study_day == 12
    assert observation.endpoint_level == "approaching"  # activity 1, its endpoint at 2
    [ulcer] = UlcerationScore.objects.filter(observation=observation)
    assert (ulcer.tumour_id, ulcer.score, ulcer.diameter_mm) == (w.tumours[0].pk, 2, Decimal("3.5"))


def test_ulceration_creates_daily_checks_through_weekend_and_holiday_when_escalated(w):
    lab = w.run.study.lab
    day = w.run.day0 + dt.timedelta(days=10)
    holiday = day + dt.timedelta(days=3)
    Holiday.objects.create(lab=lab, day=holiday, name="Founders' day")
    result = record_observation(
        animal=w.animals[1],
        observed_at=at_day(w, 10),
        observer=w.technician,
        scores={"Activity": 0, "Coat": 0},
        ulceration=[UlcerInput(w.tumours[1].pk, 1)],
    )
    dates = sorted(
        WelfareCheck.objects.filter(
            animal=w.animals[1], kind=WelfareCheckKind.DAILY_CHECK
        ).values_list("due_date", flat=True)
    )
    expected = [day + dt.timedelta(days=n) for n in range(1, ESCALATION_HORIZON_DAYS + 1)]
    assert dates == expected
    assert {d.weekday() for d in dates} >= {5, 6} and holiday in dates
    assert len(result.checks_created) == ESCALATION_HORIZON_DAYS
    # The next day's observation completes that day's check and keeps the escalation going.
    again = record_observation(
        animal=w.animals[1],
        observed_at=at_day(w, 11),
        observer=w.technician,
        scores={"Activity": 0, "Coat": 0},
        ulceration=[UlcerInput(w.tumours[1].pk, 1)],
    )
    assert again.checks_completed == 1
    check = WelfareCheck.objects.get(animal=w.animals[1], due_date=day + dt.timedelta(days=1))
    assert check.status == WelfareCheckStatus.DONE
    assert check.done_by_observation == again.observation
    assert len(again.checks_created) == 1  # the horizon moved on by one day
    # Healed: the later checks are cancelled.
    healed = record_observation(
        animal=w.animals[1],
        observed_at=at_day(w, 12),
        observer=w.technician,
        scores={"Activity": 0, "Coat": 0},
        ulceration=[UlcerInput(w.tumours[1].pk, 0)],
    )
    assert healed.checks_cancelled == ESCALATION_HORIZON_DAYS - 1
    assert not WelfareCheck.objects.filter(
        animal=w.animals[1], status=WelfareCheckStatus.DUE, due_date__gt=day + dt.timedelta(days=2)
    ).exists()


def test_coat_score_asks_veterinary_review_and_messages_vet_when_rule_says_so(w):
    result = record_observation(
        animal=w.animals[2],
        observed_at=at_day(w, 12),
        observer=w.technician,
        scores={"Activity": 0, "Coat": 1},
    )
    [check] = result.checks_created
    assert check.kind == WelfareCheckKind.VETERINARY_REVIEW
    assert check.due_date == w.run.day0 + dt.timedelta(days=12)
    [message] = OutboundMessage.objects.all()
    assert message.recipient == w.vet and "Veterinary review" in message.subject
    vet_visit = record_observation(
        animal=w.animals[2],
        observed_at=at_day(w, 12, 15),
        observer=w.vet,
        scores={"Activity": 0, "Coat": 1},
    )
    assert vet_visit.checks_completed == 1
    check.refresh_from_db()
    assert check.status == WelfareCheckStatus.DONE


def test_activity_at_endpoint_score_opens_clinical_episode_and_alerts_when_observed(w):
    result = record_observation(
        animal=w.animals[3],
        observed_at=at_day(w, 12),
        observer=w.technician,
        scores={"Activity": 2, "Coat": 1},
    )
    assert result.evaluation.level == "reached" and result.evaluation.alerted
    episode = EndpointEpisode.objects.get(animal=w.animals[3])
    assert episode.status == EpisodeStatus.OPEN and episode.cause == "clinical_score"
    assert episode.first_observation == result.observation
    alerts = OutboundMessage.objects.filter(reason__startswith="endpoint alert")
    assert {m.recipient for m in alerts} == {w.design.director, w.technician, w.vet}


def test_ulceration_three_reaches_endpoint_when_observed(w):
    record_observation(
        animal=w.animals[0],
        observed_at=at_day(w, 12),
        observer=w.technician,
        scores={"Activity": 0, "Coat": 0},
        ulceration=[UlcerInput(w.tumours[0].pk, 3, 6)],
    )
    assert EndpointEpisode.objects.get(animal=w.animals[0]).cause == "ulceration"


def test_observation_resend_returns_first_when_client_id_repeats(w):
    kwargs: dict[str, Any] = {
        "animal": w.animals[0],
        "observed_at": at_day(w, 12),
        "observer": w.technician,
        "scores": {"Activity": 0, "Coat": 0},
        "client_id": "abc-1",
    }
    first = record_observation(**kwargs)
    second = record_observation(**kwargs)
    assert second.replayed and second.observation.pk == first.observation.pk
    assert Observation.objects.count() == 1


def test_void_observation_needs_reason_and_keeps_row(w):
    observation = record_observation(
        animal=w.animals[0],
        observed_at=at_day(w, 12),
        observer=w.technician,
        scores={"Activity": 0, "Coat": 0},
    ).observation
    with pytest.raises(ValidationError):
        void_observation(observation=observation, voided_by=w.technician, reason=" ")
    voided = void_observation(observation=observation, voided_by=w.technician, reason="wrong cage")
    assert voided.is_voided and voided.void_reason == "wrong cage"
    assert Observation.objects.filter(pk=observation.pk).exists()


def test_observation_in_future_is_refused(w):
    with pytest.raises(ValidationError, match="future"):
        record_observation(
            animal=w.animals[0],
            observed_at=timezone.now() + dt.timedelta(hours=1),
            observer=w.technician,
            scores={"Activity": 0, "Coat": 0},
        )
