"""Welfare pages and API: the observation sheet, the endpoint page, Today's welfare sections,
the observations / endpoint-records API and the survival rows endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from labnotes.models import (
    Animal,
    AnimalStatus,
    EndpointEpisode,
    EndpointRecord,
    EntryMethod,
    Observation,
    WelfareCheck,
)
from labnotes.services.welfare import UlcerInput, record_observation
from planner.models import Holiday, Lab
from tests.factories import TEST_PASSWORD
from tests.labnotes.builders import SENTINELS
from tests.labnotes.test_welfare_services import at_day, caliper, welfare_run

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def test_observation_sheet_lists_animals_and_saves_touched_rows_only(lab):
    w = welfare_run(lab)
    client = login(w.technician)
    url = reverse("run_observations", kwargs={"pk": w.run.pk})
    page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    for animal in w.animals:
        assert f'id="row-a{animal.pk}"' in text
    assert "Activity" in text and "Coat" in text and "Ulceration per tumour" in text
    assert not any(sentinel in text for sentinel in SENTINELS)
    first, second = w.animals[0], w.animals[1]
    response = client.post(
        url,
        {
            "day": lab.local_date(timezone.now()).isoformat(),
            f"a{first.pk}-normal": "on",
            f"a{second.pk}-item0": "1",
            f"a{second.pk}-item1": "0",
            f"a{second.pk}-ulcer{w.tumours[1].pk}": "2",
            f"a{second.pk}-diameter{w.tumours[1].pk}": "4",
            f"a{second.pk}-notes": "hunched",
        },
    )
    assert response.status_code == 302
    assert Observation.objects.count() == 2
    normal = Observation.objects.get(animal=first)
    assert normal.scores == {"Activity": 0, "Coat": 0}
    assert [u.score for u in normal.ulcerations.all()] == [0]
    scored = Observation.objects.get(animal=second)
    assert scored.scores == {"Activity": 1, "Coat": 0} and scored.notes == "hunched"
    assert scored.ulcerations.get().score == 2
    assert WelfareCheck.objects.filter(animal=second).count() == 7  # ulceration ≥ 1: daily


def test_observation_sheet_saves_nothing_and_names_row_when_one_row_is_incomplete(lab):
    w = welfare_run(lab)
    client = login(w.technician)
    first, second = w.animals[0], w.animals[1]
    response = client.post(
        reverse("run_observations", kwargs={"pk": w.run.pk}),
        {
            "day": lab.local_date(timezone.now()).isoformat(),
            f"a{first.pk}-normal": "on",
            f"a{second.pk}-item0": "1",  # Coat not scored
            f"a{second.pk}-notes": "kept after the error",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was saved" in text and f"Animal {second.tag}" in text
    assert "Coat" in text and "Score every item" in text
    assert 'value="kept after the error"' in text
    assert not Observation.objects.exists()


def test_observation_sheet_refuses_viewer_and_writes_nothing(lab):
    w = welfare_run(lab)
    response = login(w.design.viewer).post(
        reverse("run_observations", kwargs={"pk": w.run.pk}),
        {"day": lab.local_date(timezone.now()).isoformat(), f"a{w.animals[0].pk}-normal": "on"},
    )
    assert response.status_code == 400 and "may record observations" in response.content.decode()
    assert not Observation.objects.exists()


def test_endpoint_page_refuses_found_dead_without_last_seen_alive(lab):
    w = welfare_run(lab)
    animal = w.animals[0]
    client = login(w.technician)
    url = reverse("animal_endpoint", kwargs={"pk": animal.pk})
    assert "Record the endpoint" in client.get(url).content.decode()
    occurred = timezone.localtime(timezone.now() - dt.timedelta(hours=1), w.run.study.lab.zone)
    response = client.post(
        url, {"cause": "found_dead", "occurred_at": occurred.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 400
    assert "last time it was seen alive" in response.content.decode()
    assert not EndpointRecord.objects.exists()
    seen = occurred - dt.timedelta(hours=16)
    response = client.post(
        url,
        {
            "cause": "found_dead",
            "occurred_at": occurred.strftime("%Y-%m-%dT%H:%M"),
            "last_seen_alive_at": seen.strftime("%Y-%m-%dT%H:%M"),
            "actual_severity": "severe",
        },
    )
    assert response.status_code == 302
    record = EndpointRecord.objects.get(animal=animal)
    assert record.last_seen_alive_at == seen.replace(second=0, microsecond=0)
    assert Animal.objects.get(pk=animal.pk).status == AnimalStatus.FOUND_DEAD
    page = client.get(url).content.decode()
    assert "event</strong> in the survival analysis" in page and "Severe" in page


def test_today_lists_open_episodes_and_welfare_checks(lab):
    w = welfare_run(lab)
    caliper(w, 0, "17", "15.5", at_day(w, 13), entry_method=EntryMethod.API)
    record_observation(
        animal=w.animals[1],
        observed_at=timezone.now() - dt.timedelta(days=1),
        observer=w.technician,
        scores={"Activity": 0, "Coat": 0},
        ulceration=[UlcerInput(w.tumours[1].pk, 1)],
    )
    text = login(w.technician).get(reverse("today")).content.decode()
    assert "Open endpoint episodes" in text and w.animals[0].tag in text
    assert "tumour volume limit" in text
    assert "Welfare checks" in text and "Daily welfare check" in text
    assert not any(sentinel in text for sentinel in SENTINELS)


def test_today_projects_growing_tumour_past_limit_before_a_holiday(lab):
    w = welfare_run(lab)
    study_lab = Lab.objects.get(pk=w.run.study.lab_id)
    today = study_lab.local_date(timezone.now())
    # Make tomorrow and the day after non-working (holidays): a break follows today.
    for offset in (1, 2):
        Holiday.objects.get_or_create(
            lab=study_lab, day=today + dt.timedelta(days=offset), defaults={"name": "Break"}
        )
    study_lab.working_weekdays = [0, 1, 2, 3, 4, 5, 6]
    study_lab.save()
    # Doubling every day: 400, 800, 1600 mm³ on days 11-13 (L = W = x, V = x³/2) → about
    # 25,600 mm³ on the morning of the next working day (day 17).
    for day, axis in ((11, "9.28"), (12, "11.70"), (13, "14.74")):
        caliper(w, 2, axis, axis, at_day(w, day, 8))
    caliper(w, 3, "8", "6", at_day(w, 13, 8))
    text = login(w.technician).get(reverse("today")).content.decode()
    assert "Before the break" in text
    section = text.split("Before the break", 1)[1].split("</section>", 1)[0]
    assert w.animals[2].tag in section and w.animals[3].tag not in section


def test_api_observation_create_returns_endpoint_and_checks(lab):
    w = welfare_run(lab)
    client = APIClient()
    client.force_authenticate(w.technician)
    payload = {
        "animal": w.animals[0].pk,
        "observed_at": (timezone.now() - dt.timedelta(minutes=5)).isoformat(),
        "scores": {"Activity": 2, "Coat": 0},
        "ulceration": [{"tumour": w.tumours[0].pk, "score": 1}],
    }
    response = client.post(
        "/api/v1/observations/", payload, format="json", HTTP_IDEMPOTENCY_KEY="obs-1"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["endpoint"]["level"] == "reached" and body["endpoint"]["alerted"] is True
    assert len(body["checks_created"]) == 7
    # A resend (network retry) with the same key gives the same answer and writes nothing.
    again = client.post(
        "/api/v1/observations/", payload, format="json", HTTP_IDEMPOTENCY_KEY="obs-1"
    )
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Observation.objects.count() == 1
    episodes = client.get("/api/v1/endpoint-episodes/?open=true").json()["results"]
    assert [e["cause"] for e in episodes] == ["clinical_score"]


def test_api_endpoint_record_and_survival_rows(lab):
    w = welfare_run(lab)
    client = APIClient()
    client.force_authenticate(w.technician)
    refused = client.post(
        "/api/v1/endpoint-records/",
        {
            "animal": w.animals[0].pk,
            "cause": "found_dead",
            "occurred_at": at_day(w, 12).isoformat(),
        },
        format="json",
    )
    assert refused.status_code in (400, 422) and "last_seen_alive_at" in refused.content.decode()
    created = client.post(
        "/api/v1/endpoint-records/",
        {
            "animal": w.animals[0].pk,
            "cause": "tumour_volume",
            "occurred_at": at_day(w, 12).isoformat(),
            "actual_severity": "moderate",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["outcome"] == "event"
    rows = client.get(f"/api/v1/endpoint-records/survival/?run={w.run.pk}").json()
    by_tag = {row["tag"]: row for row in rows}
    assert by_tag[w.animals[0].tag]["event"] is True and by_tag[w.animals[0].tag]["days"] == 5
    assert by_tag[w.animals[1].tag]["event"] is False
    assert not any(sentinel in str(rows) for sentinel in SENTINELS)
    assert client.get("/api/v1/endpoint-records/survival/?run=999999").status_code == 404
    assert EndpointEpisode.objects.count() == 0
