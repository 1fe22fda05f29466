"""Design services: arms and codes, regimen items against their protocol, endpoints, clone."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from planner.models import Arm, RegimenItem, Study
from planner.services import design, lifecycle, studies


def _arm(study, label="Extra", **kwargs):
    return design.add_arm(
        study=study, label=label, planned_n=5, created_by=study.created_by, **kwargs
    )


def _item(arm, version, **overrides):
    values = {
        "agent": "cyclophosphamide",
        "dose": "100",
        "dose_basis": "per_kg_own_weight",
        "route": "IP",
        "schedule": "once on day 7",
    }
    values.update(overrides)
    return design.add_regimen_item(
        arm=arm, protocol_version=version, created_by=arm.study.created_by, **values
    )


@pytest.mark.django_db
def test_arm_codes_are_distinct_letters_and_shuffle_reassigns_them(draft_design, director):
    codes = set(draft_design.arms.values_list("code", flat=True))
    assert len(codes) == 4 and codes <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    seen = set()
    for _ in range(8):
        design.shuffle_arm_codes(study=draft_design, changed_by=director, reason="reshuffle")
        assignment = tuple(draft_design.arms.order_by("order").values_list("code", flat=True))
        assert set(assignment) == set("ABCD")
        seen.add(assignment)
    assert len(seen) > 1  # 8 draws of 24 permutations all equal: p = 24**-7


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"dose_basis": "fixed_per_animal"}, "dose_basis", "doses per_kg_own_weight"),
        ({"route": "SC"}, "route", "is given IP, not SC"),
        ({"schedule": "BIW×3"}, "schedule", "BIW×3 is ambiguous: write BIW×3wk"),
        ({"schedule": "Q0D×3 from day 7"}, "schedule", ""),
        ({"dose": "300"}, "dose", "above the IP limit of 20 mL/kg"),
        ({"dose": "50"}, "dose", "deliver 100 mg/kg, not 50"),
        ({"dose": "100", "is_vehicle": True}, "dose", "its dose is 0"),
    ],
)
def test_regimen_item_refused_with_message_when_inconsistent_with_protocol(
    draft_design, library, overrides, field, message
):
    arm = _arm(draft_design)
    with pytest.raises(ValidationError) as caught:
        _item(arm, library["Cyclophosphamide IP 100 mg/kg"], **overrides)
    errors = caught.value.message_dict
    assert field in errors, errors
    assert message in errors[field][0]
    assert not RegimenItem.objects.filter(arm=arm).exists()


@pytest.mark.django_db
def test_regimen_item_refused_when_protocol_is_not_dosing(draft_design, library):
    arm = _arm(draft_design)
    with pytest.raises(ValidationError, match="not dosing"):
        _item(arm, library["Body weight Mon/Wed/Fri"])


@pytest.mark.django_db
def test_regimen_schedule_stored_in_normalized_notation(draft_design, library):
    item = _item(
        _arm(draft_design), library["Cyclophosphamide IP 100 mg/kg"], schedule="qdx5 from day 7"
    )
    assert item.schedule == "QD×5 from day 7"


@pytest.mark.django_db
def test_technician_cannot_edit_design(draft_design, technician):
    with pytest.raises(PermissionDenied):
        design.add_arm(study=draft_design, label="X", planned_n=3, created_by=technician)


@pytest.mark.django_db
def test_approved_design_refuses_direct_edits(draft_design, director):
    lifecycle.approve_study(study=draft_design, approved_by=director)
    with pytest.raises(ValidationError, match="changes by amendment"):
        _arm(draft_design)
    arm = draft_design.arms.first()
    with pytest.raises(ValidationError, match="changes by amendment"):
        design.remove_arm(arm=arm, removed_by=director, reason="no")


@pytest.mark.django_db
def test_procedure_refused_when_protocol_kind_differs_from_role(draft_design, library, director):
    with pytest.raises(ValidationError, match="not body_weight"):
        design.set_procedure(
            study=draft_design,
            role="body_weight",
            protocol_version=library["Calipers Mon/Wed/Fri, L x W2 / 2"],
            changed_by=director,
        )


@pytest.mark.django_db
def test_endpoints_looser_than_ethics_refused_without_amendment_reference(draft_design, director):
    looser = {"max_volume_mm3": 2500, "max_weight_loss_percent": 25}
    with pytest.raises(ValidationError) as caught:
        studies.update_study(
            study=draft_design,
            changed_by=director,
            expected_version=draft_design.row_version,
            reason="bigger tumours",
            humane_endpoints=looser,
        )
    message = caught.value.message_dict["humane_endpoints"][0]
    assert "max_volume_mm3: 2500 mm³ is above the approved 2000 mm³" in message
    assert "ethics amendment reference" in message
    updated = studies.update_study(
        study=draft_design,
        changed_by=director,
        expected_version=draft_design.row_version,
        reason="committee allowed it",
        humane_endpoints=looser,
        ethics_amendment_reference="ETH-1/A3",
    )
    assert updated.humane_endpoints["max_volume_mm3"] == 2500


@pytest.mark.django_db
def test_endpoints_tightened_freely(draft_design, director):
    updated = studies.update_study(
        study=draft_design,
        changed_by=director,
        expected_version=draft_design.row_version,
        reason="stricter",
        humane_endpoints={"max_volume_mm3": 1500},
    )
    assert updated.humane_endpoints["max_volume_mm3"] == 1500
    assert updated.humane_endpoints["max_weight_loss_percent"] == 20


@pytest.mark.django_db
def test_rrid_checked_on_study(draft_design, director):
    with pytest.raises(ValidationError) as caught:
        studies.update_study(
            study=draft_design,
            changed_by=director,
            expected_version=draft_design.row_version,
            reason="r",
            cell_line_rrid="CVCL-7256",
        )
    assert "is not a Cellosaurus RRID" in caught.value.message_dict["cell_line_rrid"][0]


@pytest.mark.django_db
def test_analysis_plan_contrast_must_name_an_arm(draft_design, director):
    with pytest.raises(ValidationError) as caught:
        studies.update_study(
            study=draft_design,
            changed_by=director,
            expected_version=draft_design.row_version,
            reason="r",
            analysis_plan={"contrasts": [{"treatment": "IL-99", "reference": "Vehicle"}]},
        )
    assert (
        "'IL-99' is not an arm"
        in caught.value.message_dict["analysis_plan.contrasts[0].treatment"][0]
    )


@pytest.mark.django_db
def test_clone_copies_design_with_new_codes_as_draft(draft_design, director):
    lifecycle.approve_study(study=draft_design, approved_by=director)
    clone = design.clone_study(
        study=draft_design, code="CT26-T2", title="Repeat", created_by=director
    )
    assert clone.status == "draft" and clone.approved_at is None
    assert list(clone.arms.values_list("label", flat=True)) == list(
        draft_design.arms.values_list("label", flat=True)
    )
    assert RegimenItem.objects.filter(arm__study=clone).count() == 8
    assert clone.procedures.count() == draft_design.procedures.count()
    assert Arm.objects.filter(study=clone, satellites__n=3).count() == 4
    assert Study.objects.get(pk=draft_design.pk).status == "approved"
