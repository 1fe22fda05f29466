"""The demo library and designs: built by the services, approved, and idempotent."""

from __future__ import annotations

import pytest

from planner.demo import load_demo
from planner.models import ProtocolTemplate, RegimenItem, SatelliteCohort


@pytest.mark.django_db
def test_demo_loads_approved_ct26_and_4t1_designs_and_reloads_without_duplicates():
    first = load_demo()
    ct26, variant = first["study"], first["variant"]
    assert ct26.status == "approved" and variant.status == "approved"
    assert ct26.blinded and ct26.approved_by.username == "director"
    assert sorted(ct26.arms.values_list("label", flat=True)) == [
        "Cyclophosphamide",
        "IL-12",
        "IL-12 + cyclophosphamide",
        "Vehicle",
    ]
    assert set(
        SatelliteCohort.objects.filter(arm__study=ct26).values_list("n", "takedown_study_day")
    ) == {(3, 10)}
    assert RegimenItem.objects.filter(arm__study=ct26, is_vehicle=True).count() == 4
    assert ct26.procedures.get(role="caliper_measurement").schedule == "Mon/Wed/Fri"
    assert ct26.humane_endpoints["max_volume_mm3"] == 2000
    members = {m.user.username: (m.unblinded, m.can_dose) for m in ct26.members.all()}
    assert members["director"] == (True, False)
    assert members["tech_measure"] == (False, False)
    assert members["tech_dose"] == (False, True)
    sampling = ct26.procedures.filter(role="sample_collection")
    assert sorted(p.protocol_version.parameters["tissue"] for p in sampling) == [
        "serum",
        "spleen",
        "tumour",
    ]
    assert {p.protocol_version.parameters["study_day"] for p in sampling} == {10}
    assert first["users"]["vet"].memberships.get().role == "veterinarian"
    necropsy = variant.procedures.get(role="necropsy").protocol_version.parameters
    assert necropsy["metastasis_count_organs"] == ["lung"]
    templates = ProtocolTemplate.objects.count()
    load_demo()
    assert ProtocolTemplate.objects.count() == templates
    assert ct26.arms.count() == 4 and RegimenItem.objects.filter(arm__study=ct26).count() == 8
