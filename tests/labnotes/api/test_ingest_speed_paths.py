"""The fast paths of bulk ingest (issue 11): humane endpoints judged in bulk with the same
findings as reading by reading, alerts still sent from an ingest, the audit trail complete and
verified after a bulk ingest, the phases timed in a Server-Timing header."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.apps import apps

from labnotes.models import EndpointEpisode, EpisodeStatus, Measurement
from labnotes.services.endpoint_status import (
    evaluate_after_reading,
    evaluate_readings_in_bulk,
    welfare_limits,
)
from labnotes.services.measurements import record_measurement
from planner.models import OutboundMessage, Study
from planner.security.audit_chain import verify_audit_trail
from tests.labnotes.api.device_support import make_device, post, rows_for
from tests.labnotes.test_welfare_services import WelfareRun, at_day, caliper, welfare_run
from tests.security.conftest import owner_execute

pytestmark = pytest.mark.django_db


def _weight(w: WelfareRun, index: int, grams: str, when: dt.datetime) -> Measurement:
    return record_measurement(
        animal=w.animals[index], weight_g=grams, taken_at=when, operator=w.technician
    )


def _judgement(evaluation: Any) -> tuple[str, list[dict[str, object]]]:
    return str(evaluation.level), [finding.as_dict() for finding in evaluation.findings]


def test_bulk_judgement_equals_reading_by_reading_with_history_and_correction(
    lab: Any, django_assert_max_num_queries: Any
) -> None:
    w = welfare_run(
        lab,
        weight_parameters={"schedule": "Mon/Wed/Fri", "tumour_corrected": True},
        humane_endpoints={
            "max_volume_mm3": 4000,
            "max_diameter_mm": 30,
            "max_total_volume_mm3": 5000,
        },
    )
    # Animal 0: baseline 20.0 g on the randomization day (day 7) with a 100 mm³ tumour taken
    # before it; an earlier (day 3) weight that is not the baseline; on day 12 a 3240 mm³
    # tumour (20 x 18² / 2) and 19.6 g.
    caliper(w, 0, "10", "4.47", at_day(w, 5))
    _weight(w, 0, "21.0", at_day(w, 3))
    _weight(w, 0, "20.0", at_day(w, 7))
    latest = [caliper(w, 0, "20", "18", at_day(w, 12, 8)), _weight(w, 0, "19.6", at_day(w, 12))]
    # Animal 1: no weight before the baseline day: its earliest weight is the baseline.
    caliper(w, 1, "9", "8", at_day(w, 8))
    _weight(w, 1, "20.0", at_day(w, 9))
    latest += [caliper(w, 1, "11", "9", at_day(w, 12, 8)), _weight(w, 1, "18.5", at_day(w, 12))]
    # Animal 2: its only weight is the one judged; a caliper reading taken after the weight
    # (not part of the weight's tumour correction).
    latest += [_weight(w, 2, "21.0", at_day(w, 12)), caliper(w, 2, "12", "10", at_day(w, 13))]
    assert not EndpointEpisode.objects.exists()  # nothing here reaches a limit

    limits = welfare_limits(Study.objects.get(pk=w.run.study_id))
    readings = list(
        Measurement.objects.filter(pk__in=[r.pk for r in latest])
        .select_related("animal__run__study__lab", "tumour")
        .order_by("taken_at", "pk")
    )
    with django_assert_max_num_queries(6):
        bulk = evaluate_readings_in_bulk(readings, limits=limits)
    one_by_one = [evaluate_after_reading(reading, limits=limits) for reading in readings]
    assert [_judgement(e) for e in bulk] == [_judgement(e) for e in one_by_one]

    by_reading = {r.pk: e for r, e in zip(readings, bulk, strict=True)}
    weight = [f.as_dict() for f in by_reading[latest[1].pk].findings]
    # Tumour-corrected by hand (1 mg per mm³): baseline 20.0 g - 0.0999 g, now 19.6 g - 3.24 g.
    baseline = 20.0 - 10 * 4.47**2 / 2 / 1000
    expected = (baseline - (19.6 - 3.24)) / baseline * 100
    assert [(f["limit"], round(float(f["value"]), 1)) for f in weight] == [
        ("weight loss", round(expected, 1))
    ]
    assert str(by_reading[latest[1].pk].level) == "approaching"
    volume_limits = {f.as_dict()["limit"] for f in by_reading[latest[0].pk].findings}
    assert "volume" in volume_limits  # 3240 mm³ is past 80 % of 4000
    assert not EndpointEpisode.objects.exists()


def test_ingested_reading_over_a_limit_opens_an_episode_and_alerts(lab: Any) -> None:
    w = welfare_run(lab, ethics_limits={"max_volume_mm3": 1500})
    device = make_device(w.design, w.run, w.animals)
    when = at_day(w, 12)
    below = rows_for(w.animals[1:], 6, start=when)
    over = {
        "animal": w.animals[0].tag,
        "kind": "caliper",
        "length_mm": "16",
        "width_mm": "14.5",  # 16 x 14.5² / 2 = 1682 mm³: over the ethics limit (1500)
        "taken_at": when.isoformat(),
    }
    response = post(device.client, [*below, over])
    assert response.status_code == 201, response.content
    episode = EndpointEpisode.objects.get()
    assert episode.animal_id == w.animals[0].pk
    assert episode.status == EpisodeStatus.OPEN and episode.cause == "tumour_volume"
    assert episode.first_measurement_id == response.json()["measurements"][-1]
    assert episode.alerted_at is not None
    vet_message = OutboundMessage.objects.get(recipient=w.vet)
    assert w.animals[0].tag in vet_message.subject and "1500" in vet_message.body
    findings = len(episode.findings)
    # A later batch with another reading over the limit adds to the open episode.
    again = {**over, "length_mm": "17", "taken_at": (when + dt.timedelta(hours=2)).isoformat()}
    assert post(device.client, [again]).status_code == 201
    episode.refresh_from_db()
    assert EndpointEpisode.objects.count() == 1 and len(episode.findings) > findings


def test_bulk_ingest_leaves_one_sealed_audit_event_per_row_and_a_verified_trail(
    design: Any, run: Any
) -> None:
    from tests.labnotes.api.device_support import animals_with_tumours

    animals = animals_with_tumours(design, run, 10)
    device = make_device(design, run, animals)
    response = post(device.client, rows_for(animals, 300))
    assert response.status_code == 201, response.content
    ids = response.json()["measurements"]
    assert len(set(ids)) == 300
    event_model = apps.get_model("labnotes", "MeasurementEvent")
    events = event_model.objects.filter(pgh_obj_id__in=ids, pgh_label="insert")
    assert sorted(events.values_list("pgh_obj_id", flat=True)) == sorted(ids)
    # One request, one audit context: who (the token's owner), which token, which client.
    contexts = {(e.pgh_context_id, json.dumps(e.pgh_context, sort_keys=True)) for e in events}
    assert len(contexts) == 1
    [(_, context)] = contexts
    assert json.loads(context)["token"] == f"DeviceToken:{device.token.prefix}"
    assert json.loads(context)["user_id"] == device.token.created_by_id
    owner_execute("SET CONSTRAINTS ALL IMMEDIATE")  # seal the chain as the commit would
    report = verify_audit_trail()
    assert report.problems == []  # the token's last-use stamp is no audited column
    # The request's 300 events were inserted by one statement: one batch link seals them all.
    [batch] = apps.get_model("planner", "AuditChainLink").objects.filter(
        event_table=event_model._meta.db_table, event_ids__isnull=False
    )
    assert sorted(batch.event_ids) == sorted(events.values_list("pgh_id", flat=True))
    assert json.loads(batch.payload)["events"] == 300
    timing = response["Server-Timing"]
    assert [part.split(";")[0] for part in timing.split(", ")] == [
        "validate",
        "link",
        "write",
        "endpoints",
        "commit",
    ]
