"""Device tokens: created by lab admins and study directors, shown once, stored hashed, scoped to
a run or study and a set of actions, expiring, revocable, rate-limited; nothing else opens."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from labnotes.models import DeviceAction, DeviceToken, Measurement
from labnotes.services.instruments import revoke_device_token
from labnotes.services.runs import start_study_run
from planner.models import SecurityEvent
from tests.labnotes.api.conftest import client_for
from tests.labnotes.api.device_support import (
    animals_with_tumours,
    device_client,
    make_device,
    post,
    rows_for,
)
from tests.labnotes.builders import Design

pytestmark = pytest.mark.django_db
TOKENS_URL = "/api/v1/device-tokens/"


def test_token_is_shown_once_and_stored_hashed_when_a_director_creates_it(
    design: Design, run: Any
) -> None:
    response = client_for(design.director).post(
        TOKENS_URL,
        {"name": "Balance 1 bridge", "run": run.pk, "actions": ["post_weights", "read_tasks"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    secret = response.json()["token"]
    assert secret.startswith("vd_")
    token = DeviceToken.objects.get()
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(DeviceToken.objects.values().get())
    assert token.actions == ["post_weights", "read_tasks"]
    assert token.expires_at > timezone.now() + dt.timedelta(days=364)
    listed = client_for(design.director).get(TOKENS_URL).json()
    assert secret not in str(listed) and "token" not in listed["results"][0]
    event = SecurityEvent.objects.get(kind="token_created")
    assert event.user == design.director and event.detail["device_token"] == token.prefix
    assert token.events.filter(pgh_label="insert").count() == 1  # type: ignore[attr-defined]


def test_technician_may_not_create_a_token(design: Design, run: Any) -> None:
    response = client_for(design.technician).post(
        TOKENS_URL, {"name": "x", "run": run.pk, "actions": ["post_weights"]}, format="json"
    )
    assert response.status_code == 403
    assert DeviceToken.objects.count() == 0


def test_token_for_run_a_posting_to_run_b_is_refused_and_writes_nothing(
    design: Design, run: Any
) -> None:
    animals = animals_with_tumours(design, run, 4)
    run_b = start_study_run(
        study=design.study, code="RUN-2", day0=run.day0, started_by=design.director
    )
    animals_b = animals_with_tumours(design, run_b, 4, start=101)
    device = make_device(design, run, animals)
    response = device.client.post(
        f"/api/v1/device/measurements/?run={run_b.pk}",
        rows_for(animals_b, 4),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert response.status_code == 403
    assert f"run {run_b.pk}" in response.json()["detail"]
    assert Measurement.objects.count() == 0


def test_study_token_reaches_every_run_of_its_study(design: Design, run: Any) -> None:
    animals = animals_with_tumours(design, run, 2)
    device = make_device(design, None, animals, study=design.study)  # type: ignore[arg-type]
    response = device.client.post(
        f"/api/v1/device/measurements/?run={run.pk}",
        rows_for(animals, 2),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert response.status_code == 201
    assert Measurement.objects.count() == 2


def test_revoked_and_expired_tokens_answer_401_and_write_nothing(design: Design, run: Any) -> None:
    animals = animals_with_tumours(design, run, 2)
    revoked = make_device(design, run, animals)
    revoke_device_token(token=revoked.token, revoked_by=design.director, reason="Bridge replaced")
    expired = make_device(design, run, animals)
    DeviceToken.objects.filter(pk=expired.token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    for device, words in ((revoked, "revoked"), (expired, "expired")):
        response = post(device.client, rows_for(animals, 2))
        assert response.status_code == 401
        assert words in response.json()["detail"]
    unknown = post(device_client("vd_00000000_nope"), rows_for(animals, 2))
    assert unknown.status_code == 401
    assert Measurement.objects.count() == 0
    assert SecurityEvent.objects.filter(kind="token_revoked").count() == 1
    token = DeviceToken.objects.get(pk=revoked.token.pk)
    assert token.revoked_by == design.director and token.revoke_reason == "Bridge replaced"


def test_device_token_opens_no_other_endpoint(design: Design, run: Any) -> None:
    animals = animals_with_tumours(design, run, 2)
    device = make_device(design, run, animals, actions=tuple(DeviceAction.values))
    for path in (
        "/api/v1/animals/",
        "/api/v1/measurements/",
        f"/api/v1/study-runs/{run.pk}/",
        "/api/v1/tasks/",
        "/api/v1/device-tokens/",
    ):
        response = device.client.get(path)
        assert response.status_code == 401, path
        assert "arm" not in response.content.decode().lower()


def test_action_the_token_lacks_is_refused(design: Design, run: Any) -> None:
    animals = animals_with_tumours(design, run, 2)
    device = make_device(design, run, animals, actions=(DeviceAction.POST_WEIGHTS,))
    response = post(device.client, rows_for(animals, 2))  # a caliper row and a weight
    assert response.status_code == 403
    assert "post_measurements" in response.json()["detail"]
    assert Measurement.objects.count() == 0


def _within_one_clock_minute(room_seconds: float = 20.0) -> None:
    """The limit counts requests per clock minute: when fewer than ``room_seconds`` of this
    minute are left, wait for the next one, so the requests that follow share one window."""
    now = timezone.now()
    left = 60 - now.second - now.microsecond / 1_000_000
    if left < room_seconds:
        time.sleep(left + 0.05)


def test_rate_limit_answers_429_with_retry_after(design: Design, run: Any) -> None:
    animals = animals_with_tumours(design, run, 2)
    device = make_device(design, run, animals, rate_limit_per_minute=2)
    _within_one_clock_minute()
    answers = [post(device.client, rows_for(animals, 1)) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [201, 201, 429]
    refused = answers[2]
    assert 1 <= int(refused["Retry-After"]) <= 60
    token = DeviceToken.objects.get(pk=device.token.pk)
    assert token.last_used_at is not None
    # last_used_at is telemetry: no audit event for it.
    assert token.events.count() == 1  # type: ignore[attr-defined]


@override_settings(VIVOLOG_DEVICE_RATE_PER_MINUTE=1)
def test_default_rate_comes_from_the_settings(design: Design, run: Any) -> None:
    animals = animals_with_tumours(design, run, 2)
    device = make_device(design, run, animals)
    _within_one_clock_minute()
    codes = [post(device.client, rows_for(animals, 1)).status_code for _ in range(3)]
    assert codes == [201, 429, 429]


def test_task_list_shows_no_dosing_and_no_arms(design: Design, randomized_run: Any) -> None:
    from labnotes.models import Task

    device = make_device(design, randomized_run, [], actions=(DeviceAction.READ_TASKS,))
    some = Task.objects.filter(run=randomized_run).exclude(kind="dose").first()
    assert some is not None
    day = (some.scheduled_date or some.nominal_date).isoformat()
    response = device.client.get(f"/api/v1/device/tasks/?date={day}")
    assert response.status_code == 200
    tasks = response.json()
    assert tasks and {task["kind"] for task in tasks} <= {
        "measure",
        "weigh",
        "observe",
        "sample",
        "takedown",
    }
    text = response.content.decode()
    for arm in design.arms:
        assert arm.label not in text
    assert set(tasks[0]) == {
        "id",
        "run",
        "kind",
        "animal",
        "rfid",
        "cage",
        "date",
        "study_day",
        "status",
    }
    no_tasks = make_device(design, randomized_run, [], actions=(DeviceAction.POST_WEIGHTS,))
    assert no_tasks.client.get("/api/v1/device/tasks/").status_code == 403


def test_device_endpoints_offer_no_detail_or_history_routes(design: Design, run: Any) -> None:
    animals = animals_with_tumours(design, run, 1)
    device = make_device(design, run, animals, actions=tuple(DeviceAction.values))
    for path in (
        "/api/v1/device/measurements/1/",
        "/api/v1/device/measurements/1/history/",
        "/api/v1/device/tasks/1/",
        "/api/v1/device/tasks/1/history/",
    ):
        assert device.client.get(path).status_code == 404, path
