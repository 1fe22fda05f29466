"""The draft design's edit page sets the survival definition and the analysis plan (issue 4:
both belong to the design and are fixed at approval), with the domain's messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from planner.models import Study, StudyMember
from planner.services import lifecycle
from tests.factories import MembershipFactory, UserFactory
from tests.planner.test_design_pages import logged_in

pytestmark = pytest.mark.django_db


def _post(client: Any, study: Study, **changes: object) -> Any:
    page = client.get(reverse("study_design_edit", args=[study.pk]))
    form = page.context["form"]
    data = {
        name: form[name].value() if form[name].value() is not None else "" for name in form.fields
    }
    data = {
        name: json.dumps(value) if isinstance(value, (dict, list)) else value
        for name, value in data.items()
    }
    data.update({name: str(value) for name, value in changes.items()})
    data["reason"] = "analysis plan agreed"
    return client.post(reverse("study_design_edit", args=[study.pk]), data)


def test_edit_page_saves_the_analysis_plan_and_approval_keeps_it(draft_design, director):
    client = logged_in(director)
    plan = {
        "primary_endpoint": "survival",
        "analysis_day_rule": "fixed_day",
        "analysis_day": 21,
        "contrasts": [{"treatment": "IL-12 + cyclophosphamide", "reference": "Vehicle"}],
        "synergy_model": "hsa",
    }
    survival = {"causes": {"ulceration": "event"}}
    response = _post(
        client,
        draft_design,
        analysis_plan=json.dumps(plan),
        survival_definition=json.dumps(survival),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    study = Study.objects.get(pk=draft_design.pk)
    assert study.analysis_plan["primary_endpoint"] == "survival"
    assert study.analysis_plan["analysis_day"] == 21
    assert study.analysis_plan["contrasts"] == plan["contrasts"]
    assert study.survival_definition["causes"]["ulceration"] == "event"
    approved = lifecycle.approve_study(study=study, approved_by=director)
    assert approved.analysis_plan["synergy_model"] == "hsa"
    assert approved.analysis_plan["contrasts"] == plan["contrasts"]


def test_edit_page_names_the_plan_problem_and_saves_nothing(draft_design, director):
    client = logged_in(director)
    before = Study.objects.get(pk=draft_design.pk).row_version
    response = _post(
        client,
        draft_design,
        analysis_plan=json.dumps(
            {"contrasts": [{"treatment": "No such arm", "reference": "Vehicle"}]}
        ),
    )
    assert response.status_code == 200
    assert "No such arm" in response.content.decode()
    assert Study.objects.get(pk=draft_design.pk).row_version == before


def test_blinded_member_gets_no_analysis_plan_field(draft_design, lab):
    scientist = UserFactory()
    MembershipFactory(user=scientist, lab=lab, role="scientist")
    StudyMember.objects.create(study=draft_design, user=scientist, unblinded=False)
    Study.objects.filter(pk=draft_design.pk).update(blinded=True)
    page = logged_in(scientist).get(reverse("study_design_edit", args=[draft_design.pk]))
    assert page.status_code == 200
    assert "analysis_plan" not in page.context["form"].fields
    assert "IL-12 + cyclophosphamide" not in page.content.decode()
