"""Dosing follow-ups (issue 6): coded formulations wherever dose tasks are listed, worksheet
volumes from the batch in use, and held doses that stay held when the schedule is re-expanded.

Expected volumes are worked out by hand in the comments (mg/kg × kg ÷ mg/mL = mL).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from labnotes.models import Task, TaskKind, TaskStatus
from labnotes.services import dosing
from labnotes.services.dosing import (
    RowState,
    apply_dose_modification,
    create_formulation_batch,
    dosing_row,
)
from labnotes.services.schedule import expand_run_tasks
from tests.labnotes.builders import SENTINEL_AGENT, SENTINEL_DOSE, SENTINEL_LABEL
from tests.labnotes.test_dosing_support import DosingRun, build_dosing_run, lab_today, weigh
from tests.labnotes.test_run_pages import client_for

pytestmark = pytest.mark.django_db
SENTINELS = (SENTINEL_AGENT, SENTINEL_DOSE, SENTINEL_LABEL)


@pytest.fixture
def dr(design: Any, run: Any) -> DosingRun:
    built = build_dosing_run(design, run)
    for code in ("G2", "G4"):
        for animal in built.animals(code):
            weigh(animal, "20.00", design.technician)
    return built


def _double_blind(dr: DosingRun) -> None:
    """The pharmacist codes the G4 vial: the study now runs double-blind."""
    create_formulation_batch(
        study=dr.design.study,
        agent=SENTINEL_AGENT,
        regimen_item=dr.items["G4"],
        lot="G4-CODED",
        concentration_mg_per_ml="10",
        vehicle="PBS",
        coded_label="VIAL-Q",
        prepared_by=dr.design.scientist,
        prepared_at=timezone.now() - dt.timedelta(hours=1),
        expires_at=timezone.now() + dt.timedelta(days=3),
        recorded_by=dr.design.scientist,
    )


def _pages(dr: DosingRun) -> dict[str, str]:
    today = lab_today().isoformat()
    worksheet = reverse("run_worksheet", args=[dr.run.pk]) + f"?day={today}"
    return {
        "today": reverse("today") + f"?day={today}",
        "worksheet": worksheet,
        "dosers worksheet": worksheet + "&copy=dosers",
        "task api": f"/api/v1/tasks/?page_size=500&run={dr.run.pk}",
    }


# -- 1. coded formulations on Today, the worksheet and the task API --------------------------------


def test_blinded_doser_of_a_double_blind_study_sees_vial_codes_everywhere(
    dr: DosingRun,
) -> None:
    _double_blind(dr)
    client = client_for(dr.design.doser)
    found = {name: client.get(url) for name, url in _pages(dr).items()}
    assert {name: r.status_code for name, r in found.items()} == dict.fromkeys(found, 200)
    leaks = [(name, s) for name, r in found.items() for s in SENTINELS if s in r.content.decode()]
    assert not leaks, leaks
    assert "Dose VIAL-Q IP" in found["today"].content.decode()
    assert "Dose VIAL-Q IP" in found["dosers worksheet"].content.decode()
    rows = found["task api"].json()["results"]
    g4 = {a.pk for a in dr.animals("G4")}
    coded = [r["dosing"] for r in rows if r["kind"] == "dose" and r["animal"] in g4]
    assert coded and all(d == {"formulation": "VIAL-Q", "route": "IP"} for d in coded)
    # no dose task tells a blinded doser its agent, dose or whether it is the vehicle
    dosing_fields = [r["dosing"] for r in rows if r["kind"] == "dose"]
    assert dosing_fields and not any(
        {"agent", "dose", "is_vehicle"} & set(d) for d in dosing_fields
    )


def test_blinded_technician_sees_no_dose_details_and_no_arm_label(dr: DosingRun) -> None:
    _double_blind(dr)
    client = client_for(dr.design.technician)
    pages = _pages(dr)
    assert client.get(pages["dosers worksheet"]).status_code == 403
    for name in ("today", "worksheet", "task api"):
        text = client.get(pages[name]).content.decode()
        leaks = [s for s in (*SENTINELS, "VIAL-Q", "cyclophosphamide") if s in text]
        assert not leaks, (name, leaks)
    rows = client.get(pages["task api"]).json()["results"]
    assert rows and all("dosing" not in r for r in rows)


def test_single_blind_doser_still_sees_the_agent_so_the_test_can_fail(dr: DosingRun) -> None:
    client = client_for(dr.design.doser)
    pages = _pages(dr)
    assert SENTINEL_AGENT in client.get(pages["today"]).content.decode()
    rows = client.get(pages["task api"]).json()["results"]
    assert any(r["kind"] == "dose" and r["dosing"].get("agent") == SENTINEL_AGENT for r in rows)


# -- 2. worksheet volumes from the batch in use ---------------------------------------------------


def _worksheet_line(html: str, tag: str) -> str:
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*>{re.escape(tag)}<(?:(?!</tr>).)*</tr>", html, re.S)
    assert row is not None, tag
    return row.group(0)


def test_dosers_worksheet_volume_comes_from_the_batch_in_use(dr: DosingRun) -> None:
    # A second cyclophosphamide batch at 8 mg/mL (not the protocol's nominal 10), expiring
    # first, so it is the one in use.
    create_formulation_batch(
        study=dr.design.study,
        agent="cyclophosphamide",
        lot="CP-8",
        concentration_mg_per_ml="8",
        vehicle="0.9 % saline",
        prepared_by=dr.design.doser,
        prepared_at=timezone.now() - dt.timedelta(hours=2),
        expires_at=timezone.now() + dt.timedelta(days=2),
        recorded_by=dr.design.doser,
    )
    animal = dr.animals("G2")[0]
    html = client_for(dr.design.doser).get(_pages(dr)["dosers worksheet"]).content.decode()
    line = _worksheet_line(html, animal.tag)
    # 100 mg/kg × 0.020 kg = 2 mg; 2 mg ÷ 8 mg/mL = 0.25 mL = 250.0 µL (nominal: 200.0 µL)
    assert "250.0" in line and "batch CP-8 at 8 mg/mL" in line, line
    assert "200.0" not in line
    # the dosing list agrees with the worksheet
    row = dosing_row(user=dr.design.doser, task=dr.today_task(animal))
    assert row.batch is not None and row.batch.lot == "CP-8"
    assert row.plan is not None and str(row.plan.volume_ul) == "250.0"


def test_dosers_worksheet_names_a_missing_batch_instead_of_a_volume(dr: DosingRun) -> None:
    from labnotes.models import FormulationBatch

    FormulationBatch.objects.filter(agent="cyclophosphamide").update(
        voided_at=timezone.now(), voided_by=dr.design.doser, void_reason="spilled"
    )
    animal = dr.animals("G2")[0]
    html = client_for(dr.design.doser).get(_pages(dr)["dosers worksheet"]).content.decode()
    line = _worksheet_line(html, animal.tag)
    assert "no usable formulation batch" in line and "(nominal 200.0 µL)" in line, line


# -- 3. re-expanding the schedule keeps held doses held --------------------------------------------


def test_re_expanding_the_schedule_keeps_held_dose_tasks_held(dr: DosingRun) -> None:
    held, other = dr.animals("G2")[:2]
    baseline = dosing.baseline_weight(held)
    assert baseline is not None
    lost = (baseline * Decimal("0.84")).quantize(Decimal("0.01"))
    weigh(held, str(lost), dr.design.technician, reason="weighed again: looks thin")
    apply_dose_modification(
        animal=held, kind="hold", decided_by=dr.design.scientist, reason="16 % weight loss"
    )
    today = lab_today()

    def statuses(animal: Any) -> dict[int, str]:
        return {
            t.occurrence: t.status
            for t in Task.objects.filter(animal=animal, kind=TaskKind.DOSE)
            if t.date >= today
        }

    assert set(statuses(held).values()) == {TaskStatus.SKIPPED}
    result = expand_run_tasks(
        run=dr.run, requested_by=dr.design.scientist, reason="amendment 1: calendar change"
    )
    assert result.removed > 0 and result.created > 0  # the future tasks were rewritten
    after = statuses(held)
    assert after and set(after.values()) == {TaskStatus.SKIPPED}, after
    assert set(statuses(other).values()) == {TaskStatus.DUE}
    row = dosing_row(user=dr.design.doser, task=dr.today_task(held))
    assert row.state is RowState.HELD
