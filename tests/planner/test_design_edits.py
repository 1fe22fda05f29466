"""Editing existing design parts: arms, regimen items, procedures, ethics protocols and the
working calendar — services, pages (409 on a stale save) and the API (412)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pghistory.models
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from planner.models import (
    Arm,
    Closure,
    Holiday,
    Membership,
    RegimenItem,
    Role,
    StudyProcedure,
)
from planner.services import amendments, calendar, design, lifecycle
from planner.services.studies import StaleWrite
from tests.factories import TEST_PASSWORD


def logged_in(user):
    client = Client()
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def _cpa_item(study) -> RegimenItem:
    return RegimenItem.objects.get(
        arm__study=study, arm__label="Cyclophosphamide", agent="cyclophosphamide"
    )


def _reasons(model, pk) -> list[str | None]:
    events = pghistory.models.Events.objects.filter(
        pgh_obj_model=model._meta.label, pgh_obj_id=str(pk), pgh_label="update"
    )
    return [(event.pgh_context or {}).get("reason") for event in events]


# -- services -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_regimen_item_changes_schedule_and_bumps_version_when_draft(draft_design, director):
    item = _cpa_item(draft_design)
    updated = design.update_regimen_item(
        item=item,
        changed_by=director,
        expected_version=item.row_version,
        reason="start one day later",
        schedule="once on day 8",
        window_days=2,
    )
    assert updated.schedule == "once on day 8" and updated.window_days == 2
    assert updated.row_version == item.row_version + 1
    assert "start one day later" in _reasons(RegimenItem, item.pk)


@pytest.mark.django_db
def test_update_regimen_item_refuses_dose_above_route_limit_and_writes_nothing(
    draft_design, director
):
    item = _cpa_item(draft_design)
    with pytest.raises(ValidationError) as error:
        design.update_regimen_item(
            item=item,
            changed_by=director,
            expected_version=item.row_version,
            reason="higher dose",
            dose="300",
        )
    assert "above the IP limit of 20 mL/kg" in error.value.message_dict["dose"][0]
    item.refresh_from_db()
    assert item.dose == Decimal("100") and item.row_version == 1


@pytest.mark.django_db
def test_update_regimen_item_refused_when_stale_or_not_draft(draft_design, director):
    item = _cpa_item(draft_design)
    design.update_regimen_item(
        item=item, changed_by=director, expected_version=1, reason="a", window_days=3
    )
    with pytest.raises(StaleWrite) as stale:
        design.update_regimen_item(
            item=item, changed_by=director, expected_version=1, reason="b", window_days=0
        )
    assert stale.value.current.window_days == 3
    lifecycle.approve_study(study=draft_design, approved_by=director)
    with pytest.raises(ValidationError, match="changes by amendment"):
        design.update_regimen_item(
            item=item, changed_by=director, expected_version=2, reason="c", window_days=0
        )


@pytest.mark.django_db
def test_update_regimen_item_takes_basis_and_route_from_a_new_protocol_version(
    draft_design, director, library
):
    item = RegimenItem.objects.get(
        arm__study=draft_design, arm__label="IL-12", agent="murine IL-12"
    )
    cpa = library["Cyclophosphamide IP 100 mg/kg"]
    updated = design.update_regimen_item(
        item=item,
        changed_by=director,
        expected_version=item.row_version,
        reason="swap agent",
        protocol_version=cpa,
        agent="cyclophosphamide",
        dose="100",
        schedule="once on day 7",
    )
    assert (updated.dose_basis, updated.route) == ("per_kg_own_weight", "IP")


@pytest.mark.django_db
def test_update_arm_refuses_duplicate_label_and_stale_version(draft_design, director):
    arm = Arm.objects.get(study=draft_design, label="IL-12")
    with pytest.raises(ValidationError, match="already has an arm 'Vehicle'"):
        design.update_arm(
            arm=arm, changed_by=director, expected_version=1, reason="r", label="Vehicle"
        )
    design.update_arm(arm=arm, changed_by=director, expected_version=1, reason="r", planned_n=12)
    with pytest.raises(StaleWrite):
        design.update_arm(arm=arm, changed_by=director, expected_version=1, reason="r", planned_n=9)
    assert Arm.objects.get(pk=arm.pk).planned_n == 12


@pytest.mark.django_db
def test_several_sample_collections_allowed_but_other_roles_stay_one_per_design(
    draft_design, director, library
):
    serum = library["Serum at day 10 takedown"]
    tumour = library["Tumour at day 10 takedown, for flow"]
    design.set_procedure(
        study=draft_design, role="sample_collection", protocol_version=serum, changed_by=director
    )
    design.set_procedure(
        study=draft_design, role="sample_collection", protocol_version=tumour, changed_by=director
    )
    # Setting the same version again changes its schedule, it does not add a third row.
    design.set_procedure(
        study=draft_design,
        role="sample_collection",
        protocol_version=tumour,
        schedule="once on day 11",
        changed_by=director,
        reason="takedown a day later",
    )
    rows = StudyProcedure.objects.filter(study=draft_design, role="sample_collection")
    assert sorted(rows.values_list("protocol_version__template__name", "schedule")) == [
        ("Serum at day 10 takedown", ""),
        ("Tumour at day 10 takedown, for flow", "once on day 11"),
    ]
    caliper = StudyProcedure.objects.get(study=draft_design, role="caliper_measurement")
    with pytest.raises(IntegrityError), transaction.atomic():
        StudyProcedure.objects.create(
            study=draft_design,
            role="caliper_measurement",
            protocol_version=caliper.protocol_version,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        StudyProcedure.objects.create(
            study=draft_design, role="sample_collection", protocol_version=serum
        )


@pytest.mark.django_db
def test_amendment_names_one_of_several_sample_collections_by_id(
    draft_design, director, scientist, library
):
    for name in ("Serum at day 10 takedown", "Spleen at day 10 takedown, for flow"):
        design.set_procedure(
            study=draft_design,
            role="sample_collection",
            protocol_version=library[name],
            changed_by=director,
        )
    approved = lifecycle.approve_study(study=draft_design, approved_by=director)
    spleen = StudyProcedure.objects.get(
        study=draft_design, protocol_version=library["Spleen at day 10 takedown, for flow"]
    )
    common = {
        "study": approved,
        "reason": "later takedown",
        "effective_date": dt.date(2025, 3, 1),
        "scope": "runs",
        "ethics_amendment_reference": "ETH-1/A2",
        "proposed_by": scientist,
    }
    with pytest.raises(ValidationError, match="2 'sample_collection' procedures; name the one"):
        amendments.propose_amendment(
            changes={"procedures": [{"role": "sample_collection", "schedule": "once on day 12"}]},
            **common,
        )
    amendment = amendments.propose_amendment(
        changes={"procedures": [{"id": spleen.pk, "schedule": "once on day 12"}]}, **common
    )
    amendments.approve_amendment(amendment=amendment, approved_by=director)
    schedules = dict(
        StudyProcedure.objects.filter(study=draft_design, role="sample_collection").values_list(
            "pk", "schedule"
        )
    )
    assert schedules.pop(spleen.pk) == "once on day 12"
    assert list(schedules.values()) == [""]


@pytest.mark.django_db
def test_veterinarian_is_a_role_the_database_accepts(lab):
    from tests.conftest import _member

    vet = _member(lab, Role.VETERINARIAN)
    assert Membership.objects.get(user=vet, lab=lab).get_role_display() == "Veterinarian"
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(user=vet).update(role="vet")


# -- pages ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_arm_edit_page_saves_with_reason_and_answers_409_with_their_values_when_stale(
    draft_design, director
):
    arm = Arm.objects.get(study=draft_design, label="IL-12")
    client = logged_in(director)
    url = reverse("arm_edit", args=[arm.pk])
    page = client.get(url)
    assert page.status_code == 200 and b'value="IL-12"' in page.content
    form = {"label": "IL-12 IT", "planned_n": 11, "reason": "clearer label", "row_version": 1}
    assert client.post(url, form).status_code == 302
    stale = client.post(url, {**form, "label": "IL-12 alone", "planned_n": 9})
    assert stale.status_code == 409
    text = stale.content.decode()
    assert "Saved meanwhile by someone else" in text and "IL-12 IT" in text and ">11<" in text
    assert 'name="row_version" value="2"' in text
    assert Arm.objects.get(pk=arm.pk).label == "IL-12 IT"
    again = client.post(url, {**form, "label": "IL-12 alone", "row_version": 2})
    assert again.status_code == 302 and Arm.objects.get(pk=arm.pk).label == "IL-12 alone"


@pytest.mark.django_db
def test_regimen_item_edit_page_shows_dose_error_and_409_when_stale(draft_design, director):
    item = _cpa_item(draft_design)
    client = logged_in(director)
    url = reverse("regimen_item_edit", args=[item.pk])
    base = {
        "protocol_version": item.protocol_version_id,
        "agent": "cyclophosphamide",
        "dose": "100",
        "schedule": "once on day 7",
        "window_days": 1,
        "non_working_day_rule": "later",
        "reason": "window",
        "row_version": 1,
    }
    bad = client.post(url, {**base, "dose": "300"})
    assert bad.status_code == 200 and b"above the IP limit of 20 mL/kg" in bad.content
    assert client.post(url, {**base, "window_days": 2}).status_code == 302
    stale = client.post(url, {**base, "window_days": 0})
    assert stale.status_code == 409 and b"Saved meanwhile by someone else" in stale.content
    assert RegimenItem.objects.get(pk=item.pk).window_days == 2


@pytest.mark.django_db
def test_edit_pages_explain_amendments_once_design_is_approved(draft_design, director):
    lifecycle.approve_study(study=draft_design, approved_by=director)
    arm = Arm.objects.get(study=draft_design, label="Vehicle")
    page = logged_in(director).get(reverse("arm_edit", args=[arm.pk]))
    assert b"only a draft design can be changed" in page.content
    assert b"Save arm" not in page.content
    posted = logged_in(director).post(
        reverse("arm_edit", args=[arm.pk]),
        {"label": "X", "planned_n": 3, "reason": "r", "row_version": 1},
    )
    assert "changes by amendment" in posted.content.decode()
    assert Arm.objects.get(pk=arm.pk).label == "Vehicle"


@pytest.mark.django_db
def test_blinded_member_cannot_open_arm_or_item_edit_pages(draft_design, technician):
    from planner.models import StudyMember

    StudyMember.objects.create(study=draft_design, user=technician, unblinded=False)
    client = logged_in(technician)
    arm = Arm.objects.filter(study=draft_design).first()
    assert client.get(reverse("arm_edit", args=[arm.pk])).status_code == 404
    item = RegimenItem.objects.filter(arm=arm).first()
    assert client.get(reverse("regimen_item_edit", args=[item.pk])).status_code == 404


@pytest.mark.django_db
def test_procedure_remove_page_removes_one_sample_collection(draft_design, director, library):
    for name in ("Serum at day 10 takedown", "Tumour at day 10 takedown, for flow"):
        design.set_procedure(
            study=draft_design,
            role="sample_collection",
            protocol_version=library[name],
            changed_by=director,
        )
    tumour = StudyProcedure.objects.get(
        study=draft_design, protocol_version=library["Tumour at day 10 takedown, for flow"]
    )
    response = logged_in(director).post(
        reverse("procedure_remove", args=[tumour.pk]), {"reason": "no flow"}
    )
    assert response.status_code == 302
    assert list(
        StudyProcedure.objects.filter(study=draft_design, role="sample_collection").values_list(
            "protocol_version__template__name", flat=True
        )
    ) == ["Serum at day 10 takedown"]


@pytest.mark.django_db
def test_ethics_edit_page_saves_limits_and_numbers_and_answers_409_when_stale(
    ethics_protocol, director
):
    client = logged_in(director)
    url = reverse("ethics_edit", args=[ethics_protocol.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"BALB/c, moderate, 100" in page.content
    form = {
        "title": "Syngeneic tumours (amended)",
        "approved_on": "2024-01-01",
        "expires_on": "2099-01-01",
        "max_volume_mm3": 1500,
        "max_diameter_mm": 18,
        "max_weight_loss_percent": 20,
        "ulceration_score_limit": 3,
        "approvals": "BALB/c, moderate, 150\nC57BL/6, mild, 40",
        "reason": "committee amendment A1",
        "row_version": 1,
    }
    assert client.post(url, form).status_code == 302
    ethics_protocol.refresh_from_db()
    assert ethics_protocol.endpoint_limits["max_volume_mm3"] == 1500
    assert sorted(ethics_protocol.approvals.values_list("strain", "approved_animals")) == [
        ("BALB/c", 150),
        ("C57BL/6", 40),
    ]
    stale = client.post(url, {**form, "title": "Other"})
    assert stale.status_code == 409 and b"Syngeneic tumours (amended)" in stale.content
    bad = client.post(url, {**form, "row_version": 2, "expires_on": "2023-01-01"})
    assert b"The expiry date must be after the approval date." in bad.content


@pytest.mark.django_db
def test_holiday_and_closure_removed_only_with_reason_by_calendar_editors(lab, director, scientist):
    holiday = calendar.add_holiday(
        lab=lab, day=dt.date(2025, 12, 25), name="Christmas", created_by=director
    )
    closure = calendar.add_closure(
        lab=lab,
        first_day=dt.date(2025, 8, 4),
        last_day=dt.date(2025, 8, 8),
        reason_text="Building maintenance",
        created_by=director,
    )
    page = logged_in(director).get(reverse("calendar_settings"))
    assert b"Reason for removing Christmas" in page.content
    refused = logged_in(scientist).post(
        reverse("holiday_remove", args=[holiday.pk]), {"reason": "x"}, follow=True
    )
    assert b"may change the working calendar" in refused.content
    no_reason = logged_in(director).post(
        reverse("holiday_remove", args=[holiday.pk]), {"reason": ""}, follow=True
    )
    assert b"Give a reason" in no_reason.content and Holiday.objects.filter(pk=holiday.pk).exists()
    client = logged_in(director)
    client.post(reverse("holiday_remove", args=[holiday.pk]), {"reason": "not observed"})
    client.post(reverse("closure_remove", args=[closure.pk]), {"reason": "postponed"})
    assert not Holiday.objects.filter(pk=holiday.pk).exists()
    assert not Closure.objects.filter(pk=closure.pk).exists()
    deleted = pghistory.models.Events.objects.filter(
        pgh_obj_model="planner.Holiday", pgh_obj_id=str(holiday.pk), pgh_label="delete"
    ).get()
    assert deleted.pgh_context["reason"] == "not observed"


# -- API ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_regimen_item_api_patch_needs_if_match_and_refuses_stale_with_412(draft_design, director):
    item = _cpa_item(draft_design)
    api = APIClient()
    api.force_authenticate(director)
    url = reverse("regimen_item-detail", args=[item.pk])
    etag = api.get(url)["ETag"]
    body = {"schedule": "once on day 8", "reason": "later"}
    assert api.patch(url, body, format="json").status_code == 428
    ok = api.patch(url, body, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200, ok.content
    assert ok.json()["schedule"] == "once on day 8" and ok["ETag"] != etag
    assert api.patch(url, body, format="json", HTTP_IF_MATCH=etag).status_code == 412
    bad = api.patch(url, {"dose": "300", "reason": "r"}, format="json", HTTP_IF_MATCH=ok["ETag"])
    assert bad.status_code == 400 and "20 mL/kg" in bad.content.decode()


@pytest.mark.django_db
def test_amendment_page_builds_changes_from_fields_and_puts_errors_beside_them(
    draft_design, director
):
    approved = lifecycle.approve_study(study=draft_design, approved_by=director)
    arm = Arm.objects.get(study=approved, label="IL-12")
    item = _cpa_item(approved)
    client = logged_in(director)
    url = reverse("study_amendments", args=[approved.pk])
    page = client.get(url)
    assert b"New planned n of IL-12" in page.content
    base = {
        "reason": "more animals",
        "effective_date": "2025-03-13",
        "scope": "arms",
        "ethics_amendment_reference": "ETH-1/A3",
    }
    bad = client.post(url, {**base, f"item_{item.pk}_schedule": "every other Funday"})
    text = bad.content.decode()
    assert bad.status_code == 200
    error_block = text.split(f'id="id_item_{item.pk}_schedule_error"')[1].split("</div>")[0]
    assert "Funday" in error_block
    assert not approved.amendments.exists()
    ok = client.post(
        url, {**base, f"arm_{arm.code}_planned_n": "12", "endpoint_max_volume_mm3": "1500"}
    )
    assert ok.status_code == 302
    amendment = approved.amendments.get()
    assert amendment.changes["arms"] == [
        {"code": arm.code, "planned_n": 12, "previous": {"planned_n": 10}}
    ]
    new_limits = amendment.changes["humane_endpoints"]["new"]
    assert new_limits["max_volume_mm3"] == 1500 and new_limits["max_weight_loss_percent"] == 20
