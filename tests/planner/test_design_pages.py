"""The design pages render for each role and drive the services (Django test client)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from planner.models import Arm, RegimenItem, StudyMember
from tests.factories import TEST_PASSWORD


def logged_in(user):
    client = Client()
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


@pytest.mark.django_db
def test_pages_render_for_director(draft_design, director, library):
    client = logged_in(director)
    version = library["IL-12 IT 1 ug in 20 uL"]
    for url in [
        reverse("study_list"),
        reverse("study_detail", args=[draft_design.pk]),
        reverse("study_design_edit", args=[draft_design.pk]),
        reverse("study_preview", args=[draft_design.pk]) + "?day0=2025-03-03&last_day=14"
        "&randomization_day=7",
        reverse("study_amendments", args=[draft_design.pk]),
        reverse("protocol_list"),
        reverse("protocol_detail", args=[version.template_id]),
        reverse("protocol_create"),
        reverse("ethics_list"),
        reverse("calendar_settings"),
        reverse("sample_size") + "?contrast=interaction&treated_to_control_ratio=0.5&sd_log=0.5"
        "&alpha=0.05&power=0.8&attrition_fraction=0.1",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    score_sheet = library["Clinical score sheet with ulceration"]
    detail = client.get(reverse("protocol_detail", args=[score_sheet.template_id]))
    assert detail.status_code == 200 and b"Activity" in detail.content
    preview = client.get(
        reverse("study_preview", args=[draft_design.pk]),
        {"day0": "2025-03-03", "last_day": 14, "randomization_day": 7},
    )
    assert b"moved from Sun 16 Mar to Mon 17 Mar" in preview.content
    size = client.get(
        reverse("sample_size"),
        {
            "contrast": "interaction",
            "treated_to_control_ratio": 0.5,
            "sd_log": 0.5,
            "alpha": 0.05,
            "power": 0.8,
            "attrition_fraction": 0.1,
        },
    )
    assert b"Enrol" in size.content and b"Chow, Shao" in size.content


@pytest.mark.django_db
def test_htmx_add_arm_and_regimen_item_returns_design_fragment(draft_design, director, library):
    client = logged_in(director)
    response = client.post(
        reverse("study_add_arm", args=[draft_design.pk]),
        {"arm-label": "Extra", "arm-planned_n": 5},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"<html" not in response.content and b"Extra" in response.content
    arm = Arm.objects.get(study=draft_design, label="Extra")
    version = library["Cyclophosphamide IP 100 mg/kg"]
    bad = client.post(
        reverse("arm_add_regimen_item", args=[arm.pk]),
        {
            f"item-{arm.pk}-protocol_version": version.pk,
            f"item-{arm.pk}-agent": "CPA",
            f"item-{arm.pk}-dose": "300",
            f"item-{arm.pk}-schedule": "once on day 7",
            f"item-{arm.pk}-window_days": 1,
            f"item-{arm.pk}-non_working_day_rule": "later",
        },
        HTTP_HX_REQUEST="true",
    )
    assert b"above the IP limit of 20 mL/kg" in bad.content
    assert not RegimenItem.objects.filter(arm=arm).exists()


@pytest.mark.django_db
def test_blinded_member_sees_codes_not_labels_on_study_page(draft_design, technician):
    StudyMember.objects.create(study=draft_design, user=technician, unblinded=False)
    page = logged_in(technician).get(reverse("study_detail", args=[draft_design.pk]))
    assert page.status_code == 200
    for secret in (b"IL-12 + cyclophosphamide", b"murine IL-12", b"Vehicle (saline)"):
        assert secret not in page.content
    assert b"Add arm" not in page.content or b"Approve design" not in page.content


@pytest.mark.django_db
def test_scientist_cannot_approve_through_page(draft_design, scientist):
    client = logged_in(scientist)
    response = client.post(
        reverse("study_transition", args=[draft_design.pk, "approve"]), follow=True
    )
    assert b"Only Study director may approve study designs." in response.content
    draft_design.refresh_from_db()
    assert draft_design.status == "draft"
