"""Bulk ingest writes its rows as COPY text built in Python and binds its key arrays as array
literals (issue 11): awkward strings (tab, newline, backslash, a literal ``\\N``, quotes,
braces, unicode) are stored exactly as sent, NULLs stay NULL, and resends of such client ids
are still found."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from labnotes.models import IngestBatch, Measurement
from labnotes.services.ingest import _copy_text, _int_array, _text_array
from labnotes.services.measurements import rules_for_run, tumour_volume_mm3
from tests.labnotes.api.device_support import (
    Device,
    animals_with_tumours,
    make_device,
    post,
    rows_for,
)
from tests.labnotes.builders import Design

pytestmark = pytest.mark.django_db

AWKWARD = [
    "tab\there",
    "line\nbreak",
    "carriage\rreturn",
    "back\\slash",
    "\\N",
    "\\\\N",
    "ends with \\",
    'a "quoted" {braced}, listed',
    "NULL",
    "ünïcødé ✓ 測定",
    "\b\f\v controls",
]


@pytest.fixture
def device(design: Design, run: Any) -> Device:
    return make_device(design, run, animals_with_tumours(design, run, 3))


def test_copy_text_escapes_as_the_copy_text_format_requires() -> None:
    assert _copy_text(None) == "\\N"
    assert _copy_text(True) == "t" and _copy_text(False) == "f"
    assert _copy_text("tab\tnew\nline\rback\\") == "tab\\tnew\\nline\\rback\\\\"
    assert _copy_text("\\N") == "\\\\N"  # the two characters, not NULL
    assert _copy_text("\b\f\v") == "\\b\\f\\v"
    assert _copy_text("ünï ✓") == "ünï ✓"
    assert _copy_text(Decimal("8.40")) == "8.40" and _copy_text(12) == "12"
    moment = dt.datetime(2026, 3, 2, 9, 14, 5, 120, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert _copy_text(moment) == "2026-03-02 09:14:05.000120+01:00"
    with pytest.raises(TypeError):
        _copy_text(object())


def test_array_literals_round_trip_through_postgresql() -> None:
    texts = [*AWKWARD, "", " padded ", "x,y"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::bigint[]",
            [_text_array(texts), _int_array([1, None, 9_007_199_254_740_993])],
        )
        stored_texts, stored_ints = cursor.fetchone()
    assert stored_texts == texts
    assert stored_ints == [1, None, 9_007_199_254_740_993]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[], %s::bigint[]", [_text_array([]), _int_array([])])
        assert cursor.fetchone() == ([], [])


def test_awkward_strings_are_stored_exactly_and_nulls_stay_null(device: Device) -> None:
    taken = timezone.now() - dt.timedelta(hours=3)
    rows: list[dict[str, Any]] = []
    for index, text in enumerate(AWKWARD):
        animal = device.animals[index % len(device.animals)].tag
        moment = (taken + dt.timedelta(minutes=index)).isoformat()
        if index % 2:
            rows.append(
                {
                    "animal": animal,
                    "kind": "weight",
                    "code": "ND",
                    "code_reason": f"scale {text} broken",
                    "taken_at": moment,
                    "client_id": f"w-{text}",
                    "instrument": f"free {text}",
                }
            )
        else:
            rows.append(
                {
                    "animal": animal,
                    "kind": "caliper",
                    "length_mm": "8.41",
                    "width_mm": "6.02",
                    "taken_at": moment,
                    "client_id": f"c-{text}",
                    "instrument": f"free {text}",
                }
            )
    formula = rules_for_run(device.run).formula.formula
    response = post(device.client, rows)
    assert response.status_code == 201, response.content
    ids = response.json()["measurements"]
    stored = Measurement.objects.in_bulk(ids)
    for row, pk in zip(rows, ids, strict=True):
        reading = stored[pk]
        assert reading.client_id == row["client_id"].strip()
        assert reading.instrument == row["instrument"].strip()
        if row["kind"] == "weight":
            # The reason's whitespace (tab, newline...) is collapsed to single spaces as before.
            assert reading.code_reason == " ".join(row["code_reason"].split())
            assert reading.weight_g is None and reading.tumour_id is None
            assert reading.length_mm is None and reading.volume_mm3 is None
        else:
            assert reading.length_mm == Decimal("8.41") and reading.height_mm is None
            assert reading.volume_mm3 == tumour_volume_mm3(
                formula, Decimal("8.41"), Decimal("6.02")
            )
        assert reading.voided_at is None and reading.voided_by_id is None
        assert reading.taken_at == dt.datetime.fromisoformat(row["taken_at"])
    batch = IngestBatch.objects.get(pk=response.json()["batch"])
    assert batch.measurement_ids == ids
    assert json.loads(bytes(batch.body)) == rows

    again = post(device.client, rows)  # a resend under a new key: every client id found
    assert again.status_code == 201, again.content
    assert again.json()["replayed"] == len(rows) and again.json()["written"] == 0
    assert again.json()["measurements"] == ids


def test_a_nul_character_is_a_row_error_naming_the_field_and_nothing_is_written(
    device: Device,
) -> None:
    """PostgreSQL text cannot hold U+0000: such a row is refused with the others reported, not
    a server error."""
    rows = rows_for(device.animals, 4)
    rows[1]["client_id"] = "c\x00nul"
    rows[3]["instrument"] = "\x00"
    response = post(device.client, rows)
    assert response.status_code == 422, response.content
    errors = [(e["index"], e["field"], e["code"]) for e in response.json()["errors"]]
    assert errors == [(1, "client_id", "invalid"), (3, "instrument", "invalid")]
    assert "NUL character" in response.json()["errors"][0]["message"]
    assert not Measurement.objects.exists() and not IngestBatch.objects.exists()
