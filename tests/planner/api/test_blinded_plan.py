"""The approved analysis plan's contrasts name arms by label: blinded members never get them
(the design API answers them the plan without contrasts), unblinded members do."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from planner.models import StudyMember
from planner.services import lifecycle

pytestmark = pytest.mark.django_db


def _get(user: Any, study: Any) -> dict[str, Any]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(reverse("study-detail", args=[study.pk]))
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_blinded_member_gets_the_plan_without_contrasts_naming_the_arms(
    draft_design, director, technician
):
    study = lifecycle.approve_study(study=draft_design, approved_by=director)
    assert study.blinded and study.analysis_plan["contrasts"]
    StudyMember.objects.create(study=study, user=technician, unblinded=False)
    blinded = _get(technician, study)
    assert "contrasts" not in blinded["analysis_plan"]
    assert blinded["analysis_plan"]["primary_endpoint"] == study.analysis_plan["primary_endpoint"]
    text = str(blinded)
    for label in study.arms.values_list("label", flat=True):
        assert label not in text, label
    listed = APIClient()
    listed.force_authenticate(technician)
    assert "IL-12" not in str(listed.get(reverse("study-list")).json())
    unblinded = _get(director, study)
    assert unblinded["analysis_plan"]["contrasts"] == study.analysis_plan["contrasts"]
