"""ELISA pages through Django's test client: blinding, refused files, the decision form."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from labnotes.models import ElisaPlate, StoredFile
from labnotes.services import elisa as elisa_services
from tests.labnotes.elisa_support import (
    ElisaSetup,
    elisa_setup,
    expected_ods,
    grid_csv,
    laid_out_plate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(lab: Any) -> ElisaSetup:
    return elisa_setup(lab)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _read_plate(setup: ElisaSetup) -> ElisaPlate:
    return elisa_services.import_reading(
        plate=laid_out_plate(setup),
        content=grid_csv(expected_ods(setup)),
        filename="r.csv",
        imported_by=setup.small.design.technician,
    )


def test_blinded_technician_sees_results_without_arm_labels(setup: ElisaSetup) -> None:
    plate = _read_plate(setup)
    url = reverse("elisa_plate_detail", args=[plate.pk])
    page = _client(setup.small.design.technician).get(url).content.decode()
    assert "SER-1" in page and "Per sample and animal" in page
    for arm in setup.small.design.arms:
        assert arm.label not in page
    listing = _client(setup.small.design.technician).get(
        reverse("run_elisa_plates", args=[setup.small.run.pk])
    )
    assert listing.status_code == 200
    assert not any(arm.label in listing.content.decode() for arm in setup.small.design.arms)
    unblinded = _client(setup.small.design.director).get(url).content.decode()
    assert any(arm.label in unblinded for arm in setup.small.design.arms)


def test_wrong_file_on_the_page_names_the_problem_and_saves_nothing(setup: ElisaSetup) -> None:
    plate = laid_out_plate(setup)
    response = _client(setup.small.design.technician).post(
        reverse("elisa_plate_import", args=[plate.pk]),
        {"file": SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\nxxxx", "image/png")},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was saved" in text and "photo.png: this is a PNG image" in text
    assert not StoredFile.objects.exists()
    assert ElisaPlate.objects.get(pk=plate.pk).status == "draft"


def test_scientist_accepts_on_the_page_with_a_reason(setup: ElisaSetup) -> None:
    plate = _read_plate(setup)
    client = _client(setup.small.design.scientist)
    url = reverse("elisa_plate_decide", args=[plate.pk])
    refused = client.post(url, {"decision": "accept", "reason": ""})
    assert refused.status_code == 400
    assert ElisaPlate.objects.get(pk=plate.pk).status == "read"
    done = client.post(url, {"decision": "reject", "reason": "standard curve drifted"})
    assert done.status_code == 302
    plate.refresh_from_db()
    assert plate.status == "rejected" and plate.decision_reason == "standard curve drifted"
