"""The blinded-leak test: a blinded technician walks every labnotes API endpoint and never meets
the arm label, agent or dose sentinels; responses have one shape whatever the arm."""

from __future__ import annotations

import json
from typing import Any

import pytest

from labnotes.api.urls import router
from labnotes.models import Animal, Task
from tests.factories import TEST_PASSWORD
from tests.labnotes.api.conftest import client_for
from tests.labnotes.builders import SENTINEL_AGENT, SENTINEL_LABEL, SENTINELS

pytestmark = pytest.mark.django_db

# Actions that deliberately reveal an arm to the person who performs them (audited).
REVEALING_ACTIONS = {"emergency-unblind"}


def _walk_api(client: Any) -> dict[str, bytes]:
    """GET every list (all pages, with filters and ordering) and every object's detail,
    history and GET actions the user can reach."""
    seen: dict[str, bytes] = {}
    for prefix, viewset, _basename in router.registry:
        queue = [
            f"/api/v1/{prefix}/",
            f"/api/v1/{prefix}/?ordering=arm_code",
            f"/api/v1/{prefix}/?arm_code=G4",
            f"/api/v1/{prefix}/?page_size=500",
        ]
        ids: set[int] = set()
        while queue:
            path = queue.pop()
            response = client.get(path)
            seen[path] = response.content
            # an action-only resource (file import) has no list to GET
            allowed = {200, 400} if hasattr(viewset, "list") else {405}
            assert response.status_code in allowed, (path, response.status_code)
            if response.status_code == 405:
                continue
            body = response.json()
            if isinstance(body, dict) and "results" in body:
                ids.update(item["id"] for item in body["results"])
                if body.get("next"):
                    queue.append(body["next"].replace("http://testserver", ""))
        extra_get = [name.replace("_", "-") for name in ("staging",) if hasattr(viewset, name)]
        ordered = sorted(ids)
        if len(ordered) > 60:  # tasks and readings: every n-th, spread over all animals
            ordered = ordered[:: len(ordered) // 40]
        for pk in ordered:
            for suffix in ["", "history/", *[f"{name}/" for name in extra_get]]:
                path = f"/api/v1/{prefix}/{pk}/{suffix}"
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                seen[path] = response.content
    return seen


def _leaks(responses: dict[str, bytes]) -> list[str]:
    return [
        f"{sentinel} in {path}"
        for path, content in responses.items()
        for sentinel in SENTINELS
        if sentinel.encode() in content
    ]


def test_blinded_technician_meets_no_sentinel_on_any_api_endpoint(design, randomized_run):
    assert Animal.objects.filter(arm__label=SENTINEL_LABEL).count() == 10
    responses = _walk_api(client_for(design.technician))
    assert len(responses) > 100
    assert _leaks(responses) == []
    unblinded = _walk_api(client_for(design.scientist))
    assert _leaks(unblinded), "the walk must reach the sentinels when the user is unblinded"


def test_blinded_technician_gets_no_sentinel_from_refusals_and_errors(design, randomized_run):
    client = client_for(design.technician)
    animal = Animal.objects.filter(arm__label=SENTINEL_LABEL).first()
    responses = {
        "preview": client.post(
            "/api/v1/randomization-batches/preview/", {"run": randomized_run.pk}, format="json"
        ),
        "expand": client.post(
            f"/api/v1/study-runs/{randomized_run.pk}/expand-tasks/", {}, format="json"
        ),
        "exclude": client.post(
            f"/api/v1/animals/{animal.pk}/exclude/", {"reason": "x"}, format="json"
        ),
        "ordering by label": client.get("/api/v1/animals/?ordering=arm__label"),
        "filter by label": client.get(f"/api/v1/animals/?arm_code={SENTINEL_LABEL}"),
        "dose task": client.get(f"/api/v1/tasks/{Task.objects.filter(kind='dose').first().pk}/"),
        "unblind": client.post(
            "/api/v1/unblindings/unblind-study/",
            {"study": design.study.pk, "password": TEST_PASSWORD, "reason": "curious"},
            format="json",
        ),
    }
    assert responses["preview"].status_code == 403
    assert responses["dose task"].status_code == 404
    assert responses["unblind"].status_code == 403
    assert responses["ordering by label"].status_code == 400
    assert responses["filter by label"].json()["count"] == 0
    for name, response in responses.items():
        for sentinel in SENTINELS:
            assert sentinel.encode() not in response.content, name


def test_blinded_responses_have_one_shape_whatever_the_arm(design, randomized_run):
    client = client_for(design.technician)
    animals = client.get("/api/v1/animals/?page_size=500").json()["results"]
    assert len(animals) == 40
    assert len({tuple(sorted(animal)) for animal in animals}) == 1
    assert {tuple(sorted(animal["arm"])) for animal in animals} == {("code",)}
    tasks: list[dict[str, Any]] = []
    page = "/api/v1/tasks/?page_size=500"
    while page:
        body = client.get(page).json()
        tasks.extend(body["results"])
        page = (body["next"] or "").replace("http://testserver", "")
    assert tasks and {task["kind"] for task in tasks} <= {"measure", "weigh", "observe"}
    assert len({tuple(sorted(task)) for task in tasks}) == 1
    per_animal = {}
    for task in tasks:
        per_animal[task["animal"]] = per_animal.get(task["animal"], 0) + 1
    assert len(set(per_animal.values())) == 1, "task counts must not differ between arms"
    run = client.get(f"/api/v1/study-runs/{randomized_run.pk}/").json()
    assert "arms" not in run
    assert client.get("/api/v1/randomization-batches/").json()["count"] == 0


def test_doser_sees_dose_tasks_with_agent_but_no_arm_label(design, randomized_run):
    client = client_for(design.doser)
    tasks = client.get("/api/v1/tasks/?kind=dose&page_size=500").json()
    assert tasks["count"] == 160
    agents = {task["dosing"]["agent"] for task in tasks["results"]}
    assert SENTINEL_AGENT in agents
    assert SENTINEL_LABEL.encode() not in json.dumps(tasks).encode()


def test_unblinded_scientist_sees_labels_and_per_arm_counts(design, randomized_run):
    client = client_for(design.scientist)
    run = client.get(f"/api/v1/study-runs/{randomized_run.pk}/").json()
    assert [(row["arm_code"], row["allocated"]) for row in run["arms"]] == [
        ("G1", 10),
        ("G2", 10),
        ("G3", 10),
        ("G4", 10),
    ]
    animal = client.get("/api/v1/animals/?arm_code=G4").json()["results"][0]
    assert animal["arm"] == {"code": "G4", "label": SENTINEL_LABEL}


def test_unblind_study_needs_director_password_and_reason_then_everyone_sees(
    design, randomized_run
):
    director = client_for(design.director)
    wrong = director.post(
        "/api/v1/unblindings/unblind-study/",
        {"study": design.study.pk, "password": "nope", "reason": "final"},
        format="json",
    )
    assert wrong.status_code == 403
    no_reason = director.post(
        "/api/v1/unblindings/unblind-study/",
        {"study": design.study.pk, "password": TEST_PASSWORD, "reason": ""},
        format="json",
    )
    assert no_reason.status_code == 400
    technician = client_for(design.technician)
    assert SENTINEL_LABEL.encode() not in technician.get("/api/v1/animals/?page_size=500").content
    done = director.post(
        "/api/v1/unblindings/unblind-study/",
        {
            "study": design.study.pk,
            "password": TEST_PASSWORD,
            "reason": "last measurement done; analysis",
        },
        format="json",
    )
    assert done.status_code == 201, done.content
    assert done.json()["performed_by"] == design.director.username
    assert SENTINEL_LABEL.encode() in technician.get("/api/v1/animals/?page_size=500").content
    events = technician.get("/api/v1/unblindings/").json()["results"]
    assert [(e["scope"], e["reason"]) for e in events] == [
        ("study", "last measurement done; analysis")
    ]


def test_emergency_unblind_shows_one_animal_to_the_vet_and_is_recorded(design, randomized_run):
    from tests.factories import MembershipFactory, UserFactory

    animal = Animal.objects.filter(arm__label=SENTINEL_LABEL).first()
    technician = client_for(design.technician)
    not_allowed = technician.post(
        f"/api/v1/animals/{animal.pk}/emergency-unblind/",
        {"reason": "curious"},
        format="json",
    )
    assert not_allowed.status_code == 403
    assert SENTINEL_LABEL.encode() not in not_allowed.content
    vet = UserFactory()
    MembershipFactory(user=vet, lab=design.study.lab, role="veterinarian")
    client = client_for(vet)
    refused = client.post(f"/api/v1/animals/{animal.pk}/emergency-unblind/", {}, format="json")
    assert refused.status_code == 400
    response = client.post(
        f"/api/v1/animals/{animal.pk}/emergency-unblind/",
        {"reason": "seizure; vet needs the treatment"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["arm_label"] == SENTINEL_LABEL
    assert any(SENTINEL_AGENT in line for line in body["regimen"])
    assert SENTINEL_LABEL.encode() not in client.get("/api/v1/animals/?page_size=500").content
    events = client_for(design.director).get("/api/v1/unblindings/").json()["results"]
    assert [(e["scope"], e["animal_tag"], e["performed_by"]) for e in events] == [
        ("animal", animal.tag, vet.username)
    ]
