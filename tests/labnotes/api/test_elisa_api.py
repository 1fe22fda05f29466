"""ELISA plate API: create, layout with If-Match, reading upload, decision, results, blinding."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from labnotes.models import ElisaPlate, ElisaResult, PlateWell, StoredFile
from tests.labnotes.api.conftest import client_for
from tests.labnotes.elisa_support import (
    ElisaSetup,
    elisa_setup,
    expected_ods,
    grid_csv,
    standard_layout,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(lab: Any) -> ElisaSetup:
    return elisa_setup(lab)


def _create(setup: ElisaSetup, user: Any) -> Any:
    return client_for(user).post(
        reverse("elisa_plate-list"),
        {"run": setup.small.run.pk, "protocol_version": setup.version.pk, "name": "API-1"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="plate-1",
    )


def _etag(plate: dict[str, Any]) -> str:
    return f'"labnotes.elisaplate-{plate["id"]}-v{plate["row_version"]}"'


def test_plate_created_laid_out_read_and_accepted_through_api(setup: ElisaSetup) -> None:
    technician = setup.small.design.technician
    client = client_for(technician)
    created = _create(setup, technician)
    assert created.status_code == 201, created.content
    replay = _create(setup, technician)
    assert replay["Idempotent-Replayed"] == "true"
    assert ElisaPlate.objects.count() == 1
    plate = created.json()
    assert plate["status"] == "draft" and plate["analyte"] == "IFN-gamma"
    url = reverse("elisa_plate-layout", kwargs={"pk": plate["id"]})
    without = client.put(url, {"wells": standard_layout(setup)}, format="json")
    assert without.status_code == 428
    laid = client.put(
        url, {"wells": standard_layout(setup)}, format="json", HTTP_IF_MATCH=created["ETag"]
    )
    assert laid.status_code == 200, laid.content
    assert len(laid.json()["layout"]) == 32
    stale = client.put(
        url,
        {"wells": standard_layout(setup), "reason": "again"},
        format="json",
        HTTP_IF_MATCH=created["ETag"],
    )
    assert stale.status_code == 412
    upload = SimpleUploadedFile("reading.csv", grid_csv(expected_ods(setup)), "text/csv")
    read = client.post(
        reverse("elisa_plate-reading", kwargs={"pk": plate["id"]}),
        {"file": upload},
        format="multipart",
    )
    assert read.status_code == 200, read.content
    body = read.json()
    assert body["status"] == "read" and body["reading_format"] == "generic_grid"
    assert len(body["reading_sha256"]) == 64 and body["fit"]["qc_passed"] is True
    refused = client.post(
        reverse("elisa_plate-decision", kwargs={"pk": plate["id"]}),
        {"accept": True, "reason": "fine"},
        format="json",
    )
    assert refused.status_code == 403
    accepted = client_for(setup.small.design.scientist).post(
        reverse("elisa_plate-decision", kwargs={"pk": plate["id"]}),
        {"accept": True, "reason": "QC passed; all levels within 80-120 %"},
        format="json",
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"


def test_bad_upload_gives_problem_and_saves_nothing(setup: ElisaSetup) -> None:
    technician = setup.small.design.technician
    client = client_for(technician)
    plate = _create(setup, technician).json()
    laid = client.put(
        reverse("elisa_plate-layout", kwargs={"pk": plate["id"]}),
        {"wells": standard_layout(setup)},
        format="json",
        HTTP_IF_MATCH=_etag(plate),
    )
    assert laid.status_code == 200, laid.content
    upload = SimpleUploadedFile("empty.csv", b"", "text/csv")
    refused = client.post(
        reverse("elisa_plate-reading", kwargs={"pk": plate["id"]}),
        {"file": upload},
        format="multipart",
    )
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    upload = SimpleUploadedFile("x.csv", b"Well,OD\nA1,0.1\nA1,0.2\n", "text/csv")
    duplicate = client.post(
        reverse("elisa_plate-reading", kwargs={"pk": plate["id"]}),
        {"file": upload},
        format="multipart",
    )
    assert duplicate.status_code == 400 and "twice" in duplicate.content.decode()
    assert not StoredFile.objects.exists()
    assert not PlateWell.objects.filter(od__isnull=False).exists()
    assert not ElisaResult.objects.exists()


def test_layout_with_unknown_sample_is_refused_naming_the_well(setup: ElisaSetup) -> None:
    technician = setup.small.design.technician
    plate = _create(setup, technician).json()
    refused = client_for(technician).put(
        reverse("elisa_plate-layout", kwargs={"pk": plate["id"]}),
        {"wells": [{"well": "C4", "role": "sample", "sample": "GHOST-1"}]},
        format="json",
        HTTP_IF_MATCH=_etag(plate),
    )
    assert refused.status_code == 400
    assert "Well C4, field sample: 'GHOST-1' matches no sample" in refused.content.decode()
    assert not PlateWell.objects.exists()


def test_results_hide_arm_from_blinded_readers(setup: ElisaSetup) -> None:
    technician = setup.small.design.technician
    client = client_for(technician)
    plate = _create(setup, technician).json()
    laid = client.put(
        reverse("elisa_plate-layout", kwargs={"pk": plate["id"]}),
        {"wells": standard_layout(setup)},
        format="json",
        HTTP_IF_MATCH=_etag(plate),
    )
    assert laid.status_code == 200, laid.content
    client.post(
        reverse("elisa_plate-reading", kwargs={"pk": plate["id"]}),
        {"file": SimpleUploadedFile("r.csv", grid_csv(expected_ods(setup)), "text/csv")},
        format="multipart",
    )
    url = reverse("elisa_plate-results", kwargs={"pk": plate["id"]})
    blinded = client.get(url)
    assert blinded.status_code == 200 and len(blinded.json()) == 8
    assert all(row["arm"] is None for row in blinded.json())
    labels = {arm.label for arm in setup.small.design.arms}
    assert not any(label in blinded.content.decode() for label in labels)
    unblinded = client_for(setup.small.design.director).get(url)
    assert {row["arm"] for row in unblinded.json()} <= labels
    assert any(row["arm"] for row in unblinded.json())
