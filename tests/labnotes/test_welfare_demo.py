"""The demo's welfare history on a run with three weeks of readings: observations, an
escalation with weekend checks, two volume endpoints and one found dead."""

from __future__ import annotations

import datetime as dt

import pytest

from labnotes.demo_welfare import record_demo_welfare
from labnotes.models import (
    AnimalStatus,
    EndpointRecord,
    Observation,
    WelfareCheck,
    WelfareCheckKind,
)
from labnotes.selectors_survival import survival_rows
from tests.labnotes.test_welfare_services import at_day, caliper, welfare_run

pytestmark = pytest.mark.django_db


def test_demo_welfare_writes_observations_escalation_two_volume_endpoints_and_found_dead(lab):
    w = welfare_run(lab, count=6, day0_days_ago=21)
    for day in range(8, 21, 2):
        for index in range(6):
            axis = 5.0 * 1.12 ** (day - 8) + index * 0.3
            caliper(w, index, f"{axis:.2f}", f"{axis:.2f}", at_day(w, day, 9))
    record_demo_welfare(w.run, {"tech_measure": w.technician, "director": w.design.director})
    records = EndpointRecord.objects.order_by("animal__tag")
    assert sorted(r.cause for r in records) == ["found_dead", "tumour_volume", "tumour_volume"]
    dead = records.get(cause="found_dead")
    assert dead.animal.status == AnimalStatus.FOUND_DEAD and dead.last_seen_alive_at is not None
    assert not Observation.objects.filter(
        animal=dead.animal, observed_at__gt=dead.last_seen_alive_at
    ).exists()
    for record in records.filter(cause="tumour_volume"):
        episode = record.episodes.get()
        assert episode.hours_to_endpoint is not None and not episode.over_24_hours
    assert Observation.objects.count() > 6 * 5
    checks = WelfareCheck.objects.filter(kind=WelfareCheckKind.DAILY_CHECK)
    assert {check.due_date.weekday() for check in checks} >= {5, 6}
    rows = survival_rows(w.run)
    assert sum(row.event for row in rows) == 3  # volume (event) x2, found dead (event)
    assert all(row.days >= 0 for row in rows)
    assert max(r.occurred_at for r in records) <= at_day(w, 21, 23) + dt.timedelta(hours=1)
