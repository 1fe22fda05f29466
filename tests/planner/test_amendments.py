"""Amendments: numbered, ethics reference when required, approved by the study director,
applied to the design, and regenerating only tasks from the effective date on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from planner.models import RegimenItem, Study
from planner.services import amendments, lifecycle

EFFECTIVE = dt.date(2025, 3, 13)
DAY0 = dt.date(2025, 3, 3)


@pytest.fixture
def approved(draft_design, director):
    return lifecycle.approve_study(study=draft_design, approved_by=director)


def _il12(study):
    return RegimenItem.objects.filter(arm__study=study, agent="murine IL-12").first()


@pytest.mark.django_db
def test_amendment_refused_for_draft(draft_design, scientist):
    with pytest.raises(ValidationError, match="Only an approved or active design"):
        amendments.propose_amendment(
            study=draft_design,
            reason="r",
            effective_date=EFFECTIVE,
            scope="runs",
            changes={"arms": []},
            proposed_by=scientist,
        )


@pytest.mark.django_db
def test_endpoint_or_number_change_needs_ethics_reference(approved, scientist):
    code = approved.arms.first().code
    for changes in (
        {"humane_endpoints": {"max_volume_mm3": 1500}},
        {"arms": [{"code": code, "planned_n": 12}]},
    ):
        with pytest.raises(ValidationError) as caught:
            amendments.propose_amendment(
                study=approved,
                reason="r",
                effective_date=EFFECTIVE,
                scope="arms",
                changes=changes,
                proposed_by=scientist,
            )
        assert "ethics_amendment_reference" in caught.value.message_dict


@pytest.mark.django_db
def test_amendments_numbered_and_applied_only_when_director_approves(approved, scientist, director):
    item = _il12(approved)
    first = amendments.propose_amendment(
        study=approved,
        reason="IL-12 supply delayed one day",
        effective_date=EFFECTIVE,
        scope="runs",
        changes={"regimen_items": [{"id": item.pk, "schedule": "8,11,14"}]},
        proposed_by=scientist,
    )
    second = amendments.propose_amendment(
        study=approved,
        reason="more animals",
        effective_date=EFFECTIVE,
        scope="arms",
        changes={"arms": [{"code": item.arm.code, "planned_n": 12}]},
        proposed_by=scientist,
        ethics_amendment_reference="ETH-1/A2",
    )
    assert (first.number, second.number) == (1, 2)
    assert first.changes["regimen_items"][0]["previous"] == {"schedule": "7,10,13"}
    item.refresh_from_db()
    assert item.schedule == "7,10,13"
    with pytest.raises(PermissionDenied):
        amendments.approve_amendment(amendment=first, approved_by=scientist)
    amendments.approve_amendment(amendment=first, approved_by=director)
    item.refresh_from_db()
    assert item.schedule == "8,11,14"
    amendments.reject_amendment(amendment=second, rejected_by=director, reason="not needed")
    assert item.arm.__class__.objects.get(pk=item.arm.pk).planned_n == 10
    with pytest.raises(ValidationError, match="already approved"):
        amendments.approve_amendment(amendment=first, approved_by=director)


@pytest.mark.django_db
def test_planned_changes_leave_occurrences_before_effective_date(approved, scientist, director):
    item = _il12(approved)
    amendment = amendments.propose_amendment(
        study=approved,
        reason="shift",
        effective_date=EFFECTIVE,
        scope="runs",
        changes={"regimen_items": [{"id": item.pk, "schedule": "7,11,14"}]},
        proposed_by=scientist,
    )
    amendments.approve_amendment(amendment=amendment, approved_by=director)
    changes = amendments.planned_changes(amendment=amendment, day0=DAY0, last_study_day=28)
    effect = changes[f"regimen_item:{item.pk}"]
    assert [o.study_day for o in effect.kept_before] == [7]  # 10 Mar, before 13 Mar
    assert [o.study_day for o in effect.cancelled] == [10, 13]
    assert [o.study_day for o in effect.added] == [11, 14]
    assert Study.objects.get(pk=approved.pk).status == "approved"
