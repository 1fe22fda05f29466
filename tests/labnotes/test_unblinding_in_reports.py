"""Both kinds of unblinding — the study director's of the study, a veterinarian's emergency
unblinding of one animal — appear in the run's report (and once in a pooled report), with who,
when and why, and never with the arm."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from labnotes.reports.html import records_section
from labnotes.services.blinding import emergency_unblind_animal, unblind_study
from labnotes.services.report_input import (
    ReportOptions,
    build_pooled_report_input,
    snapshot_run,
)
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory
from tests.labnotes.builders import SENTINEL_LABEL
from tests.labnotes.reports.report_run import build_report_run, final_report_input

pytestmark = pytest.mark.django_db


def _vet(lab: Any) -> Any:
    vet = UserFactory()
    MembershipFactory(user=vet, lab=lab, role="veterinarian")
    return vet


def test_report_lists_no_unblinding_when_nobody_unblinded(lab):
    report_run = build_report_run(lab=lab)
    report = final_report_input(report_run, blinded=True)
    assert report.unblindings == ()
    assert "Unblinding" not in records_section(report)


def test_emergency_and_study_unblinding_appear_in_the_report_without_the_arm(lab):
    report_run = build_report_run(lab=lab)
    design, animal = report_run.design, report_run.animals[0]
    vet = _vet(lab)
    emergency_unblind_animal(animal=animal, performed_by=vet, reason="bleeding ulcer: treat")
    blinded = final_report_input(report_run, blinded=True)
    [entry] = blinded.unblindings
    assert entry.text == f"Emergency unblinding of animal {animal.tag}"
    assert (entry.reason, entry.by) == ("bleeding ulcer: treat", vet.get_username())
    assert entry.date == lab.local_date(timezone.now())
    html = records_section(blinded)
    assert "<h3>Unblinding</h3>" in html and "bleeding ulcer: treat" in html
    assert SENTINEL_LABEL not in html and animal.arm.label not in html

    unblind_study(
        study=design.study,
        performed_by=design.director,
        password=TEST_PASSWORD,
        reason="all readings taken",
    )
    unblinded = final_report_input(report_run, blinded=False)
    assert [e.text for e in unblinded.unblindings] == [
        f"Emergency unblinding of animal {animal.tag}",
        "Study unblinded by the study director (password re-entered)",
    ]
    assert unblinded.unblindings[1].by == design.director.get_username()


def test_pooled_report_lists_the_study_unblinding_once_and_each_runs_emergencies(lab):
    first = build_report_run(lab=lab, seed=11)
    second = build_report_run(lab=lab, seed=23, design=first.design, code="RUN-S", days_ago=27)
    vet = _vet(lab)
    emergency_unblind_animal(animal=second.animals[0], performed_by=vet, reason="seizure")
    unblind_study(
        study=first.design.study,
        performed_by=first.design.director,
        password=TEST_PASSWORD,
        reason="all readings taken",
    )
    runs = [first.run, second.run]
    pooled = build_pooled_report_input(
        study=first.design.study,
        runs=runs,
        snapshots=[snapshot_run(run) for run in runs],
        kind="final",
        blinded=False,
        options=ReportOptions(),
        generated_by="t",
        generated_at=timezone.now(),
        bootstrap_resamples=20,
    )
    assert sorted(e.text for e in pooled.unblindings) == [
        f"RUN-S: Emergency unblinding of animal {second.animals[0].tag}",
        "Study unblinded by the study director (password re-entered)",
    ]
