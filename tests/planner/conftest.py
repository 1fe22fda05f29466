"""Planner fixtures: a study director, a released protocol library, an ethics protocol and a
complete draft design built through the services (the demo's CT26 design)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from planner.demo import DEMO_LIBRARY, ENDPOINTS


@pytest.fixture
def director(lab: Any) -> Any:
    from tests.conftest import _member

    return _member(lab, "study_director")


@pytest.fixture
def lab_admin(lab: Any) -> Any:
    from tests.conftest import _member

    return _member(lab, "lab_admin")


@pytest.fixture
def library(lab: Any, director: Any) -> dict[str, Any]:
    """Every demo protocol, released as version 1, by name."""
    from planner.services import protocols

    released = {}
    for name, (kind, parameters) in DEMO_LIBRARY.items():
        version = protocols.create_template(
            lab=lab, name=name, kind=kind, parameters=parameters, created_by=director
        )
        released[name] = protocols.release_version(version=version, released_by=director)
    return released


@pytest.fixture
def ethics_protocol(lab: Any, director: Any) -> Any:
    from planner.services.ethics import create_ethics_protocol

    return create_ethics_protocol(
        lab=lab,
        number="ETH-1",
        title="Syngeneic tumours",
        approved_on=dt.date(2024, 1, 1),
        expires_on=dt.date(2099, 1, 1),
        endpoint_limits=ENDPOINTS,
        created_by=director,
        approvals=[{"strain": "BALB/c", "severity": "moderate", "approved_animals": 100}],
    )


@pytest.fixture
def draft_design(lab: Any, director: Any, library: Any, ethics_protocol: Any) -> Any:
    """The CT26 design as a complete, approvable draft."""
    from planner.demo import COMMON_PROCEDURES, CPA, IL12, VEHICLE_IP, VEHICLE_IT, _build_design
    from planner.services import studies

    study = studies.create_study(
        lab=lab,
        code="CT26-T",
        title="CT26 test design",
        created_by=director,
        strain="BALB/c",
        ethics_protocol=ethics_protocol,
        humane_endpoints=dict(ENDPOINTS),
    )
    _build_design(
        study,
        library,
        director,
        procedures=(("implantation", "CT26 SC implantation, right flank"), *COMMON_PROCEDURES),
        arms=[
            ("Vehicle", True, [VEHICLE_IT, VEHICLE_IP]),
            ("IL-12", False, [IL12, VEHICLE_IP]),
            ("Cyclophosphamide", False, [VEHICLE_IT, CPA]),
            ("IL-12 + cyclophosphamide", False, [IL12, CPA]),
        ],
        satellite=(3, 10, "serum ELISA"),
    )
    study.refresh_from_db()
    return study
