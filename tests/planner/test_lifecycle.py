"""Study transitions and every refusal of approval."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from planner.models import EthicsProtocol, Study
from planner.services import design, lifecycle, protocols
from planner.services.studies import StaleWrite


def _problems(study, director):
    with pytest.raises(ValidationError) as caught:
        lifecycle.approve_study(study=study, approved_by=director)
    assert Study.objects.get(pk=study.pk).status == "draft"
    return " | ".join(caught.value.messages)


@pytest.mark.django_db
def test_director_approves_and_plans_are_fixed_with_defaults(draft_design, director):
    approved = lifecycle.approve_study(study=draft_design, approved_by=director)
    assert approved.status == "approved" and approved.approved_by == director
    assert approved.survival_definition["time_origin"] == "first_treatment"
    assert approved.analysis_plan["synergy_model"] == "bliss"
    assert approved.row_version == draft_design.row_version + 1


@pytest.mark.django_db
def test_scientist_cannot_approve(draft_design, scientist):
    with pytest.raises(PermissionDenied, match="Study director"):
        lifecycle.approve_study(study=draft_design, approved_by=scientist)


@pytest.mark.django_db
def test_approval_refused_without_control(draft_design, director):
    draft_design.arms.update(is_control=False)
    assert "Mark one arm as the control." in _problems(draft_design, director)


@pytest.mark.django_db
def test_approval_refused_with_fewer_than_two_arms(lab, director, ethics_protocol):
    from planner.services import studies

    study = studies.create_study(
        lab=lab, code="X", title="x", created_by=director, ethics_protocol=ethics_protocol
    )
    design.add_arm(study=study, label="Only", planned_n=5, is_control=True, created_by=director)
    assert "at least two arms" in _problems(study, director)


@pytest.mark.django_db
def test_approval_refused_when_ethics_expired_or_missing(draft_design, director, ethics_protocol):
    EthicsProtocol.objects.filter(pk=ethics_protocol.pk).update(
        approved_on=dt.date(2020, 1, 1), expires_on=dt.date(2021, 1, 1)
    )
    assert "Ethics protocol ETH-1 expired on 2021-01-01." in _problems(draft_design, director)
    Study.objects.filter(pk=draft_design.pk).update(ethics_protocol=None)
    assert "Choose the ethics protocol" in _problems(draft_design, director)


@pytest.mark.django_db
def test_approval_refused_when_a_protocol_version_is_a_draft(draft_design, director, library):
    template = library["Body weight Mon/Wed/Fri"].template
    draft = protocols.new_version(template=template, created_by=director)
    design.set_procedure(
        study=draft_design,
        role="body_weight",
        protocol_version=draft,
        changed_by=director,
        reason="new version",
    )
    assert "Body weight Mon/Wed/Fri v2 is a draft" in _problems(draft_design, director)


@pytest.mark.django_db
def test_approval_refused_when_endpoints_loosened_without_reference(draft_design, director):
    Study.objects.filter(pk=draft_design.pk).update(humane_endpoints={"max_volume_mm3": 3000})
    assert "looser than ethics protocol ETH-1" in _problems(draft_design, director)
    Study.objects.filter(pk=draft_design.pk).update(ethics_amendment_reference="ETH-1/A1")
    assert lifecycle.approve_study(study=draft_design, approved_by=director).status == "approved"


@pytest.mark.django_db
def test_blinded_approval_refused_when_an_arm_lacks_matching_vehicle(draft_design, director):
    vehicle = draft_design.arms.get(label="Vehicle")
    vehicle.regimen_items.filter(route="IP").delete()
    problems = _problems(draft_design, director)
    assert "arm Vehicle" in problems and "lacks 1 IP injection on 'once on day 7'" in problems


@pytest.mark.django_db
def test_full_lifecycle_and_out_of_order_refusals(draft_design, director, technician):
    with pytest.raises(ValidationError, match="Only a approved design"):
        lifecycle.activate_study(study=draft_design, changed_by=director)
    study = lifecycle.approve_study(study=draft_design, approved_by=director)
    with pytest.raises(ValidationError, match="Only a draft design can be approved"):
        lifecycle.approve_study(study=study, approved_by=director)
    with pytest.raises(PermissionDenied):
        lifecycle.activate_study(study=study, changed_by=technician)
    with pytest.raises(StaleWrite):
        lifecycle.activate_study(study=study, changed_by=director, expected_version=1)
    study = lifecycle.activate_study(study=study, changed_by=director)
    with pytest.raises(ValidationError):
        lifecycle.archive_study(study=study, changed_by=director)
    study = lifecycle.complete_study(study=study, changed_by=director)
    study = lifecycle.archive_study(study=study, changed_by=director, reason="published")
    assert study.status == "archived"
