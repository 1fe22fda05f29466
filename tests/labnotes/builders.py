"""A realistic approved design for labnotes tests: CT26 in BALB/c, four arms, sentinel strings.

The sentinels (arm label ``ARMLBL-7f3a``, agent ``AGT-QX9``, dose ``123.456``) must never reach
a blinded technician; the blinded-leak tests search every response for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from planner.models import (
    Arm,
    EthicsApproval,
    EthicsProtocol,
    Lab,
    ProcedureRole,
    ProtocolTemplate,
    ProtocolVersion,
    RegimenItem,
    SatelliteCohort,
    Study,
    StudyMember,
    StudyProcedure,
    StudyStatus,
)
from tests.factories import MembershipFactory, UserFactory

SENTINEL_LABEL = "ARMLBL-7f3a"
SENTINEL_AGENT = "AGT-QX9"
SENTINEL_DOSE = "123.456"
SENTINELS = (SENTINEL_LABEL, SENTINEL_AGENT, SENTINEL_DOSE)


@dataclass
class Design:
    lab: Lab
    study: Study
    arms: list[Arm]
    ethics: EthicsProtocol
    director: Any
    scientist: Any
    technician: Any
    doser: Any
    viewer: Any


def released_version(
    lab: Lab, user: Any, kind: str, name: str, parameters: dict[str, Any]
) -> ProtocolVersion:
    template = ProtocolTemplate.objects.create(lab=lab, name=name, kind=kind, created_by=user)
    return ProtocolVersion.objects.create(
        template=template,
        number=1,
        status="released",
        parameters=parameters,
        created_by=user,
        released_by=user,
        released_at=timezone.now(),
    )


def build_design(
    *,
    lab: Lab,
    approved_animals: int = 200,
    expires_on: dt.date | None = None,
    method: str = "covariate_balance",
    covariates: tuple[str, ...] = ("tumour_volume",),
    max_batches: int = 3,
    arms: int = 4,
    planned_n: int = 10,
    satellites: int = 0,
    formula: str = "half_length_width_squared",
    blinded: bool = True,
) -> Design:
    director = UserFactory()
    MembershipFactory(user=director, lab=lab, role="study_director")
    scientist = UserFactory()
    MembershipFactory(user=scientist, lab=lab, role="scientist")
    technician = UserFactory()
    MembershipFactory(user=technician, lab=lab, role="technician")
    doser = UserFactory()
    MembershipFactory(user=doser, lab=lab, role="technician")
    viewer = UserFactory()
    MembershipFactory(user=viewer, lab=lab, role="viewer")
    today = timezone.localdate()
    ethics = EthicsProtocol.objects.create(
        lab=lab,
        number=f"ETH-{lab.pk}-01",
        title="Syngeneic tumour efficacy",
        approved_on=today - dt.timedelta(days=300),
        expires_on=expires_on or today + dt.timedelta(days=400),
    )
    EthicsApproval.objects.create(
        protocol=ethics, strain="BALB/c", severity="moderate", approved_animals=approved_animals
    )
    study = Study.objects.create(
        lab=lab,
        code=f"CT26-{lab.pk}",
        title="IL-12 + CPA in CT26",
        strain="BALB/c",
        sex="female",
        ethics_protocol=ethics,
        blinded=blinded,
        status=StudyStatus.APPROVED,
        created_by=director,
    )
    StudyMember.objects.create(study=study, user=director, unblinded=True)
    StudyMember.objects.create(study=study, user=scientist, unblinded=True)
    StudyMember.objects.create(study=study, user=technician, unblinded=False)
    StudyMember.objects.create(study=study, user=doser, unblinded=False, can_dose=True)
    caliper = released_version(
        lab,
        director,
        "caliper_measurement",
        f"Caliper {lab.pk}",
        {"schedule": "Mon/Wed/Fri from day 7", "formula": formula},
    )
    weight = released_version(
        lab, director, "body_weight", f"Weight {lab.pk}", {"schedule": "Mon/Wed/Fri from day 7"}
    )
    randomization = released_version(
        lab,
        director,
        "randomization",
        f"Randomization {lab.pk}",
        {
            "eligible_volume_min_mm3": 50,
            "eligible_volume_max_mm3": 150,
            "method": method,
            "covariates": list(covariates) if method == "covariate_balance" else [],
            "max_batches": max_batches,
        },
    )
    dosing = released_version(lab, director, "dosing", f"Dosing {lab.pk}", {})
    StudyProcedure.objects.create(
        study=study,
        role=ProcedureRole.CALIPER_MEASUREMENT,
        protocol_version=caliper,
        schedule="Mon/Wed/Fri from day 7",
    )
    StudyProcedure.objects.create(
        study=study,
        role=ProcedureRole.BODY_WEIGHT,
        protocol_version=weight,
        schedule="Mon/Wed/Fri from day 7",
    )
    StudyProcedure.objects.create(
        study=study, role=ProcedureRole.RANDOMIZATION, protocol_version=randomization
    )
    created: list[Arm] = []
    labels = [
        "Vehicle",
        "IL-12",
        "Cyclophosphamide",
        SENTINEL_LABEL,
        "Arm E",
        "Arm F",
        "Arm G",
        "Arm H",
        "Arm I",
        "Arm J",
    ]
    for index in range(arms):
        arm = Arm.objects.create(
            study=study,
            label=labels[index],
            code=f"G{index + 1}",
            order=index,
            planned_n=planned_n,
            is_control=index == 0,
        )
        RegimenItem.objects.create(
            arm=arm,
            protocol_version=dosing,
            agent=SENTINEL_AGENT if index == 3 else f"agent-{index}",
            is_vehicle=index == 0,
            dose=Decimal(SENTINEL_DOSE) if index == 3 else Decimal("10"),
            dose_basis="mg_per_kg",
            route="IP",
            schedule="Q3Dx4 from R+1",
            window_days=1,
        )
        if satellites:
            SatelliteCohort.objects.create(arm=arm, n=satellites, takedown_study_day=20)
        created.append(arm)
    return Design(lab, study, created, ethics, director, scientist, technician, doser, viewer)


def tag_rows(count: int, *, start: int = 1, cage: str | None = None) -> list[dict[str, Any]]:
    rows = [
        {"tag": f"{number:04d}", "sex": "female", "arrival_weight_g": "19.5"}
        for number in range(start, start + count)
    ]
    if cage:
        for row in rows:
            row["cage"] = cage
    return rows
