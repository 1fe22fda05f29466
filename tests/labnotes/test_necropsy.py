"""Necropsy records: organ/body weight ratios (hand-derived), validation naming list and row,
one record per animal, corrections with a reason, samples taken, the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from labnotes.models import Necropsy, Sample, Tumour
from labnotes.services.common import StaleWrite
from labnotes.services.necropsy import (
    organ_body_ratios,
    record_necropsy,
    update_necropsy,
    void_necropsy,
)
from labnotes.services.samples import record_sample
from planner.audit.history import history_for
from tests.labnotes.samples_support import SmallRun, end_animal, small_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(lab: Any) -> SmallRun:
    return small_run(lab)


def _ago(**kwargs: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(**kwargs)


def test_organ_body_ratios_match_hand_derived_values() -> None:
    # Body 20.00 g = 20 000 mg. Spleen 100 mg → 100 / 20 000 × 100 = 0.5 %;
    # liver 1 100 mg → 5.5 %; lung 173.4 mg → 0.867 %.
    # Tumours 1 200 + 300 mg → tumour-free body 18 500 mg: spleen 100 / 18 500 × 100
    # = 0.540540… → 0.541 %; liver 1 100 / 18 500 × 100 = 5.945945… → 5.946 %;
    # lung 173.4 / 18 500 × 100 = 0.937297… → 0.937 %.
    ratios = organ_body_ratios(
        organ_weights=[
            {"organ": "spleen", "weight_mg": "100.0"},
            {"organ": "liver", "weight_mg": "1100.0"},
            {"organ": "lung", "weight_mg": "173.4"},
        ],
        terminal_body_weight_g=Decimal("20.00"),
        tumour_weights=[{"weight_mg": "1200.0"}, {"weight_mg": "300.0"}],
    )
    assert [r.percent_of_body_weight for r in ratios] == [
        Decimal("0.500"),
        Decimal("5.500"),
        Decimal("0.867"),
    ]
    assert [r.percent_of_tumour_free_body_weight for r in ratios] == [
        Decimal("0.541"),
        Decimal("5.946"),
        Decimal("0.937"),
    ]


def test_ratios_absent_without_body_weight_and_tumour_free_absent_without_tumours() -> None:
    (without,) = organ_body_ratios(
        organ_weights=[{"organ": "spleen", "weight_mg": "90"}], terminal_body_weight_g=None
    )
    (no_tumours,) = organ_body_ratios(
        organ_weights=[{"organ": "spleen", "weight_mg": "90"}],
        terminal_body_weight_g=Decimal("18.00"),
    )
    assert without.percent_of_body_weight is None
    assert no_tumours.percent_of_body_weight == Decimal("0.500")
    assert no_tumours.percent_of_tumour_free_body_weight is None


def test_necropsy_recorded_with_weights_counts_findings_and_samples(small: SmallRun) -> None:
    animal = end_animal(small.animals[0])
    tumour = Tumour.objects.get(animal=animal)
    spleen = record_sample(
        animal=animal,
        tissue="spleen",
        collected_at=_ago(hours=1),
        collected_by=small.design.technician,
    )
    necropsy = record_necropsy(
        animal=animal,
        performed_at=_ago(hours=1),
        performed_by=small.design.technician,
        terminal_body_weight_g="19.5",
        tumour_weights=[{"tumour": tumour.pk, "weight_mg": "812.25"}],
        organ_weights=[{"organ": "spleen", "weight_mg": "97.5"}],
        metastasis_counts=[{"organ": "lung", "count": "12"}],
        gross_findings=["splenomegaly", "tumour_ulceration"],
        gross_notes="Ulcer 2 mm.",
        samples=[spleen],
    )
    necropsy.refresh_from_db()
    assert necropsy.terminal_body_weight_g == Decimal("19.50")
    assert necropsy.tumour_weights == [
        {"tumour": tumour.pk, "site": "right flank", "weight_mg": "812.3"}
    ]
    assert necropsy.metastasis_counts == [{"organ": "lung", "count": 12}]
    # Stored in the list's order, whatever order they were chosen in.
    assert necropsy.gross_findings == ["tumour_ulceration", "splenomegaly"]
    assert necropsy.study_day == small.design.lab.study_day(small.run.day0, necropsy.performed_at)
    spleen.refresh_from_db()
    assert spleen.necropsy_id == necropsy.pk


def test_bad_rows_are_named_and_nothing_is_written(small: SmallRun) -> None:
    animal = end_animal(small.animals[0])
    with pytest.raises(ValidationError) as refused:
        record_necropsy(
            animal=animal,
            performed_at=_ago(hours=1),
            performed_by=small.design.technician,
            terminal_body_weight_g="19.5",
            organ_weights=[
                {"organ": "spleen", "weight_mg": "100"},
                {"organ": "", "weight_mg": "10"},
                {"organ": "liver", "weight_mg": "-3"},
                {"organ": "Spleen", "weight_mg": "99"},
            ],
            metastasis_counts=[{"organ": "lung", "count": "2.5"}],
            gross_findings=["nad", "ascites"],
        )
    errors = refused.value.message_dict
    assert errors["organ_weights"] == [
        "row 2: name the organ.",
        "row 3 (liver): a weight cannot be negative.",
        "row 4 (Spleen): this organ is listed twice.",
    ]
    assert errors["metastasis_counts"] == ["row 1 (lung): '2.5' is not a count (0 or more)."]
    assert "cannot go with other findings" in errors["gross_findings"][0]
    assert not Necropsy.objects.exists()


def test_necropsy_refused_on_study_twice_and_without_protocol_body_weight(small: SmallRun) -> None:
    animal = small.animals[0]
    with pytest.raises(ValidationError, match="still on study"):
        record_necropsy(
            animal=animal, performed_at=_ago(hours=1), performed_by=small.design.technician
        )
    end_animal(animal)
    with pytest.raises(ValidationError, match="terminal body weight"):
        record_necropsy(
            animal=animal, performed_at=_ago(hours=1), performed_by=small.design.technician
        )
    with pytest.raises(ValidationError, match="Describe the finding"):
        record_necropsy(
            animal=animal,
            performed_at=_ago(hours=1),
            performed_by=small.design.technician,
            terminal_body_weight_g="18",
            gross_findings=["other"],
        )
    record_necropsy(
        animal=animal,
        performed_at=_ago(hours=1),
        performed_by=small.design.technician,
        terminal_body_weight_g="18",
    )
    with pytest.raises(ValidationError, match="has a necropsy record already"):
        record_necropsy(
            animal=animal,
            performed_at=_ago(hours=1),
            performed_by=small.design.technician,
            terminal_body_weight_g="18",
        )
    assert Necropsy.objects.count() == 1


def test_correction_needs_a_reason_keeps_the_old_values_and_refuses_stale_writes(
    small: SmallRun,
) -> None:
    animal = end_animal(small.animals[0])
    necropsy = record_necropsy(
        animal=animal,
        performed_at=_ago(hours=2),
        performed_by=small.design.technician,
        terminal_body_weight_g="18.2",
        organ_weights=[{"organ": "spleen", "weight_mg": "90"}],
    )
    with pytest.raises(ValidationError, match="reason"):
        update_necropsy(
            necropsy=necropsy, changed_by=small.design.technician, reason="", organ_weights=[]
        )
    corrected = update_necropsy(
        necropsy=necropsy,
        changed_by=small.design.technician,
        reason="spleen re-weighed on the calibrated balance",
        expected_version=necropsy.row_version,
        organ_weights=[
            {"organ": "spleen", "weight_mg": "95"},
            {"organ": "liver", "weight_mg": "980"},
        ],
    )
    assert corrected.organ_weights[0] == {"organ": "spleen", "weight_mg": "95.0"}
    assert corrected.terminal_body_weight_g == Decimal("18.20")
    (change,) = [
        entry
        for entry in history_for(corrected)
        if entry.reason and any(item.field == "organ_weights" for item in entry.changes)
    ]
    assert change.reason == "spleen re-weighed on the calibrated balance"
    (organs,) = [item for item in change.changes if item.field == "organ_weights"]
    assert organs.old == [{"organ": "spleen", "weight_mg": "90.0"}]
    with pytest.raises(StaleWrite):
        update_necropsy(
            necropsy=necropsy,
            changed_by=small.design.technician,
            reason="again",
            expected_version=necropsy.row_version,
            gross_notes="x",
        )
    voided = void_necropsy(
        necropsy=corrected, voided_by=small.design.technician, reason="wrong animal"
    )
    assert voided.is_voided
    # A voided record frees the animal for the right one.
    record_necropsy(
        animal=animal,
        performed_at=_ago(hours=1),
        performed_by=small.design.technician,
        terminal_body_weight_g="18.2",
    )
    assert Necropsy.objects.filter(animal=animal).count() == 2


def test_api_returns_ratios_and_names_bad_rows(small: SmallRun) -> None:
    animal = end_animal(small.animals[0])
    client = APIClient()
    client.force_authenticate(small.design.technician)
    bad = client.post(
        reverse("necropsy-list"),
        {
            "animal": animal.pk,
            "performed_at": _ago(hours=1).isoformat(),
            "terminal_body_weight_g": "20",
            "organ_weights": [{"organ": "spleen", "weight_mg": "abc"}],
        },
        format="json",
    )
    assert bad.status_code == 400
    assert "row 1 (spleen)" in bad.content.decode()
    created = client.post(
        reverse("necropsy-list"),
        {
            "animal": animal.pk,
            "performed_at": _ago(hours=1).isoformat(),
            "terminal_body_weight_g": "20",
            "organ_weights": [{"organ": "spleen", "weight_mg": "100"}],
            "metastasis_counts": [{"organ": "lung", "count": 3}],
            "gross_findings": ["nad"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    (ratio,) = created.json()["organ_ratios"]
    assert ratio == {
        "organ": "spleen",
        "weight_mg": "100.0",
        "percent_of_body_weight": "0.500",
        "percent_of_tumour_free_body_weight": None,
    }
    assert Sample.objects.count() == 0
