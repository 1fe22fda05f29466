"""ETag/If-Match, Idempotency-Key, problem+json and size limits, on the studies resource."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from planner.models import IdempotencyRecord, Study
from planner.services.tenancy import create_personal_token


@pytest.fixture
def api(scientist):
    client = APIClient()
    client.force_authenticate(scientist)
    return client


@pytest.mark.django_db
def test_get_returns_etag_and_patch_applies_when_if_match_current(api, study):
    url = reverse("study-detail", args=[study.pk])
    first = api.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag == f'"planner.study-{study.pk}-v1"'

    changed = api.patch(
        url, {"title": "Renamed", "reason": "typo"}, format="json", HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["title"] == "Renamed"
    assert changed["ETag"] == f'"planner.study-{study.pk}-v2"'


@pytest.mark.django_db
def test_patch_refused_with_412_when_etag_stale(api, study):
    url = reverse("study-detail", args=[study.pk])
    stale = api.get(url)["ETag"]
    assert (
        api.patch(
            url, {"title": "First", "reason": "r"}, format="json", HTTP_IF_MATCH=stale
        ).status_code
        == 200
    )

    second = api.patch(url, {"title": "Second", "reason": "r"}, format="json", HTTP_IF_MATCH=stale)
    assert second.status_code == 412
    assert second["Content-Type"] == "application/problem+json"
    study.refresh_from_db()
    assert study.title == "First"


@pytest.mark.django_db
def test_patch_refused_with_428_when_if_match_missing(api, study):
    response = api.patch(
        reverse("study-detail", args=[study.pk]), {"title": "x", "reason": "r"}, format="json"
    )
    assert response.status_code == 428
    assert response.json()["status"] == 428
    study.refresh_from_db()
    assert study.title != "x"


@pytest.mark.django_db
def test_validation_error_is_problem_json_naming_field_when_input_bad(api, study):
    url = reverse("study-detail", args=[study.pk])
    etag = api.get(url)["ETag"]
    response = api.patch(
        url, {"title": "x" * 301, "reason": "r"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 400
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["errors"][0]["field"] == "title"
    assert "300" in body["errors"][0]["reason"]


@pytest.mark.django_db
def test_reason_required_when_changing_through_api(api, study):
    url = reverse("study-detail", args=[study.pk])
    etag = api.get(url)["ETag"]
    response = api.patch(url, {"title": "No reason"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"


def _create_body(lab, code="IDEM-1"):
    return {"lab": lab.slug, "code": code, "title": "Idempotent study"}


@pytest.mark.django_db
def test_same_key_and_body_replays_first_response_when_resent(api, lab):
    key = str(uuid.uuid4())
    first = api.post(
        reverse("study-list"), _create_body(lab), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    second = api.post(
        reverse("study-list"), _create_body(lab), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert first.status_code == 201, first.content
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Study.objects.filter(code="IDEM-1").count() == 1


@pytest.mark.django_db
def test_same_key_with_other_body_gets_422_when_reused(api, lab):
    key = str(uuid.uuid4())
    assert (
        api.post(
            reverse("study-list"), _create_body(lab), format="json", HTTP_IDEMPOTENCY_KEY=key
        ).status_code
        == 201
    )
    other = api.post(
        reverse("study-list"), _create_body(lab, "IDEM-2"), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert other.status_code == 422
    assert not Study.objects.filter(code="IDEM-2").exists()


@pytest.mark.django_db
def test_failed_request_stores_no_key_when_validation_fails(api, lab):
    key = str(uuid.uuid4())
    bad = api.post(
        reverse("study-list"),
        {"lab": lab.slug, "code": "", "title": "t"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key=key).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_gets_409_when_first_still_running(lab, scientist):
    """Two requests with one key at once: one writes, the other is told to retry (409)."""
    from planner.services import studies as study_services

    token_user = scientist
    _token, raw = create_personal_token(user=token_user, name="concurrency")
    key = str(uuid.uuid4())
    entered = threading.Event()
    release = threading.Event()
    original = study_services.create_study

    def slow_create(**kwargs):
        entered.set()
        release.wait(timeout=10)
        return original(**kwargs)

    results: dict[str, int] = {}

    def first_request():
        client = APIClient()
        response = client.post(
            reverse("study-list"),
            _create_body(lab),
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
            HTTP_AUTHORIZATION=f"Token {raw}",
        )
        results["first"] = response.status_code
        connection.close()

    study_services.create_study = slow_create
    try:
        thread = threading.Thread(target=first_request)
        thread.start()
        assert entered.wait(timeout=10)
        study_services.create_study = original
        client = APIClient()
        second = client.post(
            reverse("study-list"),
            _create_body(lab),
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
            HTTP_AUTHORIZATION=f"Token {raw}",
        )
        results["second"] = second.status_code
        release.set()
        thread.join(timeout=20)
    finally:
        study_services.create_study = original
        release.set()
    assert results == {"first": 201, "second": 409}
    assert Study.objects.filter(code="IDEM-1").count() == 1


@pytest.mark.django_db
def test_oversized_body_refused_with_413_naming_limit(api, lab):
    with override_settings(VIVOLOG_MAX_REQUEST_BYTES=2048):
        response = api.post(
            reverse("study-list"), {**_create_body(lab), "objective": "x" * 5000}, format="json"
        )
    assert response.status_code == 413
    assert "2048" in response.json()["detail"]
    assert not Study.objects.filter(code="IDEM-1").exists()


@pytest.mark.django_db
def test_personal_token_authenticates_and_revoked_token_refused(lab, scientist):
    from planner.services.tenancy import revoke_personal_token

    token, raw = create_personal_token(user=scientist, name="script")
    client = APIClient()
    assert client.get(reverse("study-list"), HTTP_AUTHORIZATION=f"Token {raw}").status_code == 200
    revoke_personal_token(token=token, reason="left the lab")
    assert client.get(reverse("study-list"), HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401


@pytest.mark.django_db
def test_history_endpoint_lists_who_when_old_new_why(api, study):
    url = reverse("study-detail", args=[study.pk])
    etag = api.get(url)["ETag"]
    api.patch(
        url, {"objective": "Sharper", "reason": "review comment"}, format="json", HTTP_IF_MATCH=etag
    )
    history = api.get(reverse("study-history", args=[study.pk])).json()
    assert [entry["action"] for entry in history] == ["insert", "update"]
    last = history[-1]
    assert last["reason"] == "review comment"
    assert last["client"] == "api"
    assert {"field": "objective", "old": "", "new": "Sharper"} in last["changes"]
