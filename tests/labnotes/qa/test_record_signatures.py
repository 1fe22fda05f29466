"""Sign buttons and signature lists on the pages of signable records (issue 10): the animal page
lists the animal's records, each record page shows its signatures, and the Sign link appears
only for people whose role may sign; signing from it works end to end."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from labnotes.models import Measurement
from planner.models import Signature
from tests.factories import TEST_PASSWORD
from tests.labnotes.conftest import stage
from tests.labnotes.samples_support import SmallRun, small_run

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.get_username(), password=TEST_PASSWORD)
    return client


def _sign_url(record: Any) -> str:
    return reverse("sign_record", args=[record._meta.app_label, record._meta.model_name, record.pk])


def test_measurement_page_has_the_sign_link_for_a_scientist_not_a_viewer_and_signing_works(
    design: Any, run: Any
) -> None:
    animal = stage(design, run, 1)[0]
    reading = Measurement.objects.filter(animal=animal).latest("pk")
    history = reverse("object_history", args=["labnotes", "measurement", reading.pk])

    scientist = _client(design.scientist)
    animal_page = scientist.get(reverse("animal_detail", args=[animal.pk])).content.decode()
    assert f'href="{history}"' in animal_page  # the animal page leads to the record's page
    page = scientist.get(history)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Signatures" in text and "Not signed yet." in text
    assert f'href="{_sign_url(reading)}?next={history}"' in text

    viewer_page = _client(design.viewer).get(history).content.decode()
    assert "Signatures" in viewer_page and _sign_url(reading) not in viewer_page

    signed = scientist.post(
        f"{_sign_url(reading)}?next={history}",
        {"meaning": "reviewed", "password": TEST_PASSWORD},
    )
    assert signed.status_code == 302 and signed["Location"] == history
    signature = Signature.objects.get(object_id=reading.pk, signer=design.scientist)
    assert signature.meaning == "reviewed"
    after = scientist.get(history).content.decode()
    assert "Not signed yet." not in after and signature.signer_name in after
    assert "valid" in after


@pytest.fixture
def small(lab: Any) -> SmallRun:
    return small_run(lab)


def test_sample_and_notebook_pages_show_signatures(small: SmallRun) -> None:
    from django.utils import timezone

    from labnotes.services.notebook import create_entry
    from labnotes.services.samples import record_sample

    technician = small.design.technician
    sample = record_sample(
        animal=small.animals[0],
        tissue="serum",
        collected_at=timezone.now(),
        collected_by=technician,
        barcode="SIG-1",
        volume_ul="50",
    )
    entry = create_entry(lab=small.design.lab, author=technician, title="Bleed", runs=[small.run])
    client = _client(small.design.scientist)
    for url, record in (
        (reverse("sample_detail", args=[sample.pk]), sample),
        (reverse("notebook_detail", args=[entry.pk]), entry),
    ):
        text = client.get(url).content.decode()
        assert "Signatures" in text and _sign_url(record) in text, url


def test_blinded_technician_sees_no_dose_records_on_the_animal_page(small: SmallRun) -> None:
    import datetime as dt

    from django.utils import timezone

    from tests.labnotes.samples_support import give_dose

    animal = small.animals[0]
    dose = give_dose(small, animal, given_at=timezone.now() - dt.timedelta(hours=1))
    dose_page = reverse("object_history", args=["labnotes", "doserecord", dose.pk])
    director = _client(small.design.director).get(reverse("animal_detail", args=[animal.pk]))
    assert dose_page in director.content.decode()  # the walk can fail
    blinded = _client(small.design.technician).get(reverse("animal_detail", args=[animal.pk]))
    assert blinded.status_code == 200 and dose_page not in blinded.content.decode()
    assert "Dose record" not in blinded.content.decode()
