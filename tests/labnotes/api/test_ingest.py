"""Bulk ingest over the device API: all or nothing, every bad row reported, idempotent, audited,
instrument qualification flagged or refused, limits."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zoneinfo
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from labnotes.models import (
    IngestBatch,
    Measurement,
    ReadingFlag,
)
from labnotes.services.instruments import (
    create_instrument,
    record_daily_check,
    set_unqualified_policy,
)
from planner.models import Membership, Role
from tests.labnotes.api.device_support import (
    INGEST_URL,
    Device,
    animals_with_tumours,
    key,
    make_device,
    post,
    rows_for,
)
from tests.labnotes.builders import Design

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(design: Design, run: Any) -> Device:
    animals = animals_with_tumours(design, run, 8)
    return make_device(design, run, animals)


def _events(ids: list[int]) -> list[Any]:
    from django.apps import apps

    event_model = apps.get_model("labnotes", "MeasurementEvent")
    return list(event_model.objects.filter(pgh_obj_id__in=ids, pgh_label="insert"))


def test_json_rows_are_stored_with_volume_day_and_audit_when_all_valid(device: Device) -> None:
    rows = rows_for(device.animals, 6)
    response = post(device.client, rows)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rows"], body["written"], body["replayed"], body["flagged"]) == (6, 6, 0, 0)
    ids = body["measurements"]
    assert len(ids) == 6 and Measurement.objects.count() == 6
    first = Measurement.objects.get(pk=ids[0])
    # L·W²/2 by hand: 6.00 × 4.00² / 2 = 48.00 mm³.
    assert (first.length_mm, first.width_mm, first.volume_mm3) == (
        Decimal("6.00"),
        Decimal("4.00"),
        Decimal("48.00"),
    )
    assert first.formula == "half_length_width_squared"
    assert first.entry_method == "instrument" and first.kind == "caliper"
    assert first.tumour is not None and first.tumour.site == "right flank"
    lab = device.run.study.lab
    assert first.study_day == (lab.local_date(first.taken_at) - device.run.day0).days
    assert first.operator == device.token.created_by == first.recorded_by
    weight = Measurement.objects.get(pk=ids[1])
    assert weight.kind == "weight" and weight.weight_g == Decimal("18.10")
    assert weight.tumour is None and weight.volume_mm3 is None
    events = _events(ids)
    assert len(events) == 6
    context = events[0].pgh_context
    assert context["token"] == f"DeviceToken:{device.token.prefix}"
    assert context["user_id"] == device.token.created_by_id
    assert context["client"] == "api"
    batch = IngestBatch.objects.get()
    assert batch.token == device.token and batch.measurement_ids == ids
    assert json.loads(bytes(batch.body)) == rows


def test_csv_rows_are_stored_when_content_type_is_csv(device: Device) -> None:
    taken = (timezone.now() - dt.timedelta(hours=2)).isoformat()
    csv_body = (
        "animal,kind,length_mm,width_mm,weight_g,unit,taken_at,stable,raw\n"
        f"0001,caliper,7.5,8.25,,mm,{taken},true,L 7.5 W 8.25\n"
        f"0002,weight,,,20.5,g,{taken},1,S S 20.5 g\n"
    )
    response = device.client.post(
        INGEST_URL, csv_body, content_type="text/csv", HTTP_IDEMPOTENCY_KEY=key()
    )
    assert response.status_code == 201, response.content
    caliper, weight = (Measurement.objects.get(pk=pk) for pk in response.json()["measurements"])
    # Width read longer than length: swapped, L·W²/2 = 8.25 × 7.5² / 2 = 232.03 mm³ (rounded).
    assert (caliper.length_mm, caliper.width_mm, caliper.axes_swapped) == (
        Decimal("8.25"),
        Decimal("7.50"),
        True,
    )
    assert caliper.volume_mm3 == Decimal("232.03")
    assert weight.weight_g == Decimal("20.50")


def test_every_bad_row_is_reported_and_nothing_written_when_some_rows_are_bad(
    device: Device,
) -> None:
    rows = rows_for(device.animals, 8)
    rows[1]["weight_g"] = "abc"
    rows[2]["animal"] = "9999"
    rows[3]["unit"] = "kg"
    rows[4]["stable"] = False
    rows[5]["taken_at"] = "2026-01-01T10:00:00"  # no time zone
    rows[6]["kind"] = "volume"
    response = post(device.client, rows)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    found = {(e["index"], e["field"], e["code"]) for e in errors}
    assert found == {
        (1, "weight_g", "not_a_number"),
        (2, "animal", "not_found"),
        (3, "unit", "wrong_unit"),
        (4, "stable", "unstable"),
        (5, "taken_at", "no_time_zone"),
        (6, "kind", "invalid_choice"),
    }
    by_index = {e["index"]: e for e in errors}
    assert by_index[1]["value"] == "abc" and "not a number" in by_index[1]["message"]
    assert by_index[2]["value"] == "9999"
    assert Measurement.objects.count() == 0
    assert IngestBatch.objects.count() == 0


def test_ten_thousand_rows_with_one_bad_row_at_9999_write_nothing(design: Design, run: Any) -> None:
    animals = animals_with_tumours(design, run, 40)
    device = make_device(design, run, animals)
    rows = rows_for(animals, 10_000)
    rows[9_999]["weight_g"] = "-3"
    response = post(device.client, rows)
    assert response.status_code == 422, response.content[:500]
    errors = response.json()["errors"]
    assert errors == [
        {
            "index": 9999,
            "field": "weight_g",
            "value": "-3",
            "code": "out_of_range",
            "message": "Must be above 0 (record NP or ND instead of a value).",
        }
    ]
    assert Measurement.objects.count() == 0
    assert IngestBatch.objects.count() == 0
    # The same rows with the bad one fixed are written, all 10,000.
    rows[9_999]["weight_g"] = "19.99"
    response = post(device.client, rows)
    assert response.status_code == 201
    assert Measurement.objects.count() == 10_000
    assert len(_events(response.json()["measurements"])) == 10_000


def test_same_key_replays_and_another_body_is_refused(device: Device) -> None:
    rows = rows_for(device.animals, 4)
    idempotency_key = key()
    first = post(device.client, rows, idempotency_key=idempotency_key)
    second = post(device.client, rows, idempotency_key=idempotency_key)
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Measurement.objects.count() == 4
    other = post(device.client, rows[:2], idempotency_key=idempotency_key)
    assert other.status_code == 422
    assert other.json()["title"]
    assert Measurement.objects.count() == 4


def test_missing_idempotency_key_is_refused(device: Device) -> None:
    response = device.client.post(INGEST_URL, rows_for(device.animals, 2), format="json")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert Measurement.objects.count() == 0


def test_concurrent_request_with_the_same_key_answers_409(device: Device) -> None:
    idempotency_key = key()
    lock_name = f"idempotency:devicetoken:{device.token.prefix}:{idempotency_key}"
    settings_dict = connection.settings_dict
    dsn = (
        f"dbname={settings_dict['NAME']} user={settings_dict['USER']} "
        f"host={settings_dict['HOST']} port={settings_dict['PORT'] or 5432}"
    )
    with psycopg.connect(dsn, password=settings_dict.get("PASSWORD") or None) as other:
        with other.transaction():
            other.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [lock_name])
            response = post(
                device.client, rows_for(device.animals, 2), idempotency_key=idempotency_key
            )
    assert response.status_code == 409
    assert Measurement.objects.count() == 0


def test_resent_client_ids_are_not_stored_twice_under_a_new_key(device: Device) -> None:
    rows = rows_for(device.animals, 4)
    for index, row in enumerate(rows):
        row["client_id"] = f"bal-{index}"
    first = post(device.client, rows)
    again = post(device.client, rows)
    assert first.status_code == again.status_code == 201
    assert again.json()["replayed"] == 4 and again.json()["written"] == 0
    assert again.json()["measurements"] == first.json()["measurements"]
    assert Measurement.objects.count() == 4


def test_a_same_day_second_reading_is_a_repeat_of_the_first(device: Device) -> None:
    taken = timezone.now() - dt.timedelta(hours=2)
    row = {
        "animal": "0001",
        "kind": "weight",
        "weight_g": "20.1",
        "taken_at": taken.isoformat(),
    }
    first = post(device.client, [row]).json()["measurements"][0]
    later = dict(row, weight_g="20.3", taken_at=(taken + dt.timedelta(minutes=5)).isoformat())
    second = post(device.client, [later]).json()["measurements"][0]
    assert Measurement.objects.get(pk=second).repeat_of_id == first


def test_the_days_latest_reading_is_found_at_either_end_of_the_lab_local_day(
    design: Design, device: Device
) -> None:
    """The repeat lookup walks a window around the request's readings: a reading at 00:30 of
    the same lab-local day is the repeat target of one at 23:30 although later days' readings
    are newer, and the previous day's last reading is not."""
    zone = zoneinfo.ZoneInfo(design.lab.time_zone)
    day = timezone.now().astimezone(zone).date() - dt.timedelta(days=3)

    def at(days: int, hour: int, minute: int) -> str:
        moment = dt.datetime.combine(day + dt.timedelta(days=days), dt.time(hour, minute))
        return moment.replace(tzinfo=zone).isoformat()

    def weight(taken_at: str, grams: str) -> dict[str, Any]:
        return {"animal": "0001", "kind": "weight", "weight_g": grams, "taken_at": taken_at}

    stored = post(
        device.client,
        [
            weight(at(-1, 23, 59), "20.0"),  # the day before
            weight(at(0, 0, 30), "20.1"),  # early on the day
            weight(at(1, 9, 0), "20.5"),  # newer readings on the following days
            weight(at(2, 9, 0), "20.6"),
        ],
    )
    assert stored.status_code == 201, stored.content
    before, early, _, _ = stored.json()["measurements"]
    late = post(device.client, [weight(at(0, 23, 30), "20.3")])
    assert late.status_code == 201, late.content
    reading = Measurement.objects.get(pk=late.json()["measurements"][0])
    assert reading.repeat_of_id == early != before
    assert Measurement.objects.get(pk=early).repeat_of_id is None


def test_reading_from_an_instrument_past_calibration_is_flagged(
    design: Design, device: Device
) -> None:
    lab = design.lab
    today = timezone.localdate()
    balance = create_instrument(
        lab=lab,
        kind="balance",
        name="Balance 1",
        serial_number="BAL-1",
        created_by=design.scientist,
        calibration_due_on=today - dt.timedelta(days=30),
        check_expected=Decimal("20"),
        check_tolerance=Decimal("0.01"),
        check_unit="g",
    )
    record_daily_check(
        instrument=balance, observed_value=Decimal("20.004"), checked_by=design.technician
    )
    rows = rows_for(device.animals, 2, start=timezone.now() - dt.timedelta(minutes=5))
    rows[1]["instrument"] = "BAL-1"
    response = post(device.client, rows)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["flagged"] == 1
    assert body["flags"] == [
        {
            "index": 1,
            "measurement": body["measurements"][1],
            "instrument": "BAL-1",
            "issues": ["calibration_overdue"],
        }
    ]
    flag = ReadingFlag.objects.get()
    assert flag.measurement_id == body["measurements"][1] and flag.instrument == balance
    assert not ReadingFlag.objects.filter(measurement_id=body["measurements"][0]).exists()
    assert Measurement.objects.get(pk=body["measurements"][1]).instrument == "BAL-1"


def test_unqualified_instrument_refused_when_the_lab_says_so(
    design: Design, device: Device
) -> None:
    Membership.objects.filter(user=design.director, lab=design.lab).update(role=Role.LAB_ADMIN)
    set_unqualified_policy(
        lab=design.lab,
        policy="refuse",
        require_registered=False,
        changed_by=design.director,
        reason="SOP-12",
    )
    create_instrument(
        lab=design.lab,
        kind="caliper",
        name="Caliper 2",
        serial_number="CAL-2",
        created_by=design.scientist,
        calibration_due_on=timezone.localdate() + dt.timedelta(days=30),
    )
    rows = rows_for(device.animals, 3, start=timezone.now() - dt.timedelta(minutes=5))
    rows[0]["instrument"] = "CAL-2"  # no daily check today
    rows[1]["instrument"] = "CAL-2"  # a weight from a caliper
    response = post(device.client, rows)
    assert response.status_code == 422
    found = {(e["index"], e["field"], e["code"]) for e in response.json()["errors"]}
    assert found == {
        (0, "instrument", "instrument_not_qualified"),
        (1, "instrument", "wrong_instrument"),
    }
    assert Measurement.objects.count() == 0


@override_settings(VIVOLOG_MAX_BULK_ROWS=5)
def test_more_rows_than_the_limit_answer_413(device: Device) -> None:
    response = post(device.client, rows_for(device.animals, 6))
    assert response.status_code == 413
    assert "VIVOLOG_MAX_BULK_ROWS" in response.json()["detail"]
    assert Measurement.objects.count() == 0


@override_settings(VIVOLOG_INGEST_MAX_BYTES=2048)
def test_a_body_over_the_byte_limit_answers_413(device: Device) -> None:
    response = post(device.client, rows_for(device.animals, 40))
    assert response.status_code == 413
    assert "VIVOLOG_INGEST_MAX_BYTES" in response.json()["detail"]
    assert Measurement.objects.count() == 0


def test_body_hash_of_the_batch_is_the_request_body(device: Device) -> None:
    rows = rows_for(device.animals, 2)
    response = post(device.client, rows)
    batch = IngestBatch.objects.get(pk=response.json()["batch"])
    assert batch.body_sha256 == hashlib.sha256(bytes(batch.body)).hexdigest()
    assert json.loads(bytes(batch.body)) == rows
