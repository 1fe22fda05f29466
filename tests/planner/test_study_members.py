"""Study members through the study page and the API: who is blinded, who may dose. Once a
blinded design is approved only a study director unblinds a member; changes need a reason."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from planner.models import StudyMember
from planner.services import lifecycle
from tests.conftest import _member
from tests.planner.test_design_pages import logged_in

pytestmark = pytest.mark.django_db


def _post(client: Any, study: Any, user: Any, **values: object) -> Any:
    data: dict[str, object] = {"member-user": user.pk}
    data.update({f"member-{name}": value for name, value in values.items()})
    return client.post(reverse("study_set_member", args=[study.pk]), data, follow=True)


def _state(study: Any, user: Any) -> tuple[bool, bool] | None:
    member = StudyMember.objects.filter(study=study, user=user).first()
    return None if member is None else (member.unblinded, member.can_dose)


def test_page_adds_a_blinded_technician_and_a_doser_and_lists_them(
    draft_design, director, technician, lab
):
    doser = _member(lab, "technician")
    client = logged_in(director)
    page = _post(client, draft_design, technician).content.decode()
    assert f"{technician.username}: blinded." in page
    page = _post(client, draft_design, doser, can_dose="on").content.decode()
    assert f"{doser.username}: blinded, may dose." in page
    assert _state(draft_design, technician) == (False, False)
    assert _state(draft_design, doser) == (False, True)
    assert "Members of CT26-T" in page and "May dose" in page


def test_technician_cannot_manage_members_and_sees_no_form(draft_design, technician, lab):
    other = _member(lab, "technician")
    client = logged_in(technician)
    page = client.get(reverse("study_detail", args=[draft_design.pk])).content.decode()
    assert "Save member" not in page
    _post(client, draft_design, other, unblinded="on")
    assert _state(draft_design, other) is None


def test_only_a_director_unblinds_a_member_once_a_blinded_design_is_approved(
    draft_design, director, scientist, technician
):
    study = lifecycle.approve_study(study=draft_design, approved_by=director)
    assert study.blinded
    page = _post(logged_in(scientist), study, technician, unblinded="on").content.decode()
    assert "may unblind a member of an approved blinded study" in page
    assert _state(study, technician) is None
    _post(logged_in(scientist), study, technician)  # blinded: a scientist may add them
    assert _state(study, technician) == (False, False)
    page = _post(logged_in(director), study, technician, unblinded="on").content.decode()
    assert "reason" in page.lower()  # changing an existing member needs a reason
    assert _state(study, technician) == (False, False)
    _post(logged_in(director), study, technician, unblinded="on", reason="analysis")
    assert _state(study, technician) == (True, False)


def test_api_lists_and_sets_members_and_refuses_a_user_of_another_lab(
    draft_design, director, technician, outsider
):
    api = APIClient()
    api.force_authenticate(director)
    url = reverse("study-members", args=[draft_design.pk])
    added = api.post(url, {"user": technician.pk, "can_dose": True}, format="json")
    assert added.status_code == 200, added.content
    assert added.json() == {
        "user": technician.pk,
        "username": technician.username,
        "unblinded": False,
        "can_dose": True,
    }
    listed = api.get(url).json()
    assert {m["username"]: m["can_dose"] for m in listed}[technician.username] is True
    foreign = api.post(url, {"user": outsider.pk}, format="json")
    assert foreign.status_code == 400 and "user" in foreign.content.decode()
    assert _state(draft_design, outsider) is None
