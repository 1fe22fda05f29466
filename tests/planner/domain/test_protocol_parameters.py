# ruff: noqa: RUF001 - real analyte names (IFN-gamma) and the schedule notation (QD-times-5).
"""Protocol parameters: for every kind a valid example, and each invalid field with its message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from planner.domain.errors import ParameterErrors
from planner.domain.protocol_parameters import (
    DEFAULT_ROUTE_VOLUME_LIMITS_ML_PER_KG,
    KIND_CHOICES,
    PARAMETER_CLASSES,
    CellLine,
    DosingParameters,
    ElisaParameters,
    EscalationAction,
    EscalationRule,
    FlowMarker,
    FlowPanelParameters,
    HumaneEndpoints,
    ImplantationParameters,
    ImplantationRoute,
    ParameterChange,
    ProtocolKind,
    diff_parameters,
    endpoint_limits_loosened,
    parse_parameters,
)
from planner.domain.schedule_notation import parse_schedule

REMOVE = object()
UNKNOWN = "is not a parameter of this protocol (check the spelling and the unit in the name)"

VALID: dict[str, dict[str, Any]] = {
    "implantation": {
        "cell_line": {"name": "CT26.WT", "rrid": "CVCL_7254", "host_strain": "BALB/c"},
        "cells_per_site": 1_000_000,
        "vehicle": "PBS",
        "volume_ul": 100,
        "sites": ["right flank"],
        "route": "SC",
        "viability_min_percent": 90,
        "passage_limit": 15,
    },
    "randomization": {
        "eligible_volume_min_mm3": 80,
        "eligible_volume_max_mm3": 120,
        "method": "stratified_volume",
        "cage_constraint": "mixed_cages",
        "max_batches": 2,
    },
    "dosing": {
        "agent": "Cyclophosphamide",
        "vehicle": "0.9 % saline",
        "concentration_mg_per_ml": 10,
        "dose_basis": "per_kg_own_weight",
        "dose_mg_per_kg": 100,
        "volume_ml_per_kg": 10,
        "route": "IP",
        "hold_at_weight_loss_percent": 15,
        "resume_below_weight_loss_percent": 10,
        "reduced_dose_percent": 50,
    },
    "caliper_measurement": {
        "schedule": "Mon/Wed/Fri",
        "formula": "half_length_width_squared",
        "entry_order": ["length", "width"],
    },
    "body_weight": {
        "schedule": "Mon/Wed/Fri",
        "baseline": "randomization",
        "tumour_corrected": True,
    },
    "clinical_observation": {
        "schedule": "Mon/Wed/Fri from day 7",
        "items": [
            {
                "name": "posture",
                "levels": [
                    {"score": 0, "description": "normal"},
                    {"score": 1, "description": "slightly hunched"},
                    {"score": 2, "description": "hunched, reluctant to move"},
                ],
                "endpoint_score": 2,
            },
            {
                "name": "activity",
                "levels": [
                    {"score": 0, "description": "normal"},
                    {"score": 1, "description": "reduced"},
                ],
            },
        ],
        "total_score_limit": 3,
        "escalation_rules": [
            {"item": "ulceration", "at_score": 1, "action": "daily_checks"},
            {"item": "ulceration", "at_score": 3, "action": "endpoint"},
            {"item": "posture", "at_score": 1, "action": "veterinary_review"},
        ],
    },
    "humane_endpoints": {
        "max_volume_mm3": 1500,
        "max_total_volume_mm3": 2000,
        "max_diameter_mm": 15,
        "max_weight_loss_percent": 15,
        "ulceration_score_limit": 2,
        "clinical_score_limit": 3,
    },
    "sample_collection": {
        "tissue": "serum",
        "timing": "fixed_day",
        "study_day": 10,
        "volume_ul": 100,
        "processing": "clot 30 min at room temperature, 2000 g 10 min, serum at -80 °C",
        "label_fields": ["barcode", "animal_tag", "study_day"],
    },
    "necropsy": {
        "terminal_body_weight": True,
        "tumour_weights": True,
        "organ_weights": ["spleen", "liver"],
        "metastasis_count_organs": ["lung"],
        "gross_findings": True,
    },
    "elisa": {
        "analyte": "IFN-γ",
        "kit": "BioLegend ELISA MAX Deluxe Mouse IFN-γ (430804)",
        "standard_top_pg_per_ml": 1000,
        "standard_dilution_factor": 2,
        "standard_points": 7,
        "sample_dilutions": [1, 4],
        "replicates": 2,
        "curve_model": "4pl",
    },
    "flow_panel": {
        "markers": [
            {"marker": "CD45", "fluorochrome": "BV510", "clone": "30-F11"},
            {"marker": "CD3", "fluorochrome": "FITC", "clone": "17A2"},
            {"marker": "CD4", "fluorochrome": "BV421", "clone": "GK1.5"},
            {"marker": "CD8", "fluorochrome": "PerCP-Cy5.5", "clone": "53-6.7"},
            {"marker": "CD25", "fluorochrome": "PE", "clone": "PC61"},
            {"marker": "Foxp3", "fluorochrome": "APC", "clone": "FJK-16s"},
        ],
        "viability_dye": "Zombie NIR",
        "populations": [
            "Live/CD45+",
            "Live/CD45+/CD3+",
            "Live/CD45+/CD3+/CD4+",
            "Live/CD45+/CD3+/CD8+",
            "Live/CD45+/CD3+/CD4+/CD25+Foxp3+",
            "Singlets/Zombie NIR-/CD45+/CD3-",
        ],
        "statistics": ["count", "frequency_of_parent"],
    },
}

IL12_DOSING: dict[str, Any] = {
    "agent": "IL-12",
    "vehicle": "PBS",
    "concentration_mg_per_ml": 0.05,
    "dose_basis": "fixed_per_tumour",
    "dose_ug": 1,
    "volume_ul": 20,
    "route": "IT",
    "skip_when_tumour_not_palpable": True,
}


def with_changes(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(base)
    for key, value in changes.items():
        if value is REMOVE:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def errors_of(kind: str, data: Mapping[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ParameterErrors) as caught:
        parse_parameters(kind, data)
    return caught.value.errors


def test_kind_choices_cover_every_kind_when_listed() -> None:
    assert [value for value, _ in KIND_CHOICES] == [kind.value for kind in ProtocolKind]
    assert set(PARAMETER_CLASSES) == set(ProtocolKind)
    assert set(VALID) == {kind.value for kind in ProtocolKind}


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_example_parses_and_round_trips_when_stored_and_read_back(kind: str) -> None:
    parameters = parse_parameters(kind, VALID[kind])
    assert type(parameters) is PARAMETER_CLASSES[ProtocolKind(kind)]
    assert parameters.kind is ProtocolKind(kind)
    stored = parameters.to_dict()
    assert parse_parameters(kind, stored) == parameters
    assert parse_parameters(kind, stored).to_dict() == stored


def test_parse_refuses_when_the_kind_is_unknown() -> None:
    assert errors_of("surgery", {}) == {
        "kind": [
            "'surgery' is not a protocol kind; choose one of: implantation, randomization, "
            "dosing, caliper_measurement, body_weight, clinical_observation, humane_endpoints, "
            "sample_collection, necropsy, elisa, flow_panel"
        ]
    }


@pytest.mark.parametrize("kind", sorted(VALID))
def test_unknown_field_is_refused_when_misspelt(kind: str) -> None:
    assert errors_of(kind, {**VALID[kind], "volume_ml": 0.1}) == {"volume_ml": [UNKNOWN]}


@pytest.mark.parametrize("kind", sorted(VALID))
def test_parameters_are_refused_when_not_an_object(kind: str) -> None:
    assert errors_of(kind, ["not", "an", "object"]) == {  # type: ignore[arg-type]
        "__all__": ["must be an object of named values, not a list"]
    }


# -- implantation ---------------------------------------------------------------------------


def test_implantation_reads_typed_values_when_valid() -> None:
    parameters = ImplantationParameters.from_dict(VALID["implantation"])
    assert parameters == ImplantationParameters(
        cell_line=CellLine(name="CT26.WT", rrid="CVCL_7254", host_strain="BALB/c"),
        cells_per_site=1_000_000,
        vehicle="PBS",
        volume_ul=100.0,
        sites=("right flank",),
        route=ImplantationRoute.SC,
        viability_min_percent=90.0,
        passage_limit=15,
    )


def test_rrid_is_normalized_when_written_with_prefix_and_lower_case() -> None:
    data = {**VALID["implantation"]}
    data["cell_line"] = {**data["cell_line"], "rrid": "rrid:cvcl_0125"}
    assert ImplantationParameters.from_dict(data).cell_line.rrid == "CVCL_0125"


def test_numbers_given_as_text_are_read_when_a_form_posts_strings() -> None:
    data = with_changes(VALID["implantation"], {"cells_per_site": "1e6", "volume_ul": " 50 "})
    parameters = ImplantationParameters.from_dict(data)
    assert (parameters.cells_per_site, parameters.volume_ul) == (1_000_000, 50.0)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"cell_line": {"name": "CT26", "rrid": "CVCL_12", "host_strain": "BALB/c"}},
            {
                "cell_line.rrid": [
                    "'CVCL_12' is not a Cellosaurus RRID (CVCL_ followed by 4 characters, "
                    "e.g. CVCL_7254)"
                ]
            },
        ),
        (
            {"cell_line": {"name": "CT26", "rrid": "CVCL_7254"}},
            {"cell_line.host_strain": ["this field is required"]},
        ),
        ({"cell_line": REMOVE}, {"cell_line": ["this field is required"]}),
        ({"cell_line": "CT26"}, {"cell_line": ["must be an object of named values, not 'CT26'"]}),
        ({"cells_per_site": 0}, {"cells_per_site": ["must be at least 1"]}),
        ({"cells_per_site": 2e9}, {"cells_per_site": ["must be at most 1000000000"]}),
        ({"cells_per_site": 1.5}, {"cells_per_site": ["must be a whole number, not 1.5"]}),
        ({"cells_per_site": True}, {"cells_per_site": ["must be a number, not true"]}),
        ({"vehicle": "  "}, {"vehicle": ["this field is required"]}),
        ({"vehicle": 5}, {"vehicle": ["must be text, not 5"]}),
        ({"volume_ul": 0}, {"volume_ul": ["must be greater than 0 µL"]}),
        ({"volume_ul": 1500}, {"volume_ul": ["must be at most 1000 µL"]}),
        ({"volume_ul": "abc"}, {"volume_ul": ["must be a number, not 'abc'"]}),
        ({"volume_ul": "nan"}, {"volume_ul": ["must be a finite number, not 'nan'"]}),
        ({"sites": []}, {"sites": ["this field is required"]}),
        ({"sites": "right flank"}, {"sites": ["must be a list, not 'right flank'"]}),
        (
            {"sites": ["right flank", "left flank", "neck"]},
            {"sites": ["at most two sites (a bilateral design); 3 were given"]},
        ),
        (
            {"sites": ["right flank", "Right  flank"]},
            {"sites[1]": ["'Right flank' is listed twice"]},
        ),
        ({"sites": ["right flank", " "]}, {"sites[1]": ["must not be blank"]}),
        ({"route": "IM"}, {"route": ["'IM' is not one of: SC, ID, orthotopic, IV, IP"]}),
        ({"viability_min_percent": 0}, {"viability_min_percent": ["must be greater than 0 %"]}),
        ({"viability_min_percent": 101}, {"viability_min_percent": ["must be at most 100 %"]}),
        ({"passage_limit": 0}, {"passage_limit": ["must be at least 1"]}),
    ],
)
def test_implantation_reports_the_field_when_it_is_invalid(
    changes: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    assert errors_of("implantation", with_changes(VALID["implantation"], changes)) == expected


def test_every_problem_is_reported_at_once_when_several_fields_are_wrong() -> None:
    data = {
        "cell_line": {"name": "CT26", "rrid": "CVCL_12"},
        "cells_per_site": 0,
        "volume_ul": "abc",
        "sites": ["a", "A"],
        "route": "XX",
        "foo": 1,
    }
    assert errors_of("implantation", data) == {
        "cell_line.rrid": [
            "'CVCL_12' is not a Cellosaurus RRID (CVCL_ followed by 4 characters, e.g. CVCL_7254)"
        ],
        "cell_line.host_strain": ["this field is required"],
        "cells_per_site": ["must be at least 1"],
        "vehicle": ["this field is required"],
        "volume_ul": ["must be a number, not 'abc'"],
        "sites[1]": ["'A' is listed twice"],
        "route": ["'XX' is not one of: SC, ID, orthotopic, IV, IP"],
        "foo": [UNKNOWN],
    }


# -- randomization --------------------------------------------------------------------------


def test_stratified_randomization_defaults_to_three_volume_strata_when_not_given() -> None:
    parameters = parse_parameters("randomization", VALID["randomization"])
    assert parameters.to_dict() == {
        "eligible_volume_min_mm3": 80.0,
        "eligible_volume_max_mm3": 120.0,
        "method": "stratified_volume",
        "covariates": ["tumour_volume"],
        "eligible_weight_min_g": None,
        "eligible_weight_max_g": None,
        "volume_strata": 3,
        "cage_constraint": "mixed_cages",
        "max_batches": 2,
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"eligible_volume_min_mm3": REMOVE},
            {"eligible_volume_min_mm3": ["this field is required"]},
        ),
        (
            {"eligible_volume_min_mm3": -5},
            {"eligible_volume_min_mm3": ["must be greater than 0 mm³"]},
        ),
        (
            {"eligible_volume_max_mm3": 80},
            {"eligible_volume_max_mm3": ["must be greater than eligible_volume_min_mm3 (80 mm³)"]},
        ),
        (
            {"eligible_weight_min_g": 25, "eligible_weight_max_g": 18},
            {"eligible_weight_max_g": ["must be greater than eligible_weight_min_g (25 g)"]},
        ),
        ({"eligible_weight_min_g": 0}, {"eligible_weight_min_g": ["must be greater than 0 g"]}),
        (
            {"method": "minimisation"},
            {
                "method": [
                    "'minimisation' is not one of: simple, stratified_volume, covariate_balance"
                ]
            },
        ),
        (
            {"method": "simple", "covariates": ["body_weight"]},
            {
                "covariates": [
                    "simple randomization uses no covariates; remove them or choose "
                    "'covariate_balance'"
                ]
            },
        ),
        (
            {"covariates": ["body_weight"]},
            {
                "covariates": [
                    "'stratified_volume' stratifies on tumour_volume only; choose "
                    "'covariate_balance' to balance more covariates"
                ]
            },
        ),
        (
            {"method": "covariate_balance"},
            {
                "covariates": [
                    "list at least one covariate to balance (tumour_volume, body_weight, age)"
                ]
            },
        ),
        (
            {"method": "covariate_balance", "covariates": ["age", "age"]},
            {"covariates[1]": ["'age' is listed twice"]},
        ),
        (
            {"method": "covariate_balance", "covariates": ["sex"]},
            {"covariates[0]": ["'sex' is not one of: tumour_volume, body_weight, age"]},
        ),
        ({"volume_strata": 1}, {"volume_strata": ["must be at least 2"]}),
        (
            {"method": "simple", "volume_strata": 3},
            {"volume_strata": ["only used with method 'stratified_volume'"]},
        ),
        (
            {"cage_constraint": "by_rack"},
            {"cage_constraint": ["'by_rack' is not one of: none, mixed_cages, whole_cages"]},
        ),
        ({"max_batches": 0}, {"max_batches": ["must be at least 1"]}),
        ({"max_batches": 21}, {"max_batches": ["must be at most 20"]}),
    ],
)
def test_randomization_reports_the_field_when_it_is_invalid(
    changes: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    assert errors_of("randomization", with_changes(VALID["randomization"], changes)) == expected


# -- dosing ---------------------------------------------------------------------------------


def test_dosing_uses_the_route_default_limit_and_a_three_day_weight_when_per_kg() -> None:
    parameters = DosingParameters.from_dict(VALID["dosing"])
    assert parameters.volume_limit_ml_per_kg == DEFAULT_ROUTE_VOLUME_LIMITS_ML_PER_KG["IP"] == 20
    assert parameters.weight_max_age_days == 3
    assert parameters.dose_mg_per_kg == 100.0


def test_intratumoral_fixed_dose_is_valid_when_concentration_times_volume_gives_the_dose() -> None:
    parameters = DosingParameters.from_dict(IL12_DOSING)
    assert (parameters.dose_ug, parameters.volume_ul, parameters.volume_limit_ml_per_kg) == (
        1.0,
        20.0,
        None,
    )
    assert parameters.weight_max_age_days is None
    assert DosingParameters.from_dict(parameters.to_dict()) == parameters


def test_default_route_volume_limits_are_the_good_practice_values_when_read() -> None:
    assert DEFAULT_ROUTE_VOLUME_LIMITS_ML_PER_KG == {"PO": 10, "SC": 10, "IP": 20, "IV": 5}


@pytest.mark.parametrize(
    ("base", "changes", "expected"),
    [
        ("cyclophosphamide", {"agent": REMOVE}, {"agent": ["this field is required"]}),
        (
            "cyclophosphamide",
            {"concentration_mg_per_ml": -1},
            {"concentration_mg_per_ml": ["must be at least 0 mg/mL"]},
        ),
        ("cyclophosphamide", {"dose_basis": REMOVE}, {"dose_basis": ["this field is required"]}),
        (
            "cyclophosphamide",
            {"route": "IC"},
            {"route": ["'IC' is not one of: IP, IV, SC, PO, IT, IM"]},
        ),
        (
            "cyclophosphamide",
            {"route": "IV", "concentration_mg_per_ml": 20, "volume_ml_per_kg": 5},
            {},
        ),
        (
            "cyclophosphamide",
            {"route": "IV"},
            {"volume_ml_per_kg": ["10 mL/kg is above the limit of 5 mL/kg for IV"]},
        ),
        (
            "cyclophosphamide",
            {"max_volume_ml_per_kg": 8},
            {"volume_ml_per_kg": ["10 mL/kg is above the limit of 8 mL/kg set for this protocol"]},
        ),
        (
            "cyclophosphamide",
            {
                "dose_basis": "per_kg_arm_mean_weight",
                "volume_ml_per_kg": REMOVE,
                "dose_mg_per_kg": REMOVE,
                "volume_ul": 500,
            },
            {
                "volume_ul": [
                    "500 µL is 25 mL/kg for a 20 g mouse, above the limit of 20 mL/kg for IP"
                ]
            },
        ),
        (
            "cyclophosphamide",
            {"volume_ml_per_kg": REMOVE},
            {
                "volume_ml_per_kg": [
                    "give the volume: volume_ml_per_kg (scaled to weight) or volume_ul (fixed)"
                ]
            },
        ),
        (
            "cyclophosphamide",
            {"volume_ul": 200},
            {
                "volume_ul": [
                    "give either volume_ml_per_kg or volume_ul, not both",
                    "dosing per kg of each animal's own weight needs volume_ml_per_kg: a fixed "
                    "volume_ul would give every animal the same amount",
                ]
            },
        ),
        (
            "cyclophosphamide",
            {"dose_mg_per_kg": 50},
            {
                "dose_mg_per_kg": [
                    "10 mg/mL at 10 mL/kg gives 100 mg/kg, not 50 mg/kg; correct the dose, the "
                    "concentration or the volume"
                ]
            },
        ),
        (
            "cyclophosphamide",
            {"dose_ug": 2000},
            {"dose_ug": ["a per-kg dose basis takes dose_mg_per_kg, not dose_ug"]},
        ),
        (
            "cyclophosphamide",
            {"weight_max_age_days": 15},
            {"weight_max_age_days": ["must be at most 14"]},
        ),
        (
            "cyclophosphamide",
            {"resume_below_weight_loss_percent": REMOVE},
            {
                "resume_below_weight_loss_percent": [
                    "give the weight loss below which dosing resumes"
                ]
            },
        ),
        (
            "cyclophosphamide",
            {"hold_at_weight_loss_percent": REMOVE},
            {"hold_at_weight_loss_percent": ["give the weight loss at which dosing is held"]},
        ),
        (
            "cyclophosphamide",
            {"resume_below_weight_loss_percent": 15},
            {
                "resume_below_weight_loss_percent": [
                    "must be below hold_at_weight_loss_percent (15 %)"
                ]
            },
        ),
        (
            "cyclophosphamide",
            {"hold_at_weight_loss_percent": 100},
            {"hold_at_weight_loss_percent": ["must be less than 100 %"]},
        ),
        (
            "cyclophosphamide",
            {"reduced_dose_percent": 100},
            {"reduced_dose_percent": ["must be less than 100 %"]},
        ),
        (
            "cyclophosphamide",
            {"skip_when_tumour_not_palpable": True},
            {"skip_when_tumour_not_palpable": ["only applies to intratumoral (IT) dosing"]},
        ),
        (
            "cyclophosphamide",
            {"reference_body_weight_g": 0},
            {"reference_body_weight_g": ["must be greater than 0 g"]},
        ),
        (
            "il12",
            {"skip_when_tumour_not_palpable": "yes"},
            {"skip_when_tumour_not_palpable": ["must be true or false, not 'yes'"]},
        ),
        (
            "il12",
            {"concentration_mg_per_ml": 0.1},
            {
                "dose_ug": [
                    "0.1 mg/mL in 20 µL gives 2 µg, not 1 µg; correct the dose, the "
                    "concentration or the volume"
                ]
            },
        ),
        (
            "il12",
            {"dose_mg_per_kg": 0.05},
            {"dose_mg_per_kg": ["a fixed dose basis takes dose_ug, not dose_mg_per_kg"]},
        ),
        (
            "il12",
            {"volume_ul": REMOVE, "volume_ml_per_kg": 1},
            {
                "volume_ml_per_kg": [
                    "a fixed dose needs a fixed volume_ul: a volume per kg would make the dose "
                    "depend on weight"
                ]
            },
        ),
        (
            "il12",
            {"weight_max_age_days": 3},
            {"weight_max_age_days": ["only used when the dose is per kg"]},
        ),
        (
            "il12",
            {"route": "IP", "skip_when_tumour_not_palpable": False},
            {
                "dose_basis": [
                    "a dose per tumour is given intratumorally: use route IT or a per-animal basis"
                ]
            },
        ),
    ],
)
def test_dosing_reports_the_field_when_it_is_invalid(
    base: str, changes: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    data = with_changes(VALID["dosing"] if base == "cyclophosphamide" else IL12_DOSING, changes)
    if not expected:
        assert parse_parameters("dosing", data).route.value == data["route"]  # type: ignore[union-attr]
        return
    assert errors_of("dosing", data) == expected


# -- caliper measurement and body weight -----------------------------------------------------


def test_ellipsoid_formula_asks_for_height_when_entry_order_is_not_given() -> None:
    parameters = parse_parameters(
        "caliper_measurement", {"schedule": "Mon/Wed/Fri", "formula": "ellipsoid"}
    )
    assert parameters.to_dict() == {
        "schedule": "Mon/Wed/Fri",
        "formula": "ellipsoid",
        "entry_order": ["length", "width", "height"],
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"schedule": REMOVE}, {"schedule": ["this field is required"]}),
        (
            {"schedule": "Mon/Funday"},
            {
                "schedule": [
                    "'Funday' is not a weekday; use Mon, Tue, Wed, Thu, Fri, Sat, Sun "
                    "(e.g. Mon/Wed/Fri)"
                ]
            },
        ),
        (
            {"formula": "gompertz"},
            {
                "formula": [
                    "'gompertz' is not one of: half_length_width_squared, ellipsoid, "
                    "ellipsoid_length_width"
                ]
            },
        ),
        (
            {"formula": "ellipsoid"},
            {
                "entry_order": [
                    "the formula 'ellipsoid' needs length, width, height: list each of them once"
                ]
            },
        ),
        ({"entry_order": ["length", "length"]}, {"entry_order[1]": ["'length' is listed twice"]}),
        (
            {"entry_order": ["length", "depth"]},
            {"entry_order[1]": ["'depth' is not one of: length, width, height"]},
        ),
    ],
)
def test_caliper_measurement_reports_the_field_when_it_is_invalid(
    changes: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    data = with_changes(VALID["caliper_measurement"], changes)
    assert errors_of("caliper_measurement", data) == expected


def test_width_first_entry_order_is_kept_when_the_technician_reads_width_first() -> None:
    data = with_changes(VALID["caliper_measurement"], {"entry_order": ["width", "length"]})
    assert parse_parameters("caliper_measurement", data).to_dict()["entry_order"] == [
        "width",
        "length",
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"schedule": "QD×5"},
            {
                "schedule": [
                    "QD×5 needs a start: add 'from day N' (days after implantation) or "
                    "'from R+N' (days after each animal's randomization)"
                ]
            },
        ),
        ({"baseline": "day_-1"}, {"baseline": ["'day_-1' is not one of: randomization, day_0"]}),
        ({"tumour_corrected": "yes"}, {"tumour_corrected": ["must be true or false, not 'yes'"]}),
    ],
)
def test_body_weight_reports_the_field_when_it_is_invalid(
    changes: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    assert errors_of("body_weight", with_changes(VALID["body_weight"], changes)) == expected


def test_body_weight_keeps_the_parsed_schedule_when_valid() -> None:
    parameters = parse_parameters("body_weight", VALID["body_weight"])
    assert parameters.schedule == parse_schedule("Mon/Wed/Fri")  # type: ignore[union-attr]


# -- clinical observation -------------------------------------------------------------------


def test_ulceration_escalates_to_daily_checks_and_endpoint_when_rules_are_not_given() -> None:
    data = with_changes(VALID["clinical_observation"], {"escalation_rules": REMOVE})
    parameters = parse_parameters("clinical_observation", data)
    assert parameters.escalation_rules == (  # type: ignore[union-attr]
        EscalationRule("ulceration", 1, EscalationAction.DAILY_CHECKS),
        EscalationRule("ulceration", 3, EscalationAction.ENDPOINT),
    )
    assert parameters.record_ulcer_diameter is True  # type: ignore[union-attr]


def _posture(levels: list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
    return [{"name": "posture", "levels": levels, **extra}]


_LEVELS_0_1 = [{"score": 0, "description": "normal"}, {"score": 1, "description": "hunched"}]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {
                "items": _posture(
                    [{"score": 0, "description": "normal"}, {"score": 2, "description": "hunched"}]
                ),
                "total_score_limit": REMOVE,
                "escalation_rules": REMOVE,
            },
            {"items[0].levels": ["scores must run 0, 1, 2, … in order without gaps; found 0, 2"]},
        ),
        (
            {
                "items": _posture([{"score": 0, "description": "normal"}]),
                "total_score_limit": REMOVE,
                "escalation_rules": REMOVE,
            },
            {"items[0].levels": ["give at least two levels (0 = normal, and one abnormal level)"]},
        ),
        (
            {
                "items": _posture([{"score": 0, "description": "normal"}, {"score": 1}]),
                "total_score_limit": REMOVE,
                "escalation_rules": REMOVE,
            },
            {"items[0].levels[1].description": ["this field is required"]},
        ),
        (
            {
                "items": _posture(_LEVELS_0_1, endpoint_score=2),
                "total_score_limit": REMOVE,
                "escalation_rules": REMOVE,
            },
            {"items[0].endpoint_score": ["must be one of the item's scores (1 to 1)"]},
        ),
        (
            {
                "items": [*_posture(_LEVELS_0_1), {"name": "Ulceration", "levels": _LEVELS_0_1}],
                "total_score_limit": REMOVE,
                "escalation_rules": REMOVE,
            },
            {
                "items[1].name": [
                    "ulceration is scored per tumour on the built-in scale; remove this item"
                ]
            },
        ),
        (
            {
                "items": [*_posture(_LEVELS_0_1), {"name": "Posture", "levels": _LEVELS_0_1}],
                "total_score_limit": REMOVE,
                "escalation_rules": REMOVE,
            },
            {"items[1].name": ["'Posture' is listed twice"]},
        ),
        (
            {"total_score_limit": 4},
            {"total_score_limit": ["must be at most 3, the highest total the items can reach"]},
        ),
        ({"total_score_limit": 0}, {"total_score_limit": ["must be at least 1"]}),
        (
            {"escalation_rules": [{"item": "appetite", "at_score": 1, "action": "daily_checks"}]},
            {
                "escalation_rules[0].item": [
                    "'appetite' is not an item of this score sheet (items: activity, posture, "
                    "ulceration)"
                ]
            },
        ),
        (
            {"escalation_rules": [{"item": "ulceration", "at_score": 4, "action": "endpoint"}]},
            {"escalation_rules[0].at_score": ["'ulceration' is scored 0 to 3; 4 is never reached"]},
        ),
        (
            {"escalation_rules": [{"item": "posture", "at_score": 1, "action": "call the vet"}]},
            {
                "escalation_rules[0].action": [
                    "'call the vet' is not one of: daily_checks, veterinary_review, endpoint"
                ]
            },
        ),
        (
            {"escalation_rules": [{"item": "posture", "at_score": 0, "action": "endpoint"}]},
            {"escalation_rules[0].at_score": ["must be at least 1"]},
        ),
        (
            {
                "escalation_rules": [
                    {"item": "posture", "at_score": 2, "action": "endpoint"},
                    {"item": "Posture", "at_score": 2, "action": "endpoint"},
                ]
            },
            {"escalation_rules[1]": ["this rule is listed twice"]},
        ),
        (
            {
                "items": REMOVE,
                "total_score_limit": REMOVE,
                "escalation_rules": REMOVE,
                "ulceration_per_tumour": False,
            },
            {"__all__": ["the score sheet is empty: add items or score ulceration"]},
        ),
        (
            {
                "ulceration_per_tumour": False,
                "record_ulcer_diameter": True,
                "escalation_rules": REMOVE,
            },
            {"record_ulcer_diameter": ["only used when ulceration_per_tumour is true"]},
        ),
    ],
)
def test_clinical_observation_reports_the_field_when_it_is_invalid(
    changes: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    data = with_changes(VALID["clinical_observation"], changes)
    assert errors_of("clinical_observation", data) == expected


# -- humane endpoints -----------------------------------------------------------------------


def test_humane_endpoints_default_to_2000_mm3_20_mm_20_percent_and_score_3_when_empty() -> None:
    assert parse_parameters("humane_endpoints", {}) == HumaneEndpoints(
        max_volume_mm3=2000.0,
        max_total_volume_mm3=None,
        max_diameter_mm=20.0,
        max_weight_loss_percent=20.0,
        ulceration_score_limit=3,
        clinical_score_limit=None,
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"max_volume_mm3": 0}, {"max_volume_mm3": ["must be greater than 0 mm³"]}),
        (
            {"max_total_volume_mm3": 1000},
            {
                "max_total_volume_mm3": [
                    "must be at least max_volume_mm3 (1500 mm³): the total includes the largest "
                    "tumour"
                ]
            },
        ),
        ({"max_diameter_mm": -1}, {"max_diameter_mm": ["must be greater than 0 mm"]}),
        (
            {"max_weight_loss_percent": 100},
            {"max_weight_loss_percent": ["must be less than 100 %"]},
        ),
        ({"ulceration_score_limit": 4}, {"ulceration_score_limit": ["must be at most 3"]}),
        ({"clinical_score_limit": 0}, {"clinical_score_limit": ["must be at least 1"]}),
    ],
)
def test_humane_endpoints_report_the_field_when_it_is_invalid(
    changes: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    assert (
        errors_of("humane_endpoints", with_changes(VALID["humane_endpoints"], changes)) == expected
    )


def test_nothing_is_loosened_when_every_limit_is_tightened() -> None:
    approved = HumaneEndpoints()
    proposed = HumaneEndpoints(
        max_volume_mm3=1500,
        max_total_volume_mm3=1800,
        max_diameter_mm=15,
        max_weight_loss_percent=15,
        ulceration_score_limit=2,
        clinical_score_limit=4,
    )
    assert endpoint_limits_loosened(approved, proposed) == []
    assert endpoint_limits_loosened(approved, approved) == []


def test_every_loosened_limit_is_named_when_the_proposal_is_less_strict() -> None:
    approved = HumaneEndpoints(max_total_volume_mm3=2500, clinical_score_limit=4)
    proposed = HumaneEndpoints(
        max_volume_mm3=2500,
        max_total_volume_mm3=None,
        max_diameter_mm=22.5,
        max_weight_loss_percent=25,
        ulceration_score_limit=3,
        clinical_score_limit=None,
    )
    assert endpoint_limits_loosened(approved, proposed) == [
        "max_volume_mm3: 2500 mm³ is above the approved 2000 mm³",
        "max_total_volume_mm3: no limit, the approved limit is 2500 mm³",
        "max_diameter_mm: 22.5 mm is above the approved 20 mm",
        "max_weight_loss_percent: 25 % is above the approved 20 %",
        "clinical_score_limit: no limit, the approved limit is 4",
    ]


def test_a_higher_ulceration_score_is_loosened_when_the_approved_limit_was_two() -> None:
    approved = HumaneEndpoints(ulceration_score_limit=2)
    assert endpoint_limits_loosened(approved, HumaneEndpoints()) == [
        "ulceration_score_limit: 3 is above the approved 2"
    ]


# -- sample collection and necropsy ---------------------------------------------------------


def test_sample_after_a_named_dose_is_valid_when_hours_increase() -> None:
    data = {
        "tissue": "tumour",
        "timing": "after_dose",
        "dose_name": "IL-12 dose 1",
        "hours_after_dose": [-1, 6, 24],
        "processing": "snap-frozen in liquid nitrogen",
    }
    parameters = parse_parameters("sample_collection", data)
    assert parameters.hours_after_dose == (-1.0, 6.0, 24.0)  # type: ignore[union-attr]
    assert parameters.volume_ul is None  # type: ignore[union-attr]
    assert parameters.to_dict()["label_fields"] == [
        "barcode",
        "study_code",
        "animal_tag",
        "tissue",
        "study_day",
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"volume_ul": REMOVE}, {"volume_ul": ["this field is required"]}),
        ({"volume_ul": 0}, {"volume_ul": ["must be greater than 0 µL"]}),
        ({"study_day": REMOVE}, {"study_day": ["this field is required"]}),
        ({"study_day": 2000}, {"study_day": ["must be at most 1000"]}),
        (
            {"timing": "after_dose", "study_day": REMOVE},
            {
                "dose_name": ["this field is required"],
                "hours_after_dose": ["this field is required"],
            },
        ),
        (
            {
                "timing": "after_dose",
                "study_day": REMOVE,
                "dose_name": "IL-12 dose 1",
                "hours_after_dose": [24, 2],
            },
            {"hours_after_dose": ["list the times in increasing order"]},
        ),
        (
            {
                "timing": "after_dose",
                "study_day": REMOVE,
                "dose_name": "IL-12 dose 1",
                "hours_after_dose": [2, 2],
            },
            {"hours_after_dose[1]": ["2 is listed twice"]},
        ),
        (
            {"timing": "at_endpoint"},
            {"study_day": ["only used when timing is 'fixed_day'"]},
        ),
        (
            {"dose_name": "IL-12 dose 1", "hours_after_dose": [6]},
            {
                "dose_name": ["only used when timing is 'after_dose'"],
                "hours_after_dose": ["only used when timing is 'after_dose'"],
            },
        ),
        (
            {"tissue": "plasma"},
            {"tissue": ["'plasma' is not one of: serum, whole_blood, tumour, spleen, lymph_node"]},
        ),
        (
            {"timing": "weekly"},
            {"timing": ["'weekly' is not one of: at_endpoint, fixed_day, after_dose"]},
        ),
        (
            {"label_fields": ["barcode", "arm"]},
            {
                "label_fields[1]": [
                    "'arm' is not one of: barcode, animal_tag, study_code, arm_code, study_day, "
                    "tissue, collection_date"
                ]
            },
        ),
        ({"processing": REMOVE}, {"processing": ["this field is required"]}),
    ],
)
def test_sample_collection_reports_the_field_when_it_is_invalid(
    changes: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    data = with_changes(VALID["sample_collection"], changes)
    assert errors_of("sample_collection", data) == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"organ_weights": ["spleen", "Spleen"]},
            {"organ_weights[1]": ["'Spleen' is listed twice"]},
        ),
        ({"organ_weights": ["spleen", ""]}, {"organ_weights[1]": ["must not be blank"]}),
        ({"organ_weights": "spleen"}, {"organ_weights": ["must be a list, not 'spleen'"]}),
        ({"metastasis_count_organs": [3]}, {"metastasis_count_organs[0]": ["must be text, not 3"]}),
        ({"gross_findings": "no"}, {"gross_findings": ["must be true or false, not 'no'"]}),
        (
            {
                "terminal_body_weight": False,
                "tumour_weights": False,
                "organ_weights": [],
                "metastasis_count_organs": [],
                "gross_findings": False,
            },
            {"__all__": ["the necropsy records nothing: choose at least one observation"]},
        ),
    ],
)
def test_necropsy_reports_the_field_when_it_is_invalid(
    changes: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    assert errors_of("necropsy", with_changes(VALID["necropsy"], changes)) == expected


# -- ELISA ----------------------------------------------------------------------------------


def test_elisa_standards_halve_from_the_top_when_the_dilution_factor_is_two() -> None:
    parameters = ElisaParameters.from_dict(VALID["elisa"])
    assert parameters.standard_concentrations_pg_per_ml == (
        1000.0,
        500.0,
        250.0,
        125.0,
        62.5,
        31.25,
        15.625,
    )
    assert (
        parameters.min_r_squared,
        parameters.max_replicate_cv_percent,
        parameters.standard_recovery_min_percent,
        parameters.standard_recovery_max_percent,
    ) == (0.99, 20.0, 80.0, 120.0)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"analyte": REMOVE}, {"analyte": ["this field is required"]}),
        ({"kit": REMOVE}, {"kit": ["this field is required"]}),
        (
            {"standard_top_pg_per_ml": 0},
            {"standard_top_pg_per_ml": ["must be greater than 0 pg/mL"]},
        ),
        ({"standard_dilution_factor": 1}, {"standard_dilution_factor": ["must be greater than 1"]}),
        (
            {"standard_points": 4},
            {
                "standard_points": [
                    "a 4PL curve needs at least 5 standard points (4 parameters plus one degree "
                    "of freedom); got 4"
                ]
            },
        ),
        (
            {"standard_points": 5, "curve_model": "5pl"},
            {
                "standard_points": [
                    "a 5PL curve needs at least 6 standard points (5 parameters plus one degree "
                    "of freedom); got 5"
                ]
            },
        ),
        ({"standard_points": 20}, {"standard_points": ["must be at most 16"]}),
        ({"curve_model": "linear"}, {"curve_model": ["'linear' is not one of: 4pl, 5pl"]}),
        ({"sample_dilutions": REMOVE}, {"sample_dilutions": ["this field is required"]}),
        ({"sample_dilutions": [0.5]}, {"sample_dilutions[0]": ["must be at least 1"]}),
        ({"sample_dilutions": [2, 2]}, {"sample_dilutions[1]": ["2 is listed twice"]}),
        ({"replicates": 5}, {"replicates": ["must be at most 4"]}),
        ({"min_r_squared": 1.5}, {"min_r_squared": ["must be at most 1"]}),
        (
            {"max_replicate_cv_percent": 0},
            {"max_replicate_cv_percent": ["must be greater than 0 %"]},
        ),
        (
            {"standard_recovery_min_percent": 100},
            {"standard_recovery_min_percent": ["must be less than 100 %"]},
        ),
        (
            {"standard_recovery_max_percent": 95},
            {"standard_recovery_max_percent": ["must be greater than 100 %"]},
        ),
    ],
)
def test_elisa_reports_the_field_when_it_is_invalid(
    changes: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    assert errors_of("elisa", with_changes(VALID["elisa"], changes)) == expected


# -- flow panel -----------------------------------------------------------------------------


def test_flow_panel_normalizes_spaces_in_gating_paths_when_valid() -> None:
    data = with_changes(VALID["flow_panel"], {"populations": [" Live / CD45+ / CD3+ "]})
    parameters = FlowPanelParameters.from_dict(data)
    assert parameters.populations == ("Live/CD45+/CD3+",)
    assert parameters.markers[0] == FlowMarker(marker="CD45", fluorochrome="BV510", clone="30-F11")


def _markers(**replace: dict[str, str]) -> list[dict[str, str]]:
    markers = [dict(marker) for marker in VALID["flow_panel"]["markers"]]
    for index, marker in replace.items():
        markers[int(index.removeprefix("m"))] = marker
    return markers


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"markers": REMOVE}, {"markers": ["this field is required"]}),
        (
            {"markers": _markers(m4={"marker": "CD25", "fluorochrome": "fitc", "clone": "PC61"})},
            {
                "markers[4].fluorochrome": [
                    "'fitc' is already used for CD3: two markers on one fluorochrome cannot be "
                    "told apart"
                ]
            },
        ),
        (
            {"markers": _markers(m3={"marker": "cd4", "fluorochrome": "BV605", "clone": "RM4-5"})},
            {"markers[3].marker": ["'cd4' is listed twice"]},
        ),
        (
            {"markers": _markers(m2={"marker": "CD4", "fluorochrome": "BV421", "clone": ""})},
            {"markers[2].clone": ["this field is required"]},
        ),
        ({"viability_dye": REMOVE}, {"viability_dye": ["this field is required"]}),
        ({"populations": REMOVE}, {"populations": ["this field is required"]}),
        (
            {"populations": ["Live//CD3+"]},
            {
                "populations[0]": [
                    "'Live//CD3+' has an empty step: separate the gates by single '/' "
                    "(e.g. Live/CD45+/CD3+)"
                ]
            },
        ),
        (
            {"populations": ["Live/CD45+/"]},
            {
                "populations[0]": [
                    "'Live/CD45+/' has an empty step: separate the gates by single '/' "
                    "(e.g. Live/CD45+/CD3+)"
                ]
            },
        ),
        (
            {"populations": ["Live/CD45+", "Live / CD45+"]},
            {"populations[1]": ["'Live/CD45+' is listed twice"]},
        ),
        (
            {"populations": ["Live/CD45+/CD19+"]},
            {
                "populations[0]": [
                    "'Live/CD45+/CD19+': 'CD19' is not a marker of this panel (markers: CD45, "
                    "CD3, CD4, CD8, CD25, Foxp3)"
                ]
            },
        ),
        (
            {"populations": ["Live/CD45+/CD3+/CD4+/CD25+Helios+"]},
            {
                "populations[0]": [
                    "'Live/CD45+/CD3+/CD4+/CD25+Helios+': 'Helios' is not a marker of this panel "
                    "(markers: CD45, CD3, CD4, CD8, CD25, Foxp3)"
                ]
            },
        ),
        (
            {"populations": [7]},
            {"populations[0]": ["must be text, not 7"]},
        ),
        (
            {"statistics": ["mean"]},
            {
                "statistics[0]": [
                    "'mean' is not one of: count, frequency_of_parent, frequency_of_total, "
                    "median_fluorescence_intensity"
                ]
            },
        ),
    ],
)
def test_flow_panel_reports_the_field_when_it_is_invalid(
    changes: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    assert errors_of("flow_panel", with_changes(VALID["flow_panel"], changes)) == expected


def test_marker_steps_accept_hi_lo_and_int_when_they_name_panel_markers() -> None:
    data = with_changes(
        VALID["flow_panel"], {"populations": ["Live/CD45hi/CD3+CD4int", "Live/CD45lo/CD25-"]}
    )
    assert FlowPanelParameters.from_dict(data).populations == (
        "Live/CD45hi/CD3+CD4int",
        "Live/CD45lo/CD25-",
    )


# -- version diff ---------------------------------------------------------------------------


def test_diff_lists_nothing_when_only_the_number_type_differs() -> None:
    assert (
        diff_parameters(
            {"volume_ul": 100, "sites": ["right flank"]},
            {"volume_ul": 100.0, "sites": ["right flank"]},
        )
        == []
    )


def test_diff_names_each_changed_field_when_a_new_version_is_saved() -> None:
    old = parse_parameters("implantation", VALID["implantation"]).to_dict()
    new_data = with_changes(
        VALID["implantation"],
        {
            "cell_line": {"name": "CT26.WT", "rrid": "CVCL_7256", "host_strain": "BALB/c"},
            "volume_ul": 50,
            "sites": ["right flank", "left flank"],
            "passage_limit": REMOVE,
        },
    )
    new = parse_parameters("implantation", new_data).to_dict()
    assert diff_parameters(old, new) == [
        ParameterChange(field="cell_line.rrid", old="CVCL_7254", new="CVCL_7256"),
        ParameterChange(field="volume_ul", old=100.0, new=50.0),
        ParameterChange(field="sites", old=["right flank"], new=["right flank", "left flank"]),
        ParameterChange(field="passage_limit", old=15, new=None),
    ]


def test_diff_compares_lists_of_objects_by_position_when_markers_change() -> None:
    old = {"markers": [{"marker": "CD4", "clone": "GK1.5"}], "viability_dye": "Zombie NIR"}
    new = {
        "markers": [{"marker": "CD4", "clone": "RM4-5"}, {"marker": "CD8", "clone": "53-6.7"}],
        "statistics": ["count"],
    }
    assert diff_parameters(old, new) == [
        ParameterChange(field="markers[0].clone", old="GK1.5", new="RM4-5"),
        ParameterChange(field="markers[1]", old=None, new={"marker": "CD8", "clone": "53-6.7"}),
        ParameterChange(field="viability_dye", old="Zombie NIR", new=None),
        ParameterChange(field="statistics", old=None, new=["count"]),
    ]


def test_diff_tells_true_from_one_when_a_flag_replaces_a_number() -> None:
    assert diff_parameters({"flag": 1}, {"flag": True}) == [
        ParameterChange(field="flag", old=1, new=True)
    ]
