"""A plate reader's export posted by a device token: imported once, only into plates it covers."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from labnotes.models import DeviceAction, ElisaPlate, PlateWell, StoredFile
from labnotes.services.instruments import create_device_token
from tests.labnotes.api.device_support import device_client
from tests.labnotes.elisa_support import (
    ElisaSetup,
    elisa_setup,
    expected_ods,
    grid_csv,
    laid_out_plate,
)
from tests.labnotes.samples_support import small_run

pytestmark = pytest.mark.django_db

URL = "/api/v1/device/plate-readings/"


@pytest.fixture
def setup(lab: Any) -> ElisaSetup:
    return elisa_setup(lab)


def _token(
    setup: ElisaSetup, actions: tuple[str, ...] = (DeviceAction.UPLOAD_PLATE_READER,)
) -> str:
    issued = create_device_token(
        created_by=setup.small.design.director,
        name="Plate reader PC",
        actions=actions,
        run=setup.small.run,
    )
    return issued.secret


def _post(secret: str, plate: ElisaPlate, content: bytes, key: str) -> Any:
    upload = SimpleUploadedFile("plate1.csv", content, "text/csv")
    return device_client(secret).post(
        URL, {"plate": plate.pk, "file": upload}, format="multipart", HTTP_IDEMPOTENCY_KEY=key
    )


def test_export_is_imported_once_and_a_resend_replays_the_answer(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    content = grid_csv(expected_ods(setup))
    secret = _token(setup)
    first = _post(secret, plate, content, "export-1")
    assert first.status_code == 201, first.content
    assert first.json() == {
        "plate": plate.pk,
        "status": "read",
        "format": "generic_grid",
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    plate.refresh_from_db()
    read_at = plate.read_at
    assert PlateWell.objects.filter(plate=plate, od__isnull=False).count() > 0
    again = _post(secret, plate, content, "export-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    plate.refresh_from_db()
    assert plate.read_at == read_at, "the resend did not import again"


def test_a_token_of_another_run_or_without_the_action_is_refused_and_nothing_read(
    setup: ElisaSetup, other_lab: Any
) -> None:
    plate = laid_out_plate(setup)
    content = grid_csv(expected_ods(setup))
    elsewhere = small_run(other_lab)
    foreign = create_device_token(
        created_by=elsewhere.design.director,
        name="Other lab reader",
        actions=[DeviceAction.UPLOAD_PLATE_READER],
        run=elsewhere.run,
    ).secret
    files_before = StoredFile.objects.count()
    refused = _post(foreign, plate, content, "foreign-1")
    assert refused.status_code == 403
    assert f"may not upload to plate {plate.pk}" in refused.json()["detail"]
    lacking = _post(_token(setup, (DeviceAction.POST_WEIGHTS,)), plate, content, "weights-1")
    assert lacking.status_code == 403
    person = device_client("vl_not_a_device_token").post(URL, {}, HTTP_IDEMPOTENCY_KEY="x")
    assert person.status_code == 401
    plate.refresh_from_db()
    assert plate.status == "draft" and plate.reading_file is None
    assert StoredFile.objects.count() == files_before


def test_a_bad_export_is_refused_with_its_reason_and_saves_nothing(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    files_before = StoredFile.objects.count()
    response = _post(_token(setup), plate, b"", "empty-1")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "empty" in response.json()["detail"].lower()
    plate.refresh_from_db()
    assert plate.status == "draft"
    assert StoredFile.objects.count() == files_before
    assert reverse("device_plate_reading-list") == URL
