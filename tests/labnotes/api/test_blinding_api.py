"""The blinded-leak test: a blinded technician walks every labnotes API endpoint and never meets
the arm label, agent or dose sentinels; responses have one shape whatever the arm."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from labnotes.api.device_auth import DeviceTokenAuthentication
from labnotes.api.urls import router
from labnotes.models import Animal, IngestBatch, Task
from planner.api.urls import router as planner_router
from tests.factories import TEST_PASSWORD
from tests.labnotes.api.conftest import client_for
from tests.labnotes.builders import SENTINEL_AGENT, SENTINEL_LABEL, SENTINELS, Design

pytestmark = pytest.mark.django_db

# Actions that deliberately reveal an arm to the person who performs them (audited).
REVEALING_ACTIONS = {"emergency-unblind"}

# Object GET actions the walk reads besides the detail and its history.
WALKED_GET_ACTIONS = ("staging", "results", "status")
# Object GET actions the walk does not read, and why. A new GET action must be added to one of
# the two, so that no later endpoint escapes the walk unnoticed.
UNWALKED_GET_ACTIONS = {
    "download": "file bytes of a report artifact or stored file (needs ?name=)",
    "label": "a printable label (PDF bytes) of one sample",
    r"attachments/(?P<attachment_id>\d+)/content": "a notebook attachment's bytes",
}
# Planner resources read by this walk: the signature register spans every record type.
PLANNER_PREFIXES = ("signatures",)


def _registry() -> list[tuple[str, Any, str]]:
    return [
        *router.registry,
        *[entry for entry in planner_router.registry if entry[0] in PLANNER_PREFIXES],
    ]


def _device_only(viewset: Any) -> bool:
    """Endpoints that take a device token (vd_…) and nothing else."""
    return list(getattr(viewset, "authentication_classes", ())) == [DeviceTokenAuthentication]


def _refused_to_people(client: Any, prefix: str, seen: dict[str, bytes]) -> None:
    """A person (session or personal token) is refused (403, problem+json) by a device-only
    endpoint, to read (GET) and to post (POST), before anything is read or written."""
    path = f"/api/v1/{prefix}/"
    batches = IngestBatch.objects.count()
    for method, response in (
        ("GET", client.get(path)),
        ("POST", client.post(path, {}, format="json")),
    ):
        seen[f"{method} {path}"] = response.content
        assert response.status_code == 403, (method, path, response.status_code)
        assert response["Content-Type"].startswith("application/problem+json"), path
    assert IngestBatch.objects.count() == batches


def _walk_api(client: Any) -> dict[str, bytes]:
    """GET every list (all pages, with filters and ordering) and every object's detail,
    history and GET actions the user can reach."""
    seen: dict[str, bytes] = {}
    for prefix, viewset, _basename in _registry():
        if _device_only(viewset):
            _refused_to_people(client, prefix, seen)
            continue
        get_actions = {
            action.url_path
            for action in viewset.get_extra_actions()
            if action.detail and "get" in action.mapping and action.url_path != "history"
        }
        unknown = get_actions - set(WALKED_GET_ACTIONS) - set(UNWALKED_GET_ACTIONS)
        assert not unknown, f"{prefix}: GET actions unknown to this walk: {sorted(unknown)}"
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
        extra_get = [name for name in WALKED_GET_ACTIONS if name in get_actions]
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


def _assay_qa_and_instrument_records(design: Design, run: Any) -> None:
    """One serum sample of an animal of every arm (the sentinel arm included), read on an ELISA
    plate and imported into a flow panel; a deviation on those animals; a QA inspection with a
    finding and an audit-trail review; a balance and a device token; the director's signature
    on the design and the scientist's on the randomization — through the services."""
    import datetime as dt

    from django.utils import timezone

    from labnotes.models import RandomizationBatch
    from labnotes.services import elisa as elisa_services
    from labnotes.services.deviations import record_deviation
    from labnotes.services.flow import MappingSpec, create_flow_panel, import_flow_statistics
    from labnotes.services.inspections import (
        FindingInput,
        mark_audit_trail_reviewed,
        record_inspection,
    )
    from labnotes.services.instruments import create_device_token, create_instrument
    from labnotes.services.reports import request_study_report
    from labnotes.services.runs import start_study_run
    from labnotes.services.samples import record_sample
    from planner.models import ProcedureRole, StudyProcedure
    from planner.services.signatures import sign_record
    from tests.factories import MembershipFactory, UserFactory
    from tests.labnotes.builders import released_version
    from tests.labnotes.elisa_support import (
        ELISA_PARAMETERS,
        ElisaSetup,
        expected_ods,
        grid_csv,
        laid_out_plate,
    )
    from tests.labnotes.flow_support import TREG_PANEL, counts_row, flowjo10_table
    from tests.labnotes.samples_support import SmallRun

    lab = design.study.lab
    firsts: dict[str, Animal] = {}
    for animal in Animal.objects.filter(run=run, arm__isnull=False).order_by("tag"):
        firsts.setdefault(str(animal.arm_id), animal)
    animals = sorted(firsts.values(), key=lambda animal: animal.tag)
    assert len(animals) == 4
    assert Animal.objects.filter(pk__in=[a.pk for a in animals], arm__label=SENTINEL_LABEL).exists()
    taken = timezone.now() - dt.timedelta(hours=2)
    samples = [
        record_sample(
            animal=animal,
            tissue="serum",
            collected_at=taken,
            collected_by=design.technician,
            barcode=f"SER-{index}",
            volume_ul="100",
        )
        for index, animal in enumerate(animals, start=1)
    ]
    elisa = ElisaSetup(
        SmallRun(design, run, animals),
        released_version(lab, design.director, "elisa", "IFN-gamma ELISA", ELISA_PARAMETERS),
        samples,
        {s.barcode: c for s, c in zip(samples, (400.0, 1200.0, 3000.0, 6000.0), strict=True)},
    )
    elisa_services.import_reading(
        plate=laid_out_plate(elisa),
        content=grid_csv(expected_ods(elisa)),
        filename="reading.csv",
        imported_by=design.technician,
    )
    panel_version = released_version(lab, design.director, "flow_panel", "Treg", TREG_PANEL)
    StudyProcedure.objects.create(
        study=design.study, role=ProcedureRole.FLOW_PANEL, protocol_version=panel_version
    )
    import_flow_statistics(
        panel=create_flow_panel(
            run=run, protocol_version=panel_version, created_by=design.director
        ),
        content=flowjo10_table({f"{s.barcode}.fcs": counts_row() for s in samples}),
        filename="treg.csv",
        spec=MappingSpec(),
        imported_by=design.technician,
    )
    record_deviation(
        run=run,
        category="sampling",
        description="serum taken two hours late",
        occurred_on=run.day0,
        animals=animals,
        detected_by=design.technician,
        recorded_by=design.technician,
    )
    qa: Any = UserFactory()  # type: ignore[no-untyped-call]
    MembershipFactory(user=qa, lab=lab, role="qa")  # type: ignore[no-untyped-call]
    today = lab.local_date(timezone.now())
    record_inspection(
        study=design.study,
        run=run,
        inspected_on=today,
        phase="randomization",
        scope="allocation records",
        inspector=qa,
        recorded_by=qa,
        findings=[FindingInput("minor", "cage cards printed late")],
    )
    mark_audit_trail_reviewed(
        run=run, period_start=run.day0, period_end=today, conclusion="complete", reviewer=qa
    )
    balance = create_instrument(
        lab=lab,
        kind="balance",
        name="Balance 1",
        serial_number="BAL-1",
        created_by=design.scientist,
    )
    create_device_token(
        created_by=design.director,
        name="Balance 1 bridge",
        actions=["post_weights"],
        run=run,
        instrument=balance,
    )
    second = start_study_run(
        study=design.study,
        code="RUN-2",
        day0=run.day0 + dt.timedelta(days=7),
        started_by=design.director,
    )
    for variant in ("unblinded", "blinded"):  # queued study (pooled) reports, not built
        request_study_report(
            study=design.study,
            run_pks=[run.pk, second.pk],
            kind="interim",
            variant=variant,
            requested_by=design.scientist,
        )
    sign_record(
        record=design.study, meaning="approved", signer=design.director, password=TEST_PASSWORD
    )
    sign_record(
        record=RandomizationBatch.objects.get(run=run, status="applied"),
        meaning="reviewed",
        signer=design.scientist,
        password=TEST_PASSWORD,
    )


def test_blinded_technician_meets_no_sentinel_on_any_api_endpoint(
    design, randomized_run, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"  # the ELISA reading and flow import keep files
    assert Animal.objects.filter(arm__label=SENTINEL_LABEL).count() == 10
    _assay_qa_and_instrument_records(design, randomized_run)
    responses = _walk_api(client_for(design.technician))
    assert len(responses) > 100
    # the walk read objects (and GET actions) of the assay, QA, instrument and signature
    # endpoints, and found device-only endpoints refusing the person
    read = {path for path in responses if path.rstrip("/").split("/")[-1].isdigit()}
    for prefix in (
        "elisa-plates",
        "flow-panels",
        "flow-acquisitions",
        "flow-imports",
        "deviations",
        "qa-inspections",
        "audit-trail-reviews",
        "instruments",
        "signatures",
    ):
        assert any(path.startswith(f"/api/v1/{prefix}/") for path in read), prefix
    for action in (
        r"/elisa-plates/\d+/results/",
        r"/flow-panels/\d+/results/",
        r"/instruments/\d+/status/",
    ):
        assert any(re.search(action, path) for path in responses), action
    assert "GET /api/v1/device/measurements/" in responses
    assert "POST /api/v1/device/plate-readings/" in responses
    assert "POST /api/v1/device/flow-results/" in responses
    assert _leaks(responses) == []
    unblinded = _walk_api(client_for(design.scientist))
    assert _leaks(unblinded), "the walk must reach the sentinels when the user is unblinded"
    # the study (pooled) reports are read by the unblinded scientist's walk
    assert any(re.fullmatch(r"/api/v1/reports/\d+/", path) for path in unblinded)


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
