"""The grid's save endpoint through the test client and the real database (GRID.md).

Each request is what grid.js sends: one cell, its client id as Idempotency-Key, the raw text.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from labnotes.models import Measurement, PendingAxis, PendingAxisStatus
from labnotes.services.animals import record_implantation, register_animals
from labnotes.services.grid import save_grid_cell
from labnotes.services.measurements import annotate_capture, counted_readings
from planner.models import IdempotencyRecord
from tests.factories import TEST_PASSWORD
from tests.labnotes.builders import tag_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def animals(design: Any, run: Any) -> list[Any]:
    registered = register_animals(run=run, rows=tag_rows(3), registered_by=design.technician)
    for animal in registered:
        record_implantation(
            animal=animal,
            site="right flank",
            implanted_on=run.day0,
            cells=500_000,
            operator=design.technician,
        )
    return registered


def client_for(user: Any) -> Client:
    client = Client(enforce_csrf_checks=False)
    assert client.login(username=user.get_username(), password=TEST_PASSWORD)
    return client


def cell(
    animal: Any,
    field: str,
    raw: str,
    *,
    operator: Any,
    taken_at: dt.datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    tumour = animal.tumours.first()
    return {
        "client_id": str(uuid.uuid4()),
        "animal": str(animal.pk),
        "tumour": None if field == "weight" else str(tumour.pk),
        "field": field,
        "raw": raw,
        "taken_at": (taken_at or timezone.now()).isoformat(),
        "operator": str(operator.pk),
        "correction_of": None,
        "reason": None,
        "repeat_of": None,
        **extra,
    }


def post(client: Client, run: Any, body: dict[str, Any]) -> Any:
    return client.post(
        reverse("grid_cell_save", kwargs={"pk": run.pk}),
        data=json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": body["client_id"]},
    )


def test_length_then_width_make_one_reading_with_the_volume(
    design: Any, run: Any, animals: list[Any]
) -> None:
    client = client_for(design.technician)
    first = post(client, run, cell(animals[0], "length", "5,0", operator=design.technician))
    assert first.status_code == 201, first.content
    assert first.json()["display"] == "5"
    assert "Waiting for the width" in first.json()["message"]
    assert Measurement.objects.count() == 0
    assert PendingAxis.objects.get().status == PendingAxisStatus.OPEN

    second = post(client, run, cell(animals[0], "width", "8 mm", operator=design.technician))
    answer = second.json()
    assert second.status_code == 201, answer
    assert answer["volume_mm3"] == "100"  # 8 × 5² / 2, L the longer axis
    assert "L and W swapped" in answer["message"]
    reading = Measurement.objects.get()
    assert (reading.length_mm, reading.width_mm, reading.axes_swapped) == (
        Decimal("8.00"),
        Decimal("5.00"),
        True,
    )
    assert reading.entry_method == "grid" and reading.operator == design.technician
    assert PendingAxis.objects.get().status == PendingAxisStatus.COMBINED


def test_the_same_cell_sent_three_times_gives_one_reading(
    design: Any, run: Any, animals: list[Any]
) -> None:
    client = client_for(design.technician)
    assert post(client, run, cell(animals[0], "length", "9.5", operator=design.technician))
    body = cell(animals[0], "width", "7.25", operator=design.technician)
    answers = [post(client, run, body) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    assert answers[1].json() == answers[0].json() == answers[2].json()
    assert Measurement.objects.count() == 1
    assert IdempotencyRecord.objects.filter(key=body["client_id"]).count() == 1


def test_a_response_lost_after_commit_is_replayed_once(
    design: Any, run: Any, animals: list[Any]
) -> None:
    """The first request commits but its answer never reaches the browser (network failure
    mid-save): the resend under the same key finds the stored answer, writes nothing more."""
    weight = cell(animals[0], "weight", "+    23.41 g", operator=design.technician)
    run_row = annotate_capture(type(run).objects.filter(pk=run.pk), design.technician).get()
    lost = save_grid_cell(
        run=run_row,
        user=design.technician,
        body=json.dumps(weight).encode(),
        path=reverse("grid_cell_save", kwargs={"pk": run.pk}),
    )
    assert lost.status == 201 and Measurement.objects.count() == 1  # committed, answer "lost"
    resent = post(client_for(design.technician), run, weight)
    assert resent.status_code == 200
    assert resent.json() == lost.body
    assert Measurement.objects.get().weight_g == Decimal("23.41")


def test_unstable_weight_centimetres_and_implausible_values_are_refused_and_write_nothing(
    design: Any, run: Any, animals: list[Any]
) -> None:
    client = client_for(design.technician)
    unstable = post(
        client, run, cell(animals[0], "weight", "S D      23.41 g", operator=design.technician)
    )
    assert unstable.status_code == 400 and "Unstable" in unstable.json()["error"]
    big = post(client, run, cell(animals[0], "length", "159", operator=design.technician))
    assert big.status_code == 400 and "plausible maximum" in big.json()["error"]
    cm = post(client, run, cell(animals[0], "length", "1.2 cm", operator=design.technician))
    assert cm.status_code == 400 and "millimetres" in cm.json()["error"]
    assert Measurement.objects.count() == 0 and PendingAxis.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_np_is_a_flagged_zero_volume_and_nd_needs_a_reason(
    design: Any, run: Any, animals: list[Any]
) -> None:
    client = client_for(design.technician)
    np_answer = post(client, run, cell(animals[1], "length", "np", operator=design.technician))
    assert np_answer.status_code == 201 and np_answer.json()["display"] == "NP"
    again = post(client, run, cell(animals[1], "width", "NP", operator=design.technician))
    assert again.status_code == 201 and "recorded for this tumour today" in again.json()["message"]
    reading = Measurement.objects.get()
    assert reading.reading_code == "NP" and reading.length_mm is None
    assert reading.volume_mm3 == Decimal("0.00")

    refused = post(client, run, cell(animals[1], "weight", "ND", operator=design.technician))
    assert refused.status_code == 400 and "needs a reason" in refused.json()["error"]
    nd = post(
        client, run, cell(animals[1], "weight", "ND in procedure room", operator=design.technician)
    )
    assert nd.status_code == 201
    weight = Measurement.objects.get(kind="weight")
    assert (weight.reading_code, weight.code_reason, weight.weight_g) == (
        "ND",
        "in procedure room",
        None,
    )


def test_operator_other_than_the_session_user_is_refused_with_403(
    design: Any, run: Any, animals: list[Any]
) -> None:
    body = cell(animals[0], "weight", "21", operator=design.scientist)
    answer = post(client_for(design.technician), run, body)
    assert answer.status_code == 403 and "another user" in answer.json()["error"]
    assert Measurement.objects.count() == 0


def test_viewer_may_not_record(design: Any, run: Any, animals: list[Any]) -> None:
    answer = post(
        client_for(design.viewer), run, cell(animals[0], "weight", "21", operator=design.viewer)
    )
    assert answer.status_code == 403
    assert Measurement.objects.count() == 0


def test_future_time_is_refused_and_a_late_entry_is_flagged(
    design: Any, run: Any, animals: list[Any]
) -> None:
    client = client_for(design.technician)
    future = timezone.now() + dt.timedelta(hours=2)
    refused = post(
        client, run, cell(animals[0], "weight", "21", operator=design.technician, taken_at=future)
    )
    assert refused.status_code == 400 and "future" in refused.json()["error"]
    late = timezone.now() - dt.timedelta(hours=30)
    answer = post(
        client, run, cell(animals[0], "weight", "21", operator=design.technician, taken_at=late)
    )
    assert answer.status_code == 201 and "flagged late" in answer.json()["message"]
    assert Measurement.objects.get().is_late is True


def test_endpoint_crossing_asks_for_a_repeat_then_warns(
    design: Any, run: Any, animals: list[Any]
) -> None:
    client = client_for(design.technician)
    earlier = timezone.now() - dt.timedelta(days=2)
    assert (
        post(
            client,
            run,
            cell(animals[2], "length", "14", operator=design.technician, taken_at=earlier),
        ).status_code
        == 201
    )
    assert (
        post(
            client,
            run,
            cell(animals[2], "width", "12", operator=design.technician, taken_at=earlier),
        ).status_code
        == 201
    )
    post(client, run, cell(animals[2], "length", "21", operator=design.technician))
    crossing_body = cell(animals[2], "width", "14", operator=design.technician)
    crossing = post(client, run, crossing_body).json()
    assert crossing["needs_repeat"] is True, crossing
    assert "measure again now" in crossing["warning"]
    repeat = post(
        client,
        run,
        cell(
            animals[2],
            "width",
            "14.2",
            operator=design.technician,
            repeat_of=crossing_body["client_id"],
        ),
    ).json()
    assert "needs_repeat" not in repeat
    assert "Endpoint reached on the repeat" in repeat["warning"]
    first, second = Measurement.objects.filter(
        study_day=run.study.lab.study_day(run.day0, timezone.now())
    ).order_by("pk")
    assert second.repeat_of_id == first.pk and first.voided_at is None
    assert second.length_mm == Decimal("21.00") and second.width_mm == Decimal("14.20")


def test_correction_in_session_voids_the_old_reading_with_the_one_key_reason(
    design: Any, run: Any, animals: list[Any]
) -> None:
    client = client_for(design.technician)
    body = cell(animals[0], "weight", "21.5", operator=design.technician)
    post(client, run, body)
    fixed = post(
        client,
        run,
        cell(
            animals[0],
            "weight",
            "22.5",
            operator=design.technician,
            correction_of=body["client_id"],
            reason="typo",
        ),
    )
    assert fixed.status_code == 201, fixed.content
    old, new = Measurement.objects.order_by("pk")
    assert old.voided_at is not None and old.void_reason == "Corrected: Typo"
    assert new.correction_of_id == old.pk and new.weight_g == Decimal("22.50")
    assert new.taken_at == old.taken_at
    counted = counted_readings(Measurement.objects.all(), policy="last")
    assert [c.value for c in counted.values()] == [Decimal("22.50")]


def test_correction_of_one_axis_keeps_the_other_as_typed(
    design: Any, run: Any, animals: list[Any]
) -> None:
    client = client_for(design.technician)
    length = cell(animals[0], "length", "6", operator=design.technician)
    post(client, run, length)
    post(client, run, cell(animals[0], "width", "9", operator=design.technician))
    fixed = post(
        client,
        run,
        cell(
            animals[0],
            "length",
            "10",
            operator=design.technician,
            correction_of=length["client_id"],
            reason="re-measured",
        ),
    ).json()
    assert fixed["volume_mm3"] == "405"  # typed L 10, W 9: 10 × 9² / 2
    old, new = Measurement.objects.order_by("pk")
    assert old.voided_at is not None and new.correction_of_id == old.pk
    assert (new.length_mm, new.width_mm, new.axes_swapped) == (
        Decimal("10.00"),
        Decimal("9.00"),
        False,
    )


def test_page_renders_saved_values_with_their_client_ids_and_counts_queries(
    design: Any, run: Any, animals: list[Any]
) -> None:
    client = client_for(design.technician)
    length = cell(animals[0], "length", "6", operator=design.technician)
    width = cell(animals[0], "width", "4", operator=design.technician)
    post(client, run, length)
    post(client, run, width)
    url = reverse("run_grid", kwargs={"pk": run.pk})
    with CaptureQueriesContext(connection) as few:
        page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-client-id="{length["client_id"]}"' in html
    assert f'data-client-id="{width["client_id"]}"' in html
    assert 'data-save-url="' + reverse("grid_cell_save", kwargs={"pk": run.pk}) in html
    assert "ARMLBL" not in html
    more = register_animals(run=run, rows=tag_rows(20, start=100), registered_by=design.technician)
    for animal in more:
        record_implantation(
            animal=animal, site="flank", implanted_on=run.day0, cells=1, operator=design.technician
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), "the query count must not grow with the animals"
