"""The design API through APIClient + reverse(): CRUD, If-Match, transitions, roles, blinding."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from planner.demo import DEMO_LIBRARY, ENDPOINTS
from planner.models import Arm, ProtocolVersion, Study, StudyMember


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_template_create_then_draft_edit_with_if_match_release_and_diff(lab, scientist):
    api = client_for(scientist)
    kind, params = DEMO_LIBRARY["Body weight Mon/Wed/Fri"]
    created = api.post(
        reverse("protocol_template-list"),
        {"lab": lab.slug, "name": "BW", "kind": kind, "parameters": params},
        format="json",
    )
    assert created.status_code == 201, created.content
    version_id = created.json()["versions"][0]["id"]
    url = reverse("protocol_version-detail", args=[version_id])
    etag = api.get(url)["ETag"]
    bad = api.patch(
        url,
        {"parameters": {"schedule": "Mon/Funday"}, "reason": "r"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "schedule"
    assert (
        api.patch(
            url, {"parameters": {"schedule": "Tue/Fri"}, "reason": "r"}, format="json"
        ).status_code
        == 428
    )
    ok = api.patch(
        url,
        {"parameters": {"schedule": "Tue/Fri"}, "reason": "rota"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert ok.status_code == 200, ok.content
    assert (
        api.patch(
            url, {"parameters": params, "reason": "r"}, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 412
    )
    released = api.post(reverse("protocol_version-release", args=[version_id]))
    assert released.json()["status"] == "released"
    refused = api.patch(
        url, {"parameters": params, "reason": "r"}, format="json", HTTP_IF_MATCH=released["ETag"]
    )
    assert refused.status_code == 400 and "released" in refused.content.decode()
    template_id = created.json()["id"]
    v2 = api.post(
        reverse("protocol_template-new-version", args=[template_id]),
        {"parameters": params},
        format="json",
    )
    assert v2.status_code == 201 and v2.json()["number"] == 2
    diff = api.get(reverse("protocol_version-diff", args=[v2.json()["id"]])).json()
    assert diff["changes"] == [{"field": "schedule", "old": "Tue/Fri", "new": "Mon/Wed/Fri"}]
    listed = api.get(reverse("protocol_template-list"), {"kind": "body_weight"}).json()
    assert [t["name"] for t in listed["results"]] == ["BW"]


@pytest.mark.django_db
def test_technician_reads_but_cannot_write(lab, technician, draft_design):
    api = client_for(technician)
    assert api.get(reverse("study-detail", args=[draft_design.pk])).status_code == 200
    response = api.post(
        reverse("arm-list"), {"study": draft_design.pk, "label": "X", "planned_n": 3}, format="json"
    )
    assert response.status_code in (400, 403)
    assert not Arm.objects.filter(label="X").exists()
    kind, params = DEMO_LIBRARY["Body weight Mon/Wed/Fri"]
    denied = api.post(
        reverse("protocol_template-list"),
        {"lab": lab.slug, "name": "T", "kind": kind, "parameters": params},
        format="json",
    )
    assert denied.status_code == 403


@pytest.mark.django_db
def test_study_design_fields_arms_and_transitions(draft_design, director, scientist):
    StudyMember.objects.create(study=draft_design, user=scientist, unblinded=True)
    api = client_for(scientist)
    url = reverse("study-detail", args=[draft_design.pk])
    body = api.get(url)
    data = body.json()
    assert [arm["label"] for arm in data["arms"]][:1] == ["Vehicle"]
    assert data["arms"][0]["regimen_items"][0]["route"] in {"IT", "IP"}
    patched = api.patch(
        url, {"strain": "BALB/cJ", "reason": "vendor"}, format="json", HTTP_IF_MATCH=body["ETag"]
    )
    assert patched.status_code == 200 and patched.json()["strain"] == "BALB/cJ"
    denied = api.post(reverse("study-approve", args=[draft_design.pk]), {}, format="json")
    assert denied.status_code == 403
    director_api = client_for(director)
    stale = director_api.post(
        reverse("study-approve", args=[draft_design.pk]),
        {},
        format="json",
        HTTP_IF_MATCH=body["ETag"],
    )
    assert stale.status_code == 412
    approved = director_api.post(
        reverse("study-approve", args=[draft_design.pk]),
        {},
        format="json",
        HTTP_IF_MATCH=patched["ETag"],
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["analysis_plan"]["synergy_model"] == "bliss"
    for name in ("activate", "complete", "archive"):
        response = director_api.post(
            reverse(f"study-{name}", args=[draft_design.pk]), {}, format="json"
        )
        assert response.status_code == 200, response.content
    assert Study.objects.get(pk=draft_design.pk).status == "archived"
    clone = api.post(
        reverse("study-clone", args=[draft_design.pk]),
        {"code": "CT26-T3", "title": "Repeat"},
        format="json",
    )
    assert clone.status_code == 201 and clone.json()["status"] == "draft"


@pytest.mark.django_db
def test_approve_refusal_lists_problems_as_problem_json(draft_design, director):
    draft_design.arms.update(is_control=False)
    response = client_for(director).post(
        reverse("study-approve", args=[draft_design.pk]), {}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "Mark one arm as the control." in response.content.decode()


@pytest.mark.django_db
def test_blinded_member_sees_codes_only(draft_design, technician):
    StudyMember.objects.create(study=draft_design, user=technician, unblinded=False)
    api = client_for(technician)
    data = api.get(reverse("study-detail", args=[draft_design.pk])).json()
    codes = [arm["code"] for arm in data["arms"]]
    assert codes == sorted(codes)
    assert all(
        set(arm) == {"id", "study", "code", "planned_n", "row_version", "satellites"}
        for arm in data["arms"]
    )
    arm = draft_design.arms.first()
    assert api.get(reverse("arm-detail", args=[arm.pk])).status_code == 404
    preview = api.get(
        reverse("study-preview", args=[draft_design.pk]), {"day0": "2025-03-03", "last_day": 14}
    ).json()
    assert "IL-12" not in str(preview) and "Vehicle" not in str(preview)


@pytest.mark.django_db
def test_arm_and_regimen_item_crud(draft_design, scientist, library):
    StudyMember.objects.create(study=draft_design, user=scientist, unblinded=True)
    api = client_for(scientist)
    created = api.post(
        reverse("arm-list"),
        {"study": draft_design.pk, "label": "Extra", "planned_n": 4},
        format="json",
    )
    assert created.status_code == 201, created.content
    arm_url = reverse("arm-detail", args=[created.json()["id"]])
    changed = api.patch(
        arm_url, {"planned_n": 6, "reason": "power"}, format="json", HTTP_IF_MATCH=created["ETag"]
    )
    assert changed.json()["planned_n"] == 6
    version = library["Cyclophosphamide IP 100 mg/kg"]
    item = api.post(
        reverse("regimen_item-list"),
        {
            "arm": created.json()["id"],
            "protocol_version": version.pk,
            "agent": "CPA",
            "dose": "300",
            "dose_basis": "per_kg_own_weight",
            "route": "IP",
            "schedule": "once on day 7",
        },
        format="json",
    )
    assert item.status_code == 400
    assert item.json()["errors"][0]["field"] == "dose"
    item = api.post(
        reverse("regimen_item-list"),
        {
            "arm": created.json()["id"],
            "protocol_version": version.pk,
            "agent": "CPA",
            "dose": "100",
            "dose_basis": "per_kg_own_weight",
            "route": "IP",
            "schedule": "once on day 7",
        },
        format="json",
    )
    assert item.status_code == 201, item.content
    gone = api.delete(
        reverse("regimen_item-detail", args=[item.json()["id"]]),
        {"reason": "not needed"},
        format="json",
    )
    assert gone.status_code == 204
    assert api.delete(arm_url, {"reason": "dropped"}, format="json").status_code == 204
    assert not Arm.objects.filter(label="Extra").exists()


@pytest.mark.django_db
def test_ethics_and_amendment_resources(lab, director, scientist, draft_design):
    api = client_for(director)
    created = api.post(
        reverse("ethics_protocol-list"),
        {
            "lab": lab.slug,
            "number": "E-77",
            "title": "t",
            "approved_on": "2024-01-01",
            "expires_on": "2030-01-01",
            "endpoint_limits": ENDPOINTS,
            "approvals": [{"strain": "BALB/c", "severity": "moderate", "approved_animals": 40}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["approvals"][0]["approved_animals"] == 40
    api.post(reverse("study-approve", args=[draft_design.pk]), {}, format="json")
    code = draft_design.arms.first().code
    proposal = client_for(scientist).post(
        reverse("amendment-list"),
        {
            "study": draft_design.pk,
            "reason": "more animals",
            "effective_date": "2025-04-01",
            "scope": "arms",
            "changes": {"arms": [{"code": code, "planned_n": 12}]},
        },
        format="json",
    )
    assert proposal.status_code == 400
    assert proposal.json()["errors"][0]["field"] == "ethics_amendment_reference"
    proposal = client_for(scientist).post(
        reverse("amendment-list"),
        {
            "study": draft_design.pk,
            "reason": "more animals",
            "effective_date": "2025-04-01",
            "scope": "arms",
            "changes": {"arms": [{"code": code, "planned_n": 12}]},
            "ethics_amendment_reference": "ETH-1/A9",
        },
        format="json",
    )
    assert proposal.status_code == 201, proposal.content
    approved = api.post(reverse("amendment-approve", args=[proposal.json()["id"]]))
    assert approved.json()["status"] == "approved"
    assert Arm.objects.get(study=draft_design, code=code).planned_n == 12
    assert ProtocolVersion.objects.filter(status="draft").count() == 0
