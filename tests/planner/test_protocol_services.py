"""Protocol library services: every kind's parameters valid and invalid, versions, release."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from planner.demo import DEMO_LIBRARY
from planner.models import ProtocolTemplate, ProtocolVersion
from planner.services import protocols

BY_KIND = {kind: (name, params) for name, (kind, params) in reversed(DEMO_LIBRARY.items())}


def _mutated(kind, change):
    kind, _, name = kind.partition(":")
    params = DEMO_LIBRARY[name][1] if name else BY_KIND[kind][1]
    data = copy.deepcopy(params)
    change(data)
    return data


INVALID = [
    (
        "implantation",
        lambda d: d["cell_line"].update(rrid="CT26"),
        "cell_line.rrid",
        "is not a Cellosaurus RRID",
    ),
    ("implantation", lambda d: d.update(sites=["a", "b", "c"]), "sites", "at most two sites"),
    (
        "randomization",
        lambda d: d.update(eligible_volume_max_mm3=50),
        "eligible_volume_max_mm3",
        "must be greater than eligible_volume_min_mm3",
    ),
    (
        "dosing:Cyclophosphamide IP 100 mg/kg",
        lambda d: d.update(volume_ml_per_kg=30, dose_mg_per_kg=300),
        "volume_ml_per_kg",
        "above the limit of 20 mL/kg for IP",
    ),
    ("dosing", lambda d: d.update(volume_ml_per_kg=5), "volume_ul", "not both"),
    ("dosing", lambda d: d.update(route="IP"), "dose_basis", "given intratumorally"),
    ("dosing", lambda d: d.update(dose_ug=2), "dose_ug", "gives 1 µg, not 2 µg"),
    ("caliper_measurement", lambda d: d.update(schedule="Mon/Funday"), "schedule", "Funday"),
    ("body_weight", lambda d: d.update(baseline="yesterday"), "baseline", "yesterday"),
    (
        "clinical_observation",
        lambda d: d["items"][0].update(
            levels=[{"score": 1, "description": "a"}, {"score": 2, "description": "b"}]
        ),
        "items[0].levels",
        "scores must run 0, 1, 2",
    ),
    (
        "humane_endpoints",
        lambda d: d.update(max_weight_loss_percent=120),
        "max_weight_loss_percent",
        "100",
    ),
    ("sample_collection", lambda d: d.pop("study_day"), "study_day", "required"),
    (
        "necropsy",
        lambda d: d.update(
            terminal_body_weight=False,
            tumour_weights=False,
            organ_weights=[],
            metastasis_count_organs=[],
            gross_findings=False,
        ),
        "__all__",
        "records nothing",
    ),
    (
        "elisa",
        lambda d: d.update(standard_points=4),
        "standard_points",
        "needs at least 5 standard points",
    ),
    (
        "flow_panel",
        lambda d: d["populations"].append("Live/CD99+"),
        "populations[5]",
        "'CD99' is not a marker of this panel",
    ),
    ("flow_panel", lambda d: d.update(volume_ml=3), "volume_ml", "is not a parameter"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(BY_KIND))
def test_create_template_stores_normalized_parameters_when_valid(kind, lab, scientist):
    name, params = BY_KIND[kind]
    version = protocols.create_template(
        lab=lab, name=name, kind=kind, parameters=params, created_by=scientist
    )
    assert version.number == 1 and version.status == "draft"
    assert version.template.kind == kind
    assert version.parameters == protocols.validated_parameters(kind, version.parameters)


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "change", "field", "message"), INVALID)
def test_create_template_names_field_and_reason_when_invalid(
    kind, change, field, message, lab, scientist
):
    with pytest.raises(ValidationError) as caught:
        protocols.create_template(
            lab=lab,
            name="Broken",
            kind=kind.partition(":")[0],
            parameters=_mutated(kind, change),
            created_by=scientist,
        )
    errors = caught.value.message_dict
    assert field in errors, errors
    assert any(message in text for text in errors[field]), errors[field]
    assert not ProtocolTemplate.objects.filter(name="Broken").exists()


@pytest.mark.django_db
def test_technician_cannot_create_templates(lab, technician):
    name, params = BY_KIND["body_weight"]
    with pytest.raises(PermissionDenied):
        protocols.create_template(
            lab=lab, name=name, kind="body_weight", parameters=params, created_by=technician
        )


@pytest.fixture
def released(lab, scientist):
    name, params = BY_KIND["caliper_measurement"]
    version = protocols.create_template(
        lab=lab, name=name, kind="caliper_measurement", parameters=params, created_by=scientist
    )
    return protocols.release_version(version=version, released_by=scientist)


@pytest.mark.django_db
def test_database_refuses_update_and_delete_of_released_version(released):
    for statement in (
        "UPDATE planner_protocolversion SET parameters = '{}'::jsonb WHERE id = %s",
        "DELETE FROM planner_protocolversion WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [released.pk])
    released.refresh_from_db()
    assert released.parameters["schedule"] == "Mon/Wed/Fri"


@pytest.mark.django_db
def test_update_draft_refused_when_version_released(released, scientist):
    with pytest.raises(ValidationError, match="released and cannot change; create version 2"):
        protocols.update_draft(
            version=released,
            parameters=released.parameters,
            changed_by=scientist,
            expected_version=released.row_version,
            reason="r",
        )


@pytest.mark.django_db
def test_new_version_copies_latest_and_diff_lists_changes(released, scientist):
    draft = protocols.new_version(template=released.template, created_by=scientist)
    assert (draft.number, draft.status) == (2, "draft")
    assert draft.parameters == released.parameters
    changed = dict(draft.parameters, schedule="Tue/Fri")
    draft = protocols.update_draft(
        version=draft,
        parameters=changed,
        changed_by=scientist,
        expected_version=draft.row_version,
        reason="facility rota changed",
    )
    changes = protocols.diff_versions(old=released, new=draft)
    assert [(c.field, c.old, c.new) for c in changes] == [("schedule", "Mon/Wed/Fri", "Tue/Fri")]
    with pytest.raises(ValidationError, match="still a draft"):
        protocols.new_version(template=released.template, created_by=scientist)


@pytest.mark.django_db
def test_update_draft_refuses_stale_version_and_requires_reason(released, scientist):
    draft = protocols.new_version(template=released.template, created_by=scientist)
    params = dict(draft.parameters, schedule="Tue/Fri")
    with pytest.raises(ValidationError) as caught:
        protocols.update_draft(
            version=draft,
            parameters=params,
            changed_by=scientist,
            expected_version=draft.row_version,
            reason="",
        )
    assert "reason" in caught.value.message_dict
    protocols.update_draft(
        version=draft,
        parameters=params,
        changed_by=scientist,
        expected_version=draft.row_version,
        reason="first",
    )
    with pytest.raises(protocols.StaleVersion):
        protocols.update_draft(
            version=draft,
            parameters=dict(params, schedule="Mon/Thu"),
            changed_by=scientist,
            expected_version=draft.row_version,
            reason="second",
        )


@pytest.mark.django_db
def test_clone_and_retire(released, scientist):
    clone = protocols.clone_template(
        template=released.template, name="Calipers copy", created_by=scientist
    )
    assert clone.template.pk != released.template.pk
    assert (clone.number, clone.status, clone.parameters) == (1, "draft", released.parameters)
    retired = protocols.retire_template(
        template=released.template, retired_by=scientist, reason="superseded"
    )
    assert retired.retired_at is not None
    with pytest.raises(ValidationError, match="retired"):
        protocols.new_version(template=retired, created_by=scientist)
    assert ProtocolVersion.objects.filter(template=retired).count() == 1
