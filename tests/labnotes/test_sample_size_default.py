"""The sample-size helper's default SD of log volume comes from the lab's past control arms
(a labnotes selector the planner reaches through its registry, never by import)."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from labnotes.models import Measurement
from labnotes.selectors_sample_size import default_sd_log
from labnotes.services.blinding import unblind_study
from labnotes.services.measurements import record_measurement, void_measurement
from labnotes.services.randomization import apply_randomization, preview_randomization
from labnotes.services.runs import start_study_run
from planner.preview import default_sd_log as planner_default
from tests.factories import TEST_PASSWORD
from tests.labnotes.builders import build_design
from tests.labnotes.conftest import stage
from tests.labnotes.test_run_pages import client_for

pytestmark = pytest.mark.django_db


def _randomized_run(lab: Any, *, blinded: bool) -> tuple[Any, Any]:
    design = build_design(lab=lab, blinded=blinded)
    run = start_study_run(
        study=design.study,
        code="RUN-1",
        day0=timezone.localdate() - dt.timedelta(days=10),
        started_by=design.director,
    )
    stage(design, run, 40)
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=5, candidates=50)
    apply_randomization(batch=batch, applied_by=design.scientist)
    return design, run


def _control_readings(run: Any) -> list[Measurement]:
    return list(
        Measurement.objects.filter(
            animal__run=run, animal__arm__is_control=True, kind="caliper", voided_at__isnull=True
        ).order_by("animal__tag", "study_day")
    )


def test_default_sd_is_the_control_arms_sd_of_log_volume_on_its_last_complete_day(lab):
    design, run = _randomized_run(lab, blinded=False)
    readings = _control_readings(run)
    assert len(readings) == 10 and {r.study_day for r in readings} == {10}
    expected = statistics.stdev(math.log(float(r.volume_mm3)) for r in readings)
    found = default_sd_log(lab)
    assert found is not None
    assert found[0] == pytest.approx(expected, abs=0.0005)
    assert "1 past control arm " in found[1] and "RUN-1 arm G1: n = 10, day 10" in found[1]
    # The planner finds it through the registry labnotes filled at start-up.
    assert planner_default(lab) == found
    # The helper's page offers it and says where it came from.
    page = client_for(design.scientist).get(reverse("sample_size")).content.decode()
    assert f'value="{found[0]}"' in page and "The SD shown comes from the lab&#x27;s" in page


def test_an_animal_missing_on_the_last_day_moves_the_arm_to_its_last_complete_day(lab):
    design, run = _randomized_run(lab, blinded=False)
    day10 = _control_readings(run)
    earlier = timezone.now() - dt.timedelta(days=1, hours=2)  # study day 9
    for index, reading in enumerate(day10):
        record_measurement(
            tumour=reading.tumour,
            length_mm=6 + index * 0.25,
            width_mm=4.5,
            taken_at=earlier,
            operator=design.technician,
        )
    void_measurement(measurement=day10[0], voided_by=design.scientist, reason="wrong animal")
    day9 = [r for r in _control_readings(run) if r.study_day == 9]
    assert len(day9) == 10
    expected = statistics.stdev(math.log(float(r.volume_mm3)) for r in day9)
    found = default_sd_log(lab)
    assert found is not None and found[0] == pytest.approx(expected, abs=0.0005)
    assert "n = 10, day 9" in found[1]


def test_blinded_study_contributes_only_once_unblinded(lab):
    design, _run = _randomized_run(lab, blinded=True)
    assert default_sd_log(lab) is None
    page = client_for(design.technician).get(reverse("sample_size")).content.decode()
    assert "comes from" not in page
    unblind_study(
        study=design.study,
        performed_by=design.director,
        password=TEST_PASSWORD,
        reason="last measurement done",
    )
    assert default_sd_log(lab) is not None


def test_arms_with_fewer_than_three_measured_animals_give_no_default(lab):
    design, run = _randomized_run(lab, blinded=False)
    for reading in _control_readings(run)[2:]:
        void_measurement(measurement=reading, voided_by=design.scientist, reason="wrong animal")
    assert len(_control_readings(run)) == 2
    assert default_sd_log(lab) is None
