"""The demo data set, built in idempotent steps so that a newer demo upgrades an older one.

Each step ensures what it describes exists (creating only what is missing), so running the
loader on a database made by an older version adds exactly what that version lacked. Later
issues append steps; labnotes adds its own through ``labnotes.demo``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from planner.audit import ClientKind, audit_context
from planner.models import (
    EthicsProtocol,
    Lab,
    Membership,
    ProtocolTemplate,
    ProtocolVersion,
    Role,
    Study,
    StudyMember,
    StudyStatus,
)
from planner.security_demo import ensure_demo_second_factor
from planner.services import design, lifecycle, protocols, tenancy
from planner.services import ethics as ethics_services
from planner.services import studies as study_services

DEMO_VERSION = 4
DEMO_PASSWORD = "vivolog-demo"  # noqa: S105  (documented shared password of the demo data set)
DEMO_LAB_SLUG = "demo"

DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("director", "Dana Director", Role.STUDY_DIRECTOR, "Study director; unblinded."),
    ("scientist", "Sam Scientist", Role.SCIENTIST, "Designs studies."),
    ("tech_measure", "Taylor Measure", Role.TECHNICIAN, "Measures and weighs; blinded."),
    ("tech_dose", "Dee Doser", Role.TECHNICIAN, "Doses (can_dose); blinded to labels."),
    ("qa", "Quinn Assurance", Role.QA, "Quality assurance."),
    ("labadmin", "Alex Admin", Role.LAB_ADMIN, "Lab administrator (staff in the admin)."),
    ("viewer", "Vic Viewer", Role.VIEWER, "Reads only."),
    ("vet", "Val Vet", Role.VETERINARIAN, "Veterinarian; may unblind one animal in an emergency"),
)


def ensure_lab() -> Lab:
    lab = Lab.objects.filter(slug=DEMO_LAB_SLUG).first()
    return lab or tenancy.create_lab(
        name="Demo Oncology Lab", slug=DEMO_LAB_SLUG, time_zone="Europe/Berlin"
    )


def ensure_users(lab: Lab) -> dict[str, User]:
    users: dict[str, User] = {}
    user_model = get_user_model()
    for username, full_name, role, _note in DEMO_USERS:
        user = user_model.objects.filter(username=username).first()
        if user is None:
            first, last = full_name.split(" ", 1)
            user = user_model.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                email=f"{username}@demo.vivolog.invalid",
                is_staff=(role == Role.LAB_ADMIN),
            )
        if not Membership.objects.filter(lab=lab, user=user).exists():
            tenancy.add_member(lab=lab, user=user, role=role)
        users[username] = user
    return users


def ensure_ct26_study(lab: Lab, users: dict[str, User]) -> Study:
    study = Study.objects.filter(lab=lab, code="CT26-IL12-CPA").first()
    if study is None:
        study = study_services.create_study(
            lab=lab,
            code="CT26-IL12-CPA",
            title="IL-12 intratumoral plus cyclophosphamide in CT26-bearing BALB/c mice",
            objective="Does IL-12 IT plus cyclophosphamide IP control CT26 growth better than "
            "either alone, and more than their independent effects predict?",
            blinded=True,
            created_by=users["director"],
        )
    for username, unblinded, can_dose in (
        ("scientist", True, False),
        ("tech_measure", False, False),
        ("tech_dose", False, True),
        ("qa", False, False),
    ):
        StudyMember.objects.get_or_create(
            study=study,
            user=users[username],
            defaults={"unblinded": unblinded, "can_dose": can_dose},
        )
    return study


# -- the protocol library ---------------------------------------------------------------------
# Name → (kind, parameters). Each is released as version 1.

ENDPOINTS = {
    "max_volume_mm3": 2000,
    "max_diameter_mm": 20,
    "max_weight_loss_percent": 20,
    "ulceration_score_limit": 3,
}
MWF = "Mon/Wed/Fri"

DEMO_LIBRARY: dict[str, tuple[str, dict[str, Any]]] = {
    "CT26 SC implantation, right flank": ("implantation", {
        "cell_line": {"name": "CT26.WT", "rrid": "CVCL_7256", "host_strain": "BALB/c"},
        "cells_per_site": 1_000_000, "vehicle": "PBS", "volume_ul": 100,
        "sites": ["right flank"], "route": "SC", "viability_min_percent": 90,
        "passage_limit": 20,
    }),
    "4T1 orthotopic implantation, mammary fat pad": ("implantation", {
        "cell_line": {"name": "4T1", "rrid": "CVCL_0125", "host_strain": "BALB/c"},
        "cells_per_site": 100_000, "vehicle": "PBS", "volume_ul": 50,
        "sites": ["4th mammary fat pad, right"], "route": "orthotopic",
        "viability_min_percent": 90, "passage_limit": 15,
    }),
    "Randomization at 80-120 mm3": ("randomization", {
        "eligible_volume_min_mm3": 80, "eligible_volume_max_mm3": 120,
        "method": "stratified_volume", "cage_constraint": "mixed_cages", "max_batches": 2,
    }),
    "IL-12 IT 1 ug in 20 uL": ("dosing", {
        "agent": "murine IL-12", "vehicle": "PBS + 0.1 % BSA", "concentration_mg_per_ml": 0.05,
        "dose_basis": "fixed_per_tumour", "route": "IT", "dose_ug": 1, "volume_ul": 20,
        "skip_when_tumour_not_palpable": True,
    }),
    "Vehicle IT 20 uL": ("dosing", {
        "agent": "PBS + 0.1 % BSA", "vehicle": "PBS + 0.1 % BSA", "concentration_mg_per_ml": 0,
        "dose_basis": "fixed_per_tumour", "route": "IT", "volume_ul": 20,
    }),
    "Cyclophosphamide IP 100 mg/kg": ("dosing", {
        "agent": "cyclophosphamide", "vehicle": "0.9 % saline", "concentration_mg_per_ml": 10,
        "dose_basis": "per_kg_own_weight", "route": "IP", "dose_mg_per_kg": 100,
        "volume_ml_per_kg": 10, "hold_at_weight_loss_percent": 15,
        "resume_below_weight_loss_percent": 10,
    }),
    "Vehicle IP 10 mL/kg": ("dosing", {
        "agent": "0.9 % saline", "vehicle": "0.9 % saline", "concentration_mg_per_ml": 0,
        "dose_basis": "per_kg_own_weight", "route": "IP", "volume_ml_per_kg": 10,
    }),
    "Doxorubicin IV 5 mg/kg": ("dosing", {
        "agent": "doxorubicin", "vehicle": "0.9 % saline", "concentration_mg_per_ml": 1,
        "dose_basis": "per_kg_own_weight", "route": "IV", "dose_mg_per_kg": 5,
        "volume_ml_per_kg": 5, "hold_at_weight_loss_percent": 15,
        "resume_below_weight_loss_percent": 10,
    }),
    "Vehicle IV 5 mL/kg": ("dosing", {
        "agent": "0.9 % saline", "vehicle": "0.9 % saline", "concentration_mg_per_ml": 0,
        "dose_basis": "per_kg_own_weight", "route": "IV", "volume_ml_per_kg": 5,
    }),
    "Calipers Mon/Wed/Fri, L x W2 / 2": ("caliper_measurement", {
        "schedule": MWF, "formula": "half_length_width_squared",
        "entry_order": ["length", "width"],
    }),
    "Body weight Mon/Wed/Fri": ("body_weight", {
        "schedule": MWF, "baseline": "randomization", "tumour_corrected": False,
    }),
    "Clinical score sheet with ulceration": ("clinical_observation", {
        "schedule": MWF,
        "items": [
            {"name": "Activity", "levels": [
                {"score": 0, "description": "normal"},
                {"score": 1, "description": "reduced"},
                {"score": 2, "description": "moribund"}], "endpoint_score": 2},
            {"name": "Coat", "levels": [
                {"score": 0, "description": "smooth"},
                {"score": 1, "description": "piloerection"}]},
        ],
        "ulceration_per_tumour": True, "record_ulcer_diameter": True,
    }),
    "Humane endpoints 2000 mm3 / 20 % / ulceration 3": ("humane_endpoints", dict(ENDPOINTS)),
    "Serum at day 10 takedown": ("sample_collection", {
        "tissue": "serum", "timing": "fixed_day", "study_day": 10, "volume_ul": 500,
        "processing": "Cardiac puncture; clot 30 min at room temperature, 2000 g 10 min, "
        "serum aliquots at -80 C",
    }),
    "Tumour at day 10 takedown, for flow": ("sample_collection", {
        "tissue": "tumour", "timing": "fixed_day", "study_day": 10,
        "processing": "Excise the tumour, weigh; mechanical and collagenase IV/DNase I "
        "dissociation, 70 um strainer; single cells on ice for the Treg panel",
        "label_fields": ["barcode", "study_code", "animal_tag", "tissue", "study_day"],
    }),
    "Spleen at day 10 takedown, for flow": ("sample_collection", {
        "tissue": "spleen", "timing": "fixed_day", "study_day": 10,
        "processing": "Mash through a 70 um strainer, red-cell lysis (ACK 2 min); single cells "
        "on ice for the Treg panel",
    }),
    "Necropsy with lung metastasis count": ("necropsy", {
        "terminal_body_weight": True, "tumour_weights": True, "organ_weights": ["spleen"],
        "metastasis_count_organs": ["lung"], "gross_findings": True,
    }),
    "IFN-gamma ELISA (DuoSet)": ("elisa", {
        "analyte": "IFN-gamma", "kit": "Mouse IFN-gamma DuoSet ELISA",
        "standard_top_pg_per_ml": 2000, "standard_dilution_factor": 2, "standard_points": 7,
        "sample_dilutions": [2, 10], "replicates": 2, "curve_model": "4pl",
    }),
    "Treg panel CD45/CD3/CD4/CD8/CD25/Foxp3": ("flow_panel", {
        "markers": [
            {"marker": "CD45", "fluorochrome": "BV510", "clone": "30-F11"},
            {"marker": "CD3", "fluorochrome": "FITC", "clone": "17A2"},
            {"marker": "CD4", "fluorochrome": "BV421", "clone": "GK1.5"},
            {"marker": "CD8", "fluorochrome": "PE-Cy7", "clone": "53-6.7"},
            {"marker": "CD25", "fluorochrome": "PE", "clone": "PC61"},
            {"marker": "Foxp3", "fluorochrome": "APC", "clone": "FJK-16s"},
        ],
        "viability_dye": "Zombie NIR",
        "populations": [
            "Live/CD45+", "Live/CD45+/CD3+", "Live/CD45+/CD3+/CD4+", "Live/CD45+/CD3+/CD8+",
            "Live/CD45+/CD3+/CD4+/CD25+Foxp3+",
        ],
        "statistics": ["count", "frequency_of_parent"],
    }),
}  # fmt: skip

ETHICS_NUMBER = "DEMO-2024-017"


def ensure_protocol_library(lab: Lab, users: dict[str, User]) -> dict[str, ProtocolVersion]:
    """Every demo protocol with a released version 1."""
    released: dict[str, ProtocolVersion] = {}
    for name, (kind, parameters) in DEMO_LIBRARY.items():
        template = ProtocolTemplate.objects.filter(lab=lab, name=name).first()
        if template is None:
            version = protocols.create_template(
                lab=lab,
                name=name,
                kind=kind,
                parameters=parameters,
                created_by=users["director"],
            )
        else:
            version = template.versions.order_by("-number").first()  # type: ignore[assignment]
        if not version.is_released:
            version = protocols.release_version(version=version, released_by=users["director"])
        released[name] = version
    return released


def ensure_ethics_protocol(lab: Lab, users: dict[str, User]) -> EthicsProtocol:
    protocol = EthicsProtocol.objects.filter(lab=lab, number=ETHICS_NUMBER).first()
    return protocol or ethics_services.create_ethics_protocol(
        lab=lab,
        number=ETHICS_NUMBER,
        title="Immunotherapy and chemotherapy of syngeneic tumours in mice",
        approved_on=dt.date(2024, 3, 1),
        expires_on=dt.date(2029, 2, 28),
        endpoint_limits=ENDPOINTS,
        created_by=users["director"],
        approvals=[
            {"strain": "BALB/c", "severity": "moderate", "approved_animals": 400},
            {"strain": "C57BL/6", "severity": "moderate", "approved_animals": 200},
        ],
    )


COMMON_PROCEDURES = (
    ("randomization", "Randomization at 80-120 mm3"),
    ("caliper_measurement", "Calipers Mon/Wed/Fri, L x W2 / 2"),
    ("body_weight", "Body weight Mon/Wed/Fri"),
    ("clinical_observation", "Clinical score sheet with ulceration"),
    ("humane_endpoints", "Humane endpoints 2000 mm3 / 20 % / ulceration 3"),
)


def _build_design(
    study: Study,
    library: dict[str, ProtocolVersion],
    director: User,
    *,
    procedures: tuple[tuple[str, str], ...],
    arms: list[tuple[str, bool, list[tuple[str, str, str, str, bool]]]],
    satellite: tuple[int, int, str] | None,
) -> None:
    """Procedures, then arms of 10 with regimen items (protocol, agent, dose, schedule, vehicle).

    Dose basis and route come from the protocol version, so they always match it.
    """
    for role, name in procedures:
        design.set_procedure(
            study=study, role=role, protocol_version=library[name], changed_by=director
        )
    for label, is_control, items in arms:
        arm = design.add_arm(
            study=study, label=label, planned_n=10, is_control=is_control, created_by=director
        )
        for protocol_name, agent, dose, schedule, is_vehicle in items:
            version = library[protocol_name]
            design.add_regimen_item(
                arm=arm,
                protocol_version=version,
                agent=agent,
                dose=dose,
                dose_basis=version.parameters["dose_basis"],
                route=version.parameters["route"],
                schedule=schedule,
                is_vehicle=is_vehicle,
                window_days=1,
                non_working_day_rule="later",
                created_by=director,
            )
        if satellite is not None:
            n, day, purpose = satellite
            design.add_satellite(
                arm=arm, n=n, takedown_study_day=day, purpose=purpose, created_by=director
            )


IL12 = ("IL-12 IT 1 ug in 20 uL", "murine IL-12", "1", "7,10,13", False)
VEHICLE_IT = ("Vehicle IT 20 uL", "Vehicle (PBS + 0.1 % BSA) IT", "0", "7,10,13", True)
CPA = ("Cyclophosphamide IP 100 mg/kg", "cyclophosphamide", "100", "once on day 7", False)
VEHICLE_IP = ("Vehicle IP 10 mL/kg", "Vehicle (saline) IP", "0", "once on day 7", True)
DOX = ("Doxorubicin IV 5 mg/kg", "doxorubicin", "5", "QWx3 from day 7", False)
VEHICLE_IV = ("Vehicle IV 5 mL/kg", "Vehicle (saline) IV", "0", "QWx3 from day 7", True)


def _members(study: Study, users: dict[str, User]) -> None:
    for username, unblinded, can_dose in (
        ("scientist", True, False),
        ("tech_measure", False, False),
        ("tech_dose", False, True),
        ("qa", False, False),
    ):
        StudyMember.objects.get_or_create(
            study=study,
            user=users[username],
            defaults={"unblinded": unblinded, "can_dose": can_dose},
        )


def ensure_ct26_design(
    study: Study,
    library: dict[str, ProtocolVersion],
    ethics: EthicsProtocol,
    users: dict[str, User],
) -> Study:
    """The blinded CT26 IL-12 + cyclophosphamide design, approved by the study director."""
    director = users["director"]
    if study.status != StudyStatus.DRAFT or study.arms.exists():
        return study
    study = study_services.update_study(
        study=study,
        changed_by=director,
        expected_version=study.row_version,
        reason="demo design",
        hypothesis="IL-12 IT plus cyclophosphamide IP is synergistic (Bliss) on CT26 growth.",
        primary_outcome="Tumour volume on the last day all control animals are on study",
        strain="BALB/c",
        substrain="BALB/cAnNCrl",
        vendor="Charles River",
        sex="female",
        age_weeks_min=6,
        age_weeks_max=8,
        cell_line="CT26.WT",
        cell_line_rrid="CVCL_7256",
        ethics_protocol=ethics,
        humane_endpoints=dict(ENDPOINTS),
    )
    _build_design(
        study,
        library,
        director,
        procedures=(
            ("implantation", "CT26 SC implantation, right flank"),
            *COMMON_PROCEDURES,
            ("sample_collection", "Serum at day 10 takedown"),
            # The satellite's tumour and spleen go to the flow panel: each its own procedure.
            ("sample_collection", "Tumour at day 10 takedown, for flow"),
            ("sample_collection", "Spleen at day 10 takedown, for flow"),
            ("elisa", "IFN-gamma ELISA (DuoSet)"),
            ("flow_panel", "Treg panel CD45/CD3/CD4/CD8/CD25/Foxp3"),
        ),
        arms=[
            ("Vehicle", True, [VEHICLE_IT, VEHICLE_IP]),
            ("IL-12", False, [IL12, VEHICLE_IP]),
            ("Cyclophosphamide", False, [VEHICLE_IT, CPA]),
            ("IL-12 + cyclophosphamide", False, [IL12, CPA]),
        ],
        satellite=(
            3,
            10,
            "Serum IFN-gamma ELISA; tumour and spleen CD45/CD3/CD4/CD8/CD25/Foxp3 flow panel",
        ),
    )
    return lifecycle.approve_study(study=study, approved_by=director)


def ensure_4t1_study(
    lab: Lab,
    library: dict[str, ProtocolVersion],
    ethics: EthicsProtocol,
    users: dict[str, User],
) -> Study:
    """The 4T1 doxorubicin variant: orthotopic 4T1, lung metastases counted at necropsy."""
    director = users["director"]
    study = Study.objects.filter(lab=lab, code="4T1-DOX").first()
    if study is None:
        study = study_services.create_study(
            lab=lab,
            code="4T1-DOX",
            title="Doxorubicin in orthotopic 4T1 breast tumours in BALB/c mice",
            objective="Does weekly doxorubicin IV slow 4T1 growth and lung metastasis?",
            blinded=True,
            created_by=director,
            strain="BALB/c",
            substrain="BALB/cAnNCrl",
            vendor="Charles River",
            sex="female",
            age_weeks_min=6,
            age_weeks_max=8,
            cell_line="4T1",
            cell_line_rrid="CVCL_0125",
            ethics_protocol=ethics,
            humane_endpoints=dict(ENDPOINTS),
            primary_outcome="Tumour volume; lung metastasis count at necropsy",
        )
    _members(study, users)
    if study.status != StudyStatus.DRAFT or study.arms.exists():
        return study
    _build_design(
        study,
        library,
        director,
        procedures=(
            ("implantation", "4T1 orthotopic implantation, mammary fat pad"),
            *COMMON_PROCEDURES,
            ("necropsy", "Necropsy with lung metastasis count"),
        ),
        arms=[("Vehicle", True, [VEHICLE_IV]), ("Doxorubicin", False, [DOX])],
        satellite=None,
    )
    return lifecycle.approve_study(study=study, approved_by=director)


def load_demo() -> dict[str, object]:
    """Ensure every demo step; returns what exists afterwards."""
    with transaction.atomic(), audit_context(client=ClientKind.COMMAND, reason="demo data"):
        lab = ensure_lab()
        users = ensure_users(lab)
        study = ensure_ct26_study(lab, users)
        library = ensure_protocol_library(lab, users)
        ethics = ensure_ethics_protocol(lab, users)
        study = ensure_ct26_design(study, library, ethics, users)
        variant = ensure_4t1_study(lab, library, ethics, users)
        second_factor = ensure_demo_second_factor(users)
    return {
        "second_factor": second_factor,
        "version": DEMO_VERSION,
        "lab": lab,
        "users": users,
        "study": study,
        "variant": variant,
        "library": library,
        "ethics_protocol": ethics,
    }
