"""Endpoint records: found dead, closing episodes, cancelling tasks; survival rows; alerts sent
by the real worker."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models.functions import Coalesce
from django.utils import timezone

from labnotes.models import (
    Animal,
    AnimalStatus,
    EndpointEpisode,
    EndpointRecord,
    EntryMethod,
    EpisodeStatus,
    Task,
    TaskStatus,
)
from labnotes.selectors_survival import survival_rows
from labnotes.services.endpoints import record_endpoint, void_endpoint_record
from labnotes.services.measurements import record_measurement
from labnotes.services.schedule import expand_run_tasks
from planner.models import OutboundMessage, OutboundStatus, Study
from tests.conftest import wait_for
from tests.labnotes.test_welfare_services import at_day, caliper, welfare_run

pytestmark = pytest.mark.django_db


def test_found_dead_without_last_seen_alive_is_refused_and_writes_nothing(lab):
    w = welfare_run(lab)
    animal = w.animals[0]
    with pytest.raises(ValidationError) as raised:
        record_endpoint(
            animal=animal,
            cause="found_dead",
            occurred_at=at_day(w, 12),
            recorded_by=w.technician,
        )
    assert "last_seen_alive_at" in raised.value.message_dict
    animal.refresh_from_db()
    assert animal.status == AnimalStatus.ON_STUDY
    assert not EndpointRecord.objects.exists()


def test_found_dead_voids_caliper_readings_after_last_seen_alive(lab):
    w = welfare_run(lab)
    animal = w.animals[0]
    before = caliper(w, 0, "9", "7", at_day(w, 10))
    after = caliper(w, 0, "9.5", "7", at_day(w, 12))
    weight = record_measurement(
        animal=animal, weight_g="18.2", taken_at=at_day(w, 12, 10), operator=w.technician
    )
    record = record_endpoint(
        animal=animal,
        cause="found_dead",
        occurred_at=at_day(w, 12, 16),
        last_seen_alive_at=at_day(w, 11, 17),
        actual_severity="severe",
        recorded_by=w.technician,
        notes="found in the morning round",
    )
    assert record.outcome == "event" and record.excluded_readings == 1
    before.refresh_from_db()
    after.refresh_from_db()
    assert before.voided_at is None
    assert after.voided_at is not None and "last seen alive" in after.void_reason
    weight.refresh_from_db()
    assert weight.voided_at is None  # only caliper readings are excluded (the brief's scope)
    animal.refresh_from_db()
    assert animal.status == AnimalStatus.FOUND_DEAD
    assert animal.status_reason.startswith("Found dead")
    assert record.actual_severity == "severe" and record.study_day == 12


def test_endpoint_is_refused_when_last_seen_alive_after_death_or_time_in_future(lab):
    w = welfare_run(lab)
    with pytest.raises(ValidationError, match="after it was found dead"):
        record_endpoint(
            animal=w.animals[0],
            cause="found_dead",
            occurred_at=at_day(w, 11),
            last_seen_alive_at=at_day(w, 12),
            recorded_by=w.technician,
        )
    with pytest.raises(ValidationError, match="future"):
        record_endpoint(
            animal=w.animals[0],
            cause="tumour_volume",
            occurred_at=timezone.now() + dt.timedelta(hours=2),
            recorded_by=w.technician,
        )
    with pytest.raises(ValidationError, match="not an endpoint cause"):
        record_endpoint(
            animal=w.animals[0],
            cause="boredom",
            occurred_at=at_day(w, 11),
            recorded_by=w.technician,
        )


def test_endpoint_closes_episode_with_hours_and_flags_over_24_hours(lab):
    w = welfare_run(lab)
    reading = caliper(w, 1, "17", "15.5", at_day(w, 11, 8), entry_method=EntryMethod.API)
    episode = EndpointEpisode.objects.get(animal=w.animals[1])
    assert episode.status == EpisodeStatus.OPEN
    record = record_endpoint(
        animal=w.animals[1],
        cause="tumour_volume",
        occurred_at=at_day(w, 12, 14),  # 30 h after the reading
        actual_severity="moderate",
        recorded_by=w.technician,
    )
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.CLOSED and episode.endpoint_record == record
    expected = Decimal((at_day(w, 12, 14) - reading.taken_at).total_seconds() / 3600)
    assert episode.hours_to_endpoint == expected.quantize(Decimal("0.01"))
    assert episode.over_24_hours is True
    animal = Animal.objects.get(pk=w.animals[1].pk)
    assert animal.status == AnimalStatus.ENDPOINT_REACHED
    with pytest.raises(ValidationError, match=r"left the study|endpoint record already"):
        record_endpoint(
            animal=animal, cause="accident", occurred_at=at_day(w, 13), recorded_by=w.technician
        )


def test_endpoint_within_24_hours_is_not_flagged(lab):
    w = welfare_run(lab)
    caliper(w, 2, "21", "10", at_day(w, 12, 8), entry_method=EntryMethod.API)
    record_endpoint(
        animal=w.animals[2],
        cause="tumour_diameter",
        occurred_at=at_day(w, 12, 15),
        recorded_by=w.technician,
    )
    episode = EndpointEpisode.objects.get(animal=w.animals[2])
    assert episode.hours_to_endpoint == Decimal("7.00") and episode.over_24_hours is False


def test_endpoint_cancels_the_animals_future_tasks_only(lab):
    w = welfare_run(lab, day0_days_ago=8)  # treatment started yesterday: tasks ahead
    expand_run_tasks(run=w.run, requested_by=w.design.director)
    today = lab.local_date(timezone.now())
    future = Task.objects.annotate(day=Coalesce("scheduled_date", "nominal_date")).filter(
        day__gte=today, status=TaskStatus.DUE
    )
    assert future.filter(animal=w.animals[0]).exists()
    others = future.exclude(animal=w.animals[0]).count()
    record_endpoint(
        animal=w.animals[0],
        cause="treatment_toxicity",
        occurred_at=timezone.now() - dt.timedelta(minutes=5),
        recorded_by=w.technician,
    )
    assert not future.filter(animal=w.animals[0]).exists()
    assert future.exclude(animal=w.animals[0]).count() == others


def test_void_endpoint_record_puts_animal_back_on_study(lab):
    w = welfare_run(lab)
    record = record_endpoint(
        animal=w.animals[3], cause="accident", occurred_at=at_day(w, 12), recorded_by=w.technician
    )
    voided = void_endpoint_record(record=record, voided_by=w.technician, reason="wrong animal")
    assert voided.is_voided
    assert Animal.objects.get(pk=w.animals[3].pk).status == AnimalStatus.ON_STUDY
    again = record_endpoint(
        animal=w.animals[3], cause="accident", occurred_at=at_day(w, 12), recorded_by=w.technician
    )
    assert again.pk != record.pk


def test_survival_rows_map_causes_to_event_or_censored_per_design(lab):
    w = welfare_run(lab, count=5)
    studies = Study.objects.filter(pk=w.run.study_id)
    # The design says: found dead is censored (e.g. deaths unrelated to the tumour expected),
    # time from implantation.
    studies.update(
        survival_definition={"time_origin": "implantation", "causes": {"found_dead": "censored"}}
    )
    w.run.study.refresh_from_db()
    record_endpoint(
        animal=w.animals[0],
        cause="tumour_volume",
        occurred_at=at_day(w, 12),
        recorded_by=w.technician,
    )
    record_endpoint(
        animal=w.animals[1],
        cause="found_dead",
        occurred_at=at_day(w, 11),
        last_seen_alive_at=at_day(w, 10, 17),
        recorded_by=w.technician,
    )
    record_endpoint(
        animal=w.animals[2],
        cause="scheduled_sacrifice",
        occurred_at=at_day(w, 10),
        recorded_by=w.technician,
    )
    caliper(w, 3, "9", "8", at_day(w, 9))  # last seen on day 9, still on study
    rows = {row.tag: row for row in survival_rows(w.run)}
    tags = [animal.tag for animal in w.animals]
    assert [(rows[t].days, rows[t].event, rows[t].cause) for t in tags] == [
        (12, True, "tumour_volume"),
        (11, False, "found_dead"),
        (10, False, "scheduled_sacrifice"),
        (9, False, ""),
        (0, False, ""),
    ]
    assert {row.time_origin for row in rows.values()} == {"implantation"}
    assert rows[tags[0]].arm_code == "G1" and rows[tags[1]].arm_code == "G2"
    # The default definition counts from treatment start (day 7 here): 12 - 7 = 5 days.
    studies.update(survival_definition={})
    w.run.study.refresh_from_db()
    default = {row.tag: row for row in survival_rows(w.run)}
    assert default[tags[0]].days == 5 and default[tags[1]].event is True


@pytest.mark.worker
def test_endpoint_alert_is_sent_by_worker_and_recorded_as_outbound_message(
    celery_worker_process, lab
):
    w = welfare_run(lab)
    caliper(w, 0, "17", "15.5", at_day(w, 12), entry_method=EntryMethod.API)
    messages = OutboundMessage.objects.filter(related_object=f"animal {w.animals[0].pk}")
    assert messages.count() == 3

    def all_sent() -> bool:
        return all(m.status != OutboundStatus.PENDING for m in messages.all())

    wait_for(all_sent, timeout=90)
    assert {m.status for m in messages.all()} == {OutboundStatus.SENT}
    assert {m.recipient for m in messages.all()} == {w.design.director, w.technician, w.vet}
    log = celery_worker_process.log_path.read_text()
    assert f"Endpoint reached: animal {w.animals[0].tag}" in log
