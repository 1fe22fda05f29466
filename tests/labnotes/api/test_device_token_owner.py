"""Device tokens follow their owner: deactivated, or no longer a lab admin or study director of
the token's lab, and the token answers 401 problem+json saying why, writing nothing; the check
is part of the token's lookup (authentication stays one query)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory

from labnotes.api.device_auth import DeviceTokenAuthentication
from labnotes.models import Measurement
from planner.models import Membership, Role
from tests.labnotes.api.device_support import animals_with_tumours, make_device, post, rows_for
from tests.labnotes.builders import Design

pytestmark = pytest.mark.django_db


def test_a_live_owner_authenticates_in_one_query(design: Design, run: Any) -> None:
    device = make_device(design, run, animals_with_tumours(design, run, 1))
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {device.secret}")
    with CaptureQueriesContext(connection) as queries:
        user, token = DeviceTokenAuthentication().authenticate(request)  # type: ignore[misc]
    assert len(queries) == 1
    assert user == design.director and token.pk == device.token.pk


def test_token_of_a_deactivated_owner_answers_401_and_writes_nothing(
    design: Design, run: Any
) -> None:
    animals = animals_with_tumours(design, run, 2)
    device = make_device(design, run, animals)
    assert post(device.client, rows_for(animals, 2)).status_code == 201
    User.objects.filter(pk=design.director.pk).update(is_active=False)
    response = post(device.client, rows_for(animals, 2))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert "stopped working" in detail and "was deactivated" in detail
    assert design.director.username in detail
    assert Measurement.objects.count() == 2


@pytest.mark.parametrize("new_role", [Role.SCIENTIST, Role.TECHNICIAN, None])
def test_token_of_an_owner_who_lost_the_issuing_role_answers_401(
    design: Design, run: Any, new_role: str | None
) -> None:
    animals = animals_with_tumours(design, run, 2)
    device = make_device(design, run, animals)
    membership = Membership.objects.filter(user=design.director, lab=design.lab)
    if new_role is None:
        membership.delete()
    else:
        membership.update(role=new_role)
    response = post(device.client, rows_for(animals, 2))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert "no longer a lab admin or study director" in response.json()["detail"]
    assert Measurement.objects.count() == 0


def test_an_owner_moved_from_study_director_to_lab_admin_keeps_the_token_working(
    design: Design, run: Any
) -> None:
    animals = animals_with_tumours(design, run, 2)
    device = make_device(design, run, animals)
    Membership.objects.filter(user=design.director, lab=design.lab).update(role=Role.LAB_ADMIN)
    assert post(device.client, rows_for(animals, 2)).status_code == 201
    assert Measurement.objects.count() == 2
