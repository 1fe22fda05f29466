"""Dosing pages and API: who gets the list, recording through the page (htmx row swap) and the
API, and the sentinel walk — a blinded technician without ``can_dose`` never sees the agent
``AGT-QX9`` or the dose ``123.456``; nor does a blinded doser once the study runs double-blind.
The doser of a single-blind study does see them, so the walk can fail."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from labnotes.models import DoseRecord, Task, TaskKind, TaskStatus
from labnotes.services.dosing import create_formulation_batch, record_dose
from tests.labnotes.builders import SENTINEL_AGENT, SENTINEL_DOSE
from tests.labnotes.test_dosing_support import DosingRun, build_dosing_run, lab_today, weigh
from tests.labnotes.test_run_pages import client_for

pytestmark = pytest.mark.django_db
SENTINELS = (SENTINEL_AGENT, SENTINEL_DOSE)


@pytest.fixture
def dr(design: Any, run: Any) -> DosingRun:
    built = build_dosing_run(design, run)
    for code in ("G2", "G4"):
        for animal in built.animals(code):
            weigh(animal, "20.00", design.technician)
    # one dose given, with a deviation, so records exist to be (not) seen
    animal = built.animals("G4")[0]
    record_dose(
        task=built.today_task(animal),
        batch=built.batches["G4"],
        volume_ul="300",
        given_at=timezone.now() - dt.timedelta(minutes=1),
        route="IP",
        operator=design.doser,
    )
    return built


def _walk(client: Client, dr: DosingRun) -> dict[str, tuple[int, str]]:
    run = dr.run
    today = lab_today().isoformat()
    task = Task.objects.filter(run=run, kind=TaskKind.DOSE).first()
    dose = DoseRecord.objects.filter(animal=dr.animals("G4")[0]).first()
    batch = dr.batches["G4"]
    assert task is not None and dose is not None
    pages = [
        reverse("run_dosing", args=[run.pk]) + f"?day={today}",
        reverse("run_dosing_batches", args=[run.pk]),
        reverse("run_dose_modifications", args=[run.pk]),
        reverse("dose_task_row", args=[task.pk]),
        reverse("run_detail", args=[run.pk]),
        reverse("today") + f"?day={today}",
        "/api/v1/formulation-batches/",
        f"/api/v1/formulation-batches/{batch.pk}/",
        "/api/v1/doses/",
        f"/api/v1/doses/{dose.pk}/",
        f"/api/v1/doses/{dose.pk}/history/",
        "/api/v1/dose-modifications/",
        f"/api/v1/doses/dosing-list/?run={run.pk}&day={today}",
        "/api/v1/tasks/",
    ]
    found = {url: (r.status_code, r.content.decode()) for url in pages if (r := client.get(url))}
    for url, data in (
        (reverse("dose_task_record", args=[task.pk]), {"volume_ul": "1", "route": "IP"}),
        (reverse("dose_task_missed", args=[task.pk]), {"reason": "x"}),
        (reverse("formulation_batch_void", args=[batch.pk]), {"reason": "x"}),
    ):
        response = client.post(url, data)
        found["POST " + url] = (response.status_code, response.content.decode())
    for url, body in (
        ("/api/v1/doses/", {"task": task.pk, "batch": batch.pk, "volume_ul": "1",
                            "given_at": timezone.now().isoformat(), "route": "IP"}),
        ("/api/v1/formulation-batches/", {"study": dr.design.study.pk, "agent": SENTINEL_AGENT,
                                          "lot": "NEW", "concentration_mg_per_ml": "1",
                                          "vehicle": "PBS",
                                          "prepared_at": timezone.now().isoformat(),
                                          "expires_at": timezone.now().isoformat()}),
    ):  # fmt: skip
        response = client.post(url, json.dumps(body), content_type="application/json")
        found["POST " + url] = (response.status_code, response.content.decode())
    return found


def test_blinded_technician_without_can_dose_never_sees_agents_or_doses(dr: DosingRun) -> None:
    before = DoseRecord.objects.count()
    found = _walk(client_for(dr.design.technician), dr)
    leaks = [(url, s) for url, (_, text) in found.items() for s in SENTINELS if s in text]
    assert not leaks, leaks
    status = {url: code for url, (code, _) in found.items()}
    run = dr.run.pk
    assert status[reverse("run_dosing", args=[run]) + f"?day={lab_today()}"] == 403
    assert status[reverse("run_dosing_batches", args=[run])] == 403
    assert status[reverse("run_dose_modifications", args=[run])] == 403
    assert {code for url, code in status.items() if "dose-tasks" in url} == {404}
    assert json.loads(found["/api/v1/doses/"][1])["count"] == 0
    assert json.loads(found["/api/v1/formulation-batches/"][1])["count"] == 0
    dose = DoseRecord.objects.get(animal=dr.animals("G4")[0])
    assert status[f"/api/v1/doses/{dose.pk}/"] == 404
    assert f'href="/runs/{run}/dosing/"' not in found[reverse("run_detail", args=[run])][1]
    assert DoseRecord.objects.count() == before


def test_single_blind_doser_sees_agents_and_doses_so_the_walk_can_fail(dr: DosingRun) -> None:
    found = _walk(client_for(dr.design.doser), dr)
    listing = found[reverse("run_dosing", args=[dr.run.pk]) + f"?day={lab_today()}"]
    assert listing[0] == 200
    everything = "\n".join(text for _, text in found.values())
    for sentinel in SENTINELS:
        assert sentinel in everything, sentinel
    # and the director (unblinded, not a doser) reads the records but gets no list
    director = client_for(dr.design.director)
    assert director.get(reverse("run_dosing", args=[dr.run.pk])).status_code == 403
    assert SENTINEL_AGENT in director.get("/api/v1/doses/").content.decode()


def test_blinded_doser_of_a_double_blind_study_sees_codes_not_agents(dr: DosingRun) -> None:
    create_formulation_batch(
        study=dr.design.study,
        agent=SENTINEL_AGENT,
        regimen_item=dr.items["G4"],
        lot="G4-CODED",
        concentration_mg_per_ml="10",
        vehicle="PBS",
        coded_label="VIAL-Q",
        prepared_by=dr.design.scientist,
        prepared_at=timezone.now() - dt.timedelta(hours=1),
        expires_at=timezone.now() + dt.timedelta(days=3),
        recorded_by=dr.design.scientist,
    )
    dose = DoseRecord.objects.get(task__isnull=False, animal=dr.animals("G4")[0])
    found = _walk(client_for(dr.design.doser), dr)
    # Nowhere — dosing pages and API, the Today list, the task API — names the agent.
    leaks = [(url, s) for url, (_, text) in found.items() for s in SENTINELS if s in text]
    assert not leaks, leaks
    assert found[f"/api/v1/doses/{dose.pk}/history/"][0] == 403
    listing = found[reverse("run_dosing", args=[dr.run.pk]) + f"?day={lab_today()}"]
    assert listing[0] == 200 and "VIAL-Q" in listing[1]


def test_page_records_a_dose_and_focuses_the_next_row_with_htmx(dr: DosingRun) -> None:
    client = client_for(dr.design.doser)
    first, second = dr.animals("G2")[:2]
    task = dr.today_task(first)
    response = client.post(
        reverse("dose_task_record", args=[task.pk]),
        {
            "volume_ul": "200",
            "route": "IP",
            "batch": str(dr.batches["G2"].pk),
            "time": (timezone.now() - dt.timedelta(minutes=2))
            .astimezone(dr.run.study.lab.zone)
            .strftime("%H:%M"),
            "day": lab_today().isoformat(),
            "row_version": str(task.row_version),
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' not in html, html
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert f'id="dose-row-{task.pk}"' in html and "Done" in html
    # the table body comes back with the next due row's volume focused
    assert html.count("autofocus") == 1 and 'id="dose-volume-' in html
    # an over-limit volume comes back as the row with the error, nothing written
    other = dr.today_task(second)
    response = client.post(
        reverse("dose_task_record", args=[other.pk]),
        {
            "volume_ul": "500",
            "route": "IP",
            "batch": str(dr.batches["G2"].pk),
            "time": (timezone.now() - dt.timedelta(minutes=2))
            .astimezone(dr.run.study.lab.zone)
            .strftime("%H:%M"),
            "day": lab_today().isoformat(),
        },
        HTTP_HX_REQUEST="true",
    )
    assert "above the IP limit of 20 mL/kg" in response.content.decode()
    assert not DoseRecord.objects.filter(task=other).exists()


def test_api_records_a_dose_and_refuses_an_expired_batch(dr: DosingRun) -> None:
    client = client_for(dr.design.doser)
    animal = dr.animals("G2")[0]
    task = dr.today_task(animal)
    expired = create_formulation_batch(
        study=dr.design.study,
        agent="cyclophosphamide",
        lot="OLD",
        concentration_mg_per_ml="10",
        vehicle="saline",
        prepared_by=dr.design.doser,
        prepared_at=timezone.now() - dt.timedelta(days=10),
        expires_at=timezone.now() - dt.timedelta(days=1),
        recorded_by=dr.design.doser,
    )
    body = {
        "task": task.pk,
        "batch": expired.pk,
        "volume_ul": "200",
        "given_at": (timezone.now() - dt.timedelta(minutes=1)).isoformat(),
        "route": "IP",
    }
    refused = client.post("/api/v1/doses/", json.dumps(body), content_type="application/json")
    assert refused.status_code == 400
    assert "expired" in refused.content.decode()
    body["batch"] = dr.batches["G2"].pk
    given = client.post("/api/v1/doses/", json.dumps(body), content_type="application/json")
    assert given.status_code == 201, given.content
    data = given.json()
    # 100 mg/kg × 0.020 kg = 2 mg planned; 200 µL × 10 mg/mL = 2 mg given
    assert data["planned_amount_mg"] == "2.000000" and data["amount_mg"] == "2.000000"
    assert data["deviations"] == []
    listing = client.get(f"/api/v1/doses/dosing-list/?run={dr.run.pk}").json()
    states = {row["task"]: row["state"] for row in listing["rows"]}
    assert states[task.pk] == "done"
