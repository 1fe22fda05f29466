"""Helpers of the device-token and ingest tests: a run with animals, a token, a device client."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from labnotes.models import Animal, DeviceAction, StudyRun
from labnotes.services.animals import record_implantation, register_animals
from labnotes.services.instruments import create_device_token
from tests.labnotes.builders import Design, tag_rows

INGEST_URL = "/api/v1/device/measurements/"


@dataclass
class Device:
    run: StudyRun
    animals: list[Animal]
    secret: str
    token: Any
    client: APIClient


def animals_with_tumours(design: Design, run: StudyRun, count: int, start: int = 1) -> list[Animal]:
    """``count`` animals (tags 0001…), each with one tumour on the right flank, no readings."""
    animals = register_animals(
        run=run, rows=tag_rows(count, start=start), registered_by=design.technician
    )
    for animal in animals:
        record_implantation(
            animal=animal,
            site="right flank",
            implanted_on=run.day0,
            cells=500_000,
            operator=design.technician,
            viability_percent=95,
        )
    return animals


def device_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def make_device(
    design: Design,
    run: StudyRun,
    animals: list[Animal],
    *,
    actions: tuple[str, ...] = (DeviceAction.POST_MEASUREMENTS, DeviceAction.POST_WEIGHTS),
    **options: Any,
) -> Device:
    issued = create_device_token(
        created_by=design.director, name="Bridge", actions=actions, run=run, **options
    )
    return Device(run, animals, issued.secret, issued.token, device_client(issued.secret))


def key() -> str:
    return uuid.uuid4().hex


def post(client: APIClient, body: Any, *, idempotency_key: str | None = None, **extra: Any) -> Any:
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": idempotency_key or key()}
    headers.update(extra)
    return client.post(INGEST_URL, body, format="json", **headers)


def rows_for(
    animals: list[Animal], count: int, *, start: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """``count`` valid rows cycling over ``animals``: caliper and weight alternately, one
    minute apart, ending an hour ago."""
    end = start or timezone.now() - dt.timedelta(hours=1)
    rows: list[dict[str, Any]] = []
    for index in range(count):
        animal = animals[index % len(animals)]
        taken = end - dt.timedelta(minutes=count - index)
        if index % 2 == 0:
            rows.append(
                {
                    "animal": animal.tag,
                    "kind": "caliper",
                    "length_mm": f"{6 + (index % 50) / 10:.2f}",
                    "width_mm": f"{4 + (index % 20) / 10:.2f}",
                    "unit": "mm",
                    "taken_at": taken.isoformat(),
                    "raw": f"L{index}",
                    "stable": True,
                }
            )
        else:
            rows.append(
                {
                    "animal": animal.tag,
                    "kind": "weight",
                    "weight_g": f"{18 + (index % 30) / 10:.2f}",
                    "unit": "g",
                    "taken_at": taken.isoformat(),
                    "stable": True,
                }
            )
    return rows
