"""Ethics usage: approved / used / remaining by strain and severity, actual severities, expiry
warnings, the CSV export and the page."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from labnotes.models import Animal, AnimalStatus, EndpointRecord
from labnotes.selectors_ethics import ethics_usage_counts
from planner.models import EthicsApproval, EthicsProtocol
from planner.services.ethics_usage import (
    NOT_ASSESSED,
    UsageCounts,
    ethics_usage,
    expiry_warning,
    usage_csv,
)
from tests.factories import LabFactory
from tests.labnotes.samples_support import SmallRun, small_run

pytestmark = pytest.mark.django_db


def _protocol(lab: Any, expires_in_days: int) -> EthicsProtocol:
    today = timezone.localdate()
    protocol = EthicsProtocol.objects.create(
        lab=lab,
        number="G-2025-17",
        title="Tumour studies",
        approved_on=today - dt.timedelta(days=100),
        expires_on=today + dt.timedelta(days=expires_in_days),
    )
    EthicsApproval.objects.create(
        protocol=protocol, strain="BALB/c", severity="mild", approved_animals=20
    )
    EthicsApproval.objects.create(
        protocol=protocol, strain="BALB/c", severity="moderate", approved_animals=50
    )
    EthicsApproval.objects.create(
        protocol=protocol, strain="C57BL/6", severity="moderate", approved_animals=30
    )
    return protocol


def test_usage_by_strain_and_severity_when_counts_given() -> None:
    lab = LabFactory()
    protocol = _protocol(lab, 400)
    counts = UsageCounts(
        used_by_strain={"BALB/c": 12, "NSG": 3},
        actual_severity={("BALB/c", "moderate"): 5, ("BALB/c", NOT_ASSESSED): 7},
    )
    usage = ethics_usage(protocol=protocol, counts=counts, today=timezone.localdate())
    rows = [(r.strain, r.severity, r.approved, r.used, r.remaining) for r in usage.approvals]
    # Used animals count against the most severe approval of their strain.
    assert rows == [
        ("BALB/c", "mild", 20, 0, 20),
        ("BALB/c", "moderate", 50, 12, 38),
        ("C57BL/6", "moderate", 30, 0, 30),
    ]
    assert usage.unapproved == {"NSG": 3}
    assert usage.total_approved == 100
    assert usage.total_used == 15
    assert [(c.strain, c.label, c.animals) for c in usage.actual] == [
        ("BALB/c", "Not yet assessed", 7),
        ("BALB/c", "Moderate", 5),
    ]
    assert usage.level == "ok"
    exported = list(csv.reader(io.StringIO(usage_csv(usage))))
    assert ["approval", "BALB/c", "moderate", "50", "12", "38"] in exported
    assert ["unapproved", "NSG", "", "0", "3", "-3"] in exported
    assert ["actual", "BALB/c", "moderate", "5"] in exported
    assert exported[0] == ["protocol", "G-2025-17"]


@pytest.mark.parametrize(
    ("days", "level", "text"),
    [
        (61, "ok", ""),
        (60, "warning", "in 60 days"),
        (31, "warning", "in 31 days"),
        (30, "critical", "in 30 days"),
        (1, "critical", "in 1 day:"),
        (-2, "expired", "2 days ago"),
    ],
)
def test_expiry_warning_levels_when_days_left(days: int, level: str, text: str) -> None:
    protocol = _protocol(LabFactory(), days)
    today = timezone.localdate()
    usage = ethics_usage(protocol=protocol, counts=UsageCounts(), today=today)
    assert usage.level == level
    _, sentence = expiry_warning(protocol, today)
    assert (text in sentence) if text else sentence == ""


def test_counts_from_lab_records(lab: Any) -> None:
    small: SmallRun = small_run(lab, count=4)
    protocol = small.design.ethics
    first, second, _third, fourth = small.animals
    EndpointRecord.objects.create(
        animal=first,
        cause="tumour_volume",
        outcome="event",
        occurred_at=timezone.now(),
        study_day=10,
        actual_severity="moderate",
        recorded_by=small.design.director,
    )
    EndpointRecord.objects.create(
        animal=second,
        cause="tumour_volume",
        outcome="event",
        occurred_at=timezone.now(),
        study_day=10,
        actual_severity="severe",
        recorded_by=small.design.director,
    )
    Animal.objects.filter(pk=fourth.pk).update(
        status=AnimalStatus.TRANSFERRED,
        status_reason="re-challenge",
        status_changed_at=timezone.now(),
    )
    counts = ethics_usage_counts(protocol)
    assert counts.used_by_strain == {"BALB/c": 3}
    assert counts.actual_severity == {
        ("BALB/c", "moderate"): 1,
        ("BALB/c", "severe"): 1,
        ("BALB/c", NOT_ASSESSED): 1,
    }
    client = Client()
    client.force_login(small.design.director)
    page = client.get(reverse("ethics_usage", args=[protocol.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "BALB/c" in text and "Moderate" in text
    assert page.context["usage"].approvals[0].used == 3
    assert page.context["usage"].approvals[0].remaining == 197
    export = client.get(reverse("ethics_usage_csv", args=[protocol.pk]))
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert "approval,BALB/c,moderate,200,3,197" in export.content.decode()
    # Another lab's user does not see the protocol.
    other = small_run(LabFactory())
    client.force_login(other.design.director)
    assert client.get(reverse("ethics_usage", args=[protocol.pk])).status_code == 404
