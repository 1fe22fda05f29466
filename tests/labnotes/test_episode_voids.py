"""Voiding what opened, confirmed or closed an endpoint episode re-evaluates it (issue 6):
a reading, an observation, an endpoint record — each change audited with the void's reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from labnotes.models import AnimalStatus, EndpointEpisode, EntryMethod, EpisodeStatus
from labnotes.services.endpoints import record_endpoint, void_endpoint_record
from labnotes.services.measurements import void_measurement
from labnotes.services.welfare import record_observation, void_observation
from tests.labnotes.test_welfare_services import at_day, caliper, welfare_run

pytestmark = pytest.mark.django_db


def _last_event(episode: EndpointEpisode) -> Any:
    return episode.events.order_by("pgh_id").last()  # type: ignore[attr-defined]


def _reason(event: Any) -> str:
    context = event.pgh_context
    return str((context if isinstance(context, dict) else context.metadata)["reason"])


def test_voiding_the_only_reading_at_the_limit_dismisses_the_open_episode(lab: Any) -> None:
    w = welfare_run(lab)
    # 22 mm is over the default 20 mm diameter limit: opens (API: no repeat asked)
    reading = caliper(w, 0, "22", "12", at_day(w, 12), entry_method=EntryMethod.API)
    caliper(w, 0, "12", "10", at_day(w, 13), entry_method=EntryMethod.API)  # below
    episode = EndpointEpisode.objects.get(animal=w.animals[0])
    assert episode.status == EpisodeStatus.OPEN
    version = episode.row_version
    void_measurement(measurement=reading, voided_by=w.technician, reason="typed 22 for 12")
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.DISMISSED
    assert "typed 22 for 12" in episode.status_reason and "voided" in episode.status_reason
    assert episode.row_version == version + 1
    event = _last_event(episode)
    assert event.status == EpisodeStatus.DISMISSED
    assert _reason(event) == "typed 22 for 12"
    # the animal is free of open episodes: a new crossing opens a new one
    caliper(w, 0, "21", "12", at_day(w, 13, 10), entry_method=EntryMethod.API, reason="again")
    assert EndpointEpisode.objects.filter(animal=w.animals[0]).count() == 2


def test_voiding_the_first_reading_moves_the_episode_to_the_next_reading_at_the_limit(
    lab: Any,
) -> None:
    w = welfare_run(lab)
    first = caliper(w, 1, "22", "12", at_day(w, 11), entry_method=EntryMethod.API)
    second = caliper(w, 1, "21", "12", at_day(w, 12), entry_method=EntryMethod.API)
    episode = EndpointEpisode.objects.get(animal=w.animals[1])
    assert episode.first_measurement == first
    void_measurement(measurement=first, voided_by=w.technician, reason="wrong tumour")
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.OPEN
    assert episode.first_measurement == second and episode.first_reached_at == second.taken_at
    assert [f["value"] for f in episode.findings] == [21.0]
    assert "wrong tumour" in episode.status_reason


def test_voiding_a_reading_that_opened_nothing_leaves_episodes_alone(lab: Any) -> None:
    w = welfare_run(lab)
    caliper(w, 2, "22", "12", at_day(w, 11), entry_method=EntryMethod.API)
    later = caliper(w, 2, "23", "12", at_day(w, 12), entry_method=EntryMethod.API)
    episode = EndpointEpisode.objects.get(animal=w.animals[2])
    before = (episode.status, episode.first_reached_at, episode.row_version)
    void_measurement(measurement=later, voided_by=w.technician, reason="double entry")
    episode.refresh_from_db()
    assert (episode.status, episode.first_reached_at, episode.row_version) == before


def test_voiding_the_endpoint_record_reopens_the_episode_it_closed(lab: Any) -> None:
    w = welfare_run(lab)
    reading = caliper(w, 3, "17", "15.5", at_day(w, 11, 8), entry_method=EntryMethod.API)
    record = record_endpoint(
        animal=w.animals[3],
        cause="tumour_volume",
        occurred_at=at_day(w, 12, 14),
        recorded_by=w.technician,
    )
    episode = EndpointEpisode.objects.get(animal=w.animals[3])
    assert episode.status == EpisodeStatus.CLOSED and episode.hours_to_endpoint == Decimal("30.00")
    void_endpoint_record(record=record, voided_by=w.technician, reason="wrong animal's card")
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.OPEN and episode.endpoint_record is None
    assert episode.closed_at is None and episode.hours_to_endpoint is None
    assert episode.first_measurement == reading
    assert "wrong animal's card" in episode.status_reason
    assert _reason(_last_event(episode)) == "wrong animal's card"
    w.animals[3].refresh_from_db()
    assert w.animals[3].status == AnimalStatus.ON_STUDY
    # recording the endpoint again closes it again
    record_endpoint(
        animal=w.animals[3],
        cause="tumour_volume",
        occurred_at=at_day(w, 12, 16),
        recorded_by=w.technician,
    )
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.CLOSED and episode.hours_to_endpoint == Decimal("32.00")


def test_voiding_the_observation_that_opened_a_clinical_episode_dismisses_it(lab: Any) -> None:
    w = welfare_run(lab)
    observed = record_observation(
        animal=w.animals[0],
        observed_at=at_day(w, 12),
        observer=w.technician,
        scores={"Activity": "2", "Coat": "0"},
    )
    episode = EndpointEpisode.objects.get(animal=w.animals[0])
    assert episode.status == EpisodeStatus.OPEN and episode.cause == "clinical_score"
    void_observation(
        observation=observed.observation, voided_by=w.vet, reason="scored the wrong cage"
    )
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.DISMISSED
    assert "scored the wrong cage" in episode.status_reason
    assert _reason(_last_event(episode)) == "scored the wrong cage"


def test_closed_episode_hours_are_recomputed_from_the_remaining_first_reading(lab: Any) -> None:
    w = welfare_run(lab)
    first = caliper(w, 1, "22", "12", at_day(w, 11, 8), entry_method=EntryMethod.API)
    caliper(w, 1, "21", "12", at_day(w, 12, 8), entry_method=EntryMethod.API)
    record_endpoint(
        animal=w.animals[1],
        cause="tumour_diameter",
        occurred_at=at_day(w, 12, 14),
        recorded_by=w.technician,
    )
    episode = EndpointEpisode.objects.get(animal=w.animals[1])
    assert episode.hours_to_endpoint == Decimal("30.00") and episode.over_24_hours
    void_measurement(measurement=first, voided_by=w.technician, reason="caliper not zeroed")
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.CLOSED
    assert episode.hours_to_endpoint == Decimal("6.00") and not episode.over_24_hours
    assert dt.timedelta(hours=6) == episode.endpoint_record.occurred_at - episode.first_reached_at


# -- the repeat that dismissed a grid crossing --------------------------------------------------


def _dismissed_grid_crossing(w: Any) -> tuple[Any, Any, EndpointEpisode]:
    """A grid reading over the 20 mm diameter limit, then its repeat below it: dismissed."""
    first = caliper(w, 2, "22", "12", at_day(w, 12), entry_method=EntryMethod.GRID)
    repeat = caliper(
        w, 2, "12", "10", at_day(w, 12, 10), entry_method=EntryMethod.GRID, repeat_of=first
    )
    episode = EndpointEpisode.objects.get(animal=w.animals[2])
    assert episode.status == EpisodeStatus.DISMISSED and episode.dismissed_by == repeat
    return first, repeat, episode


def test_voiding_the_repeat_that_dismissed_a_crossing_makes_it_wait_for_a_repeat_again(
    lab: Any,
) -> None:
    w = welfare_run(lab)
    _first, repeat, episode = _dismissed_grid_crossing(w)
    void_measurement(measurement=repeat, voided_by=w.technician, reason="measured tumour 2")
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.AWAITING_REPEAT and episode.dismissed_by is None
    assert "measured tumour 2" in episode.status_reason
    assert _reason(_last_event(episode)) == "measured tumour 2"
    # A new repeat at the limit now confirms it (and alerts), as the first repeat would have.
    caliper(w, 2, "23", "12", at_day(w, 12, 11), entry_method=EntryMethod.GRID, repeat_of=_first)
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.OPEN and episode.confirmed_by is not None


def test_correcting_the_dismissing_repeat_to_a_value_at_the_limit_confirms_the_crossing(
    lab: Any,
) -> None:
    w = welfare_run(lab)
    _first, repeat, episode = _dismissed_grid_crossing(w)
    corrected = caliper(
        w,
        2,
        "22.5",
        "12",
        at_day(w, 12, 10),
        entry_method=EntryMethod.GRID,
        correction_of=repeat,
        reason="typo",
    )
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.OPEN
    assert episode.confirmed_by == corrected
    assert EndpointEpisode.objects.filter(animal=w.animals[2]).count() == 1


def test_a_voided_dismissing_repeat_leaves_the_episode_dismissed_when_another_is_open(
    lab: Any,
) -> None:
    w = welfare_run(lab)
    _first, repeat, episode = _dismissed_grid_crossing(w)
    caliper(w, 2, "24", "12", at_day(w, 13), entry_method=EntryMethod.API)  # opens a new one
    void_measurement(measurement=repeat, voided_by=w.technician, reason="wrong animal")
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.DISMISSED
    assert "another open episode" in episode.status_reason
    assert EndpointEpisode.objects.filter(animal=w.animals[2], status="open").count() == 1
